"""Lugano 2014 end to end (issue 13): best response, confirmed best response, lifecycle
status and remission episodes, from lugano2014.md (§4.1 PET P1-P5, §4.2 CT, §5, edge cases,
worked examples) and remission_model.md.

Expected values were derived by hand from the specs before running the code. Unless a test
says otherwise: curative chemotherapy day 0 to day 120; baseline PET-CT day -7 (Deauville 5);
interim PET day 60, end-of-treatment (EOT) PET day 150; PET findings as in
docs/criteria_imaging_rano_lugano.md (``deauville``, ``fdg_uptake_change``, ``new_fdg_foci``,
``marrow_fdg``, ``physical_exam``); default options (primary_modality PET,
deauville3_is_complete True). Lugano needs no confirmation (§5; remission_model.md §6.4:
confirm_days 0), so the confirmed best response equals the best response.
"""


C = "lugano2014"


def _pet(b, sid, d, score, change=None, new="no", marrow="none"):
    rows = [b.finding(sid, d, "deauville", score)]
    if change:
        rows.append(b.finding(sid, d, "fdg_uptake_change", change))
    if new:
        rows.append(b.finding(sid, d, "new_fdg_foci", new))
    if marrow:
        rows.append(b.finding(sid, d, "marrow_fdg", marrow))
    return rows


def _baseline(b, sid):
    return _pet(b, sid, -7, 5, new=None, marrow="none")


def _run(b, sids, findings, lesions=None, **kw):
    return b.run([b.subject(s, C, cancer_type="dlbcl") for s in sids], lesions,
                 [b.treatment(s, 0, 120, intent="curative") for s in sids], findings, **kw)


def _l01(b, s):
    return _baseline(b, s) + _pet(b, s, 60, 4, "reduced") + _pet(b, s, 150, 3) + \
        [b.finding(s, 240, "physical_exam", "no_evidence")]


def test_eot_cmr_with_residual_mass_is_complete_remission(b):
    """lugano2014.md §4.1 P3/P2, §6 edge 1 (residual mass with Deauville <= 3 at EOT -> CMR):
    interim d60 Deauville 4 reduced -> PMR; EOT d150 Deauville 3 -> CMR; clinical follow-up
    d240 physical_exam no_evidence (remission_model.md §5 rule 6).
    BOR CMR (d150), confirmed CMR (no confirmation, §5). The episode reaches complete on d150
    and is qualified; status complete_remission (remission_model.md §9)."""
    s = "L01"
    r = _run(b, [s], _l01(b, s))
    assert [b.row(r, s, d)["overall_response"] for d in (60, 150)] == ["PMR", "CMR"]
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["best_response_date"]) == ("CMR", b.day(150))
    assert sm["confirmed_best_response"] == "CMR"
    (ep,) = b.episodes(r, s)
    assert (ep["type"], ep["complete_start_date"]) == ("complete", b.day(150))
    assert ep["qualified"] is True
    assert sm["status"] == "complete_remission"


def test_eot_response_is_the_remission_onset(b):
    """lugano2014.md §5: "end_of_treatment_response ... (this, not the best interim response, is
    what the remission model uses as the remission onset for curative-intent lymphoma therapy)";
    docs/criteria_imaging_rano_lugano.md: "an end-of-treatment CMR opens a complete remission on
    its date". Same subject as above (interim PMR d60 during curative chemo d0-d120, EOT CMR
    d150, clinical follow-up d240): episode 1 starts d150 as complete, confirmed d150
    (confirm_days 0, remission_model.md §6.4), qualified d240 (first later status >= 28 d after
    onset, remission_model.md §6.5)."""
    s = "L01b"
    r = _run(b, [s], _l01(b, s))
    (ep,) = b.episodes(r, s)
    assert (ep["type"], ep["start_date"], ep["complete_start_date"]) == ("complete", b.day(150), b.day(150))
    assert ep["confirmed_date"] == b.day(150)
    assert (ep["qualified"], ep["qualification_date"]) == (True, b.day(240))


