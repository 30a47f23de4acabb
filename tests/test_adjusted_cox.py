"""The multivariable Cox model of overall survival (helpers.adjusted_cox) against R's coxph.

Data: tests/fixtures/cox_adjusted.csv (147 synthetic patients with follow-up, 112 deaths;
``python -m pipeline synth --n 150 --seed 7 --follow-up``, patients with a baseline blast
count). Reference from R 4.2, survival 3.4:

    library(survival)
    d <- read.csv("tests/fixtures/cox_adjusted.csv")
    d$debulking_category <- factor(d$debulking_category,
        levels = c("steroids", "low_intensity_chemo", "polychemotherapy", "tki"))
    f <- coxph(Surv(os_months, died) ~ high_burden + prior_lines + age_years + ph_positive +
               debulking_category, data = d, ties = "efron")
    s <- summary(f)
    print(cbind(hr = s$conf.int[, 1], low = s$conf.int[, 3], high = s$conf.int[, 4],
                p = s$coefficients[, 5]), digits = 10)
"""

from pathlib import Path

import pandas as pd
import pytest

from helpers import adjusted_cox as ac

DATA = pd.read_csv(Path(__file__).resolve().parent / "fixtures" / "cox_adjusted.csv")
CATEGORY = ac.Covariate(
    "debulking_category",
    "Debulking therapy",
    ("steroids", "low_intensity_chemo", "polychemotherapy", "tki"),
)
COVARIATES = [
    ac.Covariate("high_burden", "High tumour burden"),
    ac.Covariate("prior_lines", "Previous lines"),
    ac.Covariate("age_years", "Age (years)"),
    ac.Covariate("ph_positive", "Ph-positive"),
    CATEGORY,
]

R_COXPH = {  # parameter: (hazard ratio, lower, upper, p)
    "high_burden": (1.9166927555, 1.2869757011, 2.854530288, 0.001367405227),
    "prior_lines": (1.2187239056, 1.0350094288, 1.435047756, 0.017657164063),
    "age_years": (0.9984444877, 0.9855537550, 1.011503827, 0.814368581609),
    "ph_positive": (0.6968708397, 0.4315463697, 1.125322796, 0.139655684008),
    "debulking_category=low_intensity_chemo": (
        1.0912998232,
        0.6532992959,
        1.822955132,
        0.738571958858,
    ),
    "debulking_category=polychemotherapy": (
        1.2944660802,
        0.7173319849,
        2.335937151,
        0.391478977547,
    ),
    "debulking_category=tki": (0.9508008976, 0.4122193182, 2.193061574, 0.905818359123),
}


@pytest.fixture(scope="module")
def summary():
    return ac.fit(DATA, COVARIATES, "os_months", "died").summary


@pytest.mark.parametrize("name", list(R_COXPH))
def test_the_adjusted_hazard_ratios_intervals_and_p_values_equal_r_coxph(summary, name):
    hr, low, high, p = R_COXPH[name]
    got = summary.loc[name]
    assert got["exp(coef)"] == pytest.approx(hr, rel=1e-6)
    assert got["exp(coef) lower 95%"] == pytest.approx(low, rel=1e-6)
    assert got["exp(coef) upper 95%"] == pytest.approx(high, rel=1e-6)
    assert got["p"] == pytest.approx(p, rel=1e-5)


def test_the_regression_table_has_a_header_and_reference_row_per_category_as_tbl_regression(
    summary,
):
    table = ac.regression_table(summary, COVARIATES)
    assert list(table["Characteristic"]) == [
        "High tumour burden",
        "Previous lines",
        "Age (years)",
        "Ph-positive",
        "Debulking therapy",
        "    steroids (reference)",
        "    low_intensity_chemo",
        "    polychemotherapy",
        "    tki",
    ]
    assert table.loc[0, "HR"] == "1.92" and table.loc[0, "95% CI"] == "1.29–2.85"
    assert table.loc[5, "HR"] == "—"


@pytest.mark.parametrize(
    "events, kept",
    [
        (112, 5),  # 112 / 7 parameters = 16 events per parameter: the full model
        (69, 4),  # 69 / 7 = 9.9: the debulking category (3 parameters) is left out, 69 / 4 = 17
        (30, 3),  # 30 / 4 = 7.5: Ph status goes too, 30 / 3 = 10
        (5, 1),  # never fewer than the first covariate
    ],
)
def test_covariates_are_dropped_from_the_end_until_ten_events_per_parameter(events, kept):
    assert len(ac.choose_covariates(events, COVARIATES)) == kept


def test_a_covariate_or_level_absent_from_the_data_leaves_the_model():
    part = DATA[(DATA["debulking_category"] != "tki") & (DATA["ph_positive"] == 0)]
    kept = ac.usable(part, COVARIATES)
    assert [c.column for c in kept] == [
        "high_burden",
        "prior_lines",
        "age_years",
        "debulking_category",
    ]
    assert kept[-1].levels == ("steroids", "low_intensity_chemo", "polychemotherapy")
    assert ac.events_per_variable(60, kept) == 12  # 3 numbers + 2 indicators


def test_each_parameter_becomes_one_result_row_named_against_its_reference(summary):
    rows = ac.result_rows(summary, COVARIATES, "cox_os_adjusted", n=147, events=112)
    assert [r["key"] for r in rows] == [f"cox_os_adjusted[{name}].hr" for name in R_COXPH]
    assert rows[-1]["label"] == "Adjusted OS hazard ratio, Debulking therapy: tki vs steroids"
    assert rows[0]["estimate"] == pytest.approx(R_COXPH["high_burden"][0], rel=1e-6)
