"""The patient's summary of one patient's results (issue 15 items 3 and 4).

Built only from the outputs of :func:`remission.assess` (summary, episodes and assessments);
every number it states is a value of those tables.  What it says, in this order: the status
in one plain sentence (remission_model.md §1 vocabulary, §9 lifecycle state) and since when
it holds; what the latest result showed; earlier remissions in one sentence each; the
long-term milestone (§8: a milestone, never a promise, never "cured"); the next check-up;
the words it used, each defined once ("Words used here"); and :data:`DISCLAIMER`.  It never
suggests a treatment.  The rules, numbers and episodes are the clinician's page's and the
report's tables, not this text.

Writing rules (checked in tests/test_explain_summary.py): short sentences; no response
codes or abbreviations ("partial response", not "PR"); no "censored", "nadir" or criterion
names; dates as "4 March 2019"; fewer than about 150 words for a typical history; Flesch
reading ease >= 60.

Documented choices:

* The text speaks to the patient ("you"); once the patient has died (lifecycle state
  ``deceased``) it speaks about "the patient".
* A partly measured time point (``assessments.value`` empty, issue 15 item 1) is "could not
  be fully assessed", never a change; the last full result is quoted with its own date.
* A complete response whose sum still holds lymph nodes of normal size (a criterion whose
  declaration sets ``normal_nodes_in_complete``: RECIST 1.1's nodal targets < 10 mm,
  recist11.md §4.1 T3) says so instead of "no sign of the tumours".
* Marker criteria (``Presentation.marker``: PSA, CA-125, M-protein) say "lower"/"higher"
  and "test", scans say "smaller"/"larger" and "scan".
* Dates (:func:`patient_dates`): "since" is when the current state began, "results up to"
  the patient's own latest result, the next check-up is overdue against today, or against
  ``--as-of`` when that was given.
"""

from __future__ import annotations

import datetime as dt
import re
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





EXTENT_WORDS = {
    "LOCAL": "in the same place as before",
    "REGIONAL": "in nearby lymph nodes or tissue",
    "DISTANT": "in a distant part of the body",
}


def format_date(d: dt.date | None) -> str:
    """``4 March 2019``."""
    return "" if d is None else f"{d.day} {d.strftime('%B')} {d.year}"






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




# --------------------------------------------------------------------------------------
# Dates (issue 15 item 3)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PatientDates:
    """The dates a patient's page and summary show, each meaning what its name says."""

    #: when the current status began
    status_since: dt.date | None
    #: the patient's own latest result (assessment or status), never the cohort's
    results_up_to: dt.date | None
    #: the long-term remission milestone, when reached
    long_term_since: dt.date | None
    #: the day the status is shown against: ``--as-of`` when given, else today
    reference: dt.date
    next_due: dt.date | None
    overdue: bool


def _open_episode(episodes: list[dict[str, Any]]) -> dict[str, Any] | None:
    open_ep = [e for e in episodes if e.get("end_date") is None and (e.get("end_reason") or "censored") == "censored"]
    return open_ep[-1] if open_ep else None


def status_since(row: dict[str, Any], episodes: list[dict[str, Any]], assessments: list[dict[str, Any]]) -> dt.date | None:
    """When the current lifecycle state (remission_model.md §9) began: a remission when its
    episode qualified (and, for a complete one, became complete); responding when the open
    episode started; progression or recurrence at the latest progression event; active
    disease after the last episode ended, else at the first result after the start."""
    status = row.get("status")
    ep = _open_episode(episodes)
    if status == "deceased":
        return row.get("status_date")
    if status == "long_term_remission":
        return row.get("cure_milestone_date") or row.get("ned_since")
    if status == "complete_remission" and ep is not None:
        dates = [d for d in (ep.get("qualification_date"), ep.get("complete_start_date")) if d is not None]
        return max(dates) if dates else row.get("ned_since")
    if status == "partial_remission" and ep is not None:
        return ep.get("qualification_date") or ep.get("start_date")
    if status == "responding" and ep is not None:
        return ep.get("start_date")
    if status in ("progression", "recurrence", "progression_pending"):
        events = [a.get("progression_event_date") or a["date"] for a in assessments if a.get("is_progression_event")]
        if status == "progression_pending":
            events = [a["date"] for a in assessments if a.get("pending_progression")] or events
        ended = [e["end_date"] for e in episodes if e.get("end_date") and e.get("end_reason") in ("recurrence", "progression")]
        cands = events + ended
        return max(cands) if cands else row.get("progression_date") or row.get("status_date")
    if status == "active_disease":
        ended = [e["end_date"] for e in episodes if e.get("end_date")]
        if ended:
            return max(ended)
        post = [a["date"] for a in assessments if a.get("overall_response")]
        return min(post) if post else row.get("status_date")
    return None


