"""Plain-Python, one-subject reference of the iRECIST best overall response (irecist.md §5).

Test-only: the property tests (``tests/test_irecist.py``) prove
:func:`remission.criteria.irecist.best_overall_response` (the vectorised engine, the only
code that produces outputs and their ``bor_rule`` text) equal to :func:`ibor_reference`.
"""

from __future__ import annotations

import datetime as dt

from remission.criteria.irecist import (
    _CANON_CODE,
    _NOT_ASSESSED,
    _RANK,
    _SEV,
    ICPD,
    ICR,
    INON,
    IPR,
    ISD,
    IUPD,
    MISSING,
    NE,
)

__all__ = ["ibor_reference"]


def _code(code: str | None) -> str | None:
    """Canonical spelling of an iRECIST code; None for 'not assessed'; ValueError if unknown."""
    if code is None:
        return None
    key = " ".join(code.strip().upper().split())
    if key in _NOT_ASSESSED or key == "":
        return None
    if key not in _CANON_CODE:
        raise ValueError(f"unknown iRECIST response code {code!r}; expected one of {sorted(_SEV)}")
    return _CANON_CODE[key]


def ibor_reference(
    rows: list[tuple[dt.date, str | None]],
    reference_start: dt.date | None,
    *,
    confirm: bool,
    confirm_days: int = 28,
    max_ne_between: int = 1,
    accept_sd_between: bool = False,
    sd_min_days: int = 42,
    cutoff_date: dt.date | None = None,
    failed_cr_as_pr: bool = True,
    missing_as_ne: bool = False,
) -> tuple[str, dt.date | None, str]:
    """iBOR of one subject, step by step from irecist.md §5 (plain Python, for tests).

    Window: ``reference_start <= date < cutoff_date``, same-date worst kept, up to and
    including the first iCPD.  Candidates: iCR / iPR (confirmed as recist11.md §5.4 when
    ``confirm``; iUPD and iSD break a confirmation like PD/SD), iSD (iCR/iPR/iSD at least
    ``sd_min_days`` after the start), NON-iCR/NON-iUPD (likewise), iCPD (a confirmed block:
    an iUPD followed by iCPD with only iUPD/NE between, dated to that first iUPD; an iCPD
    without a preceding iUPD is dated to itself), iUPD (any iUPD), NE.  Best by
    ``ORDER``, ties by the earliest date.
    """
    clean: dict[dt.date, str] = {}
    for d, code in rows:
        cc = _code(code)
        if cc is None:
            continue
        if reference_start is None or d < reference_start or (cutoff_date is not None and d >= cutoff_date):
            continue
        if d not in clean or _SEV[cc] < _SEV[clean[d]]:
            clean[d] = cc
    seq = sorted(clean.items())
    for k, (_, cc) in enumerate(seq):
        if cc == ICPD:
            seq = seq[: k + 1]
            break
    if reference_start is None or not seq:
        text = "MISSING: no reference start date" if reference_start is None else f"MISSING: no assessed time point on or after reference start {reference_start}"
        return (NE, None, text + " (reported as NE: missing_as_ne)") if missing_as_ne else (MISSING, None, text)

    def first_j(i: int, ok: set[str]) -> int | None:
        for j in range(i + 1, len(seq)):
            if seq[j][1] in ok and (seq[j][0] - seq[i][0]).days >= confirm_days:
                return j
        return None

    def conf_cr(i: int) -> int | None:
        j = first_j(i, {ICR})
        if j is None:
            return None
        between = [cc for _, cc in seq[i + 1 : j]]
        return j if all(cc in (ICR, NE) for cc in between) and between.count(NE) <= max_ne_between else None

    def conf_pr(i: int) -> int | None:
        j = first_j(i, {ICR, IPR})
        if j is None:
            return None
        between = [cc for _, cc in seq[i + 1 : j]]
        allowed = {ICR, IPR, NE} | ({ISD} if accept_sd_between else set())
        if any(cc not in allowed for cc in between) or between.count(ISD) > 1 or between.count(NE) > max_ne_between:
            return None
        seen_cr = False
        for _, cc in seq[i + 1 : j + 1]:
            if cc == ICR:
                seen_cr = True
            elif cc == IPR and seen_cr:
                return None
        return j

    cands: list[tuple[int, dt.date, str, str]] = []
    for i, (d, cc) in enumerate(seq):
        days = (d - reference_start).days
        cat, text = None, None
        if cc == ICR:
            if not confirm:
                cat, text = ICR, f"iCR on {d}"
            elif (j := conf_cr(i)) is not None:
                cat, text = ICR, f"iCR on {d} confirmed by iCR on {seq[j][0]}"
            elif failed_cr_as_pr and (j := conf_pr(i)) is not None:
                cat, text = IPR, f"iCR on {d} confirmed as iPR by {seq[j][1]} on {seq[j][0]}"
        elif cc == IPR:
            if not confirm:
                cat, text = IPR, f"iPR on {d}"
            elif (j := conf_pr(i)) is not None:
                cat, text = IPR, f"iPR on {d} confirmed by {seq[j][1]} on {seq[j][0]}"
        elif cc == IUPD:
            nxt = next((c2 for _, c2 in seq[i + 1 :] if c2 not in (IUPD, NE)), None)
            if nxt == ICPD:
                cat, text = ICPD, f"iUPD on {d} confirmed as iCPD (progression dated {d})"
            else:
                cat, text = IUPD, f"iUPD on {d} never confirmed"
        elif cc == ICPD:
            prev = next((c2 for _, c2 in reversed(seq[:i]) if c2 != NE), None)
            if prev != IUPD:
                cat, text = ICPD, f"iCPD on {d} without a preceding iUPD"
        if cat is None and cc in (ICR, IPR, ISD, INON):
            level = INON if cc == INON else ISD
            if days >= sd_min_days:
                cat, text = level, f"{cc} on {d} counts as {level}: {days} days after reference start (>= {sd_min_days})"
            else:
                cat, text = NE, f"{cc} on {d} counts as NE: {days} days after reference start (< {sd_min_days})"
        if cat is None and cc == NE:
            cat, text = NE, f"NE on {d}"
        if cat is not None:
            cands.append((_RANK[cat], d, cat, text))
    if not cands:
        text = f"MISSING: no time point qualifies on or after {reference_start}"
        return (NE, None, text) if missing_as_ne else (MISSING, None, text)
    _, d, cat, text = min(cands, key=lambda t: (t[0], t[1]))
    return cat, d, text
