"""``remission assess`` as a Python function: a dataset in, the three output tables out.

    >>> from remission import assess
    >>> result = assess("path/to/dataset")          # or assess(subjects=df, lesions=df, ...)
    >>> result = assess(subjects=con.sql("select * from subjects"))  # any Arrow stream (DuckDB, pyarrow)
    >>> result.summary, result.episodes, result.assessments

Steps (docs/ARCHITECTURE.md): read and validate -> lines of therapy and evaluation segments
-> per-assessment responses of each subject's criterion -> best overall response without and
with confirmation (line 1) -> per-date patient status -> remission episodes and lifecycle ->
the ``assessments``, ``episodes`` and ``summary`` tables of spec/tables.md.

``as_of``: the data are cut at that date first (results, treatments started, deaths and
contacts after it are unknown on that date; a treatment ending after it is ongoing), so the
outputs are what the rules said on that date.  Default: the latest date in the data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import polars as pl

from remission import schema as S
from remission.criteria import registry, stated
from remission.errors import InputError, InputErrors, errors_frame
from remission.frames import as_frames
from remission.io import Dataset, from_frames, load_dataset
from remission.options import AssessOptions, confirm_days_by_criteria
from remission.timeline import best_response, endpoints, lines
from remission.timeline.episodes import derive_episodes, lifecycle
from remission.timeline.status import combine_statuses




@dataclass
class AssessResult:
    """The outputs of :func:`assess`: polars frames (``.to_pandas()`` for pandas,
    ``.to_arrow()`` for a pyarrow Table, e.g. to write back to DuckDB); the columns of each
    are listed in docs/tables.md."""

    assessments: pl.DataFrame
    episodes: pl.DataFrame
    summary: pl.DataFrame
    errors: list[InputError] = field(default_factory=list)
    #: the full per-assessment table (all columns of schema.TIMEPOINTS)
    timepoints: pl.DataFrame | None = None
    statuses: pl.DataFrame | None = None
    segments: pl.DataFrame | None = None
    as_of: dt.date | None = None
    #: whether ``as_of`` was asked for (``--as-of``); else it is the latest date in the data
    #: and overdue follow-ups are shown against today
    as_of_given: bool = False
    #: the treatments as known on ``as_of`` (for timelines and explanations)
    treatments: pl.DataFrame | None = None

    @property
    def warnings(self) -> pl.DataFrame:
        """The ``warnings`` table (:func:`warnings_table`) of ``assessments``."""
        return warnings_table(self.assessments)

    def write(self, out_dir: str | Path, fmt: str = "csv") -> list[Path]:
        """Write ``assessments``, ``episodes``, ``summary`` (and ``errors``, ``warnings`` when
        any) to ``out_dir`` as CSV or Parquet; returns the paths written."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        tables = {"assessments": self.assessments, "episodes": self.episodes, "summary": self.summary}
        if self.errors:
            tables["errors"] = errors_frame(self.errors)
        warnings = self.warnings
        if warnings.height:
            tables["warnings"] = warnings
        paths = []
        for name, frame in tables.items():
            path = out / f"{name}.{ 'parquet' if fmt == 'parquet' else 'csv'}"
            if fmt == "parquet":
                frame.write_parquet(path)
            else:
                frame.write_csv(path)
            paths.append(path)
        return paths


#: columns of the ``warnings`` output (an addition to spec/tables.md, docs/tables.md)
WARNINGS_SCHEMA = {"subject_id": pl.String, "date": pl.Date, "criteria": pl.String, "warning": pl.String}


