"""OMOP CDM v5.4 EPISODE / EPISODE_EVENT from the results (remission.omop): hand-computed
disease-dynamic episodes on a small stated-response dataset; person maps, events linked only
to given records, the Condition object concept (issue 16 items 12-14); and a load into the
official CDM v5.4 DuckDB DDL with its primary keys, foreign keys checked by joins (item 15)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from remission import assess
from remission.cli import app
from remission.errors import InputErrors
from remission.omop import (
    DISEASE_DYNAMIC_CONCEPTS, EPISODE_COLUMNS, EPISODE_EVENT_COLUMNS, EPISODE_TYPE_DERIVED_EHR, FIELD_CONCEPTS,
    episodes_to_omop, read_omop_table, read_person_map, write_omop,
)  # fmt: skip

CDM = Path(__file__).parent / "data" / "standards" / "omop-cdm-5.4"

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
    assert set(episode.get_column("episode_object_concept_id")) == {0}  # no Condition given
    assert event.height == 0  # no records given: nothing to link (item 13)


def test_no_person_ids_are_invented_unless_asked():
    """Item 12: without a person map it is an input error; --assign-person-ids numbers the
    sorted subjects 1..n.  A subject missing from the map is a located error."""
    with pytest.raises(InputErrors) as exc:
        episodes_to_omop(_result())
    assert "person map" in exc.value.errors[0].expected
    episode, _ = episodes_to_omop(_result(), assign_person_ids=True)
    assert sorted(set(episode["person_id"])) == [1, 2]
    with pytest.raises(InputErrors) as exc:
        episodes_to_omop(_result(), {"S1": 7})
    assert [(e.subject_id, e.code) for e in exc.value.errors] == [("S2", "unknown_subject")]


def test_person_map_from_csv_or_person_table(tmp_path):
    (tmp_path / "map.csv").write_text("subject_id,person_id\nS1,101\nS2,202\n")
    (tmp_path / "person.csv").write_text("person_id,gender_concept_id,year_of_birth,person_source_value\n101,8532,1960,S1\n202,8507,1955,S2\n")
    a = read_person_map(tmp_path / "map.csv")
    b = read_person_map(tmp_path / "person.csv")
    assert a.rows() == b.rows() == [("S1", 101), ("S2", 202)]
    (tmp_path / "bad.csv").write_text("subject_id,person_id\nS1,101\nS1,x\nS3,101\n")
    with pytest.raises(InputErrors) as exc:
        read_person_map(tmp_path / "bad.csv")
    got = sorted((e.row, e.column, e.code) for e in exc.value.errors)
    assert got == [(1, "person_id", "duplicate"), (1, "subject_id", "duplicate"), (2, "person_id", "invalid_value"),
                   (2, "subject_id", "duplicate"), (3, "person_id", "duplicate")]  # fmt: skip


def _measurements():
    """MEASUREMENT rows: S1's assessments on 2020-02-03 and 2020-06-01, an S1 row on a day
    without assessment, and an S2 row on S1's date (neither may be linked)."""
    return read_omop_table(pl.DataFrame({
        "measurement_id": ["9001", "9002", "9003", "9004", "9005"],
        "person_id": ["101", "101", "101", "202", "202"],
        "measurement_date": ["2020-02-03", "2020-06-01", "2020-05-05", "2020-02-03", "2020-06-01"],
        "measurement_concept_id": ["0"] * 5,
    }), "measurement")  # fmt: skip


def _conditions():
    return read_omop_table(pl.DataFrame({
        "condition_occurrence_id": ["501", "502", "601"],
        "person_id": ["101", "101", "202"],
        "condition_concept_id": ["4112853", "999", "4112853"],
        "condition_start_date": ["2019-12-01", "2021-01-04", "2020-01-10"],
    }), "condition_occurrence")  # fmt: skip


def test_events_link_only_given_records_of_the_same_person_and_assessment_date():
    """Item 13: 9001 (S1 2020-02-03, PR episode 1) and 9002 (S1 2020-06-01, CR episode 2) are
    linked; 9003 (no assessment that day) and 9004 (S2 has no assessment on 2020-02-03) are
    not; 9005 (S2 2020-06-01, SD episode 4) is.  Condition 502 (S1 2021-01-04, the PD date)
    is an event of the progression episode.  Field concepts 1147138 / 1147127 (OncologyWG)."""
    episode, event = episodes_to_omop(_result(), {"S1": 101, "S2": 202}, measurements=_measurements(), conditions=_conditions())
    assert event.rows() == [(1, 9001, 1147138), (2, 9002, 1147138), (3, 502, 1147127), (4, 9005, 1147138)]
    assert FIELD_CONCEPTS == {"measurement": 1147138, "condition_occurrence": 1147127}


