"""Run records: what made the files of an output folder (issue 16 item 11).

Every command that writes an output folder (``assess``, ``adam``, ``adam-irecist``,
``adam-lugano``, ``omop``, ``fhir import``) also writes ``run.json`` there, a small record a
trial programmer can file for QC:

* ``package``/``version``: ``remission`` and its installed version (:func:`version`);
* ``command``: the command (``remission adam``) and ``options``: every option of the run,
  defaults included, as the command received them (paths as given);
* ``as_of``: the status date of the run (``null`` for commands without one);
* ``inputs``: every input file read (a folder: each file in it, sorted by path) with its
  size and SHA-256; ``outputs``: the same for each file the command wrote;
* ``created``: UTC time of writing; ``python``: the interpreter version.

``run.json`` is written last, after the outputs, so it describes a finished run; a run that
stops on an input error writes nothing (no outputs, no record).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
from enum import Enum
from pathlib import Path
from typing import Any, Iterable, Mapping

__all__ = ["version", "file_digest", "run_record", "write_run_record", "RUN_RECORD"]

#: File name of the run record in an output folder.
RUN_RECORD = "run.json"


def version() -> str:
    """The installed package version (``importlib.metadata``), else the source's ``__version__``."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("remission")
    except PackageNotFoundError:  # running from a source tree that is not installed
        from remission import __version__

        return __version__


def file_digest(path: Path) -> dict[str, Any]:
    """``{"path", "bytes", "sha256"}`` of one file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return {"path": str(path), "bytes": path.stat().st_size, "sha256": h.hexdigest()}


def _files(paths: Iterable[str | Path | None], skip: set[Path] = frozenset()) -> list[dict[str, Any]]:
    seen: dict[Path, None] = {}
    for p in paths:
        if p is None:
            continue
        p = Path(p)
        if p.is_dir():
            for f in sorted(x for x in p.rglob("*") if x.is_file()):
                seen.setdefault(f, None)
        elif p.is_file():
            seen.setdefault(p, None)
    return [file_digest(f) for f in seen if f.resolve() not in skip]


def _plain(value: Any) -> Any:
    """An option value as JSON: enums by value, paths and dates as text, lists and dicts kept."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (Path, dt.date)):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    return value


def run_record(
    command: str,
    options: Mapping[str, Any],
    *,
    as_of: dt.date | str | None = None,
    inputs: Iterable[str | Path | None] = (),
    outputs: Iterable[str | Path] = (),
    shown_as: tuple[Path, Path] | None = None,
) -> dict[str, Any]:
    """The run record (module docstring) as a dict.  ``shown_as=(written_in, final)``:
    the outputs are hashed where they are (a partial folder) but recorded under the folder
    they will be renamed to."""
    out_files = [Path(p) for p in outputs]
    skip = {p.resolve() for p in out_files}
    outs = _files(out_files)
    if shown_as is not None:
        src, dst = (Path(x) for x in shown_as)
        for o in outs:
            rel = Path(o["path"]).resolve().relative_to(src.resolve()) if Path(o["path"]).resolve().is_relative_to(src.resolve()) else None
            if rel is not None:
                o["path"] = str(dst / rel)
    return {
        "package": "remission",
        "version": version(),
        "command": command,
        "options": _plain(dict(options)),
        "as_of": None if as_of is None else str(as_of),
        "inputs": _files(inputs, skip),
        "outputs": outs,
        "created": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "python": platform.python_version(),
    }


def write_run_record(
    out_dir: str | Path,
    command: str,
    options: Mapping[str, Any],
    *,
    as_of: dt.date | str | None = None,
    inputs: Iterable[str | Path | None] = (),
    outputs: Iterable[str | Path] = (),
    shown_as: Path | None = None,
) -> Path:
    """Write ``run.json`` into ``out_dir`` (module docstring) and return its path;
    ``shown_as``: the folder ``out_dir`` will be renamed to (the outputs are recorded there)."""
    path = Path(out_dir) / RUN_RECORD
    path.parent.mkdir(parents=True, exist_ok=True)
    record = run_record(command, options, as_of=as_of, inputs=inputs, outputs=outputs,
                        shown_as=None if shown_as is None else (Path(out_dir), Path(shown_as)))
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
