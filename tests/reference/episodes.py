"""Plain-Python, per-subject reference of the remission episodes (remission_model.md §6-7).

Test-only: :func:`derive_episodes_reference` follows the §6.3 pseudo-code literally, one
subject at a time; the property tests (``tests/test_episodes.py``,
``tests/test_episodes_properties.py``) prove :func:`remission.timeline.episodes.derive_episodes`
(the vectorised engine, the only code that produces outputs) equal to it.  The choices
where the spec is not explicit (A-J) are those of :mod:`remission.timeline.episodes`; the
``explanation`` column is the engine's own ``_explain``, applied to the reference's rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import polars as pl

from remission.options import RemissionOptions
from remission.timeline.episodes import (
    CENSORED,
    CENSORED_NEW_THERAPY,
    DEATH,
    EPISODES_SCHEMA,
    INSUFFICIENT,
    LAPSE,
    LOSS_OF_COMPLETE,
    LOSS_OF_RESPONSE,
    NE,
    ON_ACTIVE,
    PEND,
    PROG,
    PROGRESSION_END,
    RECURRENCE,
    REGROWTH,
    REM,
    C,
    P,
    _confirm_days,
    _explain,
    recurrence_extent,
    treatment_classes,
)

__all__ = ["derive_episodes_reference"]

#: end of an open-ended maintenance interval (``maintenance_periods`` shows it as ``..``)
FAR_FUTURE = dt.date(9999, 12, 31)


class _Open:
    def __init__(self, s: dict):
        self.start = s["date"]
        self.onset = s["level"]
        self.current = s["level"]
        self.best = s["level"]
        self.censor = s["date"]
        self.pending = None
        self.members = [s]
        self.runs = [[s["date"], None]] if s["level"] == C else []  # complete sub-periods
        self.lapses: list[dt.date] = []
        self.end_date = None
        self.end_reason = None
        self.sites = None
        self.recognised = None


def derive_episodes_reference(
    statuses: pl.DataFrame,
    treatments: pl.DataFrame,
    subjects: pl.DataFrame,
    options: RemissionOptions | None = None,
    *,
    as_of: dt.date | None = None,
) -> pl.DataFrame:
    """Per-subject plain-Python twin of :func:`remission.timeline.episodes.derive_episodes` (same output)."""
    o = options or RemissionOptions()
    subj = {r["subject_id"]: r for r in subjects.to_dicts()}
    trs: dict[str, list[dict]] = defaultdict(list)
    for t in treatment_classes(treatments, o.non_blocking_intents).to_dicts():
        if as_of is not None:
            if t["start_date"] > as_of:
                continue
            if t["end_date"] is not None and t["end_date"] > as_of:
                t["end_date"] = None
        trs[t["subject_id"]].append(t)
    by_subject: dict[str, list[dict]] = defaultdict(list)
    for s in statuses.to_dicts():
        by_subject[s["subject_id"]].append(s)
    rows: list[dict] = []
    for sid in sorted(by_subject):
        rows.extend(_reference_subject(sid, by_subject[sid], trs.get(sid, []), subj.get(sid, {}), o, as_of))
    ep = pl.DataFrame(rows, schema={k: v for k, v in EPISODES_SCHEMA.items() if k != "explanation"})
    return _explain(ep.with_columns(explanation=pl.lit(None, dtype=pl.String)), o).select(list(EPISODES_SCHEMA)).sort(
        "subject_id", "episode"
    )


def _reference_subject(sid, sts, trs, subject, o: RemissionOptions, as_of):
    diag = subject.get("diagnosis_date")
    death = subject.get("death_date")
    if as_of is not None and death is not None and death > as_of:
        death = None
    cancer = subject.get("cancer_type")
    cd = _confirm_days(subject.get("criteria"), o)
    add1 = 1 if o.add_one_day else 0
    # §6.2.1 and choice A
    sts = [dict(s) for s in sts if (as_of is None or s["date"] <= as_of) and (diag is None or s["date"] >= diag)]
    for s in sts:
        s["eff"] = s["date"]
        if s["level"] == PROG:
            ped = s.get("progression_event_date") or s["date"]
            s["eff"] = min(ped, s["date"])
    # choice B: superseded statuses
    windows = [(s["eff"], s["date"]) for s in sts if s["level"] == PROG and s["eff"] < s["date"]]
    sts = [s for s in sts if s["level"] == PROG or not any(e <= s["date"] < r for e, r in windows)]
    events = [(s["eff"], 1, s["date"], s) for s in sts]
    if o.censor_at_new_therapy:
        starts = {t["start_date"] for t in trs if t["klass"] == "blocking"}
        events += [(d, 0, d, None) for d in starts]
    events.sort(key=lambda e: e[:3])

    episodes: list[_Open] = []
    open_: _Open | None = None
    for _, kind, _, s in events:
        if kind == 0:  # choice C
            if open_ is not None:
                open_.end_reason = CENSORED_NEW_THERAPY
                open_ = None
            continue
        lvl = s["level"]
        if open_ is None:
            if lvl in REM:
                open_ = _Open(s)
                episodes.append(open_)
            continue
        if lvl == PROG:
            open_.end_date = s["eff"]
            open_.end_reason = RECURRENCE if open_.current == C else PROGRESSION_END
            open_.sites = s.get("recurrence_sites")
            open_.recognised = s["date"]
            open_ = None
            continue
        if lvl in LAPSE and o.loss_of_response_policy == "end":
            open_.end_date = s["date"]
            open_.end_reason = LOSS_OF_RESPONSE
            open_ = None
            continue
        open_.members.append(s)
        if lvl == C and open_.current == P:
            open_.current = C
            open_.best = C
            open_.runs.append([s["date"], None])  # upgrade
        elif lvl == P and open_.current == C:
            open_.runs[-1][1] = s["date"]  # loss_of_complete (§6.6)
            open_.current = P
        elif lvl in LAPSE:
            open_.lapses.append(s["date"])  # loss_of_response_policy "continue"
        elif lvl == PEND:
            open_.pending = open_.pending or s["date"]
        if lvl in REM:
            open_.censor = s["date"]
            open_.pending = None
    if open_ is not None:
        if death is not None and death >= open_.start:
            open_.end_date, open_.end_reason = death, DEATH
        else:
            open_.end_reason = CENSORED

    prog_dates = sorted(s["eff"] for s in sts if s["level"] == PROG)
    out = []
    prev = None
    for n, e in enumerate(episodes, start=1):
        stop = e.end_date or e.censor
        mem = e.members
        rems = [m for m in mem if m["level"] in REM]

        def ne_between(a, b):
            return sum(1 for m in mem if m["level"] == NE and a < m["date"] < b)

        # §6.4
        if cd == 0:
            conf = e.start
        else:
            conf = next(
                (m["date"] for m in rems if (m["date"] - e.start).days >= cd and ne_between(e.start, m["date"]) <= o.max_ne_between),
                None,
            )
        # complete sub-periods (choice D): run = [start, loss date or None]
        run_stops = [r[1] if r[1] is not None else stop for r in e.runs]
        cstart = e.runs[0][0] if e.runs else None
        cconf = None
        if e.runs:
            if cd == 0:
                cconf = cstart
            else:
                first_loss = e.runs[0][1]
                cconf = next(
                    (
                        m["date"]
                        for m in rems
                        if m["level"] == C
                        and (m["date"] - cstart).days >= cd
                        and (first_loss is None or m["date"] < first_loss)
                        and ne_between(cstart, m["date"]) <= o.max_ne_between
                    ),
                    None,
                )
        # §6.5
        blocking = [t for t in trs if t["klass"] == "blocking"]
        qd = q_end = q_label = None
        if conf is not None:
            for m in rems:
                D = m["date"]
                if D < conf or (D - e.start).days < o.min_sustain_days:
                    continue
                started = [t for t in blocking if t["start_date"] <= D]
                if all(t["end_date"] is not None and (D - t["end_date"]).days >= o.post_treatment_days for t in started):
                    qd = D
                    if started:
                        q_end = max(t["end_date"] for t in started)
                        q_label = sorted(t["label"] for t in started if t["end_date"] == q_end)[0]
                    break
        last_status = max(m["date"] for m in mem)
        ongoing = sorted(
            (t["start_date"], t["label"])
            for t in blocking
            if t["start_date"] <= last_status and (t["end_date"] is None or t["end_date"] >= last_status)
        )
        if qd is not None:
            nq = None
        elif e.end_reason in (RECURRENCE, PROGRESSION_END, LOSS_OF_RESPONSE):
            nq = REGROWTH
        elif ongoing:
            nq = ON_ACTIVE
        else:
            nq = INSUFFICIENT
        # §6.7 (choice F)
        if n == 1:
            lbs = diag
        else:
            before = [p for p in prog_dates if p < e.start]
            cands = [x for x in (prev.end_date, before[-1] if before else None) if x is not None]
            lbs = max(cands) if cands else prev.censor
        if o.spontaneous_lookback_days is not None:
            cap = e.start - dt.timedelta(days=o.spontaneous_lookback_days)
            lbs = cap if lbs is None else max(lbs, cap)
        treated = any(
            t["start_date"] <= e.start and (t["end_date"] is None or lbs is None or t["end_date"] >= lbs)
            for t in trs
            if t["klass"] != "ignored"
        )
        maint = sorted(
            (t["start_date"], t["end_date"] or FAR_FUTURE)
            for t in trs
            if t["klass"] == "maintenance" and t["start_date"] <= stop and (t["end_date"] is None or t["end_date"] >= e.start)
        )
        periods = ";".join(f"{a.isoformat()}/{'..' if b == FAR_FUTURE else b.isoformat()}" for a, b in maint) or None
        qot = qd is not None and any(
            t["klass"] == "maintenance" and t["start_date"] <= qd and (t["end_date"] is None or t["end_date"] >= qd) for t in trs
        )
        last_run = e.runs[-1] if e.runs else None
        c_current = e.current == C and bool(e.runs)
        complete_end = last_run[1] if last_run else None  # loss date of the last sub-period
        ext = recurrence_extent(e.sites, cancer) if e.end_reason in (RECURRENCE, PROGRESSION_END) else None
        out.append(
            {
                "subject_id": sid,
                "episode": n,
                "type": "complete" if e.best == C else "partial",
                "start_date": e.start,
                "confirmed_date": conf,
                "complete_start_date": cstart,
                "qualified": qd is not None,
                "qualification_date": qd,
                "not_qualified_reason": nq,
                "end_date": e.end_date,
                "end_reason": e.end_reason,
                "censor_date": e.censor,
                "duration_days": (stop - e.start).days + add1,
                "on_maintenance": periods is not None,
                "spontaneous": not treated,
                "complete_confirmation_date": cconf,
                "complete_end_date": complete_end,
                "complete_end_reason": LOSS_OF_COMPLETE if complete_end is not None else None,
                "recurrence_extent": ext,
                "pending_progression_since": e.pending,
                "qualified_on_treatment": qot,
                "maintenance_periods": periods,
                "response_lapse_dates": ";".join(d.isoformat() for d in e.lapses) or None,
                "complete_duration_days": sum((b - r[0]).days + add1 for r, b in zip(e.runs, run_stops)) if e.runs else None,
                "type_at_onset": e.onset,
                "current_type": e.current,
                "ned_since": last_run[0] if c_current else None,
                "last_complete_start_date": last_run[0] if last_run else None,
                "last_complete_stop_date": run_stops[-1] if e.runs else None,
                "recurrence_sites": e.sites if e.end_reason in (RECURRENCE, PROGRESSION_END) else None,
                "end_recognised_date": e.recognised,
                "last_status_date": last_status,
                "look_back_start": lbs,
                "treatment_end_before_qualification": q_end,
                "treatment_before_qualification": q_label,
                "ongoing_treatment": f"{ongoing[0][1]} started {ongoing[0][0].isoformat()}" if ongoing else None,
            }
        )
        prev = e
    return out
