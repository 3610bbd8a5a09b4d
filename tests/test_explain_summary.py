"""Plain-language patient summaries (issue "Explained to people", item 1;
remission_model.md §1 vocabulary).

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
from remission.explain import DISCLAIMER, patient_summary
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


def test_short_sentences(texts):
    for sid, text in texts.items():
        for s in sentences(text):
            if s == DISCLAIMER:
                continue
            assert len(s.split()) <= 30, (sid, s)


def test_no_unexplained_abbreviations(texts):
    """Response codes are written out ("partial response", not "PR"); criterion short names
    are introduced with what they are (remission_model.md §1: patient-facing terms)."""
    codes = r"\b(CR|PR|SD|PD|NE|NC|NED|BOR|ORR|PFS|DoR|MRD|VGPR|sCR|iCR|CMR|PMR)\b"
    for sid, text in texts.items():
        assert not re.search(codes, text), (sid, re.search(codes, text).group(0))
        if "RECIST" in text:
            assert "RECIST is the standard set of rules" in text, sid
        if "WHO" in text:
            assert "World Health Organization" in text, sid
        assert "cured" not in text.lower() or "Some people call this being cured" in text  # §1: never a clinical code


def test_confirmed_partial_remission_ex01(texts):
    """EX01: RECIST PR -40 % then -42.9 % (sum 70 -> 40 mm), confirmed after 56 days, qualified
    2019-07-01 (63 days after carboplatin-pemetrexed ended, §6.5), still ongoing."""
    t = texts["EX01"]
    assert "You are in partial remission." in t
    assert "since 4 March 2019" in t
    assert "your tumours measured 43% smaller than at the start (RECIST partial response)" in t
    assert "It was confirmed on 29 April 2019, 56 days later." in t
    assert "Confirmed means that a later test showed the same result." in t
    assert "It counted as a remission from 1 July 2019." in t
    assert "at least a month after treatment ended" in t  # sustained (§6.5) explained
    assert "(carboplatin-pemetrexed) ended on 29 April 2019" in t
    assert "It is still going on." in t
    # as of 2026-11-01 the due date is past: said so, not "is due"
    assert "Your next check-up was due by 7 January 2020. No later results are recorded." in t


def test_worked_example_ex19_maintenance_recurrence_second_remission(texts):
    """remission_model §12 worked example: maintenance during episode 1, distant recurrence on
    2022-02-01 after 702 days, second complete remission, milestone pending (2027-10-01)."""
    t = texts["EX19"]
    assert "You are in complete remission." in t and "no test shows any sign of cancer" in t
    assert "There have been two periods of response. Two of them counted as remission." in t
    assert "maintenance treatment (from 1 July 2020 to 1 July 2021)" in t
    assert "Being in remission while on maintenance still counts as remission." in t
    assert "It ended on 1 February 2022, when the cancer came back in a distant part of the body (liver)." in t
    assert "called a recurrence" in t
    assert "It lasted 702 days" in t
    assert "it will reach the long-term mark on 1 October 2027" in t
    assert t.count("Confirmed means") == 1  # each term explained once


def test_not_sustained_response_ex03(texts):
    t = texts["EX03"]
    assert "The cancer has grown or spread. This is called progression." in t
    assert "It did not count as a remission, because the cancer grew again too soon." in t


def test_long_term_remission_ex33(texts):
    t = texts["EX33"]
    assert "You are in long-term remission." in t
    assert "reached the long-term mark on 6 August 2023" in t
    assert "not a promise" in t


def test_spontaneous_and_deceased(texts):
    assert "This is called a spontaneous remission." in texts["EX26"]
    t = texts["EX27"]
    assert "The records show that the patient died." in t and "10 June 2021" in t
    assert "Your next check-up" not in t and " you " not in t.lower().replace(".", " ")


def test_stated_responses_only_ex35(texts):
    assert "stated by the care team as complete response (RECIST)" in texts["EX35"]


def test_never_assessed_ex39(texts):
    t = texts["EX39"]
    assert "There are no test results after the start yet" in t
    assert len(sentences(t)) == 3


def test_as_of_changes_the_text():
    """As of 2021-01-01 EX19 is in its first complete remission, on maintenance until 2021-07-01."""
    r = assess(EXAMPLE, AssessOptions(as_of="2021-01-01"))
    t = patient_summary(r, "EX19")
    assert "up to 1 January 2021" in t
    assert "You are in complete remission." in t
    assert "recurrence" not in t
    assert "You are in remission while on maintenance treatment." in t


def test_unknown_subject_raises(result):
    with pytest.raises(KeyError):
        patient_summary(result, "NOPE")


def test_numbers_come_from_the_assessments(result, texts):
    """The stated % change is the latest measured change_from_baseline_pct, rounded."""
    a = result.assessments.filter(pl.col("change_from_baseline_pct").is_not_null()).sort("subject_id", "date")
    last = a.group_by("subject_id", maintain_order=True).last()
    for row in last.iter_rows(named=True):
        t = texts[row["subject_id"]]
        pct = row["change_from_baseline_pct"]
        if row["value"] == 0 or abs(pct) < 0.5:
            continue
        assert f"{abs(pct):.0f}% {'smaller' if pct < 0 else 'larger'}" in t, row["subject_id"]
