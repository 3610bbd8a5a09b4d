"""Optional dependencies, grouped as the package's extras (pyproject.toml).

The core (``assess``, ``adam``, ``explain``, ``omop``) needs only the table stack and the
command line.  A feature that needs an extra calls :func:`require` before importing it, so
that a missing package gives one line naming the extra to install instead of a traceback
deep inside an import::

    remission report needs the [report] extra (matplotlib is not installed): pip install 'remission[report]'

The command line prints that line and exits with code 1 (code 2 is kept for input errors,
spec/tables.md "Bad input").
"""

from __future__ import annotations

import importlib.util

#: the importable modules that each extra provides (pyproject.toml [project.optional-dependencies])
EXTRAS: dict[str, tuple[str, ...]] = {
    "report": ("matplotlib", "lifelines", "scipy"),
    "fhir": ("fhir.resources", "orjson"),
    "service": (
        "fastapi",
        "uvicorn",
        "sqlalchemy",
        "alembic",
        "argon2",
        "python_multipart",
        "jinja2",
        "psycopg",
        # the service draws plots and serves FHIR Bundles
        "matplotlib",
        "lifelines",
        "scipy",
        "fhir.resources",
        "orjson",
    ),
    "spark": ("pyspark",),
}


class MissingExtra(ImportError):
    """An optional dependency of a feature is not installed; the message is one line."""

    def __init__(self, extra: str, module: str, feature: str | None = None):
        self.extra = extra
        self.module = module
        what = feature or "this feature of remission"
        super().__init__(
            f"{what} needs the [{extra}] extra ({module.split('.')[0]} is not installed): "
            f"pip install 'remission[{extra}]'"
        )
        self.name = module


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:  # the parent package of a dotted name is missing
        return False


def missing(extra: str) -> list[str]:
    """The modules of ``extra`` that cannot be imported (empty when it is installed)."""
    return [m for m in EXTRAS[extra] if not _installed(m)]


def require(extra: str, feature: str | None = None) -> None:
    """Raise :class:`MissingExtra` unless every module of ``extra`` is importable."""
    gone = missing(extra)
    if gone:
        raise MissingExtra(extra, gone[0], feature)
