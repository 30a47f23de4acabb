"""Verdicts: every figure of ``data/published_figures.csv`` judged against the ``results.csv``
row its ``result_key`` names (rounding rules: :mod:`helpers.rounding`; p-value candidates:
:mod:`helpers.pvalues`). On other data than the shipped reconstruction the comparison is a
replication: the paper's rate against the exact 95% interval, a p-value by significance and
direction. Nothing here computes a test.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import pandas as pd

from helpers import contract
from helpers.narrative import ci_text
from helpers.published import EXTERNAL_TYPES, cutoffs_used, definition_differences, paper_cutoffs
from helpers.pvalues import (
    candidate_clause,
    classify_candidates,
    figure_candidates,
    group_rates,
    grouping_label,
    split_test_key,
    test_words,
)
from helpers.results import Key, rate_key, read_results
from helpers.rounding import (
    PrintedNumber,
    describe_rules,
    fmt_half_up,
    int_or_none,
    is_blank,
    matching_rules,
    p_value_matches,
    parse_number,
    printed_p_value,
    printed_percent,
    printed_summary,
    sum_parts,
    text_of,
)
from helpers.stats import TESTS, exact_ci

REPRODUCED = "reproduced"
UP_TO_ROUNDING = "reproduced up to rounding"
NOT_REPRODUCED = "not reproduced"
NOT_RECOMPUTED = "not recomputed"
#: A figure whose result the run defines with other cut-offs than the paper: not compared.
DIFFERENT_DEFINITION = "different definition"
#: On data other than the shipped cohort, a figure that describes the sample itself (its size,
#: centres, programme mix): shown beside the paper's, not judged.
SHOWN = "shown, not judged"
#: Verdicts in display order.
VERDICTS: tuple[str, ...] = (
    REPRODUCED,
    UP_TO_ROUNDING,
    NOT_REPRODUCED,
    NOT_RECOMPUTED,
    DIFFERENT_DEFINITION,
    SHOWN,
)

#: Result keys of properties of a sample rather than findings: its size, centres and programme
#: mix (a key ending in ``=`` is a prefix).
SAMPLE_PROPERTY_KEYS: tuple[str, ...] = ("n[all]", "center.distinct[all]", "n[source=")


def is_sample_property(key: str) -> bool:
    return any(key == k or (k.endswith("=") and key.startswith(k)) for k in SAMPLE_PROPERTY_KEYS)


#: Verdict wording on data other than the shipped reconstruction (:func:`judge_replication`).
REPLICATION_LABELS: dict[str, str] = {
    **{v: v for v in VERDICTS},
    REPRODUCED: "consistent with the paper",
    UP_TO_ROUNDING: "consistent with the paper up to rounding",
    NOT_REPRODUCED: "differs from the paper",
}
#: Two-sided level at which a replication compares the significance of p-values.
SIGNIFICANCE_LEVEL: float = 0.05
#: Figure kinds the reconstruction solver is constrained to match.
CONSTRAINED_KINDS: tuple[str, ...] = ("count", "proportion", "median", "min", "max")


@dataclass(frozen=True)
class Verdict:
    """Outcome of comparing one printed figure with its recomputed value."""

    verdict: str
    how: str
    reason: str
    printed: str
    recomputed_text: str
    rules: tuple[str, ...] = ()


def _figure_value(figure: Mapping) -> float:
    v = figure.get("value")
    return math.nan if is_blank(v) else float(v)


def _not_recomputed(figure: Mapping, reason: str) -> Verdict:
    return Verdict(NOT_RECOMPUTED, "", reason, text_of(figure.get("printed")), "")


def external_reason(figure: Mapping) -> str:
    """Why an external figure without a comparator row is not recomputed, from its row."""
    etype = text_of(figure.get("external_type"))
    words = EXTERNAL_TYPES.get(etype, "no cohort counterpart")
    if etype == "literature" and not text_of(figure.get("comparator_id")):
        words += ", no comparator row"
    note = text_of(figure.get("note"))
    return f"external: {words}" + (f" ({note})" if note else "")


def lookup_result(by_key: Mapping[str, Mapping], key: str) -> tuple[dict | None, tuple[str, ...]]:
    """The result row for a ``result_key`` (the rows of a sum key added up), and the keys missing."""
    parts = sum_parts(key)
    missing = tuple(k for k in parts if k not in by_key)
    if len(parts) <= 1:
        return (dict(by_key[key]) if key in by_key else None), missing
    if missing:
        return None, missing
    rows = [by_key[k] for k in parts]
    nums = [int_or_none(r.get("numerator")) for r in rows]
    dens = {int_or_none(r.get("denominator")) for r in rows}
    den = dens.pop() if len(dens) == 1 else None
    total = None if any(n is None for n in nums) else sum(nums)
    return (
        {
            "key": key,
            "numerator": total,
            "denominator": den,
            "estimate": math.nan,
            "p_value": math.nan,
            "method": "sum of " + " and ".join(parts),
            "terms": tuple(nums),
        },
        (),
    )


def judge(
    figure: Mapping,
    result: Mapping | None,
    *,
    alternatives: pd.DataFrame | None = None,
    comparator: Mapping | None = None,
) -> Verdict:
    """Compare one published figure with its recomputed result row."""
    kind = text_of(figure.get("kind"))
    key = text_of(figure.get("result_key"))
    note = text_of(figure.get("note"))
    if kind == "external":
        cid = text_of(figure.get("comparator_id"))
        if cid:
            if comparator is None:
                return _not_recomputed(figure, "its comparator is not given (no comparator file)")
            return judge_against_comparator(figure, comparator)
        return _not_recomputed(figure, external_reason(figure))
    if not key:
        return _not_recomputed(
            figure, "no result key for this figure" + (f" ({note})" if note else "")
        )
    if result is None:
        return _not_recomputed(figure, "no notebook recorded it")
    if kind == "p_value":
        return _judge_p_value(figure, result, alternatives)
    if kind in ("median", "min", "max"):
        return _judge_summary(figure, result)
    return _judge_counts(figure, result)


def _judge_percentage(
    printed: str, shown: PrintedNumber, k: int, n: int, recomputed: str, source: str
) -> Verdict:
    """A printed percentage against ``100 k / n``."""
    exact = Fraction(100 * k, n)
    return _judge_value(
        exact,
        shown,
        printed,
        recomputed,
        f"percentage differs beyond rounding: "
        f"printed {shown.text}%, {source} {k}/{n} = {fmt_half_up(exact, 3)}% prints "
        f"{fmt_half_up(exact, shown.decimals)}%",
    )


def _judge_value(
    value: Fraction, shown: PrintedNumber, printed: str, recomputed: str, differs: str
) -> Verdict:
    """A printed number against an exact value: exact, up to a rounding rule, or not (``differs``)."""
    if value == shown.value:
        return Verdict(REPRODUCED, "exact", "", printed, recomputed)
    rules = matching_rules(value, shown.value, shown.decimals)
    if rules:
        return Verdict(
            UP_TO_ROUNDING,
            describe_rules(rules, value, shown.decimals),
            "",
            printed,
            recomputed,
            rules,
        )
    return Verdict(NOT_REPRODUCED, "", differs, printed, recomputed)


def judge_against_comparator(figure: Mapping, comparator: Mapping) -> Verdict:
    """Judge a historic rate the paper quotes against its comparator row."""
    printed = text_of(figure.get("printed"))
    shown = printed_percent(printed)
    cid = comparator_name(comparator)
    if shown is None:
        return _not_recomputed(figure, f"no printed percentage to compare with {cid}")
    k, n = int_or_none(comparator.get("numerator")), int_or_none(comparator.get("denominator"))
    if k is not None and n:
        recomputed = f"{cid}: {k}/{n} = {fmt_half_up(Fraction(100 * k, n), 2)}%"
        return _judge_percentage(printed, shown, k, n, recomputed, cid)
    pct = comparator.get("percent")
    if is_blank(pct):
        return _not_recomputed(figure, f"{cid} has neither counts nor a printed rate")
    source = parse_number(format(float(pct), "g"))
    recomputed = f"{cid}: {source.text}% (rate only, as printed by the source)"
    differs = f"rate differs from the source: printed {shown.text}%, {cid} prints {source.text}%"
    # a source rate with no more decimals than the paper's prints as it only when equal
    verdict = _judge_value(source.value, shown, printed, recomputed, differs)
    if verdict.verdict == REPRODUCED:
        return replace(verdict, how="exact (same printed rate as the source)")
    if verdict.rules:  # up to rounding: said of the source's printed rate
        return replace(verdict, how=f"source's {source.text}% {verdict.how}")
    return verdict


def _counts(
    figure: Mapping, result: Mapping
) -> tuple[str, int | None, int | None, int | None, int | None]:
    """Printed text, the paper's numerator and denominator, the result's (None when blank)."""
    return (
        text_of(figure.get("printed")),
        *(
            int_or_none(row.get(c))
            for row in (figure, result)
            for c in ("numerator", "denominator")
        ),
    )


def _judge_counts(figure: Mapping, result: Mapping) -> Verdict:
    printed, num, den, r_num, r_den = _counts(figure, result)
    if num is None:
        num = int_or_none(_figure_value(figure))
    if r_num is None:
        return _not_recomputed(figure, f"{_named(result)} has no count")
    terms = result.get("terms") or ()
    summed = " + ".join(map(str, terms))
    recomputed = f"{summed} = {r_num}" if terms else f"{r_num}"
    if r_den and (den is not None or printed_percent(printed) is not None):
        top = f"({summed})" if terms else f"{r_num}"
        recomputed = f"{top}/{r_den} = {fmt_half_up(Fraction(100 * r_num, r_den), 2)}%"
    shown = printed_percent(printed) if den is not None else None
    if num is not None and r_num != num:
        differs = f"count differs: paper {num}, data {r_num}"
        return Verdict(NOT_REPRODUCED, "", differs, printed, recomputed)
    if den is not None and r_den is not None and r_den != den:
        differs = f"denominator differs: paper {num}/{den}, data {r_num}/{r_den}"
        return Verdict(NOT_REPRODUCED, "", differs, printed, recomputed)
    if shown is None or not r_den:
        return Verdict(REPRODUCED, "exact", "", printed, recomputed)
    return _judge_percentage(printed, shown, r_num, r_den, recomputed, "data")


def _judge_summary(figure: Mapping, result: Mapping) -> Verdict:
    printed = text_of(figure.get("printed"))
    shown = printed_summary(printed, _figure_value(figure))
    est = result.get("estimate")
    if is_blank(est):
        return _not_recomputed(figure, f"{_named(result)} has no value")
    value = Fraction(float(est))
    recomputed = format(float(est), "g")
    if shown is None:
        return _not_recomputed(figure, "no printed number to compare")
    return _judge_value(
        value,
        shown,
        printed,
        recomputed,
        f"{text_of(figure.get('kind'))} differs: paper {shown.text}, data {recomputed}",
    )


def comparator_name(comparator: Mapping) -> str:
    """A comparator row as readers name it: ``"TOWER (blinatumomab)"``; its id when it has no study."""
    study, arm = text_of(comparator.get("study")), text_of(comparator.get("arm"))
    if not study:
        return text_of(comparator.get("id"))
    return f"{study} ({arm})" if arm else study


def _named(result: Mapping) -> str:
    """A result as a reader names it: a test by its name and grouping (``"Fisher exact on
    Previous treatment lines"``), anything else as the recomputed figure (keys stay in the CSV)."""
    parts = split_test_key(text_of(result.get("key")))
    if parts:
        grouping = parts["by"] + (f"|{parts['where']}" if parts["where"] else "")
        return f"{test_words(parts['test'], text_of(result.get('method')))} on {grouping_label(grouping)}"
    return "the recomputed figure"


def _judge_p_value(figure: Mapping, result: Mapping, alternatives: pd.DataFrame | None) -> Verdict:
    printed = text_of(figure.get("printed"))
    shown = printed_p_value(printed, _figure_value(figure))
    p = result.get("p_value")
    if is_blank(p):
        return _not_recomputed(figure, f"{_named(result)} has no p-value (not recorded)")
    recomputed = f"{float(p):.4f}"
    if shown is None:
        return _not_recomputed(figure, "no printed p-value to compare")
    ok, how, rules = p_value_matches(float(p), shown)
    if ok:
        verdict = REPRODUCED if how == "exact" else UP_TO_ROUNDING
        return Verdict(verdict, how, "", printed, recomputed, rules)
    reason = f"p-value differs: printed {shown.text}, {_named(result)} gives {recomputed}"
    if alternatives is not None and len(alternatives):
        reason += "; " + candidate_clause(shown.text, classify_candidates(alternatives))
    return Verdict(NOT_REPRODUCED, "", reason, printed, recomputed)


# --- replication: someone else's data against the paper -------------------------------


def judge_replication(
    figure: Mapping,
    result: Mapping | None,
    *,
    paper_total: int | None = None,
    data_total: int | None = None,
    paper_groups: Mapping[str, tuple[int, int]] | None = None,
    data_groups: Mapping[str, tuple[int, int]] | None = None,
    alpha: float = SIGNIFICANCE_LEVEL,
    comparator: Mapping | None = None,
) -> Verdict:
    """Compare one published figure with another cohort's result: rates, not counts."""
    kind = text_of(figure.get("kind"))
    if kind == "external" or not text_of(figure.get("result_key")) or result is None:
        return judge(figure, result, comparator=comparator)
    if kind in ("median", "min", "max"):
        return _judge_summary(figure, result)
    if kind == "p_value":
        return _replicate_p_value(figure, result, paper_groups or {}, data_groups or {}, alpha)
    return _replicate_rate(figure, result, paper_total, data_total)


def _replicate_rate(
    figure: Mapping, result: Mapping, paper_total: int | None, data_total: int | None
) -> Verdict:
    printed, num, den, r_num, r_den = _counts(figure, result)
    if num is None or r_num is None:
        return _not_recomputed(figure, f"{_named(result)} has no count")
    if den is None and r_den is None:
        return _not_recomputed(
            figure,
            f"{_named(result)} is not a share of patients (no "
            "denominator), so another cohort's count is not compared with it",
        )
    if den is None:
        if r_den is None or paper_total is None or data_total is None or r_den != data_total:
            return _not_recomputed(
                figure,
                "a count without the paper's denominator; counts of "
                "cohorts of different sizes are not compared",
            )
        den = paper_total
    if not r_den:
        return _not_recomputed(figure, "no patients in the data's denominator")
    low, high = exact_ci(r_num, r_den)
    data_text = (
        f"{r_num}/{r_den} = {fmt_half_up(Fraction(100 * r_num, r_den), 1)}% ({ci_text(low, high)})"
    )
    paper = Fraction(num, den)
    paper_text = f"{num}/{den} = {fmt_half_up(100 * paper, 1)}%"
    if low <= paper <= high:
        return Verdict(
            REPRODUCED, f"paper's {paper_text} inside the data's 95% CI", "", printed, data_text
        )
    side = "below" if paper < low else "above"
    return Verdict(
        NOT_REPRODUCED, "", f"paper's {paper_text} {side} the data's 95% CI", printed, data_text
    )


def _paper_significant(shown: PrintedNumber, alpha: float) -> bool | None:
    if shown.relation == "<":
        return True if shown.value <= Fraction(alpha) else None
    if shown.relation == ">":
        return False if shown.value >= Fraction(alpha) else None
    return shown.value < Fraction(alpha)


def _higher_group(groups: Mapping[str, tuple[int, int]]) -> str | None:
    """The group with the higher rate when there are exactly two (None on a tie or otherwise)."""
    usable = {g: Fraction(k, n) for g, (k, n) in groups.items() if n}
    if len(usable) != 2:
        return None
    (g1, r1), (g2, r2) = usable.items()
    return None if r1 == r2 else (g1 if r1 > r2 else g2)


def _replicate_p_value(
    figure: Mapping, result: Mapping, paper_groups: Mapping, data_groups: Mapping, alpha: float
) -> Verdict:
    printed = text_of(figure.get("printed"))
    shown = printed_p_value(printed, _figure_value(figure))
    p = result.get("p_value")
    if is_blank(p) or shown is None:
        return _not_recomputed(figure, f"{_named(result)} has no p-value, or nothing is printed")
    p = float(p)
    recomputed = f"{p:.4f}"
    test = (split_test_key(text_of(result.get("key"))) or {}).get("test")
    # is the paper's p the recorded test's on its own counts?
    if len(paper_groups) > 1 and test in TESTS:
        on_paper = TESTS[test]([[k, n - k] for k, n in paper_groups.values()]).p_value
        if not p_value_matches(on_paper, shown)[0]:
            return _not_recomputed(
                figure,
                f"the paper's test is not known ({test_words(test)} on its own counts gives "
                f"{on_paper:.4f}, not the printed {shown.text}), so its p-value is not compared",
            )
    paper_sig = _paper_significant(shown, alpha)
    if paper_sig is None:
        return _not_recomputed(figure, f"printed {shown.text} does not say whether p < {alpha:g}")
    data_sig = p < alpha
    word = {True: f"below {alpha:g}", False: f"not below {alpha:g}"}
    parts = [f"paper {shown.text} ({word[paper_sig]}), data {recomputed} ({word[data_sig]})"]
    differs = [] if paper_sig == data_sig else ["significance"]
    by = (split_test_key(text_of(result.get("key"))) or {}).get("by", "group")
    if len(paper_groups) == 2 and len(data_groups) == 2:
        hp, hd = _higher_group(paper_groups), _higher_group(data_groups)
        if hp is None or hd is None:
            parts.append("direction not compared (equal rates on one side)")
        else:
            if hp != hd:
                differs.append("direction")
            parts.append(
                f"higher rate in {contract.code_label(by, hp)} in the paper, "
                f"in {contract.code_label(by, hd)} in the data"
            )
    else:
        parts.append("direction not compared (not two groups)")
    text = "; ".join(parts)
    if not differs:
        return Verdict(REPRODUCED, "same conclusion: " + text, "", printed, recomputed)
    reason = " and ".join(differs) + (" differs: " if len(differs) == 1 else " differ: ") + text
    return Verdict(NOT_REPRODUCED, "", reason, printed, recomputed)


# --- judging all figures --------------------------------------------------------------

VERDICT_COLUMNS: tuple[str, ...] = (
    "id",
    "location",
    "description",
    "kind",
    "result_key",
    "printed",
    "recomputed",
    "verdict",
    "detail",
    "rules",
    "basis",
)
#: Basis of a figure judged against the comparator file rather than the cohort.
COMPARATOR_BASIS = "genuine check (against the comparator file)"


def basis_of(
    kind: str,
    verdict: str,
    has_printed_percent: bool,
    reconstructed: bool,
    against_comparator: bool = False,
) -> str:
    """What a verdict can tell, given whether the data are the shipped reconstruction."""
    if verdict == NOT_RECOMPUTED:
        return "not checked"
    if verdict == DIFFERENT_DEFINITION:
        return "not compared (different definition)"
    if verdict == SHOWN:
        return "property of the sample (shown, not judged)"
    if against_comparator:
        return COMPARATOR_BASIS
    if not reconstructed:
        return "your data vs the paper"
    if kind not in CONSTRAINED_KINDS:
        return "genuine check (not a solver constraint)"
    if verdict == NOT_REPRODUCED:
        return "genuine finding (a constrained figure the analysis defines differently)"
    if kind == "proportion" and has_printed_percent:
        return "counts by construction; printed rounding a genuine check"
    return "by construction (solver constraint)"


def _counts_by_key(frame: pd.DataFrame, key_column: str) -> dict[str, tuple[int, int]]:
    """Key -> (numerator, denominator) for the rows with both counts (first row per key)."""
    out: dict[str, tuple[int, int]] = {}
    for rec in frame.to_dict("records"):
        k, n = int_or_none(rec.get("numerator")), int_or_none(rec.get("denominator"))
        key = text_of(rec.get(key_column))
        if key and k is not None and n is not None:
            out.setdefault(key, (k, n))
    return out


def definition_verdict(
    figure: Mapping, cutoffs: Mapping[str, float] | None, paper: Mapping[str, float]
) -> Verdict | None:
    """``different definition`` when the figure depends on a cut-off the run (``cutoffs``) sets
    otherwise than the ``paper``; None when they match or ``cutoffs`` is None."""
    if cutoffs is None:
        return None
    differences = definition_differences(
        cutoffs_used(text_of(figure.get("result_key"))), cutoffs, paper
    )
    if not differences:
        return None
    return Verdict(
        DIFFERENT_DEFINITION,
        "",
        "not compared: " + "; ".join(differences),
        text_of(figure.get("printed")),
        "",
    )


def judge_all(
    published: pd.DataFrame,
    results: pd.DataFrame,
    *,
    reconstructed: bool = True,
    comparators: pd.DataFrame | None = None,
    alpha: float = SIGNIFICANCE_LEVEL,
    cutoffs: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """One verdict row per published figure (``cutoffs``: the run's, see :func:`definition_verdict`)."""
    paper_defs = paper_cutoffs(published) if "parameter" in published.columns else {}
    by_key = {}
    for rec in results.to_dict("records"):
        by_key.setdefault(text_of(rec.get("key")), rec)
    by_comparator = (
        {} if comparators is None else {text_of(r["id"]): r for r in comparators.to_dict("records")}
    )
    paper_counts = _counts_by_key(published[published["kind"] == "proportion"], "result_key")
    data_counts = _counts_by_key(results, "key")
    paper_total = next(
        (
            int_or_none(f.get("numerator"))
            for f in published.to_dict("records")
            if text_of(f.get("result_key")) == rate_key("n")
        ),
        None,
    )
    data_total = (
        int_or_none(by_key[rate_key("n")].get("numerator")) if rate_key("n") in by_key else None
    )
    rows = []
    for fig in published.to_dict("records"):
        key = text_of(fig.get("result_key"))
        cid = text_of(fig.get("comparator_id"))
        comparator = by_comparator.get(cid) if cid else None
        found, missing = lookup_result(by_key, key)
        differs = definition_verdict(fig, cutoffs, paper_defs)
        if differs is not None:
            v = differs
        elif (
            not reconstructed
            and found is not None
            and (is_sample_property(key) or fig.get("kind") in ("median", "min", "max"))
        ):
            shown = judge_replication(
                fig, found, paper_total=paper_total, data_total=data_total, comparator=comparator
            )
            v = Verdict(
                SHOWN,
                "",
                "a property of this sample (its size, centres, programme mix or a "
                "median or range), not a finding to replicate",
                shown.printed,
                shown.recomputed_text,
            )
        elif reconstructed:
            alternatives = None
            if fig.get("kind") == "p_value" and found is not None:
                alternatives = figure_candidates(fig, results)
            v = judge(fig, found, alternatives=alternatives, comparator=comparator)
        else:
            v = judge_replication(
                fig,
                found,
                paper_total=paper_total,
                data_total=data_total,
                paper_groups=group_rates(paper_counts, key),
                data_groups=group_rates(data_counts, key),
                alpha=alpha,
                comparator=comparator,
            )
        if len(sum_parts(key)) > 1 and missing and differs is None:
            v = _not_recomputed(
                fig,
                f"no notebook recorded {len(missing)} of the {len(sum_parts(key))} "
                "figures it adds up",
            )
        has_pct = fig.get("kind") == "proportion" and printed_percent(v.printed) is not None
        label = v.verdict if reconstructed else REPLICATION_LABELS[v.verdict]
        rows.append(
            {
                "id": fig["id"],
                "location": fig["location"],
                "description": fig["description"],
                "kind": fig["kind"],
                "result_key": key or (str(Key("comparator", by=cid)) if cid else ""),
                "printed": v.printed,
                "recomputed": v.recomputed_text,
                "verdict": label,
                "detail": v.how or v.reason,
                "rules": ";".join(v.rules),
                "basis": basis_of(
                    text_of(fig.get("kind")),
                    v.verdict,
                    has_pct,
                    reconstructed,
                    against_comparator=comparator is not None,
                ),
            }
        )
    return pd.DataFrame(rows, columns=list(VERDICT_COLUMNS))


def verdict_order(reconstructed: bool = True) -> tuple[str, ...]:
    """The verdict labels in display order (replication wording when not reconstructed)."""
    return VERDICTS if reconstructed else tuple(REPLICATION_LABELS[v] for v in VERDICTS)


def summary(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Counts of each verdict by location (in order of appearance), then ``All figures``."""
    present = set(verdicts["verdict"])
    replication = bool(present & (set(REPLICATION_LABELS.values()) - set(VERDICTS)))
    labels = [v for v in verdict_order(not replication) if v in present]
    parts = [
        (loc, verdicts[verdicts["location"] == loc]) for loc in dict.fromkeys(verdicts["location"])
    ]
    rows = [
        {
            "location": loc,
            "figures": len(part),
            **{v: int((part["verdict"] == v).sum()) for v in labels},
        }
        for loc, part in [*parts, ("All figures", verdicts)]
    ]
    return pd.DataFrame(rows, columns=["location", "figures", *labels])


def summary_results(verdicts: pd.DataFrame, *, reconstructed: bool = True) -> pd.DataFrame:
    """Result rows ``figures[all]``, ``figures[verdict=<label>]`` (every label, 0 when
    unused) and ``figures[basis=<basis>]``; denominator all figures."""
    total = len(verdicts)

    def row(filters, label: str, n: int) -> dict:
        return {
            "key": rate_key("figures", filters),
            "label": label,
            "numerator": int(n),
            "denominator": total,
            "estimate": n / total if total else math.nan,
            "method": "count",
            "unit": "figures",
        }

    rows = [row(None, "Published figures judged", total)]
    verdict_counts = verdicts["verdict"].value_counts()
    basis_counts = verdicts["basis"].value_counts(sort=False)
    for column, counts in (
        ("verdict", {v: int(verdict_counts.get(v, 0)) for v in verdict_order(reconstructed)}),
        ("basis", basis_counts.to_dict()),
    ):
        for value, n in counts.items():
            rows.append(row({column: value}, f"Published figures, {column}: {value}", n))
    return pd.DataFrame(rows)


#: Prefixes of the notebooks whose results notebook 06 judges.
UPSTREAM_NOTEBOOKS: tuple[str, ...] = ("01", "02", "03", "04", "05")


def read_upstream_results(output_dir, required: Sequence[str] = UPSTREAM_NOTEBOOKS) -> pd.DataFrame:
    """The results rows of notebooks 01-05 under ``{output_dir}/results/``."""
    folder = Path(output_dir) / "results"
    present = {f.name[:2] for f in folder.glob("*.csv")} if folder.is_dir() else set()
    missing = [nb for nb in required if nb not in present]
    if missing:
        raise FileNotFoundError(
            f"no results of notebook(s) {', '.join(missing)} in {folder.name}/ under output_dir: "
            "run notebooks 01-05 first (or `make run`), then this notebook"
        )
    frame = read_results(output_dir)
    keep = frame["notebook"].astype(str).str[:2].isin(list(required))
    return frame.loc[keep].reset_index(drop=True)
