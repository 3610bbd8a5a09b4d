"""RANO 2.0 end to end (issue 13): best response, confirmed best response, lifecycle status
and remission episodes, from rano.md (§4.2 G1-G11, §5, edge cases, worked examples) and
remission_model.md.

Expected values were derived by hand from the specs before running the code. Unless a test
says otherwise: day 0 = start of chemotherapy (ended day 14, not within 12 weeks of
radiotherapy), baseline MRI day -3 with one enhancing target T1 (organ brain) 30 x 20 =
600 mm², so PR <= 300 mm² (-50 % vs baseline), PD >= +25 % vs nadir; steroids as findings
``steroid_dose_mg`` (dexamethasone-equivalent mg/day, in force until the next value),
``steroid_increase_reason``, ``clinical_status`` (docs/criteria_imaging_rano_lugano.md);
defaults (confirm_response_days 28, sd_min_days 56).
"""

import pytest

C = "rano2"


def _mri(b, sid, lid, series, organ="brain", role="target"):
    rows = []
    for d, v in series:
        if isinstance(v, str):
            rows.append(b.les(sid, d, lid, role, status=v, organ=organ, method="MRI"))
        else:
            rows.append(b.les(sid, d, lid, role, diam=v[0], perp=v[1], organ=organ, method="MRI"))
    return rows


def _run(b, lesions_by_sid, findings=(), treatments=None, **kw):
    sids = list(lesions_by_sid)
    if treatments is None:
        treatments = [b.treatment(s) for s in sids]
    return b.run([b.subject(s, C, cancer_type="glioma") for s in sids],
                 [r for s in sids for r in lesions_by_sid[s]], treatments, list(findings) or None, **kw)


def test_worked_example_a_sd_then_confirmed_pr_then_pd(b):
    """rano.md §7 A (recurrent GBM): SPD 780 (dex 4 mg) -> d56 400 (-48.7 %, dex 2) SD ->
    d112 316 (-59.5 %) preliminary PR -> d140 300 (-61.5 %, dex 1) PR confirmed (28 d, §5.1) ->
    d224 520 (+73 % vs nadir 300) PD. BOR PR (d112), confirmed PR (§5.3: only confirmed
    responses count; this one is). Episode partial from d112 (response date = first
    preliminary scan), confirmed d140, ends d224 with end_reason progression; status progression."""
    s = "G01"
    les = _mri(b, s, "T1", [(-3, (30, 20)), (56, (20, 15)), (112, (18, 12)), (140, (15, 10)), (224, (25, 16))]) + \
        _mri(b, s, "T2", [(-3, (15, 12)), (56, (10, 10)), (112, (10, 10)), (140, (15, 10)), (224, (12, 10))])
    fnd = [b.finding(s, -3, "steroid_dose_mg", 4), b.finding(s, 50, "steroid_dose_mg", 2),
           b.finding(s, 135, "steroid_dose_mg", 1)]
    r = _run(b, {s: les}, fnd)
    assert [b.row(r, s, d)["overall_response"] for d in (56, 112, 140, 224)] == ["SD", "PR", "PR", "PD"]
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["best_response_date"]) == ("PR", b.day(112))
    assert sm["confirmed_best_response"] == "PR"
    (ep,) = b.episodes(r, s)
    assert (ep["type"], ep["start_date"], ep["confirmed_date"]) == ("partial", b.day(112), b.day(140))
    assert (ep["end_date"], ep["end_reason"]) == (b.day(224), "progression")
    assert (sm["status"], sm["progression_date"]) == ("progression", b.day(224))


def test_sd_counts_only_after_minimum_interval(b):
    """rano.md §5.3 (issue 13 §3): SD counts as best response only >= sd_min_days (56) after the
    reference start; SD itself needs no confirmation.
    G02: SD d28 (560), PD d84 (800: +43 % vs nadir 560) -> BOR PD, confirmed PD.
    G03: SD d56 (560), nothing after -> BOR SD, confirmed SD.
    G04: SD d28 only -> BOR NE, confirmed NE."""
    r = _run(b, {
        "G02": _mri(b, "G02", "T1", [(-3, (30, 20)), (28, (28, 20)), (84, (40, 20))]),
        "G03": _mri(b, "G03", "T1", [(-3, (30, 20)), (56, (28, 20))]),
        "G04": _mri(b, "G04", "T1", [(-3, (30, 20)), (28, (28, 20))]),
    })
    assert b.row(r, "G02", 84)["overall_response"] == "PD"
    for sid, exp in (("G02", "PD"), ("G03", "SD"), ("G04", "NE")):
        sm = b.summary(r, sid)
        assert (sid, sm["best_response"], sm["confirmed_best_response"]) == (sid, exp, exp)


