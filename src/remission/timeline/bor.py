"""Best overall response (BOR), without and with confirmation.

Implements ``criteria/recist11.md`` §5 (window §5.1, SD minimum §5.2, unconfirmed BOR §5.3,
confirmed BOR §5.4) and, through the ``sd_min_days``/``sd_label`` arguments, ``who.md`` §5
(WHO's ``NC`` is the SD-level category).

:func:`best_overall_response` is vectorised over all subjects (polars joins, window
functions and as-of joins; no Python loop over rows) and is used by the pipeline and the
CDISC ADaM module; it also writes the ``bor_rule`` reason text. A plain-Python, one-subject
version written directly from the spec text is test-only code
(``tests/reference/bor.py``); property tests prove the two agree on every input.

Choices where the spec is open, and how they relate to admiralonco (the oracle):

* **Window start** (§5.1 "from ``reference_start_date``"): a time point counts when
  ``date >= reference_start`` (inclusive), as admiralonco's ``ANL01FL`` (``ADT >= RANDDT``).
  A subject whose ``reference_start`` is null has no window: BOR ``MISSING`` (admiral: the
  comparison with a missing RANDDT is never true).
* **Codes that are not an assessment** - null, ``ND`` (not done) and ``MISSING`` - are
  dropped, as admiral's ``ANL01FL`` drops records whose ``aval_resp()`` is missing. Any
  other unknown code raises :class:`ValueError` (never silently dropped).
* **New anticancer therapy** (§5.1): time points on or after the subject's
  ``cutoff_date`` are excluded (same-day assessments are considered post-therapy).
* **Same-date duplicates** (§5.1): worst evaluable kept (PD, NON-CR/NON-PD, SD, PR, CR);
  NE only if nothing else was recorded that day.
* **First PD** (§5.1): time points after the first PD inside the window are ignored.
  (admiralonco's template flags ``ANL02FL`` over all OVR records, not only the ``ANL01FL``
  ones, so a PD dated before RANDDT would also end its window; that artefact is not
  reproduced, and the oracle data has no record before RANDDT.)
* **SD-level** (§5.3 table, admiralonco ``bor_sd``/``bor_non_crpd``): CR/PR/SD (and NC)
  time points give the SD candidate; NON-CR/NON-PD time points give only the
  NON-CR/NON-PD candidate, which ranks below SD.
* **Confirmation of a CR that fails §5.4 step 1** - the spec lets it be a PR candidate
  (step 2, "or a CR that failed step 1"); admiralonco's ``cbor_pr`` only considers PR time
  points. ``failed_cr_as_pr=True`` (default) follows the spec; ``False`` reproduces
  admiralonco. Example: CR(day 56), PR(day 84) -> spec PR (date day 56), admiral SD.
* ``confirm_days``: "date_j - date_i >= confirm_days" for a *later* time point j; with
  ``confirm_days = 0`` the next later time point qualifies.
* WHO (who.md §5): the input code ``NC`` is the SD-level code; pass ``sd_label="NC"`` to
  label the SD-level BOR ``NC`` and ``sd_min_days`` = the protocol's ``nc_min_days``.
* Subjects present in ``timepoints`` but not in ``reference`` are reported (BOR
  ``MISSING``, "no reference start date") rather than silently dropped.
"""

from __future__ import annotations

from typing import Literal

import polars as pl

__all__ = [
    "BOR_SCHEMA",
    "BOR_ORDER",
    "RESPONSE_CODES",
    "best_overall_response",
    "best_overall_responses",
]

