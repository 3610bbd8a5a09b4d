"""The registered criteria: one explicit list, each module loaded when first asked for.

``MODULES`` maps a criteria code (the ``criteria`` column of spec/tables.md) to the
module of :mod:`remission.criteria` that declares it (a module-level ``CRITERION``, a
:class:`~remission.criteria.base.Criterion`).  ``get(code)`` imports that module and returns
its declaration; ``CRITERIA`` is the same as a read-only mapping; ``all_criteria()`` loads
every one, in the order of the list.

Adding a criterion (docs/ARCHITECTURE.md "Adding a criterion"): write its module with a
``CRITERION = Criterion(...)``, add one line here, and its tests.  Nothing else lists its
codes.  A criterion module imports :mod:`remission.criteria.base`, never this registry, so
``import remission.criteria.<name>`` works on its own.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping

from .base import Criterion, Tables, lesion_dates

#: criteria code -> module name (the order is the order criteria are listed in)
MODULES: dict[str, str] = {
    "recist1.1": "recist11",
    "irecist": "irecist",
    "who": "who",
    "mrecist": "mrecist",
    "rano2": "rano",
    "lugano2014": "lugano2014",
    "imwg2016": "imwg",
    "iwcll2018": "iwcll2018",
    "eln2022": "eln2022",
    "pcwg3": "pcwg3",
    "gcig": "gcig",
}

_EXTRA: dict[str, Criterion] = {}

#: spec/tables.md subjects.criteria: the criterion of a subject whose cancer_type no
#: criterion claims (``Criterion.cancer_types``) and who names none
FALLBACK = "recist1.1"


def get(code: str) -> Criterion:
    """The declaration of ``code``; ``KeyError`` listing the known codes otherwise."""
    if code in _EXTRA:
        return _EXTRA[code]
    name = MODULES.get(code)
    if name is None:
        known = ", ".join(sorted(codes()))
        raise KeyError(f"unknown criteria {code!r}; known: {known}")
    criterion = importlib.import_module(f"{__package__}.{name}").CRITERION
    if criterion.code != code:  # pragma: no cover - a wrong line in MODULES
        raise RuntimeError(f"module {name} declares {criterion.code!r}, listed as {code!r}")
    return criterion


def codes() -> tuple[str, ...]:
    """Every registered criteria code, in list order."""
    return tuple(MODULES) + tuple(c for c in _EXTRA if c not in MODULES)


def all_criteria() -> tuple[Criterion, ...]:
    return tuple(get(c) for c in codes())


def default_criteria_by_cancer() -> dict[str, str]:
    """``cancer_type`` -> default criteria code, from each criterion's ``cancer_types``
    (spec/tables.md: e.g. ``dlbcl`` -> ``lugano2014``); unclaimed types get :data:`FALLBACK`."""
    out: dict[str, str] = {}
    for c in all_criteria():
        for t in c.cancer_types:
            if out.setdefault(t, c.code) != c.code:
                raise RuntimeError(f"cancer_type {t!r} claimed by {out[t]!r} and {c.code!r}")
    return out


def register(criterion: Criterion) -> Criterion:
    """Register a criterion declared outside this package (a plug-in or a test's made-up
    criterion); the bundled ones are the list above."""
    _EXTRA[criterion.code] = criterion
    return criterion


def unregister(code: str) -> None:
    _EXTRA.pop(code, None)


class _Registered(Mapping[str, Criterion]):
    """``CRITERIA[code]``: :func:`get` as a mapping (membership needs no import)."""

    def __getitem__(self, code: str) -> Criterion:
        try:
            return get(code)
        except KeyError:
            raise KeyError(code) from None

    def __contains__(self, code: object) -> bool:
        return code in MODULES or code in _EXTRA

    def __iter__(self) -> Iterator[str]:
        return iter(codes())

    def __len__(self) -> int:
        return len(codes())


CRITERIA: Mapping[str, Criterion] = _Registered()

__all__ = ["CRITERIA", "Criterion", "FALLBACK", "MODULES", "default_criteria_by_cancer", "Tables", "all_criteria", "codes", "get", "lesion_dates", "register", "unregister"]
