"""RECIST 1.1 per-assessment responses (recist11.md §3–4), vectorised over all subjects.

Implements ``docs/imaging_engine.md`` exactly; the rule ids in ``rule_ids`` are those of
the note (``T1``–``T6``/``T6c``, ``N0``–``N4``, ``NL0``/``NL1``/``NLeq``, ``TAB4``/``TAB5``,
``R47``, ``B0``, ``B1``).  Lesion sets and segment assignment are in :mod:`._lesions`.

Choices where the note or the spec is silent (besides those listed in :mod:`._lesions`):

* ``value`` on an incomplete time point is the partial sum of the usable target values
  (needed for T1); it is null when no target has a usable value.  Percent changes are
  computed for that partial sum too (for T1); ``value_complete`` is false on such a time
  point, and the ``assessments`` table reports the partial sum as ``partial_value`` only
  (§4.2: the sum cannot be assessed).
* B0 (targets but no baseline) and B1 (incomplete baseline) make the target response NE;
  the overall response still follows Table 4, so an unequivocal new lesion or non-target
  progression gives PD (Table 4 "any PD component → PD").
* "Previous evaluated time point" (§4.7) = the previous follow-up of the same segment whose
  overall response (before §4.7) is not NE.  A CR "run" for ``pd_if_prior_confirmed_cr``
  is a stretch of CR time points with only NE between them; the prior CR is confirmed when
  its date is ≥ ``confirm_days`` after the run's first CR.
* Reappearance of a non-nodal non-target (§4.7) = status ``present``, ``too_small`` or
  ``progression``; ``equivocal`` does not count.
* ``SINGLE_NODE_REAPPEARANCE`` is emitted whenever the previous evaluated time point was CR
  and the only reappearing disease is one nodal target, whatever the policy.
* ``continued_pr_after_confirmation`` (T6c): a PR at p is confirmed by a PR/CR at q with
  ``q − p ≥ confirm_days``, both after the segment's last PD before t; what lies between
  p and q is not checked (labels only, never BOR).
* Tumour markers (§4.3 N3, §6.11): a marker is elevated at baseline when its latest value in
  ``[baseline − window, baseline]`` exceeds its ULN; segments without a baseline use no
  markers.
* ``BASELINE_TOO_EARLY`` (§3.3) is a warning on the baseline row when the baseline is more
  than ``baseline_window_days`` before ``reference_start``.
"""

from __future__ import annotations

from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from remission.schema import TIMEPOINTS

from .base import BestResponseRule, Criterion, Presentation, Vocabulary
from ._lesions import (
    INF,
    KEY,
    NOT_EVALUATED,
    SEG,
    Prepared,
    finish,
    joined,
    label,
    materialise,
    num,
    pct_change,
    prepare,
    seg_forward_fill,
    seg_prev_evaluated,
    signed,
)