def patient_dates(result, subject_id: str, today: dt.date | None = None) -> PatientDates:
    """The :class:`PatientDates` of ``subject_id``; ``today`` defaults to ``result.as_of`` when
    that date was asked for (``--as-of``), else to the real today."""
    rows = _rows(result.summary, subject_id)
    if not rows:
        raise KeyError(f"subject {subject_id!r} is not in the result")
    row = rows[0]
    episodes = _rows(result.episodes, subject_id, "episode")
    assessments = _rows(result.assessments, subject_id, "date")
    if today is None:
        today = result.as_of if getattr(result, "as_of_given", False) and result.as_of else dt.date.today()
    own = [a["date"] for a in assessments if a.get("date") is not None]
    if row.get("status_date") is not None and row.get("status") != "deceased":
        own.append(row["status_date"])
    due = row.get("next_followup_due")
    reached = (row.get("milestone_status") or "").upper() == "ACHIEVED" or bool(row.get("long_term_remission"))
    return PatientDates(
        status_since=status_since(row, episodes, assessments),
        results_up_to=max(own) if own else None,
        long_term_since=row.get("cure_milestone_date") if reached else None,
        reference=today,
        next_due=due,
        overdue=due is not None and row.get("status") != "deceased" and due < today,
    )


# --------------------------------------------------------------------------------------
# The patient's summary (issue 15 item 4)
# --------------------------------------------------------------------------------------

#: definitions, given once at the end in "Words used here" (remission_model.md §1, §6.5, §8)
GLOSSARY = {
    "remission": "Remission means the cancer has shrunk or gone for at least a month, also after treatment ended.",
    "partial remission": "Partial remission means the cancer is still there, but it has shrunk enough to count.",
    "complete remission": "Complete remission means that no test shows any sign of cancer.",
    "long-term remission": "Long-term remission means a complete remission that has lasted for years after "
    "all treatment ended.",
    "stable": "Stable disease means the cancer has not shrunk or grown enough to count as a change.",
    "progression": "Progression means the cancer has grown or spread.",
    "recurrence": "A recurrence, or relapse, means the cancer came back after a complete remission.",
    "maintenance": "Maintenance treatment is given to keep a remission going. A remission during it still counts.",
    "spontaneous": "A spontaneous remission is one with no cancer treatment recorded before it.",
    "marker": "A blood marker is a substance in the blood that goes up and down with the cancer.",
}

_STATUS = {
    "not_assessed": "There are no test results after the start of treatment yet, so the rules cannot say anything yet.",
    "active_disease": "The cancer is still there. {You} {are} not in remission at the moment.",
    "responding": "The cancer is responding to treatment. It does not count as a remission yet.",
    "partial_remission": "{You} {are} in partial remission.",
    "complete_remission": "{You} {are} in complete remission.",
    "long_term_remission": "{You} {are} in long-term remission.",
    "progression_pending": "A test suggests the cancer may be growing. This is not confirmed yet.",
    "progression": "The cancer has grown or spread. This is called progression.",
    "recurrence": "The cancer has come back after a complete remission. This is called a recurrence.",
    "deceased": "The records show that the patient died.",
}

_STATUS_TERMS = {
    "partial_remission": ("partial remission", "remission"),
    "complete_remission": ("complete remission", "remission"),
    "long_term_remission": ("long-term remission", "complete remission"),
    "recurrence": ("complete remission",),
}
#: terms the status sentence itself explains (never defined again below)
_EXPLAINED_BY_STATUS = {"progression": ("progression",), "recurrence": ("recurrence",)}


class _Terms:
    def __init__(self, explained: tuple[str, ...] = ()) -> None:
        self.used: list[str] = []
        self.explained = set(explained)

    def use(self, *keys: str) -> None:
        for k in keys:
            if k not in self.used:
                self.used.append(k)

    def glossary(self) -> list[str]:
        return [GLOSSARY[k] for k in GLOSSARY if k in self.used and k not in self.explained]


