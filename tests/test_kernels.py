"""Kernels forked by a run's fork server behave as kernels started by ``ipykernel_launcher``."""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import time
from pathlib import Path

import nbformat
import papermill
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from probe_notebooks import adopted, is_kernel, still_running

from pipeline import kernels
from pipeline.run import KERNEL_NAME, kernel_config

pytestmark = [
    pytest.mark.slow,  # real kernels
    pytest.mark.skipif(not kernels.available(), reason="needs pid file descriptors"),
]

#: What a kernel sees on starting, printed as JSON by the probe's first cell.
WHAT_IT_SEES = """\
import json, os, sys
preloaded = "pandas" in sys.modules
import matplotlib
print(json.dumps({"cwd": os.getcwd(), "path": sys.path, "argv0": sys.argv[0],
                  "probe": os.environ.get("PROBE_SETTING"), "backend": matplotlib.get_backend(),
                  "main": sys.modules["__main__"].__name__, "preloaded": preloaded,
                  "environment": sorted(os.environ), "stdin": sys.stdin.fileno() if sys.stdin else None,
                  "open": sorted(int(fd) for fd in os.listdir("/proc/self/fd")
                                 if int(fd) > 2 and os.path.realpath(f"/proc/self/fd/{fd}") == os.devnull)}))"""
FIGURE = "import matplotlib.pyplot as plt\nplt.plot([0, 1], [1, 0]);"
LEAVE_STATE = """\
import json
import numpy as np
import pandas as pd
import helpers.loading
pd.set_option("display.max_rows", 7)
helpers.loading.LEFT_BY_ANOTHER_NOTEBOOK = True
print(json.dumps(np.random.random()))"""
READ_STATE = """\
import json
import numpy as np
import pandas as pd
import helpers.loading
print(json.dumps([pd.get_option("display.max_rows"),
                  hasattr(helpers.loading, "LEFT_BY_ANOTHER_NOTEBOOK"), np.random.random()]))"""
#: Run by another process: execute a notebook whose cell sleeps, in a kernel forked by the
#: server at argv[1] (blank: started), in folder argv[2].
RUN_A_SLEEPING_NOTEBOOK = """\
import sys
sys.path.insert(0, sys.argv[3])
from test_kernels import _execute
_execute(__import__("pathlib").Path(sys.argv[2]), "sleeping", ["import time; time.sleep(120)"],
         sys.argv[1])"""


def _execute(tmp_path, name: str, cells: list[str], fork_server: str) -> list:
    """Execute a notebook of ``cells`` in ``tmp_path``; the executed cells."""
    nb = new_notebook(cells=[new_code_cell(source) for source in cells])
    nb.metadata["kernelspec"] = {
        "name": KERNEL_NAME,
        "display_name": "Python 3",
        "language": "python",
    }
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(nb, path)
    with kernel_config(fork_server) as config:
        papermill.execute_notebook(
            str(path), str(path), cwd=str(tmp_path), kernel_name=KERNEL_NAME,
            progress_bar=False, config=config,
        )  # fmt: skip
    return nbformat.read(path, as_version=4).cells


def _printed(cell) -> object:
    return json.loads("".join(o["text"] for o in cell.outputs if o["output_type"] == "stream"))


@pytest.fixture(scope="module")
def one_server():
    """One fork server for the tests of what its kernels see and of clients that misbehave:
    each test must leave it able to fork the next kernel, as a run's server serves many."""
    with kernels.ForkServer() as server:
        yield server


@pytest.fixture(scope="module")
def kernel_only_server():
    """A fork server that imported the kernel alone, as a run of notebooks that import none of
    the analysis packages has."""
    with kernels.ForkServer(kernels.KERNEL_ONLY) as server:
        yield server


@pytest.mark.parametrize("server, preloaded", [("one_server", True), ("kernel_only_server", False)])
def test_a_forked_kernel_sees_the_folder_path_environment_and_backend_a_started_one_sees(
    tmp_path, monkeypatch, request, server, preloaded
):
    address = request.getfixturevalue(server).address
    monkeypatch.setenv("PROBE_SETTING", "set by the run")
    (tmp_path / "started").mkdir()
    (tmp_path / "forked").mkdir()
    started = _execute(tmp_path / "started", "probe", [WHAT_IT_SEES, FIGURE], "")
    forked = _execute(tmp_path / "forked", "probe", [WHAT_IT_SEES, FIGURE], address)
    seen_started, seen_forked = _printed(started[0]), _printed(forked[0])
    assert seen_forked.pop("cwd") == str(tmp_path / "forked")
    assert seen_started.pop("cwd") == str(tmp_path / "started")
    # the only difference: pandas imported before the first cell when the server preloads it
    assert (seen_started.pop("preloaded"), seen_forked.pop("preloaded")) == (False, preloaded)
    assert seen_forked == seen_started
    assert seen_forked["probe"] == "set by the run"
    assert seen_forked["backend"] == kernels.INLINE_BACKEND
    # the figure reaches the notebook as an inline image, as from a started kernel
    for cells in (started, forked):
        assert [o["output_type"] for o in cells[1].outputs][-1] == "display_data"
        assert "image/png" in cells[1].outputs[-1]["data"]


def _notebook_of(tmp_path: Path, *cells: str) -> Path:
    path = tmp_path / f"{len(list(tmp_path.iterdir())):02d}_probe.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell(source) for source in cells]), path)
    return path


