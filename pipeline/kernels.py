"""Notebook kernels forked from a process that has already imported the analysis packages.

A kernel started as ``python -m ipykernel_launcher`` spends most of a small notebook's time
importing IPython, pandas, scipy and matplotlib. During a run every notebook still gets a new
kernel process of its own, so nothing carries over from one notebook to the next, but that
process is forked from a *fork server* that imported those packages once, so it starts in a
fraction of a second. Packages only some notebooks use (statsmodels, lifelines) are imported by
those notebooks' kernels; a run whose notebooks use none of the analysis packages gets a server
that imports the kernel alone (:func:`preload_for`).

The run starts the server (:class:`ForkServer`) and stops it when its notebooks are done; the
server ends with the run even when the run is killed, and each kernel ends with the server. A
kernel is not a child of the process that runs its notebook, so that process watches it through
a pid file descriptor (Linux); elsewhere kernels start as jupyter_client starts them. jupyter_client
has no launcher for this, hence the provisioner: it differs from jupyter_client's local one only
in how the kernel process starts and how its end is seen.

Either way a kernel ends with the process that runs its notebook, even one killed by ``kill -9``.
ipykernel's own watch of its parent misses a parent that dies while the kernel is still
importing (it then waits to be adopted by init, which a subreaper prevents), so a started kernel
gets a death signal before it runs anything.

The processes that run notebooks (a run's workers, a batch's run workers) share one life cycle,
:func:`worker_pool`: they die with the process that started them, and SIGTERM stops the work in
hand as Ctrl-C would, so its kernels are shut down and a partial run is removed.

Run as ``python -m pipeline.kernels`` by :class:`ForkServer`, this module is the server.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
import importlib
import importlib.util
import json
import os
import re
import select
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_client import AsyncKernelManager, KernelManager
from jupyter_client.provisioning import LocalProvisioner
from traitlets import Unicode
from traitlets.config import LoggingConfigurable

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

#: Imported once by the fork server, before any kernel is forked from it: the packages
#: every notebook imports (the kernel itself, the data stack, the figure stack), and what
#: they load on first use in nearly every notebook: pandera's checks (validating the input),
#: openpyxl and pandas' Styler (writing and showing a table).
PRELOAD = (
    "ipykernel.kernelapp",
    "pandas",
    "scipy.stats",
    "pandera.pandas",
    "pandera.backends.pandas.builtin_checks",
    "matplotlib.pyplot",
    "seaborn",
    "openpyxl",
    "pandas.io.formats.style",
    "helpers.loading",
)
#: What a fork server imports for notebooks that import none of :data:`PRELOAD`'s packages
#: (a user's own small notebooks): the kernel alone, as ipykernel_launcher would.
KERNEL_ONLY = PRELOAD[:1]
#: A notebook line importing one of :data:`PRELOAD`'s packages after the kernel (``helpers``, ...).
_PACKAGES = "|".join(sorted({re.escape(name.split(".")[0]) for name in PRELOAD[1:]}))
_ANALYSIS_IMPORT = re.compile(rf"^[ \t]*(?:from|import)[ \t]+(?:{_PACKAGES})\b", re.MULTILINE)
#: The backend ipykernel gives matplotlib when the environment names none. matplotlib reads
#: ``MPLBACKEND`` when it is imported, so the server sets it before importing.
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
#: Kernels are forked only for runs (or batches) of at least this many notebooks: the fork
#: server's own imports cost about as much as starting two kernels the usual way.
FORK_FROM_NOTEBOOKS = 3
#: Environment variable naming the socket of a fork server already running (started by the caller
#: as :class:`ForkServer`): a run or batch forks its kernels from it instead of starting its own,
#: for a caller that starts many runs one after another (a test session).
SERVER_VARIABLE = "PIPELINE_FORK_SERVER"
#: Seconds the run waits for the server to end once its notebooks are done.
STOP_TIMEOUT = 30
#: Seconds the server waits for a request once a client has connected.
REQUEST_TIMEOUT = 10


def die_with_runner(runner: int, death_signal: int) -> None:
    """In a forked worker: receive ``death_signal`` when the runner ``runner`` dies (even by
    ``kill -9``; Linux ``PR_SET_PDEATHSIG``), and exit at once if it is already gone."""
    prctl = _prctl()
    if prctl is not None:
        pr_set_pdeathsig = 1
        prctl(pr_set_pdeathsig, death_signal)
    if os.getppid() != runner:  # the runner died before the death signal was set
        os._exit(1)


_RUNNER = 0  # in a pool worker: the runner's process id
_BUSY = False  # in a pool worker: whether a notebook or run is going on
_STOPPING = False  # in a pool worker: whether SIGTERM came (the runner stopping it, or dead)


def worker_started(
    runner: int, death_signal: int = signal.SIGKILL, ignore_sigint: bool = False
) -> None:
    """Pool worker initializer: ``death_signal`` when the runner dies, SIGINT ignored if
    ``ignore_sigint`` (the runner stops its workers itself), and SIGTERM stops the work in
    :func:`stoppable` as Ctrl-C does."""
    global _RUNNER, _BUSY, _STOPPING
    # A worker forked by a worker (a batch run's notebook worker) starts idle, not busy.
    _RUNNER, _BUSY, _STOPPING = runner, False, False
    die_with_runner(runner, death_signal)
    if ignore_sigint:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _worker_terminated)


def _worker_terminated(signum, frame):
    global _STOPPING
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the clean-up short
    _STOPPING = True
    if _BUSY:
        raise KeyboardInterrupt
    os._exit(0)


def orphaned() -> bool:
    """In a pool worker: whether its runner has gone (nobody waits for the outcome)."""
    return bool(_RUNNER) and os.getppid() != _RUNNER


@contextlib.contextmanager
def stoppable() -> Iterator[None]:
    """In a pool worker: the work SIGTERM interrupts (KeyboardInterrupt); a worker so stopped
    exits after it (130), since back in the pool it would wait for work with SIGTERM ignored."""
    global _BUSY
    _BUSY = True
    try:
        yield
    finally:
        _BUSY = False
        if _STOPPING:
            os._exit(130)


@contextlib.contextmanager
def worker_pool(
    workers: int, initializer: Callable, notebooks: Iterable[Path], fork: bool, given: str = ""
) -> Iterator[tuple[ProcessPoolExecutor, str]]:
    """A pool of ``workers`` forked processes, each starting with ``initializer(runner pid)``, and
    the socket of the fork server their kernels come from: ``given``, else one started for
    ``notebooks`` if ``fork``, else "". An exception stops the workers (:func:`stop_workers`);
    otherwise they are waited for. The server is closed either way."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    before = set(multiprocessing.active_children())
    pool = ProcessPoolExecutor(
        workers, multiprocessing.get_context("fork"), initializer, (os.getpid(),)
    )
    server = None
    try:
        server = ForkServer(preload_for(notebooks)) if fork and not given else None
        yield pool, given or (server.address if server else "")
    except BaseException:
        stop_workers(pool, before)
        raise
    else:
        pool.shutdown(wait=True)
    finally:
        if server is not None:
            server.close()


