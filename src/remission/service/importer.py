"""Import and re-derivation: canonical rows in, derived tables out, one transaction each.

* :func:`import_dataset` reads a canonical dataset folder (or an SDTM folder), validates it
  exactly as ``remission assess`` does (any error raises
  :class:`~remission.errors.InputErrors`; nothing is written), assesses every subject at
  once with :func:`remission.pipeline.assess` (vectorised), and writes, **in one
  transaction**, the input rows and the derived rows of every subject whose data changed.
  Re-importing the same data changes nothing (a SHA-256 of each subject's canonical rows
  and ``as_of`` is compared with the stored one).  A subject present in the database but
  absent from the dataset is left untouched.

  Choice (the issue does not say): for the subjects it contains, a dataset is the
  authoritative record: their stored rows are *replaced* by the dataset's (rows added
  through the API since are dropped when the same subject is imported again with other
  data).  ``as_of`` is the dataset's latest date, as in ``remission assess``, so the
  service shows exactly what the command line shows for the same folder.

* :func:`add_results` adds lesion, lab, finding, treatment or response rows (and may update
  the subject's own row) for one patient: the patient's stored rows plus the new ones are
  validated together (errors name ``lesions (request)`` and the 1-based position in the
  posted list), and the patient's **whole history is derived again** from all their rows
  (the rules back-date events: a confirmation or a progression found later changes earlier
  episodes).  ``as_of`` becomes the later of the stored one and the patient's latest date.

* :func:`patient_result` gives the full :class:`~remission.pipeline.AssessResult` of one
  patient (for plots, explanations, FHIR), derived from the stored rows and cached per
  patient version.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import orjson
import polars as pl
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from remission import schema as S
from remission.errors import InputError, InputErrors
from remission.io import Dataset, load_dataset
from remission.io.tables import RawDataset, RawTable, frame_to_text
from remission.io.validate import validate
from remission.options import AssessOptions
from remission.pipeline import AssessResult, assess
from remission.service.db import (
    DERIVED_MODELS,
    lock_patient,
    lock_import,
    with_retry,
    INPUT_MODELS,
    AssessmentRow,
    EpisodeRow,
    Patient,
    utcnow,
)

#: rows per INSERT batch (executemany)
BATCH = 5000
#: subject ids per IN (...) list
ID_CHUNK = 500
#: tables a client may add rows to (spec/service.md ``POST /api/patients/{id}/results``)
RESULT_TABLES = ("lesions", "labs", "findings", "treatments", "responses")

ProgressHook = Callable[[str, int], None]


@dataclass
class ImportReport:
    subjects: int
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0
    rows: int = 0
    as_of: dt.date | None = None


def _chunks(seq: list, n: int) -> Iterable[list]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


# --------------------------------------------------------------------------------------
# Frames <-> rows
# --------------------------------------------------------------------------------------


def _model_for(name: str):
    return Patient if name == "subjects" else INPUT_MODELS[name]


def split_columns(name: str) -> tuple[list[str], list[str]]:
    """Columns of input table ``name`` stored as typed columns, and those kept in ``extra``."""
    model = _model_for(name)
    typed = [c for c in S.INPUT_TABLES[name] if c in model.__table__.columns]
    return typed, [c for c in S.INPUT_TABLES[name] if c not in typed]


def _with_extra(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    typed, extra = split_columns(name)
    ex = (
        pl.struct(extra).struct.json_encode() if extra else pl.lit(None, dtype=pl.String)
    ).alias("extra")
    return frame.select(*typed, ex)


def _input_frames(ds: Dataset) -> dict[str, pl.DataFrame]:
    """Canonical input tables as stored (typed columns + ``extra`` JSON), with ``seq``
    (0-based input order within the subject)."""
    out = {"subjects": _with_extra(ds.subjects, "subjects")}
    for name in INPUT_MODELS:
        frame = _with_extra(ds.tables[name], name)
        out[name] = frame.with_columns(seq=pl.int_range(pl.len()).over("subject_id").cast(pl.Int32))
    return out


def _frame_from_rows(name: str, rows: list[tuple]) -> pl.DataFrame:
    """Stored rows (typed columns then ``extra``) as a frame with the schema of ``name``."""
    typed, extra = split_columns(name)
    schema = S.INPUT_TABLES[name]
    frame = pl.DataFrame(rows, schema={**{c: schema[c] for c in typed}, "extra": pl.String}, orient="row")
    if extra:
        decode = {c: (pl.String if schema[c] in (pl.Date, pl.Datetime) else schema[c]) for c in extra}
        frame = frame.with_columns(pl.col("extra").str.json_decode(dtype=pl.Struct(decode))).unnest("extra")
        frame = frame.with_columns([pl.col(c).cast(schema[c]) if schema[c] != pl.Date else pl.col(c).str.to_date() for c in extra])
    else:
        frame = frame.drop("extra")
    return frame.select(list(schema))


def _subject_hashes(frames: dict[str, pl.DataFrame], as_of: dt.date | None) -> dict[str, str]:
    """SHA-256 per subject of its canonical rows (in input order) and ``as_of``."""
    parts = []
    for name, frame in frames.items():
        cols = [c for c in frame.columns if c not in ("seq",)]
        parts.append(
            frame.select(
                "subject_id",
                _k=pl.lit(name),
                _seq=pl.col("seq") if "seq" in frame.columns else pl.lit(0, dtype=pl.Int32),
                _j=pl.struct(cols).struct.json_encode(),
            )
        )
    text = (
        pl.concat(parts)
        .sort("subject_id", "_k", "_seq")
        .group_by("subject_id", maintain_order=True)
        .agg(pl.format("{}:{}", "_k", "_j").str.join("\n"))
    )
    stamp = f"as_of={as_of}\n"
    return {
        sid: hashlib.sha256((stamp + body).encode("utf-8")).hexdigest()
        for sid, body in text.iter_rows()  # one entry per subject
    }


def _json_rows(frame: pl.DataFrame) -> pl.Series:
    """Each row of ``frame`` as a JSON object (dates ISO, NaN/inf as null)."""
    if frame.height == 0:
        return pl.Series("data", [], dtype=pl.String)
    return frame.select(data=pl.struct(pl.all()).struct.json_encode()).get_column("data")


def _derived_frames(result: AssessResult) -> dict[str, pl.DataFrame]:
    a = result.assessments
    a = a.with_columns(seq=pl.int_range(pl.len()).over("subject_id").cast(pl.Int32), data=_json_rows(a))
    e = result.episodes
    e = e.with_columns(seq=pl.col("episode").cast(pl.Int32), data=_json_rows(e))
    return {
        "assessments": a.select("subject_id", "seq", "date", "data"),
        "episodes": e.select("subject_id", "seq", "data"),
    }


def _patient_rows(subjects: pl.DataFrame, summary: pl.DataFrame, hashes: dict[str, str],
                  versions: dict[str, int], as_of: dict[str, dt.date | None] | dt.date | None) -> list[dict]:
    s = summary.with_columns(_summary=_json_rows(summary)).select(
        "subject_id", "status", "status_date", "best_response", "confirmed_best_response", "next_followup_due",
        pl.col("_summary").alias("summary"),
    )
    rows = subjects.join(s, on="subject_id", how="left").to_dicts()
    now = utcnow()
    for r in rows:
        sid = r["subject_id"]
        r["as_of"] = as_of.get(sid) if isinstance(as_of, dict) else as_of
        r["input_hash"] = hashes.get(sid)
        r["version"] = versions.get(sid, 0) + 1
        r["updated_at"] = now
    return rows


def _delete_subjects(session: Session, ids: list[str]) -> None:
    for chunk in _chunks(ids, ID_CHUNK):
        for model in list(INPUT_MODELS.values()) + list(DERIVED_MODELS.values()):
            session.execute(delete(model).where(model.subject_id.in_(chunk)))
        session.execute(delete(Patient).where(Patient.subject_id.in_(chunk)))


def _write(session: Session, model, rows: list[dict], progress: ProgressHook | None, name: str) -> int:
    n = 0
    for chunk in _chunks(rows, BATCH):
        session.execute(insert(model), chunk)
        n += len(chunk)
        if progress is not None:
            session.flush()
            progress(name, n)
    return n


def _store(
    session: Session,
    ds: Dataset,
    result: AssessResult,
    ids: list[str],
    hashes: dict[str, str],
    as_of,
    progress: ProgressHook | None = None,
) -> int:
    """Replace the stored rows of ``ids`` by those of ``ds`` and ``result`` (caller's transaction)."""
    versions: dict[str, int] = {}
    for chunk in _chunks(ids, ID_CHUNK):
        versions.update(session.execute(select(Patient.subject_id, Patient.version).where(Patient.subject_id.in_(chunk))).all())
    _delete_subjects(session, ids)
    keep = pl.Series("subject_id", ids, dtype=pl.String).implode()
    frames = _input_frames(ds)
    derived = _derived_frames(result)
    subjects = frames["subjects"].filter(pl.col("subject_id").is_in(keep))
    n = _write(session, Patient, _patient_rows(subjects, result.summary, hashes, versions, as_of), progress, "patients")
    for name, model in INPUT_MODELS.items():
        n += _write(session, model, frames[name].filter(pl.col("subject_id").is_in(keep)).to_dicts(), progress, name)
    for name, model in DERIVED_MODELS.items():
        n += _write(session, model, derived[name].filter(pl.col("subject_id").is_in(keep)).to_dicts(), progress, name)
    return n


# --------------------------------------------------------------------------------------
# What the database columns can hold
# --------------------------------------------------------------------------------------


def storage_errors(frames: Mapping[str, pl.DataFrame], files: Mapping[str, str],
                   rows: Mapping[str, pl.Series]) -> list[InputError]:
    """Located errors for text the database columns cannot hold, checked before any insert
    so that SQLite and PostgreSQL refuse the same rows (PostgreSQL would fail on both,
    SQLite would store them silently): a value longer than its ``VARCHAR(n)`` column
    (``TOO_LONG``), and a NUL character in any text (``NUL_CHARACTER``; PostgreSQL text
    cannot hold one).  ``rows`` gives each frame's 1-based input row numbers."""
    errors: list[InputError] = []
    for name, frame in frames.items():
        if frame.height == 0:
            continue
        model = _model_for(name)
        cols = model.__table__.columns
        numbers = rows.get(name)
        idx = frame.with_row_index("__i")
        for c, dtype in frame.schema.items():
            if dtype != pl.String:
                continue
            limit = getattr(cols[c].type, "length", None) if c in cols else None
            checks = [(pl.col(c).str.contains("\x00", literal=True), "text without NUL characters", "NUL_CHARACTER")]
            if limit:
                checks.append((pl.col(c).str.len_chars() > limit, f"at most {limit} characters", "TOO_LONG"))
            for mask, expected, code in checks:
                for i, sid, value in idx.filter(mask.fill_null(False)).select(
                        "__i", pl.col("subject_id").alias("__sid"), pl.col(c).alias("__v")).iter_rows():
                    row = int(numbers[i]) if numbers is not None and i < len(numbers) else i + 1
                    shown = value.replace("\x00", "\\0")
                    shown = shown if len(shown) <= 80 else shown[:77] + "..."
                    errors.append(InputError(files.get(name, name), row, None if sid is None else sid[:64].replace("\x00", "\\0"),
                                             c, shown, expected, code))
    return errors


# --------------------------------------------------------------------------------------
# SDTM
# --------------------------------------------------------------------------------------


def sdtm_dataset(folder: str | Path, *, evaluator: str = "INVESTIGATOR", ignore_unknown_files: bool = False) -> Dataset:
    """Canonical tables from an SDTM folder (``dm``, ``rs``, ``tr``, ``tu``; see
    :mod:`remission.io.sdtm` for file names), validated like a canonical dataset.

    Mapping (choices; the issue does not fix one): ``subjects`` from DM (``USUBJID``,
    ``DTHDTC`` -> ``death_date`` when a full date); ``lesions`` from TR/TU with the mapping
    of :mod:`remission.adam.tr_to_lesions`; ``responses`` from RS ``OVRLRESP`` records of
    the same evaluator (date from ``RSDTC``, missing day imputed as for ADRS; evidence
    ``imaging``).  Treatments are not taken from EX (it has neither modality nor intent).
    Criteria: RECIST 1.1 (the default when ``criteria`` is empty).
    """
    from remission.adam.tr_to_lesions import tr_to_lesions
    from remission.io import from_frames
    from remission.io.sdtm import impute_dtc, read_sdtm

    from remission.io.sdtm import REQUIRED, require_columns

    sdtm = read_sdtm(folder, ignore_unknown_files=ignore_unknown_files, needed=("dm",))
    t = sdtm.tables
    errors: list[InputError] = []
    if "dm" not in t:
        raise InputErrors([InputError(str(folder), None, None, None, None, "an SDTM DM domain (dm.csv, dm.xpt, ...)", "missing")])
    for dom in ("dm", "rs"):  # columns read below (a missing one is located, not a traceback)
        if dom in t:
            errors += require_columns(t[dom], REQUIRED[dom], sdtm.file(dom))
    if errors:
        raise InputErrors(sdtm.locate(errors))
    dm = t["dm"]
    death = pl.col("DTHDTC").str.slice(0, 10) if "DTHDTC" in dm.columns else pl.lit(None, dtype=pl.String)
    subjects = dm.select(
        subject_id=pl.col("USUBJID"),
        death_date=pl.when(death.str.contains(r"^\d{4}-\d{2}-\d{2}$")).then(death),
    ).unique("subject_id", keep="first", maintain_order=True)
    lesions = None
    if "tr" in t:
        try:
            les, errs = tr_to_lesions(t["tr"], t.get("tu"), evaluator=evaluator, tr_file=sdtm.file("tr"), tu_file=sdtm.file("tu"))
        except InputErrors as exc:
            errs, les = list(exc.errors), None
        errors += errs
        if les is not None:
            lesions = les.select(list(S.LESIONS))
    responses = None
    if "rs" in t:
        rs = t["rs"].filter(pl.col("RSTESTCD") == "OVRLRESP")
        if "RSEVAL" in rs.columns and rs.filter(pl.col("RSEVAL") == evaluator).height:
            rs = rs.filter(pl.col("RSEVAL") == evaluator)
        if "RSACPTFL" in rs.columns and rs.filter(pl.col("RSACPTFL") == "Y").height:
            rs = rs.filter(pl.col("RSACPTFL").is_null() | (pl.col("RSACPTFL") == "Y"))
        date, _flag = impute_dtc(pl.col("RSDTC"), date_imputation="last", highest_imputation="D")
        responses = rs.select(
            subject_id=pl.col("USUBJID"), date=date, response=pl.col("RSSTRESC"), evidence=pl.lit("imaging")
        ).filter(pl.col("date").is_not_null() & pl.col("response").is_not_null())
    if errors:
        raise InputErrors(sdtm.locate(errors))
    ds, _ = from_frames(subjects=subjects, lesions=lesions, responses=responses)
    return ds


# --------------------------------------------------------------------------------------
# Import
# --------------------------------------------------------------------------------------


def import_dataset(
    sessions: sessionmaker,
    path: str | Path,
    *,
    sdtm: bool = False,
    options: AssessOptions | None = None,
    progress: ProgressHook | None = None,
    ignore_unknown_files: bool = False,
) -> ImportReport:
    """Import a dataset folder in one transaction (see the module docstring).

    Raises :class:`InputErrors` (nothing written) when the input has any error.
    ``ignore_unknown_files``: see :func:`remission.io.load_dataset`.
    ``progress(table, rows_written)`` is called inside the transaction after each batch
    (used by the crash tests and by the CLI's progress line).
    """
    if sdtm:
        ds = sdtm_dataset(path, ignore_unknown_files=ignore_unknown_files)
    else:
        ds = load_dataset(path, ignore_unknown_files=ignore_unknown_files)[0]
    errors = storage_errors(ds.tables, ds.files, ds.rows)
    if errors:
        raise InputErrors(errors)
    result = assess(ds, options or AssessOptions())
    frames = _input_frames(ds)
    hashes = _subject_hashes(frames, result.as_of)
    ids = ds.subject_ids
    report = ImportReport(subjects=len(ids), as_of=result.as_of)

    def once() -> None:
        with sessions() as session, session.begin():
            lock_import(session, ids)
            stored: dict[str, str | None] = {}
            for chunk in _chunks(ids, ID_CHUNK):
                stored.update(session.execute(select(Patient.subject_id, Patient.input_hash).where(Patient.subject_id.in_(chunk))).all())
            changed = [sid for sid in ids if stored.get(sid) != hashes.get(sid)]
            report.changed, report.unchanged, report.rows = changed, len(ids) - len(changed), 0
            if changed:
                report.rows = _store(session, ds, result, changed, hashes, result.as_of, progress)

    with_retry(once)
    _cache_clear(report.changed)
    return report


# --------------------------------------------------------------------------------------
# One patient: stored rows -> Dataset, results added, re-derivation
# --------------------------------------------------------------------------------------


def patient_dataset(session: Session, subject_id: str) -> Dataset | None:
    """The stored canonical rows of one patient as a typed :class:`Dataset`."""
    p = session.get(Patient, subject_id)
    if p is None:
        return None
    typed, _ = split_columns("subjects")
    tables: dict[str, Any] = {"subjects": _frame_from_rows("subjects", [tuple(getattr(p, c) for c in typed) + (p.extra,)])}
    for name, model in INPUT_MODELS.items():
        typed, _ = split_columns(name)
        rows = session.execute(
            select(*[getattr(model, c) for c in typed], model.extra).where(model.subject_id == subject_id).order_by(model.seq)
        ).all()
        tables[name] = _frame_from_rows(name, [tuple(r) for r in rows])
    files = {name: f"{name} (database)" for name in S.INPUT_TABLES}
    return Dataset(**tables, files=files)


def _latest(ds: Dataset) -> dt.date | None:
    from remission.pipeline import _latest_date

    return _latest_date(ds)


def _text_frame(rows: list[Mapping[str, Any]]) -> pl.DataFrame:
    """Posted JSON rows as a text frame (numbers and booleans as their text)."""

    def text(v):
        if v is None:
            return None
        if isinstance(v, bool):
            return "true" if v else "false"
        return str(v)

    cols: list[str] = []
    for r in rows:
        for c in r:
            if c not in cols:
                cols.append(c)
    data = {c: [text(r.get(c)) for r in rows] for c in cols}
    return pl.DataFrame(data, schema={c: pl.String for c in cols})


def _stored_text(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(pl.all().cast(pl.String))


def add_results(
    sessions: sessionmaker,
    subject_id: str,
    payload: Mapping[str, Any],
) -> dict[str, Any]:
    """Add rows for one patient and derive their whole history again, in one transaction.

    ``payload``: ``{"lesions": [row, ...], "labs": [...], "findings": [...],
    "treatments": [...], "responses": [...], "subject": {column: value}}`` where rows have
    the columns of the tables contract (``subject_id`` may be omitted; when given it must
    be this patient).  Raises :class:`InputErrors` (nothing written) on any problem; errors
    name ``<table> (request)`` and the 1-based position in the posted list.
    Returns counts of rows added and the new summary row.
    """
    unknown = sorted(set(payload) - set(RESULT_TABLES) - {"subject"})
    errors: list[InputError] = [
        InputError("request", None, subject_id, k, None, f"one of {', '.join(RESULT_TABLES)}, subject", "unknown_table")
        for k in unknown
    ]
    for name in RESULT_TABLES:
        rows = payload.get(name) or []
        if not isinstance(rows, list) or not all(isinstance(r, Mapping) for r in rows):
            errors.append(InputError(f"{name} (request)", None, subject_id, None, None, "a list of objects (rows)", "invalid"))
            continue
        for i, r in enumerate(rows, start=1):
            sid = r.get("subject_id")
            if sid is not None and str(sid) != subject_id:
                errors.append(InputError(f"{name} (request)", i, str(sid), "subject_id", str(sid), f"this patient ({subject_id})", "wrong_subject"))
            extra = sorted(set(r) - set(S.INPUT_TABLES[name]))
            for c in extra:
                errors.append(InputError(f"{name} (request)", i, subject_id, c, None, f"a column of {name}: {', '.join(S.INPUT_TABLES[name])}", "unknown_column"))
    subject_update = payload.get("subject") or {}
    if not isinstance(subject_update, Mapping):
        errors.append(InputError("subject (request)", None, subject_id, None, None, "an object of subjects columns", "invalid"))
        subject_update = {}
    subject_cols = list(S.SUBJECTS)[1:]
    for c in sorted(set(subject_update) - set(subject_cols)):
        errors.append(InputError("subject (request)", 1, subject_id, c, None, f"one of {', '.join(subject_cols)}", "unknown_column"))
    if not any(payload.get(n) for n in RESULT_TABLES) and not subject_update and not errors:
        errors.append(InputError("request", None, subject_id, None, None, "at least one row to add", "empty"))
    if errors:
        raise InputErrors(errors)

    # Optimistic first: read and derive without holding the write lock (deriving is the slow
    # part), then, under the patient's lock, apply only if nobody wrote the patient in
    # between (same version); after OPTIMISTIC_TRIES conflicts, do everything under the lock.
    for _ in range(OPTIMISTIC_TRIES):
        out = with_retry(lambda: _add_results_once(sessions, subject_id, payload, subject_update, locked=False))
        if out is not None:
            break
    else:
        out = with_retry(lambda: _add_results_once(sessions, subject_id, payload, subject_update, locked=True))
    _cache_clear([subject_id])
    return out


#: optimistic attempts of a write before it derives under the lock
OPTIMISTIC_TRIES = 2


@dataclass
class _Plan:
    """A write worked out from one version of a patient's stored rows."""

    version: int
    added: dict[str, int]
    new_rows: dict[str, pl.DataFrame]  # validated posted rows as stored (typed + extra), no seq
    subject_row: dict[str, Any] | None  # the updated subjects row as stored, when updated
    result: AssessResult
    as_of: dt.date | None
    input_hash: str | None


def _plan_results(session: Session, p: Patient, payload: Mapping[str, Any], subject_update: Mapping[str, Any]) -> _Plan:
    """Validate the posted rows together with the stored ones (posted rows first: errors
    name their position in the posted list) and derive the patient's history from the
    stored rows followed by the new ones (the order they will be stored in)."""
    subject_id = p.subject_id
    errors: list[InputError] = []
    stored = patient_dataset(session, subject_id)
    tables: dict[str, RawTable] = {}
    subj = _stored_text(stored.subjects)
    if subject_update:
        subj = subj.with_columns(
            [pl.lit(None if v is None else str(v), dtype=pl.String).alias(c) for c, v in subject_update.items()]
        )
    text, errs = frame_to_text(subj, "subject (request)")
    errors += errs
    tables["subjects"] = RawTable("subjects", "subject (request)", text)
    added: dict[str, int] = {}
    for name in RESULT_TABLES:
        new = payload.get(name) or []
        added[name] = len(new)
        old = _stored_text(stored.tables[name])
        frame = old
        if new:
            nf = _text_frame(new).with_columns(subject_id=pl.lit(subject_id))
            frame = pl.concat([nf, old], how="diagonal_relaxed")  # posted rows first: rows 1..n
        if frame.height == 0 and not new:
            continue
        file = f"{name} (request)"
        text, errs = frame_to_text(frame, file)
        errors += errs
        if text is not None:
            tables[name] = RawTable(name, file, text)
    if errors:
        raise InputErrors(errors)
    ds, errors = validate(RawDataset(tables, ()))
    if errors:
        raise InputErrors(errors)
    new_typed = {name: ds.tables[name].filter(ds.rows[name] <= added[name]) for name in RESULT_TABLES if added[name]}
    errors = storage_errors({"subjects": ds.subjects, **new_typed},
                            {"subjects": "subject (request)", **{n: f"{n} (request)" for n in new_typed}},
                            {"subjects": pl.Series([1]), **{n: ds.rows[n].filter(ds.rows[n] <= added[n]) for n in new_typed}})
    if errors:
        raise InputErrors(errors)
    # the history after the write: stored rows, then the new ones
    after = {name: pl.concat([stored.tables[name], new_typed[name]]) if name in new_typed else stored.tables[name]
             for name in RESULT_TABLES}
    ds_after = Dataset(subjects=ds.subjects if subject_update else stored.subjects, **after,
                       files={n: f"{n} (database)" for n in S.INPUT_TABLES})
    as_of = max([d for d in (p.as_of, _latest(ds_after)) if d is not None], default=None)
    result = assess(ds_after, AssessOptions(as_of=as_of))
    hashes = _subject_hashes(_input_frames(ds_after), as_of)
    return _Plan(
        version=p.version,
        added=added,
        new_rows={name: _with_extra(frame, name) for name, frame in new_typed.items()},
        subject_row=_with_extra(ds.subjects, "subjects").to_dicts()[0] if subject_update else None,
        result=result,
        as_of=as_of,
        input_hash=hashes.get(subject_id),
    )


def _apply_plan(session: Session, p: Patient, plan: _Plan) -> None:
    """Store a planned write (the caller holds the patient's lock and has checked that the
    patient is still at ``plan.version``): an append of the new rows, the derived rows
    replaced, the patient row updated."""
    sid = p.subject_id
    if plan.subject_row is not None:
        for c, v in plan.subject_row.items():
            if c != "subject_id":
                setattr(p, c, v)
    for name, frame in plan.new_rows.items():
        model = INPUT_MODELS[name]
        start = session.scalar(select(func.coalesce(func.max(model.seq), -1)).where(model.subject_id == sid)) + 1
        rows = frame.with_columns(seq=pl.int_range(start, start + frame.height, dtype=pl.Int32)).to_dicts()
        session.execute(insert(model), rows)
    _write_derived(session, p, plan.result, plan.as_of, plan.input_hash)


def _add_results_once(sessions: sessionmaker, subject_id: str, payload: Mapping[str, Any],
                      subject_update: Mapping[str, Any], *, locked: bool) -> dict[str, Any] | None:
    """One attempt of :func:`add_results`; ``None`` when (optimistic) the patient changed
    between planning and applying."""
    if locked:
        with sessions() as session, session.begin():
            p = lock_patient(session, subject_id)
            if p is None:
                raise LookupError(subject_id)
            plan = _plan_results(session, p, payload, subject_update)
            _apply_plan(session, p, plan)
    else:
        with sessions() as session:
            p = session.get(Patient, subject_id)
            if p is None:
                raise LookupError(subject_id)
            plan = _plan_results(session, p, payload, subject_update)
        with sessions() as session, session.begin():
            p = lock_patient(session, subject_id)
            if p is None:
                raise LookupError(subject_id)
            if p.version != plan.version:
                return None  # written meanwhile: plan again from what is stored now
            _apply_plan(session, p, plan)
    summary = plan.result.summary.filter(pl.col("subject_id") == subject_id)
    return {"subject_id": subject_id, "added": plan.added,
            "summary": orjson.loads(_json_rows(summary)[0]) if summary.height else None}


def _write_derived(session: Session, p: Patient, result: AssessResult, as_of: dt.date | None, input_hash: str | None) -> None:
    sid = p.subject_id
    for model in DERIVED_MODELS.values():
        session.execute(delete(model).where(model.subject_id == sid))
    derived = _derived_frames(result)
    for name, model in DERIVED_MODELS.items():
        rows = derived[name].filter(pl.col("subject_id") == sid).to_dicts()
        if rows:
            session.execute(insert(model), rows)
    summary = result.summary.filter(pl.col("subject_id") == sid)
    for c in ("status", "status_date", "best_response", "confirmed_best_response", "next_followup_due"):
        setattr(p, c, summary.item(0, c) if summary.height else None)
    p.summary = _json_rows(summary)[0] if summary.height else None
    p.as_of = as_of
    p.input_hash = input_hash
    p.version = (p.version or 0) + 1
    p.updated_at = utcnow()
    session.flush()


def _rederive_locked(session: Session, p: Patient) -> AssessResult:
    """Derive the patient's tables again from what is stored (the caller holds the patient's
    lock, :func:`lock_patient`): ``as_of`` is the later of the stored one and the latest date
    of the stored rows; the derived rows are replaced, the patient row updated."""
    sid = p.subject_id
    ds = patient_dataset(session, sid)
    as_of = max([d for d in (p.as_of, _latest(ds)) if d is not None], default=None)
    result = assess(ds, AssessOptions(as_of=as_of))
    _write_derived(session, p, result, as_of, _subject_hashes(_input_frames(ds), as_of).get(sid))
    return result


def rederive(sessions: sessionmaker, subject_id: str) -> None:
    """Derive one patient's tables again from their stored rows (same ``as_of`` rule)."""

    def once():
        with sessions() as session, session.begin():
            p = lock_patient(session, subject_id)
            if p is None:
                raise LookupError(subject_id)
            _rederive_locked(session, p)

    with_retry(once)
    _cache_clear([subject_id])


# --------------------------------------------------------------------------------------
# Full results of one patient, cached per version
# --------------------------------------------------------------------------------------

_CACHE: "OrderedDict[tuple[str, str, int], AssessResult]" = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 256


def _cache_clear(ids: Iterable[str]) -> None:
    ids = set(ids)
    with _CACHE_LOCK:
        for key in [k for k in _CACHE if k[1] in ids]:
            del _CACHE[key]


def patient_result(session: Session, subject_id: str) -> AssessResult | None:
    """The patient's :class:`AssessResult` (the same ``as_of`` as their stored tables)."""
    p = session.get(Patient, subject_id)
    if p is None:
        return None
    url = str(session.get_bind().url)
    key = (url, subject_id, p.version)
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
    ds = patient_dataset(session, subject_id)
    result = assess(ds, AssessOptions(as_of=p.as_of))
    with _CACHE_LOCK:
        _CACHE[key] = result
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return result


def loads(data: str | None) -> Any:
    return None if data is None else orjson.loads(data)


__all__ = [
    "ImportReport",
    "import_dataset",
    "sdtm_dataset",
    "add_results",
    "rederive",
    "patient_dataset",
    "patient_result",
    "RESULT_TABLES",
]

