"""Plain-Python, per-subject reference implementation of the imaging engine.

This module is the *reference* for ``docs/imaging_engine.md``: it evaluates one subject at a
time, one assessment date at a time, with one small pure function per rule of the note
(RECIST 1.1: ``T1``..``T6``, ``N0``..``N4``, ``NL``, ``R47``, Table 4, Table 5, ``B0``,
``B1``; WHO: ``W1``..``W6``).  It is written to be held beside the specifications
(``criteria/recist11.md`` §3–4 and ``criteria/who.md`` §3–4), not for speed: the vectorised
engines (:mod:`remission.criteria.recist11`, :mod:`remission.criteria.who`) are the hot
path and are compared with this module by property-based tests.

Public functions
----------------
* :func:`recist11_reference` (lesions, segments, options, labs) -> TIMEPOINTS frame
* :func:`who_reference` (lesions, segments, options) -> TIMEPOINTS frame

Both return one row per ``(subject_id, date)`` of every lesion date of the subjects listed
in ``segments``, sorted by ``subject_id, date``, with exactly the columns and dtypes of
:data:`remission.schema.TIMEPOINTS`.

Readings of the note where it is silent (each is also stated at the rule that uses it):

* R1  Rows outside every segment: "before baseline" when the date precedes the subject's
      first segment, else "outside every evaluation segment".  On such rows and on baseline
      rows the responses, ``new_lesion``, ``canonical_level`` are null and
      ``is_progression_event`` / ``pending_progression`` are ``False``.
* R2  ``value`` is null when no target has a usable value at t (rather than a sum of 0);
      when some targets are missing, ``value`` and the changes are those of the partial sum
      (the quantity rule T1 uses); ``value_complete`` (R2b) is then false (true when every
      target has a value, null without targets).  A baseline of 0 mm is treated like a nadir of 0
      (+inf / 0 %).
* R3  Rule ``B0`` (targets recorded but no baseline): a segment with a null
      ``baseline_date`` in which the subject has a target row at any evaluated date; every
      row of that segment is NE (choice 3 of the note, "NE throughout", even with a new
      lesion), with TR = NTR = NE, ``new_lesion`` null and ``rule_ids`` "B0".
* R4  Non-target states: ``progression`` -> progression; ``not_evaluated`` or no row ->
      not evaluated; ``absent``, or a nodal lesion with ``diameter_mm`` < 10 -> absent; a
      row with null status counts as absent when ``diameter_mm`` is 0, not evaluated when
      ``diameter_mm`` is null, else present; any other status (``present``, ``equivocal``,
      ``too_small``) -> present.
* R5  New lesions: ``too_small`` counts like ``present`` (the lesion is there, too small
      to measure; a nodal one without a diameter is below 10 mm and is not a lesion);
      a nodal new lesion with a diameter < 10 mm is never a lesion, whatever its status.
      ``NL`` back-dating uses the first equivocal date of that lesion in the segment.
* R6  ``R47`` "previous evaluated time point" = the latest earlier row of the segment whose
      OR is not NE.  The "run" of CRs for ``pd_if_prior_confirmed_cr`` is the sequence of
      evaluated CR rows ending at that time point (NE rows skipped).  ``R47`` is listed in
      ``rule_ids`` (and its lesions in the explanation and ``recurrence_sites``) only when
      it turned a non-PD table result into PD; its warnings are emitted whenever disease
      reappears after a CR.
* R7  ``T6c``: an earlier row i with OR = PR, confirmed by a row j (i < j < t) with OR in
      {PR, CR} and ``date_j - date_i >= confirm_days``, and no PD row after i.
* R8  Markers (N3): the baseline anchor is ``baseline_date`` (``reference_start`` when the
      baseline is null); a marker with no value near the anchor is not "elevated at
      baseline".
* R9  ``recurrence_sites``: sorted distinct organs (null organs skipped) of the lesions that
      made the PD; null when none.
* R10 WHO: the new-lesion classification (incl. nodal sizes) and the "absent" non-target
      state are the RECIST ones above (the note defines them once).  ``target_response`` is
      the measured-lesion component (PD/NE/CR/PR/NC), ``non_target_response`` the other
      disease (PD/NE/CR/NC, or NA when there is none); a segment with neither targets nor
      non-targets at t is NE.  ``who_pd_min_abs_mm2`` must also be met when the reference
      is 0.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable

import polars as pl

from remission.options import RecistOptions, WhoOptions
from remission.schema import TIMEPOINTS

# ======================================================================================
# Data model (plain Python objects)
# ======================================================================================


@dataclass(frozen=True)
class Obs:
    """One ``lesions`` row: one lesion at one assessment date."""

    lesion_id: str
    date: dt.date
    role: str
    organ: str | None
    nodal: bool
    diameter_mm: float | None
    perpendicular_mm: float | None
    status: str | None


@dataclass(frozen=True)
class Segment:
    """One evaluation segment (schema.SEGMENTS row)."""

    line: int
    reference_start: dt.date | None
    baseline_date: dt.date | None
    end_date: dt.date | None

    def evaluates(self, d: dt.date) -> bool:
        """The note, "Input": ``d > baseline_date`` (or ``d >= reference_start`` when the
        baseline is null) and ``d <= end_date`` (open when null)."""
        if self.baseline_date is not None:
            lower_ok = d > self.baseline_date
        else:
            lower_ok = self.reference_start is not None and d >= self.reference_start
        upper_ok = self.end_date is None or d <= self.end_date
        return lower_ok and upper_ok

    def start(self) -> dt.date | None:
        return self.baseline_date if self.baseline_date is not None else self.reference_start


@dataclass
class Subject:
    """All lesion rows of one subject, indexed by (lesion_id, date)."""

    subject_id: str
    obs: dict[tuple[str, dt.date], Obs]
    dates: list[dt.date]
    first_seen: dict[str, dt.date]
    lesion_ids: list[str]

    def at(self, lesion_id: str, d: dt.date) -> Obs | None:
        return self.obs.get((lesion_id, d))

    def rows_on(self, d: dt.date) -> list[Obs]:
        return [o for (lid, od), o in sorted(self.obs.items()) if od == d]

    def organ(self, lesion_id: str) -> str | None:
        for (lid, _d), o in sorted(self.obs.items()):
            if lid == lesion_id and o.organ is not None:
                return o.organ
        return None

    def nodal(self, lesion_id: str) -> bool:
        return any(o.nodal for (lid, _d), o in self.obs.items() if lid == lesion_id)


@dataclass(frozen=True)
class LesionSets:
    """Lesion sets of a segment (note, "Lesion sets of a segment")."""

    targets: tuple[str, ...]
    non_targets: tuple[str, ...]
    new: frozenset[str]


@dataclass
class Row:
    """One output row (schema.TIMEPOINTS)."""

    subject_id: str
    date: dt.date
    criteria: str
    line: int | None = None
    baseline_date: dt.date | None = None
    baseline_value: float | None = None
    value: float | None = None
    value_complete: bool | None = None
    nadir_value: float | None = None
    change_from_baseline_pct: float | None = None
    change_from_nadir_pct: float | None = None
    change_from_nadir_abs: float | None = None
    target_response: str | None = None
    non_target_response: str | None = None
    new_lesion: bool | None = None
    overall_response: str | None = None
    canonical_level: str | None = None
    is_progression_event: bool = False
    progression_event_date: dt.date | None = None
    pending_progression: bool = False
    recurrence_sites: str | None = None
    rule_ids: str | None = None
    warnings: str | None = None
    explanation: str | None = None

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in TIMEPOINTS}


# ======================================================================================
# Input grouping
# ======================================================================================


def _subjects(lesions: pl.DataFrame) -> dict[str, Subject]:
    """Group the lesions table by subject (Python objects).  A duplicate (lesion, date)
    row keeps the first one (validation rejects duplicates upstream)."""
    grouped: dict[str, dict[tuple[str, dt.date], Obs]] = defaultdict(dict)
    for r in lesions.to_dicts():
        o = Obs(
            lesion_id=r["lesion_id"],
            date=r["date"],
            role=r["role"],
            organ=r.get("organ"),
            nodal=bool(r.get("nodal") or False),
            diameter_mm=r.get("diameter_mm"),
            perpendicular_mm=r.get("perpendicular_mm"),
            status=r.get("status"),
        )
        grouped[r["subject_id"]].setdefault((o.lesion_id, o.date), o)
    out = {}
    for sid, obs in grouped.items():
        first: dict[str, dt.date] = {}
        for (lid, d) in obs:
            if lid not in first or d < first[lid]:
                first[lid] = d
        out[sid] = Subject(
            subject_id=sid,
            obs=obs,
            dates=sorted({d for (_l, d) in obs}),
            first_seen=first,
            lesion_ids=sorted(first),
        )
    return out


def _segments(segments: pl.DataFrame) -> dict[str, list[Segment]]:
    out: dict[str, list[Segment]] = defaultdict(list)
    for r in segments.to_dicts():
        out[r["subject_id"]].append(
            Segment(int(r["line"]), r["reference_start"], r["baseline_date"], r["end_date"])
        )
    for segs in out.values():
        segs.sort(key=lambda s: (s.line, s.start() or dt.date.min))
    return out


def _labs(labs: pl.DataFrame | None, tests: Iterable[str]) -> dict[tuple[str, str], list[tuple[dt.date, float]]]:
    """(subject, test) -> [(date, value)] sorted by date, for the configured markers."""
    out: dict[tuple[str, str], list[tuple[dt.date, float]]] = defaultdict(list)
    wanted = set(tests)
    if labs is None or not wanted or labs.height == 0:
        return out
    for r in labs.to_dicts():
        if r["test"] in wanted and r["value"] is not None:
            out[(r["subject_id"], r["test"])].append((r["date"], float(r["value"])))
    for v in out.values():
        v.sort()
    return out


# ======================================================================================
# Lesion sets (note, "Lesion sets of a segment")
# ======================================================================================


def lesion_sets(subject: Subject, seg: Segment) -> LesionSets:
    """Targets, fixed non-targets and new lesions of a segment.

    * Targets: role ``target`` with a row on ``baseline_date``.
    * Non-targets: role ``non_target`` with a row on ``baseline_date``; in a segment whose
      line > 1 also lesions with role ``new`` first seen on or before ``baseline_date``
      (the new line re-catalogues them, choice 2).
    * New: lesions with a role ``new`` row whose first row is after ``baseline_date`` (every
      role-``new`` lesion when the baseline is null).
    Lesions with role ``non_target`` first seen after the baseline are handled per date by
    :func:`non_targets_at`.
    """
    b = seg.baseline_date
    targets: list[str] = []
    non_targets: list[str] = []
    if b is not None:
        for lid in subject.lesion_ids:
            o = subject.at(lid, b)
            if o is None:
                continue
            if o.role == "target":
                targets.append(lid)
            elif o.role == "non_target":
                non_targets.append(lid)
        if seg.line > 1:
            for lid in subject.lesion_ids:
                if lid in targets or lid in non_targets:
                    continue
                has_new_role = any(o.role == "new" for (l, _d), o in subject.obs.items() if l == lid)
                if has_new_role and subject.first_seen[lid] <= b:
                    non_targets.append(lid)
    new = set()
    for lid in subject.lesion_ids:
        if lid in targets or lid in non_targets:
            continue
        has_new_role = any(o.role == "new" for (l, _d), o in subject.obs.items() if l == lid)
        if has_new_role and (b is None or subject.first_seen[lid] > b):
            new.add(lid)
    return LesionSets(tuple(targets), tuple(non_targets), frozenset(new))


def non_targets_at(subject: Subject, seg: Segment, sets: LesionSets, d: dt.date) -> list[tuple[str, Obs | None]]:
    """Non-target lesions to judge at date ``d``, with their row (``None`` = no row).

    With a baseline: the segment's fixed non-targets (a missing row is "not evaluated"),
    plus every other role ``non_target`` lesion that has a row at d (recorded non-target
    disease always counts where it is recorded, even when the lesion was not re-recorded at
    this line's baseline).  Without a baseline (Table 5): the role ``non_target`` rows at d.
    """
    out: list[tuple[str, Obs | None]] = [(lid, subject.at(lid, d)) for lid in sets.non_targets]
    fixed = set(sets.targets) | set(sets.non_targets) | set(sets.new)
    for o in subject.rows_on(d):
        if o.role == "non_target" and o.lesion_id not in fixed:
            out.append((o.lesion_id, o))
    return out


# ======================================================================================
# RECIST 1.1: per-lesion values, sums, changes (recist11.md §3.4–3.5)
# ======================================================================================


def target_value_mm(o: Obs | None, tstm_default_mm: float) -> float | None:
    """Value of a target lesion at a date (recist11.md §3.4).

    ``diameter_mm`` when given (a measured 3 mm stays 3 mm even with status ``too_small``);
    else ``absent`` -> 0; ``too_small`` -> ``tstm_default_mm``; anything else (present,
    not_evaluated, equivocal, progression, no row) -> no usable value (None)."""
    if o is None:
        return None
    if o.diameter_mm is not None:
        return float(o.diameter_mm)
    if o.status == "absent":
        return 0.0
    if o.status == "too_small":
        return float(tstm_default_mm)
    return None


@dataclass(frozen=True)
class TargetSum:
    """Sum of the usable target values at one date (§3.4)."""

    values: dict[str, float | None]  # lesion_id -> value or None

    @property
    def complete(self) -> bool:
        return all(v is not None for v in self.values.values())

    @property
    def missing(self) -> list[str]:
        return [lid for lid, v in self.values.items() if v is None]

    @property
    def total(self) -> float | None:
        """Sum of usable values; None when no target has a usable value (reading R2)."""
        usable = [v for v in self.values.values() if v is not None]
        return math.fsum(usable) if usable else None


def pct_change(value: float, reference: float) -> float:
    """``100 (value - reference)/reference``; reference 0: +inf if value > 0 else 0 (§3.5)."""
    if reference == 0:
        return math.inf if value > 0 else 0.0
    return 100.0 * (value - reference) / reference


def meets_sum_pd(value: float, nadir: float) -> bool:
    """RECIST PD arithmetic (§4.1 T1/T4): >= +20 % **and** >= +5 mm above the nadir."""
    return pct_change(value, nadir) >= 20.0 and (value - nadir) >= 5.0


# ======================================================================================
# RECIST 1.1 target response (recist11.md §4.1) — first match wins
# ======================================================================================


@dataclass(frozen=True)
class Decision:
    """A component response, the rule id that decided it and a short reason."""

    response: str
    rule: str
    reason: str = ""


def rule_T1(s: TargetSum, nadir: float) -> bool:
    """T1: some target has no usable value and the partial sum already meets PD."""
    return (not s.complete) and s.total is not None and meets_sum_pd(s.total, nadir)


def rule_T2(s: TargetSum) -> bool:
    """T2: some target has no usable value (T1 not met) -> NE."""
    return not s.complete


def rule_T3(s: TargetSum, nodal: dict[str, bool]) -> bool:
    """T3: every non-nodal target 0 mm and every nodal target < 10 mm -> CR (checked before
    T4 on purpose, §4.1 note and §6.17)."""
    return all((v < 10.0) if nodal[lid] else (v == 0.0) for lid, v in s.values.items())


def rule_T4(value: float, nadir: float) -> bool:
    """T4: >= 20 % and >= 5 mm above the nadir -> PD."""
    return meets_sum_pd(value, nadir)


def rule_T5(value: float, baseline: float) -> bool:
    """T5: <= -30 % from baseline -> PR (PR is measured from baseline, PD from nadir)."""
    return pct_change(value, baseline) <= -30.0


def rule_T6c(history: list["_Eval"], d: dt.date, confirm_days: int) -> bool:
    """T6c (option ``continued_pr_after_confirmation``, §4.1 note): an earlier PR of the
    segment confirmed by a PR/CR >= ``confirm_days`` later and before t, with no PD since
    that PR (reading R7)."""
    for i, hi in enumerate(history):
        if hi.overall != "PR":
            continue
        if any(h.overall == "PD" for h in history[i + 1:]):
            continue
        for hj in history[i + 1:]:
            if hj.date < d and hj.overall in ("PR", "CR") and (hj.date - hi.date).days >= confirm_days:
                return True
    return False


def target_response(
    s: TargetSum | None,
    baseline_value: float | None,
    nadir: float | None,
    nodal: dict[str, bool],
    continued_pr: bool,
) -> Decision:
    """Target response TR (recist11.md §4.1, note "Target response TR")."""
    if s is None:
        return Decision("NA", "", "no target lesions")
    if baseline_value is None:
        return Decision("NE", "B1", "baseline sum incomplete")
    assert nadir is not None
    if rule_T1(s, nadir):
        return Decision("PD", "T1")
    if rule_T2(s):
        return Decision("NE", "T2")
    value = s.total
    assert value is not None
    if rule_T3(s, nodal):
        return Decision("CR", "T3")
    if rule_T4(value, nadir):
        return Decision("PD", "T4")
    if rule_T5(value, baseline_value):
        return Decision("PR", "T5")
    if continued_pr:
        return Decision("PR", "T6c")
    return Decision("SD", "T6")


# ======================================================================================
# RECIST 1.1 non-target response (recist11.md §4.3)
# ======================================================================================


def non_target_state(o: Obs | None) -> str:
    """State of a non-target lesion at a date (reading R4): ``progression``,
    ``not_evaluated``, ``absent`` (incl. a nodal lesion with diameter < 10 mm) or
    ``present``."""
    if o is None or o.status == "not_evaluated":
        return "not_evaluated"
    if o.status == "progression":
        return "progression"
    if o.status == "absent":
        return "absent"
    if o.nodal and o.diameter_mm is not None and o.diameter_mm < 10.0:
        return "absent"
    if o.status is None:
        if o.diameter_mm is None:
            return "not_evaluated"
        return "absent" if o.diameter_mm == 0 else "present"
    return "present"


@dataclass(frozen=True)
class MarkerCheck:
    """A tumour marker elevated at baseline and its value at t (§4.3 N3, §6.11)."""

    test: str
    uln: float
    baseline: float
    value: float | None  # None: no value in [t - window, t]

    @property
    def normal(self) -> bool:
        return self.value is not None and self.value <= self.uln


def marker_value(series: list[tuple[dt.date, float]], d: dt.date, window_days: int) -> float | None:
    """Latest marker value dated in ``[d - window, d]`` (note, N3)."""
    lo = d - dt.timedelta(days=window_days)
    found = None
    for md, v in series:
        if lo <= md <= d:
            found = v
    return found


def elevated_markers(
    lab_series: dict[str, list[tuple[dt.date, float]]],
    uln: dict[str, float],
    anchor: dt.date | None,
    d: dt.date,
    window_days: int,
) -> list[MarkerCheck]:
    """Markers > ULN at baseline (anchor, reading R8) with their value at ``d``."""
    out = []
    if anchor is None:
        return out
    for test in sorted(uln):
        series = lab_series.get(test, [])
        b = marker_value(series, anchor, window_days)
        if b is not None and b > uln[test]:
            out.append(MarkerCheck(test, uln[test], b, marker_value(series, d, window_days)))
    return out


def rule_N0(nts: list[tuple[str, Obs | None]], markers: list[MarkerCheck]) -> bool:
    """N0: no non-target lesions and no marker elevated at baseline -> NA."""
    return not nts and not markers


def rule_N1(states: dict[str, str]) -> list[str]:
    """N1: non-targets with unequivocal progression (-> PD when any)."""
    return [lid for lid, s in states.items() if s == "progression"]


def rule_N2(states: dict[str, str]) -> list[str]:
    """N2: non-targets not evaluated (status not_evaluated or no row) (-> NE when any)."""
    return [lid for lid, s in states.items() if s == "not_evaluated"]


def rule_N3(states: dict[str, str], markers: list[MarkerCheck]) -> bool:
    """N3: every non-target absent and every baseline-elevated marker <= ULN -> CR."""
    return all(s == "absent" for s in states.values()) and all(m.normal for m in markers)


def non_target_response(nts: list[tuple[str, Obs | None]], markers: list[MarkerCheck]) -> tuple[Decision, dict[str, str]]:
    """Non-target response NTR (recist11.md §4.3, note "Non-target response NTR")."""
    states = {lid: non_target_state(o) for lid, o in nts}
    if rule_N0(nts, markers):
        return Decision("NA", "N0", "no non-target lesions"), states
    prog = rule_N1(states)
    if prog:
        return Decision("PD", "N1", ", ".join(prog)), states
    ne = rule_N2(states)
    if ne:
        return Decision("NE", "N2", ", ".join(ne)), states
    if rule_N3(states, markers):
        return Decision("CR", "N3"), states
    return Decision("NON-CR/NON-PD", "N4"), states


# ======================================================================================
# New lesions (recist11.md §4.6)
# ======================================================================================


EFFUSION_ORGANS = ("pleural_effusion", "pericardial_effusion", "ascites", "effusion")


def classify_new_lesion(o: Obs | None) -> str | None:
    """``"unequivocal"``, ``"equivocal"`` or None (not a lesion / nothing) (§4.6, R5).

    A nodal new lesion with a diameter < 10 mm is not a lesion; 10–15 mm with status
    ``present`` is equivocal (``progression`` makes it unequivocal)."""
    if o is None:
        return None
    status = o.status
    if status is None:
        status = "present" if (o.diameter_mm or 0) > 0 else None
    if status == "too_small":
        if o.nodal and o.diameter_mm is None:
            return None
        status = "present"
    if o.nodal and o.diameter_mm is not None and o.diameter_mm < 10.0:
        return None
    if status == "equivocal":
        return "equivocal"
    if status in ("present", "progression"):
        if o.nodal and o.diameter_mm is not None and o.diameter_mm < 15.0 and status == "present":
            return "equivocal"
        if o.organ in EFFUSION_ORGANS and status == "present":
            # recist11.md §4.3/§6.12: a new effusion counts only with malignant cytology,
            # which the reader records as status ``progression``
            return "equivocal"
        return "unequivocal"
    return None


@dataclass(frozen=True)
class NewLesions:
    unequivocal: tuple[str, ...]
    equivocal: tuple[str, ...]
    event_date: dt.date | None  # back-dated progression date when unequivocal

    @property
    def rule(self) -> str:
        if self.unequivocal:
            return "NL1"
        if self.equivocal:
            return "NLeq"
        return "NL0"


def new_lesions_at(subject: Subject, sets: LesionSets, d: dt.date, first_equivocal: dict[str, dt.date]) -> NewLesions:
    """Rule NL at date d (§4.6).  ``first_equivocal`` holds, per lesion, the first date of
    the segment it was seen equivocal (updated by the caller after each date)."""
    uneq, eq = [], []
    for lid in sorted(sets.new):
        c = classify_new_lesion(subject.at(lid, d))
        if c == "unequivocal":
            uneq.append(lid)
        elif c == "equivocal":
            eq.append(lid)
    event = None
    if uneq:
        event = min(first_equivocal.get(lid, d) for lid in uneq)
    return NewLesions(tuple(uneq), tuple(eq), event)


# ======================================================================================
# Overall response: Table 4, Table 5, R47 (recist11.md §4.4, §4.5, §4.7)
# ======================================================================================


def table4(tr: str, ntr: str, nl: bool) -> str:
    """RECIST 1.1 Table 4 (targets at baseline): PD rows first, then top-down."""
    if tr == "PD" or ntr == "PD" or nl:
        return "PD"
    if tr == "CR":
        return "CR" if ntr in ("CR", "NA") else "PR"
    if tr == "PR":
        return "PR"
    if tr == "SD":
        return "SD"
    return "NE"


def table5(ntr: str, nl: bool) -> str:
    """RECIST 1.1 Table 5 (no targets): PD or NL -> PD; CR; NON-CR/NON-PD; NE; NA -> NE."""
    if ntr == "PD" or nl:
        return "PD"
    if ntr in ("CR", "NON-CR/NON-PD", "NE"):
        return ntr
    return "NE"


@dataclass(frozen=True)
class Reappearance:
    lesions: tuple[str, ...]  # lesion ids that reappeared
    single_node: bool


def reappeared_lesions(
    subject: Subject,
    sets: LesionSets,
    s: TargetSum | None,
    nts: list[tuple[str, Obs | None]],
    new: NewLesions,
) -> Reappearance:
    """Disease present again at t (§4.7): non-nodal target > 0, nodal target >= 10 mm,
    non-target present (not merely ``equivocal``; nodal non-target: only ``progression`` or
    diameter >= 10 mm), or an unequivocal new lesion."""
    found: list[str] = []
    nodal_targets: list[str] = []
    if s is not None:
        for lid, v in s.values.items():
            if v is None:
                continue
            if subject.nodal(lid):
                if v >= 10.0:
                    found.append(lid)
                    nodal_targets.append(lid)
            elif v > 0.0:
                found.append(lid)
    for lid, o in nts:
        if o is None:
            continue
        if o.nodal:
            if o.status == "progression" or (o.diameter_mm is not None and o.diameter_mm >= 10.0):
                found.append(lid)
        elif o.status != "equivocal" and non_target_state(o) in ("present", "progression"):
            # an equivocal finding blocks CR (N3) but does not by itself prove reappearance
            found.append(lid)
    found.extend(new.unequivocal)
    single = len(found) == 1 and len(nodal_targets) == 1
    return Reappearance(tuple(found), single)


def previous_evaluated(history: list["_Eval"]) -> "_Eval | None":
    """The latest earlier row of the segment whose OR is not NE (reading R6)."""
    for h in reversed(history):
        if h.overall != "NE":
            return h
    return None


def prior_cr_confirmed(history: list["_Eval"], confirm_days: int) -> bool:
    """The CR at the previous evaluated time point was confirmed by a CR >=
    ``confirm_days`` after the first CR of its run (policy ``pd_if_prior_confirmed_cr``)."""
    run = [h for h in history if h.overall != "NE"]
    last = run[-1]
    first = last
    for h in reversed(run):
        if h.overall != "CR":
            break
        first = h
    return (last.date - first.date).days >= confirm_days


def rule_R47(history: list["_Eval"], reap: Reappearance, policy: str, confirm_days: int) -> tuple[bool, list[str]]:
    """R47 (§4.7): after a CR, reappearing disease makes OR = PD per the policy.
    Returns (force PD, warnings)."""
    prev = previous_evaluated(history)
    if prev is None or prev.overall != "CR" or not reap.lesions:
        return False, []
    warnings = ["SINGLE_NODE_REAPPEARANCE"] if reap.single_node else []
    if policy == "pd_if_prior_cr":
        return True, warnings
    if policy == "pd_if_prior_confirmed_cr":
        return prior_cr_confirmed(history, confirm_days), warnings
    return False, ["PRIOR_CR_RECLASSIFIED_AS_PR"] + warnings


CANONICAL = {
    "CR": "COMPLETE",
    "PR": "PARTIAL",
    "SD": "STABLE",
    "NC": "STABLE",
    "NON-CR/NON-PD": "STABLE",
    "PD": "PROGRESSION",
    "NE": "NOT_EVALUABLE",
}


# ======================================================================================
# Text helpers (numbers rounded to 1 decimal only in the text)
# ======================================================================================


def _n(x: float) -> str:
    """A number with at most one decimal: 57.0 -> '57', 21.44 -> '21.4'."""
    if math.isinf(x):
        return "inf"
    r = round(x, 1)
    if r == 0:
        r = 0.0
    return f"{r:.1f}".removesuffix(".0")


def _pct(x: float) -> str:
    if math.isinf(x):
        return "+inf%"
    r = round(x, 1)
    if r == 0:
        r = 0.0
    return f"{r:+.1f}%"


def _signed(x: float) -> str:
    r = round(x, 1)
    if r == 0:
        r = 0.0
    return ("+" if r >= 0 else "-") + _n(abs(r))


def _lesion(subject: Subject, lid: str) -> str:
    organ = subject.organ(lid)
    return f"{lid} ({organ})" if organ else lid


def _sites(subject: Subject, lids: Iterable[str]) -> str | None:
    organs = sorted({o for o in (subject.organ(l) for l in lids) if o is not None})
    return ";".join(organs) if organs else None


# ======================================================================================
# RECIST 1.1 per-subject evaluation
# ======================================================================================


@dataclass
class _Eval:
    """What later dates of a segment need to know about an earlier date."""

    date: dt.date
    overall: str


@dataclass
class _SegmentState:
    nadir: float | None
    history: list[_Eval] = field(default_factory=list)
    first_equivocal: dict[str, dt.date] = field(default_factory=dict)
    lesion_min_product: dict[str, float] = field(default_factory=dict)  # WHO only


def _baseline_row(subject: Subject, seg: Segment, sets: LesionSets, crit: str, bsum: TargetSum | None, unit: str, what: str) -> Row:
    """Row of a baseline date: null responses, explanation with the baseline sum."""
    row = Row(subject.subject_id, seg.baseline_date, crit, line=seg.line, baseline_date=seg.baseline_date)
    if bsum is None:
        row.explanation = f"Baseline: no target lesions ({len(sets.non_targets)} non-target lesions)"
    elif bsum.complete:
        row.baseline_value = row.value = bsum.total
        row.explanation = f"Baseline: {what} {_n(bsum.total)} {unit} ({len(sets.targets)} target lesions)"
    else:
        row.value = bsum.total
        row.explanation = "Baseline incomplete: target " + ", ".join(bsum.missing) + " not measured"
    return row


def _segment_has_target_rows(subject: Subject, seg: Segment) -> bool:
    """Reading R3: a target row at any date the segment evaluates."""
    return any(o.role == "target" and seg.evaluates(d) for (_l, d), o in subject.obs.items())


def _segment_of(segs: list[Segment], d: dt.date) -> Segment | None:
    for s in segs:
        if s.evaluates(d):
            return s
    return None


def _uncovered_row(subject: Subject, segs: list[Segment], d: dt.date, crit: str) -> Row:
    """Reading R1."""
    starts = [s.start() for s in segs if s.start() is not None]
    text = "before baseline" if not starts or d < min(starts) else "outside every evaluation segment"
    return Row(subject.subject_id, d, crit, explanation=text)


def _evaluate_subject(subject: Subject, segs: list[Segment], crit: str, follow_up) -> list[Row]:
    """Shared date loop: baseline rows, uncovered rows, and ``follow_up`` for the others."""
    rows: dict[dt.date, Row] = {}
    states: dict[int, tuple[LesionSets, _SegmentState, object]] = {}
    for d in subject.dates:
        seg = _segment_of(segs, d)
        if seg is not None:
            rows[d] = follow_up(subject, seg, d, states)
            continue
        base = next((s for s in segs if s.baseline_date == d), None)
        if base is not None:
            rows[d] = follow_up(subject, base, d, states, baseline=True)
        else:
            rows[d] = _uncovered_row(subject, segs, d, crit)
    return [rows[d] for d in subject.dates]


def _finish(row: Row, overall: str, rules: list[str], warnings: list[str], text: str,
            event_date: dt.date | None = None, sites: str | None = None) -> Row:
    """Fill the overall-response columns of a follow-up row."""
    row.overall_response = overall
    row.canonical_level = CANONICAL[overall]
    row.is_progression_event = overall == "PD"
    row.progression_event_date = (event_date or row.date) if overall == "PD" else None
    row.recurrence_sites = sites if overall == "PD" else None
    row.rule_ids = ",".join(rules) if rules else None
    row.warnings = ";".join(warnings) if warnings else None
    row.explanation = text
    return row


@dataclass
class _RecistFacts:
    """Everything one RECIST follow-up decision used (input of the explanation)."""

    s: TargetSum | None
    bsum: TargetSum | None
    baseline_value: float | None
    nadir: float | None
    tr: Decision
    ntr: Decision
    nt_states: dict[str, str]
    markers: list[MarkerCheck]
    new: NewLesions
    first_equivocal: dict[str, dt.date]
    overall: str
    force_pd: bool
    reap: Reappearance
    warnings: list[str]


class _Recist:
    """RECIST 1.1 evaluation of the follow-up dates of one subject."""

    crit = "recist1.1"

    def __init__(self, options: RecistOptions, labs: dict[tuple[str, str], list[tuple[dt.date, float]]]):
        self.o = options
        self.labs = labs

    def target_sum(self, subject: Subject, sets: LesionSets, d: dt.date | None) -> TargetSum | None:
        """SOD inputs at d; None when the segment has no targets."""
        if not sets.targets or d is None:
            return None
        return TargetSum({lid: target_value_mm(subject.at(lid, d), self.o.tstm_default_mm) for lid in sets.targets})

    def setup(self, subject: Subject, seg: Segment, states: dict):
        if seg.line not in states:
            sets = lesion_sets(subject, seg)
            bsum = self.target_sum(subject, sets, seg.baseline_date)
            baseline_value = bsum.total if (bsum is not None and bsum.complete) else None
            states[seg.line] = (sets, _SegmentState(nadir=baseline_value), bsum)
        return states[seg.line]

    def __call__(self, subject: Subject, seg: Segment, d: dt.date, states: dict, baseline: bool = False) -> Row:
        sets, st, bsum = self.setup(subject, seg, states)
        if baseline:
            return _baseline_row(subject, seg, sets, self.crit, bsum, "mm", "sum of diameters")
        row = self.follow_up(subject, seg, sets, st, bsum, d)
        # recist11.md §5.4: a PR after an earlier CR of the line is flagged CR_THEN_PR
        # (admiralonco's check_crpr), first of the row's warnings
        if row.overall_response == "PR" and any(h.overall == "CR" for h in st.history):
            row.warnings = ";".join(["CR_THEN_PR"] + ([row.warnings] if row.warnings else []))
        # state carried to later dates of the segment
        st.history.append(_Eval(d, row.overall_response))
        for lid in sorted(sets.new):
            if classify_new_lesion(subject.at(lid, d)) == "equivocal":
                st.first_equivocal.setdefault(lid, d)
        s = self.target_sum(subject, sets, d)
        if s is not None and s.complete and st.nadir is not None:
            st.nadir = min(st.nadir, s.total)  # §3.4: only complete sums enter the nadir
        return row

    def follow_up(self, subject: Subject, seg: Segment, sets: LesionSets, st: _SegmentState,
                  bsum: TargetSum | None, d: dt.date) -> Row:
        row = Row(subject.subject_id, d, self.crit, line=seg.line, baseline_date=seg.baseline_date)
        # B0: targets recorded but no baseline (note choice 3, reading R3)
        if seg.baseline_date is None and _segment_has_target_rows(subject, seg):
            row.target_response = row.non_target_response = "NE"  # B0: nothing is evaluated
            return _finish(row, "NE", ["B0"], [], "NE: target lesions recorded but no baseline assessment")

        s = self.target_sum(subject, sets, d)
        baseline_value = bsum.total if (bsum is not None and bsum.complete) else None
        nadir = st.nadir
        row.baseline_value = baseline_value
        if s is not None:
            row.value = s.total
            row.value_complete = s.complete  # R2b: false when a target has no usable value
            row.nadir_value = nadir
            if s.total is not None and baseline_value is not None:
                row.change_from_baseline_pct = pct_change(s.total, baseline_value)
                row.change_from_nadir_pct = pct_change(s.total, nadir)
                row.change_from_nadir_abs = s.total - nadir

        nodal = {lid: subject.nodal(lid) for lid in sets.targets}
        cont_pr = self.o.continued_pr_after_confirmation and rule_T6c(st.history, d, self.o.confirm_days)
        tr = target_response(s, baseline_value, nadir, nodal, cont_pr)

        nts = non_targets_at(subject, seg, sets, d)
        lab_series = {t: self.labs.get((subject.subject_id, t), []) for t in self.o.marker_uln}
        markers = elevated_markers(lab_series, self.o.marker_uln, seg.start(), d, self.o.marker_window_days)
        ntr, nt_states = non_target_response(nts, markers)
        new = new_lesions_at(subject, sets, d, st.first_equivocal)

        if sets.targets:
            overall, table = table4(tr.response, ntr.response, bool(new.unequivocal)), "TAB4"
        else:
            overall, table = table5(ntr.response, bool(new.unequivocal)), "TAB5"

        reap = reappeared_lesions(subject, sets, s, nts, new)
        force_pd, warnings = rule_R47(st.history, reap, self.o.reappearance_after_cr, self.o.confirm_days)
        force_pd = force_pd and overall != "PD"  # R47 decides only when the tables did not give PD
        if force_pd:
            overall = "PD"

        row.target_response = tr.response
        row.non_target_response = ntr.response
        row.new_lesion = bool(new.unequivocal)
        row.pending_progression = bool(new.equivocal)
        rules = [r for r in (tr.rule, ntr.rule, new.rule) if r] + (["R47"] if force_pd else []) + [table]

        # lesions that made the PD (recurrence_sites) and the back-dated event date (§4.6)
        pd_lesions: list[str] = []
        event_date = d
        if overall == "PD":
            if tr.response == "PD":
                pd_lesions.extend(sets.targets)
            if ntr.response == "PD":
                pd_lesions.extend(rule_N1(nt_states))
            if new.unequivocal:
                pd_lesions.extend(new.unequivocal)
                event_date = min(event_date, new.event_date)
            if force_pd:
                pd_lesions.extend(reap.lesions)
        facts = _RecistFacts(s, bsum, baseline_value, nadir, tr, ntr, nt_states, markers, new,
                             dict(st.first_equivocal), overall, force_pd, reap, warnings)
        text = explain_recist(subject, facts, self.o.marker_window_days)
        return _finish(row, overall, rules, warnings, text, event_date, _sites(subject, pd_lesions))


# ---- RECIST explanation (note, "Explanation") ------------------------------------------


def _cr_targets_text(subject: Subject, s: TargetSum | None) -> str:
    if s is None:
        return "no target lesions"
    nodes = [v for lid, v in s.values.items() if subject.nodal(lid)]
    if nodes:
        return "all non-nodal targets 0 mm, nodes < 10 mm (" + ", ".join(f"{_n(v)} mm" for v in nodes) + ")"
    return "all targets 0 mm"


def _nt_text(ntr: Decision, states: dict[str, str], markers: list[MarkerCheck], window: int) -> str:
    if ntr.response == "NE":
        text = "non-target " + ntr.reason + " not evaluated"
    elif not states:
        text = "no non-target lesions"
    elif all(v == "absent" for v in states.values()):
        text = "non-targets absent"
    else:
        text = "non-target " + ", ".join(l for l, v in states.items() if v != "absent") + " present"
    for m in markers:
        if m.value is None:
            text += (f"; marker {m.test} elevated at baseline ({_n(m.baseline)} > ULN {_n(m.uln)}) "
                     f"has no value in the last {window} days")
        elif m.normal:
            text += f"; marker {m.test} {_n(m.value)} <= ULN {_n(m.uln)}"
        else:
            text += f"; marker {m.test} {_n(m.value)} > ULN {_n(m.uln)}"
    return text


def explain_recist(subject: Subject, f: _RecistFacts, window: int) -> str:
    """One line naming the deciding rule and its numbers (rounded to 1 decimal in text)."""
    s, nadir, bv = f.s, f.nadir, f.baseline_value
    if f.overall == "PD":
        parts: list[str] = []
        if f.tr.rule == "T4":
            parts.append(f"sum {_n(s.total)} mm is {_pct(pct_change(s.total, nadir))} ({_signed(s.total - nadir)} mm) "
                         f"above nadir {_n(nadir)} mm (>= 20% and >= 5 mm)")
        elif f.tr.rule == "T1":
            parts.append(f"sum of measured targets {_n(s.total)} mm is {_pct(pct_change(s.total, nadir))} "
                         f"({_signed(s.total - nadir)} mm) above nadir {_n(nadir)} mm (>= 20% and >= 5 mm) "
                         f"with target {', '.join(s.missing)} not evaluated")
        for lid in rule_N1(f.nt_states):
            parts.append(f"unequivocal progression of non-target {_lesion(subject, lid)}")
        for lid in f.new.unequivocal:
            text = f"new lesion {_lesion(subject, lid)}"
            if lid in f.first_equivocal:
                text += f", equivocal since {f.first_equivocal[lid].isoformat()} (progression dated then)"
            parts.append(text)
        if f.force_pd:
            parts.append("disease reappeared after CR: " + ", ".join(_lesion(subject, l) for l in f.reap.lesions))
        text = "PD: " + "; ".join(parts)
    elif f.overall == "CR":
        text = "CR: " + _cr_targets_text(subject, s) + "; " + _nt_text(f.ntr, f.nt_states, f.markers, window)
    elif f.overall == "PR" and f.tr.response == "CR":
        text = ("PR: targets in CR (" + _cr_targets_text(subject, s) + ") but "
                + _nt_text(f.ntr, f.nt_states, f.markers, window))
    elif f.overall == "PR":
        text = f"PR: sum {_n(s.total)} mm is {_pct(pct_change(s.total, bv))} from baseline {_n(bv)} mm"
        if f.tr.rule == "T5":
            text += f" (>= 30% decrease); nadir {_n(nadir)} mm"
        else:
            text += f" (< 30% decrease) but an earlier PR was confirmed (continued PR, T6c); nadir {_n(nadir)} mm"
    elif f.overall == "SD":
        text = (f"SD: sum {_n(s.total)} mm is {_pct(pct_change(s.total, bv))} from baseline {_n(bv)} mm "
                f"(< 30% decrease) and {_pct(pct_change(s.total, nadir))} ({_signed(s.total - nadir)} mm) "
                f"from nadir {_n(nadir)} mm (not >= 20% and >= 5 mm)")
    elif f.overall == "NON-CR/NON-PD":
        text = "NON-CR/NON-PD: " + _nt_text(f.ntr, f.nt_states, f.markers, window)
    elif f.tr.rule == "B1":
        text = "NE: baseline incomplete (target " + ", ".join(f.bsum.missing) + " not measured at baseline)"
    elif f.tr.rule == "T2":
        text = "NE: target " + ", ".join(s.missing) + " not evaluated"
    elif f.ntr.response == "NE":
        text = "NE: non-target " + f.ntr.reason + " not evaluated"
    else:
        text = "NE: no target or non-target lesions recorded"
    if "PRIOR_CR_RECLASSIFIED_AS_PR" in f.warnings:
        text += "; disease reappeared after CR, the prior CR is read as PR (§4.7 policy)"
    if f.new.equivocal:
        text += "; equivocal new lesion " + ", ".join(_lesion(subject, l) for l in f.new.equivocal) + " pending"
    return text


# ======================================================================================
# WHO (who.md §3–4): products, W1..W6
# ======================================================================================


def lesion_product_mm2(o: Obs | None) -> float | None:
    """Product of a lesion at a date (who.md §3.1, §6.5).

    ``diameter_mm × perpendicular_mm`` when both are given; disappeared (``diameter_mm``
    0, or status ``absent`` with no diameter) -> 0; otherwise (one diameter only,
    ``too_small`` without a perpendicular, not evaluated, no row) -> None (not measured)."""
    if o is None:
        return None
    if o.diameter_mm is not None and o.perpendicular_mm is not None:
        return float(o.diameter_mm) * float(o.perpendicular_mm)
    if o.diameter_mm == 0 or (o.diameter_mm is None and o.status == "absent"):
        return 0.0
    return None


def who_grows(product: float, reference: float, min_abs_mm2: float) -> bool:
    """>= +25 % vs the reference (reference 0 and product > 0 -> reappearance, §6.1),
    and at least ``who_pd_min_abs_mm2`` in absolute terms (§6.2, non-WHO floor)."""
    return pct_change(product, reference) >= 25.0 and (product - reference) >= min_abs_mm2 and product > reference


def rule_W1(new: NewLesions) -> bool:
    """W1: any unequivocal new lesion -> PD."""
    return bool(new.unequivocal)


def rule_W2_lesions(products: dict[str, float | None], refs: dict[str, float], min_abs: float) -> list[str]:
    """W2, ``who_pd_basis = "any_lesion"``: targets whose product grew >= 25 % vs their
    reference (smallest product so far incl. baseline, or baseline)."""
    return [lid for lid, p in products.items()
            if p is not None and refs.get(lid) is not None and who_grows(p, refs[lid], min_abs)]


def rule_W2_sum(spd: float | None, reference: float, min_abs: float) -> bool:
    """W2, ``who_pd_basis = "sum"``: SPD (of the measured lesions) >= 25 % vs its
    reference (nadir SPD or baseline SPD)."""
    return spd is not None and who_grows(spd, reference, min_abs)


def rule_W3(products: dict[str, float | None], nt_states: dict[str, str]) -> list[str]:
    """W3: lesions not measured (targets without a product, non-targets not evaluated)."""
    return [l for l, p in products.items() if p is None] + [l for l, s in nt_states.items() if s == "not_evaluated"]


def rule_W4(products: dict[str, float | None], nt_states: dict[str, str]) -> bool:
    """W4: every product 0 and every non-target absent -> CR."""
    return all(p == 0 for p in products.values()) and all(s == "absent" for s in nt_states.values())


def rule_W5(spd: float, baseline: float) -> bool:
    """W5: SPD <= -50 % from baseline -> PR ("shrunk to at least half its size")."""
    return pct_change(spd, baseline) <= -50.0


class _Who:
    """WHO evaluation of the follow-up dates of one subject."""

    crit = "who"

    def __init__(self, options: WhoOptions):
        self.o = options

    def products(self, subject: Subject, sets: LesionSets, d: dt.date | None) -> TargetSum | None:
        if not sets.targets or d is None:
            return None
        return TargetSum({lid: lesion_product_mm2(subject.at(lid, d)) for lid in sets.targets})

    def setup(self, subject: Subject, seg: Segment, states: dict):
        if seg.line not in states:
            sets = lesion_sets(subject, seg)
            bsum = self.products(subject, sets, seg.baseline_date)
            complete = bsum is not None and bsum.complete
            st = _SegmentState(nadir=bsum.total if complete else None)
            if bsum is not None:  # per-lesion references exist even when another lesion is missing
                st.lesion_min_product = {l: v for l, v in bsum.values.items() if v is not None}
            states[seg.line] = (sets, st, bsum)
        return states[seg.line]

    def __call__(self, subject: Subject, seg: Segment, d: dt.date, states: dict, baseline: bool = False) -> Row:
        sets, st, bsum = self.setup(subject, seg, states)
        if baseline:
            return _baseline_row(subject, seg, sets, self.crit, bsum, "mm²", "sum of products")
        row = self.follow_up(subject, seg, sets, st, bsum, d)
        st.history.append(_Eval(d, row.overall_response))
        for lid in sorted(sets.new):
            if classify_new_lesion(subject.at(lid, d)) == "equivocal":
                st.first_equivocal.setdefault(lid, d)
        p = self.products(subject, sets, d)
        if p is not None:
            for lid, v in p.values.items():  # per-lesion smallest product so far (§3.2)
                if v is not None:
                    st.lesion_min_product[lid] = min(st.lesion_min_product.get(lid, v), v)
            if p.complete and st.nadir is not None:
                st.nadir = min(st.nadir, p.total)
        return row

    def follow_up(self, subject: Subject, seg: Segment, sets: LesionSets, st: _SegmentState,
                  bsum: TargetSum | None, d: dt.date) -> Row:
        row = Row(subject.subject_id, d, self.crit, line=seg.line, baseline_date=seg.baseline_date)
        if seg.baseline_date is None and _segment_has_target_rows(subject, seg):
            row.target_response = row.non_target_response = "NE"  # B0: nothing is evaluated
            return _finish(row, "NE", ["B0"], [], "NE: target lesions recorded but no baseline assessment")
        p = self.products(subject, sets, d)
        baseline_value = bsum.total if (bsum is not None and bsum.complete) else None
        nadir = st.nadir
        row.baseline_value = baseline_value
        if p is not None:
            row.value = p.total
            row.value_complete = p.complete  # R2b
            row.nadir_value = nadir
            if p.total is not None and baseline_value is not None:
                row.change_from_baseline_pct = pct_change(p.total, baseline_value)
                row.change_from_nadir_pct = pct_change(p.total, nadir)
                row.change_from_nadir_abs = p.total - nadir
        nts = non_targets_at(subject, seg, sets, d)
        nt_states = {lid: non_target_state(o) for lid, o in nts}
        new = new_lesions_at(subject, sets, d, st.first_equivocal)
        products = p.values if p is not None else {}
        min_abs = self.o.who_pd_min_abs_mm2

        # -- measured-lesion component (B1 when the baseline products are incomplete) ----
        grown: list[str] = []
        sum_grown = False
        reference_text = ""
        if p is None:
            tr = Decision("NA", "")
        elif baseline_value is None:
            # B1: no sum to compare, but a lesion with its own reference can still grow (W2)
            if self.o.who_pd_basis == "any_lesion":
                refs = bsum.values if self.o.who_pd_reference == "baseline" else st.lesion_min_product
                grown = rule_W2_lesions(products, refs, min_abs)
                reference_text = ", ".join(
                    f"{_lesion(subject, l)} product {_n(products[l])} mm² is {_pct(pct_change(products[l], refs[l]))} "
                    f"vs its {'baseline' if self.o.who_pd_reference == 'baseline' else 'smallest'} {_n(refs[l])} mm²"
                    for l in grown)
            tr = Decision("PD", "W2") if grown else Decision("NE", "B1")
        else:
            if self.o.who_pd_basis == "any_lesion":
                refs = bsum.values if self.o.who_pd_reference == "baseline" else st.lesion_min_product
                grown = rule_W2_lesions(products, refs, min_abs)
                reference_text = ", ".join(
                    f"{_lesion(subject, l)} product {_n(products[l])} mm² is {_pct(pct_change(products[l], refs[l]))} "
                    f"vs its {'baseline' if self.o.who_pd_reference == 'baseline' else 'smallest'} {_n(refs[l])} mm²"
                    for l in grown)
            else:
                ref = baseline_value if self.o.who_pd_reference == "baseline" else nadir
                sum_grown = rule_W2_sum(p.total, ref, min_abs)
                if sum_grown:
                    reference_text = (f"sum of products {_n(p.total)} mm² is {_pct(pct_change(p.total, ref))} vs "
                                      f"{'baseline' if self.o.who_pd_reference == 'baseline' else 'nadir'} {_n(ref)} mm²")
            if grown or sum_grown:
                tr = Decision("PD", "W2")
            elif not p.complete:
                tr = Decision("NE", "W3")
            elif all(v == 0 for v in products.values()):
                tr = Decision("CR", "W4")
            elif rule_W5(p.total, baseline_value):
                tr = Decision("PR", "W5")
            else:
                tr = Decision("NC", "W6")
        # -- other (non-target) disease ------------------------------------------------
        nt_prog = rule_N1(nt_states)
        if not nts:
            ntr = Decision("NA", "")
        elif nt_prog:
            ntr = Decision("PD", "W2")
        elif rule_N2(nt_states):
            ntr = Decision("NE", "W3", ", ".join(rule_N2(nt_states)))
        elif all(s == "absent" for s in nt_states.values()):
            ntr = Decision("CR", "W4")
        else:
            ntr = Decision("NC", "W6")

        # -- W1..W6, first match wins ---------------------------------------------------
        missing = rule_W3(products, nt_states)
        if rule_W1(new):
            overall, rule = "PD", "W1"
        elif grown or sum_grown or nt_prog:
            overall, rule = "PD", "W2"
        elif tr.response == "NE" or (missing and tr.response not in ("CR", "PR")):
            overall, rule = "NE", ("B1" if tr.rule == "B1" else "W3")
        elif missing:  # who.md §4.4: measurable PR/CR and no PD elsewhere -> PR, even with other disease NE
            overall, rule = "PR", "W5"
        elif not products and not nts:
            overall, rule = "NE", "W0"  # W0: nothing recorded to evaluate (our id)
        elif rule_W4(products, nt_states):
            overall, rule = "CR", "W4"
        elif p is not None and (rule_W5(p.total, baseline_value) or tr.response == "CR"):
            # who.md §4.4: measurable component PR or CR (all products 0, even from a 0 baseline)
            # with other disease persisting -> PR
            overall, rule = "PR", "W5"
        else:
            overall, rule = "NC", "W6"

        row.target_response = tr.response
        row.non_target_response = ntr.response
        row.new_lesion = bool(new.unequivocal)
        row.pending_progression = bool(new.equivocal)
        rules = [rule] + (["NLeq"] if new.equivocal else [])

        pd_lesions: list[str] = []
        event_date = d
        parts: list[str] = []
        if overall == "PD":
            for lid in new.unequivocal:
                t = f"new lesion {_lesion(subject, lid)}"
                if lid in st.first_equivocal:
                    t += f", equivocal since {st.first_equivocal[lid].isoformat()} (progression dated then)"
                parts.append(t)
                pd_lesions.append(lid)
            if new.unequivocal:
                event_date = min(d, new.event_date)
            if grown:
                parts.append(reference_text + " (>= 25%)")
                pd_lesions.extend(grown)
            if sum_grown:
                parts.append(reference_text + " (>= 25%)")
                pd_lesions.extend(sets.targets)
            for lid in nt_prog:
                parts.append(f"unequivocal progression of non-target {_lesion(subject, lid)}")
                pd_lesions.append(lid)
            text = "PD: " + "; ".join(parts)
        elif overall == "NE":
            if rule == "B1":
                text = "NE: baseline incomplete (target " + ", ".join(bsum.missing) + " not measured at baseline)"
            elif missing:
                text = "NE: lesion " + ", ".join(missing) + " not measured"
            else:
                text = "NE: no lesions recorded"
        elif overall == "CR":
            text = "CR: all lesions disappeared" + ("" if not nts else "; non-targets absent")
        elif overall == "PR":
            text = (f"PR: sum of products {_n(p.total)} mm² is {_pct(pct_change(p.total, baseline_value))} "
                    f"from baseline {_n(baseline_value)} mm² (>= 50% decrease); no lesion grew >= 25%")
        else:
            if p is not None and p.total is not None and baseline_value is not None:
                text = (f"NC: sum of products {_n(p.total)} mm² is {_pct(pct_change(p.total, baseline_value))} "
                        f"from baseline {_n(baseline_value)} mm² (< 50% decrease); no lesion grew >= 25%")
            else:
                text = "NC: non-target " + ", ".join(l for l, s in nt_states.items() if s != "absent") + " present"
        if new.equivocal:
            text += "; equivocal new lesion " + ", ".join(_lesion(subject, l) for l in new.equivocal) + " pending"
        return _finish(row, overall, rules, [], text, event_date, _sites(subject, pd_lesions))


# ======================================================================================
# Public functions
# ======================================================================================


def _run(lesions: pl.DataFrame, segments: pl.DataFrame, crit: str, make_evaluator) -> pl.DataFrame:
    subjects = _subjects(lesions)
    segs_by_subject = _segments(segments)
    rows: list[dict] = []
    for sid in sorted(segs_by_subject):
        subject = subjects.get(sid)
        if subject is None:
            continue
        evaluator = make_evaluator()
        for r in _evaluate_subject(subject, segs_by_subject[sid], crit, evaluator):
            rows.append(r.as_dict())
    if not rows:
        return pl.DataFrame(schema=TIMEPOINTS)
    return pl.DataFrame(rows, schema=TIMEPOINTS).sort(["subject_id", "date"])


def recist11_reference(
    lesions: pl.DataFrame,
    segments: pl.DataFrame,
    options: RecistOptions = RecistOptions(),
    labs: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """RECIST 1.1 time-point responses (recist11.md §3–4, docs/imaging_engine.md), one
    subject at a time in plain Python.  Columns and dtypes of ``schema.TIMEPOINTS``, one
    row per lesion date of every subject in ``segments``, sorted by subject_id, date."""
    lab_series = _labs(labs, options.marker_uln)
    return _run(lesions, segments, "recist1.1", lambda: _Recist(options, lab_series))


def who_reference(
    lesions: pl.DataFrame,
    segments: pl.DataFrame,
    options: WhoOptions = WhoOptions(),
) -> pl.DataFrame:
    """WHO time-point responses (who.md §3–4, docs/imaging_engine.md "WHO"), one subject at a
    time in plain Python.  Same output contract as :func:`recist11_reference`."""
    return _run(lesions, segments, "who", lambda: _Who(options))
