"""Tables, forest rows and words for the historic comparison (from :func:`helpers.historic.compare_pairings`)."""

from __future__ import annotations

import math

import pandas as pd

from helpers import suppression
from helpers.narrative import ci_text, count, p_text, percent


def _rate_text(k, n, rate: float, low: float, high: float, cohort: bool = False) -> str:
    """``"23/34 (67.6%; 49.5–82.6%)"``, without counts or CI when there are none; the cohort's
    own small counts hidden in a share run (``"<5/30 (–)"``)."""
    if cohort and (suppression.hidden(k) or suppression.hidden(n)):
        return f"{count(int(k))}/{count(int(n))} (–)"
    if cohort and suppression.current().active:  # a share run: rounded counts, rate and CI from them
        rate, low, high = suppression.shown_rate(k, n)
        k, n = suppression.current().count(k), suppression.current().count(n)
    head = f"{int(k)}/{int(n)} " if pd.notna(k) and pd.notna(n) else ""
    if math.isnan(rate):
        return head + "(NA)"
    ci = "" if math.isnan(low) else "; " + ci_text(low, high, label="")
    return f"{head}({percent(rate)}{ci})"


def pairings_table(matched: pd.DataFrame) -> pd.DataFrame:
    """What is compared with what, and why (one line per pairing)."""
    return pd.DataFrame({
        "Pairing": matched["pairing_id"],
        "Cohort endpoint": matched["endpoint_label"] + ", " + matched["population_label"],
        "Comparator": matched["comparator_label"],
        "Comparator definition": matched["comparator_definition"],
        "Design": matched["design"],
        "Why": matched["rationale"],
    })


def comparison_table(compared: pd.DataFrame) -> pd.DataFrame:
    """The comparison table saved with the notebook: cohort and comparator n/N (%; CI),
    design, tests, risk difference (percentage points) and P(cohort higher)."""
    rd = ["–" if math.isnan(d) else f"{100 * d:+.1f}" + ("" if math.isnan(lo) else
                                                         f" ({100 * lo:+.1f} to {100 * hi:+.1f})")
          for d, lo, hi in zip(compared["risk_difference"], compared["rd_low"], compared["rd_high"])]
    return pd.DataFrame({
        "Pairing": compared["pairing_id"],
        "Endpoint": compared["endpoint_label"],
        "Cohort population": compared["population_label"],
        "Cohort n/N (%; 95% CI)": [_rate_text(*v, cohort=True) for v in zip(
            compared["cohort_k"], compared["cohort_n"], compared["cohort_rate"],
            compared["cohort_low"], compared["cohort_high"])],
        "Comparator": compared["study"] + ", " + compared["arm"],
        "Comparator definition": compared["comparator_definition"],
        "Comparator n/N (%; 95% CI)": [_rate_text(*v) for v in zip(
            compared["comparator_k"], compared["comparator_n"], compared["comparator_rate"],
            compared["comparator_low"], compared["comparator_high"])],
        "Comparator CI": compared["ci_source"],
        "Status": compared["status"],
        "Test": compared["test"],
        "p": [p_text(p, bare=True) for p in compared["p_value"]],
        "Boschloo p": [p_text(p, bare=True) + (" (asymptotic z-test in place of the exact test)"
                                               if " in place of " in str(m) else "")
                       for p, m in zip(compared["boschloo_p"], compared["boschloo_method"])],
        "Boschloo p (Fisher statistic)": [p_text(p, bare=True) for p in
                                          compared.get("boschloo_fisher2_p", pd.Series(math.nan, index=compared.index))],
        "Definition": compared.get("definition", pd.Series("", index=compared.index)).replace("", "same"),
        "Difference, points (95% CI)": rd,
        "P(cohort higher)": ["–" if math.isnan(p) else f"{p:.3f}" for p in compared["prob_cohort_higher"]],
        "Comparator note": compared["note"],
    })


def forest_rows(compared: pd.DataFrame) -> pd.DataFrame:
    """Forest rows per cohort endpoint and population: the cohort's rate, then each paired
    comparator's (printed CI, or a point only, without counts)."""
    rows = []
    order = compared.drop_duplicates(["cohort_endpoint", "cohort_population"])
    for g in order.itertuples():
        part = compared[(compared["cohort_endpoint"] == g.cohort_endpoint)
                        & (compared["cohort_population"] == g.cohort_population)]
        group = f"{g.endpoint_label} — {g.population_label}"
        hide = suppression.hidden(g.cohort_k) or suppression.hidden(g.cohort_n)  # no point for a hidden count
        rate, low, high = suppression.shown_rate(g.cohort_k, g.cohort_n, g.cohort_low, g.cohort_high)
        rows.append({"group": group, "label": f"This cohort: {count(g.cohort_k)}/{count(g.cohort_n)}",
                     "estimate": math.nan if hide else rate,
                     "ci_low": math.nan if hide else low, "ci_high": math.nan if hide else high})
        for r in part.itertuples():
            counts = (f"{int(r.comparator_k)}/{int(r.comparator_n)}" if pd.notna(r.comparator_k)
                      and pd.notna(r.comparator_n) else f"{100 * r.comparator_rate:g}%, rate only")
            suffix = {"published 95% CI": "; published CI",
                      "no CI published": "; no CI"}.get(r.ci_source, "")
            rows.append({"group": group, "label": f"{r.study}: {counts}{suffix}",
                         "estimate": r.comparator_rate, "ci_low": r.comparator_low,
                         "ci_high": r.comparator_high})
    return pd.DataFrame(rows)


