"""Time ``remission assess`` end to end on synthetic data and print subjects per second.

Usage: python benchmarks/bench_assess.py [N ...]   (default: 1000 10000 100000)

For each N: generate (not timed), then time read+validate+assess+write Parquet, several
runs, and print the median, subjects per second and the peak resident memory of the
process so far.  Also times a floor: one polars scan of the lesions file computing
per-visit sums and running minima per subject.
"""

from __future__ import annotations

import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synthetic  # noqa: E402

from remission.pipeline import assess  # noqa: E402


def floor(path: Path) -> None:
    (
        pl.scan_parquet(path / "lesions.parquet")
        .filter(pl.col("role") == "target")
        .group_by("subject_id", "date")
        .agg(pl.col("diameter_mm").sum())
        .sort("subject_id", "date")
        .with_columns(nadir=pl.col("diameter_mm").cum_min().over("subject_id"))
        .collect()
    )


def main(ns: list[int], runs: int = 3) -> None:
    print(f"{'N':>9} {'median s':>9} {'subjects/s':>11} {'floor s':>8} {'ratio':>6} {'peak RSS MiB':>12}")
    for n in ns:
        with tempfile.TemporaryDirectory() as tmp:
            data = synthetic.write(n, Path(tmp) / "data")
            times, floors = [], []
            for r in range(runs):
                t0 = time.perf_counter()
                result = assess(data)
                result.write(Path(tmp) / f"out{r}", fmt="parquet")
                times.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                floor(data)
                floors.append(time.perf_counter() - t0)
            med, fl = statistics.median(times), statistics.median(floors)
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"{n:>9} {med:>9.2f} {n / med:>11.0f} {fl:>8.3f} {med / fl:>6.0f} {rss:>12.0f}")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]] or [1000, 10000, 100000]
    main(args)