def warnings_table(assessments: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """``warnings.csv``: one row per warning code of an assessment row (``subject_id, date,
    criteria, warning``; the ``warnings`` column of ``assessments`` holds them ``;``- or
    ``,``-joined), e.g. ``CR_THEN_PR`` (recist11.md §5.4), sorted by subject, date, code."""
    lf = assessments.lazy()
    schema = lf.collect_schema()
    if "warnings" not in schema.names():
        return pl.DataFrame(schema=WARNINGS_SCHEMA)
    date = pl.col("date").str.to_date() if schema["date"] == pl.String else pl.col("date").cast(pl.Date)
    return (
        lf.filter(pl.col("warnings").is_not_null() & (pl.col("warnings") != ""))
        .select("subject_id", date, "criteria", warning=pl.col("warnings").str.split(";"))
        .explode("warning")
        .with_columns(pl.col("warning").str.split(","))
        .explode("warning")
        .with_columns(pl.col("warning").str.strip_chars())
        .filter(pl.col("warning") != "")
        .unique()
        .sort("subject_id", "date", "warning")
        .select([pl.col(c).cast(t) for c, t in WARNINGS_SCHEMA.items()])
        .collect()
    )


# --------------------------------------------------------------------------------------


#: the date columns whose latest value is the default as-of date (also read from Parquet
#: metadata by :func:`remission.batching.predicted_latest`)
LATEST_DATE_COLUMNS = {
    "lesions": ("date",),
    "labs": ("date",),
    "findings": ("date",),
    "responses": ("date",),
    "treatments": ("start_date", "end_date"),
    "subjects": ("diagnosis_date", "death_date", "last_contact_date"),
}


def _latest_date(ds: Dataset) -> dt.date | None:
    cands = []
    for name, cols in LATEST_DATE_COLUMNS.items():
        frame = getattr(ds, name)
        for c in cols:
            if frame.height:
                v = frame.get_column(c).max()
                if v is not None:
                    cands.append(v)
    return max(cands) if cands else None


def cut_at(ds: Dataset, as_of: dt.date) -> Dataset:
    """The dataset as known on ``as_of`` (see module docstring)."""
    day = pl.lit(as_of, dtype=pl.Date)
    return Dataset(
        subjects=ds.subjects.with_columns(
            death_date=pl.when(pl.col("death_date") <= day).then(pl.col("death_date")),
            last_contact_date=pl.when(pl.col("last_contact_date") <= day)
            .then(pl.col("last_contact_date"))
            .when(pl.col("last_contact_date").is_not_null())
            .then(day),
        ),
        lesions=ds.lesions.filter(pl.col("date") <= day),
        labs=ds.labs.filter(pl.col("date") <= day),
        findings=ds.findings.filter(pl.col("date") <= day),
        treatments=ds.treatments.filter(pl.col("start_date") <= day).with_columns(
            end_date=pl.when(pl.col("end_date") <= day).then(pl.col("end_date"))
        ),
        responses=ds.responses.filter(pl.col("date") <= day),
        files=ds.files,
        validated=ds.validated,
    )


def _tables(ds: Dataset, ids: pl.DataFrame | None) -> dict[str, pl.DataFrame]:
    """The typed tables of the given subjects, as a criterion receives them
    (``ids=None``: every subject, the tables as they are)."""
    if ids is None:
        return {name: getattr(ds, name) for name in ("subjects", "lesions", "labs", "findings", "treatments", "responses")}
    return {
        name: getattr(ds, name).join(ids, on="subject_id", how="semi")
        for name in ("subjects", "lesions", "labs", "findings", "treatments", "responses")
    }


def _evaluate_criteria(ds: Dataset, options: AssessOptions, validated: bool = False):
    """Per-assessment responses of every subject's criterion (criteria.registry), with lines
    of therapy (lines.iterate_segments).  Lesion measurements under a criterion without
    lesion rules are an input error rather than silently ignored.

    ``validated`` (:attr:`Dataset.validated`): every row of every table belongs to a
    subject of ``subjects`` (unique ids).  Then a
    criterion that every subject has receives the tables as they are: the semi-joins on
    its subject ids would keep every row."""
    crit = ds.subjects.select("subject_id", "criteria")
    # subjects with lesion rows whose criterion has no engine: filter the (short, usually
    # empty) subjects first, then keep those with lesion rows (no unique() over lesions)
    unknown = crit.filter(~pl.col("criteria").is_in(list(registry.CRITERIA)))
    if unknown.height:
        unknown = unknown.join(ds.lesions.select("subject_id"), on="subject_id", how="semi").unique()
    if unknown.height:
        known = ", ".join(sorted(registry.CRITERIA))
        errs = [
            InputError(
                ds.files.get("lesions", "lesions"),
                None,
                sid,
                "criteria",
                code,
                f"a criterion whose rules from measurements are implemented ({known}); "
                "give stated responses in the responses table or force --criteria",
                "criteria_not_implemented",
            )
            for sid, code in unknown.sort("subject_id").rows()
        ]
        raise InputErrors(errs)
    groups = []
    for code in sorted(registry.CRITERIA):
        ids = crit.filter(pl.col("criteria") == code).select("subject_id")
        if ids.height == 0:
            continue
        criterion = registry.get(code)
        everyone = validated and ids.height == crit.height
        tables = _tables(ds, None if everyone else ids)
        dates = criterion.dates(tables)
        if dates.height:
            groups.append((criterion, tables, dates, everyone))
    if not groups:
        return S.empty(S.SEGMENTS), S.empty(S.TIMEPOINTS)
    active = lines.active_treatments(ds.treatments, options.remission.non_blocking_intents)
    # (duplicate dates are harmless to lines.iterate_segments: no unique() pass needed)
    dates = pl.concat([g[2] for g in groups])

    def evaluate(segments: pl.DataFrame) -> pl.DataFrame:
        parts = []
        for criterion, tables, _, everyone in groups:
            segs = segments if everyone else segments.join(tables["subjects"].select("subject_id"), on="subject_id", how="semi")
            if segs.height:
                parts.append(criterion.run(tables, segs, criterion.options_from(options)))
        if not parts:
            return S.empty(S.TIMEPOINTS)
        return pl.concat(parts, how="vertical_relaxed").sort("subject_id", "date")

    return lines.iterate_segments(dates, active, evaluate)


def _stated(ds: Dataset, imaging_subjects: pl.DataFrame, options: AssessOptions):
    """Stated responses as time points, with lines, for subjects without lesion data
    (and kept as extra evidence for the others)."""
    tp = stated.stated_timepoints(ds.responses, ds.subjects)
    if tp.height == 0:
        return S.empty(S.SEGMENTS), tp.with_columns(line=pl.lit(None, dtype=pl.Int32))
    active = lines.active_treatments(ds.treatments, options.remission.non_blocking_intents)
    only = tp.join(imaging_subjects, on="subject_id", how="anti")
    dates = only.select("subject_id", "date").unique()

    def evaluate(segments: pl.DataFrame) -> pl.DataFrame:
        return lines.assign_lines(only.join(segments.select("subject_id").unique(), on="subject_id"), segments)

    if dates.height:
        segments, _ = lines.iterate_segments(dates, active, evaluate)
    else:
        segments = S.empty(S.SEGMENTS)
    return segments, tp


def _reference(segments: pl.DataFrame) -> pl.DataFrame:
    return segments.filter(pl.col("line") == 1).select("subject_id", "reference_start")


def _cutoff(segments: pl.DataFrame, treatments: pl.DataFrame, options: AssessOptions) -> pl.DataFrame | None:
    """The first date excluded from best response (recist11.md §5.1), per subject:

    * new anticancer therapy (``exclude_after_new_therapy``): the start of line 2;
    * post-treatment assessments (``include_post_treatment = False``): the day after the
      last active treatment of line 1 ended, when all of them have ended (treatments that
      start after line 2 began belong to line 2).
    """
    parts = []
    if options.recist.exclude_after_new_therapy:
        parts.append(
            segments.filter(pl.col("line") == 2).select("subject_id", pl.col("reference_start").alias("cutoff_date"))
        )
    if not options.recist.include_post_treatment:
        line2 = segments.filter(pl.col("line") == 2).select("subject_id", pl.col("reference_start").alias("_l2"))
        active = lines.active_treatments(treatments, options.remission.non_blocking_intents)
        ended = (
            active.join(line2, on="subject_id", how="left")
            .filter(pl.col("_l2").is_null() | (pl.col("start_date") < pl.col("_l2")))
            .group_by("subject_id")
            .agg(_open=pl.col("end_date").is_null().any(), _end=pl.col("end_date").max())
            .filter(~pl.col("_open"))
            .select("subject_id", cutoff_date=pl.col("_end") + pl.duration(days=1))
        )
        parts.append(ended)
    if not parts:
        return None
    return pl.concat(parts).group_by("subject_id").agg(pl.col("cutoff_date").min())


def _apply_partial_rule(tp: pl.DataFrame, rule: str) -> pl.DataFrame:
    """remission_model.md §4 ``partial_remission_rule`` for solid-tumour imaging time points:
    which non-complete, non-progression time points are a PARTIAL remission level.

    * ``criterion``: the criterion's own PR (unchanged);
    * ``who_area_50``: cross-sectional area down >= 50 % from baseline: the sum of products
      for WHO; for diameter criteria approximated from the sums as ``(SOD/SOD0)^2 <= 0.5``
      (SOD down >= 29.29 %);
    * ``diameter_50``: the unidimensional sum down >= 50 % (for WHO's products: the area
      ratio <= 0.25).
    COMPLETE, PROGRESSION, pending and not-evaluable levels are never changed (§4), nor the
    ``overall_response`` of the assessment rows: only the remission levels the lifecycle uses.
    """
    if rule == "criterion" or tp.height == 0:
        return tp
    present = tp.get_column("criteria").unique().to_list()
    measured = {c: registry.get(c).measurement for c in present if c in registry.CRITERIA}
    area = pl.col("criteria").is_in([c for c, m in measured.items() if m == "products"])
    ratio = 1 + pl.col("change_from_baseline_pct") / 100
    if rule == "who_area_50":
        met = pl.when(area).then(ratio <= 0.5).otherwise(ratio**2 <= 0.5)
    else:  # diameter_50
        met = pl.when(area).then(ratio <= 0.25).otherwise(ratio <= 0.5)
    solid = pl.col("criteria").is_in([c for c, m in measured.items() if m is not None])
    changeable = solid & pl.col("canonical_level").is_in([S.PARTIAL, S.STABLE, S.MINOR])
    return tp.with_columns(
        canonical_level=pl.when(changeable & met.fill_null(False))
        .then(pl.lit(S.PARTIAL))
        .when(changeable & (pl.col("canonical_level") == S.PARTIAL))
        .then(pl.lit(S.STABLE))
        .otherwise(pl.col("canonical_level"))
    )


def _best_responses(
    primary: pl.DataFrame, segments: pl.DataFrame, subjects: pl.DataFrame, treatments: pl.DataFrame, options: AssessOptions
):
    """Best overall response without and with confirmation, of the first line, per criterion
    group: each criterion's declared rule (``Criterion.best_response``, built from its
    options) run by the one engine :func:`remission.timeline.best_response.best_responses`."""
    ref = _reference(segments)
    cutoff = _cutoff(segments, treatments, options)
    out = []
    for (crit,), group in subjects.select("subject_id", "criteria").group_by("criteria"):
        if crit not in registry.CRITERIA:
            continue
        ids = group.select("subject_id")
        r = ref.join(ids, on="subject_id", how="semi")
        if r.height == 0:
            continue
        c = cutoff.join(ids, on="subject_id", how="semi") if cutoff is not None else None
        criterion = registry.get(crit)
        rule = criterion.best_response(criterion.options_from(options))
        group_tp = primary.join(ids, on="subject_id", how="semi")
        levels = {**stated.LEVEL_BY_CODE, **criterion.levels()}
        out.append(best_response.best_responses(group_tp, r, rule, levels=levels, cutoff=c))
    if not out:
        return best_response.empty()
    return pl.concat(out, how="vertical_relaxed")


def _clinical_results(findings: pl.DataFrame) -> pl.DataFrame:
    """Physical examination and symptoms findings as clinical evidence (remission_model.md §5
    rules 2 and 6).  ``physical_exam``: ``evidence`` shows disease, ``no_evidence`` does not.
    ``symptoms``: ``none`` is clinical follow-up without disease; other values are not taken
    as disease-related (the spec counts symptoms only when marked disease-related)."""
    f = findings.filter(
        ((pl.col("finding") == "physical_exam") & pl.col("value").str.to_lowercase().is_in(["evidence", "no_evidence"]))
        | ((pl.col("finding") == "symptoms") & (pl.col("value").str.to_lowercase() == "none"))
    )
    return f.select(
        "subject_id",
        "date",
        level=pl.lit(None, dtype=pl.String),
        progression_event_date=pl.lit(None, dtype=pl.Date),
        source=pl.col("finding"),
        clinical_only=pl.lit(True),
        disease_evident=pl.col("value").str.to_lowercase() == "evidence",
        recurrence_sites=pl.lit(None, dtype=pl.String),
    )


def _criterion_results(tp: pl.DataFrame) -> pl.DataFrame:
    return tp.filter(pl.col("canonical_level").is_not_null()).select(
        "subject_id",
        "date",
        level=pl.col("canonical_level"),
        progression_event_date=pl.when(pl.col("canonical_level") == S.PROGRESSION).then(
            pl.coalesce("progression_event_date", "date")
        ),
        source=pl.col("criteria"),
        clinical_only=pl.lit(False),
        disease_evident=pl.lit(None, dtype=pl.Boolean),
        recurrence_sites=pl.col("recurrence_sites") if "recurrence_sites" in tp.columns else pl.lit(None, dtype=pl.String),
    )


def _partial_values(tp: pl.DataFrame) -> pl.DataFrame:
    """A partly measured time point is not a measurement (recist11.md §4.2: with a target
    not evaluated the sum cannot be assessed; the same for every criterion's sum): where the
    criterion marks ``value_complete`` false, ``value`` and its changes from baseline and
    nadir are empty and the sum of the measured targets is kept as ``partial_value``."""
    if "value_complete" not in tp.columns:
        return tp.with_columns(partial_value=pl.lit(None, dtype=pl.Float64))
    partial = (pl.col("value_complete") == False).fill_null(False)  # noqa: E712
    blank = ["value", "change_from_baseline_pct", "change_from_nadir_pct", "change_from_nadir_abs"]
    return tp.with_columns(
        partial_value=pl.when(partial).then(pl.col("value")),
        **{c: pl.when(~partial).then(pl.col(c)) for c in blank if c in tp.columns},
    )


def _assessments_table(imaging: pl.DataFrame, stated_tp: pl.DataFrame) -> pl.DataFrame:
    """spec/tables.md ``assessments``: one row per subject and date; imaging rows first, then
    stated responses on dates without imaging (worst of same-day statements)."""
    rank = pl.col("canonical_level").replace_strict(
        {lvl: i for i, lvl in enumerate(S.LEVEL_ORDER_WORST_FIRST)}, default=len(S.LEVEL_ORDER_WORST_FIRST)
    )
    st = (
        stated_tp.join(imaging.select("subject_id", "date"), on=["subject_id", "date"], how="anti")
        .with_columns(_r=rank)
        .sort("subject_id", "date", "_r")
        .unique(["subject_id", "date"], keep="first", maintain_order=True)
        .select(
            "subject_id",
            "date",
            "line",
            "criteria",
            "overall_response",
            "canonical_level",
            "is_progression_event",
            "progression_event_date",
            explanation=pl.format(
                "{}: stated response ({}) from the responses table", pl.col("overall_response"), pl.col("evidence")
            ),
        )
    )
    cols = list(S.ASSESSMENTS_COLUMNS) + [
        "line",
        "partial_value",
        "nadir_value",
        "change_from_nadir_abs",
        "canonical_level",
        "is_progression_event",
        "progression_event_date",
        "pending_progression",
        "rule_ids",
        "warnings",
    ]
    imaging = _partial_values(imaging)
    img = imaging.select([c for c in cols if c in imaging.columns])
    out = pl.concat([img, st], how="diagonal_relaxed").select(cols)
    # The imaging rows come sorted from the criteria and the stated rows are sorted above;
    # when no subject has both, a linear merge gives the order of the sort (lines.py).
    img, st = out.slice(0, img.height), out.slice(img.height)
    if st.height == 0 and lines._sorted_by_subject_date(img):
        return img
    if img.height and st.height and not st.get_column("subject_id").is_in(img.get_column("subject_id").implode()).any():
        return lines._merge_by_subject_date(img, st)
    return out.sort("subject_id", "date")


def _with_lifecycle_confirmation(options: AssessOptions) -> AssessOptions:
    """The lifecycle's confirmation intervals (remission_model.md §6.4) from each criterion's
    best-response rule, so that one option (e.g. ``rano2.confirm_response_days``) drives the
    best response and the episodes alike."""
    if "confirm_days_by_criteria" in options.remission.model_fields_set:
        raise ValueError(
            "remission.confirm_days_by_criteria is derived from each criterion's options; set the criterion's own "
            "confirmation option instead (e.g. recist.confirm_days, rano2.confirm_response_days, pcwg3.psa_confirm_days)"
        )
    table = confirm_days_by_criteria(options)
    remission = options.remission.model_copy(update={"confirm_days_by_criteria": table})
    return options.model_copy(update={"remission": remission})


#: the steps of :func:`assess` reported to its ``progress`` callback, in order
ASSESS_STEPS = (
    "read and validated the input",
    "evaluated each criterion's time points",
    "derived the best responses",
    "combined the statuses",
    "derived the remission episodes",
    "derived the lifecycle and the summary",
    "built the output tables",
)


def assess(
    data: str | Path | Dataset | None = None,
    options: AssessOptions | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    **frames: Any,
) -> AssessResult:
    """Assess a dataset: a folder path, a validated :class:`~remission.io.Dataset`, or tables
    passed as ``subjects=..., lesions=..., treatments=...``: polars or pandas frames, or any
    object with the Arrow PyCapsule interface (``__arrow_c_stream__``: a pyarrow Table, a
    DuckDB relation, ...; :mod:`remission.frames`).

    The result's tables are polars frames; ``.to_pandas()`` and ``.to_arrow()`` on each give
    pandas and pyarrow.

    Options: :class:`~remission.options.AssessOptions` (or keyword ``options=dict(...)``).
    Raises :class:`~remission.errors.InputErrors` listing every input problem unless
    ``options.skip_invalid``; then invalid subjects are left out and listed in
    ``result.errors``.

    ``progress(done, total, label)``, when given, is called after each of the
    :data:`ASSESS_STEPS` (``total`` = their number; ``label`` names the step done and the
    number of subjects).
    """
    step = 0

    def tick(n_subjects: int) -> None:
        nonlocal step
        step += 1
        if progress is not None:
            progress(step, len(ASSESS_STEPS), f"{ASSESS_STEPS[step - 1]} ({n_subjects} subjects)")

    if options is None:
        options = AssessOptions()
    elif isinstance(options, dict):
        options = AssessOptions(**options)
    options = _with_lifecycle_confirmation(options)
    if isinstance(data, Dataset):
        ds, errors = data, []
    elif data is not None:
        ds, errors = load_dataset(data, criteria=options.criteria, skip_invalid=options.skip_invalid,
                                  ignore_unknown_files=options.ignore_unknown_files)
    else:
        ds, errors = from_frames(**as_frames(frames), criteria=options.criteria, skip_invalid=options.skip_invalid)
    as_of = options.as_of or _latest_date(ds)
    if as_of is not None:
        ds = cut_at(ds, as_of)
    n = ds.subjects.height
    tick(n)

    seg_img, tp_img = _evaluate_criteria(ds, options, ds.validated)
    imaging_subjects = tp_img.select("subject_id").unique()
    seg_st, tp_st = _stated(ds, imaging_subjects, options)
    tp_st = lines.assign_lines(tp_st.drop("line", strict=False), pl.concat([seg_img, seg_st]))
    segments = pl.concat([seg_img, seg_st]).sort("subject_id", "line")

    # primary time points per subject: lesion-derived when present, else stated (rule_ids:
    # for the best-response rules that read them, BestResponseRule.ne_rule_ids)
    primary = pl.concat(
        [
            tp_img.filter(pl.col("overall_response").is_not_null()).select(
                "subject_id", "date", "line", "overall_response", "canonical_level",
                "is_progression_event", "progression_event_date", "rule_ids",
            ),
            tp_st.join(imaging_subjects, on="subject_id", how="anti").select(
                "subject_id", "date", "line", "overall_response", "canonical_level",
                "is_progression_event", "progression_event_date",
                pl.col("rule_ids") if "rule_ids" in tp_st.columns else pl.lit(None, pl.String).alias("rule_ids"),
            ),
        ],
        how="vertical_relaxed",
    )
    subjects = ds.subjects
    tick(n)
    bors = _best_responses(primary, segments, subjects, ds.treatments, options)
    if options.recist.confirmation_required:
        # recist11.md §2.1: the protocol's best response is the confirmed one
        bors = bors.with_columns(
            pl.col("confirmed_best_response").alias("best_response"),
            pl.col("confirmed_best_response_date").alias("best_response_date"),
            pl.col("confirmed_best_response_rule").alias("best_response_rule"),
        )
    ends = endpoints.pfs_and_dor(primary, _reference(segments), subjects, add_one_day=options.remission.add_one_day)

    results = pl.concat(
        [_criterion_results(_apply_partial_rule(tp_img, options.remission.partial_remission_rule)), _criterion_results(tp_st.with_columns(recurrence_sites=pl.lit(None, dtype=pl.String))),
         _clinical_results(ds.findings)],
        how="vertical_relaxed",
    )
    tick(n)
    statuses = combine_statuses(results, options.remission)
    tick(n)
    episodes = derive_episodes(statuses, ds.treatments, subjects, options.remission, as_of=as_of)
    tick(n)
    life = lifecycle(statuses, episodes, ds.treatments, subjects, options.remission, options.followup, as_of=as_of)

    missing = "NE" if options.recist.missing_as_ne else "MISSING"
    summary = (
        subjects.select("subject_id", "criteria")
        .join(bors, on="subject_id", how="left")
        .join(life, on="subject_id", how="left")
        .join(ends, on="subject_id", how="left")
        .with_columns(
            status=pl.col("status").fill_null("not_assessed"),
            # recist11.md §5.3: no post-baseline time point -> MISSING (NE with missing_as_ne)
            best_response=pl.col("best_response").fill_null(missing),
            confirmed_best_response=pl.col("confirmed_best_response").fill_null(missing),
        )
    )
    extra = [c for c in summary.columns if c not in S.SUMMARY_COLUMNS]
    summary = summary.select(list(S.SUMMARY_COLUMNS) + extra).sort("subject_id")

    tick(n)
    assessments = _assessments_table(tp_img, tp_st)
    tick(n)
    return AssessResult(
        assessments=assessments,
        episodes=episodes.sort("subject_id", "episode"),
        summary=summary,
        errors=list(errors),
        timepoints=tp_img,
        statuses=statuses,
        segments=segments,
        as_of=as_of,
        as_of_given=options.as_of is not None,
        treatments=ds.treatments,
    )
