"""Time to event: the follow-up columns, helpers.survival and notebook 08, against independent references.

References:

* A Kaplan-Meier curve worked by hand (product-limit, Greenwood's sum, the
  log(-log) interval written out below).
* R 4.2.2 with survival 3.5.3, run on this machine (``apt-get install r-base-core
  r-cran-survival``); each value is stored with the R call that gave it, so the
  tests do not need R. Data: ``survival::aml`` (Miller 1981, typed in tests/r_references.py)
  and ``survival::heart`` (Stanford heart transplant programme, the same 172 rows as
  ``lifelines.datasets.load_stanford_heart_transplants``; checked below).
* statsmodels' independent Kaplan-Meier, log-rank and Cox code
  (``statsmodels.duration``) for the synthetic cohort, which R was not run on.

Conventions compared like with like: lifelines fits Cox models with Efron's ties,
as R's ``coxph`` does by default; the proportional-hazards test is R's ``cox.zph``
(survival >= 3.0; helpers.models.cox_zph, tests/test_cox_zph.py). Medians follow R's
``print.survfit`` (``summary(fit)$table``): the midpoint of a stretch where S(t) is
exactly 1/2, where lifelines' own median takes the first time its floating-point S(t)
is <= 0.5 (checked separately below).
"""

from __future__ import annotations

import math
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from conftest import DEFAULT_PATIENT
from lifelines import CoxPHFitter, CoxTimeVaryingFitter, KaplanMeierFitter
from lifelines.datasets import load_stanford_heart_transplants
from lifelines.statistics import multivariate_logrank_test
from r_references import AML
from run_inprocess import execute

from helpers import contract, loading, narrative, survival

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "08_time_to_event.ipynb"
CORPUS = ROOT / "tests" / "bad_inputs"

# lifelines 0.30 passes axis arguments to pandas positionally (a pandas-4 deprecation warning).
pytestmark = pytest.mark.filterwarnings(r"ignore::pandas.errors.Pandas4Warning:lifelines\.")

Z = 1.959963984540054  # standard normal 97.5 % quantile


# --- a Kaplan-Meier curve worked by hand ---------------------------------------------------

TINY_TIMES = [1, 2, 2, 3, 4, 5, 6, 8]
TINY_EVENTS = [1, 1, 0, 1, 0, 1, 1, 0]
# Product-limit by hand: (time, at risk, deaths) at each death time.
#   t=1: 8 at risk, 1 death  -> S = 7/8
#   t=2: 7 at risk, 1 death (and 1 censored at 2) -> S = 7/8 * 6/7 = 3/4
#   t=3: 5 at risk, 1 death  -> S = 3/4 * 4/5 = 3/5       (censored at 4)
#   t=5: 3 at risk, 1 death  -> S = 3/5 * 2/3 = 2/5
#   t=6: 2 at risk, 1 death  -> S = 2/5 * 1/2 = 1/5       (censored at 8)
# Greenwood's sum d / (n (n - d)) accumulates 1/56, 1/42, 1/20, 1/6, 1/2.
TINY_STEPS = [
    (1, 7 / 8, 1 / 56),
    (2, 3 / 4, 1 / 56 + 1 / 42),
    (3, 3 / 5, 1 / 56 + 1 / 42 + 1 / 20),
    (5, 2 / 5, 1 / 56 + 1 / 42 + 1 / 20 + 1 / 6),
    (6, 1 / 5, 1 / 56 + 1 / 42 + 1 / 20 + 1 / 6 + 1 / 2),
]


def _log_log_interval(s: float, greenwood: float) -> tuple[float, float]:
    """The exponential Greenwood interval: S ** exp(+-z * sqrt(greenwood) / |log S|)."""
    half = Z * math.sqrt(greenwood) / abs(math.log(s))
    return s ** math.exp(half), s ** math.exp(-half)


def _tiny_fit() -> KaplanMeierFitter:
    return KaplanMeierFitter().fit(TINY_TIMES, TINY_EVENTS)


@pytest.mark.parametrize("t, step", [(1, 0), (1.5, 0), (2, 1), (3.5, 2), (5, 3), (7, 4), (8, 4)])
def test_survival_at_a_time_is_the_hand_worked_step_and_its_log_log_interval(t, step):
    # R: summary(survfit(Surv(c(1,2,2,3,4,5,6,8), c(1,1,0,1,0,1,1,0)) ~ 1, conf.type = "log-log"),
    #    times = c(2, 3.5, 5, 7)) gives lower 0.314807113706, 0.195495866085, 0.0660297743275,
    #    0.00958379384876 and upper 0.930898317091, 0.852254345762, 0.734225344992, 0.572736485552.
    _, s, greenwood = TINY_STEPS[step]
    low, high = _log_log_interval(s, greenwood)
    assert survival.survival_at(_tiny_fit(), t) == pytest.approx((s, low, high), rel=1e-12)


def test_survival_at_a_time_matches_r_log_log_values_for_the_hand_worked_curve():
    r_values = {
        2: (0.75, 0.314807113706, 0.930898317091),
        3.5: (0.6, 0.195495866085, 0.852254345762),
        5: (0.4, 0.0660297743275, 0.734225344992),
        7: (0.2, 0.00958379384876, 0.572736485552),
    }
    for t, expected in r_values.items():
        assert survival.survival_at(_tiny_fit(), t) == pytest.approx(expected, rel=1e-9)


