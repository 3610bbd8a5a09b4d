"""Plain-language summary of one patient's results (issue "Explained to people", item 1).

The text uses the patient-facing vocabulary of remission_model.md §1 (complete remission,
partial remission, stable disease, progression, recurrence, in remission while on
maintenance, spontaneous remission, long-term remission, "remission must be sustained") and
explains each of these words the first time it applies to the patient. It is built only
from the outputs of :func:`remission.assess` (summary, episodes and assessments); every
number it states is a value of those tables.

Writing rules (checked in tests/test_explain_summary.py): short sentences; no abbreviation
without its meaning (criterion names are introduced with what they are, response codes
are written out: "partial response", not "PR"); dates as "4 March 2019"; the text always ends
with :data:`DISCLAIMER`. It describes what the criteria say the results show and never
suggests a treatment.

Documented choices:

* The text speaks to the patient ("you"). When the patient has died (lifecycle state
  ``deceased``, remission_model.md §9) it speaks about "the patient" instead.
* "Confirmed" (remission_model.md §6.4) is explained as "a later test showed the same
  result"; the number of days between the two tests is taken from the data.
* "Sustained" (§6.5) is explained with the defaults of the model (one month = 28 days after
  the start and 28 days after the end of treatment); the episode's own dates and the
  treatment that ended before qualification are quoted from the episodes table.
* The tumour or marker change is that of the latest measured assessment, against the
  baseline of its line of therapy (what the criterion compares with), and the largest
  decrease is added when it differs.
* The long-term remission milestone (§8) is described as a milestone, never as a cure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl

from remission.criteria import registry

DISCLAIMER = (
    "This summary only describes what the response criteria say about the test results, "
    "and it is not medical advice about treatment."
)

#: response codes written out (criterion vocabularies, remission_model.md §3)
RESPONSE_WORDS = {
    "CR": "complete response",
    "PR": "partial response",
    "SD": "stable disease",
    "PD": "progressive disease",
    "NE": "not evaluable",
    "NC": "no change",
    "NED": "no evidence of disease",
    "NON-CR/NON-PD": "neither a complete response nor progressive disease",
    "MR": "minor response",
    "MISSING": "no result after the start",
    "ICR": "complete response",
    "IPR": "partial response",
    "ISD": "stable disease",
    "IUPD": "possible progression, not yet confirmed",
    "ICPD": "confirmed progressive disease",
    "CMR": "complete metabolic response",
    "PMR": "partial metabolic response",
    "NMR": "no metabolic response",
    "PMD": "progressive metabolic disease",
    "SCR": "stringent complete response",
    "VGPR": "very good partial response",
    "CRI": "complete response with incomplete blood count recovery",
    "CRH": "complete response with partial blood count recovery",
    "MLFS": "a leukaemia-free bone marrow",
}

def _criterion_words(criteria: str | None) -> tuple[str, str]:
    """(short name, introducing sentence) of a criterion, from its declaration."""
    if criteria in registry.CRITERIA:
        p = registry.get(criteria).presentation
        return p.plain_name, p.introduction
    return criteria or "the response rules", ""


def _quantity_words(criteria: str | None) -> tuple[str, bool]:
    """(what is measured, in a patient's words; whether it is a blood marker)."""
    if criteria in registry.CRITERIA:
        p = registry.get(criteria).presentation
        if p.quantity_words:
            return p.quantity_words, p.marker
    return "measured value", True


EXTENT_WORDS = {
    "LOCAL": "in the same place as before",
    "REGIONAL": "in nearby lymph nodes or tissue",
    "DISTANT": "in a distant part of the body",
}


def format_date(d: dt.date | None) -> str:
    """``4 March 2019``."""
    return "" if d is None else f"{d.day} {d.strftime('%B')} {d.year}"


def _number(n: int) -> str:
    words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
    return words[n] if 0 <= n < len(words) else str(n)


def _months(days: int | None) -> str:
    if days is None:
        return ""
    if days < 60:
        return f"{days} days"
    months = round(days / 30.4375)
    if months < 24:
        return f"{days} days (about {months} months)"
    return f"{days} days (about {days / 365.25:.1f} years)"


def response_words(code: str | None) -> str:
    if code is None:
        return "no result"
    return RESPONSE_WORDS.get(" ".join(code.upper().split()), code)


@dataclass
class _Voice:
    """Second person for the patient; third person once the patient has died."""

    you: str
    your: str
    are: str
    have: str

    @classmethod
    def of(cls, deceased: bool) -> "_Voice":
        if deceased:
            return cls("the patient", "the patient's", "was", "had")
        return cls("you", "your", "are", "have")

    def cap(self, s: str) -> str:
        return s[:1].upper() + s[1:]


class _Text:
    """Collects paragraphs of sentences; explains each term once."""

    def __init__(self) -> None:
        self.paragraphs: list[list[str]] = []
        self.explained: set[str] = set()

    def para(self, *sentences: str) -> None:
        s = [x for x in sentences if x]
        if s:
            self.paragraphs.append(s)

    def once(self, key: str, sentence: str) -> str:
        if key in self.explained:
            return ""
        self.explained.add(key)
        return sentence

    def render(self) -> str:
        return "\n\n".join(" ".join(p) for p in self.paragraphs)


def _rows(frame: pl.DataFrame | None, subject_id: str, sort: str | tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    if frame is None or frame.height == 0:
        return []
    f = frame.filter(pl.col("subject_id") == subject_id)
    if sort:
        f = f.sort(sort)
    return list(f.iter_rows(named=True))


def _criterion_intro(t: _Text, criteria: str | None) -> tuple[str, str]:
    """(short name, sentence introducing it the first time)."""
    short, intro = _criterion_words(criteria)
    return short, t.once(f"crit:{criteria}", intro)


def _change_sentences(t: _Text, v: _Voice, assessments: list[dict[str, Any]], criteria: str | None) -> list[str]:
    """The tumour or marker change (remission_model.md §4: 'your tumours are 41 % smaller
    (RECIST partial response)')."""
    measured = [a for a in assessments if a.get("change_from_baseline_pct") is not None and a.get("overall_response")]
    stated = [a for a in assessments if a.get("overall_response") and a.get("value") is None]
    short, intro = _criterion_intro(t, criteria)
    out: list[str] = []
    if measured:
        last = measured[-1]
        what, marker = _quantity_words(criteria)
        pct = float(last["change_from_baseline_pct"])
        label = f"({short} {response_words(last['overall_response'])})"
        start = "the start" if (last.get("line") or 1) == 1 else "the scan before the latest treatment began"
        if marker:
            subject = f"{v.your} {what}"
            verb = "was"
        else:
            subject = f"{v.your} {what}"
            verb = "measured"
        if not marker and last.get("value") == 0:
            change = f"none of {v.your} measured tumours could be seen any more {label}."
        elif abs(pct) < 0.5:
            change = f"{subject} {verb} about the same as at {start} {label}."
        elif pct < 0:
            change = f"{subject} {verb} {abs(pct):.0f}% smaller than at {start} {label}." if not marker else (
                f"{subject} {verb} {abs(pct):.0f}% lower than at {start} {label}."
            )
        else:
            change = f"{subject} {verb} {pct:.0f}% {'larger' if not marker else 'higher'} than at {start} {label}."
        out.append(f"At the latest check on {format_date(last['date'])}, {change}")
        out.append(intro)
        out.extend(_response_meaning(t, last))
        same_line = [a for a in measured if a.get("line") == last.get("line")]
        best = min(same_line, key=lambda a: a["change_from_baseline_pct"])
        if best is not last and best["change_from_baseline_pct"] < -0.5 and best["change_from_baseline_pct"] < pct - 0.5:
            out.append(
                f"The biggest drop was {abs(best['change_from_baseline_pct']):.0f}%, on {format_date(best['date'])}."
            )
    elif stated:
        last = stated[-1]
        out.append(
            f"The latest result, on {format_date(last['date'])}, was stated by the care team as "
            f"{response_words(last['overall_response'])} ({short})."
        )
        out.append(intro)
        out.extend(_response_meaning(t, last))
    return out


def _response_meaning(t: _Text, a: dict[str, Any]) -> list[str]:
    """One sentence on what the latest category means (remission_model.md §1 vocabulary)."""
    code = " ".join((a.get("overall_response") or "").upper().split())
    level = a.get("canonical_level")
    out = []
    if a.get("new_lesion") and level == "PROGRESSION":
        out.append("A new tumour was found on that scan.")
    if level == "STABLE":
        out.append(t.once("stable", "Stable disease means the cancer has neither shrunk nor grown enough to count as a change."))
    elif level == "PROGRESSION" and code:
        out.append(t.once("progression", "Progressive disease means the cancer has grown or spread."))
    return out


_STATE = {
    "not_assessed": "There are no test results after the start yet, so the rules cannot say anything yet.",
    "active_disease": "The cancer is still there: {you} {are} not in remission at the moment.",
    "responding": "The cancer is responding: it is smaller than at the start. It does not count as a remission yet.",
    "partial_remission": (
        "{You} {are} in partial remission. This means the cancer is still there, but it has shrunk enough to count."
    ),
    "complete_remission": "{You} {are} in complete remission. This means that no test shows any sign of cancer.",
    "long_term_remission": (
        "{You} {are} in long-term remission. This means {your} complete remission has lasted for years "
        "after treatment ended."
    ),
    "progression_pending": "A test suggests the cancer may be growing. This is not yet confirmed.",
    "progression": "The cancer has grown or spread. This is called progression.",
    "recurrence": "The cancer came back after a complete remission. This is called a recurrence, or relapse.",
    "deceased": "The records show that the patient died.",
}


def _since(row: dict[str, Any], episodes: list[dict[str, Any]]) -> dt.date | None:
    status = row.get("status")
    open_ep = [e for e in episodes if e.get("end_reason") in ("censored", None) and e.get("end_date") is None]
    if status in ("complete_remission", "long_term_remission"):
        return row.get("ned_since") or (open_ep[-1].get("complete_start_date") if open_ep else None)
    if status in ("partial_remission", "responding") and open_ep:
        return open_ep[-1].get("start_date")
    if status == "progression":
        return row.get("status_date")
    if status == "recurrence":
        return row.get("status_date")
    return row.get("status_date")


def _episode_paragraph(t: _Text, v: _Voice, e: dict[str, Any], n_episodes: int) -> list[str]:
    kind = "complete" if e.get("type") == "complete" else "partial"
    qualified = bool(e.get("qualified"))
    name = "remission" if qualified else "response"
    head = f"Period {e['episode']}: " if n_episodes > 1 else ""
    s: list[str] = []
    onset = (e.get("type_at_onset") or "").upper()
    upgraded = kind == "complete" and onset == "PARTIAL" and e.get("complete_start_date")
    s.append(f"{head}A {'partial' if upgraded else kind} {name} started on {format_date(e['start_date'])}.")
    if e.get("confirmed_date") and e["confirmed_date"] > e["start_date"]:
        gap = (e["confirmed_date"] - e["start_date"]).days
        s.append(f"It was confirmed on {format_date(e['confirmed_date'])}, {gap} days later.")
        s.append(t.once("confirmed", "Confirmed means that a later test showed the same result."))
    if upgraded:
        s.append(f"It became a complete {name} on {format_date(e['complete_start_date'])}.")
    if qualified:
        s.append(f"It counted as a remission from {format_date(e.get('qualification_date'))}.")
        s.append(
            t.once(
                "sustained",
                "A response counts as a remission only when it is sustained. "
                "That means no regrowth for at least a month, and for at least a month after treatment ended.",
            )
        )
        if e.get("treatment_end_before_qualification") and e.get("treatment_before_qualification"):
            s.append(
                f"The treatment before it ({e['treatment_before_qualification']}) ended on "
                f"{format_date(e['treatment_end_before_qualification'])}."
            )
    else:
        reason = (e.get("not_qualified_reason") or "").lower()
        if reason == "regrowth_within_sustain_window":
            s.append("It did not count as a remission, because the cancer grew again too soon.")
            s.append(t.once("sustained-short", "To count, it must last at least a month, and a month after treatment ends."))
        elif reason == "on_active_treatment":
            s.append("It does not count as a remission yet, because treatment is still going on.")
            s.append("It can count once it has lasted at least a month after the treatment ends.")
        else:
            s.append("It does not count as a remission yet.")
            s.append("A later test must show that it has lasted at least a month, and a month after treatment ended.")
    if e.get("on_maintenance"):
        periods = (e.get("maintenance_periods") or "").split(";")
        spans = []
        for p in periods:  # ISO 8601 intervals "start/end", ".." = still going on
            if "/" in p:
                a, b = p.split("/", 1)
                try:
                    start = f"from {format_date(dt.date.fromisoformat(a))}"
                    end = "" if b in ("", "..") else f" to {format_date(dt.date.fromisoformat(b))}"
                except ValueError:
                    continue
                spans.append(start + (end or ", still going on"))
        when = f" ({'; '.join(spans)})" if spans else ""
        s.append(f"During this time {v.you} had maintenance treatment{when}.")
        s.append(
            t.once(
                "maintenance",
                "Maintenance treatment is given to keep a remission going. "
                "Being in remission while on maintenance still counts as remission.",
            )
        )
    if e.get("spontaneous"):
        s.append("No cancer treatment was recorded before it began. This is called a spontaneous remission.")
    end = (e.get("end_reason") or "").lower()
    dur = _months(e.get("duration_days"))
    if end == "recurrence":
        where = EXTENT_WORDS.get((e.get("recurrence_extent") or "").upper(), "")
        sites = e.get("recurrence_sites")
        site_txt = f" ({sites.replace(';', ', ').replace('_', ' ')})" if sites else ""
        s.append(
            f"It ended on {format_date(e.get('end_date'))}, when the cancer came back{(' ' + where) if where else ''}{site_txt}."
        )
        s.append(t.once("recurrence", "A return of cancer after a complete remission is called a recurrence, or relapse."))
        s.append(f"It lasted {dur}.")
    elif end == "progression":
        s.append(f"It ended on {format_date(e.get('end_date'))}, when the cancer grew again. This is called progression.")
        s.append(f"It lasted {dur}.")
    elif end == "death":
        s.append(f"It ended with the patient's death on {format_date(e.get('end_date'))}.")
    elif end == "loss_of_response":
        s.append(f"It ended on {format_date(e.get('end_date'))}, when the cancer stopped responding.")
    elif end == "censored_new_therapy":
        s.append(f"It was followed until {format_date(e.get('censor_date'))}, when a new treatment began.")
    else:
        s.append(f"It is still going on. The latest test showing it was on {format_date(e.get('censor_date'))}.")
        if e.get("duration_days"):
            s.append(f"So far it has lasted {dur}.")
        else:
            s.append("So far it has been seen on one test only.")
    return s


def _milestone_sentences(v: _Voice, row: dict[str, Any]) -> list[str]:
    """remission_model.md §8: long-term remission milestone, a milestone and not a promise."""
    status = (row.get("milestone_status") or "").upper()
    date = row.get("cure_milestone_date")
    if status == "ACHIEVED":
        return [
            f"{v.cap(v.your)} complete remission reached the long-term mark on {format_date(date)}.",
            "Long-term remission means a complete remission that has lasted for years after all treatment ended.",
            "Some people call this being cured. It is still not a promise that the cancer will never come back.",
        ]
    if status == "PENDING" and date is not None:
        return [
            f"If the complete remission goes on, it will reach the long-term mark on {format_date(date)}.",
            "Long-term remission means a complete remission that has lasted for years after all treatment ended.",
        ]
    if status == "PENDING_ON_TREATMENT":
        return ["The count towards long-term remission starts when all treatment has ended."]
    return []


def patient_summary(result, subject_id: str) -> str:
    """Plain-language summary of ``subject_id`` in ``result`` (an
    :class:`~remission.pipeline.AssessResult`); paragraphs are separated by a blank line
    and the last sentence is :data:`DISCLAIMER`. Raises ``KeyError`` for an unknown subject."""
    rows = _rows(result.summary, subject_id)
    if not rows:
        raise KeyError(f"subject {subject_id!r} is not in the result")
    row = rows[0]
    episodes = _rows(result.episodes, subject_id, "episode")
    assessments = _rows(result.assessments, subject_id, "date")
    status = row.get("status") or "not_assessed"
    v = _Voice.of(status == "deceased")
    t = _Text()

    as_of = result.as_of
    t.para(f"Summary for {subject_id}, based on the test results up to {format_date(as_of)}." if as_of else f"Summary for {subject_id}.")

    # current state and since when
    state = _STATE.get(status, f"The current state is: {status.replace('_', ' ')}.")
    state = state.format(you=v.you, You=v.cap(v.you), are=v.are, your=v.your)
    since = _since(row, episodes)
    when = ""
    if status == "deceased":
        when = f"The date of death is {format_date(row.get('status_date'))}." if row.get("status_date") else ""
    elif since is not None and status != "not_assessed":
        when = f"This has been the case since {format_date(since)}."
    extra = ""
    if status in ("partial_remission", "complete_remission", "long_term_remission") and row.get("on_maintenance"):
        extra = f"{v.cap(v.you)} {v.are} in remission while on maintenance treatment."
    elif status in ("responding",) and row.get("on_active_treatment"):
        extra = f"{v.cap(v.you)} {v.are} still on active treatment."
    t.para(state, when, extra)

    # tumour or marker change
    t.para(*_change_sentences(t, v, assessments, row.get("criteria")))

    # episodes
    if episodes:
        n_q = sum(bool(e.get("qualified")) for e in episodes)
        if len(episodes) == 1:
            intro = "There has been one period of response." if n_q == 0 else "There has been one period of remission."
        else:
            counted = "none" if n_q == 0 else _number(n_q)
            intro = f"There have been {_number(len(episodes))} periods of response. {counted.capitalize()} of them counted as remission."
        t.para(intro, t.once("response", "A response means the cancer shrank. It becomes a remission when it is sustained."))
        for e in episodes:
            t.para(*_episode_paragraph(t, v, e, len(episodes)))
    elif status not in ("not_assessed", "deceased"):
        t.para("The tests have not shown a remission so far.")

    # progression without an episode (never responded)
    if not episodes and row.get("progression_date"):
        t.para(f"The cancer grew or spread on {format_date(row['progression_date'])}. This is called progression.")

    # long-term remission milestone
    t.para(*_milestone_sentences(v, row))
    if row.get("late_recurrence_after_milestone"):
        t.para("The cancer came back after the long-term mark was reached.")

    # next check-up
    due = row.get("next_followup_due")
    if due is not None and status != "deceased":
        if as_of is not None and due < as_of:
            t.para(f"{v.cap(v.your)} next check-up was due by {format_date(due)}. No later results are recorded.")
        else:
            t.para(f"{v.cap(v.your)} next check-up is due by {format_date(due)}.")

    t.para(DISCLAIMER)
    return t.render()
