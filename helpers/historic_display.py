"""Tables, forest rows and words for the historic comparison (from :func:`helpers.historic.compare_pairings`)."""

from __future__ import annotations

import math

import pandas as pd

from helpers.narrative import ci_text, count, p_text, percent
from helpers.parameters import default
from helpers.suppression import NONE, Policy


def _rate_text(
    k, n, rate: float, low: float, high: float, cohort: bool = False, policy: Policy = NONE
) -> str:
    """``"23/34 (67.6%; 49.5–82.6%)"``, without counts or CI when there are none; the cohort's
    own small counts hidden in a share run (``"<5/30 (–)"``)."""
    if cohort and (policy.hidden(k) or policy.hidden(n)):
        return f"{count(int(k), policy=policy)}/{count(int(n), policy=policy)} (–)"
    if cohort and policy.active:  # a share run: rounded counts, rate and CI from them
        rate, low, high = policy.rate(k, n)
        k, n = policy.count(k), policy.count(n)
    head = f"{int(k)}/{int(n)} " if pd.notna(k) and pd.notna(n) else ""
    if math.isnan(rate):
        return head + "(NA)"
    ci = "" if math.isnan(low) else "; " + ci_text(low, high, label="")
    return f"{head}({percent(rate)}{ci})"


def _rates(frame, side: str):
    """``(k, n, rate, low, high)`` of the ``cohort`` or ``comparator`` side, per row of ``frame``."""
    return zip(*(frame[f"{side}_{c}"] for c in ("k", "n", "rate", "low", "high")))


def _difference_text(d: float, low: float, high: float) -> str:
    """``"+23.7 (+5.9 to +38.2)"`` in percentage points; "–" when not computed."""
    if math.isnan(d):
        return "–"
    return f"{100 * d:+.1f}" + (
        "" if math.isnan(low) else f" ({100 * low:+.1f} to {100 * high:+.1f})"
    )


def _probability_text(p: float) -> str:
    return "–" if math.isnan(p) else f"{p:.3f}"


def pairings_table(matched: pd.DataFrame) -> pd.DataFrame:
    """What is compared with what, and why (one line per pairing)."""
    return pd.DataFrame(
        {
            "Pairing": [pairing_label(r) for _, r in matched.iterrows()],
            "Cohort endpoint": matched["endpoint_label"] + ", " + matched["population_label"],
            "Comparator": matched["comparator_label"],
            "Comparator definition": matched["comparator_definition"],
            "Design": matched["design"],
            "Why": matched["rationale"],
            "pairing_id": matched["pairing_id"],
        }
    )


def comparison_table(compared: pd.DataFrame, *, policy: Policy = NONE) -> pd.DataFrame:
    """The comparison table saved with the notebook: cohort and comparator n/N (%; CI),
    design, tests, risk difference (percentage points) and P(cohort higher)."""
    return pd.DataFrame(
        {
            "Pairing": [pairing_label(r) for _, r in compared.iterrows()],
            "Endpoint": compared["endpoint_label"],
            "Cohort population": compared["population_label"],
            "Cohort n/N (%; 95% CI)": [
                _rate_text(*v, cohort=True, policy=policy) for v in _rates(compared, "cohort")
            ],
            "Comparator": compared["study"] + ", " + compared["arm"],
            "Comparator definition": compared["comparator_definition"],
            "Comparator n/N (%; 95% CI)": [_rate_text(*v) for v in _rates(compared, "comparator")],
            "Comparator CI": compared["ci_source"],
            "Status": compared["status"],
            "Test": compared["test"],
            "p": [p_text(p, bare=True) for p in compared["p_value"]],
            "Boschloo p": [
                p_text(p, bare=True)
                + (
                    " (asymptotic z-test in place of the exact test)"
                    if " in place of " in str(m)
                    else ""
                )
                for p, m in zip(compared["boschloo_p"], compared["boschloo_method"])
            ],
            "Boschloo p (Fisher statistic)": [
                p_text(p, bare=True)
                for p in compared.get(
                    "boschloo_fisher2_p", pd.Series(math.nan, index=compared.index)
                )
            ],
            "Definition": compared.get("definition", pd.Series("", index=compared.index)).replace(
                "", "same"
            ),
            "Difference, points (95% CI)": [
                _difference_text(*v)
                for v in zip(compared["risk_difference"], compared["rd_low"], compared["rd_high"])
            ],
            "P(cohort higher)": [_probability_text(p) for p in compared["prob_cohort_higher"]],
            "Comparator note": compared["note"],
            "pairing_id": compared["pairing_id"],
        }
    )


