"""RECIST 1.1 end to end (issue 13): best response, confirmed best response, lifecycle
status and remission episodes, from recist11.md edge cases and remission_model.md.

Expected values were derived by hand from the specs before running the code. Unless a test
says otherwise: day 0 = start of chemotherapy (ended day 14), baseline scan day -7, one
target lesion T1 (liver) of 50 mm, so PR <= 35 mm (-30 %), PD >= +20 % and +5 mm vs nadir;
default options (confirmation_required False, confirm_days 28, max_ne_between 1,
accept_sd_between False, sd_min_days 42).
"""


C = "recist1.1"


def _one_target(b, sid, series, **kw):
    return b.target_series(sid, [(-7, 50)] + series, **kw)


def _simple(b, cases):
    """cases: {sid: [(day, diameter|status), ...]} -> result."""
    subjects = [b.subject(s, C) for s in cases]
    lesions = [r for s, ser in cases.items() for r in _one_target(b, s, ser)]
    treatments = [b.treatment(s) for s in cases]
    return b.run(subjects, lesions, treatments)


def test_worked_example_pr_confirmed_then_pd(b):
    """recist11.md §7 worked example: PR d56, PR d112, PD d168 (+21.4 %, +9 mm vs nadir 42).

    BOR PR (d56); confirmed PR (d56 confirmed by d112, 56 d >= 28, §5.4 step 2).
    remission_model.md §6.3/§6.4: episode 1 partial, start d56, confirmed d112, ends d168
    with end_reason progression (current type PARTIAL); §9: status progression on d168.
    """
    s = "R01"
    rows = []
    for d, (liv, lung, node) in {-7: (40, 20, 18), 56: (25, 12, 9), 112: (24, 10, 8), 168: (27, 14, 10)}.items():
        rows += [
            b.les(s, d, "T1", diam=liv, organ="liver"),
            b.les(s, d, "T2", diam=lung, organ="lung"),
            b.les(s, d, "T3", diam=node, organ="lymph_node", nodal=True),
            b.les(s, d, "N1", "non_target", diam=12, status="present", organ="lymph_node", nodal=True),
        ]
    r = b.run([b.subject(s, C)], rows, [b.treatment(s)])
    assert [b.row(r, s, d)["overall_response"] for d in (56, 112, 168)] == ["PR", "PR", "PD"]
    sm = b.summary(r, s)
    assert sm["best_response"] == "PR"
    assert sm["best_response_date"] == b.day(56)
    assert sm["confirmed_best_response"] == "PR"
    assert sm["progression_date"] == b.day(168)
    assert sm["recurrence_date"] is None
    assert sm["status"] == "progression"
    assert sm["status_date"] == b.day(168)
    (ep,) = b.episodes(r, s)
    assert ep["type"] == "partial"
    assert ep["start_date"] == b.day(56)
    assert ep["confirmed_date"] == b.day(112)
    assert ep["end_date"] == b.day(168)
    assert ep["end_reason"] == "progression"


def test_confirmation_ne_between(b):
    """recist11.md §5.4 library table: PR(56)-NE(84)-PR(112) -> confirmed PR (one NE allowed);
    PR(56)-NE(84)-NE(112)-PR(140) -> confirmed SD (two NE exceed max_ne_between = 1; SD
    because d56 >= sd_min_days 42). Unconfirmed BOR is PR for both (§5.3).

    Lifecycle for R02 (remission_model.md §6.4-6.5, §9): confirmation d112 (one NE between),
    qualified d112 (>= 28 d after onset and after the end of chemo d14) -> status
    partial_remission as of d112.
    """
    r = _simple(b, {
        "R02": [(56, 30), (84, "not_evaluated"), (112, 30)],
        "R03": [(56, 30), (84, "not_evaluated"), (112, "not_evaluated"), (140, 30)],
    })
    assert b.row(r, "R02", 84)["overall_response"] == "NE"
    s2, s3 = b.summary(r, "R02"), b.summary(r, "R03")
    assert (s2["best_response"], s2["confirmed_best_response"]) == ("PR", "PR")
    assert s2["confirmed_best_response_date"] == b.day(56)
    assert (s3["best_response"], s3["confirmed_best_response"]) == ("PR", "SD")
    (ep,) = b.episodes(r, "R02")
    assert ep["start_date"] == b.day(56)
    assert ep["confirmed_date"] == b.day(112)
    assert ep["qualified"] is True
    assert ep["qualification_date"] == b.day(112)
    assert ep["end_reason"] == "censored"
    assert s2["status"] == "partial_remission"