def stop_workers(pool: ProcessPoolExecutor, before: set) -> None:
    """Stop the pool's workers: SIGTERM (each shuts its kernel down), then wait for them."""
    import multiprocessing

    workers = [p for p in multiprocessing.active_children() if p not in before]
    for proc in workers:
        with contextlib.suppress(OSError):
            proc.terminate()
    deadline = time.monotonic() + 30
    for proc in workers:
        while proc.is_alive() and time.monotonic() < deadline:
            try:
                proc.join(max(0.0, deadline - time.monotonic()))
            except KeyboardInterrupt:  # a second Ctrl-C: keep waiting for the kernels
                continue
        if proc.is_alive():
            proc.kill()
            proc.join()
    pool.shutdown(wait=True, cancel_futures=True)


@functools.cache
def _prctl():
    """Linux's ``prctl``, looked up once (before a fork: the child must not load libraries)."""
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def available() -> bool:
    """Whether kernels can be forked here (Linux: pid file descriptors)."""
    return hasattr(os, "pidfd_open") and hasattr(socket, "send_fds")


def given_server() -> str:
    """The socket named by :data:`SERVER_VARIABLE` if it is one here and kernels can be forked,
    else "" (the run then starts kernels as it would without it)."""
    address = os.environ.get(SERVER_VARIABLE, "")
    try:
        return address if available() and stat.S_ISSOCK(os.stat(address).st_mode) else ""
    except OSError:
        return ""


def worth_forking(notebooks: int) -> bool:
    """Whether a fork server pays for ``notebooks`` kernels, and kernels can be forked here."""
    return notebooks >= FORK_FROM_NOTEBOOKS and available()


