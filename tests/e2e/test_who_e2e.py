"""WHO (1979/1981) end to end (issue 13): best response, confirmed best response, lifecycle
status and remission episodes, from who.md and remission_model.md.

Expected values were derived by hand from the specs before running the code. Day 0 = start
of chemotherapy (ended day 14), baseline day -7; products in mm²; defaults (confirm_days 28,
who_pd_basis any_lesion vs the lesion's nadir, nc_min_days 0, max_ne_between 1).
"""


C = "who"


def _bidi(b, sid, lid, series, organ="liver"):
    rows = []
    for d, v in series:
        if isinstance(v, str):
            rows.append(b.les(sid, d, lid, "target", status=v, organ=organ))
        else:
            rows.append(b.les(sid, d, lid, "target", diam=v[0], perp=v[1], organ=organ))
    return rows


def _run(b, lesions_by_sid, **kw):
    sids = list(lesions_by_sid)
    return b.run([b.subject(s, C) for s in sids], [r for s in sids for r in lesions_by_sid[s]],
                 [b.treatment(s) for s in sids], **kw)


def test_example1_confirmed_pr(b):
    """who.md §7 example 1: SPD 1600 -> 756 (-52.8 %, d56) -> 688 (-57.0 %, d91): PR confirmed
    35 d later (§5, >= 28 d), BOR PR and confirmed PR dated d56.
    remission_model.md §6.3-6.5, §9: episode partial, start d56, confirmed d91, qualified d91
    -> status partial_remission.
    """
    s = "W01"
    les = _bidi(b, s, "A", [(-7, (40, 30)), (56, (28, 20)), (91, (26, 20))]) + \
        _bidi(b, s, "B", [(-7, (20, 20)), (56, (14, 14)), (91, (14, 12))], organ="lung")
    r = _run(b, {s: les})
    assert [b.row(r, s, d)["overall_response"] for d in (56, 91)] == ["PR", "PR"]
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("PR", "PR")
    assert sm["confirmed_best_response_date"] == b.day(56)
    (ep,) = b.episodes(r, s)
    assert (ep["type"], ep["start_date"], ep["confirmed_date"]) == ("partial", b.day(56), b.day(91))
    assert ep["qualification_date"] == b.day(91)
    assert sm["status"] == "partial_remission"


def test_nc_naming_and_no_minimum_duration(b):
    """who.md §4.1 W6 and §5: the stable category is NC (not SD); NC has no minimum duration
    (nc_min_days 0), so NC at d21 is the BOR (RECIST would give NE). 40x30 -> 36x30 = -10 %.
    No episode; status active_disease (remission_model.md §9)."""
    s = "W02"
    r = _run(b, {s: _bidi(b, s, "A", [(-7, (40, 30)), (21, (36, 30))])})
    assert b.row(r, s, 21)["overall_response"] == "NC"
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("NC", "NC")
    assert b.episodes(r, s) == []
    assert sm["status"] == "active_disease"


def test_single_lesion_25pct_pd_while_sum_falls(b):
    """who.md §4.1 W2 (any_lesion) and §6 edge 3: A 1200 -> 400, B 100 -> 132 (+32 % vs its
    nadir) at d56: SPD 1300 -> 532 (-59 %) but PD. BOR PD, confirmed PD; status progression."""
    s = "W03"
    les = _bidi(b, s, "A", [(-7, (40, 30)), (56, (20, 20))]) + \
        _bidi(b, s, "B", [(-7, (10, 10)), (56, (12, 11))], organ="lung")
    r = _run(b, {s: les})
    assert b.row(r, s, 56)["overall_response"] == "PD"
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("PD", "PD")
    assert sm["progression_date"] == b.day(56)
    assert sm["status"] == "progression"


def test_pd_threshold_is_inclusive(b):
    """who.md §4.1 W2 and README "Thresholds" (>= inclusive): 20x20 (400) -> 25x20 (500) =
    +25.0 % -> PD; 20x20 -> 24x20 (480) = +20 % -> NC."""
    r = _run(b, {
        "W04": _bidi(b, "W04", "A", [(-7, (20, 20)), (56, (25, 20))]),
        "W05": _bidi(b, "W05", "A", [(-7, (20, 20)), (56, (24, 20))]),
    })
    assert b.row(r, "W04", 56)["overall_response"] == "PD"
    assert b.summary(r, "W04")["best_response"] == "PD"
    assert b.row(r, "W05", 56)["overall_response"] == "NC"
    assert b.summary(r, "W05")["best_response"] == "NC"


