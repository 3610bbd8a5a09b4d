"""Deterministic synthetic datasets of N subjects, for benchmarks and scale tests.

Canonical tables (``subjects``, ``lesions``, ``treatments``, ``responses``) for
``remission assess`` and the same subjects as CDISC SDTM RS + ADSL for ``remission adam``.

Per subject (all drawn from a seeded NumPy generator, so the same N and seed give the
same data; subjects are generated in chunks of 100,000 with seeds derived from the seed
and the chunk number):

* a cancer type (NSCLC, breast, colorectal, melanoma: RECIST 1.1 by default);
* 5 to 11 assessments (mean about 8): a baseline 7 days before the first treatment, then
  every 8 weeks with a few days of jitter;
* 1 to 4 target lesions (the first one a lymph node in one subject in five, with a short
  axis >= 15 mm at baseline) and 0 to 2 non-target lesions: about 4 lesions per subject;
* a response path from a realistic mix: complete response (12 %), partial response (30 %),
  stable disease (25 %), primary progression (15 %), response then regrowth (13 %), and
  a 5 % with missing measurements (a target not evaluated at one visit, NE);
* non-target lesions absent in complete responders, unequivocally progressing in one
  progressor in four, a new lesion in 40 % of progressors;
* a first line (chemotherapy, immunotherapy or targeted therapy); a second line for half
  of the progressors after progression; maintenance after the first line for a third of
  the responders;
* deaths: 35 % of progressors, 5 % of the others, 20 to 200 days after the last scan;
* 4 % of subjects have no lesion data but stated responses (the ``responses`` table).

The SDTM copy (``sdtm/rs.parquet``, ``sdtm/adsl.parquet``, all columns text as SDTM
values are; the same tables as CSV in ``sdtm_csv/``, kept apart because a folder holding
``rs.parquet`` and ``rs.csv`` is a duplicate domain for ``remission adam``) holds one investigator ``OVRLRESP``
record per post-baseline scan of every subject, with a response computed by the
generator from its own size factors (CR at 0, PR at -30 % from baseline, PD at +20 % from
the nadir or a new lesion / progressing non-target, NE when a target is missing), so that
the ``adam`` route sees the same mix of paths.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

MAX_VISITS = 11
STEP_DAYS = 56
CHUNK = 100_000
TARGET_SLOTS = 4
NT_SLOTS = 2
PATHS = ("CR", "PR", "SD", "PD", "REGROW", "NE")
PATH_P = (0.12, 0.30, 0.25, 0.15, 0.13, 0.05)
EPOCH = np.datetime64("2016-01-01")
ORGANS = ("liver", "lung", "adrenal", "bone", "brain", "skin", "kidney", "peritoneum")


def _ids(start: int, n: int) -> pl.Series:
    """``S0000000``, ``S0000001``, ... (sorted as text in numeric order)."""
    num = pl.Series("i", np.arange(start, start + n)).cast(pl.String).str.zfill(7)
    return pl.select(pl.concat_str(pl.lit("S"), num)).to_series().alias("subject_id")


def _factors(rng: np.random.Generator, path: np.ndarray, n: int) -> np.ndarray:
    """Size factor per subject and visit (1 at baseline) for each response path."""
    v = np.arange(MAX_VISITS)[None, :].astype(float)
    depth = rng.uniform(0.35, 0.75, n)[:, None]  # PR depth
    speed = rng.uniform(1.0, 3.0, n)[:, None]  # visits to reach it
    f = np.ones((n, MAX_VISITS))
    shrink = 1 - depth * np.minimum(v / speed, 1)
    f = np.where((path == 1)[:, None], shrink, f)  # PR
    f = np.where((path == 0)[:, None], np.clip(1 - v / speed * 0.7, 0, None), f)  # CR
    f = np.where((path == 2)[:, None], 1 + 0.08 * np.sin(v + rng.uniform(0, 6, n)[:, None]), f)  # SD
    f = np.where((path == 3)[:, None], 1 + rng.uniform(0.12, 0.3, n)[:, None] * v, f)  # PD
    turn = rng.integers(3, 6, n)[:, None]
    regrow = np.where(v < turn, shrink, (1 - depth) * (1 + 0.35 * (v - turn + 1)))
    f = np.where((path == 4)[:, None], regrow, f)
    f = np.where((path == 5)[:, None], shrink, f)  # NE path: responds, one scan incomplete
    f[:, 0] = 1.0
    return f


def _chunk(start: int, n: int, seed: int) -> dict[str, pl.DataFrame]:
    rng = np.random.default_rng([seed, start])
    sid = _ids(start, n)
    first_tx = EPOCH + rng.integers(0, 365 * 6, n).astype("timedelta64[D]")
    path = rng.choice(len(PATHS), size=n, p=PATH_P)
    n_visits = np.clip(np.round(rng.normal(8, 1.6, n)), 5, MAX_VISITS).astype(np.int64)
    n_t = rng.choice([1, 2, 3, 4], size=n, p=[0.1, 0.3, 0.4, 0.2])
    n_nt = rng.choice([0, 1, 2], size=n, p=[0.2, 0.5, 0.3])
    stated_only = rng.random(n) < 0.04
    nodal_first = rng.random(n) < 0.2
    f = _factors(rng, path, n)
    visit = np.arange(MAX_VISITS)
    jitter = rng.integers(-3, 4, (n, MAX_VISITS))
    jitter[:, 0] = 0
    day = -7 + visit[None, :] * STEP_DAYS + jitter  # days from the first treatment
    vmask = visit[None, :] < n_visits[:, None]
    last_day = day[np.arange(n), n_visits - 1]

    # --- target and non-target lesions: grid subject x visit x slot, then masked -----------
    slots = TARGET_SLOTS + NT_SLOTS
    base = rng.uniform(12, 55, (n, TARGET_SLOTS))
    base[:, 0] = np.where(nodal_first, rng.uniform(15, 30, n), base[:, 0])
    noise = rng.normal(1, 0.04, (n, MAX_VISITS, TARGET_SLOTS))
    diam = np.round(base[:, None, :] * f[:, :, None] * noise, 0)
    # a node in response shrinks under 10 mm (its short axis never reaches 0)
    node = np.where(f < 0.6, np.minimum(diam[:, :, 0], rng.integers(4, 10, (n, MAX_VISITS))), diam[:, :, 0])
    diam[:, :, 0] = np.where(nodal_first[:, None], node, diam[:, :, 0])
    diam = np.clip(diam, 0, None)
    diam[:, 0, 0] = np.where(nodal_first, np.maximum(diam[:, 0, 0], 15), diam[:, 0, 0])
    # NE path: one target not evaluated at one follow-up visit
    ne_visit = rng.integers(1, 5, n)
    ne_mask = np.zeros((n, MAX_VISITS, TARGET_SLOTS), dtype=bool)
    ne_mask[np.arange(n), ne_visit, 0] = path == 5
    prog_nt = (path >= 3) & (path <= 4) & (rng.random(n) < 0.25)
    nt_status = np.where(f < 0.05, 1, 0)  # 0 present, 1 absent, 2 progression
    nt_status = np.where(prog_nt[:, None] & (f >= 1.15), 2, nt_status)

    slot = np.arange(slots)
    active_slot = np.where(slot[None, :] < TARGET_SLOTS, slot[None, :] < n_t[:, None],
                           (slot[None, :] - TARGET_SLOTS) < n_nt[:, None])
    grid = vmask[:, :, None] & active_slot[:, None, :] & ~stated_only[:, None, None]
    si, vi, li = np.nonzero(grid)
    is_target = li < TARGET_SLOTS
    d_all = np.full(si.shape, np.nan)
    d_all[is_target] = diam[si[is_target], vi[is_target], li[is_target]]
    ne_row = np.zeros(si.shape, dtype=bool)
    ne_row[is_target] = ne_mask[si[is_target], vi[is_target], li[is_target]]
    d_all[ne_row] = np.nan
    status_code = np.where(is_target, np.where(ne_row, 3, -1), nt_status[si, vi])  # 3 not_evaluated
    organ_code = (li + si) % len(ORGANS)
    nodal = is_target & (li == 0) & nodal_first[si]
    lesion_names = np.array(["T1", "T2", "T3", "T4", "N1", "N2"])
    status_names = np.array(["present", "absent", "progression", "not_evaluated", ""])
    lesions = pl.DataFrame(
        {
            "subject_id": sid.gather(si),
            "date": (first_tx[si] + day[si, vi].astype("timedelta64[D]")).astype("datetime64[D]"),
            "lesion_id": lesion_names[li],
            "role": np.where(is_target, "target", "non_target"),
            "organ": np.where(nodal, "lymph_node", np.array(ORGANS)[organ_code]),
            "nodal": nodal,
            "diameter_mm": d_all,
            "status": status_names[status_code],
            "method": "CT",
        }
    ).with_columns(
        pl.col("date").cast(pl.Date),
        pl.col("diameter_mm").fill_nan(None),
        pl.when(pl.col("status") != "").then(pl.col("status")).alias("status"),
    )

    # --- new lesions: 40 % of progressors, at the first visit with f >= 1.2 (or the last) ---
    progressor = (path == 3) | (path == 4)
    grow = np.where(vmask & (f >= 1.2), visit[None, :], MAX_VISITS)
    nl_visit = np.minimum(grow.min(axis=1), n_visits - 1)
    has_new = progressor & ~stated_only & (rng.random(n) < 0.4) & (nl_visit >= 1)
    nidx = np.nonzero(has_new)[0]
    new_rows = pl.DataFrame(
        {
            "subject_id": sid.gather(nidx),
            "date": (first_tx[nidx] + day[nidx, nl_visit[nidx]].astype("timedelta64[D]")).astype("datetime64[D]"),
            "lesion_id": "NEW1",
            "role": "new",
            "organ": np.array(ORGANS)[(nidx + 3) % len(ORGANS)],
            "nodal": False,
            "diameter_mm": np.round(rng.uniform(10, 25, nidx.size), 0),
            "status": "present",
            "method": "CT",
        }
    ).with_columns(pl.col("date").cast(pl.Date))
    lesions = pl.concat([lesions, new_rows], how="vertical_relaxed").sort("subject_id", "date", "lesion_id")

    # --- treatments ------------------------------------------------------------------------
    modality = np.array(["chemotherapy", "immunotherapy", "targeted"])[rng.integers(0, 3, n)]
    line1_end = first_tx + rng.integers(84, 200, n).astype("timedelta64[D]")
    pd_visit = np.where(vmask & (f >= 1.2) & (visit[None, :] >= 1), visit[None, :], MAX_VISITS).min(axis=1)
    pd_visit = np.where(has_new, np.minimum(pd_visit, nl_visit), pd_visit)
    second = progressor & (pd_visit < n_visits - 1) & (rng.random(n) < 0.5)
    pd_day = day[np.arange(n), np.minimum(pd_visit, MAX_VISITS - 1)]
    line1_end = np.where(second, np.minimum(line1_end, first_tx + (pd_day + 1).astype("timedelta64[D]")), line1_end)
    responder = (path <= 1) | (path == 5)
    maint = responder & (rng.random(n) < 0.33)
    t1 = pl.DataFrame({"subject_id": sid, "start_date": first_tx, "end_date": line1_end,
                       "modality": modality, "intent": "induction"})
    i2 = np.nonzero(second)[0]
    t2 = pl.DataFrame({
        "subject_id": sid.gather(i2),
        "start_date": first_tx[i2] + (pd_day[i2] + 10).astype("timedelta64[D]"),
        "end_date": first_tx[i2] + (pd_day[i2] + 130).astype("timedelta64[D]"),
        "modality": "chemotherapy", "intent": "salvage",
    })
    im = np.nonzero(maint)[0]
    tm = pl.DataFrame({
        "subject_id": sid.gather(im),
        "start_date": line1_end[im] + np.timedelta64(14, "D"),
        "end_date": np.full(im.size, np.datetime64("NaT"), dtype="datetime64[D]"),
        "modality": "maintenance", "intent": "maintenance",
    })
    treatments = (
        pl.concat([t.with_columns(pl.col("start_date", "end_date").cast(pl.Date)) for t in (t1, t2, tm)], how="vertical_relaxed")
        .sort("subject_id", "start_date")
    )

    # --- subjects: deaths and last contact ---------------------------------------------------
    dies = np.where(progressor, rng.random(n) < 0.35, rng.random(n) < 0.05)
    last_scan = first_tx + last_day.astype("timedelta64[D]")
    tx_end = np.where(second, first_tx + (pd_day + 130).astype("timedelta64[D]"), line1_end)
    last_known = np.maximum(last_scan, tx_end)
    death = np.where(dies, last_known + rng.integers(20, 200, n).astype("timedelta64[D]"), np.datetime64("NaT"))
    contact = np.where(dies, death, last_known + rng.integers(0, 60, n).astype("timedelta64[D]"))
    cancer = np.array(["nsclc", "breast", "colorectal", "melanoma"])[rng.integers(0, 4, n)]
    subjects = pl.DataFrame({
        "subject_id": sid,
        "cancer_type": cancer,
        "diagnosis_date": first_tx - rng.integers(14, 90, n).astype("timedelta64[D]"),
        "death_date": death.astype("datetime64[D]"),
        "last_contact_date": contact.astype("datetime64[D]"),
    }).with_columns(pl.col("diagnosis_date", "death_date", "last_contact_date").cast(pl.Date))

    # --- a response code per follow-up scan (stated responses, SDTM RS) ----------------------
    mean_t = f  # size of the target sum relative to baseline
    nadir = np.minimum.accumulate(np.where(vmask, mean_t, np.inf), axis=1)
    prev_nadir = np.concatenate([np.ones((n, 1)), nadir[:, :-1]], axis=1)
    code = np.where(mean_t <= 0.05, 0, np.where(mean_t <= 0.7, 1, 2))  # CR PR SD
    pd = (mean_t >= prev_nadir * 1.2) | (prog_nt[:, None] & (f >= 1.15))
    pd |= has_new[:, None] & (visit[None, :] >= nl_visit[:, None])
    code = np.where(pd, 3, code)
    code = np.where(ne_mask[:, :, 0], 4, code)
    codes = np.array(["CR", "PR", "SD", "PD", "NE"])
    ri, rv = np.nonzero(vmask & (visit[None, :] >= 1))
    resp = pl.DataFrame({
        "subject_id": sid.gather(ri),
        "date": (first_tx[ri] + day[ri, rv].astype("timedelta64[D]")).astype("datetime64[D]"),
        "visit": rv,
        "response": codes[code[ri, rv]],
    }).with_columns(pl.col("date").cast(pl.Date))
    so_ids = sid.filter(pl.Series(stated_only))
    responses = (
        resp.filter(pl.col("subject_id").is_in(so_ids.implode()))
        .select("subject_id", "date", "response", evidence=pl.lit("imaging"))
    )
    rs = resp.select(
        STUDYID=pl.lit("SYNTH"),
        DOMAIN=pl.lit("RS"),
        USUBJID=pl.col("subject_id"),
        RSSEQ=pl.col("visit").cast(pl.String),
        RSTESTCD=pl.lit("OVRLRESP"),
        RSTEST=pl.lit("Overall Response"),
        RSCAT=pl.lit("RECIST 1.1"),
        RSORRES=pl.col("response"),
        RSSTRESC=pl.col("response"),
        RSEVAL=pl.lit("INVESTIGATOR"),
        VISITNUM=pl.col("visit").cast(pl.String),
        VISIT=pl.format("WEEK {}", pl.col("visit") * 8),
        RSDTC=pl.col("date").dt.strftime("%Y-%m-%d"),
    )
    adsl = subjects.select(
        STUDYID=pl.lit("SYNTH"),
        USUBJID=pl.col("subject_id"),
        RANDDT=pl.Series(first_tx.astype("datetime64[D]")).cast(pl.Date).dt.strftime("%Y-%m-%d"),
        TRTSDT=pl.Series(first_tx.astype("datetime64[D]")).cast(pl.Date).dt.strftime("%Y-%m-%d"),
        DTHDT=pl.col("death_date").dt.strftime("%Y-%m-%d"),
        LSTALVDT=pl.col("last_contact_date").dt.strftime("%Y-%m-%d"),
    )
    return {"subjects": subjects, "lesions": lesions, "treatments": treatments, "responses": responses,
            "rs": rs, "adsl": adsl}


def generate(n: int, seed: int = 20261121) -> dict[str, pl.DataFrame]:
    """The tables of N subjects: ``subjects, lesions, treatments, responses`` (canonical)
    and ``rs, adsl`` (SDTM text)."""
    parts = [_chunk(s, min(CHUNK, n - s), seed) for s in range(0, n, CHUNK)]
    return {name: pl.concat([p[name] for p in parts], how="vertical_relaxed") for name in parts[0]}


CANONICAL = ("subjects", "lesions", "treatments", "responses")


def write(n: int, folder: str | Path, fmt: str = "parquet", seed: int = 20261121, sdtm: bool = True) -> Path:
    """Write the canonical tables to ``folder`` (Parquet or CSV) and, with ``sdtm``, the
    SDTM copy: ``folder/sdtm`` as Parquet (text columns; what ``remission adam`` reads
    fastest) and ``folder/sdtm_csv`` as CSV (the same values).  Chunks are generated and
    written one table at a time to keep memory low."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tables = generate(n, seed)
    for name in CANONICAL:
        frame = tables.pop(name)
        if fmt == "parquet":
            frame.write_parquet(folder / f"{name}.parquet")
        else:
            frame.write_csv(folder / f"{name}.csv")
    if sdtm:
        (folder / "sdtm").mkdir(exist_ok=True)
        (folder / "sdtm_csv").mkdir(exist_ok=True)
        for name in ("rs", "adsl"):
            tables[name].write_parquet(folder / "sdtm" / f"{name}.parquet")
            tables[name].write_csv(folder / "sdtm_csv" / f"{name}.csv")
    return folder


if __name__ == "__main__":  # pragma: no cover
    import sys

    write(int(sys.argv[1]), sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "parquet")
    print(dt.datetime.now(), "written")