# Internal response categories (recist11.md §5.3 order, best first).
CR, PR, SD, NONCRPD, PD, NE, MISSING = "CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE", "MISSING"
BOR_ORDER = (CR, PR, SD, NONCRPD, PD, NE, MISSING)
_RANK = {c: i for i, c in enumerate(BOR_ORDER)}
#: §5.1 same-date duplicates: worst evaluable first, NE last (kept only if alone).
_SEVERITY = {PD: 0, NONCRPD: 1, SD: 2, PR: 3, CR: 4, NE: 5}
#: accepted input codes -> internal category (who.md §5: NC is SD-level)
RESPONSE_CODES = {CR: CR, PR: PR, SD: SD, "NC": SD, NONCRPD: NONCRPD, PD: PD, NE: NE}
#: codes meaning "no assessment" (admiral aval_resp() gives NA / ANL01FL excludes them)
_NOT_ASSESSED = frozenset({"ND", "MISSING"})

BOR_SCHEMA = {
    "subject_id": pl.String,
    "bor": pl.String,
    "bor_date": pl.Date,
    "bor_rule": pl.String,
}


def _check_options(confirm_days: int, max_ne_between: int, sd_min_days: int, sd_label: str) -> None:
    if confirm_days < 0:
        raise ValueError(f"confirm_days must be >= 0, got {confirm_days}")
    if max_ne_between < 0:
        raise ValueError(f"max_ne_between must be >= 0, got {max_ne_between}")
    if sd_min_days < 0:
        raise ValueError(f"sd_min_days must be >= 0, got {sd_min_days}")
    if sd_label not in ("SD", "NC"):
        raise ValueError(f"sd_label must be 'SD' or 'NC', got {sd_label!r}")


# ======================================================================================
# Vectorised implementation (all subjects)
# ======================================================================================


def best_overall_response(
    timepoints: pl.DataFrame,
    reference: pl.DataFrame,
    *,
    confirm: bool,
    confirm_days: int = 28,
    max_ne_between: int = 1,
    accept_sd_between: bool = False,
    sd_min_days: int = 42,
    missing_as_ne: bool = False,
    cutoff: pl.DataFrame | None = None,
    failed_cr_as_pr: bool = True,
    sd_label: Literal["SD", "NC"] = "SD",
) -> pl.DataFrame:
    """Best overall response of every subject (recist11.md §5; who.md §5).

    Parameters
    ----------
    timepoints
        ``subject_id`` (str), ``date`` (date), ``response`` (str): CR, PR, SD,
        NON-CR/NON-PD, PD, NE, or WHO's NC (SD-level). Null, ``ND`` and ``MISSING`` mean
        "no assessment" and are ignored; other codes raise :class:`ValueError`.
    reference
        ``subject_id``, ``reference_start`` (date): start of the BOR window (§5.1,
        inclusive). Subjects listed here without time points get ``MISSING``.
    confirm
        ``False``: BOR without confirmation (§5.3). ``True``: confirmed BOR (§5.4).
    confirm_days
        Minimum days from a response to its confirmation (§5.4; default 28).
    max_ne_between
        NE time points tolerated between a response and its confirmation (default 1).
    accept_sd_between
        Accept one SD between a PR and its confirmation (default ``False``).
    sd_min_days
        SD minimum duration from the reference start (§5.2; default 42).
    missing_as_ne
        Report ``MISSING`` as ``NE`` (§5.3).
    cutoff
        ``subject_id``, ``cutoff_date``: time points on or after the cutoff (start of a
        new anticancer therapy) are excluded (§5.1). Null or absent = no cutoff.
    failed_cr_as_pr
        §5.4 step 2: a CR that fails CR confirmation may be confirmed as PR (spec,
        default). ``False`` reproduces admiralonco's ``cbor_pr`` (PR time points only).
    sd_label
        Code of the SD-level category in the output: ``"SD"`` (RECIST) or ``"NC"`` (WHO).

    Returns
    -------
    ``subject_id``, ``bor``, ``bor_date`` (first time point of the winning candidate;
    null for MISSING), ``bor_rule`` (one line: why, with dates), one row per subject of
    ``reference`` or ``timepoints``, sorted by ``subject_id``.
    """
    (out,) = best_overall_responses(
        timepoints, reference, confirms=(confirm,), confirm_days=confirm_days, max_ne_between=max_ne_between,
        accept_sd_between=accept_sd_between, sd_min_days=sd_min_days, missing_as_ne=missing_as_ne, cutoff=cutoff,
        failed_cr_as_pr=failed_cr_as_pr, sd_label=sd_label,
    )  # fmt: skip
    return out