def preload_for(notebooks: Iterable[Path]) -> tuple[str, ...]:
    """What a fork server for ``notebooks`` imports: :data:`PRELOAD` if any of them imports
    one of its packages (the analysis notebooks all do), else :data:`KERNEL_ONLY`. A notebook
    that cannot be read as JSON counts as importing them (its run reports the error)."""
    for path in notebooks:
        try:
            cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
            sources = ("".join(c["source"]) for c in cells if c["cell_type"] == "code")
            if any(_ANALYSIS_IMPORT.search(source) for source in sources):
                return PRELOAD
        except (OSError, ValueError, KeyError, TypeError, RecursionError):
            return PRELOAD
    return KERNEL_ONLY


class ForkServer:
    """The fork server of one run: ``address`` is its socket while the ``with`` block lasts.
    It imports the modules ``preload`` names before forking any kernel."""

    def __init__(self, preload: Sequence[str] = PRELOAD) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="nbz-")
        self.address = os.path.join(self._folder.name, "server")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # Bound and listening before the server starts: kernels asked for while it imports wait.
        listener.bind(self.address)
        listener.listen(16)
        env = {**os.environ}
        env.setdefault("MPLBACKEND", INLINE_BACKEND)
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pipeline.kernels",
                str(listener.fileno()),
                str(os.getpid()),
                *preload,
            ],
            stdin=subprocess.PIPE,
            pass_fds=(listener.fileno(),),
            env=env,
        )
        listener.close()

    def __enter__(self) -> ForkServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """End of input: the server waits for its kernels to end (their processor time then
        counts towards this process tree), then exits."""
        with contextlib.suppress(OSError):
            self._process.stdin.close()
        try:
            self._process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._folder.cleanup()


# --- the server --------------------------------------------------------------------------


def serve(listener: socket.socket, runner: int, preload: Sequence[str]) -> None:
    """Import ``preload``, then fork a kernel for each request on ``listener`` until standard
    input closes; end with the process ``runner`` that started the server."""
    die_with_runner(runner, signal.SIGKILL)
    # Ctrl-C reaches the run's whole process group: the runner stops the server itself. The
    # kernels start with SIGINT ignored too, as those started by a worker do.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in preload:
        # only a head start: a module another version of a package lacks is left to the kernels
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    # The preloaded objects live as long as a kernel: its garbage collector leaves them out (and
    # so does not write to, and copy, the memory pages the kernels share with this process).
    gc.freeze()
    ended: dict[int, int] = {}
    while True:
        ready, _, _ = select.select([listener, sys.stdin], [], [])
        if sys.stdin in ready and not sys.stdin.buffer.read1(1):
            break
        if listener in ready:
            conn, _ = listener.accept()
            # A client that leaves early or sends nothing must not stop the server: every later
            # notebook of the run (or batch) needs it. A kernel forked for it ends with its worker.
            with conn, contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                conn.settimeout(REQUEST_TIMEOUT)
                request = json.loads(conn.makefile("rb").readline())
                if "start" in request:
                    _start(conn, listener, request["start"])
                else:
                    conn.sendall(b"%d\n" % _exit_status(request["status"], ended))
    with contextlib.suppress(ChildProcessError):
        while True:
            os.wait()


def _start(conn: socket.socket, listener: socket.socket, kernel: dict[str, Any]) -> None:
    """Fork the kernel for the worker process ``kernel["worker"]``; send its pid and a pid file
    descriptor back."""
    worker = os.pidfd_open(kernel.pop("worker"))  # before the fork: that pid cannot be reused
    server = os.getpid()
    try:
        pid = os.fork()
        if pid == 0:
            conn.close()
            listener.close()
            _become_kernel(server=server, worker=worker, **kernel)
    finally:
        os.close(worker)
    pidfd = os.pidfd_open(pid)
    try:
        socket.send_fds(conn, [b"%d\n" % pid], [pidfd])
    finally:
        os.close(pidfd)


def _end_with(pidfd: int) -> None:
    """Exit this process once the process behind ``pidfd`` has ended."""
    select.select([pidfd], [], [])
    os._exit(1)


def _exit_status(pid: int, ended: dict[int, int]) -> int:
    """The exit code of the kernel ``pid`` (which has ended), reaping it the first time."""
    if pid not in ended:
        try:
            ended[pid] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        except ChildProcessError:
            ended[pid] = 255
    return ended[pid]


