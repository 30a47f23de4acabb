"""Tiny notebooks for pipeline tests: a title, a parameters cell and one code cell."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

#: Runs a command below a subreaper (tests/adopter.py): orphans stay with that process.
ADOPTER = (sys.executable, str(Path(__file__).with_name("adopter.py")))


def adopted(argv: list[str], tmp_path: Path, **popen) -> subprocess.Popen:
    """``argv`` started below the adopter, its temporary files in ``tmp_path/t``: a process
    killed with SIGKILL cannot remove them, so they stay in the test's folder, not in /tmp.
    (A short name: kernel socket paths below it must stay under the 107-byte limit.)"""
    temp = tmp_path / "t"
    temp.mkdir(exist_ok=True)
    env = {**os.environ, "TMPDIR": str(temp)}
    return subprocess.Popen([*ADOPTER, *argv], env=env, **popen)


#: The start of a probe's parameters cell: the two parameters every run sets.
RUN_PARAMETERS = 'data_path: str = "x.csv"\noutput_dir: str = "."\n'
#: ... with the share_safe a share run sets.
SHARE_PARAMETERS = RUN_PARAMETERS + "share_safe: bool = False"


def write_probe(folder: Path, parameters: str, body: str, name: str = "01_probe") -> Path:
    """``folder`` (created) holding ``name``.ipynb: ``parameters`` as the tagged parameters cell, then ``body``."""
    folder.mkdir()
    nb = new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    params = new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [new_markdown_cell(f"# {name}"), params, new_code_cell(body)]
    nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


def write_recording_probe(folder: Path, parameters: str, values: str) -> Path:
    """A probe writing ``values`` (a dict expression) as JSON to tables/probe.json of its run."""
    return write_probe(
        folder,
        parameters,
        "import json, os\n"
        "os.makedirs(os.path.join(output_dir, 'tables'), exist_ok=True)\n"
        "with open(os.path.join(output_dir, 'tables', 'probe.json'), 'w') as fh:\n"
        f"    json.dump({values}, fh)",
    )


def recorded(run: Path) -> dict:
    """What a recording probe wrote in the run folder ``run``."""
    return json.loads((run / "tables" / "probe.json").read_text(encoding="utf-8"))


def is_kernel(proc) -> bool:
    """Whether the ``psutil.Process`` is a notebook kernel: started as ``ipykernel_launcher``, or
    forked by a run's kernel fork server (``python -m pipeline.kernels``, its parent)."""
    import psutil

    try:
        command = " ".join(proc.cmdline())
        if "ipykernel_launcher" in command:
            return True
        parent = proc.parent()
        return "pipeline.kernels" in command and "pipeline.kernels" in " ".join(parent.cmdline())
    except (psutil.Error, AttributeError):  # gone between listing and reading; no parent left
        return False


def still_running(processes, within: float = 0.0) -> list:
    """Those of ``processes`` (``psutil.Process`` objects) still running after at most ``within``
    seconds. A zombie has ended (it waits for its parent to reap it), and so has a process whose
    id another has since taken."""
    import psutil

    def running(proc) -> bool:
        try:
            return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    deadline = time.monotonic() + within
    while (left := [p for p in processes if running(p)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left
