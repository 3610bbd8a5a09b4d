"""iRECIST end to end (issue 13): iBOR, confirmed iBOR, lifecycle status and remission
episodes, from irecist.md (worked examples, Table 3, edge cases) and remission_model.md.

Expected values were derived by hand from the specs before running the code. Day 0 = first
dose (immunotherapy, ended day 14), baseline day -7, one target lesion T1 (liver) of 60 mm
(irecist.md §7 "Baseline SOD 60 mm"); defaults (confirm_min_days 28 - 2 days tolerance,
sd_min_days 42).
"""


C = "irecist"


def _rows(b, sid, series, base=60):
    return b.target_series(sid, [(-7, base)] + series)


def _run(b, lesions_by_sid, findings=None, **kw):
    sids = list(lesions_by_sid)
    return b.run(
        [b.subject(s, C) for s in sids], [r for s in sids for r in lesions_by_sid[s]],
        [b.treatment(s, modality="immunotherapy") for s in sids], findings, **kw,
    )


def test_example_a_confirmed_progression(b):
    """irecist.md §7 A: 78 (iUPD d56, +30 %/+18 mm vs 60), 80 (iUPD d98, +2 mm vs 78), 84 (iCPD
    d140, cumulative +6 mm, C1). Rows as they stood: iUPD, iUPD, iCPD (spec/tables.md); the
    iCPD row is dated back to d56. iBOR iCPD (no iSD before); progression_date d56 (§5 iPFS);
    no episode; status progression (remission_model.md §9); as of d98 progression_pending.
    """
    s = "I01"
    r = _run(b, {s: _rows(b, s, [(56, 78), (98, 80), (140, 84)])})
    assert [b.row(r, s, d)["overall_response"] for d in (56, 98, 140)] == ["iUPD", "iUPD", "iCPD"]
    assert b.row(r, s, 140)["progression_event_date"] == b.day(56)
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("iCPD", "iCPD")
    assert sm["progression_date"] == b.day(56)
    assert sm["status"] == "progression"
    assert b.episodes(r, s) == []
    r98 = _run(b, {s: _rows(b, s, [(56, 78), (98, 80), (140, 84)])}, as_of=98)
    assert b.summary(r98, s)["status"] == "progression_pending"


def test_example_b_pseudoprogression_reset(b):
    """irecist.md §7 B: 78 iUPD d56; 50 iSD d98 (reset, nadir 50); 61 iUPD d140 (+22 %, +11 mm);
    67 iCPD d182 (+6 mm vs 61). iBOR iSD (d98 >= 42); progression date d140 (start of the
    confirmed block, edge 3)."""
    s = "I02"
    r = _run(b, {s: _rows(b, s, [(56, 78), (98, 50), (140, 61), (182, 67)])})
    assert [b.row(r, s, d)["overall_response"] for d in (56, 98, 140, 182)] == ["iUPD", "iSD", "iUPD", "iCPD"]
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("iSD", "iSD")
    assert sm["progression_date"] == b.day(140)
    assert sm["status"] == "progression"


def test_example_c_non_target_iupd_early_scan(b):
    """irecist.md §7 C: iSD d56 (SOD 50); non-target unequivocal progression d112 -> iUPD,
    P = {NT}; d126 (14 d) early scan disregarded (iUPD, warning EARLY_SCAN_DISREGARDED, §4.4);
    d154 SOD 58 (+8 mm, +16 %: T not in P, C6 fails) -> iUPD; d196 INCLA -> iCPD (C2), dated
    d112. iBOR iSD; progression_date d112."""
    s = "I03"
    les = _rows(b, s, [(56, 50), (112, 52), (126, 52), (154, 58), (196, 59)])
    nt = {-7: "present", 56: "present", 112: "progression", 126: "progression", 154: "progression",
          196: "progression"}
    les += [b.les(s, d, "N1", "non_target", status=st, organ="lung") for d, st in nt.items()]
    fnd = [b.finding(s, d, "irecist_nt_change", v)
           for d, v in ((56, "NC"), (112, "UNE"), (126, "NCLA"), (154, "NCLA"), (196, "INCLA"))]
    r = _run(b, {s: les}, fnd)
    assert [b.row(r, s, d)["overall_response"] for d in (56, 112, 126, 154, 196)] == \
        ["iSD", "iUPD", "iUPD", "iUPD", "iCPD"]
    assert "EARLY_SCAN_DISREGARDED" in (b.row(r, s, 126)["warnings"] or "")
    assert b.row(r, s, 196)["progression_event_date"] == b.day(112)
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("iSD", "iSD")
    assert sm["progression_date"] == b.day(112)


