"""Tests of helpers.maic: the balance identity, the ESS formula, R's optim on the same objective,
the sandwich variance in closed form, and the sentences that end a MAIC the data cannot carry."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import maic

ROOT = Path(__file__).resolve().parents[1]

# The 21 Ph-negative patients of data/reconstructed_cohort.csv, in file order: age, male,
# prior HSCT, blasts before debulking (%), previous lines, CR/CRh/CRi.
PH_NEGATIVE = pd.DataFrame(
    {
        "age_years": [
            32,
            50,
            50,
            21,
            21,
            22,
            23,
            53,
            54,
            20,
            25,
            54,
            36,
            53,
            59,
            24,
            37,
            23,
            45,
            57,
            75,
        ],
        "sex": ["female"] * 5
        + ["male"] * 2
        + ["female"] * 2
        + ["male"] * 3
        + ["male", "female"]
        + ["male"] * 7,
        "prior_hsct": [
            True,
            True,
            True,
            False,
            True,
            False,
            False,
            True,
            False,
            True,
            False,
            True,
            False,
            True,
            False,
            False,
            False,
            False,
            True,
            False,
            True,
        ],
        "bmb_baseline_pct": [
            50,
            7,
            7,
            20,
            6,
            22,
            75,
            9,
            21,
            74,
            6,
            71,
            9,
            50,
            71,
            90,
            73,
            69,
            75,
            51,
            74,
        ],
        "prior_lines": [1, 2, 1, 3, 2, 3, 3, 2, 2, 3, 1, 3, 2, 3, 2, 2, 3, 1, 2, 3, 3],
        "responded": [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, 1, 1, 1, 0, 1, 0, 0],
    }
)
# TOWER, blinatumomab arm, Table 1 (data/historic_baselines.csv)
TOWER = {
    "age_mean": 40.8,
    "age_sd": 17.1,
    "male": 162 / 271,
    "prior_hsct": 94 / 271,
    "blasts_ge50": 201 / 271,
    "salvage_first": 114 / 271,
    "salvage_second": 91 / 271,
}
ALL = list(maic.CHARACTERISTICS)


def fit(codes, rows=PH_NEGATIVE):
    values = maic.cohort_values(rows, codes)
    return values, maic.maic_weights(
        maic.centred(values, {c: TOWER[c] for c in codes} | {"age_mean": 40.8})
    )


# R 4.2, base optim on the same objective, columns scaled by their (population) SD:
#   X <- cbind(age - 40.8, (age - 40.8)^2 - 17.1^2, male - 162/271, hsct - 94/271,
#              (blasts >= 50) - 201/271, (lines == 1) - 114/271, (lines == 2) - 91/271)
#   Z <- sweep(X, 2, apply(X, 2, function(v) sqrt(mean((v - mean(v))^2))), "/")
#   Q <- function(a) sum(exp(Z %*% a)); g <- function(a) colSums(Z * as.vector(exp(Z %*% a)))
#   fit <- optim(rep(0, ncol(Z)), Q, g, method = "BFGS", control = list(reltol = 1e-16, maxit = 10000))
#   w <- exp(Z %*% fit$par); w <- w * length(w) / sum(w)          # convergence 0
#   p <- sum(w * resp) / sum(w); se <- sqrt(sum(w^2 * (resp - p)^2)) / sum(w)
# and the same with X <- cbind(age - 40.8, (blasts >= 50) - 201/271).
R_REFERENCE = [
    (
        ALL,
        [
            3.18027232,
            0.23676813,
            0.82881042,
            0.75038409,
            0.24082362,
            0.09755129,
            0.53156499,
            0.28924776,
            2.17664492,
            0.09103003,
            0.65632029,
            0.11059330,
            0.14780372,
            0.74354322,
            2.68224965,
            1.13154230,
            0.38132434,
            4.16854532,
            0.14658040,
            0.99193623,
            1.41646365,
        ],
        9.45813804,
        0.61055086,
        0.16355658,
    ),
    (
        ["age_mean", "blasts_ge50"],
        [
            1.28631590,
            0.60985090,
            0.60985090,
            0.59405397,
            0.59405397,
            0.59459182,
            1.27588168,
            0.61150885,
            0.61206250,
            1.27242244,
            0.59620829,
            1.31218244,
            0.60217303,
            1.31099548,
            1.31813336,
            1.27703684,
            1.29214952,
            1.27588168,
            1.30153839,
            1.31574976,
            1.33735829,
        ],
        18.77279595,
        0.59900960,
        0.11536076,
    ),
]


@pytest.mark.parametrize(
    "codes, weights, ess, rate, se", R_REFERENCE, ids=["all seven", "age and blasts"]
)
def test_weights_ess_rate_and_sandwich_se_match_r_optim_on_the_same_objective(
    codes, weights, ess, rate, se
):
    _, w = fit(codes)
    assert w.weights == pytest.approx(weights, rel=1e-6)
    assert w.ess == pytest.approx(ess, rel=1e-7)
    got = maic.weighted_rate(PH_NEGATIVE["responded"], w.weights)
    assert got.estimate == pytest.approx(rate, rel=1e-7)
    assert got.se == pytest.approx(se, rel=1e-6)


@pytest.mark.parametrize(
    "codes", [ALL, ["age_mean", "age_sd"], ["male", "prior_hsct"], ["salvage_first"]]
)
def test_weighted_means_equal_the_trials_values_to_numerical_precision(codes):
    values, w = fit(codes)
    table = maic.balance_table(values, w.weights, {c: TOWER[c] for c in codes})
    assert np.abs(table["after"] - table["trial"]).max() < 1e-8
    assert w.weights.sum() == pytest.approx(len(PH_NEGATIVE))  # rescaled: mean 1


@pytest.mark.parametrize(
    "weights, ess",
    [
        ([1, 1, 1, 1], 4.0),  # equal weights: every patient counts
        ([1, 0, 0, 0], 1.0),  # one patient carries everything
        ([2, 1, 1], 16 / 6),  # (2 + 1 + 1)^2 / (4 + 1 + 1)
        ([0.5, 0.5, 3.0], 16 / 9.5),  # (4)^2 / (0.25 + 0.25 + 9)
    ],
)
def test_effective_sample_size_is_kish_sum_squared_over_sum_of_squares(weights, ess):
    assert maic.effective_sample_size(weights) == pytest.approx(ess)
    assert maic.effective_sample_size(np.asarray(weights) * 7.3) == pytest.approx(ess)  # scale-free


def test_sandwich_variance_is_the_weighted_mean_formula():
    # Var(p) = sum w^2 (y - p)^2 / (sum w)^2 for a weighted mean with fixed weights
    y, w = np.array([1, 0, 1, 1, 0]), np.array([0.5, 2.0, 1.0, 1.5, 0.25])
    p = (w * y).sum() / w.sum()
    got = maic.weighted_rate(y, w)
    assert got.estimate == pytest.approx(p)
    assert got.se == pytest.approx(math.sqrt((w**2 * (y - p) ** 2).sum()) / w.sum(), rel=1e-9)
    assert got.ci_low < p < got.ci_high


def test_risk_difference_adds_the_trials_binomial_variance():
    rate = maic.WeightedRate(0.6, 0.3, 0.8, 0.1)
    diff, low, high = maic.risk_difference(rate, 119, 271)
    se = math.sqrt(0.01 + (119 / 271) * (152 / 271) / 271)
    assert diff == pytest.approx(0.6 - 119 / 271)
    assert (low, high) == pytest.approx((diff - 1.959963985 * se, diff + 1.959963985 * se))


def test_a_rate_of_all_or_none_has_no_sandwich_interval():
    assert math.isnan(maic.weighted_rate([1, 1, 1], [1, 2, 3]).ci_low)
    assert maic.weighted_rate([0, 0, 0], [1, 2, 3]).estimate == 0


@pytest.mark.parametrize(
    "rows, codes, sentence",
    [
        (PH_NEGATIVE.iloc[:0], ["age_mean"], "No patient of the population"),
        (PH_NEGATIVE.assign(sex="male"), ["male"], "Every patient has the same male sex"),
        (PH_NEGATIVE.assign(age_years=30), ["age_mean"], "Every patient has the same age"),
        (
            PH_NEGATIVE.assign(age_years=PH_NEGATIVE["age_years"] + 30),
            ["age_mean"],
            "lies outside the range",
        ),
        # each alone can be matched, not both: transplanted == male, so 59.8 % men and 34.7 % transplanted cannot hold
        (
            PH_NEGATIVE.assign(prior_hsct=PH_NEGATIVE["sex"] == "male"),
            ["male", "prior_hsct"],
            "together lie outside what any positive",
        ),
    ],
)
def test_a_maic_the_data_cannot_carry_ends_in_a_sentence(rows, codes, sentence):
    x = maic.centred(maic.cohort_values(rows, codes), {c: TOWER[c] for c in codes})
    with pytest.raises(maic.MaicError, match=sentence):
        maic.maic_weights(x)


def test_weights_that_do_not_converge_end_in_a_sentence():
    x = maic.centred(maic.cohort_values(PH_NEGATIVE, ALL), TOWER)
    with pytest.raises(maic.MaicError, match=r"The weights did not converge \(1 iterations"):
        maic.maic_weights(x, max_iterations=1)


def test_the_linear_programme_agrees_with_whether_weights_exist():
    x = maic.centred(maic.cohort_values(PH_NEGATIVE, ALL), TOWER)
    assert maic.reachable(x)
    assert not maic.reachable(x.assign(male=x["male"].abs() + 0.01))  # every centred value positive


def test_bootstrap_is_deterministic_for_a_seed_and_counts_resamples_it_cannot_weight():
    values = maic.cohort_values(PH_NEGATIVE, ["age_mean", "blasts_ge50"])
    targets = {"age_mean": 40.8, "blasts_ge50": 201 / 271}
    one = maic.bootstrap(values, PH_NEGATIVE["responded"], targets, (119, 271), samples=40, seed=7)
    two = maic.bootstrap(values, PH_NEGATIVE["responded"], targets, (119, 271), samples=40, seed=7)
    pd.testing.assert_frame_equal(one, two)
    assert len(one) == 40 and one.loc[one["failed"], "rate"].isna().all()
    assert one.loc[~one["failed"], "rate"].between(0, 1).all()


def test_percentile_interval_ignores_failed_resamples():
    assert maic.percentile_ci([0.1, 0.2, math.nan, 0.3], 0.5) == pytest.approx((0.15, 0.25))
    assert all(math.isnan(v) for v in maic.percentile_ci([math.nan]))


@pytest.mark.parametrize(
    "text, message",
    [
        ("age_mean, nonsense", "unknown: nonsense"),
        ("", "give distinct codes"),
        ("male,male", "give distinct codes"),
        ("age_sd,male", "age_sd needs age_mean"),
    ],
)
def test_a_bad_characteristics_parameter_names_what_is_allowed(text, message):
    with pytest.raises(ValueError, match=message):
        maic.parse_characteristics(text)


def test_the_shipped_baselines_give_towers_printed_table_1_values():
    baselines = maic.load_baselines(ROOT / "data" / "historic_baselines.csv")
    got = maic.trial_targets(baselines, "TOWER", "blinatumomab", ALL)
    assert got == pytest.approx(TOWER)
    tower = baselines[baselines["study"] == "TOWER"]
    counted = tower[tower["statistic"] == "count"]
    # every printed percentage is the count over 271, to one decimal
    assert ((counted["value"] / counted["n"] * 100).round(1) == counted["percent"]).all()
    for characteristic in ("salvage_phase", "marrow_blasts", "prior_hsct", "ecog"):
        assert tower.loc[tower["characteristic"] == characteristic, "value"].sum() == 271


def test_a_characteristic_the_trial_did_not_publish_ends_in_a_sentence():
    baselines = maic.load_baselines(ROOT / "data" / "historic_baselines.csv")
    with pytest.raises(maic.MaicError, match="has no published male sex"):
        maic.trial_targets(baselines, "ALCANTARA", "blinatumomab", ["male"])


def test_a_bad_baseline_file_names_file_line_column_and_value(tmp_path):
    text = (ROOT / "data" / "historic_baselines.csv").read_text(encoding="utf-8").splitlines()
    text[2] = text[2].replace(",sd,17.1,", ",spread,x,")
    path = tmp_path / "baselines.csv"
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(ValueError) as err:
        maic.load_baselines(path)
    message = str(err.value)
    assert message.startswith("baselines.csv: line 3 (TOWER age_years all)")
    assert "statistic 'spread' is not one of mean, sd, min, max, count" in message
    assert "value 'x' is not a number" in message


@pytest.mark.parametrize("k", [2, 5, 7, 21])
def test_share_run_histogram_bins_hold_at_least_k_patients_and_hide_the_extremes(k):
    weights = fit(ALL)[1].weights
    edges = maic.share_bins(weights, k)
    counts, _ = np.histogram(weights, bins=edges)
    assert counts.sum() == len(weights) and counts.min() >= k
    assert edges[0] == 0 and edges[-1] == math.floor(weights.max()) + 1
    assert maic.share_bins(weights[: k - 1], k) is None


def test_sensitivity_sets_keep_age_and_salvage_phases_together():
    sets = maic.sensitivity_sets(["age_mean", "age_sd", "male", "salvage_first", "salvage_second"])
    assert sets == {
        "all": ["age_mean", "age_sd", "male", "salvage_first", "salvage_second"],
        "all but age": ["male", "salvage_first", "salvage_second"],
        "all but sex": ["age_mean", "age_sd", "salvage_first", "salvage_second"],
        "all but salvage phase": ["age_mean", "age_sd", "male"],
        "age only": ["age_mean", "age_sd"],
        "sex only": ["male"],
        "salvage phase only": ["salvage_first", "salvage_second"],
    }
    assert maic.sensitivity_sets(["male"]) == {"all": ["male"]}


def test_share_run_bins_never_split_equal_weights():
    edges = maic.share_bins([1, 1, 1, 2, 2, 2, 2, 3, 3, 3], 3)
    counts, _ = np.histogram([1, 1, 1, 2, 2, 2, 2, 3, 3, 3], bins=edges)
    assert counts.tolist() == [3, 4, 3]
    edges = maic.share_bins([1, 1, 1, 1, 1, 2], 3)  # the 2 alone would be a bar of one patient
    assert np.histogram([1, 1, 1, 1, 1, 2], bins=edges)[0].tolist() == [6]