def test_survival_before_the_first_death_is_one_without_an_interval_and_past_the_last_follow_up_not_estimable():
    # R's summary() prints 1 and limits 1-1 there; the log(-log) interval has no width at S = 1
    # (log S = 0), so none is given rather than a "100.0-100.0 %" interval.
    s, low, high = survival.survival_at(_tiny_fit(), 0.5)
    assert s == 1.0 and math.isnan(low) and math.isnan(high)
    assert all(math.isnan(v) for v in survival.survival_at(_tiny_fit(), 8.5))


def test_survival_after_the_last_patient_died_is_zero_without_an_interval():
    # Deaths at 1 and 2: S = 0 from 2 on, known even past the last follow-up; the log(-log)
    # interval does not exist at 0 (R: summary(survfit(Surv(c(1, 2), c(1, 1)) ~ 1,
    # conf.type = "log-log"), times = 2) gives lower and upper NA).
    fit = KaplanMeierFitter().fit([1, 2], [1, 1])
    for t in (2, 5):
        s, low, high = survival.survival_at(fit, t)
        assert s == 0 and math.isnan(low) and math.isnan(high)


def test_median_is_the_first_time_at_or_below_one_half_with_the_r_interval():
    # S falls from 3/5 to 2/5 at t = 5. R: median 5, 0.95LCL 1, 0.95UCL NA (the upper band
    # never reaches 0.5 before follow-up ends), which is NaN here.
    median, low, high = survival.median_with_ci(_tiny_fit())
    assert (median, low) == (5.0, 1.0) and math.isnan(high)


# R 4.2.2, survival 3.5.3, for each case:
#   f <- survfit(Surv(time, status) ~ 1, conf.type = "log-log")
#   summary(f)$table[c("median", "0.95LCL", "0.95UCL")]
# (NA = not reached). lifelines' own median and band give the values in the comment.
R_MEDIANS = [
    # S = 1/2 exactly on [3, 4) but 0.5 + 1.1e-16 in floating point (lifelines: 4, UCL NA)
    ([11, 5, 3, 3, 3, 1, 7, 4], [0, 1, 1, 1, 1, 1, 0, 1], (3.5, 1.0, math.nan)),
    # the same on [7, 10) (lifelines: 10)
    ([5, 11, 7, 3, 10, 8], [1, 0, 1, 1, 1, 0], (8.5, 3.0, math.nan)),
    # the same on [9, 10); the upper band falls below 1/2 only where S = 0 (lifelines: 10, 6, 11)
    ([10, 9, 9, 10, 11, 6], [1, 1, 1, 1, 1, 1], (9.5, 6.0, math.nan)),
    # exactly 1/2 on [2, 3), midpoint 2.5; upper band at 0 only where S = 0 (lifelines: 2, 1, 4)
    ([1, 2, 3, 4], [1, 1, 1, 1], (2.5, 1.0, math.nan)),
    # 1/2 from 3 to the end of follow-up: print.survfit gives 3 (quantile() gives 4.5)
    ([1, 2, 3, 4, 5, 6], [1, 1, 1, 0, 0, 0], (3.0, 1.0, math.nan)),
    # the band reaches 0 only where S does: the high limit is not reached (lifelines: 3)
    ([1, 2, 3], [1, 1, 1], (2.0, 1.0, math.nan)),
    # from 1 straight to 0: neither limit is reached (lifelines: 5, 5, 5)
    ([2, 5, 5, 5, 5], [0, 1, 1, 1, 1], (5.0, math.nan, math.nan)),
    # one death among eight: no median; the lower band crosses 1/2 at once
    ([1, 2, 3, 4, 5, 6, 7, 8], [1, 0, 0, 0, 0, 0, 0, 0], (math.nan, 1.0, math.nan)),
    # ten deaths at 1..10: S = 1/2 on [5, 6) -> 5.5; the upper band crosses at 8
    (list(range(1, 11)), [1] * 10, (5.5, 1.0, 8.0)),
]


@pytest.mark.parametrize("durations, events, expected", R_MEDIANS)
def test_median_and_its_interval_follow_r_print_survfit_also_at_exact_halves(
    durations, events, expected
):
    fit = KaplanMeierFitter().fit(durations, events)
    assert survival.median_with_ci(fit) == pytest.approx(expected, nan_ok=True)


def test_the_median_table_cell_says_not_reached_for_a_limit_whose_band_never_falls_to_one_half():
    fit = KaplanMeierFitter().fit([2, 5, 5, 5, 5], [0, 1, 1, 1, 1])
    assert (
        survival.km_table({"All": fit}, [1]).loc[0, "Median"]
        == "5.0 months (95% CI not reached–not reached)"
    )


@pytest.mark.parametrize(
    "durations, events, t, text",
    [
        ([7, 8, 9, 10, 11], [1] * 5, 6, "100.0% (no interval: no event yet)"),
        ([1, 2], [1, 1], 2, "0.0% (no interval: every patient had the event)"),
    ],
)
def test_survival_of_one_or_zero_is_shown_without_an_interval(durations, events, t, text):
    table = survival.km_table({"All": KaplanMeierFitter().fit(durations, events)}, [t])
    assert table.loc[0, f"Survival at {t} months"] == text


