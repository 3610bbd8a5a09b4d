"""Registry of the per-assessment criterion engines (docs/ARCHITECTURE.md "remission.criteria").

``CRITERIA`` maps a criteria code (schema.CRITERIA_CODES) to a :class:`Criterion` with the
engine's ``evaluate`` function, the category order best → worst (criteria/README.md
"Response categories and their ordering") and the category → canonical level map
(remission_model.md §3).  ``get(code)`` raises :class:`KeyError` naming the known codes.

The pipeline calls every criterion the same way:

* ``dates(tables) -> [subject_id, date]``: the subject's assessment dates (used to find
  baselines and lines of therapy);
* ``run(tables, segments, options) -> TIMEPOINTS``: per-assessment responses.

``tables`` maps table names (``subjects``, ``lesions``, ``labs``, ``findings``,
``treatments``, ``responses``) to the typed frames of the criterion's subjects only, and
``options`` is the attribute ``options_attr`` of :class:`remission.options.AssessOptions`.
A criterion never sees files or the web.

Adding a criterion: write ``remission/criteria/<name>.py`` defining a module-level
``CRITERION = Criterion(...)``; every module of this package that defines one is registered
when the registry is first imported (no central list to edit).  Its options are a pydantic
model (``options_model``) filled from ``AssessOptions.criterion_options[code]`` unless
``AssessOptions`` has a dedicated attribute named ``options_attr`` (``recist``, ``who``).
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import polars as pl

from . import recist11, who

Tables = Mapping[str, pl.DataFrame]


def lesion_dates(tables: Tables) -> pl.DataFrame:
    """Assessment dates of imaging criteria: the dates of the lesion rows (distinct).

    Lesion rows usually come sorted by subject and date: then keeping the first row of each
    run of equal (subject_id, date) is already the distinct pairs, one cheap pass instead
    of a hash ``unique()`` (~20x slower).  Whether the runs are distinct is checked on the
    (much shorter) result: strictly increasing (subject_id, date) with no nulls; otherwise
    ``unique()`` does the rest.  Same rows either way (their order is not specified).
    """
    pairs = tables["lesions"].select("subject_id", "date")
    sid, date = pl.col("subject_id"), pl.col("date")
    runs = pairs.filter(((sid != sid.shift(1)) | (date != date.shift(1))).fill_null(True))
    if runs.height == 0:
        return runs
    ok = (sid > sid.shift(1)) | ((sid == sid.shift(1)) & (date > date.shift(1)))
    distinct = runs.select(
        sid.is_not_null().all() & date.is_not_null().all() & (ok | (pl.int_range(pl.len()) == 0)).fill_null(False).all()
    ).item()
    return runs if distinct else runs.unique()


@dataclass(frozen=True)
class Criterion:
    code: str
    evaluate: Callable[..., pl.DataFrame]
    #: categories best → worst
    order: tuple[str, ...]
    #: category → canonical level
    canonical: Mapping[str, str]
    #: ``run(tables, segments, options) -> TIMEPOINTS`` (see module docstring)
    run: Callable[[Tables, pl.DataFrame, Any], pl.DataFrame] | None = None
    #: ``dates(tables) -> [subject_id, date]``
    dates: Callable[[Tables], pl.DataFrame] = lesion_dates
    #: attribute of AssessOptions holding this criterion's options (None: use options_model)
    options_attr: str | None = None
    #: pydantic model of the options, filled from AssessOptions.criterion_options[code]
    options_model: type | None = None

    def options_from(self, assess_options: Any) -> Any:
        """This criterion's options out of an :class:`~remission.options.AssessOptions`."""
        if self.options_attr is not None:
            return getattr(assess_options, self.options_attr)
        given = dict(getattr(assess_options, "criterion_options", {}).get(self.code, {}))
        return self.options_model(**given) if self.options_model is not None else None


def register(criterion: Criterion) -> Criterion:
    """Add (or replace) a criterion in the registry."""
    CRITERIA[criterion.code] = criterion
    return criterion


CRITERIA: dict[str, Criterion] = {}

register(
    Criterion(
        recist11.CODE,
        recist11.evaluate,
        recist11.ORDER,
        dict(recist11.CANONICAL),
        run=lambda t, segs, o: recist11.evaluate(t["lesions"], segs, o, labs=t.get("labs")),
        options_attr="recist",
    )
)
register(
    Criterion(
        who.CODE,
        who.evaluate,
        who.ORDER,
        dict(who.CANONICAL),
        run=lambda t, segs, o: who.evaluate(t["lesions"], segs, o),
        options_attr="who",
    )
)


def _discover() -> None:
    """Register every ``CRITERION`` defined by a module of this package."""
    package = importlib.import_module(__package__)
    for info in pkgutil.iter_modules(package.__path__):
        if info.name in ("registry", "reference") or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__package__}.{info.name}")
        criterion = getattr(module, "CRITERION", None)
        if isinstance(criterion, Criterion):
            register(criterion)


_discover()


def get(code: str) -> Criterion:
    """The engine of ``code``; ``KeyError`` listing the known codes otherwise."""
    try:
        return CRITERIA[code]
    except KeyError:
        known = ", ".join(sorted(CRITERIA))
        raise KeyError(f"unknown criteria {code!r}; known: {known}") from None


__all__ = ["CRITERIA", "Criterion", "get"]
