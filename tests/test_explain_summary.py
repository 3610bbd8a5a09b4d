"""The patient's summary (issue 15 items 3 and 4; remission_model.md §1 vocabulary): the
status in one plain sentence, since when, the latest result, earlier remissions, the next
check-up, the words used (defined once) and the disclaimer, in fewer than ~150 words.

Readability bar: every summary of the bundled example has a Flesch reading ease >= 60
("plain English": Flesch's scale puts 60-70 at the level of 13-15-year-olds) and a
Flesch-Kincaid grade <= 8 (the grade US health-literacy guidance, e.g. the NIH "Clear &
Simple" guide, recommends for patient material). The texts measure about 70-85 and grade
4-8, so the bar is met with a margin and still fails on long sentences or jargon.
Syllables are counted with textstat's own fallback, the pyphen hyphenation dictionary that
ships with it: textstat would otherwise download the CMU pronouncing dictionary through
nltk, and tests never use the network.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from remission import assess
import datetime as dt

from remission.explain import DISCLAIMER, GLOSSARY, format_date, patient_dates, patient_summary
from remission.options import AssessOptions

EXAMPLE = Path(__file__).resolve().parents[1] / "src" / "remission" / "data" / "example"


@pytest.fixture(scope="module")
def result():
    return assess(EXAMPLE)


@pytest.fixture(scope="module")
def texts(result):
    return {sid: patient_summary(result, sid) for sid in result.summary["subject_id"].to_list()}


@pytest.fixture()
def textstat_offline(monkeypatch):
    import textstat
    import textstat.backend.counts._count_syllables as cs

    monkeypatch.setattr(cs, "get_cmudict", lambda lang: None)
    cs.count_syllables.cache_clear() if hasattr(cs.count_syllables, "cache_clear") else None
    return textstat


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.replace("\n\n", " ")) if s.strip()]


def test_every_summary_ends_with_the_disclaimer(texts):
    for sid, text in texts.items():
        assert text.rstrip().endswith(DISCLAIMER), sid
        assert "response criteria" in DISCLAIMER and "not medical advice about treatment" in DISCLAIMER


def test_readability_of_every_example_summary(texts, textstat_offline):
    ts = textstat_offline
    for sid, text in texts.items():
        assert ts.flesch_reading_ease(text) >= 60, (sid, ts.flesch_reading_ease(text))
        assert ts.flesch_kincaid_grade(text) <= 8, (sid, ts.flesch_kincaid_grade(text))


def test_readability_bar_can_fail(textstat_offline):
    """The bar rejects dense clinical prose (the test is not vacuous)."""
    dense = (
        "Notwithstanding the radiological documentation of a partial response according to the "
        "Response Evaluation Criteria in Solid Tumors, subsequent confirmatory imaging demonstrated "
        "heterogeneous progression characterised by the emergence of hepatic metastatic deposits "
        "necessitating reconsideration of the therapeutic strategy."
    )
    assert textstat_offline.flesch_reading_ease(dense) < 60


def body(text: str) -> str:
    """The text without its disclaimer."""
    return text.replace(DISCLAIMER, "").strip()


def words(text: str) -> int:
    return len(body(text).split())


BLOOD = Path(__file__).resolve().parents[1] / "src" / "remission" / "data" / "examples_blood"


@pytest.fixture(scope="module")
def blood():
    return {name: assess(BLOOD / name) for name in ("gcig", "imwg2016", "pcwg3")}


def test_short_sentences(texts):
    for sid, text in texts.items():
        for s in sentences(text):
            if s == DISCLAIMER:
                continue
            assert len(s.split()) <= 25, (sid, s)


def test_short_texts(texts):
    """Fewer than ~150 words for a typical history (the disclaimer aside); the longest
    histories of the example (two remissions, maintenance, a milestone) stay under 180."""
    counts = sorted(words(t) for t in texts.values())
    assert counts[len(counts) // 2] < 120, counts
    assert sum(c < 150 for c in counts) >= 0.9 * len(counts), counts
    assert counts[-1] < 180, counts


def test_no_codes_no_clinical_jargon_no_advice(texts):
    """Response codes written out, no criterion names, no 'censored', 'nadir' or 'baseline',
    never 'cured', never a treatment suggestion."""
    codes = r"\b(CR|PR|SD|PD|NE|NC|NED|BOR|ORR|PFS|DoR|MRD|VGPR|sCR|iCR|CMR|PMR|RECIST|WHO|iRECIST|mRECIST)\b"
    for sid, text in texts.items():
        assert not re.search(codes, text), (sid, re.search(codes, text).group(0))
        low = text.lower()
        for word in ("censor", "nadir", "baseline", "cured", "qualif", "episode", "you should", "recommend", "consider"):
            assert word not in low, (sid, word)


def test_each_word_defined_once_in_the_glossary(texts):
    for sid, text in texts.items():
        for definition in GLOSSARY.values():
            assert text.count(definition) <= 1, (sid, definition)
        paras = text.split("\n\n")
        glossary = [p for p in paras if p.startswith("Words used here:")]
        assert len(glossary) <= 1
        # terms the status sentence explains are not defined again
        if "This is called progression." in text:
            assert GLOSSARY["progression"] not in text, sid
        if "This is called a recurrence." in text:
            assert GLOSSARY["recurrence"] not in text, sid
        if "partial remission" in body(text).split("Words used here:")[0]:
            assert GLOSSARY["partial remission"] in text, sid


# --- the five situations of issue 15 ("Done when") -------------------------------------------


def test_ne_visit_ex09(texts):
    """EX09: 2021-07-05 and 2021-09-06 measured T1 only (T2 not evaluated): NE.  The old text
    said 'your tumours measured 51% smaller'; the sum of some tumours is not a measurement."""
    t = texts["EX09"]
    assert "Your latest scan, on 6 September 2021, could not be fully assessed." in t
    assert "does not show whether the cancer has changed" in t
    for wrong in ("smaller", "larger", "%", "stated by the care team", "not evaluable"):
        assert wrong not in t, wrong


def test_marker_criteria_say_lower_and_test(blood):
    """GCIG OV-2: CA-125 63 % below the pre-treatment sample; IMWG MM-2: M-protein down to 0."""
    t = patient_summary(blood["gcig"], "OV-2")
    assert "Your latest test (11 March 2024) showed your CA-125 level (a blood marker) 63% lower than at the start." in t
    assert GLOSSARY["marker"] in t
    for wrong in ("smaller", "scan", "tumour", "CA-125 response"):
        assert wrong not in t, wrong
    m = patient_summary(blood["imwg2016"], "MM-2")
    assert "your M-protein level (a blood marker) down to zero" in m
    assert "100%" not in m and "smaller" not in m
    # PSA: a progression is said once, by the status sentence, without a % change
    p = patient_summary(blood["pcwg3"], "PC-1")
    assert "The cancer has grown or spread." in p and "%" not in p and "scan" not in p


def test_complete_response_with_small_nodes_ex19(result, texts):
    """EX19's latest scan is a complete response whose sum still holds normal-sized nodal
    targets (recist11.md §4.1 T3): said so, never 'could not be seen' or a % change."""
    last = result.assessments.filter((pl.col("subject_id") == "EX19") & pl.col("overall_response").is_not_null()).sort("date").row(-1, named=True)
    assert last["overall_response"] == "CR" and last["value"] > 0
    t = texts["EX19"]
    assert "You are in complete remission." in t
    assert "Some lymph nodes can still be seen, but they are of normal size." in t
    for wrong in ("could not be seen", "smaller", "larger", "%"):
        assert wrong not in t, wrong
    # a complete response with a sum of 0 does not mention nodes
    assert "lymph nodes" not in texts["EX33"] and "no sign of the tumours that were measured" in texts["EX33"]


def test_recurrence_ex06(texts):
    """EX06: complete remission from 26 July 2021, distant recurrence on 20 September 2021."""
    t = texts["EX06"]
    assert t.split("\n\n")[1].startswith("The cancer has come back after a complete remission. This is called a recurrence.")
    assert "This has been so since 20 September 2021." in t
    assert "Your complete remission lasted from 26 July 2021 to 20 September 2021, when the cancer came back." in t
    assert "It came back in a distant part of the body." in t
    for wrong in ("smaller", "%", "You are in"):
        assert wrong not in t, wrong
    assert t.count("recurrence") == 1  # explained by the status sentence, not again


def test_long_term_remission_ex33(texts):
    """EX33: the long-term milestone of remission_model.md §8 on 6 August 2023."""
    t = texts["EX33"]
    assert "You are in long-term remission. This has been so since 6 August 2023." in t
    assert "reached the long-term mark on 6 August 2023" in t
    assert "This is a milestone, not a promise that the cancer will never come back." in t
    assert GLOSSARY["long-term remission"] in t
    assert "cured" not in t.lower() and "free of cancer" not in t.lower()


# --- dates (issue 15 item 3) -----------------------------------------------------------------


def test_results_up_to_is_the_patients_own_latest_result(result, texts):
    """EX01's data end on 7 October 2019; the cohort's latest date (the as-of date, 1 November
    2026) is not EX01's."""
    assert "Summary for EX01, based on results up to 7 October 2019." in texts["EX01"]
    assert result.as_of != dt.date(2019, 10, 7)
    assert format_date(result.as_of) not in texts["EX01"]


