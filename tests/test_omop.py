"""OMOP CDM v5.4 EPISODE / EPISODE_EVENT from the results (remission.omop): hand-computed
disease-dynamic episodes on a small stated-response dataset."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from remission import assess
from remission.cli import app
from remission.omop import EPISODE_COLUMNS, EPISODE_EVENT_COLUMNS, assessment_events, episodes_to_omop

EXAMPLE = Path(__file__).resolve().parents[1] / "src" / "remission" / "data" / "example"
D = dt.date


def _result():
    """S1: PR, PR, CR, NE, CR, PD; S2: SD, SD (stated responses, breast -> RECIST 1.1)."""
    return assess(
        subjects=pl.DataFrame({"subject_id": ["S1", "S2"], "cancer_type": ["breast", "breast"]}),
        responses=pl.DataFrame(
            {
                "subject_id": ["S1"] * 6 + ["S2"] * 2,
                "date": ["2020-02-03", "2020-04-06", "2020-06-01", "2020-08-03", "2020-10-05", "2021-01-04",
                         "2020-03-02", "2020-06-01"],
                "response": ["PR", "PR", "CR", "NE", "CR", "PD", "SD", "SD"],
                "evidence": ["imaging"] * 8,
            }
        ),
    )


def test_disease_dynamic_episodes_hand_computed():
    """Runs of the same status; NE neither opens nor closes a run; each episode ends on the
    start of the next (omop.py docstring).  Concept ids: 32947 Partial Remission, 32946
    Complete Remission, 32949 Progression, 32948 Stable disease (IDEA4RC cancer-event-type-vs)."""
    episode, event = episodes_to_omop(_result(), {"S1": 101, "S2": 202})
    assert episode.schema == pl.Schema(EPISODE_COLUMNS)
    assert event.schema == pl.Schema(EPISODE_EVENT_COLUMNS)
    got = episode.select(
        "episode_id", "person_id", "episode_concept_id", "episode_start_date", "episode_end_date", "episode_number",
        "episode_source_value",
    ).rows()
    assert got == [
        (1, 101, 32947, D(2020, 2, 3), D(2020, 6, 1), 1, "PARTIAL"),
        (2, 101, 32946, D(2020, 6, 1), D(2021, 1, 4), 1, "COMPLETE"),
        (3, 101, 32949, D(2021, 1, 4), None, 1, "PROGRESSION"),
        (4, 202, 32948, D(2020, 3, 2), None, 1, "STABLE"),
    ]
    assert set(episode.get_column("episode_type_concept_id")) == {32545}
    assert set(episode.get_column("episode_object_concept_id")) == {0}
    # events: surrogate ids 1..7 over (subject, date) without the NE date
    assert event.select("episode_id", "event_id").rows() == [(1, 1), (1, 2), (2, 3), (2, 4), (3, 5), (4, 6), (4, 7)]
    ev = assessment_events(_result(), {"S1": 101, "S2": 202})
    assert ev.filter(pl.col("subject_id") == "S1").get_column("date").to_list() == [
        D(2020, 2, 3), D(2020, 4, 6), D(2020, 6, 1), D(2020, 10, 5), D(2021, 1, 4)
    ]


def test_measurement_ids_and_death_dates():
    result = _result()
    mids = pl.DataFrame({"subject_id": ["S1", "S2"], "date": [D(2020, 6, 1), D(2020, 6, 1)], "measurement_id": [9001, 9002]})
    deaths = pl.DataFrame({"subject_id": ["S2"], "death_date": [D(2021, 5, 5)]})
    episode, event = episodes_to_omop(result, measurement_ids=mids, death_dates=deaths)
    assert event.select("episode_id", "event_id").rows() == [(2, 9001), (4, 9002)]
    assert episode.filter(pl.col("person_id") == 2).get_column("episode_end_date").to_list() == [D(2021, 5, 5)]


def test_default_person_ids_and_episode_numbers_on_example():
    """Default person ids: 1..n over sorted subject ids.  EX19 (remission_model §12 worked
    example): partial, complete, progression, partial, complete -> episode_number per
    concept 1,1,1,2,2."""
    episode, event = episodes_to_omop(assess(EXAMPLE))
    ex19 = episode.filter(pl.col("person_id") == 19).sort("episode_start_date")
    assert ex19.get_column("episode_concept_id").to_list() == [32947, 32946, 32949, 32947, 32946]
    assert ex19.get_column("episode_number").to_list() == [1, 1, 1, 2, 2]
    assert episode.get_column("episode_id").to_list() == list(range(1, episode.height + 1))
    assert event.get_column("episode_id").is_in(episode.get_column("episode_id").implode()).all()


def test_cli_omop(tmp_path):
    r = CliRunner().invoke(app, ["omop", str(EXAMPLE), "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    ep = pl.read_csv(tmp_path / "episode.csv")
    assert list(ep.columns) == list(EPISODE_COLUMNS)
    # EX27 died in complete remission: the last episode ends at death
    assert (tmp_path / "episode_event.csv").exists() and (tmp_path / "assessment_events.csv").exists()
