"""OMOP CDM v5.4 ``EPISODE`` and ``EPISODE_EVENT`` rows from the derived results, with the
oncology extension's *disease dynamic* episode concepts.

A disease-dynamic episode is a time frame during which the patient's disease status stays
the same (OHDSI oncology extension; ETL-LambdaBuilder "Source Code to SNOMED and Episode
Domain Mapping", https://ohdsi.github.io/ETL-LambdaBuilder/ICD10CM_to_Episode_Mapping.html).
Here one EPISODE row is one run of consecutive per-date statuses with the same disease
dynamic (``result.statuses``, remission_model.md §5):

========================  ================================  ======================
canonical level           episode_concept_id                 concept name
========================  ================================  ======================
COMPLETE                  32946                              Complete Remission
PARTIAL                   32947                              Partial Remission
STABLE, MINOR             32948                              Stable disease
PROGRESSION               32949                              Progression
========================  ================================  ======================

Concept ids and their sources:

* the four episode concepts: OMOP (Athena, vocabulary "Episode") concepts listed, with these
  names, in the HL7 Europe IDEA4RC FHIR IG value set ``cancer-event-type-vs`` (code system
  ``http://fhir.ohdsi.org/CodeSystem/concepts``, i.e. OMOP concept ids;
  https://build.fhir.org/ig/hl7-eu/idea4rc/ValueSet-cancer-event-type-vs.html);
* ``episode_type_concept_id`` 32545 "Episode algorithmically derived from EHR": OHDSI
  OncologyWG, ``OncoRegimenFinder/readme.md`` (its EPISODE insert:
  ``32545 AS episode_type_concept_id -- 'Episode algorithmically derived from EHR'``);
* ``episode_event_field_concept_id`` (the CDM vocabulary's *field* concept of the linked
  record's primary key): 1147138 ``measurement.measurement_id`` (OHDSI OncologyWG,
  ``naaccr_etl/naaccr_etl_postgresql.sql``, ``1147138 --measurement.measurement_id``) and
  1147127 ``condition_occurrence.condition_occurrence_id`` (OncologyWG
  ``naaccr_etl/naaccr-etl/spec/lib/naaccr_etl_spec.rb``, ``#1147127 =
  condition_occurrence.condition_occurrence_id``).  No source here gives the id of
  ``observation.observation_id``: OBSERVATION rows are linked only when the caller passes
  it (``observation_field_concept_id``).

CDM 5.4 conventions (``OMOP_CDMv5.4_Field_Level.csv``, EPISODE): "Episode entries from
the 'Disease Episode' concept class should have an episode_object_concept_id that comes
from the Condition domain"; EPISODE_EVENT.event_id is "the primary key of the linked
record".  So:

* **persons** (issue 16 item 12): ``person_id`` comes from a person map (subject_id ->
  person_id; :func:`read_person_map` reads a ``subject_id,person_id`` CSV or a PERSON table,
  whose ``person_source_value`` is the subject id).  Without one, ids are invented (1..n
  over the sorted subject ids) only when asked (``assign_person_ids=True``,
  ``--assign-person-ids``); otherwise it is an input error.  A subject missing from the map
  is a located error.
* **events** (item 13): EPISODE_EVENT links an episode only to real records given as input
  (MEASUREMENT, OBSERVATION, CONDITION_OCCURRENCE rows): a record of the episode's person
  dated on one of the episode's assessment (status) dates.  Give the rows that record the
  assessments (every row of that person and date is linked).  Without such rows no
  EPISODE_EVENT row is made (``remission omop`` then writes no ``episode_event.csv``).
* **object** (item 14): ``episode_object_concept_id`` is the person's cancer Condition
  concept: the ``condition_concept_id`` of the person's earliest CONDITION_OCCURRENCE row
  given (ties: the lowest ``condition_occurrence_id``), or a ``condition_concept_id``
  column of the person map; else 0 ("No matching concept", the CDM's value for an unknown
  concept), reported by :func:`episodes_to_omop` callers as a warning.

Choices (the sources do not say):

* PROGRESSION_PENDING and NOT_EVALUABLE statuses neither open nor close an episode (no
  disease-dynamic concept says "undetermined"); MINOR (minor response) is Stable disease.
* An episode ends on the date of the first status of the next episode (contiguous time
  frames); the last episode of a person is open (``episode_end_date`` null), or ends at
  death (``subjects.death_date`` is not in the results; pass ``death_dates``).
* ``episode_source_value`` = the canonical level; ``episode_source_concept_id`` = 0;
  ``episode_number`` = order of the person's episodes of the same concept;
  ``episode_id``: 1..n over (person_id, start date).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from remission import schema as S
from remission.errors import InputError, InputErrors

__all__ = [
    "episodes_to_omop", "write_omop", "read_person_map", "read_omop_table", "assessment_events",
    "DISEASE_DYNAMIC_CONCEPTS", "EPISODE_TYPE_DERIVED_EHR", "FIELD_CONCEPTS", "EPISODE_COLUMNS", "EPISODE_EVENT_COLUMNS",
]  # fmt: skip

#: canonical level -> (episode_concept_id, concept name); sources in the module docstring
DISEASE_DYNAMIC_CONCEPTS: dict[str, tuple[int, str]] = {
    S.COMPLETE: (32946, "Complete Remission"),
    S.PARTIAL: (32947, "Partial Remission"),
    S.STABLE: (32948, "Stable disease"),
    S.MINOR: (32948, "Stable disease"),
    S.PROGRESSION: (32949, "Progression"),
}
#: "Episode algorithmically derived from EHR" (OncologyWG OncoRegimenFinder/readme.md)
EPISODE_TYPE_DERIVED_EHR = 32545
#: CDM field concepts of the linked tables' primary keys (OncologyWG naaccr_etl; docstring)
FIELD_CONCEPTS = {"measurement": 1147138, "condition_occurrence": 1147127}
#: "No matching concept"
NO_MATCHING_CONCEPT = 0

#: The OMOP tables an episode's events may come from: table -> (id column, date column)
EVENT_TABLES = {
    "measurement": ("measurement_id", "measurement_date"),
    "observation": ("observation_id", "observation_date"),
    "condition_occurrence": ("condition_occurrence_id", "condition_start_date"),
}

EPISODE_COLUMNS = {
    "episode_id": pl.Int64,
    "person_id": pl.Int64,
    "episode_concept_id": pl.Int32,
    "episode_start_date": pl.Date,
    "episode_start_datetime": pl.Datetime("us"),
    "episode_end_date": pl.Date,
    "episode_end_datetime": pl.Datetime("us"),
    "episode_parent_id": pl.Int64,
    "episode_number": pl.Int32,
    "episode_object_concept_id": pl.Int32,
    "episode_type_concept_id": pl.Int32,
    "episode_source_value": pl.String,
    "episode_source_concept_id": pl.Int32,
}
EPISODE_EVENT_COLUMNS = {
    "episode_id": pl.Int64,
    "event_id": pl.Int64,
    "episode_event_field_concept_id": pl.Int32,
}


# --------------------------------------------------------------------------- input tables


def _int_errors(frame: pl.DataFrame, column: str, file: str, subject: str | None = None) -> list[InputError]:
    bad = frame.with_row_index("__r__", offset=1).filter(
        pl.col(column).is_not_null() & pl.col(column).cast(pl.Int64, strict=False).is_null()
    )
    return [
        InputError(file, r["__r__"], r[subject] if subject else None, column, r[column], "a whole number (OMOP id)", "invalid_value")
        for r in bad.iter_rows(named=True)
    ]


def read_omop_table(path: str | Path | pl.DataFrame, table: str, *, file: str | None = None) -> pl.DataFrame:
    """A MEASUREMENT / OBSERVATION / CONDITION_OCCURRENCE table (CSV or Parquet file, or a
    frame) with its id column, ``person_id`` and date column typed (extra columns kept);
    located errors for missing columns, ids that are not whole numbers and bad dates."""
    id_col, date_col = EVENT_TABLES[table]
    if isinstance(path, pl.DataFrame):
        frame, file = path, file or f"{table} (data frame)"
    else:
        path = Path(path)
        file = file or path.name
        try:
            frame = pl.read_parquet(path) if path.suffix.lower() == ".parquet" else pl.read_csv(path, infer_schema=False)
        except Exception as exc:  # noqa: BLE001 - a located error instead of a traceback
            raise InputErrors([InputError(file, None, None, None, None, f"a readable CSV or Parquet {table.upper()} table ({exc})", "unreadable")])
    frame = frame.rename({c: c.strip().lower() for c in frame.columns})
    need = [id_col, "person_id", date_col] + (["condition_concept_id"] if table == "condition_occurrence" else [])
    missing = [InputError(file, None, None, c, None, f"a column {c}", "missing_column") for c in need if c not in frame.columns]
    if missing:
        raise InputErrors(missing)
    text = frame.with_columns(pl.col(c).cast(pl.String).str.strip_chars() for c in need)
    errors = []
    for c in need:
        if c != date_col:
            errors += _int_errors(text, c, file)
    date = pl.col(date_col).str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
    bad = text.with_row_index("__r__", offset=1).filter(pl.col(date_col).is_null() | date.is_null())
    errors += [InputError(file, r["__r__"], None, date_col, r[date_col], "a date YYYY-MM-DD", "invalid_date") for r in bad.iter_rows(named=True)]
    nulls = text.with_row_index("__r__", offset=1).filter(pl.col(id_col).is_null() | pl.col("person_id").is_null())
    errors += [InputError(file, r["__r__"], None, id_col, None, f"{id_col} and person_id", "missing") for r in nulls.iter_rows(named=True)]
    if errors:
        raise InputErrors(errors)
    return text.with_columns(
        *(pl.col(c).cast(pl.Int64) for c in need if c != date_col), date.alias(date_col)
    )


def read_person_map(path: str | Path | pl.DataFrame | dict, *, file: str | None = None) -> pl.DataFrame:
    """``subject_id, person_id`` (and ``condition_concept_id`` when the map has it) from a
    ``subject_id,person_id`` CSV/Parquet, an OMOP PERSON table (``person_id``,
    ``person_source_value`` = subject id), a frame or a dict; located errors for missing
    columns, ids that are not whole numbers, a subject given twice and a person id given to
    two subjects."""
    if isinstance(path, dict):
        frame, file = pl.DataFrame({"subject_id": list(path), "person_id": [str(v) for v in path.values()]}), file or "person_id_map"
    elif isinstance(path, pl.DataFrame):
        frame, file = path, file or "person map (data frame)"
    else:
        path = Path(path)
        file = file or path.name
        try:
            frame = pl.read_parquet(path) if path.suffix.lower() == ".parquet" else pl.read_csv(path, infer_schema=False)
        except Exception as exc:  # noqa: BLE001
            raise InputErrors([InputError(file, None, None, None, None, f"a readable CSV or Parquet person map ({exc})", "unreadable")])
    frame = frame.rename({c: c.strip().lower() for c in frame.columns})
    if "subject_id" not in frame.columns and "person_source_value" in frame.columns:
        frame = frame.rename({"person_source_value": "subject_id"})  # an OMOP PERSON table
    missing = [InputError(file, None, None, c, None, f"a column {c} (or a PERSON table's person_source_value)", "missing_column")
               for c in ("subject_id", "person_id") if c not in frame.columns]  # fmt: skip
    if missing:
        raise InputErrors(missing)
    cols = ["subject_id", "person_id"] + (["condition_concept_id"] if "condition_concept_id" in frame.columns else [])
    text = frame.select(pl.col(c).cast(pl.String).str.strip_chars() for c in cols)
    errors = _int_errors(text, "person_id", file, "subject_id")
    if "condition_concept_id" in cols:
        errors += _int_errors(text, "condition_concept_id", file, "subject_id")
    rows = text.with_row_index("__r__", offset=1)
    errors += [InputError(file, r["__r__"], r["subject_id"], "subject_id", r["subject_id"], "one row per subject", "duplicate")
               for r in rows.filter(pl.col("subject_id").is_duplicated() & pl.col("subject_id").is_not_null()).iter_rows(named=True)]  # fmt: skip
    errors += [InputError(file, r["__r__"], r["subject_id"], "person_id", r["person_id"], "a person_id of one subject only", "duplicate")
               for r in rows.filter(pl.col("person_id").is_duplicated() & pl.col("person_id").is_not_null()).iter_rows(named=True)]  # fmt: skip
    errors += [InputError(file, r["__r__"], r["subject_id"], c, None, f"a {c}", "missing")
               for c in ("subject_id", "person_id") for r in rows.filter(pl.col(c).is_null()).iter_rows(named=True)]  # fmt: skip
    if errors:
        raise InputErrors(errors)
    return text.with_columns(pl.col(c).cast(pl.Int64) for c in cols if c != "subject_id")


def _people(result, person_map, assign_person_ids: bool) -> pl.DataFrame:
    ids = result.summary.get_column("subject_id").unique().sort()
    if person_map is None:
        if not assign_person_ids:
            raise InputErrors([InputError(
                "person map", None, None, None, None,
                "a person map (subject_id -> person_id, or a PERSON table); or ask for invented ids (--assign-person-ids)",
                "missing",
            )])  # fmt: skip
        return pl.DataFrame({"subject_id": ids, "person_id": pl.int_range(1, ids.len() + 1, eager=True).cast(pl.Int64)})
    people = person_map if isinstance(person_map, pl.DataFrame) and "person_id" in person_map.columns and person_map.schema["person_id"] == pl.Int64 else read_person_map(person_map)
    known = set(people.get_column("subject_id").to_list())
    missing = [s for s in ids.to_list() if s not in known]
    if missing:
        raise InputErrors([InputError("person map", None, s, "subject_id", s, "a person_id for every subject", "unknown_subject") for s in missing])
    return pl.DataFrame({"subject_id": ids}).join(people, on="subject_id", how="left", maintain_order="left")


# --------------------------------------------------------------------------- episodes


def assessment_events(result, people: pl.DataFrame) -> pl.DataFrame:
    """``subject_id, person_id, date, level``: the status dates that count for disease
    dynamics (one per subject and date), sorted by subject and date."""
    st = result.statuses if result.statuses is not None else S.empty(S.STATUSES_TABLE)
    st = (
        st.filter(pl.col("level").is_in(list(DISEASE_DYNAMIC_CONCEPTS)))
        .select("subject_id", "date", "level")
        .unique(["subject_id", "date"], keep="first", maintain_order=True)
        .sort("subject_id", "date")
    )
    return st.join(people.select("subject_id", "person_id"), on="subject_id", how="left").select("subject_id", "person_id", "date", "level")


def _object_concepts(people: pl.DataFrame, conditions: pl.DataFrame | None) -> pl.DataFrame:
    """``person_id, episode_object_concept_id``: the earliest given Condition, else the
    person map's ``condition_concept_id``, else 0 (module docstring)."""
    out = people.select("person_id", (pl.col("condition_concept_id") if "condition_concept_id" in people.columns
                                      else pl.lit(None, pl.Int64)).alias("__map__"))  # fmt: skip
    if conditions is not None and conditions.height:
        first = (
            conditions.sort("person_id", "condition_start_date", "condition_occurrence_id")
            .group_by("person_id", maintain_order=True)
            .agg(pl.col("condition_concept_id").first().alias("__cond__"))
        )
        out = out.join(first, on="person_id", how="left")
    else:
        out = out.with_columns(pl.lit(None, pl.Int64).alias("__cond__"))
    return out.select(
        "person_id",
        pl.coalesce("__cond__", "__map__", pl.lit(NO_MATCHING_CONCEPT)).cast(pl.Int32).alias("episode_object_concept_id"),
    )