@pytest.mark.parametrize(
    "cells, preload",
    [
        (["import json, os", "x = 1"], kernels.KERNEL_ONLY),
        (["import json", "from helpers.stats import exact_ci"], kernels.PRELOAD),
        (["import numpy as np\nif True:\n    import pandas as pd"], kernels.PRELOAD),
        (["import seaborn.objects as so"], kernels.PRELOAD),
        # named, but not imported: in a comment, a string, or as part of another name
        (
            ["# import pandas", "s = 'from helpers import x'", "import pandas_like"],
            kernels.KERNEL_ONLY,
        ),
    ],
)
def test_a_fork_server_preloads_the_analysis_packages_only_for_notebooks_that_import_one(
    tmp_path, cells, preload
):
    assert (
        kernels.preload_for([_notebook_of(tmp_path, "import time"), _notebook_of(tmp_path, *cells)])
        == preload
    )


def test_the_shipped_notebooks_and_an_unreadable_one_get_a_fork_server_with_the_analysis_packages(
    tmp_path,
):
    shipped = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
    assert kernels.preload_for(shipped) == kernels.PRELOAD
    (tmp_path / "01_broken.ipynb").write_text("{not json")
    (tmp_path / "02_deep.ipynb").write_text("[" * 200_000)  # too deep for the JSON parser
    for broken in ("01_broken.ipynb", "02_deep.ipynb"):
        assert kernels.preload_for([tmp_path / broken]) == kernels.PRELOAD


def test_nothing_one_forked_kernel_changes_reaches_the_next_notebook_s_kernel(tmp_path, one_server):
    first = _execute(tmp_path, "first", [LEAVE_STATE], one_server.address)
    second = _execute(tmp_path, "second", [READ_STATE], one_server.address)
    rows, state_seen = _printed(first[0]), _printed(second[0])
    assert state_seen[:2] == [60, False]
    # numpy's global random state is not copied from the server into every kernel
    assert state_seen[2] != rows


@pytest.mark.parametrize(
    ("forked", "wait"),
    [(False, 0), (True, 2)],
    ids=["started kernel, killed while it imports", "forked kernel, killed while it runs a cell"],
)
def test_a_kernel_ends_when_the_process_running_its_notebook_is_killed(tmp_path, forked, wait):
    import psutil

    others = set(psutil.Process().children(recursive=True))  # nbval's fork server, say
    # the notebook imports nothing of the analysis: its run's server would import the kernel alone
    server = kernels.ForkServer(kernels.KERNEL_ONLY) if forked else contextlib.nullcontext()
    with server:
        # Below a subreaper, as in CI: an orphaned kernel is not adopted by init.
        adopter = adopted(
            [sys.executable, "-c", RUN_A_SLEEPING_NOTEBOOK,
             server.address if forked else "", str(tmp_path), str(Path(__file__).parent)],
            tmp_path,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            kernel = []
            while not kernel and time.monotonic() < deadline:
                time.sleep(0.1)
                mine = set(psutil.Process().children(recursive=True)) - others
                kernel = [p for p in mine if is_kernel(p)]
            (kernel,) = kernel
            time.sleep(wait)
            (runner,) = psutil.Process(adopter.pid).children()
            runner.kill()
            assert still_running([kernel], within=10) == []
        finally:
            adopter.kill()
            adopter.wait()


@pytest.mark.parametrize(
    "client", ["sends nothing", "sends half a request", "leaves before the reply"]
)
def test_a_client_that_leaves_or_sends_nonsense_does_not_stop_the_fork_server(
    tmp_path, client, one_server
):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(one_server.address)
        if client == "sends half a request":
            conn.sendall(b'{"start": ')
        elif client == "leaves before the reply":
            conn.sendall(b'{"status": 1}\n')
    cells = _execute(tmp_path, "after", ["print(1 + 1)"], one_server.address)
    assert cells[0].outputs[0]["text"] == "2\n"


def test_a_fork_server_ends_with_its_kernels_once_closed(tmp_path):
    import psutil

    before = set(psutil.Process().children(recursive=True))  # nbval's fork server, say
    server = kernels.ForkServer(kernels.KERNEL_ONLY)
    pid = server._process.pid
    _execute(tmp_path, "probe", ["1 + 1"], server.address)
    assert psutil.pid_exists(pid)
    server.close()
    assert server._process.returncode == 0
    assert set(psutil.Process().children(recursive=True)) - before == set()


@pytest.mark.parametrize("named", [True, False], ids=["server named", "no server named"])
def test_a_run_forks_its_kernels_from_the_server_its_environment_names(tmp_path, one_server, named):
    import os

    from probe_notebooks import RUN_PARAMETERS, write_recording_probe
    from shared_runs import SHIPPED_COHORT, run_cli

    notebooks = write_recording_probe(
        tmp_path / "notebooks", RUN_PARAMETERS, "{'parent': os.getppid()}"
    )
    env = {k: v for k, v in os.environ.items() if k != kernels.SERVER_VARIABLE}
    if named:
        env[kernels.SERVER_VARIABLE] = one_server.address
    out = tmp_path / "run"
    args = ["run", "--data", str(SHIPPED_COHORT), "--out", str(out), "--notebooks", str(notebooks)]
    done = run_cli(*args, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    parent = json.loads((out / "tables" / "probe.json").read_text(encoding="utf-8"))["parent"]
    # a one-notebook run starts its kernel itself unless a server is named
    assert (parent == one_server._process.pid) is named
