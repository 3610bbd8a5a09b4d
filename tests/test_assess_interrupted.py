"""Interrupted runs leave no doubt (issue 18 item 4): ``remission assess --out`` writes into
a partial folder and puts it in place in one step, on every route (one process, batches
in this process, worker processes).  A fault test kills re-runs (SIGKILL and SIGTERM) at
random moments: the earlier complete run in the folder survives byte for byte, no worker
process outlives the killed run, and what a killed run leaves is a folder named
``.<out>.partial-<pid>``, removed by the next run.  Bounded: a few runs of the 50-subject
example, each killed at a random moment of its first 60 % ."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "src" / "remission" / "data" / "example"
ROUTES = {
    "one process": [],
    "batches": ["--batch-size", "7", "--workers", "1"],
    "workers": ["--batch-size", "7", "--workers", "2"],
}


def _cmd(out: Path, extra: list[str], data: Path = EXAMPLE) -> list[str]:
    return [sys.executable, "-m", "remission.cli", "assess", str(data), "--out", str(out), "--quiet", *extra]


def _env() -> dict:
    return dict(os.environ, PYTHONPATH=str(ROOT / "src"))


def _digest(folder: Path) -> dict[str, str]:
    """SHA-256 of every file; ``options.json`` by its content with lists sorted (the echo of
    set-valued options lists them in no fixed order)."""
    out = {}
    for p in sorted(folder.iterdir()):
        if not p.is_file():
            continue
        data = p.read_bytes()
        if p.name == "options.json":
            data = json.dumps(_sorted(json.loads(data)), sort_keys=True).encode()
        if p.name == "run.json":  # the run record: everything but when it was made
            record = json.loads(data)
            record.pop("created", None)
            data = json.dumps(_sorted(record), sort_keys=True).encode()
        out[p.name] = hashlib.sha256(data).hexdigest()
    return out


def _sorted(v):
    if isinstance(v, dict):
        return {k: _sorted(x) for k, x in v.items()}
    if isinstance(v, list):
        return sorted((_sorted(x) for x in v), key=json.dumps)
    return v


def _children(pid: int) -> set[int]:
    """Processes whose parent is ``pid`` (Linux /proc)."""
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.add(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _complete_run(out: Path, extra: list[str]) -> dict[str, str]:
    r = subprocess.run(_cmd(out, extra), env=_env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    return _digest(out)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("route", list(ROUTES))
def test_killed_reruns_leave_the_earlier_run_whole(tmp_path, route):
    extra = ROUTES[route]
    out = tmp_path / "out"
    t0 = time.monotonic()
    first = _complete_run(out, extra)
    duration = time.monotonic() - t0
    assert {"assessments.csv", "episodes.csv", "summary.csv", "options.json"} <= set(first)
    (out / "notes.txt").write_text("the user's own file\n")  # kept by every later run
    first["notes.txt"] = _digest(out)["notes.txt"]
    rng = random.Random(f"issue18-{route}")
    killed_mid_run, saw_workers = 0, False
    for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGKILL):
        delay = rng.uniform(0.1, 0.6) * duration  # a random moment of a run as long as the first
        proc = subprocess.Popen(_cmd(out, extra), env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        workers: set[int] = set()
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline and proc.poll() is None:
            workers |= _children(proc.pid)
            time.sleep(0.05)
        finished = proc.poll() is not None
        if not finished:
            proc.send_signal(sig)
            killed_mid_run += 1
        saw_workers |= bool(workers)
        proc.wait(timeout=60)
        # no process of the killed run is left (workers die with their parent)
        end = time.monotonic() + 15
        while time.monotonic() < end and any(_alive(p) for p in workers):
            time.sleep(0.2)
        assert not [p for p in workers if _alive(p)], (route, sig, "orphaned workers")
        # the folder holds one complete run: the earlier one, byte for byte (same input)
        assert _digest(out) == first, (route, sig, delay)
        partial = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out."))
        if sig == signal.SIGTERM or finished:
            # a stopped run cleans up after itself (a folder of an earlier SIGKILLed run may
            # remain when this run was stopped before it got to clean it)
            assert f".out.partial-{proc.pid}" not in partial, partial
        else:
            assert all(name.startswith(".out.partial-") for name in partial), partial
    assert killed_mid_run >= 1, "every run ended before its kill: the test did not test"
    if route == "workers":
        assert saw_workers
    # the next complete run removes what killed runs left, and gives the same files
    assert _complete_run(out, extra) == first
    assert [p.name for p in tmp_path.iterdir() if p.name != "out"] == []


def test_a_refused_rerun_changes_nothing(tmp_path):
    out = tmp_path / "out"
    first = _complete_run(out, [])
    bad = tmp_path / "bad"
    shutil.copytree(EXAMPLE, bad)
    with open(bad / "lesions.csv", "a") as f:
        f.write("EX01,2019-13-01,T1,target,lung,false,40,,,CT\n")
    for extra in ([], ROUTES["workers"]):
        r = subprocess.run(_cmd(out, extra, bad), env=_env(), capture_output=True, text=True, timeout=300)
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-1000:]
        assert _digest(out) == first
    r = subprocess.run(_cmd(tmp_path / "new" / "deep", [], bad), env=_env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and not (tmp_path / "new").exists()  # nothing written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad", "out"]