def _side(p: float, alpha: float, low: float = math.nan, high: float = math.nan) -> str:
    """Where a p-value falls, and why a difference interval on the other side need not contradict it."""
    if not math.isnan(low) and (p < alpha) == (low <= 0 <= high):
        if p < alpha:
            return (f"below {alpha:g}, although the 95% interval of the difference includes 0: Newcombe's "
                    "interval inverts a different, unconditional score test, so the two can disagree near "
                    "the boundary; neither settles the question alone")
        return (f"not below {alpha:g}, although the 95% interval of the difference excludes 0: the "
                "interval (Newcombe, from Wilson score limits) inverts a different test than Fisher's "
                "conditional one, which is conservative with few patients, so the two can disagree near "
                "the boundary; the evidence is borderline, not an absence of difference")
    return (f"below {alpha:g}, unlikely under equal rates" if p < alpha
            else f"not below {alpha:g}, compatible with chance")


def tests_disagree(compared: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Two-sample pairings where Fisher's and Boschloo's p-values fall on different sides of ``alpha``."""
    both = compared["p_value"].notna() & compared["boschloo_p"].notna()
    split = (compared["p_value"] < alpha) != (compared["boschloo_p"] < alpha)
    return compared.loc[both & split]


def summary_markdown(compared: pd.DataFrame, alpha: float = 0.05) -> str:
    """Markdown: the primary test named up front, then one bullet per pairing, worded from the values."""
    split = tests_disagree(compared, alpha)
    names = ", ".join(f"`{pid}`" for pid in split["pairing_id"])
    lead = ("Primary test: Fisher's exact test (two-sided, pre-specified) for pairings with "
            "comparator counts or a known n (a printed percentage of n patients is tried with each "
            "numerator that prints as it, and the larger p kept), the exact binomial test for "
            "rate-only comparators without one; Boschloo's exact test is reported alongside, in both "
            "two-sided conventions (they can fall on different sides of a threshold). "
            + (f"The two tests fall on different sides of {alpha:g} in {len(split)} pairing"
               f"{'s' if len(split) != 1 else ''} ({names}); the primary test's reading is the "
               "one stated." if len(split) else
               f"Fisher and Boschloo fall on the same side of {alpha:g} in every pairing."))
    lines = [lead, ""]
    for r in compared.itertuples():
        if getattr(r, "definition", ""):
            lines.append(f"- **{r.endpoint_label}, {r.population_label}** vs "
                         f"**{r.comparator_label.split(':')[0]}**: {r.definition}; not compared.")
            continue
        if r.cohort_n == 0:
            lines.append(f"- **{r.pairing_id}**: no evaluable cohort patients "
                         f"({r.population_label}); not compared.")
            continue
        cohort = _rate_text(r.cohort_k, r.cohort_n, r.cohort_rate, r.cohort_low, r.cohort_high, cohort=True)
        other = _rate_text(r.comparator_k, r.comparator_n, r.comparator_rate,
                           r.comparator_low, r.comparator_high)
        numerators = tuple(getattr(r, "comparator_numerators", ()) or ())
        if pd.isna(r.comparator_k) and len(numerators) > 1:  # the numerators that print as its percentage
            other = f"{' or '.join(map(str, numerators))}/{int(r.comparator_n)} {other}"
        rd = f"{100 * r.risk_difference:+.1f} points" + ("" if math.isnan(r.rd_low) else
                                                         f" (95% CI {100 * r.rd_low:+.1f} to {100 * r.rd_high:+.1f})")
        if r.test == "fisher":
            tests = f"Fisher (primary) {p_text(r.p_value)} ({_side(r.p_value, alpha, r.rd_low, r.rd_high)})"
            if not math.isnan(r.boschloo_p):
                differs = (r.p_value < alpha) != (r.boschloo_p < alpha)
                tests += (f"; Boschloo {p_text(r.boschloo_p)} as twice the smaller one-sided p (scipy's convention)"
                          + (f" (below {alpha:g}: the tests disagree)" if differs and r.boschloo_p < alpha
                             else f" (not below {alpha:g}: the tests disagree)" if differs else ""))
                fisher2 = getattr(r, "boschloo_fisher2_p", math.nan)
                if not math.isnan(fisher2):
                    tests += f", {p_text(fisher2)} with the two-sided Fisher p as statistic"
        else:
            tests = (f"exact binomial vs the published rate {p_text(r.p_value)} "
                     f"({_side(r.p_value, alpha)})")
        lines.append(
            f"- **{r.endpoint_label}, {r.population_label}** {cohort} vs "
            f"**{r.comparator_label.split(':')[0]}** {other}: difference {rd}; {tests}; "
            f"posterior P(cohort higher) = {r.prob_cohort_higher:.3f}.")
    return "\n".join(lines)