def _become_kernel(
    argv: list[str], cwd: str, env: dict[str, str], server: int, worker: int
) -> None:
    """In the forked process: run as ``python -m ipykernel_launcher ARGV`` would, in ``cwd``, and
    end with the ``server`` process or the ``worker`` (a pid file descriptor) running its notebook.
    """
    code = 1
    try:
        os.setsid()  # a process group of its own: the kernel manager signals the group
        die_with_runner(server, signal.SIGKILL)
        # What ipykernel's parent poller does for a kernel its worker started (JPY_PARENT_PID).
        threading.Thread(target=_end_with, args=(worker,), daemon=True).start()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        if "numpy" in sys.modules:  # forked kernels must not share one unseeded random stream
            sys.modules["numpy"].random.seed()
        # As ipykernel_launcher: the starting folder is not on the path (IPython adds the cwd).
        if sys.path and sys.path[0] in ("", os.getcwd()):
            del sys.path[0]
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
        sys.argv = [importlib.util.find_spec("ipykernel_launcher").origin, *argv]
        from ipykernel import kernelapp

        kernelapp.launch_new_instance(argv=argv)
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


# --- the kernel's side in the process running a notebook ---------------------------------


def _ask(address: str, request: dict[str, Any]) -> tuple[bytes, list[int]]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(300)  # the server may still be importing
        conn.connect(address)
        conn.sendall(json.dumps(request).encode() + b"\n")
        message, fds, _, _ = socket.recv_fds(conn, 64, 1)
    return message, fds


class _ForkedKernel:
    """The parts of :class:`subprocess.Popen` that :class:`LocalProvisioner` uses, for a kernel
    forked by the server at ``address``."""

    stdin = stdout = stderr = None

    def __init__(self, address: str, pid: int, pidfd: int):
        self._address, self.pid, self._pidfd = address, pid, pidfd
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and select.select([self._pidfd], [], [], 0)[0]:
            try:
                message, _ = _ask(self._address, {"status": self.pid})
                self.returncode = int(message)
            except (OSError, ValueError):  # the server is gone: it was killed, and so was this
                self.returncode = -signal.SIGKILL
            os.close(self._pidfd)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int | None:
        if self.returncode is None:
            select.select([self._pidfd], [], [], timeout)
        return self.poll()

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class RunProvisioner(LocalProvisioner):
    """Starts ``python -m ipykernel_launcher ...`` as a fork of the run's server, or as
    jupyter_client starts it; either way the kernel dies with this process."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any):
        address = self.parent.fork_server
        if not address or "ipykernel_launcher" not in cmd:  # as jupyter_client starts one
            _prctl()
            kwargs["preexec_fn"] = functools.partial(die_with_runner, os.getpid(), signal.SIGKILL)
            return await super().launch_kernel(cmd, **kwargs)
        argv = cmd[cmd.index("ipykernel_launcher") + 1 :]
        cwd = str(kwargs.get("cwd") or Path.cwd())
        env = {**kwargs["env"], "JPY_PARENT_PID": str(os.getpid())}  # as jupyter_client sets it
        kernel = {"argv": argv, "cwd": cwd, "env": env, "worker": os.getpid()}
        message, fds = _ask(address, {"start": kernel})
        if not fds:
            raise RuntimeError(f"the kernel fork server at {address} started no kernel")
        self.process = _ForkedKernel(address, int(message), fds[0])
        self.pid = self.pgid = self.process.pid
        self.cwd = cwd
        return self.connection_info


class _RunKernels(LoggingConfigurable):
    """What a kernel manager needs to start kernels with :class:`RunProvisioner`."""

    fork_server = Unicode("", config=True, help="Socket of the run's kernel fork server.")

    async def _async_pre_start_kernel(self, **kw: Any):
        if self.provisioner is None:
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", None) or str(uuid.uuid4())
            self.provisioner = RunProvisioner(
                kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self
            )
        return await super()._async_pre_start_kernel(**kw)


class RunKernelManager(_RunKernels, AsyncKernelManager):
    """jupyter_client's kernel manager, with kernels that die with this process, forked by
    the server at ``fork_server`` (blank: started as jupyter_client starts them)."""


class RunBlockingKernelManager(_RunKernels, KernelManager):
    """The same for a caller that starts kernels synchronously (nbval)."""


if __name__ == "__main__":
    serve(socket.socket(fileno=int(sys.argv[1])), int(sys.argv[2]), sys.argv[3:])