def episodes_to_omop(
    result,
    person_map=None,
    *,
    assign_person_ids: bool = False,
    measurements: pl.DataFrame | None = None,
    observations: pl.DataFrame | None = None,
    conditions: pl.DataFrame | None = None,
    observation_field_concept_id: int | None = None,
    death_dates: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(episode, episode_event)``: OMOP CDM v5.4 EPISODE and EPISODE_EVENT frames of the
    disease-dynamic episodes of :func:`remission.assess` results (module docstring).

    ``person_map``: anything :func:`read_person_map` reads (a file, a frame, a dict
    subject_id -> person_id); required unless ``assign_person_ids``.  ``measurements`` /
    ``observations`` / ``conditions``: OMOP rows (:func:`read_omop_table`) the events may
    link to; ``episode_event`` is empty without them.  Vectorised: runs are found with a
    change flag and a cumulative sum per subject."""
    people = _people(result, person_map, assign_person_ids)
    if observations is not None and observation_field_concept_id is None:
        raise InputErrors([InputError("observation", None, None, None, None,
                                      "the field concept id of observation.observation_id (--observation-field-concept-id)",
                                      "missing")])  # fmt: skip
    ev = assessment_events(result, people)
    concept = pl.col("level").replace_strict({k: v[0] for k, v in DISEASE_DYNAMIC_CONCEPTS.items()}, return_dtype=pl.Int32)
    ev = ev.with_columns(concept=concept).with_columns(
        run=(pl.col("concept") != pl.col("concept").shift(1).over("subject_id")).fill_null(True).cum_sum().over("subject_id")
    )
    runs = (
        ev.group_by("subject_id", "person_id", "run")
        .agg(
            episode_concept_id=pl.col("concept").first(),
            episode_start_date=pl.col("date").min(),
            episode_source_value=pl.col("level").first(),
        )
        .sort("person_id", "episode_start_date")
        .with_columns(episode_end_date=pl.col("episode_start_date").shift(-1).over("subject_id"))
    )
    if death_dates is not None and death_dates.height:
        runs = runs.join(death_dates.select("subject_id", "death_date"), on="subject_id", how="left").with_columns(
            episode_end_date=pl.coalesce("episode_end_date", "death_date")
        ).drop("death_date")
    runs = runs.with_columns(
        episode_id=pl.int_range(1, pl.len() + 1, dtype=pl.Int64),
        episode_number=pl.int_range(1, pl.len() + 1, dtype=pl.Int32).over("person_id", "episode_concept_id"),
    ).join(_object_concepts(people, conditions), on="person_id", how="left", maintain_order="left")
    episode = runs.select(
        "episode_id",
        "person_id",
        "episode_concept_id",
        "episode_start_date",
        pl.lit(None, dtype=pl.Datetime("us")).alias("episode_start_datetime"),
        "episode_end_date",
        pl.lit(None, dtype=pl.Datetime("us")).alias("episode_end_datetime"),
        pl.lit(None, dtype=pl.Int64).alias("episode_parent_id"),
        "episode_number",
        "episode_object_concept_id",
        pl.lit(EPISODE_TYPE_DERIVED_EHR, dtype=pl.Int32).alias("episode_type_concept_id"),
        "episode_source_value",
        pl.lit(0, dtype=pl.Int32).alias("episode_source_concept_id"),
    ).cast(EPISODE_COLUMNS)
    # each assessment date's episode, then the given records of that person and date
    dated = ev.join(runs.select("subject_id", "run", "episode_id"), on=["subject_id", "run"], how="inner").select(
        "episode_id", "person_id", "date"
    )
    links = []
    for table, rows, field in (
        ("measurement", measurements, FIELD_CONCEPTS["measurement"]),
        ("observation", observations, observation_field_concept_id),
        ("condition_occurrence", conditions, FIELD_CONCEPTS["condition_occurrence"]),
    ):
        if rows is None or not rows.height:
            continue
        id_col, date_col = EVENT_TABLES[table]
        rec = rows.select(pl.col("person_id").cast(pl.Int64), pl.col(date_col).alias("date"), pl.col(id_col).cast(pl.Int64).alias("event_id"))
        links.append(
            dated.join(rec, on=["person_id", "date"], how="inner").select(
                "episode_id", "event_id", pl.lit(field, dtype=pl.Int32).alias("episode_event_field_concept_id"), "date"
            )
        )
    if links:
        event = (
            pl.concat(links).unique(["episode_id", "event_id", "episode_event_field_concept_id"])
            .sort("episode_id", "episode_event_field_concept_id", "date", "event_id")
            .drop("date").cast(EPISODE_EVENT_COLUMNS)
        )  # fmt: skip
    else:
        event = pl.DataFrame(schema=EPISODE_EVENT_COLUMNS)
    return episode, event


def write_omop(result, out_dir, **kwargs) -> list[Path]:
    """Write ``episode.csv`` and, when there are links, ``episode_event.csv`` to ``out_dir``
    (arguments of :func:`episodes_to_omop`)."""
    episode, event = episodes_to_omop(result, **kwargs)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "episode.csv"]
    episode.write_csv(paths[0])
    if event.height:
        paths.append(out / "episode_event.csv")
        event.write_csv(paths[1])
    return paths
