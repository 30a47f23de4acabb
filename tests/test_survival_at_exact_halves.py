"""Notebook 08 on a follow-up cohort built from the shipped one whose curves sit at exactly 1/2,
against R 4.2.2 with survival 3.5.3 (run on this machine; values stored with the R calls).

Follow-up added to data/reconstructed_cohort.csv, in file order within each group: the 20
patients with blasts >= 50 % die at months 1, 2, ..., 10 and 14, the other nine are alive at
15 to 23 months, so survival is exactly 10/20 = 1/2 from 10 to 14 months; the 13 below 50 %
are alive at 6 to 17 months and the last dies at 18 (survival 100 % until then); the patient
without a count is alive at 9 months.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from run_inprocess import execute

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings(r"ignore::pandas.errors.Pandas4Warning:lifelines\."),
]


def _follow_up_cohort(path: Path) -> Path:
    raw = pd.read_csv(ROOT / "data" / "reconstructed_cohort.csv", dtype=str, keep_default_na=False)
    blasts = pd.to_numeric(raw["bmb_baseline_pct"].replace("", np.nan))
    months, died, high, low = [], [], 0, 0
    for value in blasts:
        if value >= 50:
            months.append(high + 1 if high < 10 else 14 if high == 10 else 15 + high - 11)
            died.append(high <= 10)
            high += 1
        elif value < 50:
            months.append(6 + low)
            died.append(low == 12)
            low += 1
        else:
            months.append(9)
            died.append(False)
    raw["os_months"] = [f"{m:g}" for m in months]
    raw["os_event"] = ["yes" if d else "no" for d in died]
    raw.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("halves")
    return execute(
        "08_time_to_event",
        data_path=_follow_up_cohort(folder / "follow_up.csv"),
        output_dir=folder / "out",
    )


# R: p <- read.csv(file above); p$died <- p$os_event == "yes"; p$high <- p$bmb_baseline_pct >= 50
# (key, estimate, ci_low, ci_high, p_value; NaN = NA in R or not given)
REFERENCES = [
    # summary(survfit(Surv(os_months, died) ~ high, p, conf.type = "log-log"))$table: S = 1/2 on
    # [10, 14) gives the midpoint 12 (lifelines' own median: 14); the upper band never reaches 1/2
    ("km_os[high_burden=True].median", 12.0, 5.0, math.nan, math.nan),
    # S falls from 1 straight to 0 at 18: neither limit is reached (the band is NA at S = 0)
    ("km_os[high_burden=False].median", 18.0, math.nan, math.nan, math.nan),
    # summary(survfit(Surv(os_months, died) ~ 1, p, conf.type = "log-log"))$table
    ("km_os[all].median", math.nan, 14.0, math.nan, math.nan),
    # summary(survfit(Surv(os_months, died) ~ high, p, conf.type = "log-log"), times = c(6, 12)):
    # no event yet below 50 % -> survival 1, lower and upper NA
    ("km_os[high_burden=False].survival_6m", 1.0, math.nan, math.nan, math.nan),
    ("km_os[high_burden=True].survival_12m", 0.5, 0.271327757293, 0.691892459422, math.nan),
    ("km_os[all].survival_12m", 0.691796533106, 0.500858863760, 0.821721240991, math.nan),
    # summary(coxph(Surv(os_months, died) ~ high, p)): exp(coef), lower/upper .95, Pr(>|z|)
    ("cox_os[high_burden].hr", 7.76094866961, 0.995573632879, 60.5001199943, 0.0504969754987),
    # cox.zph(coxph(Surv(os_months, died) ~ high, p))$table: chisq, p
    ("cox_os[high_burden].ph_test", 4.68784556911, math.nan, math.nan, 0.0303767118372),
]


@pytest.mark.parametrize("key, estimate, low, high, p", REFERENCES, ids=[r[0] for r in REFERENCES])
def test_notebook_08_at_exact_halves_reports_what_r_computes(run, key, estimate, low, high, p):
    results = pd.read_csv(Path(run["output_dir"]) / "results" / "08_time_to_event.csv").set_index(
        "key"
    )
    row = results.loc[key]
    assert (row["estimate"], row["ci_low"], row["ci_high"], row["p_value"]) == pytest.approx(
        (estimate, low, high, p), rel=1e-6, nan_ok=True
    )


def test_the_pages_show_the_midpoint_median_not_reached_limits_and_no_interval_at_100_percent(run):
    table = run["burden_table"].set_index("Group")
    assert table.loc["Blasts ≥ 50%", "Median"] == "12.0 months (95% CI 5.0–not reached)"
    assert table.loc["Blasts < 50%", "Median"] == "18.0 months (95% CI not reached–not reached)"
    assert table.loc["Blasts < 50%", "Survival at 6 months"] == "100.0% (no interval: no event yet)"
    summary = run["_markdown"][-1]
    assert (
        "With blasts ≥ 50% before debulking the median was 12.0 months (95% CI 5.0–not reached)"
        in summary
    )
