"""Matching-adjusted indirect comparison (MAIC): method-of-moments weights and weighted rates.

The cohort's patients are reweighted so that their means of the matched characteristics
equal a trial's published baseline (Signorovitch et al., Value Health 2010;13:940-7; NICE DSU
Technical Support Document 18, Phillippo et al. 2016, appendix D). Weights are
``w_i = exp(x_i' a)`` with ``x_i`` the patient's characteristics minus the trial's means; ``a``
minimises the convex ``Q(a) = sum_i exp(x_i' a)``, whose gradient is zero exactly when the
weighted means equal the trial's. Age is matched by its mean and, through
``(age - trial mean)^2`` matched to the trial's SD squared, by its variance.

Written here because no maintained Python package does it (R has ``maic`` and ``MAIC``); the
minimisation itself is scipy's (``scipy.optimize.minimize``, trust-region with the exact
Hessian) and the robust variance statsmodels'. Nothing here reads files except
:func:`load_baselines`. Problems the data cannot get past (no patient, a characteristic
without variation, a trial mean outside the cohort's range, no convergence) raise
:class:`MaicError`, whose message is one sentence fit for the notebook.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

BASELINE_COLUMNS = (
    "study",
    "arm",
    "characteristic",
    "level",
    "statistic",
    "value",
    "n",
    "percent",
    "source_table",
    "source_page",
    "reference",
    "status",
    "note",
)
STATISTICS = ("mean", "sd", "min", "max", "count")
STATUSES = ("seen", "derived")


class MaicError(ValueError):
    """A MAIC that cannot be computed on these data; ``str()`` is a sentence saying why."""


@dataclass(frozen=True)
class Characteristic:
    """One matched characteristic: the trial's row (characteristic, level, statistic) in the
    baseline file, and how the cohort's value is computed (``cohort``: a contract column and,
    for proportions, the rule as words and ``levels`` the contract values counted)."""

    code: str
    label: str
    trial: tuple[str, str, str]
    column: str
    rule: str
    levels: tuple[object, ...] = ()
    at_least: float | None = None

    @property
    def proportion(self) -> bool:
        """True for a share of patients (matched as a proportion), False for age (years)."""
        return bool(self.levels) or self.at_least is not None


#: The characteristics the data contract shares with a trial's baseline table. Salvage phase:
#: a patient with ``prior_lines`` = 1 (front-line therapy only) receives blinatumomab as first
#: salvage, 2 as second salvage; 3 or more is third or later salvage (the trial's remaining rows).
CHARACTERISTICS: dict[str, Characteristic] = {
    c.code: c
    for c in (
        Characteristic(
            "age_mean",
            "Age, mean (years)",
            ("age_years", "all", "mean"),
            "age_years",
            "age in years",
        ),
        Characteristic(
            "age_sd",
            "Age, SD (years)",
            ("age_years", "all", "sd"),
            "age_years",
            "(age - trial mean)^2 matched to the trial's SD squared",
        ),
        Characteristic(
            "male", "Male sex (%)", ("sex", "male", "count"), "sex", "male sex", levels=("male",)
        ),
        Characteristic(
            "prior_hsct",
            "Previous allogeneic HSCT (%)",
            ("prior_hsct", "yes", "count"),
            "prior_hsct",
            "allogeneic HSCT before blinatumomab",
            levels=(True,),
        ),
        Characteristic(
            "blasts_ge50",
            "Marrow blasts ≥ 50% (%)",
            ("marrow_blasts", ">=50", "count"),
            "bmb_baseline_pct",
            "marrow blasts ≥ 50% before debulking",
            at_least=50,
        ),
        Characteristic(
            "salvage_first",
            "First salvage (%)",
            ("salvage_phase", "first", "count"),
            "prior_lines",
            "1 previous treatment line",
            levels=(1,),
        ),
        Characteristic(
            "salvage_second",
            "Second salvage (%)",
            ("salvage_phase", "second", "count"),
            "prior_lines",
            "2 previous treatment lines",
            levels=(2,),
        ),
    )
}


#: Characteristics matched or left out together (age's mean and SD; the salvage phases).
GROUPS = {
    "age_mean": "age",
    "age_sd": "age",
    "salvage_first": "salvage phase",
    "salvage_second": "salvage phase",
    "male": "sex",
    "prior_hsct": "previous HSCT",
    "blasts_ge50": "marrow blasts",
}


def sensitivity_sets(codes: list[str]) -> dict[str, list[str]]:
    """Which characteristics each sensitivity fit matches: all of ``codes``, all but one group
    (:data:`GROUPS`), and each group alone; named in words, in that order, without repeats."""
    groups = list(dict.fromkeys(GROUPS[c] for c in codes))
    sets = {"all": list(codes)}
    if len(groups) > 1:
        sets |= {f"all but {g}": [c for c in codes if GROUPS[c] != g] for g in groups}
        sets |= {f"{g} only": [c for c in codes if GROUPS[c] == g] for g in groups}
    return sets


def parse_characteristics(text: str) -> list[str]:
    """``"age_mean, male"`` -> ``["age_mean", "male"]``; ValueError naming an unknown code, a repeat,
    an empty list, or ``age_sd`` without ``age_mean`` (the variance is centred on the trial's mean)."""
    codes = [c.strip() for c in text.split(",") if c.strip()]
    unknown = [c for c in codes if c not in CHARACTERISTICS]
    if unknown or not codes or len(set(codes)) != len(codes):
        raise ValueError(
            f"characteristics {text!r}: give distinct codes, comma-separated, from "
            f"{', '.join(CHARACTERISTICS)}"
            + (f" (unknown: {', '.join(unknown)})" if unknown else "")
        )
    if "age_sd" in codes and "age_mean" not in codes:
        raise ValueError(
            f"characteristics {text!r}: age_sd needs age_mean (the variance is matched around it)"
        )
    return codes


# --- the trial's baseline -------------------------------------------------------------


def load_baselines(path: str | Path) -> pd.DataFrame:
    """Read ``historic_baselines.csv`` (one row per study, arm, characteristic, level and statistic).

    ValueError naming the file, line, column, value and what is allowed, for every problem at once.
    """
    name = Path(path).name
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    if tuple(raw.columns) != BASELINE_COLUMNS:
        raise ValueError(
            f"{name}: expected columns {', '.join(BASELINE_COLUMNS)}; found {', '.join(raw.columns)}"
        )
    problems = []
    for line, row in enumerate(raw.to_dict("records"), start=2):
        where = f"line {line} ({row['study']} {row['characteristic']} {row['level']})"
        for col in ("study", "arm", "characteristic", "level", "source_table", "reference"):
            if not row[col].strip():
                problems.append(f"{where}: {col} is empty")
        if row["statistic"] not in STATISTICS:
            problems.append(
                f"{where}: statistic {row['statistic']!r} is not one of {', '.join(STATISTICS)}"
            )
        if row["status"] not in STATUSES:
            problems.append(
                f"{where}: status {row['status']!r} is not one of {', '.join(STATUSES)}"
            )
        numbers = {}
        for col in ("value", "n", "percent"):
            try:
                numbers[col] = float(row[col]) if row[col].strip() else math.nan
            except ValueError:
                problems.append(f"{where}: {col} {row[col]!r} is not a number")
                numbers[col] = math.nan
        if not numbers["n"] > 0 or math.isnan(numbers["value"]):
            problems.append(f"{where}: value and n (patients, > 0) are both needed")
        elif row["statistic"] == "count" and not 0 <= numbers["value"] <= numbers["n"]:
            problems.append(f"{where}: count {row['value']} is not between 0 and n = {row['n']}")
    keys = raw[["study", "arm", "characteristic", "level", "statistic"]].agg("|".join, axis=1)
    if keys.duplicated().any():
        problems.append(
            "repeated study, arm, characteristic, level and statistic: "
            + ", ".join(sorted(set(keys[keys.duplicated()])))
        )
    if problems:
        raise ValueError(f"{name}: " + "; ".join(problems))
    return raw.assign(
        value=raw["value"].astype(float),
        n=raw["n"].astype(float),
        percent=pd.to_numeric(raw["percent"].replace("", None)).astype(float),
    )


def trial_targets(
    baselines: pd.DataFrame, study: str, arm: str, codes: list[str]
) -> dict[str, float]:
    """The trial's value of each characteristic: a mean in its units (``age_sd``: the SD) or a
    proportion (count / n, the printed denominator). MaicError when the trial did not publish one."""
    rows = baselines[(baselines["study"] == study) & (baselines["arm"] == arm)]
    out = {}
    for code in codes:
        char, level, statistic = CHARACTERISTICS[code].trial
        hit = rows[
            (rows["characteristic"] == char)
            & (rows["level"] == level)
            & (rows["statistic"] == statistic)
        ]
        if hit.empty:
            raise MaicError(
                f"{study} ({arm} arm) has no published {_labels([code])} in the "
                f"baseline file (characteristic {char}, level {level}, statistic {statistic}), so it "
                "cannot be matched."
            )
        row = hit.iloc[0]
        out[code] = row["value"] / row["n"] if statistic == "count" else row["value"]
    return out


# --- the cohort side --------------------------------------------------------------------


def cohort_values(cohort: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    """One column per characteristic: age in years (both age codes) or 0/1; NaN where the patient's
    value is missing (such a patient cannot be weighted)."""
    out = {}
    for code in codes:
        char = CHARACTERISTICS[code]
        values = cohort[char.column]
        if char.at_least is not None:
            flags = pd.to_numeric(values, errors="coerce") >= char.at_least
        elif char.levels:
            flags = values.astype(object).isin(char.levels)
        else:
            out[code] = pd.to_numeric(values, errors="coerce").astype(float)
            continue
        out[code] = flags.astype(float).where(values.notna())
    return pd.DataFrame(out, index=cohort.index)


def centred(values: pd.DataFrame, targets: dict[str, float]) -> pd.DataFrame:
    """The matrix MAIC balances: each column minus the trial's value, so that weighted means of 0
    are balance; ``age_sd``'s column is ``(age - trial mean)^2 - trial SD^2``."""
    out = values.copy()
    for code in values.columns:
        if code == "age_sd":
            out[code] = (values[code] - targets["age_mean"]) ** 2 - targets["age_sd"] ** 2
        else:
            out[code] = values[code] - targets[code]
    return out


# --- the weights --------------------------------------------------------------------------


@dataclass(frozen=True)
class Weights:
    """MAIC weights of the patients (same order as the rows given), scaled to sum to n; the
    coefficients ``a`` (per unit of each centred column) and the largest absolute weighted mean of
    a centred column left (0 at balance)."""

    weights: np.ndarray
    coefficients: np.ndarray
    imbalance: float
    iterations: int

    @property
    def ess(self) -> float:
        return effective_sample_size(self.weights)


def effective_sample_size(weights) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum w^2`` (TSD 18, section 3.2.2)."""
    w = np.asarray(weights, dtype=float)
    return float(w.sum() ** 2 / (w**2).sum())


def rescaled(weights) -> np.ndarray:
    """Weights scaled to a mean of 1 (sum = number of patients), as TSD 18 plots them."""
    w = np.asarray(weights, dtype=float)
    return w * len(w) / w.sum()


def _labels(codes) -> str:
    """``"male sex, previous allogeneic HSCT"``: labels without their unit, for sentences."""
    words = [
        CHARACTERISTICS[c].label.rsplit(" (", 1)[0] if c in CHARACTERISTICS else str(c)
        for c in codes
    ]
    return ", ".join(w[0].lower() + w[1:] for w in words)


def check_matchable(x: pd.DataFrame) -> None:
    """MaicError unless every centred column has variation and the trial's value (0 here) lies
    strictly between the cohort's smallest and largest values: otherwise no positive weights balance it."""
    if len(x) == 0:
        raise MaicError(
            "No patient of the population has every matched characteristic recorded, so there is "
            "nobody to reweight."
        )
    # one reduction per matrix, not per column: this runs for every bootstrap resample
    low, high = x.min(), x.max()
    flat = [c for c in x.columns if not low[c] < high[c]]
    if flat:
        raise MaicError(
            f"Every patient has the same {_labels(flat)}, so reweighting cannot move it to the "
            "trial's value; leave it out of the matched characteristics or compare without it."
        )
    outside = [c for c in x.columns if not (low[c] < 0 < high[c])]
    if outside:
        raise MaicError(
            f"The trial's {_labels(outside)} lies outside the range of the cohort's patients, so no "
            "positive weights can match it."
        )


def reachable(x: pd.DataFrame) -> bool:
    """True when some strictly positive weights give every centred column of ``x`` a weighted mean
    of 0, i.e. the trial's values lie inside what the patients can be averaged to (a linear
    programme: maximise the smallest of weights summing to 1 under the balance equations)."""
    from scipy.optimize import linprog

    values = x.to_numpy(dtype=float)
    # the distinct rows in order of first appearance, as DataFrame.drop_duplicates keeps them
    z = values[np.sort(np.unique(values, axis=0, return_index=True)[1])]
    m = len(z)
    equations = np.hstack([np.vstack([z.T, np.ones(m)]), np.zeros((z.shape[1] + 1, 1))])
    bounds = np.hstack([-np.eye(m), np.ones((m, 1))])
    fit = linprog(
        np.r_[np.zeros(m), -1.0],
        A_ub=bounds,
        b_ub=np.zeros(m),
        A_eq=equations,
        b_eq=np.r_[np.zeros(z.shape[1]), 1.0],
        bounds=[(0, None)] * m + [(None, None)],
    )
    return bool(fit.status == 0 and -fit.fun > 1e-12)


def maic_weights(x: pd.DataFrame, *, tolerance: float = 1e-9, max_iterations: int = 200) -> Weights:
    """Method-of-moments weights balancing the centred matrix ``x`` (:func:`centred`; rows patients).

    Minimises ``log Q(a)`` (the same minimiser as ``Q``, better scaled: its gradient is the weighted
    mean of each column) with columns scaled by their SD (the weights do not depend on it).
    MaicError when :func:`check_matchable` or :func:`reachable` fails, or when the minimiser stops
    before every weighted mean of ``x`` is within ``tolerance`` (in SDs of the column) of 0.
    """
    from scipy.optimize import minimize
    from scipy.special import logsumexp, softmax

    check_matchable(x)
    if not reachable(x):
        raise MaicError(
            f"The trial's values of {_labels(x.columns)} together lie outside what any positive "
            "weights of these patients can reach (each may be reachable alone), so no weights "
            "balance them all; match fewer characteristics."
        )
    scale = x.std(ddof=0).to_numpy()
    z = x.to_numpy(dtype=float) / scale

    def objective(a):
        share = softmax(z @ a)
        return logsumexp(z @ a), z.T @ share

    def hessian(a):
        share = softmax(z @ a)
        mean = z.T @ share
        return (z * share[:, None]).T @ z - np.outer(mean, mean)

    fit = minimize(
        objective,
        np.zeros(z.shape[1]),
        jac=True,
        hess=hessian,
        method="trust-exact",
        options={"gtol": tolerance / 10, "maxiter": max_iterations},
    )
    a, iterations = fit.x, int(fit.nit)
    # Near the minimum log Q changes below float precision and the trust region stops early;
    # Newton steps on the gradient alone finish the job (quadratic convergence, convex problem).
    for _ in range(10 if iterations < max_iterations else 0):
        gradient = objective(a)[1]
        if np.max(np.abs(gradient)) <= tolerance / 10:
            break
        a, iterations = a - np.linalg.solve(hessian(a), gradient), iterations + 1
    share = softmax(z @ a)
    gap = float(np.max(np.abs(z.T @ share)))
    if not gap <= tolerance:
        raise MaicError(
            f"The weights did not converge ({iterations} iterations; largest weighted gap to the trial "
            f"{gap:.2g} SD), so there is no adjusted estimate; match fewer characteristics."
        )
    return Weights(rescaled(share), a / scale, gap * float(np.max(scale)), iterations)


def balance_table(values: pd.DataFrame, weights, targets: dict[str, float]) -> pd.DataFrame:
    """Per characteristic: the cohort's mean before weighting, after, and the trial's value (proportions
    as fractions; age in years; ``age_sd``: SDs, the weighted one around the weighted mean)."""
    w = np.asarray(weights, dtype=float)
    rows = []
    for code in values.columns:
        v = values[code].to_numpy(dtype=float)
        if code == "age_sd":
            before = float(np.std(v, ddof=1))
            mean_w = np.average(v, weights=w)
            after = float(np.sqrt(np.average((v - mean_w) ** 2, weights=w)))
        else:
            before, after = float(v.mean()), float(np.average(v, weights=w))
        rows.append(
            {
                "characteristic": code,
                "label": CHARACTERISTICS[code].label,
                "before": before,
                "after": after,
                "trial": targets[code],
            }
        )
    return pd.DataFrame(rows)


# --- the outcome --------------------------------------------------------------------------


@dataclass(frozen=True)
class WeightedRate:
    """A weighted proportion with its 95 % CI: Wald on the logit scale from the robust (sandwich,
    HC0) variance of a weighted binomial GLM, weights taken as fixed; ``se``: SE of the proportion
    (delta method). NaN limits when every or no patient responded."""

    estimate: float
    ci_low: float
    ci_high: float
    se: float


def weighted_rate(outcome, weights, confidence: float = 0.95) -> WeightedRate:
    """Weighted rate of a 0/1 ``outcome`` with the sandwich CI (statsmodels GLM, ``var_weights``, HC0)."""
    import statsmodels.api as sm
    from scipy.stats import norm

    y, w = np.asarray(outcome, dtype=float), np.asarray(weights, dtype=float)
    p = float(np.average(y, weights=w))
    if p in (0.0, 1.0):
        return WeightedRate(p, math.nan, math.nan, math.nan)
    fit = sm.GLM(y, np.ones((len(y), 1)), family=sm.families.Binomial(), var_weights=w).fit(
        cov_type="HC0"
    )
    logit, se = float(fit.params[0]), float(fit.bse[0])
    z = norm.ppf(0.5 + confidence / 2)
    return WeightedRate(p, _expit(logit - z * se), _expit(logit + z * se), p * (1 - p) * se)


def _expit(t: float) -> float:
    return 1 / (1 + math.exp(-t))


def risk_difference(
    rate: WeightedRate, k: int, n: int, confidence: float = 0.95
) -> tuple[float, float, float]:
    """Weighted rate minus the trial's ``k/n``, with a Wald CI: the sandwich variance of the weighted
    rate plus the binomial variance of the trial's rate (independent samples)."""
    from scipy.stats import norm

    p_trial = k / n
    diff = rate.estimate - p_trial
    se = (
        math.sqrt(rate.se**2 + p_trial * (1 - p_trial) / n) if not math.isnan(rate.se) else math.nan
    )
    z = norm.ppf(0.5 + confidence / 2)
    return diff, diff - z * se, diff + z * se


def bootstrap(
    values: pd.DataFrame,
    outcome,
    targets: dict[str, float],
    trial: tuple[int, int],
    *,
    samples: int,
    seed: int,
) -> pd.DataFrame:
    """Bootstrap that re-estimates the weights in each resample of the patients (with replacement,
    ``numpy.random.default_rng(seed)``); the trial's rate is redrawn as binomial(n, k/n) for the
    difference. One row per resample: ``rate`` and ``difference``, NaN where the weights could not
    be estimated (a resample without variation or out of range), ``failed`` saying so."""
    rng = np.random.default_rng(seed)
    x, y = centred(values, targets).reset_index(drop=True), np.asarray(outcome, dtype=float)
    k, n = trial
    rows = []
    for _ in range(samples):
        pick = rng.integers(0, len(x), len(x))
        trial_rate = rng.binomial(n, k / n) / n
        try:
            w = maic_weights(x.iloc[pick].reset_index(drop=True)).weights
        except MaicError:
            rows.append({"rate": math.nan, "difference": math.nan, "failed": True})
            continue
        rate = float(np.average(y[pick], weights=w))
        rows.append({"rate": rate, "difference": rate - trial_rate, "failed": False})
    return pd.DataFrame(rows, columns=["rate", "difference", "failed"])


def share_bins(weights, k: int) -> list[float] | None:
    """Histogram edges for a share run: bins of at least ``k`` patients each (sorted weights cut
    after every ``k``-th patient where the next weight differs; a short last group joins the one
    before), edges half-way between neighbouring groups, the outer edges 0 and the next whole
    number above the largest weight, so no bar shows fewer than ``k`` patients and no single
    weight is drawn. None when fewer than ``k`` patients."""
    w = np.sort(np.asarray(weights, dtype=float))
    k = max(int(k), 1)
    if len(w) < k:
        return None
    cuts, start = [], 0
    for i in range(1, len(w)):
        if i - start >= k and w[i] > w[i - 1] and len(w) - i >= k:
            cuts.append((w[i - 1] + w[i]) / 2)
            start = i
    return [0.0, *cuts, float(math.floor(w[-1]) + 1)]


def percentile_ci(draws, confidence: float = 0.95) -> tuple[float, float]:
    """Percentile interval of the finite draws (NaN, NaN when none)."""
    finite = np.asarray(draws, dtype=float)
    finite = finite[np.isfinite(finite)]
    if not len(finite):
        return math.nan, math.nan
    tail = (1 - confidence) / 2
    return float(np.quantile(finite, tail)), float(np.quantile(finite, 1 - tail))
