"""helpers.models.cox_zph against R's cox.zph (survival 3.5.3, R 4.2.2, run on this machine).

Data: ``survival::aml`` (typed in tests/r_references.py) and ``survival::heart`` collapsed
to one row per patient (lifelines ships the same 172 rows; tests/test_survival.py checks
that), each value stored with the R call that gave it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter
from lifelines.datasets import load_stanford_heart_transplants
from lifelines.statistics import proportional_hazard_test
from r_references import AML

from helpers import models, survival

pytestmark = pytest.mark.filterwarnings(r"ignore::pandas.errors.Pandas4Warning:lifelines\.")

_heart = load_stanford_heart_transplants().groupby("id")
# R: p <- one row per id of heart: os = max(stop) / 10, event = max(event), surgery, age (max)
HEART = pd.DataFrame(
    {
        "os": _heart["stop"].max() / 10,
        "event": _heart["event"].max(),
        "surgery": _heart["surgery"].max(),
        "age": _heart["age"].max(),
    }
)

CASES = [
    # R: cox.zph(coxph(Surv(time, status) ~ x, aml))$table (tied deaths at 5, 8, 23, 45)
    (AML, "time", "status", ["x"], {"x": (0.00787507772332, 1), "GLOBAL": (0.00787507772332, 1)}),
    # R: cox.zph(coxph(Surv(os, event) ~ surgery, p))$table
    (
        HEART,
        "os",
        "event",
        ["surgery"],
        {"surgery": (0.155958495818, 1), "GLOBAL": (0.155958495818, 1)},
    ),
    # R: cox.zph(coxph(Surv(os, event) ~ surgery + age, p))$table
    (
        HEART,
        "os",
        "event",
        ["surgery", "age"],
        {"surgery": (0.098297108903, 1), "age": (0.895379349128, 1), "GLOBAL": (0.993221043715, 2)},
    ),
]


def _fit(data, time, event, covariates) -> CoxPHFitter:
    return CoxPHFitter().fit(
        data[[time, event, *covariates]],
        duration_col=time,
        event_col=event,
        fit_options=survival.COX_FIT_OPTIONS,
    )


@pytest.mark.parametrize(
    "data, time, event, covariates, expected",
    CASES,
    ids=["aml", "heart-surgery", "heart-surgery-age"],
)
def test_proportional_hazards_test_matches_r_cox_zph_per_covariate_and_global(
    data, time, event, covariates, expected
):
    fit = _fit(data, time, event, covariates)
    table = models.cox_zph(data[time], data[event], data[covariates], fit.params_[covariates])
    assert list(table.index) == list(expected)
    for name, (chisq, df) in expected.items():
        assert table.loc[name, "chisq"] == pytest.approx(chisq, rel=1e-7), name
        assert table.loc[name, "df"] == df
        # p = pchisq(chisq, df, lower.tail = FALSE): erfc(sqrt(x / 2)) for 1 df, exp(-x / 2) for 2
        assert table.loc[name, "p"] == pytest.approx(
            math.exp(-chisq / 2) if df == 2 else math.erfc(math.sqrt(chisq / 2)), rel=1e-6
        ), name


def test_the_score_test_differs_from_lifelines_approximation_on_the_same_fit():
    # lifelines (the pre-3.0 approximation) gives 0.0239 for aml where R's cox.zph gives 0.00788
    fit = _fit(AML, "time", "status", ["x"])
    old = proportional_hazard_test(fit, AML, time_transform="km").summary.loc["x", "test_statistic"]
    new = models.cox_zph(AML["time"], AML["status"], AML[["x"]], fit.params_)
    assert old == pytest.approx(0.023857655788, rel=1e-6)
    assert new.loc["x", "chisq"] == pytest.approx(0.00787507772332, rel=1e-7)


def test_missing_values_are_refused():
    with pytest.raises(ValueError, match="none missing"):
        models.cox_zph([1.0, np.nan], [1, 1], pd.DataFrame({"x": [0, 1]}), [0.1])
