"""Options that act in the pipeline, with hand-computed expectations:
remission_model.md §4 partial_remission_rule, recist11.md §2.1 confirmation_required and
§5.1 include_post_treatment."""

from __future__ import annotations

import datetime as dt

import polars as pl

from remission import AssessOptions, RecistOptions, RemissionOptions, assess

D = dt.date
SUBJ = pl.DataFrame({"subject_id": ["s"], "cancer_type": ["colorectal"]})


def lesions(values):
    """One non-nodal liver target measured on the given (date, diameter) pairs."""
    return pl.DataFrame(
        {
            "subject_id": ["s"] * len(values),
            "date": [d.isoformat() for d, _ in values],
            "lesion_id": ["T1"] * len(values),
            "role": ["target"] * len(values),
            "organ": ["liver"] * len(values),
            "diameter_mm": [float(v) for _, v in values],
        }
    )


def levels(result):
    return result.statuses.sort("date").get_column("level").to_list()


def run(values, **opts):
    return assess(subjects=SUBJ, lesions=lesions(values), options=AssessOptions(**opts))


SCANS_29_5 = [(D(2020, 1, 1), 100), (D(2020, 3, 1), 70.5), (D(2020, 5, 1), 70.5)]


def test_who_area_50_makes_a_29_5_percent_shrinkage_a_partial_remission():
    # RECIST: -29.5 % is SD (not <= -30 %); area (0.705)^2 = 0.497 <= 0.5 -> PARTIAL (§4)
    assert levels(run(SCANS_29_5)) == ["STABLE", "STABLE"]
    r = run(SCANS_29_5, remission=RemissionOptions(partial_remission_rule="who_area_50"))
    assert levels(r) == ["PARTIAL", "PARTIAL"]
    assert r.episodes.height == 1 and r.episodes.get_column("type").to_list() == ["partial"]
    # the assessment rows keep the criterion's category
    assert r.assessments.get_column("overall_response").to_list()[1:] == ["SD", "SD"]
    # (0.71)^2 = 0.5041 > 0.5 -> not partial
    r = run([(D(2020, 1, 1), 100), (D(2020, 3, 1), 71)], remission=RemissionOptions(partial_remission_rule="who_area_50"))
    assert levels(r) == ["STABLE"]


def test_diameter_50_needs_half_the_diameter():
    scans = [(D(2020, 1, 1), 100), (D(2020, 3, 1), 60), (D(2020, 5, 1), 50)]
    assert levels(run(scans)) == ["PARTIAL", "PARTIAL"]  # RECIST PR at -40 % and -50 %
    r = run(scans, remission=RemissionOptions(partial_remission_rule="diameter_50"))
    assert levels(r) == ["STABLE", "PARTIAL"]


def test_partial_rule_never_changes_complete_or_progression():
    scans = [(D(2020, 1, 1), 100), (D(2020, 3, 1), 0), (D(2020, 5, 1), 30)]
    for rule in ("criterion", "who_area_50", "diameter_50"):
        assert levels(run(scans, remission=RemissionOptions(partial_remission_rule=rule))) == ["COMPLETE", "PROGRESSION"]


def test_confirmation_required_reports_the_confirmed_best_response():
    # PR at day 60 not confirmed (SD 28+ days later): BOR PR, confirmed BOR SD (recist11 §5.4)
    scans = [(D(2020, 1, 1), 100), (D(2020, 3, 1), 60), (D(2020, 4, 15), 80)]
    s = run(scans).summary.row(0, named=True)
    assert (s["best_response"], s["confirmed_best_response"]) == ("PR", "SD")
    s = run(scans, recist=RecistOptions(confirmation_required=True)).summary.row(0, named=True)
    assert (s["best_response"], s["confirmed_best_response"]) == ("SD", "SD")


def test_include_post_treatment_false_stops_best_response_at_the_end_of_treatment():
    treatments = pl.DataFrame(
        {"subject_id": ["s"], "start_date": ["2020-01-05"], "end_date": ["2020-02-25"], "modality": ["chemotherapy"]}
    )
    scans = [(D(2020, 1, 1), 100), (D(2020, 2, 20), 90), (D(2020, 4, 1), 60)]
    # day 46 SD (>= 42 days from the start), PR on 2020-04-01 after the end of treatment
    r = assess(subjects=SUBJ, lesions=lesions(scans), treatments=treatments)
    assert r.summary.get_column("best_response").to_list() == ["PR"]
    r = assess(subjects=SUBJ, lesions=lesions(scans), treatments=treatments,
               options=AssessOptions(recist=RecistOptions(include_post_treatment=False)))
    s = r.summary.row(0, named=True)
    assert (s["best_response"], s["best_response_date"]) == ("SD", D(2020, 2, 20))


def test_symptomatic_deterioration_is_not_progression():
    """recist11.md §6.10: symptoms getting worse without objective PD leave the OR as it is."""
    findings = pl.DataFrame({"subject_id": ["s"], "date": ["2020-03-01"], "finding": ["symptoms"], "value": ["worse"]})
    scans = [(D(2020, 1, 1), 100), (D(2020, 3, 1), 90)]
    r = assess(subjects=SUBJ, lesions=lesions(scans), findings=findings)
    assert r.assessments.get_column("overall_response").to_list() == [None, "SD"]
    assert r.summary.get_column("progression_date").to_list() == [None]


def test_coalesced_targets_are_summed_as_recorded():
    """recist11.md §6.9 / §3.4: two targets that coalesce: the mass's diameter on one, 0 on
    the other (our tables carry the per-lesion values; the engine sums them)."""
    rows = pl.DataFrame(
        {
            "subject_id": ["s"] * 4,
            "date": ["2020-01-01", "2020-01-01", "2020-03-01", "2020-03-01"],
            "lesion_id": ["T1", "T2", "T1", "T2"],
            "role": ["target"] * 4,
            "organ": ["liver", "lung"] * 2,
            "diameter_mm": [30.0, 20.0, 35.0, 0.0],
        }
    )
    a = assess(subjects=SUBJ, lesions=rows).assessments.row(1, named=True)
    # 35 mm vs 50 mm at baseline: exactly -30.0 % -> PR (§6.5, thresholds inclusive)
    assert (a["value"], a["baseline_value"], a["overall_response"]) == (35.0, 50.0, "PR")


def test_new_effusion_needs_the_readers_unequivocal_call():
    """recist11.md §4.3 and §6.12: a new effusion during PR/SD is not PD unless cytology shows
    malignancy, which the reader records as status ``progression``; ``present`` keeps it
    equivocal (pending), and a later ``progression`` back-dates the PD to the first scan."""
    rows = pl.DataFrame(
        {
            "subject_id": ["s"] * 5,
            "date": ["2020-01-01", "2020-03-01", "2020-03-01", "2020-04-15", "2020-04-15"],
            "lesion_id": ["T1", "T1", "E1", "T1", "E1"],
            "role": ["target", "target", "new", "target", "new"],
            "organ": ["liver", "liver", "pleural_effusion", "liver", "pleural_effusion"],
            "diameter_mm": [50.0, 30.0, None, 30.0, None],
            "status": [None, None, "present", None, "progression"],
        }
    )
    a = assess(subjects=SUBJ, lesions=rows).assessments
    r1, r2 = a.row(1, named=True), a.row(2, named=True)
    assert (r1["overall_response"], r1["new_lesion"], r1["pending_progression"]) == ("PR", False, True)
    assert (r2["overall_response"], r2["progression_event_date"]) == ("PD", D(2020, 3, 1))
