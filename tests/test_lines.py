"""Lines of therapy and evaluation segments (spec/tables.md treatments.line;
remission_model.md §6.2.4)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from remission import schema as S
from remission.timeline import lines as L

D = dt.date
NB = frozenset({"maintenance", "continuous"})


def treatments(rows):
    return pl.DataFrame(
        [dict(zip(("subject_id", "start_date", "end_date", "modality", "intent", "line"), r), name=None) for r in rows],
        schema=S.TREATMENTS,
    )


def dates(subject, *ds):
    return pl.DataFrame({"subject_id": [subject] * len(ds), "date": list(ds)})


def test_active_treatments_excludes_maintenance_continuous_and_supportive():
    t = treatments(
        [
            ("a", D(2020, 1, 1), None, "chemotherapy", None, None),
            ("a", D(2020, 2, 1), None, "maintenance", None, None),  # default intent maintenance
            ("a", D(2020, 3, 1), None, "supportive", None, None),  # default intent supportive
            ("a", D(2020, 4, 1), None, "targeted", "continuous", None),
            ("a", D(2020, 5, 1), None, "hormone", "adjuvant", None),
            ("a", D(2020, 6, 1), None, "surgery", None, None),
        ]
    )
    got = L.active_treatments(t, NB)
    assert got.get_column("start_date").to_list() == [D(2020, 1, 1), D(2020, 5, 1), D(2020, 6, 1)]


def test_line1_reference_is_first_active_start_and_baseline_last_scan_on_or_before():
    d = dates("a", D(2019, 12, 1), D(2020, 1, 10), D(2020, 3, 1))
    t = treatments([("a", D(2020, 1, 10), D(2020, 6, 1), "chemotherapy", None, None)])
    seg = L.initial_segments(d, L.active_treatments(t, NB))
    assert seg.rows() == [("a", 1, D(2020, 1, 10), D(2020, 1, 10), None)]


def test_no_treatment_reference_is_first_assessment():
    d = dates("a", D(2020, 1, 1), D(2020, 3, 1))
    seg = L.initial_segments(d, L.active_treatments(treatments([]), NB))
    assert seg.rows() == [("a", 1, D(2020, 1, 1), D(2020, 1, 1), None)]


def test_maintenance_only_counts_as_no_active_treatment():
    d = dates("a", D(2020, 1, 1), D(2020, 3, 1))
    t = treatments([("a", D(2019, 6, 1), None, "maintenance", None, None)])
    seg = L.initial_segments(d, L.active_treatments(t, NB))
    assert seg.get_column("reference_start").to_list() == [D(2020, 1, 1)]


def test_no_scan_before_start_gives_null_baseline():
    d = dates("a", D(2020, 3, 1))
    t = treatments([("a", D(2020, 1, 1), None, "surgery", None, None)])
    seg = L.initial_segments(d, L.active_treatments(t, NB))
    assert seg.rows() == [("a", 1, D(2020, 1, 1), None, None)]


def test_explicit_lines_open_segments_and_close_previous_at_next_baseline():
    d = dates("a", D(2020, 1, 1), D(2020, 3, 1), D(2020, 5, 1), D(2020, 7, 1))
    t = treatments(
        [
            ("a", D(2020, 1, 5), D(2020, 4, 1), "chemotherapy", None, 1),
            ("a", D(2020, 2, 1), D(2020, 4, 1), "radiation", None, 1),
            ("a", D(2020, 5, 20), None, "immunotherapy", None, 2),
        ]
    )
    seg = L.initial_segments(d, L.active_treatments(t, NB))
    assert seg.rows() == [
        ("a", 1, D(2020, 1, 5), D(2020, 1, 1), D(2020, 5, 1)),
        ("a", 2, D(2020, 5, 20), D(2020, 5, 1), None),
    ]


def _fake_evaluate(pd_dates):
    """An evaluator that marks the given (subject, date) pairs as progression."""

    def evaluate(segments):
        d = ALL_DATES.join(segments.select("subject_id").unique(), on="subject_id")
        tp = L.assign_lines(d, segments)
        pds = pl.DataFrame(pd_dates, schema={"subject_id": pl.String, "date": pl.Date}, orient="row").with_columns(
            _pd=pl.lit(True)
        )
        return tp.join(pds, on=["subject_id", "date"], how="left").with_columns(
            is_progression_event=pl.col("_pd").fill_null(False)
        ).drop("_pd")

    return evaluate


ALL_DATES = pl.concat(
    [
        dates("a", D(2020, 1, 1), D(2020, 3, 1), D(2020, 5, 1), D(2020, 7, 1), D(2020, 9, 1)),
        dates("b", D(2021, 1, 1), D(2021, 2, 1)),
    ]
)


def test_derived_line_opens_at_first_active_treatment_on_or_after_progression():
    """spec/tables.md: the first active treatment starting after a progression opens the
    next line; its baseline is the last assessment on or before its start."""
    t = treatments(
        [
            ("a", D(2020, 1, 5), D(2020, 2, 1), "chemotherapy", None, None),
            ("a", D(2020, 2, 10), None, "maintenance", None, None),  # not active: no new line
            ("a", D(2020, 5, 10), None, "chemotherapy", "salvage", None),
        ]
    )
    segs, tp = L.iterate_segments(ALL_DATES, L.active_treatments(t, NB), _fake_evaluate([("a", D(2020, 5, 1))]))
    assert segs.filter(pl.col("subject_id") == "a").rows() == [
        ("a", 1, D(2020, 1, 5), D(2020, 1, 1), D(2020, 5, 1)),
        ("a", 2, D(2020, 5, 10), D(2020, 5, 1), None),
    ]
    lines_a = tp.filter(pl.col("subject_id") == "a").get_column("line").to_list()
    # the PD scan is line 1's last follow-up and line 2's baseline
    assert lines_a == [1, 1, 1, 2, 2]
    assert segs.filter(pl.col("subject_id") == "b").height == 1


def test_treatment_before_progression_does_not_open_a_line():
    t = treatments(
        [
            ("a", D(2020, 1, 5), None, "chemotherapy", None, None),
            ("a", D(2020, 4, 1), None, "radiation", "consolidation", None),  # before the PD
        ]
    )
    segs, _ = L.iterate_segments(ALL_DATES, L.active_treatments(t, NB), _fake_evaluate([("a", D(2020, 5, 1))]))
    assert segs.filter(pl.col("subject_id") == "a").height == 1


def test_repeated_progressions_open_several_lines():
    t = treatments(
        [
            ("a", D(2020, 1, 5), None, "chemotherapy", None, None),
            ("a", D(2020, 3, 1), None, "chemotherapy", "salvage", None),  # same day as PD
            ("a", D(2020, 8, 1), None, "immunotherapy", None, None),
        ]
    )
    ev = _fake_evaluate([("a", D(2020, 3, 1)), ("a", D(2020, 7, 1))])
    segs, tp = L.iterate_segments(ALL_DATES, L.active_treatments(t, NB), ev)
    assert segs.filter(pl.col("subject_id") == "a").rows() == [
        ("a", 1, D(2020, 1, 5), D(2020, 1, 1), D(2020, 3, 1)),
        ("a", 2, D(2020, 3, 1), D(2020, 3, 1), D(2020, 7, 1)),
        ("a", 3, D(2020, 8, 1), D(2020, 7, 1), None),
    ]
    assert tp.filter(pl.col("subject_id") == "a").get_column("line").to_list() == [1, 1, 2, 2, 3]


def test_assign_lines_puts_pre_baseline_dates_in_line_1():
    segs = pl.DataFrame(
        [("a", 1, D(2020, 1, 5), D(2020, 1, 1), D(2020, 5, 1)), ("a", 2, D(2020, 5, 10), D(2020, 5, 1), None)],
        schema=S.SEGMENTS,
        orient="row",
    )
    d = dates("a", D(2019, 12, 1), D(2020, 1, 1), D(2020, 4, 1), D(2020, 5, 1), D(2020, 6, 1))
    assert L.assign_lines(d, segs).get_column("line").to_list() == [1, 1, 1, 1, 2]