def test_confirmation_interval_and_sd_between(b):
    """recist11.md §5.4 library table:
    PR(42)-PR(63)-PR(84) -> confirmed PR by TP3 (TP2 only 21 d later), BOR date d42;
    PR(56)-PR(77), then nothing -> confirmed SD (interval < 28 d; 56 >= 42);
    PR(56)-SD(84: 35.5 mm, -29 % vs baseline, +18 % vs nadir 30)-PR(112) -> confirmed SD (accept_sd_between False by default).
    Table 6: PR then SD -> SD.
    """
    r = _simple(b, {
        "R04": [(42, 30), (63, 30), (84, 30)],
        "R05": [(56, 30), (77, 30)],
        "R06": [(56, 30), (84, 35.5), (112, 30)],
    })
    s4, s5, s6 = (b.summary(r, s) for s in ("R04", "R05", "R06"))
    assert (s4["confirmed_best_response"], s4["confirmed_best_response_date"]) == ("PR", b.day(42))
    assert (s5["best_response"], s5["confirmed_best_response"]) == ("PR", "SD")
    assert b.row(r, "R06", 84)["overall_response"] == "SD"
    assert (s6["best_response"], s6["confirmed_best_response"]) == ("PR", "SD")


def test_sd_minimum_duration(b):
    """recist11.md §5.2/§5.3 (paper's examples): SD(28) then PD(84) -> BOR PD;
    SD(28) then lost to follow-up -> BOR NE; SD exactly at d42 -> BOR SD (>= is inclusive,
    README "Thresholds"). Confirmed BOR is the same (§5.4 step 4).
    """
    r = _simple(b, {
        "R07": [(28, 45), (84, 70)],
        "R08": [(28, 45)],
        "R09": [(42, 45)],
    })
    assert b.row(r, "R07", 84)["overall_response"] == "PD"
    for sid, exp in (("R07", "PD"), ("R08", "NE"), ("R09", "SD")):
        sm = b.summary(r, sid)
        assert (sid, sm["best_response"], sm["confirmed_best_response"]) == (sid, exp, exp)
    # lifecycle: no remission was ever met
    assert b.episodes(r, "R07") == [] and b.episodes(r, "R09") == []
    assert b.summary(r, "R07")["status"] == "progression"
    assert b.summary(r, "R09")["status"] == "active_disease"


def test_pd_first_assessment_new_lesion(b):
    """recist11.md §4.4 (new lesion -> PD), §5.3: PD at the first assessment (d28) -> BOR PD,
    confirmed PD; no episode; status progression (remission_model.md §9, no CR before),
    progression_date d28.
    """
    s = "R10"
    rows = _one_target(b, s, [(28, 48)]) + [b.les(s, 28, "NEW1", "new", diam=15, status="present", organ="lung")]
    r = b.run([b.subject(s, C)], rows, [b.treatment(s)])
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("PD", "PD")
    assert sm["progression_date"] == b.day(28)
    assert sm["status"] == "progression"
    assert b.episodes(r, s) == []


def test_missing_when_no_post_baseline_assessment(b):
    """recist11.md §5.3: no post-baseline time point -> BOR MISSING (missing_as_ne False);
    remission_model.md §9: no status yet -> not_assessed (the baseline scan is not a response
    status, §6.2 rule 3)."""
    s = "R11"
    r = b.run([b.subject(s, C)], _one_target(b, s, []), [b.treatment(s)])
    sm = b.summary(r, s)
    assert sm["best_response"] == "MISSING"
    assert sm["confirmed_best_response"] == "MISSING"
    assert sm["status"] == "not_assessed"


def test_new_therapy_cuts_best_response(b):
    """recist11.md §5.1 (exclude_after_new_therapy True) and spec/tables.md "treatments"
    (new therapy = a later line): PR d56, PR d98, line 2 starts d100, CR d140 and d182.
    BOR of the first line = PR (d56), confirmed PR; the later CRs are excluded.
    """
    s = "R12"
    r = b.run(
        [b.subject(s, C)],
        _one_target(b, s, [(56, 30), (98, 30), (140, "absent"), (182, "absent")]),
        [b.treatment(s, 0, 14, line=1), b.treatment(s, 100, 114, modality="targeted", line=2)],
    )
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["best_response_date"]) == ("PR", b.day(56))
    assert sm["confirmed_best_response"] == "PR"


