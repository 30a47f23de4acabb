"""The run directory on disk: where a run may write, its lock, and the final swap.

A run only deletes or replaces what it made:

* ``--out`` is refused when it is the root folder, a file, the current folder
  or one above it, the input file or a folder holding an input, or (with
  ``--force``) an existing folder that is neither empty nor a run directory
  (one holding this tool's ``manifest.json``);
* the run is built in ``<out>.partial``, which it creates itself (an existing
  one is left alone and the run refused);
* a failed run is renamed to the first free name of ``<out>.failed``,
  ``<out>.failed.2``, ...; an existing ``<out>.old`` or ``.failed`` is never touched;
* ``<out>`` is replaced in one atomic exchange where the file system allows it.

A lock (``fcntl.flock`` on ``.<out name>.lock`` beside ``<out>``) lets one run
at a time write a given ``<out>``.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import json
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

MANIFEST = "manifest.json"
#: ``manifest.json["tool"]`` of a run directory written by this tool.
TOOL = "python -m helpers run"


class RunDirError(Exception):
    """``--out`` cannot be used; ``str()`` is a one-line message (exit status 2)."""

    exit_status = 2


class InterruptedAfterCompletion(KeyboardInterrupt):
    """An interrupt that arrived while the complete run was being moved into place."""


def staging_dir(out: Path) -> Path:
    """Where a run is built before it is complete: ``<out>.partial``."""
    return out.with_name(out.name + ".partial")


def failed_dir(out: Path) -> Path:
    """The first free name of ``<out>.failed``, ``<out>.failed.2``, ... for a failed run."""
    candidate, number = out.with_name(out.name + ".failed"), 1
    while os.path.lexists(candidate):
        number += 1
        candidate = out.with_name(f"{out.name}.failed.{number}")
    return candidate


def is_run_directory(path: Path) -> bool:
    """Whether ``path`` is a folder holding a ``manifest.json`` written by this tool."""
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and (
        manifest.get("tool") == TOOL
        or {"input", "parameters", "packages", "durations_seconds"} <= manifest.keys())


def check_out(out: Path, inputs: Iterable[Path], force: bool) -> None:
    """Refuse an ``--out`` the run must not write or replace.

    Parameters
    ----------
    out : Path
        Absolute run directory.
    inputs : iterable of Path
        Files the run reads; none may be ``out`` or inside it.
    force : bool
        Whether an existing run directory may be replaced.

    Raises
    ------
    RunDirError
        With a one-line message saying why.
    """
    real = Path(os.path.realpath(out))
    if real == Path(real.anchor):
        raise RunDirError(f"--out {out} is the root folder; choose a new folder for the run")
    if os.path.lexists(out) and not out.is_dir():
        raise RunDirError(f"--out {out} is a file, not a folder; choose a new folder for the run")
    cwd = Path(os.path.realpath(os.getcwd()))
    if real == cwd or real in cwd.parents:
        raise RunDirError(f"--out {out} is the current folder or holds it; choose a new folder "
                          "for the run")
    for path in inputs:
        source = Path(os.path.realpath(path))
        if source == real or real in source.parents:
            raise RunDirError(f"--out {out} holds the input file {path}; choose a folder that "
                              "does not contain the input")
    if out.is_dir():
        if not force:
            raise RunDirError(f"{out} already exists; pass --force to replace it or --out "
                              "to write elsewhere")
        if not is_run_directory(out) and any(out.iterdir()):
            raise RunDirError(f"{out} is not a run directory (no {MANIFEST} of `{TOOL}`) and "
                              "is not empty: --force replaces only a previous run; choose "
                              "another --out")


@contextlib.contextmanager
def run_lock(out: Path) -> Iterator[Path]:
    """Hold the lock of ``out`` (``.<name>.lock`` beside it) for the duration of the block.

    The folder above ``out`` is created if needed. The lock file is removed on
    leaving the block.

    Raises
    ------
    RunDirError
        When another run holds the lock.
    OSError
        When the lock file cannot be created (e.g. no permission).
    """
    lock = out.with_name(f".{out.name}.lock")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            held = os.stat(lock).st_ino == os.fstat(fd).st_ino  # not a file a finishing run removed
        except (BlockingIOError, FileNotFoundError):
            held = False
        if not held:
            raise RunDirError(f"another run is writing {out} (lock {lock.name}); wait for it to "
                              "finish or choose another --out")
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        try:
            yield lock
        finally:
            with contextlib.suppress(OSError):
                os.unlink(lock)
    finally:
        os.close(fd)


def make_staging(out: Path) -> Path:
    """Create ``<out>.partial`` (and nothing else); refuse when it already exists."""
    staging = staging_dir(out)
    try:
        staging.mkdir()
    except FileExistsError:
        raise RunDirError(f"{staging} exists (an interrupted run, or someone else's folder); it "
                          "is left as it is: remove it or choose another --out") from None
    return staging


def _renameat2(source: Path, target: Path, flag: int) -> bool:
    """Linux ``renameat2``; False where the C library or file system lacks it."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd = -100
    if renameat2(at_fdcwd, os.fsencode(source), at_fdcwd, os.fsencode(target), flag) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(target))


_RENAME_NOREPLACE, _RENAME_EXCHANGE = 1, 2


def rename_new(source: Path, target: Path) -> None:
    """Rename ``source`` to ``target``, never replacing anything at ``target``."""
    if not _renameat2(source, target, _RENAME_NOREPLACE):
        if os.path.lexists(target):
            raise FileExistsError(errno.EEXIST, "File exists", str(target))
        source.rename(target)


def keep_failed(staging: Path, out: Path) -> Path | None:
    """Rename a failed run's ``staging`` to a free ``.failed`` name; None if it cannot be kept."""
    target = failed_dir(out)
    try:
        rename_new(staging, target)
    except OSError:
        return None
    return target


def swap_into_place(staging: Path, out: Path) -> None:
    """Move the complete ``staging`` to ``out``, replacing a previous run at ``out``.

    With Linux ``renameat2(RENAME_EXCHANGE)`` the two folders change places in
    one step and the previous run is then removed; elsewhere ``out`` first
    moves to a hidden name this run creates. SIGINT and SIGTERM are held back
    while the renames run (an interrupt is raised afterwards, as
    :class:`InterruptedAfterCompletion`); Python-level handlers are used, not a
    signal mask, which covers only the calling thread.
    """
    arrived: list[int] = []
    previous = {}
    if threading.current_thread() is threading.main_thread():  # handlers can only be set there
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda signum, frame: arrived.append(signum))
    trash = None
    try:
        if not out.exists():
            rename_new(staging, out)
        else:
            trash = Path(tempfile.mkdtemp(prefix=f".{out.name}.replaced-", dir=out.parent))
            if _renameat2(staging, out, _RENAME_EXCHANGE):
                staging.rename(trash)  # onto the empty folder made for it
            else:
                out.rename(trash)
                staging.rename(out)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if trash is not None:
        shutil.rmtree(trash, ignore_errors=True)
    if arrived:
        raise InterruptedAfterCompletion(out)