def best_overall_responses(
    timepoints: pl.DataFrame,
    reference: pl.DataFrame,
    *,
    confirms: tuple[bool, ...] = (False, True),
    confirm_days: int = 28,
    max_ne_between: int = 1,
    accept_sd_between: bool = False,
    sd_min_days: int = 42,
    missing_as_ne: bool = False,
    cutoff: pl.DataFrame | None = None,
    failed_cr_as_pr: bool = True,
    sd_label: Literal["SD", "NC"] = "SD",
    rules: bool = True,
) -> tuple[pl.DataFrame, ...]:
    """:func:`best_overall_response` for each value of ``confirms`` (default: without,
    then with confirmation), from one preparation of the time points (checks, §5.1
    window, same-date duplicates, first PD) and one list of MISSING subjects, which do
    not depend on ``confirm``.  Each frame equals the one :func:`best_overall_response`
    gives with that ``confirm`` and the same other arguments; with ``rules=False`` its
    ``bor_rule`` column is null (for callers that do not show it, such as ADaM ADRS:
    formatting the texts is a good part of the cost)."""
    _check_options(confirm_days, max_ne_between, sd_min_days, sd_label)
    tp, ref, cut = _prepare_inputs(timepoints, reference, cutoff)

    # Integer subject key ``_sid`` = rank of subject_id in text order, so that sorting by
    # it is sorting by subject_id (the output order) and every per-subject window / join
    # below uses one integer key instead of a string (about 2x cheaper in polars).
    keyed = ref.sort("subject_id").with_row_index("_sid")

    # ---- §5.1 window, cutoff, same-date duplicates, first PD -------------------------
    # After the sort by (subject, date, severity) the first row of each (subject, date)
    # run is the worst evaluable one: a shift comparison selects it (same as
    # ``unique(keep="first")`` on the sorted frame, without hashing).
    sid, date = pl.col("_sid"), pl.col("date")
    # (the join with ``keyed`` as a lookup: the rank of subject_id among keyed's sorted
    # distinct ids by an Enum cast, null for subjects not in the reference, which the inner
    # join dropped; a null reference id sorts first, hence the offset)
    ids = keyed.get_column("subject_id")
    n_null = ids.null_count()
    code = pl.col("subject_id").cast(pl.Enum(ids.drop_nulls()), strict=False).to_physical().cast(pl.UInt32) + n_null
    tp = tp.with_columns(_sid=code).filter(sid.is_not_null())
    tp = tp.with_columns(reference_start=keyed.get_column("reference_start").gather(tp.get_column("_sid")))
    # no cutoff: a null column instead of a join with an empty frame
    tp = tp.join(cut, on="subject_id", how="left") if cut.height else tp.with_columns(pl.lit(None, pl.Date).alias("cutoff_date"))
    tp = (
        tp.filter(
            (pl.col("date") >= pl.col("reference_start"))
            & (pl.col("cutoff_date").is_null() | (pl.col("date") < pl.col("cutoff_date")))
        )
        .with_columns(pl.col("cat").replace_strict(_SEVERITY, return_dtype=pl.Int8).alias("_sev"))
        .sort("_sid", "date", "_sev")
        .filter(((sid != sid.shift(1)) | (date != date.shift(1))).fill_null(True))
        # PDs so far in the subject (rows of a subject are contiguous: a global running
        # count minus the count before the subject's first row, instead of an over() window)
        .with_columns((pl.col("cat") == PD).cast(pl.Int32).alias("_pd"))
        .with_columns(
            (
                pl.col("_pd").cum_sum()
                - pl.when((sid != sid.shift(1)).fill_null(True)).then(pl.col("_pd").cum_sum() - pl.col("_pd")).forward_fill()
            ).alias("_npd"),
        )
        .filter((pl.col("_npd") == 0) | ((pl.col("_npd") == 1) & (pl.col("cat") == PD)))
        .drop("_sev", "_pd", "_npd")
        .with_columns(
            pl.int_range(pl.len(), dtype=pl.UInt32).alias("_g"),
            (pl.col("date") - pl.col("reference_start")).dt.total_days().alias("days"),
        )
    )

    missing = _missing(tp, timepoints, keyed, ref, cut, missing_as_ne)
    if not rules:
        missing = missing.with_columns(pl.lit(None, pl.String).alias("bor_rule"))
    kw = dict(confirm_days=confirm_days, max_ne_between=max_ne_between, accept_sd_between=accept_sd_between,
              sd_min_days=sd_min_days, failed_cr_as_pr=failed_cr_as_pr, sd_label=sd_label, rules=rules)  # fmt: skip
    return tuple(
        pl.concat([_winners(tp, confirm=c, **kw), missing]).cast(BOR_SCHEMA).sort("subject_id") for c in confirms
    )