def forest_rows(compared: pd.DataFrame, *, policy: Policy = NONE) -> pd.DataFrame:
    """Forest rows per cohort endpoint and population: the cohort's rate, then each paired
    comparator's (printed CI, or a point only, without counts)."""
    rows = []
    order = compared.drop_duplicates(["cohort_endpoint", "cohort_population"])
    for g in order.itertuples():
        part = compared[
            (compared["cohort_endpoint"] == g.cohort_endpoint)
            & (compared["cohort_population"] == g.cohort_population)
        ]
        group = f"{g.endpoint_label} — {g.population_label}"
        hide = policy.hidden(g.cohort_k) or policy.hidden(g.cohort_n)  # no point for a hidden count
        rate, low, high = policy.rate(g.cohort_k, g.cohort_n, g.cohort_low, g.cohort_high)
        shown = f"{count(g.cohort_k, policy=policy)}/{count(g.cohort_n, policy=policy)}"
        rows.append(
            {
                "group": group,
                "label": f"This cohort: {shown}",
                "estimate": math.nan if hide else rate,
                "ci_low": math.nan if hide else low,
                "ci_high": math.nan if hide else high,
            }
        )
        for r in part.itertuples():
            counts = (
                f"{int(r.comparator_k)}/{int(r.comparator_n)}"
                if pd.notna(r.comparator_k) and pd.notna(r.comparator_n)
                else f"{100 * r.comparator_rate:g}%, rate only"
            )
            suffix = {"published 95% CI": "; published CI", "no CI published": "; no CI"}.get(
                r.ci_source, ""
            )
            rows.append(
                {
                    "group": group,
                    "label": f"{r.study}: {counts}{suffix}",
                    "estimate": r.comparator_rate,
                    "ci_low": r.comparator_low,
                    "ci_high": r.comparator_high,
                }
            )
    return pd.DataFrame(rows)


def pairing_label(row) -> str:
    """A pairing in words: cohort population vs comparator study, endpoint
    (``"Ph− patients vs TOWER, CR/CRh/CRi"``); ``row`` a row of :func:`helpers.historic.compare_pairings`."""
    population = str(row["population_label"])
    return f"{population[:1].upper()}{population[1:]} vs {row['study']}, {row['endpoint_label']}"


def _reading(r, alpha: float) -> str:
    """What the primary test says for one pairing, in a few words for a table cell."""
    if str(r.get("definition", "") or ""):
        return f"not compared: {r['definition']}"
    if r["cohort_n"] == 0:
        return "not compared: no evaluable cohort patients"
    p, low, high = r["p_value"], r["rd_low"], r["rd_high"]
    words = f"below {alpha:g}" if p < alpha else f"not below {alpha:g}"
    if not math.isnan(low) and (p < alpha) == (low <= 0 <= high):
        words += "; borderline"  # the difference's CI points the other way (see summary_footnote)
    if not math.isnan(r["boschloo_p"]) and (p < alpha) != (r["boschloo_p"] < alpha):
        words += "; Boschloo disagrees"
    return words


