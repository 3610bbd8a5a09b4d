"""PCWG3 engine (remission.criteria.pcwg3) on criteria/pcwg3.md §7 (PSA and bone worked
examples, edges) and the §6 combined table."""

import datetime as dt

import polars as pl
import pytest

from remission import schema as S
from remission.criteria import pcwg3

D0 = dt.date(2024, 1, 1)


def D(n):
    return D0 + dt.timedelta(days=n)


def run(psa=(), bone=(), **opts):
    labs = pl.DataFrame([(s, D(d), "psa", float(v), "ng/mL") for s, d, v in psa], schema=S.LABS, orient="row")
    fnd = pl.DataFrame([(s, D(d), f, str(v)) for s, d, f, v in bone], schema=S.FINDINGS, orient="row")
    subs = sorted({r[0] for r in list(psa) + list(bone)})
    segs = pl.DataFrame([(s, 1, D(0), D(0), None) for s in subs], schema=S.SEGMENTS, orient="row")
    return pcwg3.evaluate({"labs": labs, "findings": fnd, "lesions": S.empty(S.LESIONS)}, segs, pcwg3.Pcwg3Options(**opts))


PSA = [("p", 0, 40.0), ("p", 28, 44.0), ("p", 84, 15.0), ("p", 105, 12.0), ("p", 168, 8.0), ("p", 252, 10.5), ("p", 273, 12.0)]


def test_psa_worked_example():
    """§7 PSA: early rise ignored; PSA50 candidate day 84 confirmed day 105; nadir 8; day 252
    +31 % and +2.5 ng/mL, confirmed day 273 -> PSA progression dated day 252."""
    out = run(PSA)
    assert out["overall_response"].to_list() == ["PSA NON-PD", "PSA RESPONSE", "PSA RESPONSE", "PSA RESPONSE",
                                                 "PSA PROGRESSION", "PSA PROGRESSION"]
    assert out["change_from_baseline_pct"][1] == pytest.approx(-62.5)
    assert "PSA50 from 2024-03-25 confirmed on 2024-04-15" in out["explanation"][1]
    ev = out.filter(pl.col("is_progression_event"))
    assert ev["date"].to_list() == [D(252)]
    assert out.row(4, named=True)["change_from_nadir_pct"] == pytest.approx(31.25)
    # biochemical response is not a remission level by default (remission_model.md §3)
    assert out["canonical_level"][1] is None
    assert run(PSA, psa_response_counts_as_partial=True)["canonical_level"][1] == "PARTIAL"
    # before day 273 the rise is pending
    assert run(PSA[:-1])["canonical_level"][-1] == "PROGRESSION_PENDING"


def test_psa_edges():
    """§7: nadir 2 -> 3 (+50 %, +1 ng/mL) is not progression; no-decline case: baseline 20,
    day 84 26 (+30 %, +6), day 105 27 -> PSA progression dated day 84; a rise before 12 weeks
    without a decline is ignored."""
    out = run([("e", 0, 4.0), ("e", 30, 2.0), ("e", 60, 3.0), ("e", 90, 3.0)])
    assert "PSA PROGRESSION" not in out["overall_response"].to_list()
    out = run([("q", 0, 20.0), ("q", 84, 26.0), ("q", 105, 27.0)])
    assert out.filter(pl.col("is_progression_event"))["date"].to_list() == [D(84)]
    out = run([("r", 0, 20.0), ("r", 56, 26.0), ("r", 77, 27.0)])
    assert "PSA PROGRESSION" not in out["overall_response"].to_list()


BONE = [("b", 0, "bone_scan_lesions", 10), ("b", 0, "bone_scan_new_lesions", 0)]