def test_cr_confirmed_then_recurrence(b):
    """recist11.md §5.4 step 1: CR d56 confirmed by CR d112 -> BOR CR, confirmed CR (d56).
    New lesion d168 -> PD. remission_model.md §6.3: the episode (complete from d56) ends d168
    with end_reason recurrence (current type COMPLETE); §9: status on d168 is recurrence;
    summary recurrence_date = progression_date = d168 (spec/tables.md "summary").
    """
    s = "R13"
    rows = _one_target(b, s, [(56, "absent"), (112, "absent"), (168, "absent")])
    rows.append(b.les(s, 168, "NEW1", "new", diam=14, status="present", organ="bone"))
    r = b.run([b.subject(s, C)], rows, [b.treatment(s)])
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("CR", "CR")
    assert sm["confirmed_best_response_date"] == b.day(56)
    (ep,) = b.episodes(r, s)
    assert ep["type"] == "complete"
    assert (ep["start_date"], ep["complete_start_date"]) == (b.day(56), b.day(56))
    assert ep["confirmed_date"] == b.day(112)
    assert ep["qualified"] is True
    assert (ep["end_date"], ep["end_reason"]) == (b.day(168), "recurrence")
    assert sm["progression_date"] == b.day(168)
    assert sm["recurrence_date"] == b.day(168)
    assert (sm["status"], sm["status_date"]) == ("recurrence", b.day(168))


def test_complete_remission_status_before_recurrence(b):
    """Same subject as above, as of d112 (remission_model.md §9): open qualified episode with
    current type COMPLETE -> complete_remission (qualified d112: >= 28 d after onset d56,
    >= 28 d after the end of chemo d14, on/after the confirmation d112)."""
    s = "R14"
    rows = _one_target(b, s, [(56, "absent"), (112, "absent"), (168, "absent")])
    rows.append(b.les(s, 168, "NEW1", "new", diam=14, status="present", organ="bone"))
    r = b.run([b.subject(s, C)], rows, [b.treatment(s)], as_of=112)
    sm = b.summary(r, s)
    assert sm["status"] == "complete_remission"
    assert sm["recurrence_date"] is None


def test_reappearance_after_unconfirmed_cr_is_recurrence(b):
    """recist11.md §4.7 (default pd_if_prior_cr): CR d56, T1 back at 10 mm d84 -> PD
    (reappearance after CR, although -80 % from baseline). Table 6 "CR then PD": BOR CR
    (unconfirmed), confirmed BOR SD (d56 >= 42). remission_model.md §6.3/§9: the episode was
    complete -> ends d84 with end_reason recurrence, not qualified
    (REGROWTH_WITHIN_SUSTAIN_WINDOW, §6.5); status recurrence on d84.
    """
    s = "R15"
    r = b.run([b.subject(s, C)], _one_target(b, s, [(56, "absent"), (84, 10)]), [b.treatment(s)])
    assert b.row(r, s, 84)["overall_response"] == "PD"
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("CR", "SD")
    (ep,) = b.episodes(r, s)
    assert (ep["end_date"], ep["end_reason"]) == (b.day(84), "recurrence")
    assert ep["qualified"] is False
    assert ep["not_qualified_reason"] .upper() == "REGROWTH_WITHIN_SUSTAIN_WINDOW"
    assert (sm["status"], sm["status_date"]) == ("recurrence", b.day(84))
    assert sm["recurrence_date"] == b.day(84)


def test_cr_then_pr_warning(b):
    """recist11.md §5.4 (last row of the library table, §10) and issue 13 §3: a CR followed by
    a PR raises CR_THEN_PR (admiralonco check_crpr). CR d56; d84 targets still 0 mm but the
    non-target not evaluated -> Table 4 "CR / NE / No" = PR (no lesion reappeared, so §4.7
    does not apply); CR again d112.
    Expected: the PR row's warnings contain CR_THEN_PR; BOR CR (d56); confirmed BOR PR
    (CR d56 not confirmed: a PR lies between it and the next CR, step 1; PR d84 confirmed by
    CR d112, 28 d, step 2).
    """
    s = "R16"
    rows = _one_target(b, s, [(56, "absent"), (84, "absent"), (112, "absent")])
    for d, st in ((-7, "present"), (56, "absent"), (84, "not_evaluated"), (112, "absent")):
        rows.append(b.les(s, d, "N1", "non_target", status=st, organ="lung"))
    r = b.run([b.subject(s, C)], rows, [b.treatment(s)])
    pr = b.row(r, s, 84)
    assert pr["overall_response"] == "PR"
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["best_response_date"]) == ("CR", b.day(56))
    assert sm["confirmed_best_response"] == "PR"
    assert "CR_THEN_PR" in (pr["warnings"] or "")
    # ... and in the warnings table (warnings.csv, one row per code)
    w = r.warnings.filter(b.pl.col("subject_id") == s).to_dicts()
    assert {"subject_id": s, "date": b.day(84), "criteria": C, "warning": "CR_THEN_PR"} in w
    assert all(x["warning"] != "CR_THEN_PR" or x["date"] == b.day(84) for x in w)