def summary_table(
    compared: pd.DataFrame, alpha: float = default("alpha"), *, policy: Policy = NONE
) -> pd.DataFrame:
    """One row per pairing, in words: the two rates, the difference, the primary test and Boschloo's
    p, what the primary test says at ``alpha``, and the posterior probability that the cohort is higher."""
    tests = {"fisher": "Fisher", "binomial": "exact binomial"}
    names = [tests.get(str(t), str(t)) for t in compared["test"]]
    records = compared.to_dict("records")
    return pd.DataFrame(
        {
            "Pairing": [pairing_label(r) for r in records],
            "Cohort n/N (%; 95% CI)": [
                _rate_text(*v, cohort=True, policy=policy) for v in _rates(compared, "cohort")
            ],
            "Comparator n/N (%; 95% CI)": [
                _comparator_text(r, v) for r, v in zip(records, _rates(compared, "comparator"))
            ],
            "Difference, points (95% CI)": [
                _difference_text(r["risk_difference"], r["rd_low"], r["rd_high"]) for r in records
            ],
            "Primary test, p": [
                "–" if math.isnan(r["p_value"]) else f"{name} {p_text(r['p_value'], bare=True)}"
                for r, name in zip(records, names)
            ],
            "Boschloo p": [p_text(r["boschloo_p"], bare=True) for r in records],
            "Reading": [_reading(r, alpha) for r in records],
            "P(cohort higher)": [_probability_text(r["prob_cohort_higher"]) for r in records],
        }
    )


def _comparator_text(row, rates) -> str:
    """The comparator's rate; without a count, led by the numerators that print as its percentage."""
    text = _rate_text(*rates)
    numerators = tuple(row.get("comparator_numerators", ()) or ())
    if pd.isna(row["comparator_k"]) and len(numerators) > 1:
        return f"{' or '.join(map(str, numerators))}/{int(row['comparator_n'])} {text}"
    return text


def summary_footnote(alpha: float = default("alpha")) -> str:
    """The methods under :func:`summary_table`, said once."""
    return (
        "Primary test: Fisher's exact test (two-sided, pre-specified) where the comparator gives counts or "
        "a known n (a printed percentage of n patients is tried with each numerator that prints as it, and "
        "the larger p kept); the exact binomial test against a published rate without one. Boschloo's "
        "exact test (twice the smaller one-sided p, scipy's convention) is shown beside it. Difference: "
        "cohort minus comparator, Newcombe's hybrid score 95% CI; it inverts another test than Fisher's "
        f'conditional one, so near {alpha:g} the two can point different ways ("borderline": the CI '
        "excludes 0 while p is not below the threshold, or the reverse). "
        "P(cohort higher): independent Beta posteriors of the two rates."
    )


def summary_sentence(compared: pd.DataFrame, alpha: float = default("alpha")) -> str:
    """One sentence over every pairing: how many the primary test finds below ``alpha`` (named in
    words), how many are borderline or split the two tests, and how many were not compared."""
    readings = pd.Series(
        [_reading(r, alpha) for _, r in compared.iterrows()], index=compared.index, dtype=object
    )
    tested = ~readings.str.startswith("not compared")
    below = tested & readings.str.startswith("below")
    names = "; ".join(pairing_label(r) for _, r in compared[below].iterrows())
    parts = [
        f"Of {tested.sum()} pairing{'s' if tested.sum() != 1 else ''} tested, the primary test was "
        f"below {alpha:g} in {below.sum()}"
        + (f" ({names})" if below.any() else "")
        + f" and not below it in {(tested & ~below).sum()}"
    ]
    borderline = int(readings.str.contains("borderline").sum())
    split = int(readings.str.contains("Boschloo disagrees").sum())
    if borderline or split:
        parts.append(
            f"{borderline} {'is' if borderline == 1 else 'are'} borderline (test and difference "
            f"interval disagree) and in {split} Boschloo's test falls on the other side of {alpha:g}"
        )
    if (~tested).any():
        parts.append(f"{(~tested).sum()} {'was' if (~tested).sum() == 1 else 'were'} not compared")
    return "; ".join(parts) + "."


def methods_note(compared: pd.DataFrame) -> str:
    """The methods of the comparison table, each said once (method texts joined by "; " are split first)."""
    pieces: list[str] = []
    for column in ("test_method", "boschloo_method", "posterior_method"):
        for method in compared[column].dropna():
            for piece in str(method).split("; "):
                if piece and piece not in pieces:
                    pieces.append(piece)
    return "; ".join(pieces) + "." if pieces else ""
