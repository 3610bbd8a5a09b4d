"""Deterministic synthetic canonical datasets of N subjects, for benchmarks.

Each subject: 3 target lesions (one nodal) and 1 non-target lesion measured at a baseline
and 7 follow-ups every 8 weeks (8 assessments, 4 lesions: 32 lesion rows); one line of
chemotherapy; a response path drawn from a realistic mix (shrinking to PR or CR, stable,
progressing, response then regrowth); about 10 % die, some get a new lesion.
Numbers come from a seeded NumPy generator, so the same N and seed give the same data.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

VISITS = 8
STEP_DAYS = 56


def generate(n: int, seed: int = 20261121) -> dict[str, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = np.char.add("S", np.char.zfill(np.arange(n).astype(str), 7))
    start = np.datetime64("2018-01-01") + rng.integers(0, 365 * 4, n).astype("timedelta64[D]")
    # path: 0 CR, 1 PR, 2 SD, 3 PD, 4 PR then regrowth
    path = rng.choice(5, size=n, p=[0.12, 0.33, 0.25, 0.15, 0.15])
    base = np.stack([rng.uniform(15, 60, n), rng.uniform(15, 45, n), rng.uniform(15, 30, n)], axis=1)
    visit = np.arange(VISITS)
    # multiplicative factor per subject and visit
    f = np.ones((n, VISITS))
    t = visit / (VISITS - 1)
    f[path == 0] = np.clip(1 - 1.6 * t, 0, None)
    f[path == 1] = 1 - 0.55 * np.minimum(t * 2.5, 1)
    f[path == 2] = 1 + 0.05 * np.sin(visit)
    f[path == 3] = 1 + 0.35 * t * 2
    regrow = (1 - 0.5 * np.minimum(t * 3, 1)) + np.where(t > 0.6, (t - 0.6) * 2.5, 0)
    f[path == 4] = regrow
    f[:, 0] = 1.0
    noise = rng.normal(1, 0.03, (n, VISITS, 3))
    diam = np.round(base[:, None, :] * f[:, :, None] * noise, 0)
    diam[:, :, 2] = np.where(f[:, :, None][:, :, 0] < 0.5, np.minimum(diam[:, :, 2], 8), diam[:, :, 2])  # node
    diam = np.clip(diam, 0, None)
    diam[:, 0, 2] = np.maximum(diam[:, 0, 2], 15)  # nodal target >= 15 mm at baseline
    dates = start[:, None] - np.timedelta64(7, "D") + (visit * STEP_DAYS).astype("timedelta64[D]")[None, :]

    sid = np.repeat(ids, VISITS * 4)
    d = np.repeat(dates.reshape(-1), 4)
    lesion = np.tile(np.array(["T1", "T2", "T3", "N1"]), n * VISITS)
    role = np.tile(np.array(["target", "target", "target", "non_target"]), n * VISITS)
    organ = np.tile(np.array(["liver", "lung", "lymph_node", "bone"]), n * VISITS)
    nodal = np.tile(np.array([False, False, True, False]), n * VISITS)
    dm = np.concatenate([diam, np.full((n, VISITS, 1), np.nan)], axis=2).reshape(-1)
    cr_at = (f < 0.05).reshape(-1)
    nt_status = np.where(np.repeat(cr_at, 1), "absent", "present")
    status = np.where(role == "non_target", np.repeat(nt_status, 4), "")
    lesions = pl.DataFrame(
        {
            "subject_id": sid,
            "date": d.astype("datetime64[D]"),
            "lesion_id": lesion,
            "role": role,
            "organ": organ,
            "nodal": nodal,
            "diameter_mm": dm,
            "status": status,
            "method": "CT",
        }
    ).with_columns(
        pl.col("diameter_mm").fill_nan(None),
        pl.col("date").cast(pl.Date),
        pl.when(pl.col("status") != "").then(pl.col("status")).alias("status"),
    )
    # a new lesion at the last visit for PD paths half of the time
    newl = np.where((path == 3) & (rng.random(n) < 0.5))[0]
    new_rows = pl.DataFrame(
        {
            "subject_id": ids[newl],
            "date": dates[newl, -1].astype("datetime64[D]"),
            "lesion_id": "NEW1",
            "role": "new",
            "organ": "liver",
            "nodal": False,
            "diameter_mm": 12.0,
            "status": "present",
            "method": "CT",
        }
    ).with_columns(pl.col("date").cast(pl.Date))
    lesions = pl.concat([lesions, new_rows], how="vertical_relaxed")
    end = start + np.timedelta64(126, "D")
    dead = rng.random(n) < 0.1
    death = np.where(dead, dates[:, -1] + np.timedelta64(30, "D"), np.datetime64("NaT"))
    subjects = pl.DataFrame(
        {
            "subject_id": ids,
            "cancer_type": rng.choice(["nsclc", "breast", "colorectal", "melanoma"], n),
            "diagnosis_date": (start - np.timedelta64(30, "D")).astype("datetime64[D]"),
            "death_date": death.astype("datetime64[D]"),
            "last_contact_date": (dates[:, -1] + np.timedelta64(20, "D")).astype("datetime64[D]"),
        }
    ).with_columns(pl.col("diagnosis_date", "death_date", "last_contact_date").cast(pl.Date))
    treatments = pl.DataFrame(
        {
            "subject_id": ids,
            "start_date": start.astype("datetime64[D]"),
            "end_date": end.astype("datetime64[D]"),
            "modality": "chemotherapy",
            "intent": "induction",
        }
    ).with_columns(pl.col("start_date", "end_date").cast(pl.Date))
    return {"subjects": subjects, "lesions": lesions, "treatments": treatments}


def write(n: int, folder: str | Path, fmt: str = "parquet", seed: int = 20261121) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in generate(n, seed).items():
        if fmt == "parquet":
            frame.write_parquet(folder / f"{name}.parquet")
        else:
            frame.write_csv(folder / f"{name}.csv")
    return folder


if __name__ == "__main__":  # pragma: no cover
    import sys

    write(int(sys.argv[1]), sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "parquet")
    print(dt.datetime.now(), "written")