def test_object_concept_is_the_persons_condition():
    """Item 14: the earliest given CONDITION_OCCURRENCE concept (S1: 4112853 of 2019-12-01,
    not 999 of 2021), else the person map's condition_concept_id, else 0."""
    episode, _ = episodes_to_omop(_result(), {"S1": 101, "S2": 202}, conditions=_conditions())
    assert dict(episode.select("person_id", "episode_object_concept_id").unique().rows()) == {101: 4112853, 202: 4112853}
    pm = pl.DataFrame({"subject_id": ["S1", "S2"], "person_id": ["101", "202"], "condition_concept_id": ["4112853", None]})
    episode, _ = episodes_to_omop(_result(), read_person_map(pm))
    assert dict(episode.select("person_id", "episode_object_concept_id").unique().rows()) == {101: 4112853, 202: 0}


def test_observations_need_their_field_concept():
    obs = read_omop_table(pl.DataFrame({"observation_id": ["7"], "person_id": ["101"], "observation_date": ["2020-02-03"]}), "observation")
    with pytest.raises(InputErrors):
        episodes_to_omop(_result(), {"S1": 101, "S2": 202}, observations=obs)
    _, event = episodes_to_omop(_result(), {"S1": 101, "S2": 202}, observations=obs, observation_field_concept_id=1234)
    assert event.rows() == [(1, 7, 1234)]


def test_death_dates_close_the_last_episode():
    deaths = pl.DataFrame({"subject_id": ["S2"], "death_date": [D(2021, 5, 5)]})
    episode, _ = episodes_to_omop(_result(), {"S1": 101, "S2": 202}, death_dates=deaths)
    assert episode.filter(pl.col("person_id") == 202).get_column("episode_end_date").to_list() == [D(2021, 5, 5)]


def test_episode_numbers_on_example():
    """EX19 (remission_model §12 worked example): partial, complete, progression, partial,
    complete -> episode_number per concept 1,1,1,2,2."""
    episode, _ = episodes_to_omop(assess(EXAMPLE), assign_person_ids=True)
    ex19 = episode.filter(pl.col("person_id") == 19).sort("episode_start_date")
    assert ex19.get_column("episode_concept_id").to_list() == [32947, 32946, 32949, 32947, 32946]
    assert ex19.get_column("episode_number").to_list() == [1, 1, 1, 2, 2]
    assert episode.get_column("episode_id").to_list() == list(range(1, episode.height + 1))


def test_cli_omop_needs_a_person_map(tmp_path):
    r = CliRunner().invoke(app, ["omop", str(EXAMPLE), "--out", str(tmp_path / "none")])
    assert r.exit_code == 2
    assert not (tmp_path / "none").exists()
    r = CliRunner().invoke(app, ["omop", str(EXAMPLE), "--out", str(tmp_path / "a"), "--assign-person-ids"])
    assert r.exit_code == 0, r.output
    ep = pl.read_csv(tmp_path / "a" / "episode.csv")
    assert list(ep.columns) == list(EPISODE_COLUMNS)
    assert not (tmp_path / "a" / "episode_event.csv").exists()  # no records given: nothing linked
    assert (tmp_path / "a" / "run.json").exists()


# --------------------------------------------------------------------------- item 15: DDL


def _ddl(con, name: str) -> None:
    con.execute((CDM / f"OMOPCDM_duckdb_5.4_{name}.sql").read_text().replace("@cdmDatabaseSchema.", ""))


def _foreign_keys(*tables: str) -> list[tuple[str, str, str, str]]:
    """(table, column, parent table, parent column) of every FOREIGN KEY of ``tables`` in
    the official constraints file (DuckDB cannot add them with ALTER TABLE)."""
    pat = re.compile(r"ALTER TABLE @cdmDatabaseSchema\.(\w+) ADD CONSTRAINT \w+ FOREIGN KEY \((\w+)\) "
                     r"REFERENCES @cdmDatabaseSchema\.(\w+) \((\w+)\)", re.I)  # fmt: skip
    found = [tuple(x.lower() for x in m.groups()) for m in pat.finditer((CDM / "OMOPCDM_duckdb_5.4_constraints.sql").read_text())]
    return [f for f in found if f[0] in tables]