def test_eot_pmr_is_residual_disease_partial_remission(b):
    """lugano2014.md §4.1 P3 and §6 edge 2: Deauville 4 with reduced uptake at interim and at EOT
    -> PMR (residual disease = partial remission). BOR PMR, confirmed PMR; the episode is
    partial; with clinical follow-up d240 it is qualified -> status partial_remission."""
    s = "L02"
    fnd = _baseline(b, s) + _pet(b, s, 60, 4, "reduced") + _pet(b, s, 150, 4, "reduced") + \
        [b.finding(s, 240, "physical_exam", "no_evidence")]
    r = _run(b, [s], fnd)
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("PMR", "PMR")
    (ep,) = b.episodes(r, s)
    assert ep["type"] == "partial"
    assert sm["status"] == "partial_remission"


def test_pmd_after_interim_pmr(b):
    """lugano2014.md §4.1 P1 (new FDG-avid foci -> PMD), §5 (CMR > PMR > NMR > PMD): interim PMR
    d60, EOT d150 Deauville 5 with new foci -> PMD. BOR PMR (d60), confirmed PMR;
    progression_date d150; status progression (no complete remission before)."""
    s = "L03"
    fnd = _baseline(b, s) + _pet(b, s, 60, 4, "reduced") + _pet(b, s, 150, 5, "increased", new="yes")
    r = _run(b, [s], fnd)
    assert b.row(r, s, 150)["overall_response"] == "PMD"
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["best_response_date"]) == ("PMR", b.day(60))
    assert sm["confirmed_best_response"] == "PMR"
    assert sm["progression_date"] == b.day(150)
    assert sm["status"] == "progression"


def test_relapse_after_cmr_is_recurrence(b):
    """lugano2014.md §5 (relapse after CMR detected with the PD rules) and remission_model.md
    §6.3/§9: EOT CMR d150, clinical follow-up d240, clinically triggered PET d330 with new
    FDG-avid foci -> PMD. BOR CMR; the complete episode ends d330 with end_reason recurrence;
    status recurrence; recurrence_date = progression_date = d330."""
    s = "L04"
    fnd = _baseline(b, s) + _pet(b, s, 150, 2) + [b.finding(s, 240, "physical_exam", "no_evidence")] + \
        _pet(b, s, 330, 5, "increased", new="yes")
    r = _run(b, [s], fnd)
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("CMR", "CMR")
    (ep,) = b.episodes(r, s)
    assert (ep["type"], ep["end_date"], ep["end_reason"]) == ("complete", b.day(330), "recurrence")
    assert (sm["status"], sm["status_date"]) == ("recurrence", b.day(330))
    assert sm["recurrence_date"] == b.day(330)
    assert sm["progression_date"] == b.day(330)


def test_no_metabolic_response(b):
    """lugano2014.md §4.1 P4: Deauville 4 with no significant change at interim and EOT -> NMR.
    BOR NMR, confirmed NMR; no remission episode; status active_disease."""
    s = "L05"
    fnd = _baseline(b, s) + _pet(b, s, 60, 4, "unchanged") + _pet(b, s, 150, 4, "unchanged")
    r = _run(b, [s], fnd)
    assert [b.row(r, s, d)["overall_response"] for d in (60, 150)] == ["NMR", "NMR"]
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("NMR", "NMR")
    assert b.episodes(r, s) == []
    assert sm["status"] == "active_disease"


def test_deauville3_not_complete_option(b):
    """lugano2014.md §4.1 notes and §7b row 3: with deauville3_is_complete = False an EOT
    Deauville 3 site (uptake reduced) is handled like a score-4 site -> PMR (not CMR):
    BOR PMR, episode partial."""
    s = "L06"
    fnd = _baseline(b, s) + _pet(b, s, 150, 3, "reduced") + [b.finding(s, 240, "physical_exam", "no_evidence")]
    r = _run(b, [s], fnd, lugano2014={"deauville3_is_complete": False})
    assert b.row(r, s, 150)["overall_response"] == "PMR"
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("PMR", "PMR")
    (ep,) = b.episodes(r, s)
    assert ep["type"] == "partial"


def _ct(b, sid, lid, series, nodal=True, organ="lymph_node"):
    rows = []
    for d, v in series:
        if isinstance(v, str):
            rows.append(b.les(sid, d, lid, "target", status=v, organ=organ, nodal=nodal))
        else:
            rows.append(b.les(sid, d, lid, "target", diam=v[0], perp=v[1], organ=organ, nodal=nodal))
    return rows


