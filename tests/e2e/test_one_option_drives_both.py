"""One option drives the best response and the lifecycle (issue 13 item 2; remission_model.md
§6.4): a criterion's confirmation interval confirms its best response and its episodes."""

from __future__ import annotations

import pytest


def _pr_twice(b):
    """RECIST 1.1: baseline 50 mm at day -7, PR 30 mm at day 56, PR 30 mm again at day 80
    (24 days later), treatment from day 0."""
    s = "S1"
    rows = b.target_series(s, [(-7, 50), (56, 30), (80, 30)])
    return [b.subject(s, "recist1.1")], rows, [b.treatment(s)]


def test_default_28_days_confirms_neither(b):
    r = b.run(*_pr_twice(b))
    row = r.summary.row(0, named=True)
    # recist11.md §5.4: 24 < 28 days: the PR is not confirmed; it counts as SD (day 56 >= 42)
    assert (row["best_response"], row["confirmed_best_response"]) == ("PR", "SD")
    ep = r.episodes.row(0, named=True)
    assert ep["confirmed_date"] is None


def test_recist_confirm_days_21_confirms_both(b):
    r = b.run(*_pr_twice(b), recist={"confirm_days": 21})
    row = r.summary.row(0, named=True)
    assert (row["best_response"], row["confirmed_best_response"]) == ("PR", "PR")
    ep = r.episodes.row(0, named=True)
    # the episode starts at the first PR (day 56) and is confirmed by the second (day 80)
    assert (ep["start_date"], ep["confirmed_date"]) == (b.day(56), b.day(80))


def test_the_lifecycle_table_is_not_a_second_option(b):
    subjects, lesions, treatments = _pr_twice(b)
    with pytest.raises(ValueError, match="recist.confirm_days"):
        b.run(subjects, lesions, treatments, remission={"confirm_days_by_criteria": {"recist1.1": 21}})
