"""Shared test helpers: small contract-valid cohorts built from partial rows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from helpers import loading

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