def test_bone_2_plus_2_confirmed():
    """§7 bone: day 56 2 new -> PDu; day 112 3 additional -> PD dated day 56."""
    out = run(bone=BONE + [("b", 56, "bone_scan_new_lesions", 2), ("b", 112, "bone_scan_new_lesions", 5)])
    assert out["overall_response"].to_list() == ["PDu", "PD"]
    assert out["canonical_level"].to_list() == ["PROGRESSION_PENDING", "PROGRESSION"]
    assert out["progression_event_date"].to_list() == [None, D(56)]
    # no later scan: stays PDu; a scan < 42 days later is not confirmatory
    assert run(bone=BONE + [("b", 56, "bone_scan_new_lesions", 2)])["overall_response"].to_list() == ["PDu"]
    out = run(bone=BONE + [("b", 56, "bone_scan_new_lesions", 2), ("b", 90, "bone_scan_new_lesions", 5)])
    assert out["overall_response"][0] == "PDu"


def test_bone_flare_then_later_progression():
    """§7 flare variant: day 112 no additional lesions -> day 56 NON-PD; day 168 2 new vs the
    day-56 reference -> PDu, persisting on day 224 -> PD dated day 168; with
    post_flare_confirmation=False day 168 is PD at once."""
    scans = BONE + [("f", 0, "bone_scan_new_lesions", 0), ("f", 56, "bone_scan_new_lesions", 2),
                    ("f", 112, "bone_scan_new_lesions", 2), ("f", 168, "bone_scan_new_lesions", 4),
                    ("f", 224, "bone_scan_new_lesions", 4)]
    out = run(bone=scans).filter(pl.col("subject_id") == "f")
    assert out["non_target_response"].to_list() == ["NON-PD", "NON-PD", "PDu", "PD"]
    assert out["overall_response"].to_list() == ["NON-CR/NON-PD", "NON-CR/NON-PD", "PDu", "PD"]
    assert out["progression_event_date"][3] == D(168)
    out = run(bone=scans[:-1]).filter(pl.col("subject_id") == "f")
    assert out["non_target_response"][2] == "PDu"
    out = run(bone=scans, post_flare_confirmation=False).filter(pl.col("subject_id") == "f")
    assert out["non_target_response"][2] == "PD" and out["progression_event_date"][2] == D(168)
    # had day 224 shown no new lesions vs day 56 (count 2), day 168 is re-labelled NON-PD
    alt = scans[:-1] + [("f", 224, "bone_scan_new_lesions", 2)]
    assert run(bone=alt).filter(pl.col("subject_id") == "f")["non_target_response"][2] == "NON-PD"


def test_bone_ned():
    out = run(bone=[("n", 0, "bone_scan_lesions", 3), ("n", 60, "bone_scan_lesions", 0), ("n", 60, "bone_scan_new_lesions", 0)])
    assert out["non_target_response"].to_list() == ["NED"]
    assert out["overall_response"].to_list() == ["NE"]  # soft tissue NED + bone NED -> NE (§6)


@pytest.mark.parametrize(
    "soft,bone,targets,expected",
    [
        ("PD", "NED", True, "PD"), ("SD", "PD", True, "PD"), ("NE", "PDu", True, "NE"), ("NED", "NON-PD", True, "NON-CR/NON-PD"),
        ("NED", "PDu", True, "PDu"), ("NED", "NED", True, "NE"), ("NED", "NE", True, "NE"), ("SD", "PDu", True, "SD"),
        ("NON-CR/NON-PD", "NE", True, "NON-CR/NON-PD"), ("PR", "NED", True, "PR"), ("CR", "NON-PD", True, "PR"),
        ("CR", "PDu", False, "NON-CR/NON-PD"), ("CR", "NED", True, "CR"),
    ],
)
def test_combined_table(soft, bone, targets, expected):
    """§6: every row of the combined soft tissue × bone table."""
    df = pl.DataFrame({"s": [soft], "b": [bone], "t": [targets]})
    assert df.select(pcwg3.combined(pl.col("s"), pl.col("b"), pl.col("t"))).item() == expected


