"""mRECIST (HCC) end to end (issue 13): best response, confirmed best response, lifecycle
status and remission episodes, from mrecist.md (worked examples A and B, edge cases) and
remission_model.md.

Expected values were derived by hand from the specs before running the code. Day 0 = start
of treatment (TACE/systemic, ended day 14), baseline day -7; liver targets carry the viable
(arterially enhancing) diameter in ``viable_diameter_mm`` (docs/criteria_imaging_irecist_mrecist.md);
defaults (pd_min_abs_mm 0, RECIST confirmation and sd_min_days 42).
"""


C = "mrecist"


def _liver(b, sid, lid, series):
    """series: [(day, overall_mm, viable_mm)]"""
    return [b.les(sid, d, lid, "target", diam=o, organ="liver", viable_diameter_mm=v) for d, o, v in series]


def _run(b, lesions_by_sid, **kw):
    sids = list(lesions_by_sid)
    return b.run([b.subject(s, C, cancer_type="hcc") for s in sids], [r for s in sids for r in lesions_by_sid[s]],
                 [b.treatment(s, modality="other") for s in sids], **kw)


def test_worked_example_a_viable_pr_then_pd(b):
    """mrecist.md §7 A: viable sum 70 -> 35 (-50 %, PR d60) -> 30 (PR d120) -> 36 (+20 %, +6 mm vs
    nadir 30, PD d180) while the overall diameters are ~unchanged (RECIST would be SD).
    BOR PR, confirmed PR (d60 by d120); episode partial d60, confirmed d120, ends d180 with
    end_reason progression; status progression."""
    s = "M01"
    les = _liver(b, s, "T1", [(-7, 50, 40), (60, 50, 15), (120, 49, 12), (180, 50, 20)]) + \
        _liver(b, s, "T2", [(-7, 30, 30), (60, 28, 20), (120, 28, 18), (180, 29, 16)])
    r = _run(b, {s: les})
    assert [b.row(r, s, d)["overall_response"] for d in (60, 120, 180)] == ["PR", "PR", "PD"]
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("PR", "PR")
    assert sm["confirmed_best_response_date"] == b.day(60)
    (ep,) = b.episodes(r, s)
    assert (ep["type"], ep["start_date"], ep["confirmed_date"]) == ("partial", b.day(60), b.day(120))
    assert (ep["end_date"], ep["end_reason"]) == (b.day(180), "progression")
    assert (sm["status"], sm["progression_date"]) == ("progression", b.day(180))


def test_complete_necrosis_is_cr(b):
    """mrecist.md §6 edge 1 / §4.1 M4: complete necrosis (viable 0) with unchanged overall size
    -> CR at d56 and d112: BOR CR, confirmed CR; complete episode from d56 confirmed d112,
    qualified d112 (remission_model.md §6.5) -> status complete_remission."""
    s = "M02"
    r = _run(b, {s: _liver(b, s, "T1", [(-7, 50, 40), (56, 50, 0), (112, 50, 0)])})
    assert [b.row(r, s, d)["overall_response"] for d in (56, 112)] == ["CR", "CR"]
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("CR", "CR")
    (ep,) = b.episodes(r, s)
    assert (ep["type"], ep["start_date"], ep["confirmed_date"]) == ("complete", b.day(56), b.day(112))
    assert ep["qualified"] is True
    assert sm["status"] == "complete_remission"


def test_small_increase_is_pd_without_5mm_floor(b):
    """mrecist.md §6 edge 4 / §4.1 M3 (pd_min_abs_mm 0): viable 30 -> 10 (PR d56) -> 12 (d112:
    +20 %, +2 mm vs nadir 10) -> PD. BOR PR; confirmed BOR SD (recist11.md Table 6 "PR then PD":
    SD as d56 >= 42); episode ends d112, progression."""
    s = "M03"
    r = _run(b, {s: _liver(b, s, "T1", [(-7, 35, 30), (56, 30, 10), (112, 30, 12)])})
    assert b.row(r, s, 112)["overall_response"] == "PD"
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("PR", "SD")
    (ep,) = b.episodes(r, s)
    assert (ep["end_date"], ep["end_reason"]) == (b.day(112), "progression")


