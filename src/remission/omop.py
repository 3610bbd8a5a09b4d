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

Concept ids and their source: the four ids are the OMOP (Athena, vocabulary "Episode")
concepts listed, with these names, in the HL7 Europe IDEA4RC FHIR IG value set
``cancer-event-type-vs`` (code system ``http://fhir.ohdsi.org/CodeSystem/concepts``, i.e.
OMOP concept ids; https://build.fhir.org/ig/hl7-eu/idea4rc/ValueSet-cancer-event-type-vs.html).
``episode_type_concept_id`` 32545 "Episode algorithmically derived from EHR": OHDSI
OncologyWG, OncoRegimenFinderV5/inst/sql/sql_server/EpisodeTable.sql.  They were not
re-checked in Athena itself while this module was written.

``EPISODE_EVENT.episode_event_field_concept_id``: the CDM field concept of
``measurement.measurement_id``.  **Not confirmed from a source available here**: the
default 1147138 is the id we believe Athena's "CDM" vocabulary gives
``measurement.measurement_id`` (the confirmed neighbours are 1147127
condition_occurrence.condition_occurrence_id, OncologyWG model page, and 1147094
drug_exposure.drug_exposure_id, OncologyWG SQL above).  Check it in Athena and pass
``event_field_concept_id`` if it differs.

Choices (the sources do not say):

* PROGRESSION_PENDING and NOT_EVALUABLE statuses neither open nor close an episode (no
  disease-dynamic concept says "undetermined"); MINOR (minor response) is Stable disease.
* An episode ends on the date of the first status of the next episode (contiguous time
  frames); the last episode of a person is open (``episode_end_date`` null), or ends at
  death (``subjects.death_date`` is not in the results; pass ``death_dates``).
* ``episode_object_concept_id`` = 0 ("No matching concept": the results do not carry the
  OMOP concept of the cancer; fill it from your CONDITION_OCCURRENCE);
  ``episode_source_value`` = the canonical level; ``episode_source_concept_id`` = 0;
  ``episode_number`` = order of the person's episodes of the same concept.
* ``person_id``: ``person_id_map`` (subject_id -> person_id) or, by default, 1..n over the
  sorted subject ids.  ``episode_id``: 1..n over (person_id, start date).
* ``EPISODE_EVENT`` links each episode to the assessments (status dates) inside it.  The
  event ids are ``measurement_ids`` (a frame ``subject_id, date, measurement_id``) when
  given, else the surrogate numbers of :func:`assessment_events` (load your MEASUREMENT
  rows with those ids).
"""

from __future__ import annotations

import polars as pl

from remission import schema as S

#: canonical level -> (episode_concept_id, concept name); sources in the module docstring
DISEASE_DYNAMIC_CONCEPTS: dict[str, tuple[int, str]] = {
    S.COMPLETE: (32946, "Complete Remission"),
    S.PARTIAL: (32947, "Partial Remission"),
    S.STABLE: (32948, "Stable disease"),
    S.MINOR: (32948, "Stable disease"),
    S.PROGRESSION: (32949, "Progression"),
}
#: "Episode algorithmically derived from EHR" (OncologyWG EpisodeTable.sql)
EPISODE_TYPE_DERIVED_EHR = 32545
#: measurement.measurement_id field concept; NOT confirmed from a source (module docstring)
MEASUREMENT_ID_FIELD_CONCEPT = 1147138

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


def _person_ids(subject_ids: pl.Series, person_id_map: dict | None) -> pl.DataFrame:
    ids = subject_ids.unique().sort()
    if person_id_map is None:
        return pl.DataFrame({"subject_id": ids, "person_id": pl.int_range(1, ids.len() + 1, eager=True).cast(pl.Int64)})
    missing = [s for s in ids.to_list() if s not in person_id_map]
    if missing:
        raise KeyError(f"person_id_map has no person_id for subject(s): {', '.join(missing[:10])}")
    return pl.DataFrame({"subject_id": ids, "person_id": [int(person_id_map[s]) for s in ids.to_list()]},
                        schema={"subject_id": pl.String, "person_id": pl.Int64})


def assessment_events(result, person_id_map: dict | None = None) -> pl.DataFrame:
    """``subject_id, person_id, date, level, event_id``: the status dates that count for
    disease dynamics, with the surrogate event id used by :func:`episodes_to_omop` when no
    ``measurement_ids`` are given (1..n over sorted subject, date)."""
    st = result.statuses if result.statuses is not None else S.empty(S.STATUSES_TABLE)
    st = (
        st.filter(pl.col("level").is_in(list(DISEASE_DYNAMIC_CONCEPTS)))
        .select("subject_id", "date", "level")
        .unique(["subject_id", "date"], keep="first", maintain_order=True)
        .sort("subject_id", "date")
    )
    people = _person_ids(result.summary.get_column("subject_id"), person_id_map)
    return st.join(people, on="subject_id", how="left").with_columns(
        event_id=pl.int_range(1, pl.len() + 1, dtype=pl.Int64)
    ).select("subject_id", "person_id", "date", "level", "event_id")


def episodes_to_omop(
    result,
    person_id_map: dict | None = None,
    *,
    measurement_ids: pl.DataFrame | None = None,
    death_dates: pl.DataFrame | None = None,
    event_field_concept_id: int = MEASUREMENT_ID_FIELD_CONCEPT,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(episode, episode_event)``: OMOP CDM v5.4 EPISODE and EPISODE_EVENT frames of the
    disease-dynamic episodes of :func:`remission.assess` results (module docstring).

    Vectorised: runs are found with a change flag and a cumulative sum per subject."""
    ev = assessment_events(result, person_id_map)
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
    )
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
        pl.lit(0, dtype=pl.Int32).alias("episode_object_concept_id"),
        pl.lit(EPISODE_TYPE_DERIVED_EHR, dtype=pl.Int32).alias("episode_type_concept_id"),
        "episode_source_value",
        pl.lit(0, dtype=pl.Int32).alias("episode_source_concept_id"),
    ).cast(EPISODE_COLUMNS)
    if measurement_ids is not None:
        ev = ev.drop("event_id").join(
            measurement_ids.select("subject_id", "date", pl.col("measurement_id").cast(pl.Int64).alias("event_id")),
            on=["subject_id", "date"],
            how="inner",
        )
    event = (
        ev.join(runs.select("subject_id", "run", "episode_id"), on=["subject_id", "run"], how="inner")
        .sort("episode_id", "date")
        .select("episode_id", "event_id", pl.lit(event_field_concept_id, dtype=pl.Int32).alias("episode_event_field_concept_id"))
        .cast(EPISODE_EVENT_COLUMNS)
    )
    return episode, event


def write_omop(result, out_dir, *, person_id_map: dict | None = None, death_dates: pl.DataFrame | None = None) -> list:
    """Write ``episode.csv``, ``episode_event.csv`` and ``assessment_events.csv`` (the
    surrogate event ids) to ``out_dir``."""
    from pathlib import Path

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    episode, event = episodes_to_omop(result, person_id_map, death_dates=death_dates)
    paths = [out / "episode.csv", out / "episode_event.csv", out / "assessment_events.csv"]
    episode.write_csv(paths[0])
    event.write_csv(paths[1])
    assessment_events(result, person_id_map).write_csv(paths[2])
    return paths