class RecistOptions(BaseModel):
    """RECIST 1.1 parameters (recist11.md §8)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    confirmation_required: bool = Field(
        False,
        description="Protocol requires confirmed responses (non-randomised trials): the summary's "
        "best_response is then the confirmed one (confirmed_best_response is always reported).",
    )
    confirm_days: int = Field(28, ge=1, description="Minimum days between a response and its confirmation (§5.4).")
    max_ne_between: int = Field(1, ge=0, description="NE time points tolerated between response and confirmation.")
    accept_sd_between: bool = Field(False, description="Accept one SD between a PR and its confirmation.")
    sd_min_days: int = Field(42, ge=0, description="SD minimum duration from the reference start (§5.2).")
    baseline_window_days: int = Field(28, ge=0, description="Baseline older than this before the start gives a warning.")
    reappearance_after_cr: Literal["pd_if_prior_cr", "pd_if_prior_confirmed_cr", "reclassify_prior_as_pr"] = Field(
        "pd_if_prior_cr", description="What a lesion reappearing after an overall CR means (§4.7)."
    )
    continued_pr_after_confirmation: bool = Field(
        False, description="Keep labelling PR after a confirmed PR until PD (EORTC FAQ); labels only."
    )
    exclude_after_new_therapy: bool = Field(True, description="BOR ignores time points after a new line starts (§5.1).")
    include_post_treatment: bool = Field(
        True,
        description="BOR includes assessments after the end of the first line's active treatment (§5.1). "
        "False: only assessments on or before the day the last of those treatments ended (when all have ended).",
    )
    missing_as_ne: bool = Field(False, description="Report BOR MISSING as NE.")
    failed_cr_as_pr: bool = Field(
        True,
        description="Confirmed BOR: a CR that fails CR confirmation may be confirmed as PR (§5.4 step 2, the spec). "
        "False reproduces admiralonco's cbor_pr event, which looks at PR time points only.",
    )
    tstm_default_mm: float = Field(5.0, gt=0, description="Value of a 'too small to measure' target (§3.4).")
    marker_uln: dict[str, float] = Field(
        default_factory=dict,
        description="Tumour markers (labs test code -> upper limit of normal) whose normalisation a CR "
        "requires (§4.3 N3, §6.11). Empty: markers are not used; ULNs are laboratory-specific.",
    )
    marker_window_days: int = Field(28, ge=0, description="A marker value counts at t if dated in [t - window, t].")


CODE = "recist1.1"
#: best → worst (criteria/README.md)
ORDER = ("CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE", "MISSING")
#: category → canonical level (imaging_engine.md "Overall response OR")
CANONICAL = {
    "CR": "COMPLETE",
    "PR": "PARTIAL",
    "SD": "STABLE",
    "NON-CR/NON-PD": "STABLE",
    "PD": "PROGRESSION",
    "NE": "NOT_EVALUABLE",
}

_EMPTY = pl.lit([], dtype=pl.List(pl.String))
_NONCR = "NON-CR/NON-PD"


def _target_value(d: pl.Expr, status: pl.Expr, tstm: float) -> pl.Expr:
    """Per-lesion value (recist11.md §3.4; note "Per-lesion value at a date")."""
    return (
        pl.when(d.is_not_null())
        .then(d)
        .when(status == "absent")
        .then(pl.lit(0.0))
        .when(status == "too_small")
        .then(pl.lit(float(tstm)))
        .otherwise(pl.lit(None, dtype=pl.Float64))
    )


def _markers(prep: Prepared, labs: pl.DataFrame | None, options: RecistOptions) -> pl.DataFrame | None:
    """Marker state per follow-up (recist11.md §4.3 N3, §6.11): ``mk_elev`` markers elevated
    at baseline, ``mk_bad`` of them not ≤ ULN at t (or not measured in the window)."""
    if not options.marker_uln or labs is None or labs.height == 0:
        return None
    w = pl.duration(days=options.marker_window_days)
    uln = pl.DataFrame(
        {"test": list(options.marker_uln), "uln": [float(v) for v in options.marker_uln.values()]},
        schema={"test": pl.String, "uln": pl.Float64},
    )
    lab = labs.select(
        "subject_id", lab_date=pl.col("date").cast(pl.Date), test="test", lab_value=pl.col("value").cast(pl.Float64)
    ).join(uln, on="test", how="inner")
    seg = prep.segments.filter(pl.col("baseline_date").is_not_null()).select(*SEG, "baseline_date")
    elevated = (
        seg.join(lab, on="subject_id", how="inner")
        .filter(pl.col("lab_date") <= pl.col("baseline_date"), pl.col("lab_date") >= pl.col("baseline_date") - w)
        .sort("lab_date")
        .group_by([*SEG, "test"], maintain_order=True)
        .agg(pl.col("lab_value").last().alias("base_value"), pl.col("uln").first())
        .filter(pl.col("base_value") > pl.col("uln"))
        .select(*SEG, "test", "uln")
    )
    fu = prep.followups.select(KEY).join(elevated, on=SEG, how="inner")
    latest = (
        fu.join(lab.drop("uln"), on=["subject_id", "test"], how="inner")
        .filter(pl.col("lab_date") <= pl.col("date"), pl.col("lab_date") >= pl.col("date") - w)
        .sort("lab_date")
        .group_by([*KEY, "test"], maintain_order=True)
        .agg(pl.col("lab_value").last())
    )
    m = fu.join(latest, on=[*KEY, "test"], how="left").with_columns(
        bad=pl.col("lab_value").is_null() | (pl.col("lab_value") > pl.col("uln"))
    )
    text = (
        pl.when(pl.col("lab_value").is_null())
        .then(pl.format("marker {} not measured within {} days", pl.col("test"), pl.lit(options.marker_window_days)))
        .otherwise(pl.format("marker {} {} > ULN {}", pl.col("test"), num(pl.col("lab_value")), num(pl.col("uln"))))
    )
    return m.with_columns(mk_t=text).group_by(KEY).agg(
        mk_elev=pl.len().cast(pl.Int64),
        mk_bad=pl.col("bad").sum().cast(pl.Int64),
        mk_text=joined(pl.col("mk_t"), pl.col("bad"), "; "),
    )


def _segment_targets(prep: Prepared, tstm: float) -> pl.DataFrame:
    """Baseline SOD per segment (§3.4); null when a target has no usable value (B1)."""
    bv = _target_value(pl.col("base_d"), pl.col("base_status"), tstm)
    return (
        prep.targets.with_columns(bv=bv, lab=label(pl.col("lesion_id"), pl.col("organ")))
        .group_by("_g")
        .agg(
            n_targets=pl.len().cast(pl.Int64),
            baseline_value=pl.when(pl.col("bv").null_count() == 0).then(pl.col("bv").sum()),
            base_missing=joined(pl.col("lab"), pl.col("bv").is_null()),
        )
    )


def _target_rows(obs: pl.LazyFrame, tstm: float) -> pl.LazyFrame:
    v = pl.col("v")
    nodal = pl.col("nodal")
    reapp = ((~nodal & (v > 0)) | (nodal & (v >= 10))).fill_null(False)  # §4.7
    return obs.with_columns(
        v=_target_value(pl.col("d"), pl.col("status"), tstm), lab=label(pl.col("lesion_id"), pl.col("organ"))
    ).with_columns(reapp=reapp)


def _target_aggs(numbers: bool, text: bool) -> dict[str, pl.Expr]:
    """Per follow-up target aggregations: the numbers the rules use, and the texts and organ
    lists only explanations and recurrence sites use (computed where needed, see
    :func:`_with_texts`)."""
    v = pl.col("v")
    nodal = pl.col("nodal")
    aggs = {
        "n_usable": v.count().cast(pl.Int64),
        "value": pl.when(v.count() > 0).then(v.sum()),
        # §4.1 T3: every non-nodal target 0 mm and every nodal target < 10 mm
        "cr_ok": ((~nodal & (v == 0)) | (nodal & (v < 10))).fill_null(False).all(),
        "has_nodal": nodal.any(),
        "nodal_sum": v.filter(nodal).sum(),
        "nodal_max": v.filter(nodal).max(),
        "missing": joined(pl.col("lab"), v.is_null()),
        "t_reapp_ids": joined(pl.format("{} {} mm", pl.col("lab"), num(v)), pl.col("reapp")),
        "n_reapp_nodal": (pl.col("reapp") & nodal).sum().cast(pl.Int64),
        "n_reapp_nonnodal": (pl.col("reapp") & ~nodal).sum().cast(pl.Int64),
        "t_organs": pl.col("organ"),
        "t_reapp_organs": pl.col("organ").filter(pl.col("reapp")),
    }
    return {k: e for k, e in aggs.items() if (text if k in _T_TEXT else numbers)}


_T_TEXT = ("missing", "t_reapp_ids", "t_organs", "t_reapp_organs")
_NT_TEXT = ("prog_ids", "ne_ids", "present_ids", "nt_reapp_ids", "prog_organs", "nt_reapp_organs")


def _target_agg(prep: Prepared, tstm: float, text: bool = True) -> pl.DataFrame:
    # lazy: the per-row columns no aggregation uses (e.g. the labels) are never computed
    return _target_rows(prep.target_obs.lazy(), tstm).group_by("_sd").agg(**_target_aggs(True, text)).collect()


def _non_target_rows(obs: pl.LazyFrame) -> pl.LazyFrame:
    st = pl.col("status")
    nodal = pl.col("nodal")
    ne = (~pl.col("has_row") | (st.fill_null("") == NOT_EVALUATED))
    prog = (st == "progression").fill_null(False)
    absent = ((st == "absent").fill_null(False) | (nodal & (pl.col("d") < 10)).fill_null(False)) & ~ne
    reapp = (
        pl.when(nodal)
        .then(prog | (pl.col("d") >= 10).fill_null(False))
        .otherwise(st.is_in(["present", "too_small", "progression"]).fill_null(False))
    )
    return obs.with_columns(ne=ne, prog=prog, absent=absent, reapp=reapp, lab=label(pl.col("lesion_id"), pl.col("organ")))


def _non_target_aggs(numbers: bool, text: bool) -> dict[str, pl.Expr]:
    aggs = {
        "n_nt": pl.len().cast(pl.Int64),
        "any_prog": pl.col("prog").any(),
        "any_ne": pl.col("ne").any(),
        "all_absent": pl.col("absent").all(),
        "prog_ids": joined(pl.col("lab"), pl.col("prog")),
        "ne_ids": joined(pl.col("lab"), pl.col("ne")),
        "present_ids": joined(pl.col("lab"), ~pl.col("absent") & ~pl.col("ne")),
        "nt_reapp_ids": joined(pl.col("lab"), pl.col("reapp")),
        "n_nt_reapp": pl.col("reapp").sum().cast(pl.Int64),
        "prog_organs": pl.col("organ").filter(pl.col("prog")),
        "nt_reapp_organs": pl.col("organ").filter(pl.col("reapp")),
    }
    return {k: e for k, e in aggs.items() if (text if k in _NT_TEXT else numbers)}


def non_target_agg(prep: Prepared, text: bool = True) -> pl.DataFrame:
    """Per follow-up non-target state (recist11.md §4.3 N1–N4; §4.7 for reappearance).
    ``text=False`` leaves out the lesion lists of the explanations (:data:`_NT_TEXT`)."""
    return _non_target_rows(prep.nt_obs.lazy()).group_by("_sd").agg(**_non_target_aggs(True, text)).collect()


def _with_texts(e: pl.DataFrame, prep: Prepared, tstm: float) -> pl.DataFrame:
    """The lesion lists of the explanations and recurrence sites, each computed only for the
    time points whose text or sites use it (a performance choice; every other row's output
    is the same whatever these columns hold): ``missing`` for T1/T2, target organs for
    T1/T4, the reappearance lists for R47, non-target progression lists for non-target PD,
    not-evaluated lists for non-target NE, present lists for NON-CR/NON-PD and for a PR from
    targets in CR (not T5/T6c)."""
    c = pl.col
    orr = c("overall_response")
    rule = c("tr_rule")
    r47 = c("r47").fill_null(False)
    ntr = c("non_target_response")
    wanted = [  # (time points, lesion rows, aggregations)
        (rule.is_in(["T1", "T2"]), "t", ["missing"]),
        (rule.is_in(["T1", "T4"]), "t", ["t_organs"]),
        (r47, "t", ["t_reapp_ids", "t_reapp_organs"]),
        (ntr == "PD", "nt", ["prog_ids", "prog_organs"]),
        (ntr == "NE", "nt", ["ne_ids"]),
        ((orr == _NONCR) | ((orr == "PR") & ~rule.is_in(["T5", "T6c"]).fill_null(False)), "nt", ["present_ids"]),
        (r47, "nt", ["nt_reapp_ids", "nt_reapp_organs"]),
    ]
    aggs = {"t": _target_aggs(False, True), "nt": _non_target_aggs(False, True)}
    # The wanted-flags of each lesion row's time point are looked up once per lesion frame
    # (one join on the narrow ``_sd`` column, rows kept in order) and each query filters on
    # its flag, instead of one semi join of the whole lesion frame per query.
    flags = [f"_w{i}" for i in range(len(wanted))]
    keys = e.select("_sd", *[mask.fill_null(False).alias(f) for f, (mask, _, _) in zip(flags, wanted)])
    keys = keys.filter(pl.any_horizontal(flags))
    obs = {"t": prep.target_obs, "nt": prep.nt_obs}
    used = {src: [f for f, (_, s, _) in zip(flags, wanted) if s == src] for src in obs}
    # (the eager filter to the flagged rows also gives the frame fresh, equally chunked
    # columns: lazy string expressions on the hstacked frame itself panicked in polars)
    flagged = {
        src: frame.hstack(
            frame.select("_sd").join(keys.select("_sd", *used[src]), on="_sd", how="left", maintain_order="left").drop("_sd")
        )
        .filter(pl.any_horizontal(used[src]).fill_null(False))
        .lazy()
        for src, frame in obs.items()
    }
    rows = {"t": _target_rows(flagged["t"], tstm), "nt": _non_target_rows(flagged["nt"])}
    queries = [
        rows[src].filter(pl.col(f).fill_null(False)).group_by("_sd").agg(**{k: aggs[src][k] for k in names})
        for f, (_, src, names) in zip(flags, wanted)
    ]
    # attach the parts by joins on the narrow key column, not on the wide frame
    at = e.select("_sd")
    cols = [at.join(part, on="_sd", how="left", maintain_order="left").drop("_sd") for part in pl.collect_all(queries)]
    e = e.hstack([col for part in cols for col in part.get_columns()])
    return e.with_columns(pl.col("t_organs", "t_reapp_organs", "prog_organs", "nt_reapp_organs").fill_null(_EMPTY))


def new_lesion_agg(prep: Prepared) -> pl.DataFrame:
    """Per follow-up new-lesion state (recist11.md §4.6): unequivocal ones, equivocal ones
    (pending), and the back-dated progression date (first equivocal sighting)."""
    kind = pl.col("kind")
    uneq = kind == "unequivocal"
    eq = kind == "equivocal"
    return (
        prep.new_obs.with_columns(lab=label(pl.col("lesion_id"), pl.col("organ")))
        .group_by("_sd")
        .agg(
            nl=uneq.any(),
            nl_eq=eq.any(),
            nl_ids=joined(pl.col("lab"), uneq),
            eq_ids=joined(pl.col("lab"), eq),
            backdate=pl.col("first_equivocal").filter(uneq & (pl.col("first_equivocal") < pl.col("date"))).min(),
            nl_organs=pl.col("organ").filter(uneq),
        )
    )


def _frame(
    prep: Prepared, options: RecistOptions, labs: pl.DataFrame | None, seg_t: pl.DataFrame | None = None
) -> pl.DataFrame:
    """One row per follow-up, sorted by segment and date, with the per-segment and
    per-time-point aggregates (joined on the integer keys ``_g`` / ``_sd``).  Eager: one
    lazy query with order-keeping joins measured ~50 % more CPU."""
    tstm = options.tstm_default_mm
    if seg_t is None:
        seg_t = _segment_targets(prep, tstm)
    # followups are sorted by (_g, _sd) = KEY order (codes follow the strings); each part is
    # joined to the narrow key column in that order and its columns attached, so the wide
    # frame is neither re-gathered per join nor re-sorted
    e = prep.followups.select(*KEY, "reference_start", "baseline_date", "end_date", "_sid", "_sd", "_g")
    parts = [
        ("_g", seg_t),
        ("_sd", _target_agg(prep, tstm, text=False)),
        ("_sd", non_target_agg(prep, text=False)),
        ("_sd", new_lesion_agg(prep)),
        ("_g", prep.b0.select("_g", "b0")),
    ]
    attached = [e.select(k).join(part, on=k, how="left", maintain_order="left").drop(k) for k, part in parts]
    # (rechunked: the lazy queries of the later stages are given equally chunked columns)
    e = e.hstack([col for part in attached for col in part.get_columns()]).rechunk()
    mk = _markers(prep, labs, options)
    if mk is not None:
        e = e.join(mk, on=KEY, how="left", maintain_order="left")
    else:
        e = e.with_columns(
            mk_elev=pl.lit(None, dtype=pl.Int64), mk_bad=pl.lit(None, dtype=pl.Int64), mk_text=pl.lit(None, dtype=pl.String)
        )
    return e.with_columns(
        pl.col("n_targets", "n_usable", "n_nt", "n_nt_reapp", "n_reapp_nodal", "n_reapp_nonnodal", "mk_elev", "mk_bad").fill_null(0),
        pl.col("b0", "nl", "nl_eq", "any_prog", "any_ne", "has_nodal").fill_null(False),
        pl.col("all_absent").fill_null(True),
        pl.col("nl_organs").fill_null(_EMPTY),
    )


def _with_target_response(e: pl.DataFrame) -> pl.DataFrame:
    """Nadir, percent changes and the target response T1–T6 (recist11.md §3.4–3.5, §4.1)."""
    e = materialise(e)
    has_t = pl.col("n_targets") > 0
    complete = has_t & (pl.col("n_usable") == pl.col("n_targets"))
    # nadir(t): min of baseline and the complete earlier follow-ups of the segment (§3.4)
    vc = pl.when(complete & pl.col("baseline_value").is_not_null()).then(pl.col("value"))
    prev_min = vc.fill_null(INF).cum_min().shift(1, fill_value=INF).over("_g")
    e = e.with_columns(complete=complete, prev_min=prev_min).with_columns(
        nadir_value=pl.when(pl.col("baseline_value").is_not_null()).then(
            pl.min_horizontal(pl.col("baseline_value"), pl.col("prev_min"))
        )
    )
    e = e.with_columns(
        change_from_baseline_pct=pct_change(pl.col("value"), pl.col("baseline_value")),
        change_from_nadir_pct=pct_change(pl.col("value"), pl.col("nadir_value")),
        change_from_nadir_abs=pl.col("value") - pl.col("nadir_value"),
    )
    pd_cond = ((pl.col("change_from_nadir_pct") >= 20) & (pl.col("change_from_nadir_abs") >= 5)).fill_null(False)
    pr_cond = (pl.col("change_from_baseline_pct") <= -30).fill_null(False)
    complete = pl.col("complete")
    target_response, tr_rule = _first_rule(
        [
            (pl.col("b0"), "NE", "B0"),
            (~has_t, "NA", None),
            (pl.col("baseline_value").is_null(), "NE", "B1"),
            (~complete & pd_cond, "PD", "T1"),
            (~complete, "NE", "T2"),
            (pl.col("cr_ok"), "CR", "T3"),
            (pd_cond, "PD", "T4"),
            (pr_cond, "PR", "T5"),
        ],
        ("SD", "T6"),
    )
    return e.with_columns(target_response=target_response, tr_rule=tr_rule)


def _first_rule(rules: list[tuple[pl.Expr, str, str | None]], otherwise: tuple[str, str]) -> tuple[pl.Expr, pl.Expr]:
    """(response, rule id) of the first rule whose condition holds, as two when/then chains
    of literals (cheaper than one "response|rule" text split afterwards)."""
    cond, resp, rule = rules[0]
    r = pl.when(cond).then(pl.lit(resp))
    k = pl.when(cond).then(pl.lit(rule, dtype=pl.String))
    for cond, resp, rule in rules[1:]:
        r = r.when(cond).then(pl.lit(resp))
        k = k.when(cond).then(pl.lit(rule, dtype=pl.String))
    return r.otherwise(pl.lit(otherwise[0])), k.otherwise(pl.lit(otherwise[1]))


def _with_non_target_response(e: pl.DataFrame) -> pl.DataFrame:
    """Non-target response N0–N4 (recist11.md §4.3) and the new-lesion flag (§4.6)."""
    non_target_response, ntr_rule = _first_rule(
        [
            ((pl.col("n_nt") == 0) & (pl.col("mk_elev") == 0), "NA", "N0"),
            (pl.col("any_prog"), "PD", "N1"),
            (pl.col("any_ne"), "NE", "N2"),
            (pl.col("all_absent") & (pl.col("mk_bad") == 0), "CR", "N3"),
        ],
        (_NONCR, "N4"),
    )
    return e.with_columns(
        non_target_response=non_target_response,
        ntr_rule=ntr_rule,
        nl_rule=pl.when(pl.col("nl")).then(pl.lit("NL1")).when(pl.col("nl_eq")).then(pl.lit("NLeq")).otherwise(pl.lit("NL0")),
        new_lesion=pl.col("nl"),
    )


def _with_overall(e: pl.DataFrame, options: RecistOptions) -> pl.DataFrame:
    """Tables 4/5 (§4.4–4.5), reappearance after CR (§4.7) and continued PR (§4.1 note)."""
    tr, ntr, nl = pl.col("target_response"), pl.col("non_target_response"), pl.col("nl")
    tab4 = (pl.col("n_targets") > 0) | pl.col("b0")
    or4 = (
        pl.when((tr == "PD") | (ntr == "PD") | nl).then(pl.lit("PD"))
        .when((tr == "CR") & ntr.is_in(["CR", "NA"])).then(pl.lit("CR"))
        .when(tr == "CR").then(pl.lit("PR"))
        .when(tr == "PR").then(pl.lit("PR"))
        .when(tr == "SD").then(pl.lit("SD"))
        .otherwise(pl.lit("NE"))
    )
    or5 = (
        pl.when((ntr == "PD") | nl).then(pl.lit("PD"))
        .when(ntr == "CR").then(pl.lit("CR"))
        .when(ntr == _NONCR).then(pl.lit(_NONCR))
        .otherwise(pl.lit("NE"))
    )
    e = e.with_columns(
        tab=pl.when(tab4).then(pl.lit("TAB4")).otherwise(pl.lit("TAB5")),
        or_table=pl.when(tab4).then(or4).otherwise(or5),
    )
    # §4.7: "previous evaluated time point" = the previous row of the segment whose OR is not NE.
    # (e is sorted by segment and date: the seg_* windows of ._lesions apply)
    # A row that Table 4/5 call NE but that §4.7 turns into PD is evaluated (PD), so it ends
    # the CR for the rows after it: two passes, the second with those rows counted as PD.
    reappear = (
        (pl.col("n_reapp_nodal") + pl.col("n_reapp_nonnodal") > 0) | (pl.col("n_nt_reapp") > 0) | pl.col("nl")
    )
    policy = options.reappearance_after_cr
    fired_ne = pl.lit(False)
    for _pass in range(2):
        or_eval = (
            pl.when(pl.col("or_table") != "NE").then(pl.col("or_table")).when(fired_ne).then(pl.lit("PD"))
        )
        e = e.with_columns(or_eval=or_eval).with_columns(
            prev_or=seg_prev_evaluated(pl.col("or_eval")),
            prev_date=seg_prev_evaluated(pl.when(pl.col("or_eval").is_not_null()).then(pl.col("date"))),
        )
        is_cr = pl.col("or_eval") == "CR"
        e = e.with_columns(
            run_start=pl.when(is_cr & (pl.col("prev_or").fill_null("") != "CR")).then(pl.col("date"))
        ).with_columns(run_start=seg_forward_fill(pl.col("run_start")))
        e = e.with_columns(
            cr_conf_here=pl.when(pl.col("or_eval").is_not_null()).then(
                is_cr & ((pl.col("date") - pl.col("run_start")).dt.total_days() >= options.confirm_days).fill_null(False)
            )
        ).with_columns(prev_cr_conf=seg_prev_evaluated(pl.col("cr_conf_here")).fill_null(False))
        prev_cr = (pl.col("prev_or") == "CR").fill_null(False)
        if policy == "pd_if_prior_cr":
            r47 = prev_cr & reappear
        elif policy == "pd_if_prior_confirmed_cr":
            r47 = prev_cr & reappear & pl.col("prev_cr_conf")
        else:  # reclassify_prior_as_pr: no forced PD
            r47 = pl.lit(False)
        e = e.with_columns(_fired_ne=(pl.col("or_table") == "NE") & r47)
        fired_ne = pl.col("_fired_ne")
    single_node = (
        prev_cr
        & (pl.col("n_reapp_nodal") == 1)
        & (pl.col("n_reapp_nonnodal") == 0)
        & (pl.col("n_nt_reapp") == 0)
        & ~pl.col("nl")
    )
    reclass = prev_cr & reappear if policy == "reclassify_prior_as_pr" else pl.lit(False)
    e = e.with_columns(
        # R47 is listed only when it decided: the tables did not already give PD
        r47=r47 & (pl.col("or_table") != "PD").fill_null(True),
        w_single=pl.when(single_node).then(pl.lit("SINGLE_NODE_REAPPEARANCE")),
        w_reclass=pl.when(reclass).then(pl.lit("PRIOR_CR_RECLASSIFIED_AS_PR")),
    ).with_columns(
        overall_response=pl.when(pl.col("r47")).then(pl.lit("PD")).otherwise(pl.col("or_table"))
    )
    if options.continued_pr_after_confirmation:
        e = _continued_pr(e, options.confirm_days)
    return e


def _continued_pr(e: pl.DataFrame, confirm_days: int) -> pl.DataFrame:
    """§4.1 note (EORTC FAQ "continued PR"): T6 → PR (rule T6c) after a confirmed PR."""
    orr = pl.col("overall_response")
    e = e.with_columns(
        epoch=(orr == "PD").cast(pl.Int64).cum_sum().shift(1, fill_value=0).over("_g"),
        pr_date=pl.when(orr == "PR").then(pl.col("date")),
    )
    grp = ["_g", "epoch"]
    e = e.with_columns(first_pr=pl.col("pr_date").cum_min().forward_fill().over(grp))
    conf_here = (
        orr.is_in(["PR", "CR"]) & ((pl.col("date") - pl.col("first_pr")).dt.total_days() >= confirm_days)
    ).fill_null(False)
    e = e.with_columns(conf_here=conf_here).with_columns(
        conf_before=pl.col("conf_here").cast(pl.Int64).cum_max().shift(1, fill_value=0).over(grp) > 0
    )
    t6c = (pl.col("tr_rule") == "T6") & (orr == "SD") & pl.col("conf_before")
    return e.with_columns(
        target_response=pl.when(t6c).then(pl.lit("PR")).otherwise(pl.col("target_response")),
        tr_rule=pl.when(t6c).then(pl.lit("T6c")).otherwise(pl.col("tr_rule")),
        overall_response=pl.when(t6c).then(pl.lit("PR")).otherwise(orr),
    )


def _explanation_branches() -> tuple[list[tuple[str | None, pl.Expr]], pl.Expr]:
    """The explanation text of each overall response (``None``: any other), and the
    pending-new-lesion suffix.  Note "Explanation"; numbers rounded to 1 decimal."""
    c = pl.col
    v, b, n = num(c("value")), num(c("baseline_value")), num(c("nadir_value"))
    pb, pn, an = signed(c("change_from_baseline_pct")), signed(c("change_from_nadir_pct")), signed(c("change_from_nadir_abs"))
    orr, rule = c("overall_response"), c("tr_rule")
    nl_txt = pl.concat_str(
        pl.format("new lesion {}", c("nl_ids")),
        pl.when(c("backdate").is_not_null()).then(pl.format(" (first seen equivocal on {})", c("backdate"))),
        ignore_nulls=True,
    )
    reapp_ids = pl.concat_str(
        pl.when(c("t_reapp_ids") != "").then(c("t_reapp_ids")),
        pl.when(c("nt_reapp_ids") != "").then(c("nt_reapp_ids")),
        pl.when(c("nl")).then(c("nl_ids")),
        separator=", ",
        ignore_nulls=True,
    )
    pd_txt = pl.concat_str(
        pl.lit("PD: "),
        pl.concat_str(
            pl.when(c("nl")).then(nl_txt),
            pl.when(c("non_target_response") == "PD").then(pl.format("unequivocal progression of non-target {}", c("prog_ids"))),
            pl.when(rule == "T4").then(
                pl.format("sum {} mm is {}% ({} mm) above nadir {} mm (>= 20% and >= 5 mm)", v, pn, an, n)
            ),
            pl.when(rule == "T1").then(
                pl.format(
                    "sum of measured targets {} mm is {}% ({} mm) above nadir {} mm (>= 20% and >= 5 mm) although target {} not evaluated",
                    v, pn, an, n, c("missing"),
                )
            ),
            pl.when(c("r47")).then(pl.format("disease reappeared after CR on {}: {}", c("prev_date"), reapp_ids)),
            separator="; ",
            ignore_nulls=True,
        ),
    )
    markers_ok = pl.when(c("mk_elev") > 0).then(pl.lit("; markers <= ULN")).otherwise(pl.lit(""))
    nt_part = pl.when(c("n_nt") > 0).then(pl.lit("non-targets absent")).otherwise(pl.lit("no non-target lesions"))
    cr_t4 = pl.concat_str(
        pl.lit("CR: all non-nodal targets 0 mm"),
        pl.when(c("has_nodal")).then(pl.format(", nodes < 10 mm (largest {} mm)", num(c("nodal_max")))).otherwise(pl.lit("")),
        pl.lit("; "),
        nt_part,
        markers_ok,
    )
    cr_t5 = pl.concat_str(pl.lit("CR: non-targets absent"), markers_ok)
    non_cr_reason = pl.concat_str(
        pl.when(c("present_ids") != "").then(pl.format("non-target {} present", c("present_ids"))),
        pl.when(c("mk_bad") > 0).then(c("mk_text")),
        separator="; ",
        ignore_nulls=True,
    )
    nt_not_cr = (
        pl.when(c("non_target_response") == "NE")
        .then(pl.format("non-target {} not evaluated", c("ne_ids")))
        .otherwise(non_cr_reason)
    )
    pr_txt = (
        pl.when(rule == "T5").then(pl.format("PR: sum {} mm is {}% from baseline {} mm (>= 30% decrease); nadir {} mm", v, pb, b, n))
        .when(rule == "T6c").then(
            pl.format("PR: sum {} mm is {}% from baseline {} mm; PR continued after a confirmed PR (no PD); nadir {} mm", v, pb, b, n)
        )
        .otherwise(pl.concat_str(pl.lit("PR: targets in CR (all non-nodal 0 mm, nodes < 10 mm) but "), nt_not_cr))
    )
    sd_txt = pl.format(
        "SD: sum {} mm is {}% from baseline {} mm (not <= -30%) and {}% ({} mm) from nadir {} mm (not >= 20% and >= 5 mm)",
        v, pb, b, pn, an, n,
    )
    ne_txt = (
        pl.when(rule == "B0").then(pl.lit("NE: target lesions recorded but no baseline scan"))
        .when(rule == "B1").then(pl.format("NE: baseline incomplete (target {} not measured at baseline)", c("base_missing")))
        .when(rule == "T2").then(pl.format("NE: target {} not evaluated", c("missing")))
        .when(c("non_target_response") == "NE").then(pl.format("NE: non-target {} not evaluated", c("ne_ids")))
        .otherwise(pl.lit("NE: no target or non-target disease recorded"))
    )
    branches = [
        ("PD", pd_txt),
        ("CR", pl.when(c("tab") == "TAB4").then(cr_t4).otherwise(cr_t5)),
        ("PR", pr_txt),
        ("SD", sd_txt),
        (_NONCR, pl.concat_str(pl.lit("NON-CR/NON-PD: "), non_cr_reason)),
        (None, ne_txt),  # every other response (NE)
    ]
    pending = pl.when(c("nl_eq")).then(pl.format("; equivocal new lesion {} pending", c("eq_ids"))).otherwise(pl.lit(""))
    return branches, pending


def _explanation() -> pl.Expr:
    """One line per time point (note "Explanation"); numbers rounded to 1 decimal."""
    branches, pending = _explanation_branches()
    orr = pl.col("overall_response")
    main = pl.when(orr == branches[0][0]).then(branches[0][1])
    for code, text in branches[1:-1]:
        main = main.when(orr == code).then(text)
    return pl.concat_str(main.otherwise(branches[-1][1]), pending)


def _outputs(e: pl.DataFrame) -> pl.DataFrame:
    c = pl.col
    is_pd = c("overall_response") == "PD"
    sum_rule = c("tr_rule").is_in(["T1", "T4"]).fill_null(False)
    # recurrence sites (progression events only): the organs of the lists below, as
    # `sites()` would give them, from one long (row, organ) frame rather than list operations
    site_lists = [
        (c("nl"), "nl_organs"),
        (c("non_target_response") == "PD", "prog_organs"),
        (sum_rule, "t_organs"),
        (c("r47"), "t_reapp_organs"),
        (c("r47"), "nt_reapp_organs"),
    ]
    # recist11.md §5.4 (library table, last row): a PR after an earlier CR of the line is
    # flagged CR_THEN_PR (admiralonco's check_crpr: CR records followed by PR)
    cr_before = (c("overall_response") == "CR").fill_null(False).cast(pl.Int8).cum_max().shift(1, fill_value=0)
    # (the follow-ups are in date order within each segment ``_g``, as for prev_min above)
    w_crpr = pl.when((c("overall_response") == "PR").fill_null(False) & (cr_before.over("_g") == 1)).then(
        pl.lit("CR_THEN_PR")
    )
    # ';'-joined in alphabetical order
    warnings = pl.concat_str(w_crpr, c("w_reclass"), c("w_single"), separator=";", ignore_nulls=True)
    # The texts are computed per overall response on that response's rows only (each row
    # gets exactly the branch `_explanation()` would pick), lazily so that each branch reads
    # only the columns it uses; the (row index, text) pieces are put back in row order and
    # attached as columns.  No row evaluates the other responses' texts, and the wide frame
    # itself is never filtered, concatenated or re-sorted.
    orr = c("overall_response")
    branches, pending = _explanation_branches()
    codes = [code for code, _ in branches if code is not None]
    indexed = e.lazy().with_row_index("__i__")
    parts = []
    for code, text in branches:
        mask = (orr == code) if code is not None else ~orr.is_in(codes).fill_null(False)
        parts.append(indexed.filter(mask.fill_null(False)).select("__i__", explanation=pl.concat_str(text, pending)))
    explanation = pl.concat(parts).sort("__i__").collect().get_column("explanation")
    # recurrence sites of progression events only
    pd_rows = indexed.filter(is_pd.fill_null(False))
    organs = [pd_rows.filter(m.fill_null(False)).select("__i__", organ=c(col)).explode("organ") for m, col in site_lists]
    pd_sites = (
        pl.concat(organs)
        .drop_nulls("organ")
        .unique()
        .sort("__i__", "organ")
        .group_by("__i__", maintain_order=True)
        .agg(recurrence_sites=c("organ").str.join(";"))
        .with_columns(recurrence_sites=pl.when(c("recurrence_sites") != "").then(c("recurrence_sites")))
        .collect()
    )
    recurrence = pl.Series("recurrence_sites", [None] * e.height, dtype=pl.String).scatter(
        pd_sites.get_column("__i__"), pd_sites.get_column("recurrence_sites")
    )
    return e.with_columns(
        value_complete=pl.when(c("n_targets") > 0).then(c("complete")),
        canonical_level=c("overall_response").replace_strict(CANONICAL, default=None),
        is_progression_event=is_pd,
        progression_event_date=pl.when(is_pd).then(
            pl.when(c("nl") & c("backdate").is_not_null()).then(c("backdate")).otherwise(c("date"))
        ),
        pending_progression=c("nl_eq"),
        recurrence_sites=recurrence,
        rule_ids=pl.concat_str(
            c("tr_rule"), c("ntr_rule"), c("nl_rule"), pl.when(c("r47")).then(pl.lit("R47")), c("tab"),
            separator=",", ignore_nulls=True,
        ),
        warnings=pl.when(warnings == "").then(None).otherwise(warnings),
        explanation=explanation,
    )


def _baseline_rows(prep: Prepared, options: RecistOptions, seg_t: pl.DataFrame | None = None) -> pl.DataFrame:
    """Baseline rows (note "Input"): null responses, the baseline sum in the text."""
    c = pl.col
    if seg_t is None:
        seg_t = _segment_targets(prep, options.tstm_default_mm)
    br = (
        prep.baseline_rows.join(seg_t, on="_g", how="left")
        .join(prep.nt_fixed_count, on=SEG, how="left")
        .with_columns(c("n_targets", "n_nt_fixed").fill_null(0))
    )
    plural = pl.when(c("n_targets") == 1).then(pl.lit("target lesion")).otherwise(pl.lit("target lesions"))
    expl = (
        pl.when((c("n_targets") > 0) & c("baseline_value").is_not_null())
        .then(pl.format("Baseline: sum of diameters {} mm ({} {})", num(c("baseline_value")), c("n_targets"), plural))
        .when(c("n_targets") > 0)
        .then(pl.format("Baseline: sum of diameters incomplete (target {} not measured)", c("base_missing")))
        .otherwise(pl.format("Baseline: no target lesions ({} non-target lesions)", c("n_nt_fixed")))
    )
    too_early = (c("reference_start") - c("baseline_date")).dt.total_days() > options.baseline_window_days
    return br.with_columns(
        value=c("baseline_value"),
        explanation=expl,
        warnings=pl.when(too_early).then(pl.lit("BASELINE_TOO_EARLY")),
    )


def evaluate(
    lesions: pl.DataFrame,
    segments: pl.DataFrame,
    options: RecistOptions = RecistOptions(),
    labs: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """RECIST 1.1 time-point responses for every subject of ``segments``.

    One row per (subject_id, date) of every lesion date of those subjects, with the columns
    and dtypes of :data:`remission.schema.TIMEPOINTS`, sorted by subject and date.  Baseline
    rows and rows outside every segment have null responses (note "Input").
    """
    prep = prepare(lesions, segments)
    seg_t = _segment_targets(prep, options.tstm_default_mm)
    e = _frame(prep, options, labs, seg_t)
    e = _with_target_response(e)
    e = _with_non_target_response(e)
    e = _with_overall(e, options)
    e = _with_texts(e, prep, options.tstm_default_mm)
    e = _outputs(e)
    return finish(e, prep, _baseline_rows(prep, options, seg_t), CODE, TIMEPOINTS)

def backdated_timepoints(timepoints: pl.DataFrame) -> pl.DataFrame:
    """The time points for the best response, after re-derivation (recist11.md §4.6 / §6.13,
    remission_model.md §6.2 step 2): a PD whose ``progression_event_date`` is earlier than
    its row (an equivocal new lesion confirmed later) makes the earlier time points of the
    line dated on or after that event date count as PD, so the best-response window ends
    there (§5.1) and they confirm nothing.  The rows of the assessments table are not
    rewritten (spec/tables.md).  Time points without ``progression_event_date`` (ADaM's
    ``subject_id, date, response``) are returned as they are."""
    c = pl.col
    if "progression_event_date" not in timepoints.columns or "overall_response" not in timepoints.columns:
        return timepoints
    tp = timepoints.filter(c("overall_response").is_not_null())
    key = ["subject_id", "line"] if "line" in tp.columns else ["subject_id"]
    back = (
        tp.filter((c("overall_response") == "PD") & (c("progression_event_date") < c("date")))
        .group_by(key)
        .agg(bd=c("progression_event_date").min(), seen=c("date").min())
    )
    return (
        tp.join(back, on=key, how="left")
        .with_columns(
            response=pl.when((c("date") >= c("bd")) & (c("date") < c("seen"))).then(pl.lit("PD")).otherwise(c("overall_response"))
        )
        .select(*key, "date", "response")
        .sort("subject_id", "date")
    )


def best_response_rule(o: RecistOptions) -> BestResponseRule:
    """recist11.md §5: Table 6 confirmation, SD minimum duration from the reference start,
    on :func:`backdated_timepoints` (a PD back-dated to an equivocal new lesion ends the
    window at its event date)."""
    return BestResponseRule(
        order=ORDER,
        confirmation="recist",
        confirm_days=o.confirm_days,
        max_ne_between=o.max_ne_between,
        accept_sd_between=o.accept_sd_between,
        sd_min_days=o.sd_min_days,
        failed_cr_as_pr=o.failed_cr_as_pr,
        missing_as_ne=o.missing_as_ne,
        prepare=backdated_timepoints,
    )


# --------------------------------------------------------------------------------------
# Input checks: target selection (recist11.md §3.2-3.3)
# --------------------------------------------------------------------------------------

#: recist11.md §3.2: at most five target lesions in all, two per organ
MAX_TARGETS = 5
MAX_TARGETS_PER_ORGAN = 2
#: recist11.md §3.2: a pathological lymph node is a target only with a short axis >= 15 mm
NODAL_TARGET_MIN_MM = 15.0


def organ_key(organ: pl.Expr, nodal: pl.Expr) -> pl.Expr:
    """Organ key for the per-organ target limit (recist11.md §3.2, EORTC RECIST FAQ).

    All lymph nodes count as one organ (``lymph_node``); paired organs count as one
    (a ``left``/``right`` prefix or suffix is removed).  Null when no organ is known for a
    non-nodal lesion.
    """
    o = organ.str.to_lowercase().str.strip_chars().str.replace_all(r"[\s\-]+", "_")
    o = o.str.replace(r"^(left|right)_", "").str.replace(r"_(left|right)$", "")
    o = pl.when(o.is_in(["lymph_nodes", "lymph_node", "node", "nodes"])).then(pl.lit("lymph_node")).otherwise(o)
    o = pl.when(o == "").then(None).otherwise(o)
    return pl.when(nodal.fill_null(False)).then(pl.lit("lymph_node")).otherwise(o)


def _error_rows(frame: pl.DataFrame, mask: pl.Expr, row: str, column: str, value: pl.Expr, expected: pl.Expr, code: str) -> pl.DataFrame:
    return frame.filter(mask.fill_null(False)).select(
        pl.col(row).cast(pl.Int64).alias("row"),
        pl.col("subject_id").cast(pl.String),
        pl.lit(column, pl.String).alias("column"),
        value.cast(pl.String).alias("value"),
        expected.cast(pl.String).alias("expected"),
        pl.lit(code, pl.String).alias("code"),
    )


def target_selection_checks(targets: pl.DataFrame) -> pl.DataFrame:
    """recist11.md §3.2-3.3 target selection, as input errors (``Criterion.checks``).

    ``targets``: one row per target lesion of this criterion's subjects (the
    :data:`~remission.criteria.base.TARGET_CHECK_COLUMNS` frame validation builds): its
    first target row ``row`` and date ``first_date``, ``organ``, ``nodal`` and its baseline
    diameter (``baseline_mm``, as written ``baseline_raw``, on row ``baseline_row``).
    Errors: a sixth target of a subject (``TOO_MANY_TARGETS``, counted in order of first
    appearance, then row), a third in one organ (``TOO_MANY_PER_ORGAN``; nodes are one
    organ, left/right of a paired organ are one), a nodal target with a baseline short axis
    below 15 mm (``NODAL_TARGET_BELOW_15MM``).  A target counts once per distinct
    ``lesion_id`` over all dates, so targets re-selected at a later line's baseline still
    count towards the same limits.  Returns error rows (row, subject_id, column, value,
    expected, code); the caller adds the file.
    """
    per = targets.sort(["subject_id", "first_date", "row"]).with_columns(
        (pl.int_range(pl.len()).over("subject_id") + 1).alias("__n"),
    )
    # organ_key once per distinct organ text (few), mapped back: same values, no regex per row
    organs_u = per.get_column("organ").drop_nulls().unique()
    keys_u = pl.DataFrame({"o": organs_u}, schema={"o": pl.String}).select(organ_key(pl.col("o"), pl.lit(False))).to_series()
    per = per.with_columns(
        pl.when(pl.col("nodal").fill_null(False))
        .then(pl.lit("lymph_node"))
        .otherwise(pl.col("organ").replace_strict(organs_u, keys_u, default=None, return_dtype=pl.String))
        .alias("__key")
    )
    too_many = _error_rows(
        per, pl.col("__n") > MAX_TARGETS, "row", "lesion_id", pl.col("lesion_id"),
        pl.format("at most {} target lesions per subject (recist11.md §3.2); this is target number {}",
                  pl.lit(MAX_TARGETS), pl.col("__n")),
        "TOO_MANY_TARGETS",
    )  # fmt: skip
    per_organ = per.filter(pl.col("__key").is_not_null()).with_columns(
        (pl.int_range(pl.len()).over(["subject_id", "__key"]) + 1).alias("__n_organ")
    )
    organ = _error_rows(
        per_organ, pl.col("__n_organ") > MAX_TARGETS_PER_ORGAN, "row", "organ", pl.col("organ"),
        pl.format("at most {} target lesions per organ (recist11.md §3.2); this is target number {} in organ {}",
                  pl.lit(MAX_TARGETS_PER_ORGAN), pl.col("__n_organ"), pl.col("__key")),
        "TOO_MANY_PER_ORGAN",
    )  # fmt: skip
    nodal = _error_rows(
        per.drop_nulls("baseline_row"), pl.col("nodal") & (pl.col("baseline_mm") < NODAL_TARGET_MIN_MM),
        "baseline_row", "diameter_mm", pl.col("baseline_raw"),
        pl.lit("a baseline short axis >= 15 mm for a nodal target (recist11.md §3.2)"),
        "NODAL_TARGET_BELOW_15MM",
    )  # fmt: skip
    return pl.concat([too_many, organ, nodal])


#: the codes :func:`target_selection_checks` gives (``Criterion.check_errors``)
TARGET_CHECK_ERRORS = {
    "TOO_MANY_TARGETS": "more than 5 target lesions (recist11.md §3.3)",
    "TOO_MANY_PER_ORGAN": "more than 2 target lesions in one organ (recist11.md §3.3)",
    "NODAL_TARGET_BELOW_15MM": "nodal target with baseline short axis < 15 mm (recist11.md §3.3)",
}


#: response codes a ``responses`` row may state (criteria/README.md order table, closed list)
RESPONSE_CODES = ("CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE")

CRITERION = Criterion(
    code=CODE,
    order=ORDER,
    canonical=dict(CANONICAL),
    options_model=RecistOptions,
    options_key="recist",
    run=lambda t, segs, o: evaluate(t["lesions"], segs, o, labs=t.get("labs")),
    best_response=best_response_rule,
    measurement="diameters",
    checks=target_selection_checks,
    check_errors=TARGET_CHECK_ERRORS,
    vocabulary=Vocabulary(response_codes=RESPONSE_CODES),
    presentation=Presentation(
        label="RECIST 1.1",
        plain_name="RECIST",
        introduction="RECIST is the standard set of rules for judging tumour size on scans.",
        quantity_words="tumours",
        value_label="Sum of target diameters (mm)",
        pd_threshold_pct=20.0,
        response_threshold_pct=-30.0,
        change_caption="Sum of target lesion diameters",
        pd_threshold_words="progression: +20% (and 5 mm) from the smallest sum (§4.1 T4)",
        response_threshold_words="partial response: -30% from baseline (§4.1 T5)",
        normal_nodes_in_complete=True,
        evidence=("imaging",),
    ),
)