def test_unconfirmed_iupd_then_ne(b):
    """irecist.md §5 Table 3 last row (iUPD, NE, NE ...) -> iBOR iUPD; §6 edge 1 (NE does not
    close the block). No progression date (never confirmed); status progression_pending
    (remission_model.md §9: unconfirmed progression signal outstanding)."""
    s = "I04"
    r = _run(b, {s: _rows(b, s, [(56, 78), (98, "not_evaluated"), (140, "not_evaluated")])})
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("iUPD", "iUPD")
    assert sm["progression_date"] is None
    assert sm["status"] == "progression_pending"


def test_icr_then_confirmed_new_lesion_progression_is_recurrence(b):
    """irecist.md §4.1/§4.2 C5 and remission_model.md §11.8, §6.3, §9: iCR d56, iCR d112
    (confirmed, 56 d); new lesion d168 -> iUPD; another new lesion d210 (42 d later) -> iCPD
    dated d168. iBOR iCR, confirmed iCR. Episode complete d56, ends d168 (first iUPD of the
    confirmed block) with end_reason recurrence; status recurrence, recurrence_date d168.
    As of d180 (block open): progression_pending, no recurrence yet."""
    s = "I05"
    les = _rows(b, s, [(56, "absent"), (112, "absent"), (168, "absent"), (210, "absent")])
    les += [
        b.les(s, 168, "NEW1", "new", diam=15, status="present", organ="lung"),
        b.les(s, 210, "NEW1", "new", diam=15, status="present", organ="lung"),
        b.les(s, 210, "NEW2", "new", diam=12, status="present", organ="bone"),
    ]
    r = _run(b, {s: les})
    assert [b.row(r, s, d)["overall_response"] for d in (56, 112, 168, 210)] == ["iCR", "iCR", "iUPD", "iCPD"]
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("iCR", "iCR")
    (ep,) = b.episodes(r, s)
    assert (ep["type"], ep["start_date"]) == ("complete", b.day(56))
    assert (ep["end_date"], ep["end_reason"]) == (b.day(168), "recurrence")
    assert sm["recurrence_date"] == b.day(168)
    assert sm["progression_date"] == b.day(168)
    assert sm["status"] == "recurrence"
    r180 = _run(b, {s: les}, as_of=180)
    sm180 = b.summary(r180, s)
    assert sm180["status"] == "progression_pending"
    assert sm180["recurrence_date"] is None


def test_ipr_iupd_reset_keeps_the_episode(b):
    """irecist.md §4.2 Step D (reset) and remission_model.md §11.8 ("iUPD then reset -> no
    episode end"): iPR d56 (40, -33 %), iPR d112 (38), iUPD d168 (46: +21 %, +8 mm vs nadir 38),
    iPR d210 (36, -40 %: no longer PD -> reset). iBOR iPR, confirmed iPR (d56 by d112); one
    partial episode from d56, confirmed d112, not ended (censored); no progression date;
    status partial_remission."""
    s = "I06"
    r = _run(b, {s: _rows(b, s, [(56, 40), (112, 38), (168, 46), (210, 36)])})
    assert [b.row(r, s, d)["overall_response"] for d in (56, 112, 168, 210)] == ["iPR", "iPR", "iUPD", "iPR"]
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("iPR", "iPR")
    assert sm["progression_date"] is None
    (ep,) = b.episodes(r, s)
    assert (ep["start_date"], ep["confirmed_date"]) == (b.day(56), b.day(112))
    assert ep["end_date"] is None and ep["end_reason"] == "censored"
    assert sm["status"] == "partial_remission"