def _latest_sentences(v: _Voice, terms: _Terms, assessments: list[dict[str, Any]], criteria: str | None,
                      status: str = "") -> list[str]:
    """What the latest result showed.  A partly measured time point (no ``value``, issue 15
    item 1) is "could not be fully assessed", never a change; the last complete measurement
    is then quoted with its own date."""
    post = [a for a in assessments if a.get("overall_response")]
    if not post:
        return []
    last = post[-1]
    p = registry.get(criteria).presentation if criteria in registry.CRITERIA else None
    marker = bool(p and p.marker)
    what = (p.quantity_words if p and p.quantity_words else None)
    test = "test" if (marker or (p and "imaging" not in p.evidence)) else "scan"
    level = last.get("canonical_level")
    stated = (last.get("explanation") or "").find("stated response") >= 0
    out: list[str] = []
    if marker:
        terms.use("marker")
    if level == "NOT_EVALUABLE" or (last.get("partial_value") is not None):
        out.append(f"{v.cap(v.your)} latest {test}, on {format_date(last['date'])}, could not be fully assessed. "
                   "So it does not show whether the cancer has changed.")
        earlier = [a for a in post[:-1] if a.get("change_from_baseline_pct") is not None]
        if earlier and what:
            out.append("The last full result, " + _change_clause(v, earlier[-1], what, marker, p) + ".")
        return out
    if level == "PROGRESSION" and status in ("progression", "recurrence") and not stated:
        # the status sentence already says so; only a new tumour adds something
        return [f"A new tumour was found on {v.your} latest {test}, on {format_date(last['date'])}."] if last.get("new_lesion") else []
    if level in ("PROGRESSION", "PROGRESSION_PENDING") and not stated:
        grown = "the cancer had grown or spread" if level == "PROGRESSION" else "the cancer may be growing"
        out.append(f"{v.cap(v.your)} latest {test}, on {format_date(last['date'])}, showed that {grown}.")
        if last.get("new_lesion"):
            out.append("A new tumour was found on it.")
        terms.use("progression")
        return out
    if stated:
        out.append(f"{v.cap(v.your)} care team recorded the latest result, on {format_date(last['date'])}, as "
                   f"{response_words(last['overall_response'])}.")
        return out
    if last.get("change_from_baseline_pct") is not None and what:
        out.append(f"{v.cap(v.your)} latest {test} " + _change_clause(v, last, what, marker, p, lead=False) + ".")
        if level == "COMPLETE" and not marker and (last.get("value") or 0) > 0 and p and p.normal_nodes_in_complete:
            out.append("Some lymph nodes can still be seen, but they are of normal size. That counts as no sign of cancer.")
        return out
    out.append(f"The result of {v.your} latest {test}, on {format_date(last['date'])}, was: "
               f"{response_words(last['overall_response'])}.")
    return out


def _change_clause(v: _Voice, a: dict[str, Any], what: str, marker: bool, p, lead: bool = True) -> str:
    """'on 4 March 2019, showed your tumours 34% smaller than at the start'."""
    pct = float(a["change_from_baseline_pct"])
    start = "the start" if (a.get("line") or 1) == 1 else "the start of the latest treatment"
    when = f"on {format_date(a['date'])}"
    head = f"{when}, showed" if lead else f"({format_date(a['date'])}) showed"
    level = a.get("canonical_level")
    if not marker and level == "COMPLETE":
        if (a.get("value") or 0) == 0:
            return f"{head} no sign of the tumours that were measured"
        if p is not None and p.normal_nodes_in_complete:
            return f"{head} no sign of the tumours" + (", apart from lymph nodes of normal size" if lead else "")
    if abs(pct) < 0.5:
        return f"{head} {v.your} {what} about the same as at {start}"
    if marker and a.get("value") == 0:
        return f"{head} {v.your} {what} down to zero"
    if marker:
        return f"{head} {v.your} {what} {abs(pct):.0f}% {'lower' if pct < 0 else 'higher'} than at {start}"
    return f"{head} {v.your} {what} {abs(pct):.0f}% {'smaller' if pct < 0 else 'larger'} than at {start}"


def _ordinal(n: int) -> str:
    return ["first", "second", "third", "fourth", "fifth"][n - 1] if 1 <= n <= 5 else f"number {n}"


