"""A multivariable Cox model of overall survival: design, the events-per-variable rule,
the fit (lifelines, Efron ties, Wald intervals) and a regression table (hazard ratio,
95 % CI, p) laid out as R ``gtsummary::tbl_regression`` does. Times in months.

Events per variable (EPV): the events divided by the model's parameters (a category with
m levels counts m - 1). Below :data:`MIN_EPV` the estimates are biased away from 1 and their
intervals too narrow (Peduzzi et al. 1995), so covariates are left out, last listed first,
until the rule holds. A reduced model is preferred to a penalised
one because lifelines' penalised Cox gives no valid interval or p-value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.results import Key

#: Events per parameter the full model needs (Peduzzi et al. 1995).
MIN_EPV = 10
COX_METHOD = "multivariable Cox proportional hazards (Efron ties); Wald 95% CI and p"
#: Columns of lifelines' ``fit.summary``: hazard ratio, its 95 % limits, Wald p.
_HR = ("exp(coef)", "exp(coef) lower 95%", "exp(coef) upper 95%", "p")


@dataclass(frozen=True)
class Covariate:
    """One covariate of the model: its column, label, and for a category the levels in order
    (the first is the reference) with their labels."""

    column: str
    label: str
    levels: tuple[str, ...] = ()
    level_labels: Mapping[str, str] | None = None

    def parameters(self) -> list[str]:
        """Design column names: the column itself, or ``column=level`` for each non-reference level."""
        return [f"{self.column}={lv}" for lv in self.levels[1:]] if self.levels else [self.column]


def design(data: pd.DataFrame, covariates: Sequence[Covariate]) -> pd.DataFrame:
    """Numeric design matrix (floats): numbers and 0/1 as they are, categories as indicators
    of each non-reference level; same index as ``data`` (no missing values allowed)."""
    columns = {}
    for cov in covariates:
        if cov.levels:
            for lv in cov.levels[1:]:
                columns[f"{cov.column}={lv}"] = (data[cov.column].astype(str) == lv).astype(float)
        else:
            columns[cov.column] = data[cov.column].astype(float)
    return pd.DataFrame(columns, index=data.index)


def usable(data: pd.DataFrame, covariates: Sequence[Covariate]) -> list[Covariate]:
    """The covariates that vary in ``data``; a category keeps its levels present, in order."""
    kept = []
    for cov in covariates:
        if cov.levels:
            present = tuple(lv for lv in cov.levels if (data[cov.column].astype(str) == lv).any())
            if len(present) > 1:
                kept.append(Covariate(cov.column, cov.label, present, cov.level_labels))
        elif data[cov.column].astype(float).nunique() > 1:
            kept.append(cov)
    return kept


def events_per_variable(events: int, covariates: Sequence[Covariate]) -> float:
    """Events per model parameter (NaN without parameters)."""
    n_par = sum(len(c.parameters()) for c in covariates)
    return events / n_par if n_par else math.nan


def choose_covariates(events: int, covariates: Sequence[Covariate]) -> list[Covariate]:
    """The covariates kept under the EPV rule: drop from the end of ``covariates`` until
    events per parameter reach :data:`MIN_EPV`, always keeping the first."""
    kept = list(covariates)
    while len(kept) > 1 and events_per_variable(events, kept) < MIN_EPV:
        kept.pop()
    return kept


def fit(data: pd.DataFrame, covariates: Sequence[Covariate], duration: str, event: str):
    """lifelines ``CoxPHFitter`` on :func:`design` (Efron ties, iterated to R's precision).
    Raises lifelines' ``ConvergenceError`` when the likelihood has no finite maximum."""
    from lifelines import CoxPHFitter

    from helpers.survival import COX_FIT_OPTIONS

    frame = design(data, covariates).assign(
        **{duration: data[duration].astype(float), event: data[event].astype(bool)}
    )
    return CoxPHFitter().fit(
        frame, duration_col=duration, event_col=event, fit_options=COX_FIT_OPTIONS
    )


def regression_table(
    summary: pd.DataFrame, covariates: Sequence[Covariate], ph: pd.DataFrame | None = None
) -> pd.DataFrame:
    """``tbl_regression``-like rows: one per number or 0/1 covariate, and per category a
    header row, its reference level (``—``) and one row per other level. ``summary`` is
    lifelines' ``fit.summary``; ``ph``, when given, adds the per-parameter PH-check p."""
    from helpers import narrative

    rows = []

    def row(label, name, mark="—"):
        if name is None:
            blank = {"Characteristic": label, "HR": mark, "95% CI": mark, "p-value": ""}
            return blank | ({"PH check p": ""} if ph is not None else {})
        s = summary.loc[name]
        out = {
            "Characteristic": label,
            "HR": f"{s['exp(coef)']:.2f}",
            "95% CI": f"{s['exp(coef) lower 95%']:.2f}–{s['exp(coef) upper 95%']:.2f}",
            "p-value": narrative.p_text(s["p"], bare=True),
        }
        if ph is not None:
            out["PH check p"] = narrative.p_text(ph.loc[name, "p"], bare=True)
        return out

    for cov in covariates:
        if cov.levels:
            rows.append(row(cov.label, None, ""))
            names = cov.level_labels or {}
            rows.append(row(f"    {names.get(cov.levels[0], cov.levels[0])} (reference)", None))
            for lv in cov.levels[1:]:
                rows.append(row(f"    {names.get(lv, lv)}", f"{cov.column}={lv}"))
        else:
            rows.append(row(cov.label, cov.column))
    return pd.DataFrame(rows)


def result_rows(
    summary: pd.DataFrame, covariates: Sequence[Covariate], key: str, n: int, events: int
) -> list[dict]:
    """One result row per parameter, ``{key}[{parameter}].hr`` (numerator = events)."""
    rows = []
    for name, label in parameter_labels(covariates).items():
        estimate, low, high, p = (float(summary.loc[name, c]) for c in _HR)
        rows.append(
            {
                "key": str(Key(key, by=name, part="hr")),
                "label": f"Adjusted OS hazard ratio, {label}",
                "numerator": events,
                "denominator": n,
                "estimate": estimate,
                "ci_low": low,
                "ci_high": high,
                "p_value": p,
                "unit": "hazard ratio",
                "method": COX_METHOD,
            }
        )
    return rows


def parameter_labels(covariates: Sequence[Covariate]) -> dict[str, str]:
    """Design column name -> words, e.g. ``"debulking_category=tki"`` -> ``"Debulking therapy: TKI
    vs Steroids"`` (against the reference level)."""
    out = {}
    for cov in covariates:
        names = cov.level_labels or {}
        for name in cov.parameters():
            level = name.split("=", 1)[1] if "=" in name else None
            out[name] = cov.label + (
                f": {names.get(level, level)} vs {names.get(cov.levels[0], cov.levels[0])}"
                if level
                else ""
            )
    return out


def finite(summary: pd.DataFrame) -> bool:
    """True when every hazard ratio and bound is finite (no covariate separates the deaths)."""
    values = summary[list(_HR[:3])].to_numpy(dtype=float)
    return bool(
        np.isfinite(values).all() and (values > 0).all() and (summary["se(coef)"] < 1e3).all()
    )


def hazard_ratio(months, events, flag) -> tuple[float, float, float, float]:
    """(hazard ratio, 95 % low, high, Wald p) of ``flag`` True against False in a
    single-covariate Cox model (Efron ties); ``months``, ``events`` and ``flag`` aligned."""
    from lifelines import CoxPHFitter

    from helpers.survival import COX_FIT_OPTIONS

    frame = pd.DataFrame(
        {
            "t": np.asarray(months, dtype=float),
            "e": np.asarray(events, dtype=bool),
            "x": np.asarray(flag, dtype=bool).astype(int),
        }
    )
    fit = CoxPHFitter().fit(frame, duration_col="t", event_col="e", fit_options=COX_FIT_OPTIONS)
    return tuple(float(fit.summary.loc["x", c]) for c in _HR)
