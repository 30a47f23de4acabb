"""Exact intervals and tests for small cohorts: the one place notebooks take statistics from.

Clopper-Pearson intervals (Wilson on request); the table tests of :mod:`helpers.contingency`
and :mod:`helpers.unconditional` (rows: groups compared, columns: the outcome).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from scipy import stats as sps

from helpers.contingency import (
    TestResult,
    as_table,
    chi_square,
    fisher_exact,
    fisher_midp,
    fisher_midp_doubled,
)
from helpers.narrative import ci_text, n_of
from helpers.suppression import NONE, Policy
from helpers.unconditional import (
    barnard_exact,
    boschloo_exact,
    boschloo_fisher_two_sided,
    unconditional_is_feasible,
)

__all__ = [
    "Proportion",
    "TestResult",
    "all_tests",
    "applicable_tests",
    "barnard_exact",
    "boschloo_exact",
    "boschloo_fisher_two_sided",
    "chi_square",
    "ci_method_label",
    "exact_ci",
    "fisher_exact",
    "fisher_midp",
    "fisher_midp_doubled",
    "proportion",
    "unconditional_is_feasible",
    "wilson_ci",
]

_CI_METHOD_LABELS = {"clopper-pearson": "Clopper-Pearson exact", "wilson": "Wilson score"}


@dataclass(frozen=True)
class Proportion:
    """``numerator / denominator`` with its interval; estimate and limits are fractions in
    [0, 1], NaN when the denominator is 0."""

    numerator: int
    denominator: int
    estimate: float
    ci_low: float
    ci_high: float
    method: str
    confidence: float = 0.95
    #: What its text shows of the counts (a share run's policy; not part of the value).
    policy: Policy = field(default=NONE, compare=False, repr=False)

    @property
    def method_label(self) -> str:
        """``"Clopper-Pearson exact 95% CI"``."""
        return ci_method_label(self.method, self.confidence)

    def __str__(self) -> str:
        """``"15/34 (44.1%; 95% CI 27.2–62.1%, Clopper-Pearson)"``, with a share run's hiding."""
        k, n = self.numerator, self.denominator
        interval = ci_text(
            self.ci_low,
            self.ci_high,
            label=f"{100 * self.confidence:g}% CI ",
            counts=(k, n),
            policy=self.policy,
        )
        return f"{n_of(k, n, policy=self.policy)[:-1]}; {interval}, {_CI_METHOD_LABELS[self.method].split()[0]})"

    def row_fields(self) -> dict:
        """The counts, estimate and limits as result-row columns (:mod:`helpers.results`)."""
        names = ("numerator", "denominator", "estimate", "ci_low", "ci_high")
        return {name: getattr(self, name) for name in names}

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_markdown_(self) -> str:
        return str(self)


def _check_counts(k: int, n: int) -> None:
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")


def exact_ci(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Clopper-Pearson exact interval of ``k/n`` from beta quantiles (as R's ``binom.test``);
    (NaN, NaN) when ``n == 0``."""
    _check_counts(k, n)
    if n == 0:
        return (math.nan, math.nan)
    alpha = 1.0 - confidence
    low = 0.0 if k == 0 else float(sps.beta.ppf(alpha / 2, k, n - k + 1))
    high = 1.0 if k == n else float(sps.beta.ppf(1 - alpha / 2, k + 1, n - k))
    return (low, high)


def wilson_ci(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval (no continuity correction; Newcombe 1998 method 3)."""
    _check_counts(k, n)
    if n == 0:
        return (math.nan, math.nan)
    z = float(sps.norm.ppf(1 - (1 - confidence) / 2))
    p = k / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    denom = 1 + z * z / n
    return (max(0.0, (centre - half) / denom), min(1.0, (centre + half) / denom))


def proportion(
    k: int,
    n: int,
    *,
    method: str = "clopper-pearson",
    confidence: float = 0.95,
    policy: Policy = NONE,
) -> Proportion:
    """Proportion ``k/n`` with a ``"clopper-pearson"`` (default) or ``"wilson"`` interval; its
    text shows the counts under ``policy``."""
    if method == "clopper-pearson":
        low, high = exact_ci(k, n, confidence)
    elif method == "wilson":
        low, high = wilson_ci(k, n, confidence)
    else:
        raise ValueError(f"unknown interval method {method!r}; use 'clopper-pearson' or 'wilson'")
    estimate = k / n if n else math.nan
    return Proportion(int(k), int(n), estimate, low, high, method, confidence, policy)


def ci_method_label(method: str, confidence: float = 0.95) -> str:
    """Words for an interval method."""
    return f"{_CI_METHOD_LABELS[method]} {100 * confidence:g}% CI"


#: Every test by its result-key name, in display order.
TESTS = {
    "fisher": fisher_exact,
    "chi2": chi_square,
    "chi2_yates": lambda table: chi_square(table, yates=True),
    "barnard": barnard_exact,
    "boschloo": boschloo_exact,
    "fisher_midp": fisher_midp,
    "boschloo_fisher2": boschloo_fisher_two_sided,
    "fisher_midp_doubled": fisher_midp_doubled,
}
#: The other two-sided convention of a test (Boschloo's test: twice the smaller one-sided p,
#: or the two-sided Fisher p as statistic; mid-p: Fisher's p minus half the observed table's
#: probability, or twice the smaller one-sided mid-p), both ways round.
CONVENTION_PAIRS: dict[str, str] = {
    "boschloo": "boschloo_fisher2",
    "boschloo_fisher2": "boschloo",
    "fisher_midp": "fisher_midp_doubled",
    "fisher_midp_doubled": "fisher_midp",
}
#: Tests computed for 2 x 2 tables only.
TWO_BY_TWO_ONLY: frozenset[str] = frozenset(
    {"chi2_yates", "barnard", "boschloo", "fisher_midp", "boschloo_fisher2", "fisher_midp_doubled"}
)


def applicable_tests(table) -> tuple[str, ...]:
    """Names of the tests of :data:`TESTS` that apply to the table's shape."""
    two_by_two = as_table(table).shape == (2, 2)
    return tuple(name for name in TESTS if two_by_two or name not in TWO_BY_TWO_ONLY)


def all_tests(table) -> tuple[TestResult, ...]:
    """Every applicable test of a table (:func:`applicable_tests`)."""
    return tuple(TESTS[name](table) for name in applicable_tests(table))
