"""Time the cohort part of ``remission report`` on synthetic data (issue 15 item 6).

Usage::

    python benchmarks/bench_report.py                    # N = 100,000
    python benchmarks/bench_report.py --sizes 10000 100000

For each N the synthetic cohort (:mod:`synthetic`, not timed) is assessed in this process
(timed separately: that is ``remission assess``), then :func:`remission.report.html.write_report`
writes the cohort-only report (statistics, every cohort plot, the subject index; timed:
"cohort report"), then the report of 20 named subjects (``--subjects``; timed: "20 subject
pages"), from which the time per subject page is printed.  Printed per N: the times, the
report's size and the load average (the machine may be shared).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))


def run(n: int, out: Path) -> dict[str, float]:
    import synthetic

    from remission import assess
    from remission.report.html import write_report

    frames = synthetic.generate(n, seed=20261207)
    frames = {k: v for k, v in frames.items() if k in ("subjects", "lesions", "treatments", "responses", "labs", "findings")}
    t0 = time.perf_counter()
    result = assess(**frames)
    t_assess = time.perf_counter() - t0
    t0 = time.perf_counter()
    path = write_report(result, out / f"cohort-{n}.html", cohort_only=True)
    t_cohort = time.perf_counter() - t0
    some = result.summary["subject_id"].head(20).to_list()
    t0 = time.perf_counter()
    write_report(result, out / f"subjects-{n}.html", subjects=some)
    t_subjects = time.perf_counter() - t0
    return {"assess": t_assess, "cohort": t_cohort, "subjects20": t_subjects, "size_mb": path.stat().st_size / 1e6}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            r = run(n, Path(tmp))
            print(f"N={n:>7}: assess {r['assess']:.1f} s; cohort report {r['cohort']:.1f} s "
                  f"({r['size_mb']:.1f} MB); 20 subject pages {r['subjects20']:.1f} s "
                  f"(incl. the cohort part; {(r['subjects20'] - r['cohort']) / 20:.2f} s per subject beyond it)", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
