"""The best-response engine's ``as_good_later`` style (timeline.best_response): best category by a
criterion's order, confirmed by an as-good later result; hand-computed."""

from __future__ import annotations

import datetime as dt

import polars as pl

from remission.criteria.base import BestResponseRule
from remission.timeline.best_response import best_responses

D = dt.date
IMWG = ("sCR", "CR", "VGPR", "PR", "MR", "SD", "PD", "NE")


def tp(rows):
    return pl.DataFrame(rows, schema={"subject_id": pl.String, "date": pl.Date, "response": pl.String}, orient="row")


REF = pl.DataFrame({"subject_id": ["a"], "reference_start": [D(2020, 1, 1)]})


def run(rows, confirm_days=1, cutoff=None):
    rule = BestResponseRule(order=IMWG, confirmation="as_good_later", confirm_days=confirm_days)
    return best_responses(tp(rows), REF, rule, levels={"PD": "PROGRESSION"}, cutoff=cutoff).row(0, named=True)


def test_best_is_the_best_category_and_confirmed_needs_an_as_good_later_result():
    # VGPR once, then PR: best VGPR; VGPR is not confirmed (the next is worse), PR is (by MR? no:
    # MR is worse than PR) -> PR on 03-01 confirmed by PR on 04-01
    r = run([("a", D(2020, 2, 1), "VGPR"), ("a", D(2020, 3, 1), "PR"), ("a", D(2020, 4, 1), "PR")])
    assert (r["best_response"], r["best_response_date"]) == ("VGPR", D(2020, 2, 1))
    assert (r["confirmed_best_response"], r["confirmed_best_response_date"]) == ("PR", D(2020, 3, 1))


def test_a_better_later_result_confirms_and_ties_take_the_earliest_date():
    r = run([("a", D(2020, 2, 1), "PR"), ("a", D(2020, 3, 1), "CR"), ("a", D(2020, 4, 1), "CR")])
    assert (r["best_response"], r["best_response_date"]) == ("CR", D(2020, 3, 1))
    assert r["confirmed_best_response"] == "CR"


def test_window_ends_at_first_progression_and_before_cutoff():
    rows = [("a", D(2020, 2, 1), "SD"), ("a", D(2020, 3, 1), "PD"), ("a", D(2020, 5, 1), "CR"), ("a", D(2020, 6, 1), "CR")]
    r = run(rows)
    # the SD is never confirmed (the next result, PD, is worse); PD needs no confirmation;
    # the CRs after the first PD are outside the window
    assert (r["best_response"], r["confirmed_best_response"]) == ("SD", "PD")
    cut = pl.DataFrame({"subject_id": ["a"], "cutoff_date": [D(2020, 2, 1)]})
    r = run([("a", D(2020, 1, 15), "PR"), ("a", D(2020, 2, 1), "CR"), ("a", D(2020, 3, 1), "CR")], cutoff=cut)
    assert (r["best_response"], r["confirmed_best_response"]) == ("PR", "MISSING")


def test_confirm_days_zero_needs_no_confirmation_and_before_reference_is_ignored():
    r = run([("a", D(2019, 12, 1), "sCR"), ("a", D(2020, 2, 1), "PR")], confirm_days=0)
    assert (r["best_response"], r["confirmed_best_response"]) == ("PR", "PR")


def test_minimum_interval_is_inclusive():
    rows = [("a", D(2020, 2, 1), "PR"), ("a", D(2020, 2, 29), "PR")]  # 28 days
    assert run(rows, confirm_days=28)["confirmed_best_response"] == "PR"
    assert run(rows, confirm_days=29)["confirmed_best_response"] == "MISSING"


def test_subject_without_time_points_is_missing():
    rule = BestResponseRule(order=IMWG, confirmation="as_good_later", confirm_days=1)
    r = best_responses(tp([]), REF, rule, levels={"PD": "PROGRESSION"}).row(0, named=True)
    assert (r["best_response"], r["confirmed_best_response"]) == ("MISSING", "MISSING")


# --- the rule's sd_codes / never_best / unconfirmed_as (hand-computed; reference start 2020-01-01)

RANO = ("CR", "PR", "MR", "SD", "PD", "NE")
LEVELS = {"PD": "PROGRESSION"}


def run_rule(rows, **rule):
    r = BestResponseRule(order=RANO, confirmation="as_good_later", **rule)
    return best_responses(tp(rows), REF, r, levels=LEVELS).row(0, named=True)


def test_sd_before_the_minimum_interval_counts_as_ne():
    # SD on day 28 (< 56), PD on day 84: best PD (the SD is NE, ranked after PD? no: NE is
    # worse than PD in the order, so PD wins)
    r = run_rule([("a", D(2020, 1, 29), "SD"), ("a", D(2020, 3, 25), "PD")], sd_codes=("SD",), sd_min_days=56,
                 no_confirmation=("SD",))  # fmt: skip
    assert (r["best_response"], r["confirmed_best_response"]) == ("PD", "PD")
    # SD on day 28 only: NE, with the reason
    r = run_rule([("a", D(2020, 1, 29), "SD")], sd_codes=("SD",), sd_min_days=56, no_confirmation=("SD",))
    assert (r["best_response"], r["confirmed_best_response"]) == ("NE", "NE")
    assert "28 days after reference start (< 56)" in r["best_response_rule"]
    # SD on day 60 needs no confirmation
    r = run_rule([("a", D(2020, 3, 1), "SD")], sd_codes=("SD",), sd_min_days=56, no_confirmation=("SD",))
    assert (r["best_response"], r["confirmed_best_response"]) == ("SD", "SD")


