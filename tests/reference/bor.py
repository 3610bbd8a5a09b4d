"""Plain-Python, one-subject reference of the best overall response (recist11.md §5; who.md §5).

Test-only: :func:`best_response_reference` is written step by step from the spec text; the
property tests (``tests/test_bor.py``) prove :func:`remission.timeline.bor.best_overall_response`
(the vectorised engine, the only code that produces outputs and their ``bor_rule`` text)
equal to it on every input.  The choices where the spec is open are those listed in the
docstring of :mod:`remission.timeline.bor`.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from remission.timeline.bor import (
    _NOT_ASSESSED,
    _RANK,
    _SEVERITY,
    CR,
    MISSING,
    NE,
    NONCRPD,
    PD,
    PR,
    RESPONSE_CODES,
    SD,
    _check_options,
)

__all__ = ["best_response_reference"]


def best_response_reference(
    rows: list[tuple[dt.date, str | None]],
    reference_start: dt.date | None,
    *,
    confirm: bool,
    confirm_days: int = 28,
    max_ne_between: int = 1,
    accept_sd_between: bool = False,
    sd_min_days: int = 42,
    missing_as_ne: bool = False,
    cutoff_date: dt.date | None = None,
    failed_cr_as_pr: bool = True,
    sd_label: Literal["SD", "NC"] = "SD",
) -> tuple[str, dt.date | None, str]:
    """BOR of one subject, written step by step from recist11.md §5.

    ``rows`` are ``(date, response)`` pairs in any order; the options are those of
    :func:`remission.timeline.bor.best_overall_response` (``cutoff_date`` is this subject's cutoff). Returns
    ``(bor, bor_date, bor_rule)``.
    """
    _check_options(confirm_days, max_ne_between, sd_min_days, sd_label)

    def show(cat: str) -> str:
        return sd_label if cat == SD else cat

    def missing(text: str) -> tuple[str, None, str]:
        if missing_as_ne:
            return NE, None, text + " (reported as NE: missing_as_ne)"
        return MISSING, None, text

    # Validate and normalise the codes (unknown codes are an error, not dropped).
    cleaned: list[tuple[dt.date, str]] = []
    for date, code in rows:
        if code is None or code in _NOT_ASSESSED:
            continue
        if code not in RESPONSE_CODES:
            raise ValueError(f"unknown response code {code!r}; expected one of {sorted(RESPONSE_CODES)}")
        if date is None:
            raise ValueError("time point without a date")
        cleaned.append((date, RESPONSE_CODES[code]))

    if reference_start is None:
        return missing("MISSING: no reference start date")

    # §5.1 window: on/after the reference start, before the new-therapy cutoff.
    in_window = [
        (d, c) for d, c in cleaned if d >= reference_start and (cutoff_date is None or d < cutoff_date)
    ]
    # §5.1 same-date duplicates: keep the worst evaluable, NE only if alone.
    by_date: dict[dt.date, str] = {}
    for d, c in in_window:
        if d not in by_date or _SEVERITY[c] < _SEVERITY[by_date[d]]:
            by_date[d] = c
    seq = sorted(by_date.items())
    # §5.1: only up to and including the first PD.
    for k, (_, c) in enumerate(seq):
        if c == PD:
            seq = seq[: k + 1]
            break

    if not seq:
        text = f"MISSING: no assessed time point on or after reference start {reference_start}"
        if cutoff_date is not None:
            text += f" and before cutoff {cutoff_date}"
        return missing(text)

    def days(d: dt.date) -> int:
        return (d - reference_start).days

    def sd_ok(d: dt.date) -> bool:  # §5.2
        return days(d) >= sd_min_days

    def first_confirmer(i: int, targets: set[str]) -> int | None:
        """§5.4: the first later j with a target category and date_j - date_i >= confirm_days."""
        for j in range(i + 1, len(seq)):
            if seq[j][1] in targets and (seq[j][0] - seq[i][0]).days >= confirm_days:
                return j
        return None

    def confirmed_cr(i: int) -> int | None:  # §5.4 step 1
        j = first_confirmer(i, {CR})
        if j is None:
            return None
        between = [c for _, c in seq[i + 1 : j]]
        if all(c in (CR, NE) for c in between) and between.count(NE) <= max_ne_between:
            return j
        return None

    def confirmed_pr(i: int) -> int | None:  # §5.4 step 2
        j = first_confirmer(i, {CR, PR})
        if j is None:
            return None
        between = [c for _, c in seq[i + 1 : j]]
        if any(c not in (CR, PR, NE, SD) for c in between):
            return None
        if between.count(SD) > (1 if accept_sd_between else 0):
            return None
        if between.count(NE) > max_ne_between:
            return None
        seen_cr = False
        for _, c in seq[i + 1 : j + 1]:  # no PR after a CR inside (i, j]
            if c == CR:
                seen_cr = True
            elif c == PR and seen_cr:
                return None
        return j

    # Each time point's best category and its one-line reason; the BOR is the best
    # (rank, date) over all time points (§5.3 / §5.4 step 5: ties -> earliest date).
    candidates: list[tuple[int, dt.date, str, str]] = []
    for i, (d, c) in enumerate(seq):
        cat, text = None, None
        if c == CR:
            if not confirm:
                cat, text = CR, f"CR on {d} (confirmation not required)"
            else:
                j = confirmed_cr(i)
                if j is not None:
                    dj, cj = seq[j]
                    cat = CR
                    text = f"CR on {d} confirmed by CR on {dj} ({(dj - d).days} days >= {confirm_days})"
                elif failed_cr_as_pr:
                    j = confirmed_pr(i)
                    if j is not None:
                        dj, cj = seq[j]
                        cat = PR
                        text = (
                            f"CR on {d} (not confirmed as CR) confirmed as PR by {cj} on {dj} "
                            f"({(dj - d).days} days >= {confirm_days})"
                        )
        elif c == PR:
            if not confirm:
                cat, text = PR, f"PR on {d} (confirmation not required)"
            else:
                j = confirmed_pr(i)
                if j is not None:
                    dj, cj = seq[j]
                    cat = PR
                    text = f"PR on {d} confirmed by {cj} on {dj} ({(dj - d).days} days >= {confirm_days})"
        elif c == PD:
            cat, text = PD, f"PD on {d}; no time point qualifies for a better category"
        if cat is None:
            unconfirmed = "; response not confirmed" if c in (CR, PR) else ""
            if c in (CR, PR, SD, NONCRPD):
                level = NONCRPD if c == NONCRPD else SD
                if sd_ok(d):
                    cat = level
                    text = (
                        f"{show(c)} on {d} counts as {show(level)}: {days(d)} days after reference start "
                        f"{reference_start} (>= {sd_min_days}){unconfirmed}"
                    )
                else:
                    cat = NE
                    text = (
                        f"{show(c)} on {d} counts as NE: {days(d)} days after reference start "
                        f"{reference_start} (< {sd_min_days}){unconfirmed}"
                    )
            else:  # NE
                cat, text = NE, f"NE on {d}; no time point qualifies for a better category"
        candidates.append((_RANK[cat], d, cat, text))

    rank, d, cat, text = min(candidates, key=lambda t: (t[0], t[1]))
    return show(cat), d, text
