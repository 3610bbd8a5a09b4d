"""What a criterion is: one complete declaration (docs/ARCHITECTURE.md "Adding a criterion").

Each module of :mod:`remission.criteria` fills in one :class:`Criterion`:

* ``code``, the category ``order`` best → worst and the ``canonical`` category → level map
  (remission_model.md §3);
* ``options_model``: its typed pydantic options (every parameter of its spec's options
  section, with the spec's defaults); ``AssessOptions`` holds one instance per criterion,
  under ``options_key``, and ``remission assess --options FILE`` fills it;
* ``run(tables, segments, options) -> TIMEPOINTS``: the time-point rules, and ``dates``:
  the assessment dates it needs to place baselines and lines of therapy;
* ``vocabulary``: the response codes a ``responses`` table may state, the finding codes and
  values and the lab tests it reads; validation, stated responses and level maps are
  derived from it, so a code is listed once;
* ``best_response(options) -> BestResponseRule``: its best-response rule as data, run by
  the one engine :mod:`remission.timeline.best_response`; the rule's parameters come from
  the criterion's options, so one option drives time points and best response alike;
* ``checks``: its own input checks (RECIST target selection), run by :mod:`remission.io.validate`;
* ``presentation``: what explanations, plots and interchange need (label, plain name,
  measured quantity and unit, plot thresholds, evidence kinds).

A criterion knows nothing of files or the web.  This module imports nothing of the package
beyond :mod:`remission.schema`, so every criterion module imports on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Mapping

import polars as pl

Tables = Mapping[str, pl.DataFrame]


def lesion_dates(tables: Tables) -> pl.DataFrame:
    """Assessment dates of imaging criteria: the dates of the lesion rows (distinct).

    Lesion rows usually come sorted by subject and date: then keeping the first row of each
    run of equal (subject_id, date) is already the distinct pairs, one cheap pass instead
    of a hash ``unique()`` (~20x slower).  Whether the runs are distinct is checked on the
    (much shorter) result: strictly increasing (subject_id, date) with no nulls; otherwise
    ``unique()`` does the rest.  Same rows either way (their order is not specified).
    """
    pairs = tables["lesions"].select("subject_id", "date")
    sid, date = pl.col("subject_id"), pl.col("date")
    runs = pairs.filter(((sid != sid.shift(1)) | (date != date.shift(1))).fill_null(True))
    if runs.height == 0:
        return runs
    ok = (sid > sid.shift(1)) | ((sid == sid.shift(1)) & (date > date.shift(1)))
    distinct = runs.select(
        sid.is_not_null().all() & date.is_not_null().all() & (ok | (pl.int_range(pl.len()) == 0)).fill_null(False).all()
    ).item()
    return runs if distinct else runs.unique()


#: the frame a criterion's ``checks`` receives: per target lesion (a lesion with a row whose
#: ``role`` is ``target``) its first target row and date, its organ (the first written) and
#: whether any target row says nodal, and its baseline diameter (the first target row with
#: one: typed, as written, and that row's number)
TARGET_CHECK_COLUMNS = {
    "subject_id": pl.String,
    "lesion_id": pl.String,
    "row": pl.Int64,
    "first_date": pl.Date,
    "organ": pl.String,
    "nodal": pl.Boolean,
    "baseline_mm": pl.Float64,
    "baseline_raw": pl.String,
    "baseline_row": pl.Int64,
}

#: accepted spellings of booleans in findings (spec/tables.md)
TRUE_SPELLINGS = ("true", "1", "yes", "y")
FALSE_SPELLINGS = ("false", "0", "no", "n")
BOOL_SPELLINGS = TRUE_SPELLINGS + FALSE_SPELLINGS


@dataclass(frozen=True)
class FindingRule:
    """Accepted values of one finding code, checked by :mod:`remission.io.validate`.

    ``values``: a closed list (lower case; compared with the lower-cased value, stripped
    first when ``strip``), or ``number``: ``"int1-5"`` (an integer 1..5), ``"int>=0"``,
    ``">=0"``, ``">0"``.  ``expected`` is the error's "expected" text (default: the list).
    ``store``: what is kept of a valid value: ``as_given``, ``lower`` (lower-cased, after the
    strip when ``strip``), ``integer`` (the integer's text) or ``boolean`` (``true``/``false``).
    """

    values: tuple[str, ...] = ()
    number: Literal["int1-5", "int>=0", ">=0", ">0"] | None = None
    expected: str = ""
    store: Literal["as_given", "lower", "integer", "boolean"] = "lower"
    strip: bool = False

    def expected_text(self) -> str:
        return self.expected or "one of " + ", ".join(self.values)


def boolean_finding(strip: bool = True) -> FindingRule:
    """A yes/no finding (any of :data:`BOOL_SPELLINGS`, kept lower-cased)."""
    return FindingRule(values=BOOL_SPELLINGS, strip=strip)


def number_finding(kind: Literal["int1-5", "int>=0", ">=0", ">0"], expected: str) -> FindingRule:
    return FindingRule(number=kind, expected=expected, store="integer" if kind.startswith("int") else "as_given")


@dataclass(frozen=True)
class Vocabulary:
    """Codes a criterion reads (validation and stated responses derive from these)."""

    #: response codes a ``responses`` row may state (canonical spelling; case-insensitive)
    response_codes: tuple[str, ...] = ()
    #: stated code (upper case) -> canonical level, for codes not in ``Criterion.canonical``
    levels: Mapping[str, str] = field(default_factory=dict)
    #: finding code -> its accepted values
    findings: Mapping[str, FindingRule] = field(default_factory=dict)
    #: lab test codes it reads (remission.units.CANONICAL_UNITS keys)
    lab_tests: tuple[str, ...] = ()


@dataclass(frozen=True)
class Presentation:
    """What explanations, reports and interchange say about a criterion."""

    label: str  # short name: "RECIST 1.1"
    plain_name: str  # name in a patient's sentence: "RECIST"
    introduction: str  # one sentence introducing it to a patient
    #: what is measured, in a patient's words, and whether it is a blood marker
    quantity_words: str | None = None
    marker: bool = False
    #: the measured quantity (``assessments.value``) and its unit, for plots; None: no plot
    value_label: str | None = None
    #: progression / response reference lines (percent change from baseline) for plots
    pd_threshold_pct: float | None = None
    response_threshold_pct: float | None = None
    #: what the best change is called in a caption ("sum of target lesion diameters")
    change_caption: str | None = None
    #: what the plots' reference lines mean, in a legend ("progression: +20% from the nadir")
    pd_threshold_words: str | None = None
    response_threshold_words: str | None = None
    #: a complete response may keep normal-sized lymph nodes in the sum (RECIST 1.1 nodal
    #: targets < 10 mm): the patient text then says so instead of "could not be seen"
    normal_nodes_in_complete: bool = False
    #: evidence kinds of its derived assessments: imaging, tumor_marker, lab
    evidence: tuple[str, ...] = ("imaging",)
    #: the response family of its codes in CDISC RS (RSCAT), where one exists
    cdisc_category: str | None = None


@dataclass(frozen=True)
class BestResponseRule:
    """A criterion's best-response rule as data (run by :mod:`remission.timeline.best_response`).

    ``confirmation``:

    * ``"recist"``: recist11.md §5.3–5.4 (Table 6): CR confirmed by a CR, PR by a PR or CR,
      at least ``confirm_days`` later with at most ``max_ne_between`` NE and (with
      ``accept_sd_between``) one SD between; SD counts after ``sd_min_days`` from the
      reference start; ``failed_cr_as_pr`` (§5.4 step 2).  Codes are mapped to the RECIST
      vocabulary by ``recist_codes``; WHO reports stable disease as ``sd_label="NC"``.
    * ``"as_good_later"``: the best category by ``order``; confirmed when a later result at
      least ``confirm_days`` later is as good (same or better rank); codes in
      ``no_confirmation`` (and progression, NE) need none; ``sd_codes`` count only from
      ``sd_min_days`` after the reference start (before: NE); ``never_best`` codes count as
      NE; ``unconfirmed_as`` is what an unconfirmed response counts as in the confirmed
      best response.
    * ``"next_assessment"``: imwg.md §4's confirmed-response table (admiralonco): a time
      point is confirmed by the next evaluable one at least ``confirm_days`` later: a
      response by an as-good response, as the lower response by a lower one, else it
      counts as ``unconfirmed_as``; progression is confirmed when the time point's
      ``canonical_level`` says so (without it: by a next progression).
    * ``"at_time_point"``: the time-point categories are already confirmed (RANO's
      confirmed CR/PR, Lugano's and ELN's single assessments): as ``as_good_later`` with no
      confirmation needed.

    ``prepare(timepoints) -> timepoints``: a hook where a spec has one (mRECIST back-dating
    of an equivocal new lesion, PCWG3's 2+2 bone rule); ``derive(timepoints, reference,
    cutoff) -> (best, confirmed)``: a criterion whose best response is its own derivation
    (iRECIST iBOR with iUPD → iCPD dating, irecist.md §5).
    """

    order: tuple[str, ...]
    progression: tuple[str, ...] = ("PD",)
    confirmation: Literal["recist", "as_good_later", "at_time_point", "next_assessment"] = "as_good_later"
    confirm_days: int = 28
    max_ne_between: int = 1
    accept_sd_between: bool = False
    sd_min_days: int = 0
    sd_label: str = "SD"
    failed_cr_as_pr: bool = True
    missing_as_ne: bool = False
    #: codes that need no confirmation besides progression and NE
    no_confirmation: tuple[str, ...] = ()
    #: codes that count only from ``sd_min_days`` after the reference start (earlier: NE)
    sd_codes: tuple[str, ...] = ()
    #: codes that are never a best response (provisional, e.g. PCWG3's PDu): they count as NE
    never_best: tuple[str, ...] = ()
    #: ``as_good_later`` / ``at_time_point``: a time point whose ``rule_ids`` hold one of these
    #: counts as NE (e.g. iwCLL's ``INTERIM``: never the best response, iwcll2018.md §5)
    ne_rule_ids: tuple[str, ...] = ()
    #: ``as_good_later``: a time point whose ``rule_ids`` hold one of these needs no
    #: confirmation (e.g. iwCLL's ``POST_THERAPY``: a response at the right time after
    #: fixed-duration therapy, iwcll2018.md §5)
    confirmed_rule_ids: tuple[str, ...] = ()
    #: in the confirmed best response an unconfirmed response counts as this code (e.g. SD:
    #: "an unconfirmed response counts as stable disease"), subject to ``sd_codes``; None:
    #: an unconfirmed response does not count at all
    unconfirmed_as: str | None = None
    #: ``as_good_later``: the best response, too, counts only confirmed responses (and what
    #: an unconfirmed one counts as): it equals the confirmed best response (rano.md §5.3
    #: "only confirmed CR/PR/MR count")
    confirmed_only: bool = False
    #: RECIST style: code -> RECIST code for the engine (CR, PR, SD, NON-CR/NON-PD, PD, NE)
    recist_codes: Mapping[str, str] | None = None
    prepare: Callable[[pl.DataFrame], pl.DataFrame] | None = None
    derive: Callable[..., tuple[pl.DataFrame, pl.DataFrame]] | None = None


@dataclass(frozen=True)
class Criterion:
    """One criterion, completely (module docstring)."""

    code: str
    order: tuple[str, ...]
    canonical: Mapping[str, str]
    options_model: type
    run: Callable[[Tables, pl.DataFrame, Any], pl.DataFrame]
    best_response: Callable[[Any], BestResponseRule]
    presentation: Presentation
    vocabulary: Vocabulary = Vocabulary()
    dates: Callable[[Tables], pl.DataFrame] = lesion_dates
    #: attribute of AssessOptions (and table of ``--options``) holding its options
    options_key: str = ""
    #: its own input checks on target lesions: ``checks(targets) -> error rows``, where
    #: ``targets`` has the :data:`TARGET_CHECK_COLUMNS` (one row per target lesion of the
    #: subjects assessed by this criterion, built by :mod:`remission.io.validate`) and the
    #: result has ``row, subject_id, column, value, expected, code`` (no file: validation
    #: adds it).  RECIST 1.1's target selection (recist11.md §3.2) is one.
    checks: Callable[[pl.DataFrame], pl.DataFrame] | None = None
    #: ``subjects.cancer_type`` codes whose default criterion this is (spec/tables.md,
    #: subjects.criteria); a cancer type is claimed by at most one criterion
    cancer_types: tuple[str, ...] = ()
    #: the error codes its ``checks`` give -> meaning (listed in ``validate.ERROR_CODES``)
    check_errors: Mapping[str, str] = field(default_factory=dict)
    #: what ``assessments.value`` sums, for remission_model.md §4 ``partial_remission_rule``:
    #: ``diameters`` (unidimensional sum), ``products`` (WHO's bidimensional products), None
    measurement: Literal["diameters", "products"] | None = None

    def __post_init__(self) -> None:
        if not self.options_key:
            object.__setattr__(self, "options_key", self.code)

    def options_from(self, assess_options: Any) -> Any:
        """This criterion's options out of an :class:`~remission.options.AssessOptions`
        (its defaults when ``assess_options`` has none)."""
        got = getattr(assess_options, self.options_key.replace(".", "_"), None) if assess_options is not None else None
        return got if got is not None else self.options_model()

    def levels(self) -> dict[str, str]:
        """Every code this criterion can report or be told (upper case) -> canonical level."""
        return {**{k.upper(): v for k, v in self.vocabulary.levels.items()}, **{k.upper(): v for k, v in self.canonical.items()}}


__all__ = ["BOOL_SPELLINGS", "TARGET_CHECK_COLUMNS", "BestResponseRule", "Criterion", "FindingRule", "boolean_finding", "number_finding", "Presentation", "Tables", "Vocabulary", "lesion_dates"]
