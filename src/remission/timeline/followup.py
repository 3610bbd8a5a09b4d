"""When the next follow-up visit is due (issue "The core", item 5; options.FollowupSchedule).

Rule (documented choice; the criteria specs give no schedule):

* deceased, or never assessed -> no date (null);
* in remission (lifecycle state ``partial_remission``, ``complete_remission`` or
  ``long_term_remission``): the interval is the ``every_months`` of the first schedule step
  whose ``until_years`` has not yet been reached, where "years since the remission started"
  is measured from the start of the current remission episode to the date of the last
  assessment, in calendar years (``until_years`` is turned into whole calendar months,
  ``round(until_years * 12)``); default 3 months in the first 2 years, 6 months in years
  2-5, 12 months afterwards;
* otherwise (active disease, responding, progression, ...): every
  ``active_disease_every_months``.

The due date is the last assessment date plus the interval in calendar months; a day that
does not exist in the target month is clamped to the month's last day (31 Jan + 1 month =
28/29 Feb).
"""

from __future__ import annotations

import math

import polars as pl

from remission.options import FollowupSchedule


def _until_months(until_years: float) -> int | None:
    return None if math.isinf(until_years) else int(round(until_years * 12))


def next_followup_due_expr(
    last_assessment: pl.Expr,
    remission_start: pl.Expr,
    in_remission: pl.Expr,
    deceased: pl.Expr,
    schedule: FollowupSchedule | None = None,
) -> pl.Expr:
    """The rule of the module docstring as a polars expression (``offset_by`` clamps month
    ends); tests/reference/followup.py is its plain-Python reference."""
    schedule = schedule or FollowupSchedule()
    active = last_assessment.dt.offset_by(f"{schedule.active_disease_every_months}mo")
    chain = None
    for until_years, every in schedule.steps:
        um = _until_months(until_years)
        due = last_assessment.dt.offset_by(f"{every}mo")
        cond = pl.lit(True) if um is None else last_assessment < remission_start.dt.offset_by(f"{um}mo")
        chain = pl.when(cond).then(due) if chain is None else chain.when(cond).then(due)
    in_rem = chain.otherwise(last_assessment.dt.offset_by(f"{schedule.steps[-1][1]}mo"))
    return (
        pl.when(deceased.fill_null(False) | last_assessment.is_null())
        .then(pl.lit(None, dtype=pl.Date))
        .when(in_remission.fill_null(False) & remission_start.is_not_null())
        .then(in_rem)
        .otherwise(active)
    )
