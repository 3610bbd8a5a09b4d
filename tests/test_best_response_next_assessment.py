"""The best-response engine's ``next_assessment`` style (timeline.best_response): imwg.md §4
"Confirmed status per assessment" (admiralonco's table), values worked out by hand from the
table before running the code."""

from __future__ import annotations

import datetime as dt

import polars as pl

from remission.criteria.base import BestResponseRule
from remission.timeline.best_response import best_responses

D = dt.date
IMWG = ("sCR", "CR", "VGPR", "PR", "MR", "SD", "PD", "NE")
REF = pl.DataFrame({"subject_id": ["a"], "reference_start": [D(2020, 1, 1)]})
RULE = BestResponseRule(order=IMWG, confirmation="next_assessment", confirm_days=1, unconfirmed_as="SD")


def run(rows, cutoff=None, canonical=False):
    schema = {"subject_id": pl.String, "date": pl.Date, "response": pl.String}
    if canonical:
        schema["canonical_level"] = pl.String
    tp = pl.DataFrame(rows, schema=schema, orient="row")
    return best_responses(tp, REF, RULE, levels={"PD": "PROGRESSION"}, cutoff=cutoff).row(0, named=True)


def conf(r):
    return r["confirmed_best_response"], r["confirmed_best_response_date"]


def test_response_then_as_good_response_is_confirmed_dated_at_the_first():
    # §4 row "response | response >= L(t)": PR 02-01 confirmed by CR 03-01 -> PR dated 02-01;
    # the CR's next is missing -> SD; best confirmed PR
    r = run([("a", D(2020, 2, 1), "PR"), ("a", D(2020, 3, 1), "CR")])
    assert (r["best_response"], r["best_response_date"]) == ("CR", D(2020, 3, 1))
    assert conf(r) == ("PR", D(2020, 2, 1))


def test_lower_next_response_confirms_the_lower_level_at_the_first_date():
    # §4 row "response | lower response -> L(next)": VGPR then MR -> MR dated at the VGPR
    r = run([("a", D(2020, 2, 1), "VGPR"), ("a", D(2020, 3, 1), "MR")])
    assert conf(r) == ("MR", D(2020, 2, 1))


def test_unconfirmed_response_then_pd_counts_as_sd_not_pd():
    # §4 rows "response | PD -> SD" and "PD biochemical | PD -> PD": SD ranks before PD
    r = run([("a", D(2020, 2, 1), "PR"), ("a", D(2020, 3, 1), "PD"), ("a", D(2020, 4, 1), "PD")])
    assert r["best_response"] == "PR"
    assert conf(r) == ("SD", D(2020, 2, 1))


def test_ne_is_skipped_when_looking_for_the_next_assessment():
    # §4 "NE/missing biochemical assessments are skipped": PR, NE, PR -> PR confirmed by the 3rd
    r = run([("a", D(2020, 2, 1), "PR"), ("a", D(2020, 3, 1), "NE"), ("a", D(2020, 4, 1), "PR")])
    assert conf(r) == ("PR", D(2020, 2, 1))
    assert "2020-04-01" in r["confirmed_best_response_rule"]


def test_pd_without_canonical_level_needs_a_next_pd():
    # first result PD with nothing after it: unconfirmed biochemical PD -> NE (not MISSING)
    assert conf(run([("a", D(2020, 2, 1), "PD")]))[0] == "NE"
    assert conf(run([("a", D(2020, 2, 1), "PD"), ("a", D(2020, 3, 1), "PD")])) == ("PD", D(2020, 2, 1))


def test_pd_confirmed_as_the_time_point_says():
    # imaging PD (PD6) needs no confirmation: the criterion marks it PROGRESSION at once
    r = run([("a", D(2020, 2, 1), "PD", "PROGRESSION")], canonical=True)
    assert conf(r) == ("PD", D(2020, 2, 1))
    r = run([("a", D(2020, 2, 1), "PD", "PROGRESSION_PENDING")], canonical=True)
    assert conf(r)[0] == "NE"


def test_a_response_is_not_confirmed_after_new_therapy_and_no_rows_is_missing():
    # §4: "A response cannot be confirmed by an assessment dated after the start of new therapy"
    cut = pl.DataFrame({"subject_id": ["a"], "cutoff_date": [D(2020, 3, 1)]})
    r = run([("a", D(2020, 2, 1), "CR"), ("a", D(2020, 4, 1), "CR")], cutoff=cut)
    assert (r["best_response"], *conf(r)) == ("CR", "SD", D(2020, 2, 1))
    r = run([("a", D(2019, 12, 1), "CR")])
    assert (r["best_response"], r["confirmed_best_response"]) == ("MISSING", "MISSING")


def test_sd_needs_no_confirmation():
    # §4 row "SD | any -> SD"
    assert conf(run([("a", D(2020, 2, 1), "SD"), ("a", D(2020, 3, 1), "PD"), ("a", D(2020, 4, 1), "PD")])) == (
        "SD", D(2020, 2, 1))
