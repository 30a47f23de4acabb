"""Degenerate but valid cohorts, made from the shipped cohort, for runs that must not crash.

Each case is a function of the shipped cohort (text cells, as in the file) that
returns a cohort still passing the data contract: a single patient, no CR, all
CR, no MRD result, no CRS / all CRS / no CRS record, no blast values, one
debulking category, and seeded random subsets of 1 to 15 patients.
:data:`FOLLOW_UP_CASES` do the same for the follow-up columns, from a synthetic cohort with
follow-up (the shipped cohort has none): no death, one patient, three patients, and two
centres of a batch where a Cox model cannot be estimated. :func:`write_corpus` writes them
as CSV files.
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
    "one_debulking_category": lambda c: c.assign(
        debulking_category="steroids", debulking_regimen="dexamethasone"
    ),
    **{f"subset_{n:02d}": _subset(n) for n in range(1, 16)},
}


def with_follow_up() -> pd.DataFrame:
    """``python -m pipeline synth --n 40 --seed 3 --follow-up`` as text cells (blank = missing)."""
    from pipeline.synth import synthesize_cohort

    return synthesize_cohort(40, 3, follow_up=True).astype(str).replace({"nan": "", "<NA>": ""})


def _followed(c: pd.DataFrame) -> pd.DataFrame:
    return c[c["os_months"] != ""]


def _no_deaths(c: pd.DataFrame) -> pd.DataFrame:
    # A relapse-free patient stays so: with no death, RFS events (relapse or death) become censored.
    followed = c["os_months"] != ""
    out = c.assign(
        os_event=c["os_event"].where(~followed, "no"),
        rfs_event=c["rfs_event"].where(c["rfs_event"] == "", "no"),
    )
    if "rfs_event_cause" in out:  # a censored patient has no cause
        out["rfs_event_cause"] = ""
    return out


#: Case name -> function of :func:`with_follow_up` giving the degenerate cohort. The two centres
#: are those of the synthetic file that once stopped notebook 08 in a ``--by center`` batch.
FOLLOW_UP_CASES: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = {
    "follow_up_no_deaths": _no_deaths,
    "follow_up_one_patient": lambda c: _followed(c).iloc[:1],
    "follow_up_three_patients": lambda c: _followed(c).iloc[:3],
    "follow_up_centre_of_six": lambda c: c[c["center"] == "c04"],
    "follow_up_centre_of_two": lambda c: c[c["center"] == "c05"],
}


def write_corpus(folder: Path, names: list[str] | None = None) -> dict[str, Path]:
    """Write each case (all of :data:`CASES` by default; names of :data:`FOLLOW_UP_CASES` too) to
    ``folder/<name>.csv``; returns name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for name in names or list(CASES):
        path = folder / f"{name}.csv"
        if name in FOLLOW_UP_CASES:
            FOLLOW_UP_CASES[name](with_follow_up()).to_csv(path, index=False)
        else:
            CASES[name](shipped()).to_csv(path, index=False)
        written[name] = path
    return written