def test_small_increase_not_pd_with_5mm_floor(b):
    """mrecist.md §6 edge 4 with pd_min_abs_mm = 5: the same +2 mm is not PD -> d112 PR
    (-60 % vs baseline 30): BOR PR, confirmed PR."""
    s = "M04"
    r = _run(b, {s: _liver(b, s, "T1", [(-7, 35, 30), (56, 30, 10), (112, 30, 12)])},
             mrecist={"pd_min_abs_mm": 5})
    assert b.row(r, s, 112)["overall_response"] == "PR"
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("PR", "PR")


def test_worked_example_b_atypical_nodule_backdated(b):
    """mrecist.md §7 B: CR d56 (viable 0 + 0); d112 CR with a 12 mm atypical new nodule
    (equivocal, pending; the row stays CR); d168 the nodule is 23 mm (+11 mm >= 10) -> new HCC ->
    PD back-dated to d112. Expected (spec text): on re-derivation d112 is PD, so the d56 CR
    loses its confirmation: BOR CR (unconfirmed), confirmed BOR SD (d56 >= 42);
    progression_date d112. remission_model.md §6.3: the complete episode ends d112 with
    end_reason recurrence; status recurrence."""
    s = "M05"
    les = _liver(b, s, "T1", [(-7, 40, 35), (56, 35, 0), (112, 35, 0), (168, 35, 0)]) + \
        _liver(b, s, "T2", [(-7, 30, 25), (56, 28, 0), (112, 28, 0), (168, 28, 0)])
    les += [
        b.les(s, 112, "NEW1", "new", diam=12, status="equivocal", organ="liver"),
        b.les(s, 168, "NEW1", "new", diam=23, status="equivocal", organ="liver"),
    ]
    r = _run(b, {s: les})
    r112, r168 = b.row(r, s, 112), b.row(r, s, 168)
    assert r112["overall_response"] == "CR"
    assert r112["pending_progression"] is True
    assert r168["overall_response"] == "PD"
    assert r168["progression_event_date"] == b.day(112)
    sm = b.summary(r, s)
    assert sm["progression_date"] == b.day(112)
    (ep,) = b.episodes(r, s)
    assert (ep["type"], ep["start_date"]) == ("complete", b.day(56))
    assert (ep["end_date"], ep["end_reason"]) == (b.day(112), "recurrence")
    assert sm["status"] == "recurrence"
    assert sm["best_response"] == "CR"
    assert sm["confirmed_best_response"] == "SD"


def test_sd_too_early_is_ne(b):
    """mrecist.md §5 -> recist11.md §5.2/§5.3: SD at d28 only (viable 30 -> 27) -> BOR NE;
    status active_disease (remission_model.md §9)."""
    s = "M06"
    r = _run(b, {s: _liver(b, s, "T1", [(-7, 35, 30), (28, 35, 27)])})
    assert b.row(r, s, 28)["overall_response"] == "SD"
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("NE", "NE")
    assert sm["status"] == "active_disease"


def test_new_typical_lesion_is_pd_at_once(b):
    """mrecist.md §4.3: a new intrahepatic lesion >= 10 mm with the typical pattern (status
    present) is PD on its date: PR d56 then new 15 mm typical lesion d84 -> PD d84;
    BOR PR, confirmed SD; progression_date d84."""
    s = "M07"
    les = _liver(b, s, "T1", [(-7, 35, 30), (56, 30, 15), (84, 30, 15)])
    les.append(b.les(s, 84, "NEW1", "new", diam=15, status="present", organ="liver"))
    r = _run(b, {s: les})
    assert b.row(r, s, 84)["overall_response"] == "PD"
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("PR", "SD")
    assert sm["progression_date"] == b.day(84)
