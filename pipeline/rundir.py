"""The run directory on disk: where a run may write, its lock, and the final swap.

A run only deletes or replaces what it made: ``--out`` is refused when it is the root,
a file, a symbolic link, the current folder or above it, an input or a folder holding one, or (with
``--force``) a non-empty folder that is not a run directory (no ``manifest.json``). The
run is built in ``<out>.partial`` (created here; an existing one refuses the run), a failed
run becomes the first free ``<out>.failed[.N]``, and ``<out>`` is replaced in one atomic
exchange where the file system allows. A ``flock`` lets one run at a time write ``<out>``.
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
TOOL = "python -m pipeline run"


class RunDirError(Exception):
    """``--out`` cannot be used; ``str()`` is a one-line message (exit status 2)."""

    exit_status = 2


class InterruptedAfterCompletion(KeyboardInterrupt):
    """An interrupt that arrived while the complete run was being moved into place."""


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
        or {"input", "parameters", "packages", "durations_seconds"} <= manifest.keys()
    )


def check_out(out: Path, inputs: Iterable[Path], force: bool) -> None:
    """Raise :class:`RunDirError` (one line why) for an ``--out`` the run must not write
    or replace; ``inputs`` may be neither ``out`` nor inside it."""
    if os.path.islink(out):
        # The run is swapped into place by renaming: a link would be moved aside, not followed.
        raise RunDirError(
            f"--out {out} is a symbolic link (to {os.readlink(out)}); give the folder it "
            "points to, or a new folder, as --out"
        )
    real = Path(os.path.realpath(out))
    if real == Path(real.anchor):
        raise RunDirError(f"--out {out} is the root folder; choose a new folder for the run")
    if os.path.lexists(out) and not out.is_dir():
        raise RunDirError(f"--out {out} is a file, not a folder; choose a new folder for the run")
    cwd = Path(os.path.realpath(os.getcwd()))
    if real == cwd or real in cwd.parents:
        raise RunDirError(
            f"--out {out} is the current folder or holds it; choose a new folder for the run"
        )
    for path in inputs:
        source = Path(os.path.realpath(path))
        if source == real or real in source.parents:
            raise RunDirError(
                f"--out {out} holds the input file {path}; choose a folder that "
                "does not contain the input"
            )
    if out.is_dir():
        if not force:
            raise RunDirError(
                f"{out} already exists; pass --force to replace it or --out to write elsewhere"
            )
        if not is_run_directory(out) and any(out.iterdir()):
            raise RunDirError(
                f"{out} is not a run directory (no {MANIFEST} of `{TOOL}`) and "
                "is not empty: --force replaces only a previous run; choose "
                "another --out"
            )


@contextlib.contextmanager
def run_lock(out: Path) -> Iterator[Path]:
    """Hold the lock ``.<name>.lock`` beside ``out`` for the block (folder above created,
    lock file removed after); RunDirError when another run holds it."""
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
            raise RunDirError(
                f"another run is writing {out} (lock {lock.name}); wait for it to "
                "finish or choose another --out"
            )
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
    staging = out.with_name(out.name + ".partial")
    try:
        staging.mkdir()
    except FileExistsError:
        raise RunDirError(
            f"{staging} exists (an interrupted run, or someone else's folder); it "
            "is left as it is: remove it or choose another --out"
        ) from None
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


def keep_failed(staging: Path, out: Path) -> None:
    """Rename a failed run's ``staging`` to a free ``.failed`` name, if it can be."""
    with contextlib.suppress(OSError):
        rename_new(staging, failed_dir(out))


def swap_into_place(staging: Path, out: Path) -> None:
    """Move the complete ``staging`` to ``out``, replacing a previous run: one
    ``renameat2(RENAME_EXCHANGE)`` on Linux, else via a hidden name. SIGINT/SIGTERM are
    held back meanwhile (then raised as :class:`InterruptedAfterCompletion`)."""
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