@pytest.mark.parametrize(
    "times, expected", [([0, 2, 4, 6, 8, 9], [8, 7, 4, 2, 1, 0]), ([1.5, 3], [7, 5])]
)
def test_numbers_at_risk_count_patients_followed_at_least_that_long(times, expected):
    assert survival.at_risk(TINY_TIMES, times) == expected


def test_result_rows_carry_median_survival_and_at_risk_with_their_keys():
    rows = {r["key"]: r for r in survival.km_rows(_tiny_fit(), "km_os[all]", "OS", [2, 7], [0, 4])}
    assert list(rows) == [
        "km_os[all].median",
        "km_os[all].survival_2m",
        "km_os[all].survival_7m",
        "km_os[all].at_risk_0m",
        "km_os[all].at_risk_4m",
    ]
    median = rows["km_os[all].median"]
    assert (median["numerator"], median["denominator"], median["estimate"], median["ci_low"]) == (
        5,
        8,
        5.0,
        1.0,
    )
    assert math.isnan(median["ci_high"])
    assert rows["km_os[all].survival_2m"]["estimate"] == pytest.approx(0.75)
    assert [rows[k]["estimate"] for k in ("km_os[all].at_risk_0m", "km_os[all].at_risk_4m")] == [
        8,
        4,
    ]


def test_display_table_formats_median_and_survival_with_their_intervals():
    table = survival.km_table({"All": _tiny_fit()}, [2, 9])
    assert table.to_dict("records") == [
        {
            "Group": "All",
            "Patients": 8,
            "Events": 5,
            "Median": "5.0 months (95% CI 1.0–not reached)",
            "Survival at 2 months": "75.0% (95% CI 31.5–93.1%)",
            "Survival at 9 months": "not estimable",
        }
    ]


# --- R's survival package on the aml data ------------------------------------------------------


def _aml_fit(rows=slice(None)) -> KaplanMeierFitter:
    part = AML.iloc[rows]
    return KaplanMeierFitter().fit(part["time"], part["status"])


@pytest.mark.parametrize(
    "group, rows, expected",
    [
        # R: summary(survfit(Surv(time, status) ~ 1, aml, conf.type = "log-log"))$table
        ("all", slice(None), (27.0, 13.0, 34.0)),
        # R: summary(survfit(Surv(time, status) ~ x, aml, conf.type = "log-log"))$table (UCL NA)
        ("Maintained", slice(0, 11), (31.0, 13.0, math.nan)),
        ("Nonmaintained", slice(11, 23), (23.0, 5.0, 33.0)),
    ],
)
def test_aml_median_and_its_interval_match_r(group, rows, expected):
    assert survival.median_with_ci(_aml_fit(rows)) == pytest.approx(expected, nan_ok=True), group


@pytest.mark.parametrize(
    "group, rows, t, expected",
    [
        # R: summary(survfit(Surv(time, status) ~ 1, aml, conf.type = "log-log"), times = c(6, 12, 24, 36))
        ("all", slice(None), 6, (0.913043478261, 0.694947537532, 0.977515669901)),
        ("all", slice(None), 12, (0.739130434783, 0.509209438754, 0.873375781698)),
        ("all", slice(None), 24, (0.546583850932, 0.319250413971, 0.726449173821)),
        ("all", slice(None), 36, (0.276052449965, 0.104441343234, 0.480284660417)),
        # R: the same by x, times = c(12, 24)
        ("Maintained", slice(0, 11), 12, (0.909090909091, 0.508080205770, 0.986673822668)),
        ("Maintained", slice(0, 11), 24, (0.613636363636, 0.265752040001, 0.835299243250)),
        ("Nonmaintained", slice(11, 23), 12, (0.583333333333, 0.270138924085, 0.800940192333)),
        ("Nonmaintained", slice(11, 23), 24, (0.486111111111, 0.191876619619, 0.729671569779)),
    ],
)
def test_aml_survival_at_a_time_and_its_log_log_interval_match_r(group, rows, t, expected):
    assert survival.survival_at(_aml_fit(rows), t) == pytest.approx(expected, rel=1e-9), (group, t)


def test_aml_numbers_at_risk_match_r():
    # R: summary(survfit(Surv(time, status) ~ 1, aml), times = c(6, 12, 24, 36))$n.risk
    assert survival.at_risk(AML["time"], [6, 12, 24, 36]) == [21, 18, 11, 5]


def test_aml_log_rank_test_matches_r_survdiff():
    # R: survdiff(Surv(time, status) ~ x, aml): chisq 3.39638869898, p 0.0653393220405
    result = multivariate_logrank_test(AML["time"], AML["x"], AML["status"])
    assert (result.test_statistic, result.p_value) == pytest.approx(
        (3.39638869898, 0.0653393220405), rel=1e-9
    )