def _history_sentences(v: _Voice, terms: _Terms, episodes: list[dict[str, Any]], row: dict[str, Any]) -> list[str]:
    """Ended remissions in one sentence each, then the current one's maintenance or
    spontaneous note; the long-term milestone (remission_model.md §8: a milestone, never a
    promise)."""
    out: list[str] = []
    qualified = [e for e in episodes if e.get("qualified")]
    ended = [e for e in qualified if e.get("end_date") is not None]
    for i, e in enumerate(ended, 1):
        kind = "complete remission" if e.get("type") == "complete" else "partial remission"
        name = _ordinal(i) + " " if len(qualified) > 1 else ""
        reason = (e.get("end_reason") or "").lower()
        then = {
            "recurrence": "when the cancer came back",
            "progression": "when the cancer grew again",
            "death": "when the patient died",
            "loss_of_response": "when the cancer stopped responding",
            "censored_new_therapy": "when a new treatment began",
        }.get(reason, "")
        out.append(f"{v.cap(v.your)} {name}{kind} lasted from {format_date(e.get('qualification_date') or e['start_date'])} "
                   f"to {format_date(e['end_date'])}{', ' + then if then else ''}.")
        terms.use(kind, "remission")
        if reason == "recurrence":
            where = EXTENT_WORDS.get((e.get("recurrence_extent") or "").upper())
            if where:
                out.append(f"It came back {where}.")
            terms.use("recurrence")
        elif reason == "progression":
            terms.use("progression")
    ep = _open_episode(episodes)
    if ep is not None and ep.get("qualified"):
        if ep.get("on_maintenance"):
            out.append(f"{v.cap(v.you)} had maintenance treatment during this remission.")
            terms.use("maintenance")
        if ep.get("spontaneous"):
            out.append("No cancer treatment was recorded before this remission began.")
            terms.use("spontaneous")
    status = (row.get("milestone_status") or "").upper()
    date = row.get("cure_milestone_date")
    if status == "ACHIEVED":
        out.append(f"{v.cap(v.your)} complete remission reached the long-term mark on {format_date(date)}. "
                   "This is a milestone, not a promise that the cancer will never come back.")
        terms.use("long-term remission")
    elif status == "PENDING" and date is not None and row.get("status") == "complete_remission":
        out.append(f"If {v.your} complete remission goes on, it reaches the long-term mark on {format_date(date)}.")
        terms.use("long-term remission")
    if row.get("late_recurrence_after_milestone"):
        out.append("The cancer came back after the long-term mark was reached.")
        terms.use("recurrence")
    return out


def patient_summary(result, subject_id: str, today: dt.date | None = None) -> str:
    """The patient's summary of ``subject_id`` in ``result`` (an
    :class:`~remission.pipeline.AssessResult`): the status in one plain sentence and since
    when, what the latest result showed, earlier remissions in a sentence each, the next
    check-up, the words used (defined once) and :data:`DISCLAIMER`, in paragraphs separated
    by a blank line.  No rule tables, codes or clinical terms ("censored", "nadir").
    ``today``: the day the next check-up is compared with (:func:`patient_dates`).  Raises
    ``KeyError`` for an unknown subject."""
    rows = _rows(result.summary, subject_id)
    if not rows:
        raise KeyError(f"subject {subject_id!r} is not in the result")
    row = rows[0]
    episodes = _rows(result.episodes, subject_id, "episode")
    assessments = _rows(result.assessments, subject_id, "date")
    dates = patient_dates(result, subject_id, today)
    status = row.get("status") or "not_assessed"
    v = _Voice.of(status == "deceased")
    terms = _Terms(_EXPLAINED_BY_STATUS.get(status, ()))
    t = _Text()

    up_to = f", based on results up to {format_date(dates.results_up_to)}" if dates.results_up_to else ""
    t.para(f"Summary for {subject_id}{up_to}.")

    state = _STATUS.get(status, f"The current state is: {status.replace('_', ' ')}.")
    state = state.format(You=v.cap(v.you), are=v.are)
    terms.use(*_STATUS_TERMS.get(status, ()))
    when = ""
    if status == "deceased":
        when = f"The date of death is {format_date(dates.status_since)}." if dates.status_since else ""
    elif dates.status_since is not None and status != "not_assessed":
        when = f"This has been so since {format_date(dates.status_since)}."
    t.para(state, when)

    latest = _latest_sentences(v, terms, assessments, row.get("criteria"), status)
    if any("stable disease" in s for s in latest):
        terms.use("stable")
    t.para(*latest)
    t.para(*_history_sentences(v, terms, episodes, row))

    if dates.next_due is not None and status != "deceased":
        if dates.overdue:
            t.para(f"{v.cap(v.your)} next check-up was due by {format_date(dates.next_due)}. "
                   f"No later results are recorded.")
        else:
            t.para(f"{v.cap(v.your)} next check-up is due by {format_date(dates.next_due)}.")

    words = terms.glossary()
    if words:
        t.para("Words used here:", *words)
    t.para(DISCLAIMER)
    return t.render()


def glossary_of(text: str) -> list[str]:
    """The definitions in a summary's "Words used here" paragraph (for pages)."""
    for para in text.split("\n\n"):
        if para.startswith("Words used here:"):
            return [d for d in GLOSSARY.values() if d in para]
    return []


_DATE_WORDS = re.compile(
    r"\b(\d{1,2}) (January|February|March|April|May|June|July|August|September|October|November|December) (\d{4})\b"
)


def html_paragraph(text: str) -> str:
    """A paragraph of the summary as HTML: escaped, each written date in a ``<time>``
    element (which pages keep on one line: dates never break)."""
    import html as _html

    return _DATE_WORDS.sub(lambda m: f"<time>{m.group(0)}</time>", _html.escape(text))