def test_status_since_is_when_the_status_began(result):
    """EX01 became a partial remission when its episode qualified (1 July 2019), not at the
    response's start (4 March 2019) nor at its latest status (7 October 2019)."""
    d = patient_dates(result, "EX01")
    assert d.status_since == dt.date(2019, 7, 1)
    assert d.results_up_to == dt.date(2019, 10, 7)
    ex33 = patient_dates(result, "EX33")
    assert ex33.long_term_since == dt.date(2023, 8, 6) == ex33.status_since


def test_next_check_up_against_today(result):
    """EX19's next check-up is due by 1 May 2027: due before that day, overdue after it."""
    before = patient_summary(result, "EX19", today=dt.date(2027, 1, 1))
    after = patient_summary(result, "EX19", today=dt.date(2027, 6, 1))
    assert "Your next check-up is due by 1 May 2027." in before
    assert "Your next check-up was due by 1 May 2027. No later results are recorded." in after


def test_as_of_given_is_the_reference_day():
    """As of 2021-01-01 EX19 is in its first complete remission, on maintenance."""
    r = assess(EXAMPLE, AssessOptions(as_of="2021-01-01"))
    assert r.as_of_given
    d = patient_dates(r, "EX19")
    assert d.reference == dt.date(2021, 1, 1)
    t = patient_summary(r, "EX19")
    assert "You are in complete remission." in t
    assert "recurrence" not in t and "came back" not in t
    # due by 1 December 2020: overdue on the as-of day (not against the real today)
    assert "Your next check-up was due by 1 December 2020." in t
    assert "You had maintenance treatment during this remission." in t