def test_confirmed_pr_then_pd_vs_nadir(b):
    """who.md §7 example 3 after a confirmed PR: 30x30 (900) -> 20x20 (400, -55.6 %, PR d56) ->
    20x20 (PR d91, confirmed) -> 22x23 (506, +26.5 % vs nadir 400) PD d126.
    BOR PR, confirmed PR (d56). Episode partial d56, confirmed d91, ends d126, end_reason
    progression; status progression on d126."""
    s = "W06"
    r = _run(b, {s: _bidi(b, s, "A", [(-7, (30, 30)), (56, (20, 20)), (91, (20, 20)), (126, (22, 23))])})
    assert b.row(r, s, 126)["overall_response"] == "PD"
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("PR", "PR")
    assert sm["progression_date"] == b.day(126)
    (ep,) = b.episodes(r, s)
    assert (ep["start_date"], ep["confirmed_date"]) == (b.day(56), b.day(91))
    assert (ep["end_date"], ep["end_reason"]) == (b.day(126), "progression")
    assert (sm["status"], sm["status_date"]) == ("progression", b.day(126))


def test_unconfirmed_pr_falls_back_to_nc(b):
    """who.md §5: PR must be confirmed >= 28 d later; an unconfirmed PR falls back to NC.
    PR d56 (28x20, -53 %), PR d77 (21 d later: too early), new lesion d105 -> PD.
    Confirmed BOR NC (not PD: WHO's NC has no minimum duration)."""
    s = "W07"
    les = _bidi(b, s, "A", [(-7, (40, 30)), (56, (28, 20)), (77, (28, 20)), (105, (28, 20))])
    les.append(b.les(s, 105, "NEW1", "new", diam=15, perp=12, status="present", organ="lung"))
    r = _run(b, {s: les})
    assert b.row(r, s, 105)["overall_response"] == "PD"
    assert b.summary(r, s)["confirmed_best_response"] == "NC"


def test_who_best_response_is_always_confirmed(b):
    """who.md §5 and README "Confirmation" table ("≥ 28 days (always)"): WHO has no
    unconfirmed best response; CR/PR count only when confirmed, so for the sequence above
    (PR d56, PR d77, PD d105) the summary's best_response is NC as well. (Reading of the spec:
    RECIST's confirmation_required switch has no WHO counterpart.)"""
    s = "W08"
    les = _bidi(b, s, "A", [(-7, (40, 30)), (56, (28, 20)), (77, (28, 20)), (105, (28, 20))])
    les.append(b.les(s, 105, "NEW1", "new", diam=15, perp=12, status="present", organ="lung"))
    r = _run(b, {s: les})
    assert b.summary(r, s)["best_response"] == "NC"


def test_confirmed_cr_then_reappearance_is_recurrence(b):
    """who.md §4.1 W4/§5 (CR confirmed d56 -> d91) and §6 edge 1 (a disappeared lesion that
    reappears is PD: reference product 0). BOR CR, confirmed CR. remission_model.md §6.3/§9:
    complete episode ends d150 with end_reason recurrence; status recurrence on d150."""
    s = "W09"
    r = _run(b, {s: _bidi(b, s, "A", [(-7, (20, 20)), (56, "absent"), (91, "absent"), (150, (8, 8))])})
    assert b.row(r, s, 150)["overall_response"] == "PD"
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("CR", "CR")
    (ep,) = b.episodes(r, s)
    assert (ep["type"], ep["end_date"], ep["end_reason"]) == ("complete", b.day(150), "recurrence")
    assert (sm["status"], sm["status_date"]) == ("recurrence", b.day(150))
    assert sm["recurrence_date"] == b.day(150)


def test_one_diameter_only_is_ne(b):
    """who.md §6 edge 5 / §4.1 W3: only one diameter measured at follow-up -> NE; the only
    follow-up being NE, BOR NE (§5 order ... > NE > MISSING)."""
    s = "W10"
    r = _run(b, {s: [b.les(s, -7, "A", diam=40, perp=30), b.les(s, 56, "A", diam=30)]})
    assert b.row(r, s, 56)["overall_response"] == "NE"
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("NE", "NE")


def test_sum_basis_option(b):
    """who.md §4.1 W2 with who_pd_basis = "sum" (§8, §10): the case of
    test_single_lesion_25pct_pd_while_sum_falls is no longer PD: SPD 1300 -> 532 (-59 %) ->
    PR at d56 and at d91 (A 20x20, B 12x11 again) -> confirmed PR; BOR PR."""
    from remission.options import WhoOptions

    s = "W11"
    les = _bidi(b, s, "A", [(-7, (40, 30)), (56, (20, 20)), (91, (20, 20))]) + \
        _bidi(b, s, "B", [(-7, (10, 10)), (56, (12, 11)), (91, (12, 11))], organ="lung")
    r = _run(b, {s: les}, who=WhoOptions(who_pd_basis="sum"))
    assert [b.row(r, s, d)["overall_response"] for d in (56, 91)] == ["PR", "PR"]
    sm = b.summary(r, s)
    assert (sm["best_response"], sm["confirmed_best_response"]) == ("PR", "PR")
