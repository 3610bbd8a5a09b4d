"""A small MADE-UP criterion, the worked example of docs/ARCHITECTURE.md "Adding a criterion".

It is not a clinical standard and is never registered outside the tests.  Its rules, on the
blood marker CEA (lab test ``cea``, ng/mL), per line of therapy:

* baseline: the last CEA on or before the line's baseline date;
* ``NORMAL`` (complete): CEA <= ``normal_max`` (5 ng/mL) when the baseline was above it;
* ``INCREASE`` (progression): >= ``increase_pct`` (25 %) above the nadir and at least
  ``increase_abs`` (5 ng/mL) above it;
* ``DECREASE`` (partial): >= ``decrease_pct`` (50 %) below the baseline;
* ``STABLE`` otherwise; no CEA that day: no time point.

Best response: the best category reached; a response (NORMAL, DECREASE) counts in the
confirmed best response when an as-good result follows at least ``confirm_days`` later.

Everything a criterion is lives in the one ``CRITERION`` declaration below: vocabulary,
options, the time-point function, its best-response rule, presentation facts.
"""

from __future__ import annotations

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from remission import schema as S
from remission.criteria._labs import assign_segments, baseline_values, earlier_min, finish, pct, wide_labs
from remission.criteria.base import BestResponseRule, Criterion, Presentation, Vocabulary

CODE = "toy_cea"
ORDER = ("NORMAL", "DECREASE", "STABLE", "INCREASE", "NE")
CANONICAL = {"NORMAL": S.COMPLETE, "DECREASE": S.PARTIAL, "STABLE": S.STABLE, "INCREASE": S.PROGRESSION, "NE": S.NOT_EVALUABLE}


class ToyCeaOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    normal_max: float = Field(5.0, gt=0, description="upper limit of normal, ng/mL")
    decrease_pct: float = Field(50.0, gt=0, description="fall from baseline for DECREASE, %")
    increase_pct: float = Field(25.0, gt=0, description="rise over the nadir for INCREASE, %")
    increase_abs: float = Field(5.0, ge=0, description="least rise over the nadir for INCREASE, ng/mL")
    confirm_days: int = Field(28, ge=1, description="days to an as-good result that confirms a response")


def dates(tables) -> pl.DataFrame:
    """The assessment dates: the days with a CEA result."""
    return tables["labs"].filter(pl.col("test") == "cea").select("subject_id", "date").unique()


def run(tables, segments: pl.DataFrame, o: ToyCeaOptions) -> pl.DataFrame:
    wide = wide_labs(tables["labs"], ["cea"])
    rows = assign_segments(wide, segments).filter(pl.col("role") == "followup")
    base = baseline_values(wide, segments, ["cea"])
    c = pl.col
    t = (
        rows.join(base, on=["subject_id", "line"], how="left")
        .sort("subject_id", "line", "date")
        .with_columns(nadir=pl.min_horizontal(c("base_cea"), earlier_min("cea")))
        .with_columns(from_base=pct(c("cea"), c("base_cea")), from_nadir=pct(c("cea"), c("nadir")))
    )
    increase = (c("from_nadir") >= o.increase_pct) & ((c("cea") - c("nadir")) >= o.increase_abs)
    response = (
        pl.when(c("cea").is_null() | c("base_cea").is_null()).then(pl.lit("NE"))
        .when(increase).then(pl.lit("INCREASE"))
        .when((c("cea") <= o.normal_max) & (c("base_cea") > o.normal_max)).then(pl.lit("NORMAL"))
        .when(c("from_base") <= -o.decrease_pct).then(pl.lit("DECREASE"))
        .otherwise(pl.lit("STABLE"))
    )  # fmt: skip
    t = t.with_columns(overall_response=response)
    rule = {"NE": "TC0", "INCREASE": "TC1", "NORMAL": "TC2", "DECREASE": "TC3", "STABLE": "TC4"}
    t = t.with_columns(
        baseline_value=c("base_cea"),
        value=c("cea"),
        nadir_value=c("nadir"),
        change_from_baseline_pct=c("from_base"),
        change_from_nadir_pct=c("from_nadir"),
        change_from_nadir_abs=c("cea") - c("nadir"),
        canonical_level=c("overall_response").replace_strict(CANONICAL, return_dtype=pl.String),
        is_progression_event=c("overall_response") == "INCREASE",
        progression_event_date=pl.when(c("overall_response") == "INCREASE").then(c("date")),
        rule_ids=c("overall_response").replace_strict(rule, return_dtype=pl.String),
        explanation=pl.format(
            "{}: CEA {} ng/mL, baseline {}, nadir {}", c("overall_response"), c("cea"), c("base_cea"), c("nadir")
        ),
    )
    return finish(t, CODE)


def best_response_rule(o: ToyCeaOptions) -> BestResponseRule:
    return BestResponseRule(order=ORDER, progression=("INCREASE",), confirmation="as_good_later", confirm_days=o.confirm_days)


CRITERION = Criterion(
    code=CODE,
    order=ORDER,
    canonical=CANONICAL,
    options_model=ToyCeaOptions,
    run=run,
    dates=dates,
    best_response=best_response_rule,
    vocabulary=Vocabulary(response_codes=ORDER, lab_tests=("cea",)),
    presentation=Presentation(
        label="Toy CEA",
        plain_name="the CEA blood test",
        introduction="This made-up example follows the blood marker CEA.",
        quantity_words="CEA",
        marker=True,
        value_label="CEA (ng/mL)",
        pd_threshold_pct=25.0,
        response_threshold_pct=-50.0,
        change_caption="CEA",
        evidence=("tumor_marker",),
    ),
)