def _engine(rows, start=dt.date(2024, 1, 2), **opts):
    """The criterion's best-response rule run by the one engine on ``(date, response, ped)``."""
    from remission.criteria import registry
    from remission.timeline import best_response as engine

    tp = pl.DataFrame(
        {"subject_id": ["S"] * len(rows), "date": [r[0] for r in rows], "overall_response": [r[1] for r in rows],
         "progression_event_date": [r[2] for r in rows]},
        schema={"subject_id": pl.String, "date": pl.Date, "overall_response": pl.String, "progression_event_date": pl.Date},
    )
    crit = registry.get("pcwg3")
    ref = pl.DataFrame({"subject_id": ["S"], "reference_start": [start]})
    return engine.best_responses(tp, ref, crit.best_response(pcwg3.Pcwg3Options(**opts)), levels=crit.levels()).row(0, named=True)


def test_best_response_pd_dated_to_the_pdu_scan_whatever_that_row_says():
    """§4 ("the PDu time point is re-labelled PD; progression date = date of the PDu scan")
    with §6 (soft SD x bone PDu = SD on 02-26 as it stood): the 04-22 scan confirms the bone
    PD dated 02-26 -> best and confirmed best response PD dated 02-26, not the SD."""
    d = dt.date
    got = _engine([(d(2024, 2, 26), "SD", None), (d(2024, 4, 22), "PD", d(2024, 2, 26))])
    assert (got["best_response"], got["best_response_date"]) == ("PD", d(2024, 2, 26))
    assert (got["confirmed_best_response"], got["confirmed_best_response_date"]) == ("PD", d(2024, 2, 26))
    # the time points themselves are not rewritten by the view
    tp = pl.DataFrame({"subject_id": ["S"], "date": [d(2024, 2, 26)], "overall_response": ["PDu"], "progression_event_date": [None]},
                      schema_overrides={"progression_event_date": pl.Date})
    assert pcwg3.pd_at_pdu_scan(tp).equals(tp)


def test_pdu_is_never_a_best_response():
    """Issue 13 §3: a PDu (pending) counts as NE; a PD soft-tissue progression after it is
    the best response, dated to itself (no back-dating: its event date is its own)."""
    d = dt.date
    got = _engine([(d(2024, 2, 26), "PDu", None)])
    assert (got["best_response"], got["confirmed_best_response"]) == ("NE", "NE")
    got = _engine([(d(2024, 2, 26), "PDu", None), (d(2024, 3, 25), "PD", d(2024, 3, 25))])
    assert (got["best_response"], got["best_response_date"]) == ("PD", d(2024, 3, 25))


@pytest.mark.parametrize(
    "day, opts, expected",
    [(55, {}, "NON-CR/NON-PD"), (34, {}, "NE"), (42, {}, "NON-CR/NON-PD"), (55, {"recist": {"sd_min_days": 60}}, "NE")],
)
def test_disease_control_needs_no_confirmation_after_the_minimum(day, opts, expected):
    """Issue 13 §3 (PCWG3) with recist11.md §5.2: one combined NON-CR/NON-PD scan, `day`
    days after the reference start: from the SD minimum (recist.sd_min_days, default 42)
    it is the best and the confirmed best response, no second scan needed; before it, NE."""
    d = dt.date(2024, 1, 2) + dt.timedelta(days=day)
    got = _engine([(d, "NON-CR/NON-PD", None)], **opts)
    assert (got["best_response"], got["confirmed_best_response"]) == (expected, expected)


def test_sd_then_pd_confirmed_best_is_sd():
    """Soft-tissue SD at day 55 then PD: the SD needs no confirmation, so the confirmed best
    response is SD (not the PD)."""
    s = dt.date(2024, 1, 2)
    got = _engine([(s + dt.timedelta(55), "SD", None), (s + dt.timedelta(110), "PD", s + dt.timedelta(110))])
    assert (got["best_response"], got["confirmed_best_response"]) == ("SD", "SD")