def _winners(
    tp: pl.DataFrame,
    *,
    confirm: bool,
    confirm_days: int,
    max_ne_between: int,
    accept_sd_between: bool,
    sd_min_days: int,
    failed_cr_as_pr: bool,
    sd_label: str,
    rules: bool = True,
) -> pl.DataFrame:
    """The BOR (subject_id, bor, bor_date, bor_rule) of every subject with a time point in
    the window; ``tp`` is the prepared frame of :func:`best_overall_responses`."""
    if confirm:
        tp = _confirmations(
            tp,
            confirm_days=confirm_days,
            max_ne_between=max_ne_between,
            accept_sd_between=accept_sd_between,
            failed_cr_as_pr=failed_cr_as_pr,
        )
    else:
        tp = tp.with_columns(
            pl.lit(None, pl.Date).alias("cr_j_date"),
            pl.lit(None, pl.Date).alias("pr_j_date"),
            pl.lit(None, pl.String).alias("pr_j_cat"),
        )

    # ---- candidate category of each time point (§5.3 table, §5.4 steps 1-4) ----------
    c = pl.col("cat")
    sd_ok = pl.col("days") >= sd_min_days
    cr_confirmed = pl.col("cr_j_date").is_not_null()
    pr_confirmed = pl.col("pr_j_date").is_not_null()
    if confirm:
        is_cr = (c == CR) & cr_confirmed
        is_pr = ((c == PR) | (c == CR)) & ~is_cr & pr_confirmed
    else:
        is_cr = c == CR
        is_pr = c == PR
    # the category as its rank in BOR_ORDER (an integer: the text is made for the winners only)
    level = pl.when(c == NONCRPD).then(pl.lit(_RANK[NONCRPD], pl.Int64)).otherwise(pl.lit(_RANK[SD], pl.Int64))
    rank = (
        pl.when(is_cr)
        .then(pl.lit(_RANK[CR], pl.Int64))
        .when(is_pr)
        .then(pl.lit(_RANK[PR], pl.Int64))
        .when(c == PD)
        .then(pl.lit(_RANK[PD], pl.Int64))
        .when((c != NE) & sd_ok)
        .then(level)
        .otherwise(pl.lit(_RANK[NE], pl.Int64))
    )
    # The winner is the best (rank, date) of the subject (§5.3 / §5.4 step 5: ties ->
    # earliest date).  Dates are unique per subject here, so the minimum of the packed
    # integer key rank * 2^32 + (date + 2^31) is one row; ``tp`` is sorted by ``_sid``
    # and the filter keeps that order, i.e. the subject_id order of the output.
    key = pl.col("_rank") * (1 << 32) + (pl.col("date").cast(pl.Int32).cast(pl.Int64) + (1 << 31))
    winners = (
        tp.with_columns(rank.alias("_rank"))
        .filter(key == key.min().over("_sid"))
        .with_columns(pl.col("_rank").replace_strict(dict(enumerate(BOR_ORDER)), return_dtype=pl.String).alias("best"))
    )

    # ---- reason text (tests/reference/bor.py must give the same); only for the winners,
    # as the text is a function of its own row --------------------------------------
    def show(e: pl.Expr) -> pl.Expr:
        return pl.when(e == SD).then(pl.lit(sd_label)).otherwise(e)

    d = pl.col("date").cast(pl.String)
    r = pl.col("reference_start").cast(pl.String)
    ndays = pl.col("days").cast(pl.String)
    unconfirmed = pl.when(pl.lit(confirm) & c.is_in([CR, PR])).then(pl.lit("; response not confirmed")).otherwise(
        pl.lit("")
    )
    best = pl.col("best")
    cr_gap = (pl.col("cr_j_date") - pl.col("date")).dt.total_days().cast(pl.String)
    pr_gap = (pl.col("pr_j_date") - pl.col("date")).dt.total_days().cast(pl.String)
    rule = (
        pl.when(best.is_in([CR, PR]) & pl.lit(not confirm))
        .then(pl.format("{} on {} (confirmation not required)", c, d))
        .when(best == CR)
        .then(
            pl.format(
                "CR on {} confirmed by CR on {} ({} days >= {})",
                d,
                pl.col("cr_j_date").cast(pl.String),
                cr_gap,
                pl.lit(confirm_days),
            )
        )
        .when((best == PR) & (c == CR))
        .then(
            pl.format(
                "CR on {} (not confirmed as CR) confirmed as PR by {} on {} ({} days >= {})",
                d,
                pl.col("pr_j_cat"),
                pl.col("pr_j_date").cast(pl.String),
                pr_gap,
                pl.lit(confirm_days),
            )
        )
        .when(best == PR)
        .then(
            pl.format(
                "PR on {} confirmed by {} on {} ({} days >= {})",
                d,
                pl.col("pr_j_cat"),
                pl.col("pr_j_date").cast(pl.String),
                pr_gap,
                pl.lit(confirm_days),
            )
        )
        .when(best == PD)
        .then(pl.format("PD on {}; no time point qualifies for a better category", d))
        .when(best.is_in([SD, NONCRPD]))
        .then(
            pl.format(
                "{} on {} counts as {}: {} days after reference start {} (>= {}){}",
                show(c), d, show(best), ndays, r, pl.lit(sd_min_days), unconfirmed,
            )
        )
        .when(c == NE)
        .then(pl.format("NE on {}; no time point qualifies for a better category", d))
        .otherwise(
            pl.format(
                "{} on {} counts as NE: {} days after reference start {} (< {}){}",
                show(c), d, ndays, r, pl.lit(sd_min_days), unconfirmed,
            )
        )
    )
    if not rules:
        rule = pl.lit(None, pl.String)
    return winners.select("subject_id", show(best).alias("bor"), pl.col("date").alias("bor_date"), rule.alias("bor_rule"))


