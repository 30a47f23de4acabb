"""Degenerate but valid cohorts, made from the shipped cohort, for runs that must not crash.

Each case is a function of the shipped cohort (text cells, as in the file) that
returns a cohort still passing the data contract: a single patient, no CR, all
CR, no MRD result, no CRS / all CRS / no CRS record, no blast values, one
debulking category, and seeded random subsets of 1 to 15 patients.
:func:`write_corpus` writes them as CSV files.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pandas as pd

SHIPPED = Path(__file__).resolve().parents[1] / "data" / "reconstructed_cohort.csv"


def shipped() -> pd.DataFrame:
    """The shipped cohort as text cells (blank = missing)."""
    return pd.read_csv(SHIPPED, dtype=str, keep_default_na=False)


def _no_cr(c: pd.DataFrame) -> pd.DataFrame:
    # MRD and HSCT after blinatumomab are allowed only for CR patients.
    return c.assign(response="none", mrd_status="", hsct_after_blina="no")


def _all_cr(c: pd.DataFrame) -> pd.DataFrame:
    return c.assign(response="cr", blina_cycles="2")


def _crs(c: pd.DataFrame, value: str, grade: str) -> pd.DataFrame:
    return c.assign(crs=value, crs_grade=grade)


def _subset(size: int) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def take(c: pd.DataFrame) -> pd.DataFrame:
        rows = sorted(random.Random(size).sample(range(len(c)), size))
        return c.iloc[rows]
    return take


#: Case name -> function of the shipped cohort giving the degenerate cohort.
CASES: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = {
    "single_patient": lambda c: c.iloc[:1],
    "single_patient_no_cr": lambda c: _no_cr(c.iloc[:1]),
    "no_cr": _no_cr,
    "all_cr": _all_cr,
    "no_mrd_result": lambda c: c.assign(mrd_status=""),
    "no_crs": lambda c: _crs(c, "no", ""),
    "all_crs": lambda c: _crs(c, "yes", "1"),
    "no_crs_record": lambda c: _crs(c, "", ""),
    "no_blast_values": lambda c: c.assign(bmb_baseline_pct="", bmb_post_debulking_pct=""),
    "one_debulking_category": lambda c: c.assign(debulking_category="steroids", debulking_regimen="dexamethasone"),
    **{f"subset_{n:02d}": _subset(n) for n in range(1, 16)},
}


def write_corpus(folder: Path, names: list[str] | None = None) -> dict[str, Path]:
    """Write each case (all by default) to ``folder/<name>.csv``; returns name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    base = shipped()
    written = {}
    for name in names or list(CASES):
        path = folder / f"{name}.csv"
        CASES[name](base).to_csv(path, index=False)
        written[name] = path
    return written