def test_equivocal_new_lesion_backdated(b):
    """recist11.md §4.6, §6.13: PR d56; d112 PR with an equivocal new lesion (row stays PR,
    pending, spec/tables.md "rows are never rewritten"); d168 the lesion is unequivocal -> PD
    back-dated to d112. BOR/durations are re-derived: the BOR window ends at the first PD
    (d112), so PR d56 has no confirmation -> confirmed BOR SD (d56 >= 42); unconfirmed BOR PR.
    progression_date d112; the episode (partial) ends d112, end_reason progression.
    """
    s = "R17"
    rows = _one_target(b, s, [(56, 30), (112, 30), (168, 30)])
    rows += [
        b.les(s, 112, "NEW1", "new", diam=8, status="equivocal", organ="lung"),
        b.les(s, 168, "NEW1", "new", diam=14, status="present", organ="lung"),
    ]
    r = b.run([b.subject(s, C)], rows, [b.treatment(s)])
    r112, r168 = b.row(r, s, 112), b.row(r, s, 168)
    assert r112["overall_response"] == "PR"
    assert r112["pending_progression"] is True
    assert r168["overall_response"] == "PD"
    assert r168["progression_event_date"] == b.day(112)
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("PR", "SD")
    assert sm["progression_date"] == b.day(112)
    (ep,) = b.episodes(r, s)
    assert (ep["end_date"], ep["end_reason"]) == (b.day(112), "progression")


def test_non_target_only_disease(b):
    """recist11.md §4.5, §6.14 (non-target disease only, Table 5):
    R18: NON-CR/NON-PD at d56 -> BOR NON-CR/NON-PD (>= 42 d); no episode; active_disease.
    R19: NON-CR/NON-PD at d28 only -> BOR NE (before sd_min_days).
    R20: all non-targets absent d56 and d112 -> CR, confirmed CR.
    """
    rows = []
    for sid, ser in {
        "R18": [(-7, "present"), (56, "present")],
        "R19": [(-7, "present"), (28, "present")],
        "R20": [(-7, "present"), (56, "absent"), (112, "absent")],
    }.items():
        rows += [b.les(sid, d, "N1", "non_target", status=st, organ="lung") for d, st in ser]
    sids = ["R18", "R19", "R20"]
    r = b.run([b.subject(s, C) for s in sids], rows, [b.treatment(s) for s in sids])
    s18, s19, s20 = (b.summary(r, s) for s in sids)
    assert (s18["best_response"], s18["confirmed_best_response"]) == ("NON-CR/NON-PD", "NON-CR/NON-PD")
    assert s18["status"] == "active_disease"
    assert (s19["best_response"], s19["confirmed_best_response"]) == ("NE", "NE")
    assert (s20["best_response"], s20["confirmed_best_response"]) == ("CR", "CR")


def test_death_in_complete_remission(b):
    """remission_model.md §6.3 (death ends the open episode), §11.7, §9: CR d56, CR d112,
    death d150 -> episode end d150, end_reason death; status deceased."""
    s = "R21"
    r = b.run(
        [b.subject(s, C, death=150)], _one_target(b, s, [(56, "absent"), (112, "absent")]), [b.treatment(s)],
        as_of=150,
    )
    (ep,) = b.episodes(r, s)
    assert (ep["end_date"], ep["end_reason"]) == (b.day(150), "death")
    assert b.summary(r, s)["status"] == "deceased"


def test_status_on_the_recurrence_date_and_after(b):
    """remission_model.md §9: after a complete remission, the status on the date the
    progression is documented is recurrence (consistent with the episode's end_reason), and it
    falls back to active_disease at the next status that is not a new remission.
    CR d56, CR d112, new lesion d168 (PD), SD-level scan d224 (no new remission: the new lesion
    persists, so d224 is still PD by Table 4; BOR ignores it, §6.16).
    As of d168: recurrence (status_date d168). As of d224: recurrence_date still d168 (the
    status on d224 is not asserted: §9 gives "progression" for a PROGRESSION status with no
    episode, and "falls back to active_disease" for the next status, so the spec is unclear)."""
    s = "R22"
    rows = _one_target(b, s, [(56, "absent"), (112, "absent"), (168, "absent"), (224, "absent")])
    rows += [b.les(s, d, "NEW1", "new", diam=14, status="present", organ="bone") for d in (168, 224)]
    r168 = b.run([b.subject(s, C)], rows, [b.treatment(s)], as_of=168)
    sm = b.summary(r168, s)
    assert (sm["status"], sm["status_date"]) == ("recurrence", b.day(168))
    (ep,) = b.episodes(r168, s)
    assert ep["end_reason"] == "recurrence"
    r224 = b.run([b.subject(s, C)], rows, [b.treatment(s)])
    sm = b.summary(r224, s)
    assert sm["recurrence_date"] == b.day(168)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("CR", "CR")


