"""Plain-Python reference of the next follow-up date (rule in :mod:`remission.timeline.followup`).

Test-only: ``tests/test_episodes_properties.py`` proves
:func:`remission.timeline.followup.next_followup_due_expr` (the polars expression the
lifecycle uses, the only code that produces outputs) equal to :func:`next_followup_due`.
"""

from __future__ import annotations

import calendar
import datetime as dt

from remission.options import FollowupSchedule
from remission.timeline.followup import _until_months

__all__ = ["add_months", "interval_months", "next_followup_due"]


def add_months(d: dt.date, months: int) -> dt.date:
    """``d`` plus ``months`` calendar months, clamping the day to the month's end."""
    m0 = d.month - 1 + months
    year, month = d.year + m0 // 12, m0 % 12 + 1
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def interval_months(last_assessment: dt.date, remission_start: dt.date, schedule: FollowupSchedule) -> int:
    """Interval (months) of the schedule step that applies at ``last_assessment``."""
    for until_years, every in schedule.steps:
        um = _until_months(until_years)
        if um is None or last_assessment < add_months(remission_start, um):
            return every
    return schedule.steps[-1][1]


def next_followup_due(
    last_assessment: dt.date | None,
    remission_start: dt.date | None,
    *,
    in_remission: bool,
    deceased: bool = False,
    schedule: FollowupSchedule | None = None,
) -> dt.date | None:
    """The rule of the :mod:`remission.timeline.followup` docstring in plain Python; the
    reference of :func:`remission.timeline.followup.next_followup_due_expr`."""
    schedule = schedule or FollowupSchedule()
    if deceased or last_assessment is None:
        return None
    if in_remission and remission_start is not None:
        return add_months(last_assessment, interval_months(last_assessment, remission_start, schedule))
    return add_months(last_assessment, schedule.active_disease_every_months)