def test_unsustained_pr_does_not_count_and_sd_is_not_ignored(b):
    """rano.md §5.1/§5.3 (issue 13 §3): PR counts only when sustained >= 28 d; a confirmed best
    response never ignores SD. SD d56 (560), preliminary PR d70 (15x20 = 300, -50 %), PD d98
    (40x20 = 800 vs nadir 300). The PR is never confirmed -> BOR SD (d56), confirmed BOR SD
    (not PD, not PR); progression_date d98; no remission episode is qualified."""
    s = "G05"
    r = _run(b, {s: _mri(b, s, "T1", [(-3, (30, 20)), (56, (28, 20)), (70, (15, 20)), (98, (40, 20))])})
    assert [b.row(r, s, d)["overall_response"] for d in (56, 70, 98)] == ["SD", "PR", "PD"]
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["best_response_date"]) == ("SD", b.day(56))
    assert sm["confirmed_best_response"] == "SD"
    assert sm["progression_date"] == b.day(98)
    assert all(not e["qualified"] for e in b.episodes(r, s))


def test_unsustained_pr_after_minimum_is_sd(b):
    """rano.md §5.3 read with recist11.md §5.4 step 3 (an unconfirmed response falls back to
    SD): preliminary PR d56 (-50 %), PD d84 (800 vs nadir 300). The PR is not sustained -> it
    does not count as PR; the d56 scan is at least stable and is >= sd_min_days -> BOR SD and
    confirmed BOR SD (not PR, not PD)."""
    s = "G06"
    r = _run(b, {s: _mri(b, s, "T1", [(-3, (30, 20)), (56, (15, 20)), (84, (40, 20))])})
    sm = b.summary(r, s)
    assert sm["best_response"] == "SD"
    assert sm["confirmed_best_response"] == "SD"


def test_mixed_tumour_confirmed_minor_response(b):
    """rano.md §7 C (mixed, no steroids, clinically stable): CE 120 -> 0; non-CE 1700 -> 1271
    (-25.2 %, MR d84) -> 960 (-43.5 %, MR d112, confirmed 28 d) -> new measurable enhancing
    lesion 11x10 d196 -> PD (G1). BOR MR (d84), confirmed MR. MR is MINOR (remission_model.md
    §3): no remission episode; status progression, progression_date d196."""
    s = "G07"
    les = _mri(b, s, "CE1", [(-3, (12, 10)), (84, "absent"), (112, "absent"), (196, "absent")]) + \
        _mri(b, s, "N1", [(-3, (40, 30)), (84, (35, 25)), (112, (30, 22)), (196, (32, 25))], organ="t2_flair") + \
        _mri(b, s, "N2", [(-3, (25, 20)), (84, (22, 18)), (112, (20, 15)), (196, (20, 10))], organ="t2_flair")
    les.append(b.les(s, 196, "NEW1", "new", diam=11, perp=10, status="present", organ="brain", method="MRI"))
    r = _run(b, {s: les})
    assert [b.row(r, s, d)["overall_response"] for d in (84, 112, 196)] == ["MR", "MR", "PD"]
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["best_response_date"]) == ("MR", b.day(84))
    assert sm["confirmed_best_response"] == "MR"
    assert b.episodes(r, s) == []
    assert (sm["status"], sm["progression_date"]) == ("progression", b.day(196))


def _steroid_case(b, s, later):
    les = _mri(b, s, "T1", [(-3, (30, 20)), (56, (29, 20))] + later)
    fnd = [b.finding(s, -3, "steroid_dose_mg", 2), b.finding(s, 50, "steroid_dose_mg", 6),
           b.finding(s, 50, "steroid_increase_reason", "other")]
    return les, fnd


def test_steroid_pending_row_is_not_rewritten(b):
    """rano.md §4.2 G5, §6 edge 1, spec/tables.md ("rows are never rewritten"), issue 13 §3:
    stable imaging d56 (580, -3 %) while dexamethasone rose 2 -> 6 mg for another reason ->
    the d56 row says SD_PENDING_STEROIDS as it stood. d112: imaging stable, dose back to 2 mg
    (baseline) -> SD. The d56 row is still SD_PENDING_STEROIDS (the later scan does not
    rewrite it). BOR SD (d112 >= 56), confirmed SD; no progression; status active_disease."""
    s = "G08"
    les, fnd = _steroid_case(b, s, [(112, (29, 20))])
    fnd.append(b.finding(s, 100, "steroid_dose_mg", 2))
    r = _run(b, {s: les}, fnd)
    assert b.row(r, s, 112)["overall_response"] == "SD"
    assert b.row(r, s, 56)["overall_response"] == "SD_PENDING_STEROIDS"
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("SD", "SD")
    assert sm["progression_date"] is None
    assert sm["status"] == "active_disease"