def test_responding_before_qualification(b):
    """remission_model.md §9: an open episode that is not yet qualified -> responding.
    PR d56 only (no later status to sustain it, §6.5 INSUFFICIENT_FOLLOW_UP). BOR PR; confirmed
    BOR SD (recist11.md §5.4 step 3: unconfirmed PR at d56 >= sd_min_days 42)."""
    s = "R23"
    r = b.run([b.subject(s, C)], _one_target(b, s, [(56, 30)]), [b.treatment(s)])
    sm = b.summary(r, s)
    assert sm["status"] == "responding"
    (ep,) = b.episodes(r, s)
    assert ep["qualified"] is False
    assert ep["not_qualified_reason"].upper() == "INSUFFICIENT_FOLLOW_UP"
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("PR", "SD")


def test_pr_upgraded_to_cr_then_pd_is_recurrence(b):
    """remission_model.md §6.3 (upgrade PARTIAL -> COMPLETE; end_reason RECURRENCE when the
    current type is COMPLETE) and §9: PR d56, CR d112, CR d168, new lesion d224.
    BOR CR (d112), confirmed CR (d112 by d168); one episode from d56 (type complete,
    complete_start d112) ending d224 with end_reason recurrence; status recurrence on d224;
    recurrence_date = progression_date = d224; first_response_date d56."""
    s = "R24"
    rows = _one_target(b, s, [(56, 30), (112, "absent"), (168, "absent"), (224, "absent")])
    rows.append(b.les(s, 224, "NEW1", "new", diam=14, status="present", organ="bone"))
    r = b.run([b.subject(s, C)], rows, [b.treatment(s)])
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["best_response_date"]) == ("CR", b.day(112))
    assert sm["confirmed_best_response"] == "CR"
    (ep,) = b.episodes(r, s)
    assert (ep["type"], ep["start_date"], ep["complete_start_date"]) == ("complete", b.day(56), b.day(112))
    assert (ep["end_date"], ep["end_reason"]) == (b.day(224), "recurrence")
    assert (sm["status"], sm["status_date"]) == ("recurrence", b.day(224))
    assert sm["recurrence_date"] == sm["progression_date"] == b.day(224)
    assert sm["first_response_date"] == b.day(56)


def test_cr_ne_then_pd_is_recurrence(b):
    """remission_model.md §6.3 (NOT_EVALUABLE changes nothing) and §9: CR d56, CR d112, NE d168
    (T1 not evaluated), new lesion d224 -> the complete episode ends d224 with end_reason
    recurrence; status recurrence on d224. BOR CR, confirmed CR."""
    s = "R25"
    rows = _one_target(b, s, [(56, "absent"), (112, "absent"), (168, "not_evaluated"), (224, "absent")])
    rows.append(b.les(s, 224, "NEW1", "new", diam=14, status="present", organ="bone"))
    r = b.run([b.subject(s, C)], rows, [b.treatment(s)])
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("CR", "CR")
    (ep,) = b.episodes(r, s)
    assert (ep["end_date"], ep["end_reason"]) == (b.day(224), "recurrence")
    assert (sm["status"], sm["status_date"]) == ("recurrence", b.day(224))


def test_warnings_csv_whole_and_batched(b, tmp_path):
    """The warnings table is written as warnings.csv beside assessments.csv (an addition to
    spec/tables.md, docs/tables.md), the same for a whole run and a batched one: the
    bundled example's EX06 SINGLE_NODE_REAPPEARANCE (recist11.md §4.7)."""
    from pathlib import Path

    from remission import assess
    from remission.batching import assess_to_files

    example = Path(__file__).resolve().parents[2] / "src" / "remission" / "data" / "example"
    whole = tmp_path / "whole"
    assess(str(example)).write(whole)
    got = b.pl.read_csv(whole / "warnings.csv")
    assert got.columns == ["subject_id", "date", "criteria", "warning"]
    assert ("EX06", "SINGLE_NODE_REAPPEARANCE") in set(zip(got["subject_id"], got["warning"]))
    batched = tmp_path / "batched"
    assess_to_files(example, batched, "csv", batch_size=5, workers=1)
    assert (batched / "warnings.csv").read_text() == (whole / "warnings.csv").read_text()
