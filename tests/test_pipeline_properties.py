"""Invariants of the whole pipeline on the bundled example dataset (issue "The core",
"Done when"): shuffling input rows or renaming subjects does not change results, and a
subject's results do not depend on the other subjects."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from remission import AssessOptions, assess
from remission.io import load_dataset

EXAMPLE = Path(__file__).resolve().parents[1] / "src" / "remission" / "data" / "example"

_DS, _ = load_dataset(EXAMPLE)
_BASE = assess(_DS)
TABLES = ("subjects", "lesions", "labs", "findings", "treatments", "responses")


def _frames(ds) -> dict[str, pl.DataFrame]:
    return {t: getattr(ds, t) for t in TABLES}


def _canon(result) -> dict[str, pl.DataFrame]:
    return {
        "assessments": result.assessments.sort("subject_id", "date"),
        "episodes": result.episodes.sort("subject_id", "episode"),
        "summary": result.summary.sort("subject_id"),
    }


def _equal(a, b):
    for name in a:
        assert a[name].equals(b[name]), name


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1))
def test_shuffling_rows_changes_nothing(seed):
    frames = {t: f.sample(fraction=1.0, shuffle=True, seed=seed) for t, f in _frames(_DS).items()}
    _equal(_canon(assess(**frames)), _canon(_BASE))


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefix=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=6))
def test_renaming_subjects_changes_nothing_but_the_names(prefix):
    frames = {t: f.with_columns(subject_id=pl.lit(prefix + "~") + pl.col("subject_id")) for t, f in _frames(_DS).items()}
    got = _canon(assess(**frames))
    back = {k: v.with_columns(pl.col("subject_id").str.strip_prefix(prefix + "~")).sort(v.columns[:2]) for k, v in got.items()}
    want = {k: v.sort(v.columns[:2]) for k, v in _canon(_BASE).items()}
    _equal(back, want)


def test_each_subject_alone_gives_the_same_results():
    """As of the same date (a lone subject's own latest date would be another 'as of')."""
    ids = _DS.subjects.get_column("subject_id").to_list()
    base = _canon(_BASE)
    for sid in ids:
        alone = _canon(assess(_DS.restrict([sid]), AssessOptions(as_of=_BASE.as_of)))
        for name, frame in base.items():
            mine = frame.filter(pl.col("subject_id") == sid)
            assert alone[name].equals(mine), (sid, name)