def _lifelines_ratio_interval_and_p(row: pd.Series) -> tuple[float, float, float, float]:
    """A lifelines summary row as R's summary(coxph(...)) prints it: exp(coef), 95% CI, Pr(>|z|)."""
    return (row["exp(coef)"], row["exp(coef) lower 95%"], row["exp(coef) upper 95%"], row["p"])


def _aml_cox() -> CoxPHFitter:
    return CoxPHFitter().fit(
        AML, duration_col="time", event_col="status", fit_options=survival.COX_FIT_OPTIONS
    )


def test_aml_cox_hazard_ratio_interval_and_wald_p_match_r_coxph_with_efron_ties():
    # R: summary(coxph(Surv(time, status) ~ x, aml)): exp(coef) 2.49810532617, 95% CI
    #    0.915907257436-6.81349576606, Pr(>|z|) 0.073714860639 (ties = "efron", R's default)
    assert _lifelines_ratio_interval_and_p(_aml_cox().summary.loc["x"]) == pytest.approx(
        (2.49810532617, 0.915907257436, 6.81349576606, 0.073714860639), rel=1e-7
    )


# --- R's survival package on the Stanford heart transplant data ---------------------------------

HEART = load_stanford_heart_transplants()


def test_lifelines_heart_data_are_r_survival_heart():
    # R: h <- heart; c(nrow(h), sum(h$start), sum(h$stop), sum(h$event),
    #                  sum(h$transplant == 1), length(unique(h$id)))
    assert (
        len(HEART),
        HEART["start"].sum(),
        HEART["stop"].sum(),
        HEART["event"].sum(),
        HEART["transplant"].sum(),
        HEART["id"].nunique(),
    ) == (172, 2668.5, 34622.5, 75, 69, 103)


def test_time_varying_transplant_hazard_ratio_matches_r_counting_process_coxph():
    # R: summary(coxph(Surv(start, stop, event) ~ transplant, heart)): exp(coef) 1.13557726665,
    #    95% CI 0.629339393188-2.04903068597, Pr(>|z|) 0.672880611041
    fit = CoxTimeVaryingFitter().fit(
        HEART[["id", "start", "stop", "event", "transplant"]],
        id_col="id",
        event_col="event",
        start_col="start",
        stop_col="stop",
        fit_options=survival.COX_FIT_OPTIONS,
    )
    assert _lifelines_ratio_interval_and_p(fit.summary.loc["transplant"]) == pytest.approx(
        (1.13557726665, 0.629339393188, 2.04903068597, 0.672880611041), rel=1e-6
    )


# --- the contract's follow-up columns in the loader ----------------------------------------------


def test_a_file_without_follow_up_loads_without_follow_up_columns():
    cohort = loading.load_cohort(ROOT / "tests" / "fixtures" / "valid_small.csv")
    assert not set(contract.FOLLOW_UP_NAMES) & set(cohort.columns)
    assert list(cohort.columns[:21]) == list(contract.NAMES)


def test_follow_up_columns_load_typed_after_the_contract_columns_and_change_nothing_else():
    with_follow_up = loading.load_cohort(CORPUS / "follow_up_valid.csv")
    without = loading.load_cohort(ROOT / "tests" / "fixtures" / "valid_small.csv")
    assert list(with_follow_up.columns[21:27]) == list(contract.FOLLOW_UP_NAMES)
    pd.testing.assert_frame_equal(
        with_follow_up.drop(columns=list(contract.FOLLOW_UP_NAMES)), without, check_flags=False
    )
    # make_corpus.py: P01 14.2 months alive, RFS 11 with relapse, HSCT at 3.1; P05 no follow-up.
    p01 = with_follow_up.iloc[0]
    assert (
        p01["os_months"],
        p01["os_event"],
        p01["rfs_months"],
        p01["rfs_event"],
        p01["rfs_event_cause"],
        p01["hsct_months"],
    ) == (14.2, False, 11.0, True, "relapse", 3.1)
    assert with_follow_up.loc[4, ["os_months", "rfs_months", "hsct_months"]].isna().all()
    assert (
        with_follow_up["os_event"].dtype == "boolean"
        and with_follow_up["os_months"].dtype == "float64"
    )


# --- notebook 08 -------------------------------------------------------------------------------


def test_stored_notebook_says_follow_up_is_not_available_for_the_shipped_cohort_and_shows_nothing_else():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    texts = [
        o.get("text", "") + "".join(o.get("data", {}).get("text/markdown", "")) for o in outputs
    ]
    assert sum("Follow-up is not available for this data" in t for t in texts) == 1
    assert any("add `os_months` and `os_event`" in t for t in texts)
    assert not any("image/png" in o.get("data", {}) for o in outputs)  # no figure
    # the settings summary, the data provenance, the sentence above (marked for the report to
    # collapse the rest of the notebook), and "1 result rows written": no section repeats it
    assert "setting" in texts[0].lower() and "1 result rows written" in texts[-1]
    assert len(texts) == 4 and not any("this section needs" in t for t in texts)
    marked = [o for o in outputs if o.get("metadata", {}).get(narrative.UNAVAILABLE)]
    assert [o["metadata"][narrative.UNAVAILABLE] for o in marked] == ["notebook"]