def test_steroid_pending_then_deterioration_is_pd_dated_back(b):
    """rano.md §4.2 G5 (PD dated to the first time point at which the increase was needed if
    tumour-related deterioration follows) and G3: d56 SD_PENDING_STEROIDS (row as it stood);
    d84 stable imaging with clinical_status worse -> PD, progression_event_date d56.
    progression_date d56; BOR PD (the pending scan is not SD, §4.2 G5 "not SD"); status
    progression."""
    s = "G09"
    les, fnd = _steroid_case(b, s, [(84, (29, 20))])
    fnd.append(b.finding(s, 84, "clinical_status", "worse"))
    r = _run(b, {s: les}, fnd)
    assert b.row(r, s, 56)["overall_response"] == "SD_PENDING_STEROIDS"
    r84 = b.row(r, s, 84)
    assert r84["overall_response"] == "PD"
    assert r84["progression_event_date"] == b.day(56)
    sm = b.summary(r, s)
    assert sm["progression_date"] == b.day(56)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("PD", "PD")
    assert sm["status"] == "progression"


def _cr_on_steroids(b, s, dose):
    les = _mri(b, s, "T1", [(-3, (30, 20)), (56, "absent"), (112, "absent")])
    fnd = [b.finding(s, -3, "steroid_dose_mg", 4), b.finding(s, 40, "steroid_dose_mg", dose)]
    return les, fnd


def test_cr_allowed_on_physiologic_replacement_dose(b):
    """rano.md §4.2 G7 (CR needs no corticosteroids, physiologic replacement allowed) and
    issue 13 §3: physiologic hydrocortisone replacement (15-25 mg/day) is ~0.5-0.75 mg/day
    dexamethasone-equivalent, so the default physiologic_steroid_mg must let 0.5 mg count as
    replacement. Imaging CR d56 and d112 on 0.5 mg -> CR, CR (confirmed, 56 d); BOR CR,
    confirmed CR; complete episode from d56, qualified d112; status complete_remission."""
    s = "G10"
    les, fnd = _cr_on_steroids(b, s, 0.5)
    r = _run(b, {s: les}, fnd)
    assert [b.row(r, s, d)["overall_response"] for d in (56, 112)] == ["CR", "CR"]
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("CR", "CR")
    (ep,) = b.episodes(r, s)
    assert (ep["type"], ep["start_date"]) == ("complete", b.day(56))
    assert sm["status"] == "complete_remission"


def test_cr_allowed_when_marked_physiologic_replacement_only(b):
    """rano.md §2 inputs (``corticosteroid_dose``; ``physiologic_replacement_only`` bool) and
    G7, issue 13 §3: 1 mg/day recorded with finding physiologic_replacement_only = true (the
    reader states it is replacement, e.g. for adrenal insufficiency) -> CR allowed: rows CR, CR;
    BOR CR, confirmed CR."""
    s = "G11"
    les, fnd = _cr_on_steroids(b, s, 1)
    fnd.append(b.finding(s, 40, "physiologic_replacement_only", "true"))
    r = _run(b, {s: les}, fnd)
    assert [b.row(r, s, d)["overall_response"] for d in (56, 112)] == ["CR", "CR"]
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("CR", "CR")


def test_cr_imaging_on_supraphysiologic_steroids_is_pr(b):
    """rano.md §6 edge 3: imaging CR while still on 2 mg dexamethasone (above physiologic,
    <= baseline 4 mg) -> not CR but PR (G8): rows PR, PR; BOR PR, confirmed PR; partial episode."""
    s = "G12"
    les, fnd = _cr_on_steroids(b, s, 2)
    r = _run(b, {s: les}, fnd)
    assert [b.row(r, s, d)["overall_response"] for d in (56, 112)] == ["PR", "PR"]
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("PR", "PR")
    (ep,) = b.episodes(r, s)
    assert ep["type"] == "partial"


def test_clinical_deterioration(b):
    """rano.md §4.2 G3 and §6 edge 6: G13 SD d56, tumour-related clinical deterioration on d84
    (no scan) -> PD d84: BOR SD, progression_date d84, status progression.
    G14 SD d56, scan d84 stable with clinical_status worse_other (seizures) -> not PD (and not
    CR/PR): no progression, status active_disease; BOR SD."""
    les13 = _mri(b, "G13", "T1", [(-3, (30, 20)), (56, (29, 20))])
    les14 = _mri(b, "G14", "T1", [(-3, (30, 20)), (56, (29, 20)), (84, (29, 20))])
    fnd = [b.finding("G13", 84, "clinical_status", "worse"), b.finding("G14", 84, "clinical_status", "worse_other")]
    r = _run(b, {"G13": les13, "G14": les14}, fnd)
    s13, s14 = b.summary(r, "G13"), b.summary(r, "G14")
    assert s13["progression_date"] == b.day(84)
    assert s13["best_response"] == "SD"
    assert s13["status"] == "progression"
    assert b.row(r, "G14", 84)["overall_response"] == "SD"
    assert s14["progression_date"] is None
    assert s14["best_response"] == "SD"
    assert s14["status"] == "active_disease"


