"""Shared test helpers: small contract-valid cohorts, and finished runs made once per session.

Tests that only read a finished run share one (tests/shared_runs.py): ``shipped_run``
is made once per session for all pytest-xdist workers, and checked at teardown to be
unchanged (a test that must change it copies it first).

Scheduling: ``make test`` runs with ``--dist loadgroup``: every test is in the xdist
group of its module unless it is marked with a group of its own (a long run that
would otherwise hold up the rest of its module), and the notebooks checked by nbval
are one group, run in file order on one worker (notebook 06 reads what 01-05 wrote).
The long groups are sent to the workers first (:data:`LONG_FIRST`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from helpers import loading
from shared_runs import run_shipped, shared, tree_digest

#: A contract-valid patient; tests override only the fields they are about.
DEFAULT_PATIENT = {
    "center": "C01", "source": "neuf", "sex": "male", "age_years": "40",
    "disease_status": "relapsed", "prior_lines": "2", "prior_hsct": "no", "ph_status": "negative",
    "bmb_baseline_pct": "60", "debulking_category": "steroids", "debulking_regimen": "dexamethasone",
    "debulking_to_blina_days": "7", "bmb_post_debulking_pct": "10", "blina_dose": "full",
    "blina_cycles": "2", "response": "none", "mrd_status": "", "crs": "no", "crs_grade": "",
    "hsct_after_blina": "no",
}


@pytest.fixture
def make_cohort(tmp_path: Path):
    """Return a builder: partial rows (defaults from DEFAULT_PATIENT) -> a loaded cohort."""
    def build(rows: list[dict]) -> pd.DataFrame:
        records = [{"patient_id": f"T{i:02d}", **DEFAULT_PATIENT, **row} for i, row in enumerate(rows, 1)]
        path = tmp_path / "cohort.csv"
        pd.DataFrame(records).to_csv(path, index=False)
        return loading.load_cohort(path)
    return build


# --- finished runs shared by the whole session ---------------------------------------------

@pytest.fixture(scope="session")
def shipped_run(tmp_path_factory) -> Path:
    """A finished run of every notebook on the shipped cohort (``python -m helpers run``). Read only."""
    out = shared(tmp_path_factory, "shipped_run", run_shipped)
    before = tree_digest(out)
    yield out
    after = tree_digest(out)
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    assert not changed, f"a test changed the shared run: {sorted(changed)[:5]} (copy it first)"


# --- scheduling over the xdist workers -----------------------------------------------------

#: Groups sent to the workers first, in this order (the longest, and those making a shared
#: run, early); the other groups follow in collection order.
LONG_FIRST = (
    "tests/test_pipeline.py",  # makes shipped_run
    "second_shipped_run",  # its own run while the other worker makes shipped_run
    "tests/test_degenerate_runs.py",
    "other_data_run",
    "nbval",
    "tests/test_share_mode.py",
    "tests/test_batch.py",
    "tests/test_sensitivity_notebook.py",
    "tests/test_report_browser.py",
    "tests/test_degenerate_notebooks.py",
    "tests/test_survival.py",
)


def _group(item: pytest.Item) -> str:
    """The item's xdist group: its own mark, "nbval" for a notebook's cells, else its module."""
    mark = item.get_closest_marker("xdist_group")
    if mark is not None:
        return mark.args[0] if mark.args else mark.kwargs["name"]
    return "nbval" if item.path.suffix == ".ipynb" else item.nodeid.split("::", 1)[0]


def pytest_collection_modifyitems(config, items):
    """Put every test in an xdist group (see the module docstring), the long groups first."""
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(_group(item)))
    rank = {name: i for i, name in enumerate(LONG_FIRST)}
    items.sort(key=lambda item: rank.get(_group(item), len(rank)))  # stable: file order within a group