def test_icpd_outranks_reset_iupd(b):
    """irecist.md §5 (event order iCPD before iUPD): iUPD d7 (78); d35 60 = iSD but before
    sd_min_days (reset, not an iSD-level BOR); iUPD d63 (78, +30 % vs nadir 60); iCPD d98
    (84, +6 mm, 35 d later). No iCR/iPR/iSD qualifies -> iBOR iCPD; progression date d63."""
    s = "I07"
    r = _run(b, {s: _rows(b, s, [(7, 78), (35, 60), (63, 78), (98, 84)])})
    assert [b.row(r, s, d)["overall_response"] for d in (7, 35, 63, 98)] == ["iUPD", "iSD", "iUPD", "iCPD"]
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("iCPD", "iCPD")
    assert sm["progression_date"] == b.day(63)


def test_non_target_only_disease(b):
    """irecist.md §6 edge 9: non-target-only disease -> NON-iCR/NON-iUPD at d56 is the iBOR
    (>= sd_min_days 42)."""
    s = "I08"
    les = [b.les(s, d, "N1", "non_target", status="present", organ="lung") for d in (-7, 56)]
    r = _run(b, {s: les})
    assert b.row(r, s, 56)["overall_response"] == "NON-iCR/NON-iUPD"
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("NON-iCR/NON-iUPD", "NON-iCR/NON-iUPD")


def test_status_on_icpd_date_after_icr(b):
    """remission_model.md §9 ("after a complete remission, the status on the date a progression
    is confirmed is recurrence") with iRECIST dating (§5: progression = first iUPD of the
    confirmed block): iCR d56, iCR d112, iUPD d168 (new lesion), iCPD d210 (another new
    lesion), then a later scan d252 with the same lesions. As of d210 (the confirmation date):
    status recurrence, recurrence_date d168, episode end_reason recurrence."""
    s = "I09"
    les = _rows(b, s, [(56, "absent"), (112, "absent"), (168, "absent"), (210, "absent"), (252, "absent")])
    les += [b.les(s, d, "NEW1", "new", diam=15, status="present", organ="lung") for d in (168, 210, 252)]
    les += [b.les(s, d, "NEW2", "new", diam=12, status="present", organ="bone") for d in (210, 252)]
    r = _run(b, {s: les}, as_of=210)
    sm = b.summary(r, s)
    assert sm["status"] == "recurrence"
    assert sm["recurrence_date"] == b.day(168)
    (ep,) = b.episodes(r, s)
    assert ep["end_reason"] == "recurrence"


def test_iupd_between_response_and_confirmation_breaks_it(b):
    """irecist.md §5 ("an iUPD between a response and its confirmation breaks the
    confirmation") and §4.2 Step B / §6 edge 4 (new lesion persists, not increased, target sum
    decreased vs the previous time point -> iPR, reset; EORTC FAQ scenario B):
    iPR d56 (40, -33 %); new lesion 15 mm d84 -> iUPD (target 40); d112 the new lesion is
    unchanged and the target fell to 36 (-40 %) -> iPR (reset). iBOR iPR (unconfirmed);
    confirmed iBOR iSD: the d56 iPR's only later response (d112) has an iUPD between, and the
    d112 iPR has no later assessment; d56 >= sd_min_days 42."""
    s = "I10"
    les = _rows(b, s, [(56, 40), (84, 40), (112, 36)])
    les += [b.les(s, d, "NEW1", "new", diam=15, status="present", organ="lung") for d in (84, 112)]
    r = _run(b, {s: les})
    assert [b.row(r, s, d)["overall_response"] for d in (56, 84, 112)] == ["iPR", "iUPD", "iPR"]
    sm = b.summary(r, s)
    assert sm["best_response"] == "iPR"
    assert sm["confirmed_best_response"] == "iSD"
    assert sm["progression_date"] is None
