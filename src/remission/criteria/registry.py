"""Registry of the per-assessment criterion engines (docs/ARCHITECTURE.md "remission.criteria").

``CRITERIA`` maps a criteria code (schema.CRITERIA_CODES) to a :class:`Criterion` with the
engine's ``evaluate`` function, the category order best → worst (criteria/README.md
"Response categories and their ordering") and the category → canonical level map
(remission_model.md §3).  ``get(code)`` raises :class:`KeyError` naming the known codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import polars as pl

from . import recist11, who


@dataclass(frozen=True)
class Criterion:
    code: str
    evaluate: Callable[..., pl.DataFrame]
    #: categories best → worst
    order: tuple[str, ...]
    #: category → canonical level
    canonical: Mapping[str, str]


CRITERIA: dict[str, Criterion] = {
    recist11.CODE: Criterion(recist11.CODE, recist11.evaluate, recist11.ORDER, dict(recist11.CANONICAL)),
    who.CODE: Criterion(who.CODE, who.evaluate, who.ORDER, dict(who.CANONICAL)),
}


def get(code: str) -> Criterion:
    """The engine of ``code``; ``KeyError`` listing the known codes otherwise."""
    try:
        return CRITERIA[code]
    except KeyError:
        known = ", ".join(sorted(CRITERIA))
        raise KeyError(f"unknown criteria {code!r}; known: {known}") from None


__all__ = ["CRITERIA", "Criterion", "get"]
