"""Provenance (issue 16 item 11): ``remission --version``, ``python -m remission`` and the
``run.json`` record in every output folder (remission.provenance)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from importlib.metadata import version as dist_version
from pathlib import Path

from typer.testing import CliRunner

from remission.cli import app

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "src" / "remission" / "data" / "example"
ORACLE = ROOT / "tests" / "data" / "oracle" / "pharmaverse"
SDTM = ORACLE / "pharmaversesdtm"
ADSL = ORACLE / "pharmaverseadam" / "adsl.csv"


def _sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_version_option_prints_the_installed_version():
    r = CliRunner().invoke(app, ["--version"])
    assert r.exit_code == 0
    assert r.output.strip() == f"remission {dist_version('remission')}"


def test_python_dash_m_remission_runs_the_cli():
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    r = subprocess.run([sys.executable, "-m", "remission", "--version"], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"remission {dist_version('remission')}"


def _check_record(out: Path, command: str) -> dict:
    rec = json.loads((out / "run.json").read_text())
    assert rec["package"] == "remission" and rec["version"] == dist_version("remission")
    assert rec["command"] == command
    for f in rec["inputs"] + rec["outputs"]:
        assert f["sha256"] == _sha(f["path"]) and f["bytes"] == Path(f["path"]).stat().st_size
    written = {p.name for p in out.iterdir()} - {"run.json"}
    assert {Path(f["path"]).name for f in rec["outputs"]} == written
    return rec


def test_adam_run_record_lists_options_and_the_files_read(tmp_path):
    out = tmp_path / "adam"
    args = ["adam", str(SDTM), "--out", str(out), "--adsl", str(ADSL), "--file", "rs=rs_onco_recist.csv",
            "--file", "tu=tu_onco_recist.csv", "--file", "tr=tr_onco_recist.csv", "--confirm-days", "21"]  # fmt: skip
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    rec = _check_record(out, "remission adam")
    assert rec["options"]["confirm_days"] == 21 and rec["options"]["reference"] == "RANDDT"
    assert rec["options"]["file"] == ["rs=rs_onco_recist.csv", "tu=tu_onco_recist.csv", "tr=tr_onco_recist.csv"]
    names = {Path(f["path"]).name for f in rec["inputs"]}
    assert {"rs_onco_recist.csv", "tu_onco_recist.csv", "tr_onco_recist.csv", "adsl.csv", "dm.csv"} <= names
    assert "rs_onco.csv" not in names  # not read: rs comes from --file
    assert rec["as_of"] is None


def test_assess_run_record_has_the_as_of_date(tmp_path):
    out = tmp_path / "a"
    r = CliRunner().invoke(app, ["assess", str(EXAMPLE), "--out", str(out), "--as-of", "2021-06-30", "-q"])
    assert r.exit_code == 0, r.output
    rec = _check_record(out, "remission assess")
    assert rec["as_of"] == "2021-06-30"
    assert {Path(f["path"]).name for f in rec["inputs"]} >= {"subjects.csv", "lesions.csv"}


def test_no_record_when_the_input_is_bad(tmp_path):
    (tmp_path / "sdtm").mkdir()
    (tmp_path / "sdtm" / "rs.csv").write_text("USUBJID,RSTESTCD,RSSTRESC,RSDTC\nS1,OVRLRESP,PR,2020-13-01\n")
    (tmp_path / "sdtm" / "adsl.csv").write_text("USUBJID,RANDDT\nS1,2020-01-01\n")
    r = CliRunner().invoke(app, ["adam", str(tmp_path / "sdtm"), "--out", str(tmp_path / "out")])
    assert r.exit_code == 2
    assert not (tmp_path / "out" / "run.json").exists()