def _missing(
    tp: pl.DataFrame, timepoints: pl.DataFrame, keyed: pl.DataFrame, ref: pl.DataFrame, cut: pl.DataFrame, missing_as_ne: bool
) -> pl.DataFrame:
    """Subjects without any time point in the window (no row in the prepared ``tp``; every
    other subject has a winner): MISSING (§5.3).  They are the reference subjects whose
    ``_sid`` has no row in ``tp`` (an integer anti-join) and the subjects of
    ``timepoints`` absent from ``reference`` (never in ``tp``); the same set as every
    subject of either frame minus those of ``tp``, without hashing all time points."""
    outside = timepoints.select(pl.col("subject_id").cast(pl.String)).filter(
        ~pl.col("subject_id").is_in(ref.get_column("subject_id").implode())
    )
    subjects = pl.concat(
        [keyed.join(tp.select("_sid"), on="_sid", how="anti").select("subject_id"), outside.unique()]
    )
    missing_text = (
        pl.when(pl.col("reference_start").is_null())
        .then(pl.lit("MISSING: no reference start date"))
        .otherwise(
            pl.format(
                "MISSING: no assessed time point on or after reference start {}",
                pl.col("reference_start").cast(pl.String),
            )
            + pl.when(pl.col("cutoff_date").is_not_null())
            .then(pl.format(" and before cutoff {}", pl.col("cutoff_date").cast(pl.String)))
            .otherwise(pl.lit(""))
        )
    )
    if missing_as_ne:
        missing_text = missing_text + pl.lit(" (reported as NE: missing_as_ne)")
    return (
        subjects.join(ref, on="subject_id", how="left")
        .join(cut, on="subject_id", how="left")
        .select(
            "subject_id",
            pl.lit(NE if missing_as_ne else MISSING).alias("bor"),
            pl.lit(None, pl.Date).alias("bor_date"),
            missing_text.alias("bor_rule"),
        )
    )


