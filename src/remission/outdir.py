"""An output folder that a run replaces in one step (``remission assess --out``).

A run writes every file into a hidden sibling folder ``.<name>.partial-<pid>`` (same file
system) and only when the run has succeeded puts it in the place of ``<name>``:

* ``<name>`` absent: one ``rename`` (atomic);
* ``<name>`` present (an earlier run): the entries of the old folder that the new run did
  not write (a report the user put there, say) are hard-linked (copied when links are not
  possible) into the new folder, then the two folders are exchanged in one step
  (Linux ``renameat2(RENAME_EXCHANGE)``; elsewhere two renames, the old folder kept as
  ``.<name>.previous-<pid>`` in between) and the old one is removed.

So a run that fails, is refused (bad input: nothing written) or is killed (``kill -9``)
leaves ``<name>`` exactly as it was: the earlier complete run, or nothing.  What a killed
run leaves is its ``.<name>.partial-<pid>`` folder, named as such; the next run in the same
place removes every ``.partial-``/``.previous-`` folder whose process is gone
(:func:`clean_stale`).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Iterator

_STALE = re.compile(r"^\.(?P<name>.+)\.(partial|previous)-(?P<pid>\d+)$")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(out: Path) -> list[Path]:
    """Remove the partial and previous folders of ``out`` left by runs that no longer run."""
    removed = []
    parent = out.parent
    if not parent.is_dir():
        return removed
    for entry in parent.iterdir():
        m = _STALE.match(entry.name)
        if m and m["name"] == out.name and entry.is_dir() and not _alive(int(m["pid"])):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    AT_FDCWD, RENAME_EXCHANGE = -100, 2
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    rc = fn(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE)
    return rc == 0


def _carry_over(old: Path, new: Path) -> None:
    """Entries of ``old`` that ``new`` lacks, linked (or copied) into ``new``."""
    for entry in old.iterdir():
        target = new / entry.name
        if target.exists() or _STALE.match(entry.name):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.copytree(entry, target, copy_function=_link_or_copy, symlinks=True)
        else:
            _link_or_copy(entry, target)


def _link_or_copy(src, dst) -> None:
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:
        shutil.copy2(src, dst, follow_symlinks=False)


def commit(tmp: Path, out: Path) -> None:
    """Put the finished folder ``tmp`` in the place of ``out`` (see the module docstring)."""
    if not out.exists():
        os.rename(tmp, out)
        return
    if not out.is_dir():
        raise NotADirectoryError(f"--out {out} exists and is not a folder")
    _carry_over(out, tmp)
    if _exchange(tmp, out):
        shutil.rmtree(tmp, ignore_errors=True)  # now the old run
        return
    previous = out.parent / f".{out.name}.previous-{os.getpid()}"
    os.rename(out, previous)
    os.rename(tmp, out)
    shutil.rmtree(previous, ignore_errors=True)


@contextlib.contextmanager
def atomic_out(out: str | Path) -> Iterator[Path]:
    """``with atomic_out(out) as tmp:`` write into ``tmp``; on success ``tmp`` becomes
    ``out`` in one step, on any exception (or SIGTERM turned into one) it is removed."""
    out = Path(out).absolute()
    created = [d for d in [out.parent, *out.parent.parents] if not d.exists()]
    out.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(out)
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        for d in created:  # folders made for this run only: nothing is left behind
            with contextlib.suppress(OSError):
                d.rmdir()
        raise
    # SIGTERM is held back while the folders are swapped (delivered right after)
    import signal

    blocked = hasattr(signal, "pthread_sigmask")
    if blocked:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        commit(tmp, out)
    finally:
        if blocked:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        # anything else that stopped the commit: what is left in ``tmp`` is either the new
        # run not yet in place or, after the exchange, the old run; neither is kept
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def sigterm_as_exit(code: int = 143) -> Iterator[None]:
    """Within the block, SIGTERM raises ``SystemExit(code)`` (so clean-up code runs) instead
    of ending the process at once; the previous handler is restored afterwards."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(_signum, _frame):
        raise SystemExit(code)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