def test_deceased_ex27(texts):
    t = texts["EX27"]
    assert "The records show that the patient died." in t and "10 June 2021" in t
    assert "Your next check-up" not in t and " you " not in t.lower().replace(".", " ")
    assert "when the patient died" in t


def test_never_assessed_ex39(texts):
    t = texts["EX39"]
    assert "There are no test results after the start of treatment yet" in t
    assert len(sentences(t)) <= 4


def test_unknown_subject_raises(result):
    with pytest.raises(KeyError):
        patient_summary(result, "NOPE")


def test_numbers_come_from_the_assessments(result, texts):
    """A stated % change is the latest fully measured change_from_baseline_pct, rounded."""
    a = result.assessments.filter(pl.col("overall_response").is_not_null()).sort("subject_id", "date")
    last = a.group_by("subject_id", maintain_order=True).last()
    n = 0
    for row in last.iter_rows(named=True):
        t = texts[row["subject_id"]]
        pct = row["change_from_baseline_pct"]
        if pct is None:
            assert not re.search(r"\d+% (smaller|larger)", t.split("The last full result")[0]), row["subject_id"]
            continue
        if row["canonical_level"] in ("COMPLETE", "PROGRESSION") or abs(pct) < 0.5:
            continue
        assert f"{abs(pct):.0f}% {'smaller' if pct < 0 else 'larger'}" in t, row["subject_id"]
        n += 1
    assert n >= 5