def _heart_cohort(path: Path) -> Path:
    """survival::heart as a contract file: one patient per heart-transplant candidate.

    Days / 10 become months (so the longest follow-up, 180, fits the contract's 600);
    prior bypass surgery is the high tumour burden, age quartile-like bands the debulking
    category; everyone is in CR (so all are in the transplant analyses), RFS equals OS,
    and a transplant's day / 10 is hsct_months.
    """
    by_id = HEART.groupby("id")
    patients = pd.DataFrame(
        {
            "stop": by_id["stop"].max(),
            "event": by_id["event"].max(),
            "surgery": by_id["surgery"].max(),
            "age": by_id["age"].max(),
            "tx": HEART[HEART["transplant"] == 1].groupby("id")["start"].min(),
        }
    ).rename_axis(None)
    category = np.select(
        [patients["age"] < -10, patients["age"] < 0, patients["age"] < 5],
        ["steroids", "low_intensity_chemo", "polychemotherapy"],
        "tki",
    )
    rows = []
    for (pid, p), cat in zip(patients.iterrows(), category):
        months, event = f"{p['stop'] / 10:g}", "yes" if p["event"] else "no"
        rows.append(
            {
                "patient_id": f"H{int(pid):03d}",
                **DEFAULT_PATIENT,
                "ph_status": "positive",
                "response": "cr",
                "bmb_baseline_pct": "60" if p["surgery"] else "10",
                "debulking_category": cat,
                "hsct_after_blina": "no" if np.isnan(p["tx"]) else "yes",
                "os_months": months,
                "os_event": event,
                "rfs_months": months,
                "rfs_event": event,
                "hsct_months": "" if np.isnan(p["tx"]) else f"{p['tx'] / 10:g}",
            }
        )
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def heart_results(tmp_path_factory) -> pd.DataFrame:
    """Notebook 08's cells run in this process on the heart data (the synthetic run below uses a kernel)."""
    folder = tmp_path_factory.mktemp("heart")
    execute(
        NOTEBOOK.stem,
        data_path=_heart_cohort(folder / "heart.csv"),
        output_dir=folder / "out",
        landmark_months=3,
    )
    return pd.read_csv(folder / "out" / "results" / f"{NOTEBOOK.stem}.csv").set_index("key")


