"""Benchmark of ``remission adam``'s derivations: N synthetic subjects x 8 visits.

Generates (deterministically, no randomness) an ADSL and an RS domain with 8 investigator
OVRLRESP records per subject every 6 weeks, then times ``derive_adrs`` + ``derive_adtte``
(reading and writing excluded) and prints subjects per second.  With ``--write DIR`` it
also times ``adam()`` as the CLI runs it: ADRS derived slice by slice and appended to
``DIR/adrs.parquet`` (``keep_adrs=False``), then ADTTE.

    PYTHONPATH=src python benchmarks/bench_adam.py --subjects 100000
    PYTHONPATH=src python benchmarks/bench_adam.py --subjects 100000 --write /tmp/adam_out
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import polars as pl

from remission.adam import adam, derive_adrs, derive_adtte
from remission.adam.adrs import prepare_adsl
from remission.io.sdtm import ROW

VISITS = 8


def synthetic(n: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(adsl, rs) as text frames; responses follow a fixed per-subject pattern."""
    subj = pl.int_range(0, n, eager=True).alias("i")
    adsl = pl.DataFrame(subj).select(
        pl.lit("BENCH").alias("STUDYID"),
        pl.format("S-{}", pl.col("i")).alias("USUBJID"),
        (pl.lit(dt.date(2020, 1, 1)) + pl.duration(days=pl.col("i") % 365)).dt.strftime("%Y-%m-%d").alias("RANDDT"),
        pl.when(pl.col("i") % 17 == 0)
        .then((pl.lit(dt.date(2020, 1, 1)) + pl.duration(days=pl.col("i") % 365 + 300)).dt.strftime("%Y-%m-%d"))
        .alias("DTHDT"),
        (pl.lit(dt.date(2020, 1, 1)) + pl.duration(days=pl.col("i") % 365 + 400)).dt.strftime("%Y-%m-%d").alias("LSTALVDT"),
    )
    table = {0: "SD", 1: "PR", 2: "CR", 3: "PR", 4: "NE", 5: "SD"}
    rs = (
        pl.DataFrame(subj)
        .join(pl.DataFrame(pl.int_range(1, VISITS + 1, eager=True).alias("v")), how="cross")
        .with_columns(
            # a fixed mix of CR/PR/SD/NE, and PD from visit 6 for one subject in 4
            code=pl.when((pl.col("i") % 4 == 0) & (pl.col("v") >= 6))
            .then(pl.lit("PD"))
            .otherwise(((pl.col("i") * 7 + pl.col("v") * 3 + pl.col("i") // 5) % 6).replace_strict(table, return_dtype=pl.String))
        )
    )
    rs = rs.select(
        pl.lit("BENCH").alias("STUDYID"),
        pl.format("S-{}", pl.col("i")).alias("USUBJID"),
        pl.lit("OVRLRESP").alias("RSTESTCD"),
        pl.lit("INVESTIGATOR").alias("RSEVAL"),
        pl.col("v").cast(pl.String).alias("VISITNUM"),
        pl.format("WEEK {}", pl.col("v") * 6).alias("VISIT"),
        (pl.lit(dt.date(2020, 1, 1)) + pl.duration(days=pl.col("i") % 365 + pl.col("v") * 42))
        .dt.strftime("%Y-%m-%d")
        .alias("RSDTC"),
        pl.col("code").alias("RSSTRESC"),
        pl.col("v").cast(pl.String).alias("RSSEQ"),
    )
    return adsl, rs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subjects", type=int, default=100_000)
    ap.add_argument("--write", default=None, help="also time adam() writing Parquet into this folder")
    args = ap.parse_args()
    adsl, rs = synthetic(args.subjects)
    t0 = time.perf_counter()
    adrs = derive_adrs({"rs": rs}, adsl)
    t1 = time.perf_counter()
    adsl_t = prepare_adsl(adsl.with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64)), "adsl", "RANDDT")
    adtte = derive_adtte(adsl_t, adrs)
    t2 = time.perf_counter()
    n = args.subjects
    print(f"subjects={n} visits={VISITS} rs_records={rs.height} adrs_rows={adrs.height} adtte_rows={adtte.height}")
    print(f"derive_adrs {t1 - t0:.2f} s, derive_adtte {t2 - t1:.2f} s, total {t2 - t0:.2f} s")
    print(f"{n / (t2 - t0):,.0f} subjects/second")
    if args.write:
        t3 = time.perf_counter()
        res = adam({"rs": rs, "adsl": adsl}, args.write, fmt="parquet", keep_adrs=False)
        t4 = time.perf_counter()
        print(f"adam() streaming Parquet: {res.adrs_records} ADRS records in {t4 - t3:.2f} s ({n / (t4 - t3):,.0f} subjects/second)")


if __name__ == "__main__":
    main()
