"""Every output column documented (issue 17 item 5): the reference in remission.schema lists
exactly the columns, order and types that ``assess`` writes on every bundled dataset; the
section of docs/tables.md generated from it is current; code values follow the one casing
convention the reference gives their column, on every dataset and golden output."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import polars as pl
import pytest

import remission
from remission import assess
from remission import schema as S
from remission.errors import InputError, errors_frame

ROOT = Path(__file__).parents[1]
DATA = Path(remission.__file__).parent / "data"
DATASETS = [DATA / "example"] + sorted(p for d in ("examples_imaging", "examples_blood") for p in (DATA / d).iterdir() if p.is_dir())
GOLDEN = ROOT / "tests" / "golden"

_SPEC = importlib.util.spec_from_file_location("tables_doc", ROOT / "scripts" / "tables_doc.py")
tables_doc = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(tables_doc)

RULES = {
    "lower_snake": re.compile(r"[a-z][a-z0-9_]*"),
    "UPPER_SNAKE": re.compile(r"[A-Z][A-Z0-9_]*"),
    "criteria_code": re.compile("|".join(re.escape(c) for c in S.CRITERIA_CODES)),
}


@pytest.fixture(scope="module", params=DATASETS, ids=lambda p: f"{p.parent.name}/{p.name}")
def result(request):
    return assess(request.param)


@pytest.mark.parametrize("table", ["assessments", "episodes", "summary"])
def test_reference_lists_every_output_column(result, table):
    frame = getattr(result, table)
    documented = {c: dtype for c, (dtype, _, _) in S.OUTPUT_REFERENCE[table].items()}
    assert list(frame.columns) == list(documented), "document new columns in remission.schema.OUTPUT_REFERENCE"
    assert dict(frame.schema) == documented


def test_reference_starts_with_the_contract():
    for table, contract in (("assessments", S.ASSESSMENTS_COLUMNS), ("episodes", S.EPISODES_COLUMNS),
                            ("summary", S.SUMMARY_COLUMNS)):
        assert tuple(S.OUTPUT_REFERENCE[table])[: len(contract)] == contract
        assert all(meaning.strip() for _, _, meaning in S.OUTPUT_REFERENCE[table].values())


def test_errors_reference():
    frame = errors_frame([InputError("lesions.csv", 3, "P1", "date", "x", "a date", "BAD_DATE"),
                          InputError("rs", 1, "P1", "RSDTC", "2020", "a full date", "not_analysed")])
    documented = {c: dtype for c, (dtype, _, _) in S.ERRORS_REFERENCE.items()}
    assert dict(frame.schema) == documented
    # one spelling in the file whichever reader raised the error
    assert frame.get_column("code").to_list() == ["BAD_DATE", "NOT_ANALYSED"]


def test_docs_tables_md_is_current():
    text = tables_doc.DOC.read_text(encoding="utf-8")
    assert tables_doc.updated(text) == text, "run python scripts/tables_doc.py"
    for table, columns in S.OUTPUT_REFERENCE.items():
        for name in columns:
            assert f"| `{name}`" in text


def test_the_check_can_fail(tmp_path):
    text = tables_doc.DOC.read_text(encoding="utf-8")
    stale = text.replace("| `look_back_start` |", "| `look_back` |")
    assert tables_doc.updated(stale) != stale


def _check_casing(frame: pl.DataFrame, table: str, where: str) -> None:
    for name, (_, casing, _) in S.OUTPUT_REFERENCE[table].items():
        rule = RULES.get(casing)
        if rule is None or name not in frame.columns:
            continue
        values = frame.get_column(name).drop_nulls().cast(pl.String).unique().to_list()
        bad = [v for v in values if not rule.fullmatch(v)]
        assert not bad, f"{where}: {table}.{name} values {bad} are not {casing}"


@pytest.mark.parametrize("table", ["assessments", "episodes", "summary"])
def test_one_casing_per_code_column(result, table):
    _check_casing(getattr(result, table), table, "assess")


def test_one_casing_per_code_column_in_the_goldens():
    files = sorted(GOLDEN.glob("*/*.csv"))
    checked = 0
    for path in files:
        if path.stem in ("assessments", "episodes", "summary"):
            _check_casing(pl.read_csv(path, infer_schema=False), path.stem, str(path.relative_to(ROOT)))
            checked += 1
    assert checked >= 30


def test_the_casing_check_can_fail():
    frame = pl.DataFrame({"status": ["complete_remission", "Progression"]})
    with pytest.raises(AssertionError, match="Progression"):
        _check_casing(frame, "summary", "made up")
