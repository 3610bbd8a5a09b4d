"""Golden outputs (scripts/golden.py): every bundled dataset, the synthetic data forced to each
criterion, a grid of options, malformed inputs and the ADaM routes give exactly the frozen
outputs under ``tests/golden``.  A commit that changes a rule re-freezes the cases it changes
(``python scripts/golden.py freeze --only CASE``) and names them in its message."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location("golden", Path(__file__).parents[1] / "scripts" / "golden.py")
golden = importlib.util.module_from_spec(_SPEC)
sys.modules["golden"] = golden
_SPEC.loader.exec_module(golden)

CASES = {c.name: c for c in golden.cases()}


@pytest.mark.parametrize("name", sorted(CASES))
def test_outputs_equal_the_golden(name):
    diffs = golden.compare(CASES[name])
    assert not diffs, "\n".join(diffs)


def test_every_golden_folder_is_a_case():
    folders = {p.name for p in golden.GOLDEN.iterdir() if p.is_dir()}
    assert folders == set(CASES), sorted(folders ^ set(CASES))