def test_pseudoprogression_after_radiotherapy(b):
    """rano.md §7 B / §4.2 G6 / §5.2: chemoradiotherapy d-42..d0; pre-RT MRI d-49; post-RT
    baseline d28 SPD 600; d56 800 (+33 %, inside the field, 8 weeks after RT) ->
    PRELIMINARY_PD (row as it stood); d84 650 (+8 % vs nadir 600) -> pseudoprogression, SD.
    The d56 row keeps PRELIMINARY_PD (spec/tables.md). No progression_date; BOR SD
    (d84 is 126 d after the reference start d-42 >= 56), confirmed SD; status active_disease."""
    s = "G15"
    les = _mri(b, s, "T1", [(-49, (35, 25)), (28, (30, 20)), (56, (40, 20)), (84, (26, 25))])
    trt = [b.treatment(s, -42, 0, modality="radiation", intent="curative"),
           b.treatment(s, -42, 0, modality="chemotherapy", intent="curative")]
    r = _run(b, {s: les}, treatments=trt)
    assert b.row(r, s, 56)["overall_response"] == "PRELIMINARY_PD"
    assert b.row(r, s, 84)["overall_response"] == "SD"
    sm = b.summary(r, s)
    assert sm["progression_date"] is None
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("SD", "SD")
    assert sm["status"] == "active_disease"


def test_confirmed_cr_then_clinical_deterioration_is_recurrence(b):
    """rano.md §4.2 G7 (imaging CR, no steroids, clinically stable) and G3 (tumour-related
    deterioration is PD, also on a date without a scan); remission_model.md §6.3/§9.
    CR d56, CR d112 (confirmed, 56 d), deterioration d150 -> PD d150. BOR CR, confirmed CR;
    complete episode ends d150, end_reason recurrence; status on d150 recurrence;
    recurrence_date = progression_date = d150."""
    s = "G16"
    les = _mri(b, s, "T1", [(-3, (30, 20)), (56, "absent"), (112, "absent")])
    r = _run(b, {s: les}, [b.finding(s, 150, "clinical_status", "worse")])
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("CR", "CR")
    (ep,) = b.episodes(r, s)
    assert (ep["type"], ep["end_date"], ep["end_reason"]) == ("complete", b.day(150), "recurrence")
    assert (sm["status"], sm["status_date"]) == ("recurrence", b.day(150))
    assert sm["recurrence_date"] == b.day(150)
    assert sm["progression_date"] == b.day(150)


def test_confirmed_preliminary_pd_after_cr_is_recurrence(b):
    """rano.md §5.2 with confirm_pd_always = True: CR d56, CR d112; new measurable lesion
    12x12 d168 -> PRELIMINARY_PD (pending, row as it stood); another new measurable lesion
    d210 (42 d later) -> confirmed PD dated to d168. remission_model.md §6.2 rule 2, §6.3, §9:
    the complete episode ends d168, end_reason recurrence; status on d210 (the date the
    progression is confirmed) recurrence; progression_date = recurrence_date = d168.
    As of d180: progression_pending (open episode, unconfirmed progression signal)."""
    s = "G17"
    les = _mri(b, s, "T1", [(-3, (30, 20)), (56, "absent"), (112, "absent"), (168, "absent"), (210, "absent")])
    les += [
        b.les(s, 168, "NEW1", "new", diam=12, perp=12, status="present", organ="brain", method="MRI"),
        b.les(s, 210, "NEW1", "new", diam=12, perp=12, status="present", organ="brain", method="MRI"),
        b.les(s, 210, "NEW2", "new", diam=14, perp=11, status="present", organ="brain", method="MRI"),
    ]
    opts = {"rano2": {"confirm_pd_always": True}}
    r = _run(b, {s: les}, **opts)
    assert b.row(r, s, 168)["overall_response"] == "PRELIMINARY_PD"
    r210 = b.row(r, s, 210)
    assert r210["overall_response"] == "PD"
    assert r210["progression_event_date"] == b.day(168)
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("CR", "CR")
    (ep,) = b.episodes(r, s)
    assert (ep["type"], ep["end_date"], ep["end_reason"]) == ("complete", b.day(168), "recurrence")
    assert sm["status"] == "recurrence"
    assert sm["progression_date"] == b.day(168)
    assert sm["recurrence_date"] == b.day(168)
    r180 = _run(b, {s: les}, as_of=180, **opts)
    assert b.summary(r180, s)["status"] == "progression_pending"
