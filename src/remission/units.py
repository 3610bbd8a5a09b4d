"""Laboratory test codes, their canonical units and unit conversion.

spec/tables.md (labs.unit): "checked against the test's expected unit; a convertible unit is
converted, an unknown one is an input error".  Canonical units are those the criteria
specifications state their thresholds in (imwg.md §2, eln2022_aml.md §2, iwcll2018.md §2,
pcwg3.md, gcig_ca125.md); every lab value is converted to them at validation, so criterion
modules only ever see canonical units.

Unit spellings are compared after normalisation: case-insensitive, spaces removed, ``µ``/``μ``
read as ``u``, ``×``/``x`` and ``*`` before ``10`` dropped, ``10e9`` / ``10*9`` read as
``10^9``.
"""

from __future__ import annotations

import re

import polars as pl

#: test code -> canonical unit (as displayed)
CANONICAL_UNITS: dict[str, str] = {
    # tumour markers
    "psa": "ng/mL",
    "ca125": "U/mL",
    "cea": "ng/mL",
    "ca19_9": "U/mL",
    "ca15_3": "U/mL",
    "afp": "ng/mL",
    "hcg": "IU/L",
    "ldh": "U/L",
    "testosterone": "ng/dL",
    # myeloma (imwg.md §2)
    "serum_m_protein": "g/dL",
    "urine_m_protein": "mg/24h",
    "involved_flc": "mg/dL",
    "uninvolved_flc": "mg/dL",
    "flc_kappa": "mg/dL",
    "flc_lambda": "mg/dL",
    "flc_ratio": "ratio",
    "marrow_plasma_cells_pct": "%",
    "serum_calcium": "mg/dL",
    "pb_plasma_cells": "10^9/L",  # circulating plasma cells, PD7 (200 cells/uL = 0.2)
    # leukaemia (eln2022_aml.md §2, iwcll2018.md §2)
    "marrow_blasts_pct": "%",
    "pb_blasts_pct": "%",
    "anc": "10^9/L",
    "platelets": "10^9/L",
    "hemoglobin": "g/dL",
    "lymphocytes": "10^9/L",
    "b_lymphocytes": "10^9/L",
    "wbc": "10^9/L",
    "marrow_cll_infiltrate_pct": "%",
    "mrd_level": "%",
}

_COUNT = {"10^9/l": 1.0, "g/l": 1.0, "10^3/ul": 1.0, "k/ul": 1.0, "10^3/mm3": 1.0, "/ul": 1e-3,
          "cells/ul": 1e-3, "/mm3": 1e-3, "cells/mm3": 1e-3, "10^6/l": 1e-3}
_PCT = {"%": 1.0, "percent": 1.0, "pct": 1.0}

#: canonical unit (normalised) -> {accepted unit (normalised): factor to canonical}
CONVERSIONS: dict[str, dict[str, float]] = {
    "ng/ml": {"ng/ml": 1.0, "ug/l": 1.0, "mcg/l": 1.0},
    "u/ml": {"u/ml": 1.0, "ku/l": 1.0, "iu/ml": 1.0, "kiu/l": 1.0},
    "iu/l": {"iu/l": 1.0, "miu/ml": 1.0, "u/l": 1.0},
    "u/l": {"u/l": 1.0, "iu/l": 1.0, "ukat/l": 60.0},
    "ng/dl": {"ng/dl": 1.0, "nmol/l": 28.84, "ng/ml": 100.0},
    "g/dl": {"g/dl": 1.0, "g/l": 0.1, "mg/dl": 0.001, "mg/ml": 0.1},
    "mg/24h": {"mg/24h": 1.0, "mg/d": 1.0, "mg/day": 1.0, "g/24h": 1000.0, "g/d": 1000.0, "g/day": 1000.0},
    "mg/dl": {"mg/dl": 1.0, "mg/l": 0.1, "g/l": 100.0},
    "ratio": {"ratio": 1.0, "1": 1.0, "": 1.0},
    "%": _PCT,
    "10^9/l": _COUNT,
}
# serum calcium: mmol/L -> mg/dL (x 4.008)
_CALCIUM = {"mg/dl": 1.0, "mmol/l": 4.008}
_HAEMOGLOBIN = {"g/dl": 1.0, "g/l": 0.1, "mmol/l": 1.611}


def normalise_unit(unit: str | None) -> str:
    """Normalised spelling of a unit (see module docstring)."""
    if unit is None:
        return ""
    u = unit.strip().lower().replace("µ", "u").replace("μ", "u").replace(" ", "")
    u = re.sub(r"^(x|×|\*)(?=10)", "", u)
    u = re.sub(r"10(\*\*|\*|e|\^)?(9|3|6)(?=/)", lambda m: f"10^{m.group(2)}", u)
    u = u.replace("/24hr", "/24h").replace("/24hours", "/24h")
    return u


def factors(test: str) -> dict[str, float]:
    """Accepted (normalised) units of ``test`` and their factors to the canonical unit."""
    if test == "serum_calcium":
        return _CALCIUM
    if test == "hemoglobin":
        return _HAEMOGLOBIN
    return CONVERSIONS[normalise_unit(CANONICAL_UNITS[test])]


def conversion_table() -> pl.DataFrame:
    """``test, unit_norm, factor, canonical_unit``: every accepted unit of every test."""
    rows = [
        (test, unit, f, CANONICAL_UNITS[test]) for test in CANONICAL_UNITS for unit, f in factors(test).items()
    ]
    return pl.DataFrame(rows, schema=["test", "unit_norm", "factor", "canonical_unit"], orient="row")


def unit_norm_expr(col: str = "unit") -> pl.Expr:
    """Vectorised :func:`normalise_unit`."""
    u = (
        pl.col(col)
        .fill_null("")
        .str.strip_chars()
        .str.to_lowercase()
        .str.replace_all("µ", "u", literal=True)
        .str.replace_all("μ", "u", literal=True)
        .str.replace_all(" ", "", literal=True)
        .str.replace(r"^(x|×|\*)10", "10")
        .str.replace(r"10(\*\*|\*|e|\^)?(9|3|6)/", "10^$2/")
        .str.replace("/24hr$", "/24h")
        .str.replace("/24hours$", "/24h")
    )
    return u


def convert(labs: pl.DataFrame) -> pl.DataFrame:
    """Add ``value_canonical``, ``unit_canonical`` and ``unit_ok`` (False: unknown test, or a
    unit that cannot be converted) to a labs frame with ``test``, ``value``, ``unit``."""
    table = conversion_table()
    out = (
        labs.with_columns(_unit_norm=unit_norm_expr("unit"))
        .join(table, left_on=["test", "_unit_norm"], right_on=["test", "unit_norm"], how="left")
        .with_columns(
            unit_ok=pl.col("factor").is_not_null(),
            value_canonical=pl.col("value") * pl.col("factor"),
            unit_canonical=pl.col("canonical_unit"),
        )
        .drop("_unit_norm", "factor", "canonical_unit")
    )
    return out


def expected_units(test: str | None) -> str:
    """Human text of the units accepted for ``test`` (for error messages)."""
    if test not in CANONICAL_UNITS:
        return "a known test code (" + ", ".join(sorted(CANONICAL_UNITS)) + ")"
    accepted = sorted(u for u in factors(test) if u)
    return f"a unit of {test}: {CANONICAL_UNITS[test]} (also accepted: {', '.join(accepted)})"