def test_output_loads_into_the_official_cdm_ddl_and_every_foreign_key_joins(tmp_path):
    """Item 15: EPISODE/EPISODE_EVENT CSVs written by remission load into the CDM v5.4 DuckDB
    DDL with its primary keys (a duplicate episode_id would fail), and every foreign key of
    the two tables in the official constraints file finds its parent row by a join; each
    event_id finds its record in the table its field concept names."""
    (tmp_path / "map.csv").write_text("person_id,gender_concept_id,year_of_birth,race_concept_id,ethnicity_concept_id,person_source_value\n"
                                      "101,0,1960,0,0,S1\n202,0,1955,0,0,S2\n")  # fmt: skip
    meas, cond = _measurements(), _conditions()
    paths = write_omop(_result(), tmp_path / "omop", person_map=read_person_map(tmp_path / "map.csv"),
                       measurements=meas, conditions=cond)  # fmt: skip
    assert [p.name for p in paths] == ["episode.csv", "episode_event.csv"]
    con = duckdb.connect()
    _ddl(con, "ddl")
    _ddl(con, "primary_keys")
    con.execute(f"INSERT INTO person (person_id, gender_concept_id, year_of_birth, race_concept_id, ethnicity_concept_id, person_source_value) "
                f"SELECT * FROM read_csv('{tmp_path / 'map.csv'}', header=true)")  # fmt: skip
    con.register("meas", meas.to_arrow())
    con.execute("INSERT INTO measurement (measurement_id, person_id, measurement_concept_id, measurement_date, measurement_type_concept_id) "
                "SELECT measurement_id, person_id, measurement_concept_id, measurement_date, 0 FROM meas")  # fmt: skip
    con.register("cond", cond.to_arrow())
    con.execute("INSERT INTO condition_occurrence (condition_occurrence_id, person_id, condition_concept_id, condition_start_date, "
                "condition_type_concept_id) SELECT condition_occurrence_id, person_id, condition_concept_id, condition_start_date, 0 FROM cond")  # fmt: skip
    # the concepts remission writes, each from its cited source (omop.py), and the test's Condition concepts
    concepts = {0: "No matching concept", EPISODE_TYPE_DERIVED_EHR: "Episode algorithmically derived from EHR",
                1147138: "measurement.measurement_id", 1147127: "condition_occurrence.condition_occurrence_id",
                4112853: "test data condition", 999: "test data condition"}  # fmt: skip
    concepts |= {cid: name for cid, name in DISEASE_DYNAMIC_CONCEPTS.values()}
    con.executemany(
        "INSERT INTO concept VALUES (?, ?, 'Metadata', 'None', 'Concept', NULL, ?, DATE '1970-01-01', DATE '2099-12-31', NULL)",
        [(cid, name, str(cid)) for cid, name in concepts.items()],
    )
    con.execute(f"INSERT INTO episode SELECT * FROM read_csv('{paths[0]}', header=true)")
    con.execute(f"INSERT INTO episode_event SELECT * FROM read_csv('{paths[1]}', header=true)")
    assert con.execute("SELECT count(*) FROM episode").fetchone()[0] == 4
    assert con.execute("SELECT count(*) FROM episode_event").fetchone()[0] == 4
    with pytest.raises(duckdb.ConstraintException):  # the primary key is in force
        con.execute("INSERT INTO episode SELECT * FROM episode LIMIT 1")
    fks = _foreign_keys("episode", "episode_event")
    assert len(fks) == 7  # person, 4 concepts, episode_event -> episode and its field concept
    for table, col, parent, pcol in fks:
        orphans = con.execute(
            f"SELECT count(*) FROM {table} t LEFT JOIN {parent} p ON t.{col} = p.{pcol} WHERE t.{col} IS NOT NULL AND p.{pcol} IS NULL"
        ).fetchone()[0]
        assert orphans == 0, (table, col, parent)
    for table, field in (("measurement", 1147138), ("condition_occurrence", 1147127)):
        orphans = con.execute(
            f"SELECT count(*) FROM episode_event e JOIN episode ep USING (episode_id) LEFT JOIN {table} r "
            f"ON e.event_id = r.{table}_id AND r.person_id = ep.person_id WHERE e.episode_event_field_concept_id = {field} "
            f"AND r.{table}_id IS NULL"
        ).fetchone()[0]
        assert orphans == 0, table
