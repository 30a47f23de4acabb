"""Logistic regression by Firth's penalised likelihood, with profile-likelihood intervals and tests.

As R's ``logistf`` (``pl = TRUE``): Newton-Raphson on the log-likelihood plus half the
log-determinant of the information (finite under separation; Heinze & Schemper 2002);
limits where the profile drops by half the chi-square(1) quantile; p-values from the
penalised likelihood ratio test. ``firth=False``: ordinary maximum likelihood with profile
limits (R's ``glm`` + ``confint``). Missing values are not allowed: drop them first.

:func:`cox_zph`, the proportional-hazards test of a Cox fit, is R's ``cox.zph`` (survival
>= 3.0): a score test of adding ``x * g(t)`` with the full information of (beta, gamma).
lifelines' ``proportional_hazard_test`` is the older approximation (R before 3.0), which can
differ markedly with few deaths.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize
from scipy import stats as sps
from scipy.special import expit

INTERCEPT = "(Intercept)"
#: Newton-Raphson: largest change of any coefficient in one step, iterations,
#: halvings of a step that lowers the objective, and the convergence tolerance
#: (largest Newton step, in log-odds units).
MAX_STEP, MAX_ITER, MAX_HALVINGS, TOLERANCE = 5.0, 500, 40, 1e-9
#: Profile limits are searched up to this far from the estimate (log-odds units);
#: beyond it the limit is reported as infinite.
SEARCH_LIMIT = 50.0


@dataclass(frozen=True)
class LogisticFit:
    """A fitted logistic regression: one entry per term in ``terms`` (log-odds scale)."""

    terms: tuple[str, ...]
    coef: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    chi2: np.ndarray
    p_value: np.ndarray
    loglik: float
    n: int
    events: int
    firth: bool
    confidence: float

    def table(self) -> pd.DataFrame:
        """One row per term: coef, se, odds ratio with its profile limits, chi2 and p."""
        return pd.DataFrame(
            {
                "term": self.terms,
                "coef": self.coef,
                "se": self.se,
                "odds_ratio": np.exp(self.coef),
                "or_low": np.exp(self.ci_low),
                "or_high": np.exp(self.ci_high),
                "chi2": self.chi2,
                "p_value": self.p_value,
            }
        )


def _objective(beta: np.ndarray, X: np.ndarray, y: np.ndarray, count: np.ndarray, firth: bool):
    """(Penalised) log-likelihood, its gradient and the Fisher information at ``beta``.

    Row i of ``X`` and ``y`` stands for ``count[i]`` identical patients.
    """
    eta = X @ beta
    prob = expit(eta)
    weight = prob * expit(-eta)  # p (1 - p) without cancellation when p is near 1
    info = X.T @ (X * (count * weight)[:, None])
    # log(1 + e^eta) computed stably; loglik = sum(y * eta - log(1 + e^eta)).
    loglik = float(np.sum(count * (y * eta - np.logaddexp(0, eta))))
    residual = y - prob
    if firth:
        sign, logdet = np.linalg.slogdet(info)
        if sign <= 0:
            return -np.inf, None, info
        loglik += 0.5 * logdet
        # Diagonal of the hat matrix W^1/2 X (X'WX)^-1 X' W^1/2, per patient.
        hat = weight * np.einsum("ij,ij->i", X @ np.linalg.inv(info), X)
        residual = residual + hat * (0.5 - prob)
    return loglik, X.T @ (count * residual), info


def _curvature(
    beta: np.ndarray, X: np.ndarray, count: np.ndarray, firth: bool, info: np.ndarray
) -> np.ndarray:
    """Minus the Hessian of the objective; for Firth, l'' plus that of 0.5 log det I (Newton steps)."""
    if not firth:
        return info
    prob = expit(X @ beta)
    weight = prob * expit(-(X @ beta))
    inverse = np.linalg.inv(info)
    # d I / d beta_r = X' diag(w' x_r) X and d2 w / d eta2 = w (1 - 6 w), with w' = w (1 - 2 p).
    k = X.shape[1]
    pairs = (X[:, :, None] * X[:, None, :]).reshape(len(X), k * k)
    slopes = inverse @ ((X * (count * weight * (1 - 2 * prob))[:, None]).T @ pairs).reshape(k, k, k)
    leverage = np.einsum("ij,ij->i", X @ inverse, X)
    second = X.T @ (X * (count * weight * (1 - 6 * weight) * leverage)[:, None])
    return info - 0.5 * (second - np.einsum("rab,sba->rs", slopes, slopes))


def _information(beta: np.ndarray, X: np.ndarray, count: np.ndarray, firth: bool) -> np.ndarray:
    """Fisher information; for Firth, that of the data augmented by the penalty (as logistf reports)."""
    per_patient = expit(X @ beta) * expit(-(X @ beta))
    weight = count * per_patient
    if firth:
        info = X.T @ (X * weight[:, None])
        # Each patient counts 1 + h times: the pseudo-observations that Firth's penalty adds.
        weight = weight * (1 + per_patient * np.einsum("ij,ij->i", X @ np.linalg.inv(info), X))
    return X.T @ (X * weight[:, None])


def _maximise(X, y, count, firth, start, free):
    """Newton-Raphson over the coefficients in ``free`` (the others stay at ``start``).

    Raises ValueError when it does not converge (under separation, ordinary maximum
    likelihood has no finite estimate).
    """
    beta = start.astype(float).copy()
    value, grad, info = _objective(beta, X, y, count, firth)
    if not free.any():
        return beta, value, info
    for _ in range(MAX_ITER):
        if grad is None:
            break
        step = np.zeros_like(beta)
        curvature = _curvature(beta, X, count, firth, info)[np.ix_(free, free)]
        if np.any(np.linalg.eigvalsh(curvature) <= 0):  # far from the maximum: Fisher scoring
            curvature = info[np.ix_(free, free)]
        step[free] = np.linalg.lstsq(curvature, grad[free], rcond=None)[0]
        largest = np.max(np.abs(step))
        if largest < TOLERANCE:
            return beta, value, info
        if largest > MAX_STEP:
            step *= MAX_STEP / largest
        for _ in range(MAX_HALVINGS):
            new = _objective(beta + step, X, y, count, firth)
            if new[0] >= value - 1e-12 * (1 + abs(value)):  # no lower, up to rounding
                break
            step /= 2
        else:
            # No step raises the objective: at its maximum up to rounding, or stuck.
            if largest < 1e-5:
                return beta, value, info
            break
        beta = beta + step
        value, grad, info = new
    raise ValueError(
        "the logistic regression did not converge: the outcome is separated by the "
        "covariates"
        + ("" if firth else " (use Firth's penalised likelihood)")
        + " or the design is degenerate"
    )


def fit_logistic(
    covariates: pd.DataFrame,
    outcome: Sequence[bool],
    *,
    firth: bool = True,
    confidence: float = 0.95,
) -> LogisticFit:
    """Logistic regression of ``outcome`` (bool or 0/1) on numeric ``covariates`` plus an
    intercept, Firth-penalised by default. ``chi2``/``p_value``: likelihood ratio tests of
    each coefficient = 0; limits past :data:`SEARCH_LIMIT` are infinite. ValueError on
    missing values, no rows or a design not of full rank."""
    X = covariates.astype(float).to_numpy()
    y = np.asarray(outcome, dtype=float)
    if len(y) == 0 or len(y) != len(X) or np.isnan(X).any() or np.isnan(y).any():
        raise ValueError(
            "need the same positive number of covariate rows and outcomes, none missing"
        )
    # Patients with the same covariates and outcome enter once, with their number (same fit, less work).
    patterns, count = np.unique(
        np.column_stack([np.ones(len(y)), X, y]), axis=0, return_counts=True
    )
    X, y, count = patterns[:, :-1], patterns[:, -1], count.astype(float)
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise ValueError("the design is not of full rank: a covariate is constant or collinear")
    terms = (INTERCEPT, *map(str, covariates.columns))
    all_free = np.ones(X.shape[1], dtype=bool)
    beta, best, info = _maximise(X, y, count, firth, np.zeros(X.shape[1]), all_free)
    if not firth and np.max(np.abs(X @ beta)) > 30:  # fitted probabilities numerically 0 or 1
        raise ValueError(
            "the outcome is separated by the covariates: ordinary maximum likelihood has no "
            "finite estimate (use Firth's penalised likelihood)"
        )
    se = np.sqrt(np.diag(np.linalg.inv(_information(beta, X, count, firth))))

    z = np.sqrt(sps.chi2.ppf(confidence, 1))
    low, high, chi2 = (np.empty(len(beta)) for _ in range(3))
    for j in range(len(beta)):
        free = all_free.copy()
        free[j] = False
        warm = [beta]  # the last constrained fit, to start the next one near it

        def signed_root(value: float, j=j, free=free, warm=warm) -> float:
            """sign(value - estimate) * sqrt(2 * fall of the profile log-likelihood): nearly linear."""
            for origin in (warm[0], beta):  # the last fit, else the estimate if that start fails
                start = origin.copy()
                start[j] = value
                try:
                    warm[0], objective, _ = _maximise(X, y, count, firth, start, free)
                    return np.sign(value - beta[j]) * np.sqrt(max(2 * (best - objective), 0.0))
                except ValueError:
                    continue
            raise ValueError(f"the profile of {terms[j]} could not be computed at {value:g}")

        # Far from the estimate a profile can fail numerically: that limit or test is then NaN.
        chi2[j] = _or_nan(lambda: signed_root(0.0) ** 2)
        low[j], high[j] = (
            _or_nan(lambda side=side, j=j: _limit(signed_root, beta[j], se[j], z, side))
            for side in (-1, 1)
        )
    return LogisticFit(
        terms=terms,
        coef=beta,
        se=se,
        ci_low=low,
        ci_high=high,
        chi2=chi2,
        p_value=sps.chi2.sf(chi2, 1),
        loglik=best,
        n=int(count.sum()),
        events=int(count @ y),
        firth=firth,
        confidence=confidence,
    )


def _or_nan(compute) -> float:
    try:
        return compute()
    except ValueError:
        return np.nan


def _limit(signed_root, estimate: float, se: float, z: float, side: int) -> float:
    """Where ``signed_root`` reaches ``side * z``, searched outwards from the Wald limit."""
    inner, distance = estimate, min(z * se, SEARCH_LIMIT)
    while True:
        outer = estimate + side * distance
        if side * signed_root(outer) >= z:
            return optimize.brentq(
                lambda b: side * signed_root(b) - z, min(inner, outer), max(inner, outer), xtol=1e-9
            )
        if distance >= SEARCH_LIMIT:
            return side * np.inf
        inner, distance = outer, min(2 * distance, SEARCH_LIMIT)


COX_ZPH_METHOD = (
    "Grambsch-Therneau score test of x * g(t), g = 1 - KM just before t, centred "
    "(R's cox.zph, survival >= 3.0; Efron ties); estimate = chi-square"
)


def cox_zph(durations, events, covariates: pd.DataFrame, coefficients) -> pd.DataFrame:
    """R's ``cox.zph(fit)$table`` (``transform = "km"``) for a Cox fit with Efron ties, one
    stratum, no weights: rows per covariate and ``GLOBAL``, columns ``chisq``, ``df``, ``p``.
    ``coefficients``: the fitted log hazard ratios in the order of ``covariates``' columns."""
    time, event = np.asarray(durations, dtype=float), np.asarray(events, dtype=bool)
    x, beta = covariates.to_numpy(dtype=float), np.asarray(coefficients, dtype=float)
    if np.isnan(time).any() or np.isnan(x).any() or len(time) != len(x):
        raise ValueError("need one time, event and covariate row per patient, none missing")
    deaths = np.unique(time[event])
    km = np.cumprod([1 - (event & (time == t)).sum() / (time >= t).sum() for t in deaths])
    g = 1 - np.concatenate([[1.0], km])[np.searchsorted(deaths, time, side="left")]  # 1 - KM(t-)
    g -= g[event].mean()
    eta = (x - x.mean(axis=0)) @ beta
    w = np.exp(eta - eta.max())
    p = x.shape[1]
    score, info = np.zeros(p), np.zeros((2 * p, 2 * p))
    for t in deaths:
        sums = [
            (w[m].sum(), w[m] @ x[m], (x[m] * w[m][:, None]).T @ x[m])
            for m in (time >= t, event & (time == t))
        ]
        dead = event & (time == t)
        d, gt = int(dead.sum()), float(g[dead][0])
        residual, variance = x[dead].sum(axis=0), np.zeros((p, p))
        for k in range(d):  # Efron: the tied deaths leave the risk set k / d at a time
            s0, s1, s2 = (risk - k / d * tied for risk, tied in zip(*sums))
            residual = residual - s1 / s0
            variance += s2 / s0 - np.outer(s1, s1) / s0**2
        score += gt * residual
        info += np.kron([[1.0, gt], [gt, gt * gt]], variance)
    rows = {}
    for j, name in [*enumerate(covariates.columns), (None, "GLOBAL")]:
        keep = list(range(2 * p)) if j is None else [*range(p), p + j]
        u = np.concatenate([np.zeros(p), score if j is None else score[[j]]])
        rows[str(name)] = (
            float(u @ np.linalg.solve(info[np.ix_(keep, keep)], u)),
            p if j is None else 1,
        )
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["chisq", "df"])
    return table.assign(p=sps.chi2.sf(table["chisq"], table["df"]))