def test_ct_worked_example_pr_then_single_node_pd(b):
    """lugano2014.md §7 (CT only, so the CT category is the overall one on those dates,
    docs choice 2): SPD 1375 -> 320 at EOT d150 (-76.7 %; node A LDi 20 > 15 prevents CR;
    spleen 15 -> 13.5 cm, excess -75 %) PR; d330 PR; d510 A 31x18 (LDi > 15, PPD +132.5 % vs
    nadir 240, LDi +11 mm) -> PD (D1). BOR PR, confirmed PR; partial episode from d150 ends d510
    with end_reason progression; status progression, progression_date d510."""
    s = "L07"
    les = _ct(b, s, "A", [(-7, (30, 20)), (150, (20, 12)), (330, (20, 12)), (510, (31, 18))]) + \
        _ct(b, s, "B", [(-7, (25, 15)), (150, (10, 8)), (330, (10, 8)), (510, (10, 8))]) + \
        _ct(b, s, "C", [(-7, (20, 20)), (150, "absent"), (330, "absent"), (510, "absent")])
    fnd = [b.finding(s, d, "spleen_length_cm", v) for d, v in ((-7, 15), (150, 13.5), (330, 13.5), (510, 13.5))]
    r = _run(b, [s], fnd, les)
    assert [b.row(r, s, d)["overall_response"] for d in (150, 330, 510)] == ["PR", "PR", "PD"]
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("PR", "PR")
    (ep,) = b.episodes(r, s)
    assert (ep["type"], ep["start_date"]) == ("partial", b.day(150))
    assert (ep["end_date"], ep["end_reason"]) == (b.day(510), "progression")
    assert (sm["status"], sm["progression_date"]) == ("progression", b.day(510))


def test_ct_size_class_rules(b):
    """lugano2014.md §6 edges 5 and 6 (CT only).
    L08: single node 40x30 -> 15x10 at EOT d150 (LDi <= 15, nothing else: CT CR) -> 22x12 at
    d330 (LDi 22 > 15, PPD 150 -> 264 = +76 %, LDi +7 mm >= 5 for a nadir LDi <= 20) -> PD.
    BOR CR; complete episode ends d330, end_reason recurrence; status recurrence.
    L09: node 40x35 -> 30x25 at d150 (SPD -46 %: SD) -> 36x32 at d330 (PPD +53.6 % but LDi +6 and
    SDi +7 mm < 10 for a nadir LDi > 20) -> not PD: SD. BOR SD; no progression."""
    les = _ct(b, "L08", "A", [(-7, (40, 30)), (150, (15, 10)), (330, (22, 12))]) + \
        _ct(b, "L09", "A", [(-7, (40, 35)), (150, (30, 25)), (330, (36, 32))])
    r = _run(b, ["L08", "L09"], None, les)
    assert [b.row(r, "L08", d)["overall_response"] for d in (150, 330)] == ["CR", "PD"]
    s8 = b.summary(r, "L08")
    assert (s8["best_response"], s8["confirmed_best_response"]) == ("CR", "CR")
    (ep,) = b.episodes(r, "L08")
    assert (ep["type"], ep["end_date"], ep["end_reason"]) == ("complete", b.day(330), "recurrence")
    assert s8["status"] == "recurrence"
    assert [b.row(r, "L09", d)["overall_response"] for d in (150, 330)] == ["SD", "SD"]
    s9 = b.summary(r, "L09")
    assert (s9["best_response"], s9["confirmed_best_response"]) == ("SD", "SD")
    assert s9["progression_date"] is None


def test_score_4_without_uptake_change_is_ne(b):
    """lugano2014.md §4.1 P5 (required data missing -> NE; docs choice 9: a score 4-5 without
    its uptake change): the only follow-up is NE -> BOR NE, confirmed NE; status
    active_disease (remission_model.md §9: last status NOT_EVALUABLE)."""
    s = "L10"
    fnd = _baseline(b, s) + _pet(b, s, 60, 4)
    r = _run(b, [s], fnd)
    assert b.row(r, s, 60)["overall_response"] == "NE"
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("NE", "NE")
    assert sm["status"] == "active_disease"
