"""Time ``remission assess`` and ``remission adam`` end to end on synthetic data.

Usage::

    python benchmarks/bench_assess.py                       # N = 10^4, 10^5, 10^6
    python benchmarks/bench_assess.py --sizes 10000 100000 --runs 5
    python benchmarks/bench_assess.py --sizes 1000000 --runs 1 --keep /data/bench

For each N the data are generated first (:mod:`synthetic`, not timed: Parquet canonical
tables for ``assess``, SDTM RS + ADSL CSV for ``adam``), then each command runs as its own
process (``remission assess DIR --out OUT --format parquet --quiet`` and ``remission adam
DIR/sdtm --out OUT``), ``--runs`` times.  Printed per N and command: the median wall time,
subjects per second, the peak resident memory of that process and its workers (summed), and the
floor: one polars scan of the same ``lesions.parquet`` computing per-visit target sums and
running minima per subject, timed in this process; ``ratio`` = our median / the floor's.
The load average is printed before and after, since the machine may be shared.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def floor(path: Path) -> float:
    """One scan of lesions: per-visit target sums and the running minimum per subject."""
    t0 = time.perf_counter()
    (
        pl.scan_parquet(path / "lesions.parquet")
        .filter(pl.col("role") == "target")
        .group_by("subject_id", "date")
        .agg(pl.col("diameter_mm").sum())
        .sort("subject_id", "date")
        .with_columns(nadir=pl.col("diameter_mm").cum_min().over("subject_id"))
        .collect()
    )
    return time.perf_counter() - t0


def _tree_rss_kib(root: int) -> int:
    """Resident memory (KiB) of ``root`` and all its descendants, from /proc."""
    total = 0
    todo = [root]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def timed(cmd: list[str], interval: float = 0.05) -> tuple[float, float]:
    """(wall seconds, peak resident memory MiB) of one command.

    The peak is the largest *sum* over the command's process tree (the command and the
    worker processes it starts), sampled every ``interval`` seconds from /proc, so that
    parallel workers count together.  (``ru_maxrss`` of ``wait4`` is not used: Linux keeps
    a forked child's pre-``exec`` high-water mark, i.e. this larger process's.)
    """
    import threading

    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss_kib(proc.pid))
            done.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    err_bytes = proc.stderr.read() if proc.stderr else b""
    _, status, _usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    done.set()
    sampler.join()
    err = err_bytes.decode(errors="replace")
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-2000:]}")
    return wall, peak[0] / 1024


def remission_cmd() -> list[str]:
    exe = BIN / "remission"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "remission.cli"]


def bench(n: int, runs: int, work: Path) -> list[dict]:
    data = work / f"n{n}"
    if not (data / "subjects.parquet").exists():
        t0 = time.perf_counter()
        subprocess.run([sys.executable, str(HERE / "synthetic.py"), str(n), str(data)], check=True,
                       stdout=subprocess.DEVNULL)
        print(f"# generated N={n} in {time.perf_counter() - t0:.1f} s", flush=True)
    rows = []
    fl = float("nan")  # timed after the commands (see below)
    for name, cmd in (
        ("assess", remission_cmd() + ["assess", str(data), "--out", str(work / "out_assess"), "--format", "parquet", "--quiet"]),
        ("adam", remission_cmd() + ["adam", str(data / "sdtm"), "--out", str(work / "out_adam"), "--format", "parquet"]),
    ):
        results = [timed(cmd) for _ in range(runs)]
        if fl != fl:  # the floor, in this process, once the first command has been timed
            fl = statistics.median(floor(data) for _ in range(max(runs, 3)))
        med = statistics.median(r[0] for r in results)
        rss = max(r[1] for r in results)
        rows.append({"N": n, "command": name, "median_s": med, "subjects_s": n / med, "peak_rss_mib": rss,
                     "floor_s": fl, "ratio": med / fl, "runs": [round(r[0], 2) for r in results]})
        print(f"{n:>9} {name:>7} {med:>9.2f} {n / med:>11,.0f} {rss:>12,.0f} {fl:>8.3f} {med / fl:>7.0f}  {rows[-1]['runs']}",
              flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--runs", type=int, default=3, help="runs per command and N (median reported)")
    ap.add_argument("--runs-large", type=int, default=1, help="runs at N >= 10^6")
    ap.add_argument("--keep", type=Path, default=None, help="folder for the generated data (kept); default a temp dir")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="remission-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"# load average before: {os.getloadavg()}  cpus: {os.cpu_count()}  polars {pl.__version__}")
    print(f"{'N':>9} {'command':>7} {'median s':>9} {'subjects/s':>11} {'peak RSS MiB':>12} {'floor s':>8} {'ratio':>7}  runs")
    try:
        for n in args.sizes:
            bench(n, args.runs_large if n >= 1_000_000 else args.runs, work)
    finally:
        print(f"# load average after: {os.getloadavg()}")
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
