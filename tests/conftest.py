"""Shared test helpers: small contract-valid cohorts, and finished runs made once per session.

Tests that only read a finished run share one (tests/shared_runs.py): ``shipped_run``
is made once per session for all pytest-xdist workers, and checked at teardown to be
unchanged (a test that must change it copies it first).

Scheduling: ``make test`` runs with ``--dist loadgroup``: every test is in the group
of its module, and the notebooks checked by nbval are one group, run in file order on
one worker (notebook 06 reads what 01-05 wrote). A group runs on one worker; the long
groups are sent first (:data:`LONG_FIRST`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from shared_runs import (
    run_followup_share,
    run_shipped,
    run_shipped_share,
    session_fork_server,
    shared,
    tree_digest,
)

if TYPE_CHECKING:  # imported where used: the controlling pytest process needs neither
    import pandas as pd

#: A contract-valid patient; tests override only the fields they are about.
DEFAULT_PATIENT = {
    "center": "C01",
    "source": "neuf",
    "sex": "male",
    "age_years": "40",
    "disease_status": "relapsed",
    "prior_lines": "2",
    "prior_hsct": "no",
    "ph_status": "negative",
    "bmb_baseline_pct": "60",
    "debulking_category": "steroids",
    "debulking_regimen": "dexamethasone",
    "debulking_to_blina_days": "7",
    "bmb_post_debulking_pct": "10",
    "blina_dose": "full",
    "blina_cycles": "2",
    "response": "none",
    "mrd_status": "",
    "crs": "no",
    "crs_grade": "",
    "hsct_after_blina": "no",
}


@pytest.fixture
def make_cohort(tmp_path: Path):
    """Return a builder: partial rows (defaults from DEFAULT_PATIENT) -> a loaded cohort."""

    def build(rows: list[dict]) -> pd.DataFrame:
        import pandas as pd

        from helpers import loading

        records = [
            {"patient_id": f"T{i:02d}", **DEFAULT_PATIENT, **row} for i, row in enumerate(rows, 1)
        ]
        path = tmp_path / "cohort.csv"
        pd.DataFrame(records).to_csv(path, index=False)
        return loading.load_cohort(path)

    return build


# --- finished runs shared by the whole session ---------------------------------------------


def _read_only(tmp_path_factory, name: str, make):
    """Yield the shared run ``name`` (made once by ``make``) and check at teardown that no test changed it."""
    out = shared(tmp_path_factory, name, make)
    before = tree_digest(out)
    yield out
    after = tree_digest(out)
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    assert not changed, f"a test changed the shared run: {sorted(changed)[:5]} (copy it first)"


@pytest.fixture(scope="session")
def shipped_run(tmp_path_factory) -> Path:
    """A finished run of every notebook on the shipped cohort (``python -m pipeline run``). Read only."""
    yield from _read_only(tmp_path_factory, "shipped_run", run_shipped)


@pytest.fixture(scope="session")
def followup_share_run(tmp_path_factory) -> Path:
    """A finished share run (``--share``) of a 40-patient synthetic cohort with follow-up. Read only."""
    yield from _read_only(tmp_path_factory, "followup_share_run", run_followup_share)


@pytest.fixture(scope="session")
def shipped_share_run(tmp_path_factory) -> Path:
    """A finished share run (``--share``) of every notebook on the shipped cohort. Read only."""
    yield from _read_only(tmp_path_factory, "shipped_share_run", run_shipped_share)


#: When this process's session began (``time.time()``), for files that must be written during it.
SESSION_START = pytest.StashKey[float]()


def pytest_configure(config):
    config.stash[SESSION_START] = time.time()
    if config.getoption("nbval", default=False):
        _fork_nbval_kernels(config)


# --- nbval's kernels -------------------------------------------------------------------------


def _fork_nbval_kernels(config) -> None:
    """nbval's kernels forked from the process's fork server (``shared_runs.session_fork_server``),
    as a run's are (``pipeline.kernels``). Only when this file is loaded, that is with ``tests``
    among pytest's arguments (``make test``); ``pytest --nbval notebooks`` alone starts nbval's
    kernels as nbval does."""
    import nbval.kernel

    from pipeline import kernels

    if not kernels.available():
        return

    def forked_kernels(**settings):
        return kernels.RunBlockingKernelManager(fork_server=session_fork_server(), **settings)

    nbval.kernel.KernelManager = forked_kernels


# --- scheduling over the xdist workers -----------------------------------------------------

#: Modules in nbval's group, run after the notebooks (they read what nbval's execution wrote).
AFTER_NBVAL = ("tests/test_second_execution.py",)
#: Groups sent to the workers first, in this order (the longest, and those making a shared run,
#: early); the other groups follow in collection order.
LONG_FIRST = (
    "tests/test_pipeline.py",  # makes shipped_run
    "tests/test_degenerate_runs.py",
    "nbval",
    "tests/test_share_mode.py",
    "tests/test_share_recovery.py",
    "tests/test_batch.py",
    "tests/test_sensitivity_notebook.py",
    "tests/test_report_browser.py",
    "tests/test_degenerate_notebooks.py",
    "tests/test_survival.py",
)


def group_of(nodeid: str) -> str:
    """A test's group: "nbval" for a notebook's cells (and the modules after them), else its module."""
    path = nodeid.split("::", 1)[0]
    return "nbval" if path.endswith(".ipynb") or path in AFTER_NBVAL else path


#: Session fixtures that make a whole pipeline run: a test using one is marked ``slow``.
SHARED_RUNS = frozenset({"shipped_run", "shipped_share_run", "followup_share_run"})


def pytest_collection_modifyitems(config, items):
    """Tests reading a shared run are ``slow`` (``make test-fast`` leaves them out); the groups in
    LONG_FIRST first (stable: file order within a group, as nbval needs), and in nbval's group the
    notebooks before :data:`AFTER_NBVAL`."""
    for item in items:
        # a test may name its run as a parameter and ask for it with request.getfixturevalue
        params = getattr(getattr(item, "callspec", None), "params", {})
        used = set(getattr(item, "fixturenames", ())) | {str(v) for v in params.values()}
        if SHARED_RUNS & used:
            item.add_marker(pytest.mark.slow)
    rank = {name: i for i, name in enumerate(LONG_FIRST)}
    items.sort(
        key=lambda item: (
            rank.get(group_of(item.nodeid), len(rank)),
            item.nodeid.split("::", 1)[0] in AFTER_NBVAL,
        )
    )


def pytest_xdist_make_scheduler(config, log):
    """``--dist loadgroup``: each group of :func:`group_of` is one unit of work, sent in collection order.

    pytest-xdist's own grouping (by ``xdist_group`` mark) renames node ids, which pytest 9
    no longer allows, so it groups nothing; this scheduler groups by node id instead.
    """
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid)

    config.option.loadscopereorder = False  # keep LONG_FIRST's order, not largest group first
    return GroupScheduling(config, log)
