"""The bundled example dataset (``src/remission/data/example``) end to end.

1. ``scripts/make_example_data.py`` reproduces the committed CSVs byte for byte.
2. The pipeline's summary and episodes agree with ``expected.csv``, whose every value was
   derived by hand from the specifications with the default options (recist11.md §4–5,
   who.md §4–5, remission_model.md §5–9; each row's ``note`` shows the sums, percentages,
   day counts and rules).  All mismatches are reported at once, each with its note.
3. The dataset passes input validation (spec/tables.md "Bad input": no error at all).
"""

from __future__ import annotations

import csv
import datetime as dt
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "src" / "remission" / "data" / "example"
SCRIPT = ROOT / "scripts" / "make_example_data.py"
TABLES = ("subjects", "lesions", "treatments", "responses", "findings", "labs")
AS_OF = dt.date(2026, 11, 1)


def _expected() -> list[dict[str, str]]:
    with (EXAMPLE / "expected.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# --------------------------------------------------------------------------------------
# 1. determinism of the generator
# --------------------------------------------------------------------------------------


def test_script_reproduces_committed_csvs_byte_for_byte(tmp_path):
    out = tmp_path / "example"
    proc = subprocess.run([sys.executable, str(SCRIPT), str(out)], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    for name in TABLES:
        produced = (out / f"{name}.csv").read_bytes()
        committed = (EXAMPLE / f"{name}.csv").read_bytes()
        assert produced == committed, f"{name}.csv differs from the committed copy: rerun the script"


def test_expected_covers_every_subject_and_latest_date_is_as_of():
    """expected.csv has one row per subject of subjects.csv, and the latest date of the
    data is 2026-11-01 (the demo's default as-of date: spec/tables.md summary.status)."""
    subjects = pl.read_csv(EXAMPLE / "subjects.csv", infer_schema=False)
    ids = [r["subject_id"] for r in _expected()]
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(subjects["subject_id"].to_list())
    assert 40 <= len(ids) <= 60
    latest = []
    for name in TABLES:
        frame = pl.read_csv(EXAMPLE / f"{name}.csv", infer_schema=False)
        for col in frame.columns:
            if col == "date" or col.endswith("_date"):
                latest.extend(v for v in frame[col].to_list() if v)
    assert max(latest) == AS_OF.isoformat()
    assert min(latest) >= "2018-01-01"


# --------------------------------------------------------------------------------------
# 3. validation
# --------------------------------------------------------------------------------------


def test_example_dataset_validates_without_errors():
    """spec/tables.md "Bad input": load_dataset raises on any error; the example has none."""
    from remission.io import load_dataset

    dataset, errors = load_dataset(EXAMPLE)
    assert errors == []
    assert dataset.subjects.height == len(_expected())
    # the criteria column and cancer-type defaults resolve to the two imaging criteria
    assert set(dataset.subjects["criteria"].to_list()) == {"recist1.1", "who"}


# --------------------------------------------------------------------------------------
# 2. end-to-end expectations
# --------------------------------------------------------------------------------------


def _text(value) -> str:
    """Render a cell of the result the way expected.csv writes it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    return str(value)


#: expected.csv column -> (source, column in the result, compare case-insensitively)
_SUMMARY_CHECKS = {
    "best_response": ("best_response", False),
    "confirmed_best_response": ("confirmed_best_response", False),
    "status": ("status", True),
    "progression_date": ("progression_date", False),
}
_EPISODE_CHECKS = {
    "first_episode_type": ("type", True),
    "first_episode_qualified": ("qualified", True),
    "first_episode_end_reason": ("end_reason", True),
    "first_episode_not_qualified_reason": ("not_qualified_reason", True),
    "first_episode_on_maintenance": ("on_maintenance", True),
    "first_episode_spontaneous": ("spontaneous", True),
}
#: expected columns where an empty cell means "not asserted" (when the subject has an episode)
_OPTIONAL = {"first_episode_on_maintenance"}


def _compare(expected: str, actual: str, fold: bool) -> bool:
    if fold:
        return expected.strip().lower() == actual.strip().lower()
    return expected.strip() == actual.strip()


def test_example_dataset_end_to_end_matches_hand_derived_expectations():
    """Hand-derived outcomes (expected.csv, one note per subject) vs remission.pipeline."""
    from remission import schema
    from remission.pipeline import assess

    result = assess(EXAMPLE)
    summary, episodes = result.summary, result.episodes
    assert tuple(summary.columns[: len(schema.SUMMARY_COLUMNS)]) == schema.SUMMARY_COLUMNS
    assert tuple(episodes.columns[: len(schema.EPISODES_COLUMNS)]) == schema.EPISODES_COLUMNS
    assert summary.schema["progression_date"] == pl.Date

    by_subject = {row["subject_id"]: row for row in summary.iter_rows(named=True)}
    eps_by_subject: dict[str, list[dict]] = {}
    for row in episodes.sort("subject_id", "episode").iter_rows(named=True):
        eps_by_subject.setdefault(row["subject_id"], []).append(row)

    mismatches: list[str] = []
    for exp in _expected():
        sid = exp["subject_id"]
        problems: list[str] = []
        got = by_subject.get(sid)
        if got is None:
            problems.append("no summary row")
        else:
            for col, (src, fold) in _SUMMARY_CHECKS.items():
                actual = _text(got[src])
                if not _compare(exp[col], actual, fold):
                    problems.append(f"{col}: expected {exp[col]!r}, got {actual!r}")
        eps = eps_by_subject.get(sid, [])
        if str(len(eps)) != exp["episodes"]:
            problems.append(f"episodes: expected {exp['episodes']}, got {len(eps)}")
        first = eps[0] if eps else None
        for col, (src, fold) in _EPISODE_CHECKS.items():
            if first is not None and col in _OPTIONAL and exp[col] == "":
                continue
            actual = _text(first[src]) if first is not None else ""
            if not _compare(exp[col], actual, fold):
                problems.append(f"{col}: expected {exp[col]!r}, got {actual!r}")
        if problems:
            mismatches.append(
                f"{sid} ({exp['scenario']}):\n    " + "\n    ".join(problems) + f"\n    note: {exp['note']}"
            )
    assert not mismatches, f"{len(mismatches)} subject(s) differ from expected.csv:\n" + "\n".join(mismatches)


@pytest.mark.parametrize("column", ["best_response", "confirmed_best_response", "status"])
def test_expected_values_use_the_public_vocabulary(column):
    """expected.csv only uses codes of spec/tables.md (summary.status states) and of the
    criteria's best-response orders (criteria/README.md: RECIST 1.1, WHO) plus MISSING."""
    allowed = {
        "best_response": {"CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE", "MISSING", "NC"},
        "confirmed_best_response": {"CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE", "MISSING", "NC"},
        "status": {
            "not_assessed", "active_disease", "responding", "partial_remission", "complete_remission",
            "long_term_remission", "progression_pending", "progression", "recurrence", "deceased",
        },
    }[column]
    values = {r[column] for r in _expected()}
    assert values <= allowed, values - allowed