# R on the same patients: p <- one row per id of heart with os = max(stop) / 10, event, surgery,
# category = cut(age, c(-Inf, -10, 0, 5, Inf), right = FALSE), transplanted, hsct = first
# transplant start / 10. (key, estimate, ci_low, ci_high, p_value; NaN = not given / NA in R)
HEART_REFERENCES = [
    # survfit(Surv(os, event) ~ 1, p, conf.type = "log-log"): median table; summary(..., times = c(6, 12))
    ("km_os[all].median", 10.0, 6.9, 21.9, math.nan),
    ("km_os[all].survival_6m", 0.645235278158, 0.543687038615, 0.729774846404, math.nan),
    ("km_os[all].survival_12m", 0.473630150988, 0.373330573503, 0.567316713417, math.nan),
    ("km_rfs[any_cr=True].median", 10.0, 6.9, 21.9, math.nan),
    # survfit(Surv(os, 1 - event) ~ 1, p, conf.type = "log-log"): reverse Kaplan-Meier follow-up
    ("follow_up.median[all]", 91.6, 51.5, 140.1, math.nan),
    # survfit(Surv(os, event) ~ surgery, p, conf.type = "log-log")
    ("km_os[high_burden=False].median", 8.0, 6.1, 15.3, math.nan),
    ("km_os[high_burden=True].median", 98.0, 16.5, math.nan, math.nan),
    (
        "km_os[high_burden=False].survival_12m",
        0.413694581281,
        0.308487465790,
        0.515612599561,
        math.nan,
    ),
    (
        "km_os[high_burden=True].survival_6m",
        0.807692307692,
        0.514011786749,
        0.933756244070,
        math.nan,
    ),
    # survdiff(Surv(os, event) ~ surgery, p); survdiff(Surv(os, event) ~ category, p): chisq, p
    ("km_os[high_burden]~logrank", 4.44318521362, math.nan, math.nan, 0.0350408140477),
    ("km_os[debulking_category]~logrank", 12.4065885177, math.nan, math.nan, 0.00611255096335),
    # coxph(Surv(os, event) ~ surgery, p): exp(coef), lower .95, upper .95, Pr(>|z|)
    ("cox_os[high_burden].hr", 0.476772815219, 0.235851188666, 0.963795512827, 0.0391456963512),
    # cox.zph(coxph(Surv(os, event) ~ surgery, p))$table (survival 3.5.3)
    ("cox_os[high_burden].ph_test", 0.155958495818, math.nan, math.nan, 0.692905022791),
    # coxph(Surv(os, event) ~ transplanted, p): the naive (biased) comparison
    (
        "cox_os[hsct_after_blina|any_cr=True].naive_hr",
        0.266216644632,
        0.165085917997,
        0.429299498947,
        5.68789439492e-08,
    ),
    # lm <- p[p$os > 3, ]; lm$by <- lm$transplanted & lm$hsct <= 3; lm$t <- lm$os - 3
    # survdiff(Surv(t, event) ~ by, lm); coxph(Surv(t, event) ~ by, lm); survfit(..., conf.type = "log-log")
    (
        "landmark_os[hsct_by_3m|any_cr=True]~logrank",
        0.0361240337078,
        math.nan,
        math.nan,
        0.849259578283,
    ),
    (
        "landmark_os[hsct_by_3m|any_cr=True].hr",
        1.0542355686,
        0.60741125327,
        1.82975311721,
        0.851074753836,
    ),
    ("landmark_os[hsct_by_3m=False|any_cr=True].median", 23.3, 8.0, 64.5, math.nan),
    ("landmark_os[hsct_by_3m=True|any_cr=True].median", 27.8, 4.7, 96.6, math.nan),
    # coxph(Surv(start / 10, stop / 10, event) ~ transplant, heart)
    (
        "cox_tv_os[hsct|any_cr=True].hr",
        1.13557726665,
        0.629339393188,
        2.04903068597,
        0.672880611041,
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    "key, estimate, low, high, p", HEART_REFERENCES, ids=[r[0] for r in HEART_REFERENCES]
)
def test_notebook_08_on_the_heart_transplant_data_reports_what_r_computes(
    heart_results, key, estimate, low, high, p
):
    row = heart_results.loc[key]
    assert (row["estimate"], row["ci_low"], row["ci_high"], row["p_value"]) == pytest.approx(
        (estimate, low, high, p), rel=1e-6, nan_ok=True
    )


@pytest.mark.slow
def test_notebook_08_numbers_at_risk_on_the_heart_transplant_data_match_r(heart_results):
    # R: summary(survfit(Surv(os, event) ~ 1, p), times = seq(0, 180, 6))$n.risk
    expected = [
        103,
        64,
        46,
        42,
        37,
        33,
        28,
        26,
        24,
        22,
        19,
        18,
        16,
        15,
        15,
        13,
        11,
        9,
        8,
        8,
        7,
        7,
        7,
        6,
        3,
        3,
        3,
        1,
        1,
        1,
        1,
    ]
    assert [
        heart_results.loc[f"km_os[all].at_risk_{t}m", "estimate"] for t in range(0, 181, 6)
    ] == expected


# --- notebook 08 on a synthetic cohort with follow-up -------------------------------------------

SYNTHETIC_N, SYNTHETIC_SEED = 400, 8


@pytest.fixture(scope="module")
def synthetic_run(tmp_path_factory) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Notebook 08's results on a synthetic cohort with follow-up (run in this process), and
    the cohort as text."""
    from pipeline.synth import write_synthetic

    folder = tmp_path_factory.mktemp("synthetic")
    data = write_synthetic(SYNTHETIC_N, SYNTHETIC_SEED, folder / "synthetic.csv", follow_up=True)
    execute(NOTEBOOK.stem, data_path=data, output_dir=folder / "out")
    results = pd.read_csv(folder / "out" / "results" / f"{NOTEBOOK.stem}.csv").set_index("key")
    return results, pd.read_csv(data, dtype=str, keep_default_na=False)


def _curves(results: pd.DataFrame) -> list[str]:
    return sorted(
        {
            k.rsplit(".", 1)[0]
            for k in results.index
            if k.endswith(".median") and "[" in k and k.startswith(("km_", "landmark_"))
        }
    )


@pytest.mark.slow
def test_synthetic_run_has_every_survival_section(synthetic_run):
    results, _ = synthetic_run
    assert results.loc["follow_up.available[all]", "estimate"] == 1
    for key in [
        "km_os[all].median",
        "km_os[high_burden=True].median",
        "km_os[high_burden=False].median",
        "km_os[debulking_category=steroids].median",
        "km_os[any_cr=True].median",
        "km_rfs[any_cr=True].median",
        "km_os[high_burden]~logrank",
        "km_os[debulking_category]~logrank",
        "km_os[any_cr]~logrank",
        "cox_os[high_burden].hr",
        "cox_os[high_burden].ph_test",
        "cox_os[hsct_after_blina|any_cr=True].naive_hr",
        "landmark_os[hsct_by_4m|any_cr=True].hr",
        "landmark_os[hsct_by_4m|any_cr=True]~logrank",
        "cox_tv_os[hsct|any_cr=True].hr",
        "km_os[all].survival_6m",
        "km_os[all].survival_12m",
        "km_os[all].at_risk_0m",
    ]:
        assert key in results.index, key
    assert (results["notebook"] == "08_time_to_event").all()


@pytest.mark.slow
def test_synthetic_run_medians_lie_within_follow_up_and_every_interval_is_ordered(synthetic_run):
    results, raw = synthetic_run
    longest = pd.to_numeric(raw["os_months"].replace("", np.nan)).max()
    medians = results[results.index.str.endswith(".median")]
    assert ((medians["estimate"] > 0) & (medians["estimate"] <= longest)).all()
    bounded = results.dropna(subset=["ci_low", "ci_high", "estimate"])
    assert len(bounded) > 20
    assert (
        (bounded["ci_low"] <= bounded["estimate"]) & (bounded["estimate"] <= bounded["ci_high"])
    ).all()
    survival_rows = results[results["unit"] == "proportion"]
    assert survival_rows["estimate"].between(0, 1).all()
    assert results.loc[results["unit"] == "p-value", "p_value"].between(0, 1).all()


@pytest.mark.slow
def test_synthetic_run_numbers_at_risk_start_at_the_group_size_and_never_increase(synthetic_run):
    results, _ = synthetic_run
    curves = _curves(results)
    assert len(curves) >= 9
    for curve in curves:
        counts = results[results.index.str.startswith(curve + ".at_risk_")]
        months = counts.index.str.extract(r"at_risk_(\d+)m$")[0].astype(int).to_numpy()
        values = counts["estimate"].to_numpy()[np.argsort(months)]
        assert values[0] == results.loc[curve + ".median", "denominator"], curve
        assert (np.diff(values) <= 0).all(), curve


def _synthetic_frames(raw: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The synthetic file's OS data rebuilt from its text cells, independently of the loader."""
    number = {
        c: pd.to_numeric(raw[c].replace("", np.nan))
        for c in ("os_months", "rfs_months", "hsct_months", "bmb_baseline_pct")
    }
    os_given = number["os_months"].notna()
    os_data = pd.DataFrame(
        {
            "t": number["os_months"],
            "e": (raw["os_event"] == "yes").astype(int),
            "blasts": number["bmb_baseline_pct"],
            "category": raw["debulking_category"],
            "cr": raw["response"] != "none",
            "hsct": number["hsct_months"],
            "id": raw["patient_id"],
        }
    )[os_given]
    return {
        "os": os_data,
        "rfs": pd.DataFrame({"t": number["rfs_months"], "e": (raw["rfs_event"] == "yes")})[
            number["rfs_months"].notna()
        ],
    }


@pytest.mark.slow
def test_synthetic_run_kaplan_meier_values_match_statsmodels(synthetic_run):
    from statsmodels.duration.survfunc import SurvfuncRight

    results, raw = synthetic_run
    frames = _synthetic_frames(raw)
    for key, data in [
        ("km_os[all]", frames["os"]),
        ("km_rfs[any_cr=True]", frames["rfs"]),
        ("km_os[high_burden=True]", frames["os"][frames["os"]["blasts"] >= 50]),
    ]:
        curve = SurvfuncRight(data["t"].to_numpy(), data["e"].to_numpy(dtype=float))
        for t in (6, 12):
            i = np.searchsorted(curve.surv_times, t, side="right") - 1
            s, se = curve.surv_prob[i], curve.surv_prob_se[i]
            # statsmodels gives S and Greenwood's SE of S; the log(-log) interval from them:
            half = Z * se / (s * abs(math.log(s)))
            row = results.loc[f"{key}.survival_{t}m"]
            assert (row["estimate"], row["ci_low"], row["ci_high"]) == pytest.approx(
                (s, s ** math.exp(half), s ** math.exp(-half)), rel=1e-9
            ), (key, t)
        # R's print.survfit rule on statsmodels' curve: the first time S <= 1/2, or the midpoint
        # of a stretch at exactly 1/2 (within R's sqrt(eps)) and the next drop
        first = int(np.argmax(curve.surv_prob < 0.5 + 1.5e-8))
        drop = np.flatnonzero(curve.surv_prob < curve.surv_prob[first] - 1.5e-8)
        at_half = abs(curve.surv_prob[first] - 0.5) < 1.5e-8 and len(drop)
        median = (
            (curve.surv_times[first] + curve.surv_times[drop[0]]) / 2
            if at_half
            else curve.surv_times[first]
        )
        assert results.loc[f"{key}.median", "estimate"] == pytest.approx(median), key
        low, high = curve.quantile_ci(0.5, method="cloglog")
        assert (
            results.loc[f"{key}.median", "ci_low"],
            results.loc[f"{key}.median", "ci_high"],
        ) == pytest.approx((low, high)), key


@pytest.mark.slow
def test_synthetic_run_log_rank_tests_match_statsmodels(synthetic_run):
    from statsmodels.duration.survfunc import survdiff

    results, raw = synthetic_run
    os_data = _synthetic_frames(raw)["os"]
    burden = os_data[os_data["blasts"].notna()]
    for key, data, groups in [
        ("km_os[high_burden]~logrank", burden, burden["blasts"] >= 50),
        ("km_os[debulking_category]~logrank", os_data, os_data["category"]),
        ("km_os[any_cr]~logrank", os_data, os_data["cr"]),
    ]:
        chi2, p = survdiff(data["t"].to_numpy(), data["e"].to_numpy(), groups.to_numpy())
        assert (results.loc[key, "estimate"], results.loc[key, "p_value"]) == pytest.approx(
            (chi2, p), rel=1e-8
        ), key


def _result_ratio_interval_and_p(row: pd.Series) -> tuple[float, float, float, float]:
    """A hazard ratio's result row: estimate, its 95% CI and p."""
    return (row["estimate"], row["ci_low"], row["ci_high"], row["p_value"])


def _statsmodels_ratio_interval_and_p(fit) -> tuple[float, float, float, float]:
    """The same from a statsmodels PHReg fit of one covariate."""
    low, high = np.exp(fit.conf_int()[0])
    return (math.exp(fit.params[0]), low, high, fit.pvalues[0])


@pytest.mark.slow
def test_synthetic_run_cox_hazard_ratios_match_statsmodels_efron(synthetic_run):
    from statsmodels.duration.hazard_regression import PHReg

    results, raw = synthetic_run
    os_data = _synthetic_frames(raw)["os"]

    burden = os_data[os_data["blasts"].notna()]
    fit = PHReg(
        burden["t"],
        (burden["blasts"] >= 50).astype(float).to_frame(),
        status=burden["e"],
        ties="efron",
    ).fit()
    row = results.loc["cox_os[high_burden].hr"]
    assert _result_ratio_interval_and_p(row) == pytest.approx(
        _statsmodels_ratio_interval_and_p(fit), rel=1e-5
    )

    # Transplant as a time-varying covariate, periods built here from the raw cells: a
    # transplanted patient is at risk untransplanted on (0, hsct] and transplanted on (hsct, os].
    # statsmodels counts a period at risk at its entry time itself (R and lifelines from just
    # after it), so entries are nudged by 1e-9 months; on survival::heart this reproduces R's
    # coxph exactly (1.13557727), without it statsmodels gives 1.0863.
    cr = os_data[os_data["cr"]]
    switch = cr["hsct"] < cr["t"]
    periods = pd.concat(
        [
            pd.DataFrame(
                {
                    "entry": 0.0,
                    "exit": np.where(switch, cr["hsct"], cr["t"]),
                    "e": np.where(switch, 0, cr["e"]),
                    "x": 0.0,
                }
            ),
            pd.DataFrame(
                {
                    "entry": cr["hsct"][switch],
                    "exit": cr["t"][switch],
                    "e": cr["e"][switch],
                    "x": 1.0,
                }
            ),
        ]
    )
    fit = PHReg(
        periods["exit"],
        periods[["x"]],
        status=periods["e"],
        entry=periods["entry"] + 1e-9,
        ties="efron",
    ).fit()
    row = results.loc["cox_tv_os[hsct|any_cr=True].hr"]
    assert _result_ratio_interval_and_p(row) == pytest.approx(
        _statsmodels_ratio_interval_and_p(fit), rel=1e-5
    )


# R 4.2 (cmprsk 2.2, survival 3.4) on the same synthetic file (synth --n 400 --seed 8 --follow-up):
#   d <- read.csv(file, na.strings = ""); r <- d[!is.na(d$rfs_months) & !(d$rfs_event == "yes" &
#     is.na(d$rfs_event_cause)), ]; r$code <- ifelse(r$rfs_event == "no", 0,
#     ifelse(r$rfs_event_cause == "relapse", 1, 2))
#   timepoints(cuminc(r$rfs_months, r$code, cencode = 0), c(6, 12))$est
#   b <- r[!is.na(r$bmb_baseline_pct), ]; cuminc(b$rfs_months, b$code, b$bmb_baseline_pct >= 50)$Tests
#   cuminc(r$rfs_months, r$code, r$debulking_category)$Tests
#   o <- d[!is.na(d$os_months) & !is.na(d$bmb_baseline_pct), ]  (debulking_category levels as the contract)
#   coxph(Surv(os_months, os_event == "yes") ~ I(bmb_baseline_pct >= 50) + prior_lines + age_years +
#         I(ph_status == "positive") + debulking_category, o)
SYNTHETIC_R = [  # key, estimate, p-value (NaN: none)
    ("cir[any_cr=True].cif_6m", 0.40610627424, math.nan),
    ("cir[any_cr=True].cif_12m", 0.62740740769, math.nan),
    ("nrm[any_cr=True].cif_6m", 0.05177382167, math.nan),
    ("nrm[any_cr=True].cif_12m", 0.07387221617, math.nan),
    ("cir[high_burden|any_cr=True]~gray", 3.957791327975, 0.04665488077),
    ("nrm[high_burden|any_cr=True]~gray", 0.004331665753, 0.94752480219),
    ("cir[debulking_category|any_cr=True]~gray", 0.2279807292, 0.9729506458),
    ("nrm[debulking_category|any_cr=True]~gray", 0.1719248410, 0.9819890236),
    ("cox_os_adjusted[high_burden].hr", 1.8642197528, 1.230541873e-06),
    ("cox_os_adjusted[prior_lines].hr", 1.0019497469, 9.724987744e-01),
    ("cox_os_adjusted[age_years].hr", 1.0063428906, 1.023899447e-01),
    ("cox_os_adjusted[ph_positive].hr", 0.9178725611, 5.255932765e-01),
    ("cox_os_adjusted[debulking_category=tki].hr", 1.1737363741, 4.823037865e-01),
]


@pytest.mark.slow
@pytest.mark.parametrize("key, estimate, p", SYNTHETIC_R, ids=[r[0] for r in SYNTHETIC_R])
def test_synthetic_run_competing_risks_and_adjusted_cox_equal_r_cmprsk_and_coxph(
    synthetic_run, key, estimate, p
):
    results, _ = synthetic_run
    row = results.loc[key]
    assert row["estimate"] == pytest.approx(estimate, abs=1e-6)
    assert row["p_value"] == pytest.approx(p, abs=1e-6, nan_ok=True)
