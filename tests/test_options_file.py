"""``remission assess --options FILE`` (issue 13 item 4): a TOML file validated by the same
typed models as AssessOptions, unknown keys named, echoed beside the outputs, documented with
an example per criterion (docs/options.md, every block of which is loaded here)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from remission.cli import app
from remission.criteria import registry
from remission.errors import InputErrors
from remission.options import AssessOptions, options_from_toml

ROOT = Path(__file__).parents[1]
DOC = ROOT / "docs" / "options.md"
EXAMPLE = ROOT / "src" / "remission" / "data" / "example"


def _blocks() -> list[str]:
    return re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def test_the_docs_have_an_example_for_every_criterion():
    tables = set()
    for block in _blocks():
        tables |= {t.strip('"') for t in re.findall(r"^\[+(\"[^\"]+\"|[^\].]+)", block, flags=re.M)}
    assert set(registry.codes()) <= tables, set(registry.codes()) - tables


@pytest.mark.parametrize("block", _blocks())
def test_every_documented_example_loads(tmp_path, block):
    p = tmp_path / "o.toml"
    p.write_text(block, encoding="utf-8")
    assert isinstance(options_from_toml(p), AssessOptions)


def test_values_reach_the_typed_models(tmp_path):
    p = tmp_path / "o.toml"
    p.write_text('as_of = 2021-06-30\n["recist1.1"]\nconfirm_days = 21\n[rano2]\nsd_min_days = 84\n'
                 "[pcwg3.recist]\nsd_min_days = 50\n[remission]\nhorizon_years = 3\n", encoding="utf-8")  # fmt: skip
    o = options_from_toml(p)
    assert (o.recist.confirm_days, o.rano2.sd_min_days, o.pcwg3.recist.sd_min_days) == (21, 84, 50)
    assert o.remission.horizon_years == 3 and o.as_of == dt.date(2021, 6, 30)
    assert o.who == AssessOptions().who  # untouched tables keep the spec's defaults
    # what the command line gives wins
    assert options_from_toml(p, as_of=dt.date(2020, 1, 1)).as_of == dt.date(2020, 1, 1)


def test_every_problem_is_named_at_once(tmp_path):
    p = tmp_path / "o.toml"
    p.write_text('["recist1.1"]\nconfirm_days = 0\n[rano2]\nbogus = 1\n[pcwg3.recist]\nsd_min_days = "x"\n'
                 "[nonsense]\na = 1\n", encoding="utf-8")  # fmt: skip
    with pytest.raises(InputErrors) as exc:
        options_from_toml(p)
    by_column = {e.column: e for e in exc.value.errors}
    assert set(by_column) == {'"recist1.1".confirm_days', "rano2.bogus", "pcwg3.recist.sd_min_days", "nonsense"}
    assert "greater than or equal to 1" in by_column['"recist1.1".confirm_days'].expected
    assert "confirm_response_days" in by_column["rano2.bogus"].expected  # the known keys
    assert by_column["rano2.bogus"].code == "UNKNOWN_OPTION"
    assert "[rano2]" in by_column["nonsense"].expected
    assert all(e.file == str(p) for e in exc.value.errors)


def test_bad_toml_is_an_input_error(tmp_path):
    p = tmp_path / "o.toml"
    p.write_text("[rano2\n", encoding="utf-8")
    with pytest.raises(InputErrors) as exc:
        options_from_toml(p)
    assert exc.value.errors[0].code == "BAD_OPTIONS"


def test_cli_runs_with_the_file_and_echoes_the_options(tmp_path):
    opts = tmp_path / "o.toml"
    opts.write_text('["recist1.1"]\nconfirm_days = 21\n', encoding="utf-8")
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["assess", str(EXAMPLE), "--out", str(out), "--options", str(opts), "-q"])
    assert r.exit_code == 0, r.output
    echo = json.loads((out / "options.json").read_text())
    assert echo["recist"]["confirm_days"] == 21 and echo["rano2"]["sd_min_days"] == 56
    # the option acted: the same run with the defaults differs in the confirmed best responses
    base = tmp_path / "base"
    assert CliRunner().invoke(app, ["assess", str(EXAMPLE), "--out", str(base), "-q"]).exit_code == 0
    a, b = pl.read_csv(out / "summary.csv"), pl.read_csv(base / "summary.csv")
    assert a.get_column("confirmed_best_response_rule").to_list() != b.get_column("confirmed_best_response_rule").to_list()


def test_cli_bad_file_exits_2_and_writes_nothing(tmp_path):
    opts = tmp_path / "o.toml"
    opts.write_text("[rano2]\nbogus = 1\n", encoding="utf-8")
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["assess", str(EXAMPLE), "--out", str(out), "--options", str(opts)])
    assert r.exit_code == 2
    assert "rano2.bogus" in r.output and "Traceback" not in r.output
    assert not out.exists()