def _prepare_inputs(
    timepoints: pl.DataFrame, reference: pl.DataFrame, cutoff: pl.DataFrame | None
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Check columns and codes; return (timepoints with ``cat``, reference, cutoff)."""
    for name, frame, cols in (
        ("timepoints", timepoints, ("subject_id", "date", "response")),
        ("reference", reference, ("subject_id", "reference_start")),
    ):
        absent = [col for col in cols if col not in frame.columns]
        if absent:
            raise ValueError(f"{name} lacks column(s) {absent}")
    tp = timepoints.select(
        pl.col("subject_id").cast(pl.String),
        pl.col("date").cast(pl.Date),
        pl.col("response").cast(pl.String),
    ).filter(pl.col("response").is_not_null() & ~pl.col("response").is_in(list(_NOT_ASSESSED)))
    unknown = tp.filter(~pl.col("response").is_in(list(RESPONSE_CODES)))["response"].unique().sort().to_list()
    if unknown:
        raise ValueError(f"unknown response code(s) {unknown}; expected one of {sorted(RESPONSE_CODES)}")
    if tp["date"].null_count() or tp["subject_id"].null_count():
        raise ValueError("timepoints has rows without subject_id or date")
    tp = tp.with_columns(pl.col("response").replace_strict(RESPONSE_CODES, return_dtype=pl.String).alias("cat"))

    ref = reference.select(pl.col("subject_id").cast(pl.String), pl.col("reference_start").cast(pl.Date))
    if ref["subject_id"].is_duplicated().any():
        raise ValueError("reference has duplicated subject_id values")
    if cutoff is None:
        cut = pl.DataFrame(schema={"subject_id": pl.String, "cutoff_date": pl.Date})
    else:
        if not {"subject_id", "cutoff_date"} <= set(cutoff.columns):
            raise ValueError("cutoff needs columns subject_id, cutoff_date")
        cut = cutoff.select(pl.col("subject_id").cast(pl.String), pl.col("cutoff_date").cast(pl.Date))
        if cut["subject_id"].is_duplicated().any():
            raise ValueError("cutoff has duplicated subject_id values")
    return tp, ref, cut


def _confirmations(
    tp: pl.DataFrame,
    *,
    confirm_days: int,
    max_ne_between: int,
    accept_sd_between: bool,
    failed_cr_as_pr: bool,
) -> pl.DataFrame:
    """Add the confirming time point of §5.4 steps 1-2 to each CR/PR time point.

    ``tp`` is sorted by subject (``_sid``) and date, with a global row position ``_g``.
    Adds ``cr_j_date`` (step 1 confirmation of a CR), ``pr_j_date``/``pr_j_cat`` (step 2
    confirmation of a PR, or of a CR that failed step 1 when ``failed_cr_as_pr``).

    The first qualifying later time point j is found with a forward as-of join on
    ``date_i + confirm_days`` (by subject); what lies strictly between i and j is checked
    with running counts (count in (i, j) = count up to j - count up to i, as neither i
    nor j is NE/SD/other). The running counts are taken over the whole sorted frame, not
    per subject: i and j belong to the same subject and every row between them too, so
    the difference is the same and no per-subject window is needed.

    "No PR after a CR inside (i, j]": ``pr_after_cr`` is, at each row, the position of the
    latest CR preceding the latest PR so far; the condition fails exactly when that
    position is > i. Computed over the whole frame as well: when the latest PR (or the
    CR before it) belongs to an earlier subject, its position is before the subject's
    first row, hence <= i, which passes exactly as the per-subject "none" (null) did.
    """
    c = pl.col("cat")
    offset = max(confirm_days, 1)  # j must be later; dates are unique after de-duplication

    def running(cond: pl.Expr) -> pl.Expr:
        return cond.cast(pl.Int32).cum_sum()

    last_cr_before = pl.when(c == CR).then(pl.col("_g")).otherwise(None).forward_fill().shift(1)
    tp = tp.with_columns(
        running(c == NE).alias("n_ne"),
        running(c == SD).alias("n_sd"),
        running(~c.is_in([CR, NE])).alias("n_not_cr_ne"),
        running(~c.is_in([CR, PR, NE, SD])).alias("n_other"),
        (pl.col("date") + pl.duration(days=offset)).alias("key"),
        last_cr_before.alias("_lcb"),
    ).with_columns(pl.when(c == PR).then(pl.col("_lcb")).otherwise(None).forward_fill().alias("pr_after_cr"))

    # both sides are sorted by (_sid, key): tp is sorted by (_sid, date) and key = date + offset
    left = tp.filter(c.is_in([CR, PR])).select("_sid", "_g", "key", "n_ne", "n_sd", "n_not_cr_ne", "n_other")

    def confirmer(targets: list[str], suffix: str) -> pl.DataFrame:
        right = tp.filter(c.is_in(targets)).select(
            "_sid",
            pl.col("date").alias("key"),
            pl.col("date").alias(f"{suffix}_j_date"),
            pl.col("cat").alias(f"{suffix}_j_cat"),
            *[pl.col(n).alias(f"{n}_j") for n in ("n_ne", "n_sd", "n_not_cr_ne", "n_other", "pr_after_cr")],
        )
        return left.join_asof(right, on="key", by="_sid", strategy="forward", check_sortedness=False)

    # Step 1: CR confirmed by the first CR >= confirm_days later, only CR/NE between.
    cr = confirmer([CR], "cr").filter(
        pl.col("cr_j_date").is_not_null()
        & (pl.col("n_not_cr_ne_j") - pl.col("n_not_cr_ne") == 0)
        & (pl.col("n_ne_j") - pl.col("n_ne") <= max_ne_between)
    ).select("_g", "cr_j_date")
    tp = tp.join(cr, on="_g", how="left", maintain_order="left")

    # Step 2: PR (or failed CR) confirmed by the first CR/PR >= confirm_days later.
    pr = confirmer([CR, PR], "pr").filter(
        pl.col("pr_j_date").is_not_null()
        & (pl.col("n_other_j") - pl.col("n_other") == 0)
        & (pl.col("n_sd_j") - pl.col("n_sd") <= (1 if accept_sd_between else 0))
        & (pl.col("n_ne_j") - pl.col("n_ne") <= max_ne_between)
        & (pl.col("pr_after_cr_j").is_null() | (pl.col("pr_after_cr_j") <= pl.col("_g")))
    ).select("_g", "pr_j_date", "pr_j_cat")
    tp = tp.join(pr, on="_g", how="left", maintain_order="left")
    eligible = (c == PR) | ((c == CR) & pl.col("cr_j_date").is_null() & pl.lit(failed_cr_as_pr))
    return tp.with_columns(
        pl.when(eligible).then(pl.col("pr_j_date")).otherwise(None).alias("pr_j_date"),
        pl.when(eligible).then(pl.col("pr_j_cat")).otherwise(None).alias("pr_j_cat"),
    )
