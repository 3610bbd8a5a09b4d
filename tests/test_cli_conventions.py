"""Command-line conventions (issue 17 item 3): ``--version``, ``python -m remission``, help
that renders the same whatever typer's defaults (explicit metavars, an example per command),
shell completion offered, and a missing extra reported in one line."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import remission
from remission import cli, extras

EXAMPLE = Path(remission.__file__).parent / "data" / "example"


def _commands(app: typer.Typer, prefix=()):
    """Every leaf command as its argument path, e.g. ("users", "add")."""
    group = typer.main.get_group(app)

    def walk(cmd, path):
        subs = getattr(cmd, "commands", None)
        if subs:
            for name, sub in subs.items():
                yield from walk(sub, path + (name,))
        else:
            yield path

    yield from walk(group, prefix)


COMMANDS = sorted(_commands(cli.app))


def test_every_command_is_listed():
    names = {" ".join(c) for c in COMMANDS}
    assert {"assess", "adam", "explain", "report", "serve", "import", "users add", "users assign", "db upgrade",
            "fhir export", "fhir import", "omop", "adam-lugano", "adam-irecist"} <= names


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_help_renders_cleanly(command):
    r = CliRunner().invoke(cli.app, [*command, "--help"], prog_name="remission")
    assert r.exit_code == 0, r.output
    text = r.output
    usage = text.splitlines()[0]
    assert usage.startswith("Usage: remission " + " ".join(command) + " [OPTIONS]"), usage
    # no type labels or braces of typer's defaults, anywhere
    for label in ("<bool>", "<path>", "<str>", "<int", "{", "}"):
        assert label not in text, (label, text)
    # arguments are upper-case metavars on the usage line
    for word in usage.split()[3 + len(command):]:
        assert re.fullmatch(r"\[?[A-Z_]+\]?", word), (word, usage)
    # and the help ends with an example of this very command
    assert re.search(r"\n  Examples?:\n", text), text
    example = text.split("Example", 1)[1]
    assert "remission " + " ".join(command) + " " in example or example.rstrip().endswith("remission " + " ".join(command)), text


def test_help_shows_brackets_as_written():
    r = CliRunner().invoke(cli.app, ["assess", "--help"], prog_name="remission")
    assert "[rano2]" in r.output and "[remission]" in r.output


def test_metavars_named_in_the_issue():
    adam = CliRunner().invoke(cli.app, ["adam", "--help"], prog_name="remission").output
    assert "--file DOMAIN=FILE" in adam and "--out DIR" in adam and "SDTM_DIR" in adam.splitlines()[0]
    assess = CliRunner().invoke(cli.app, ["assess", "--help"], prog_name="remission").output
    assert assess.splitlines()[0] == "Usage: remission assess [OPTIONS] DATASET"


def test_version():
    r = CliRunner().invoke(cli.app, ["--version"])
    assert r.exit_code == 0
    assert r.output == f"remission {remission.__version__}\n"


def test_version_is_the_package_metadata():
    # pyproject.toml reads the version from remission.__version__ (one source)
    assert importlib.metadata.version("remission") == remission.__version__


def test_python_dash_m(tmp_path):
    src = Path(remission.__file__).parents[1]
    r = subprocess.run([sys.executable, "-m", "remission", "--version"], capture_output=True, text=True,
                       env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"remission {remission.__version__}\n"
    r = subprocess.run([sys.executable, "-m", "remission", "assess", str(EXAMPLE), "--out", str(tmp_path), "-q"],
                       capture_output=True, text=True, env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"}, timeout=300)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "summary.csv").exists()


def test_shell_completion_is_offered():
    r = CliRunner().invoke(cli.app, ["--help"], prog_name="remission")
    assert "--install-completion" in r.output and "--show-completion" in r.output


@pytest.mark.parametrize(
    "args, extra",
    [
        (["report", str(EXAMPLE), "--out", "{out}/r.html"], "report"),
        (["fhir", "export", str(EXAMPLE), "--out", "{out}/b.json"], "fhir"),
        (["db", "upgrade"], "service"),
        (["serve"], "service"),
    ],
)
def test_missing_extra_is_one_line(monkeypatch, tmp_path, args, extra):
    gone = extras.EXTRAS[extra][0]
    real = extras._installed
    monkeypatch.setattr(extras, "_installed", lambda m: m != gone and real(m))
    args = [a.replace("{out}", str(tmp_path)) for a in args]
    r = CliRunner().invoke(cli.app, args, prog_name="remission")
    assert r.exit_code == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert f"[{extra}] extra" in lines[0] and f"pip install 'remission[{extra}]'" in lines[0]
    assert "Traceback" not in r.output
    assert list(tmp_path.iterdir()) == []


def test_missing_extra_on_import(monkeypatch):
    real = extras._installed
    monkeypatch.setattr(extras, "_installed", lambda m: m != "pyspark" and real(m))
    monkeypatch.delitem(sys.modules, "remission.spark", raising=False)
    with pytest.raises(ImportError, match=r"remission.spark needs the \[spark\] extra .*pip install 'remission\[spark\]'"):
        import remission.spark  # noqa: F401
    monkeypatch.delitem(sys.modules, "remission.spark", raising=False)