def test_unconfirmed_response_counts_as_sd_in_the_confirmed_best_response():
    # PR on day 60 never confirmed (PD on day 90): confirmed best SD (from the PR's date);
    # best (unconfirmed) stays PR
    rows = [("a", D(2020, 3, 1), "PR"), ("a", D(2020, 3, 31), "PD")]
    r = run_rule(rows, sd_codes=("SD",), sd_min_days=56, no_confirmation=("SD",), unconfirmed_as="SD")
    assert (r["best_response"], r["confirmed_best_response"], r["confirmed_best_response_date"]) == ("PR", "SD", D(2020, 3, 1))
    assert "not confirmed; counts as SD" in r["confirmed_best_response_rule"]
    # the same PR on day 30 (< 56): it counts as NE, so the confirmed best is PD
    rows = [("a", D(2020, 1, 31), "PR"), ("a", D(2020, 3, 31), "PD")]
    r = run_rule(rows, sd_codes=("SD",), sd_min_days=56, no_confirmation=("SD",), unconfirmed_as="SD")
    assert r["confirmed_best_response"] == "PD"
    # without unconfirmed_as the unconfirmed PR does not count at all
    r = run_rule([("a", D(2020, 3, 1), "PR"), ("a", D(2020, 3, 31), "PD")])
    assert r["confirmed_best_response"] == "PD"


def test_a_provisional_code_is_never_the_best_response():
    order = ("CR", "PR", "SD", "PDu", "PD", "NE")
    rule = BestResponseRule(order=order, confirmation="as_good_later", confirm_days=21, never_best=("PDu",))
    r = best_responses(tp([("a", D(2020, 3, 1), "PDu")]), REF, rule, levels=LEVELS).row(0, named=True)
    assert (r["best_response"], r["confirmed_best_response"]) == ("NE", "NE")
    assert "provisional" in r["best_response_rule"]


def test_confirmed_only_makes_the_best_response_the_confirmed_one():
    # rano.md §5.3 "only confirmed CR/PR/MR count", as an engine field: SD day 60, PR day 70
    # never confirmed (PD day 100). Without confirmed_only the best is the PR; with it the
    # best equals the confirmed best: SD on day 60 (the PR counts as SD, later).
    rows = [("a", D(2020, 3, 1), "SD"), ("a", D(2020, 3, 11), "PR"), ("a", D(2020, 4, 10), "PD")]
    kw = dict(sd_codes=("SD",), sd_min_days=56, no_confirmation=("SD",), unconfirmed_as="SD", confirm_days=28)
    r = run_rule(rows, **kw)
    assert (r["best_response"], r["confirmed_best_response"]) == ("PR", "SD")
    r = run_rule(rows, confirmed_only=True, **kw)
    assert (r["best_response"], r["best_response_date"]) == ("SD", D(2020, 3, 1))
    assert (r["best_response_rule"], r["best_response_date"]) == (r["confirmed_best_response_rule"], r["confirmed_best_response_date"])
    # a confirmed PR stays the best: PR day 70 confirmed by PR day 100 (30 d >= 28)
    rows[2] = ("a", D(2020, 4, 10), "PR")
    r = run_rule(rows, confirmed_only=True, **kw)
    assert (r["best_response"], r["best_response_date"], r["confirmed_best_response"]) == ("PR", D(2020, 3, 11), "PR")


def test_rule_ids_mark_time_points_that_count_as_ne_or_need_no_confirmation():
    # iwcll2018.md §5: an INTERIM row is never the best response (counts as NE); a response
    # assessed at the right time after fixed-duration therapy (POST_THERAPY) needs no second
    # assessment; an unconfirmed response counts as SD
    rule = BestResponseRule(order=IMWG, confirmation="as_good_later", confirm_days=56, unconfirmed_as="SD",
                            ne_rule_ids=("INTERIM",), confirmed_rule_ids=("POST_THERAPY",))
    rows = pl.DataFrame(
        [("a", D(2020, 2, 1), "CR", "CR,INTERIM"), ("a", D(2020, 4, 1), "PR", "PR,POST_THERAPY")],
        schema={"subject_id": pl.String, "date": pl.Date, "response": pl.String, "rule_ids": pl.String}, orient="row",
    )
    r = best_responses(rows, REF, rule, levels={"PD": "PROGRESSION"}).row(0, named=True)
    assert (r["best_response"], r["best_response_date"]) == ("PR", D(2020, 4, 1))
    assert (r["confirmed_best_response"], r["confirmed_best_response_date"]) == ("PR", D(2020, 4, 1))
    assert "POST_THERAPY" in r["confirmed_best_response_rule"]
    only = best_responses(rows.head(1), REF, rule, levels={"PD": "PROGRESSION"}).row(0, named=True)
    assert (only["best_response"], only["confirmed_best_response"]) == ("NE", "NE")
    assert "INTERIM" in only["best_response_rule"]
    # without the rule ids the PR needs a result >= 56 days later: unconfirmed -> SD
    plain = best_responses(rows.drop("rule_ids").tail(1), REF, rule, levels={"PD": "PROGRESSION"}).row(0, named=True)
    assert (plain["best_response"], plain["confirmed_best_response"]) == ("PR", "SD")
