"""Judge every figure the paper prints against the run's recomputed results.

A published figure (a row of ``data/published_figures.csv``, see
:mod:`helpers.published`) is compared with the ``results.csv`` row its
``result_key`` names (written by notebooks 01-05, see :mod:`helpers.results`).
Each comparison gives a :class:`Verdict`:

* ``reproduced`` -- counts equal and the printed value equals the recomputed one;
* ``reproduced up to rounding`` -- counts equal and the printed value is the
  recomputed one rounded to the printed decimals by a recognised rule (see
  :data:`RULES`); ``how`` names the rule(s);
* ``not reproduced`` -- a count, a denominator, a summary value or a p-value
  differs beyond rounding; ``reason`` says which, and for p-values which other
  recorded tests match the printed value instead;
* ``not recomputed`` -- an external figure (historic rates, protocol doses), a
  figure with no result key, or a key no notebook produced; ``reason`` says why.

All arithmetic on printed values is exact (``fractions.Fraction``), so
``13/16 = 81.25`` really is a tie for the half-up and half-even rules.
Nothing here computes a statistical test: p-values come from the results rows.
Nothing happens on import.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd

from helpers.results import rate_key

# --- verdicts ---------------------------------------------------------------------------

REPRODUCED = "reproduced"
UP_TO_ROUNDING = "reproduced up to rounding"
NOT_REPRODUCED = "not reproduced"
NOT_RECOMPUTED = "not recomputed"
#: Verdicts in display order.
VERDICTS: tuple[str, ...] = (REPRODUCED, UP_TO_ROUNDING, NOT_REPRODUCED, NOT_RECOMPUTED)

#: Wording when the data are not the shipped reconstruction: the comparison is a
#: replication ("your data vs the paper"), and a difference is not a failure.
REPLICATION_LABELS: dict[str, str] = {
    REPRODUCED: "same as the paper",
    UP_TO_ROUNDING: "same as the paper up to rounding",
    NOT_REPRODUCED: "differs from the paper",
    NOT_RECOMPUTED: "not recomputed",
}

#: Rounding rules tried, in order of preference, for percentages and summaries.
#: ``double_rounded`` is half-up to one more decimal, then half-up again
#: (6/34 = 17.647 -> 17.65 -> 17.7), a common spreadsheet artefact.
RULES: tuple[str, ...] = ("half_up", "half_even", "truncated", "double_rounded")
#: Rules granted to p-values: only rounding. Truncating a p-value makes it look
#: smaller (anti-conservative), so a truncation-only match is not accepted.
P_VALUE_RULES: tuple[str, ...] = ("half_up", "half_even")
RULE_WORDS: dict[str, str] = {
    "half_up": "rounded half-up", "half_even": "rounded half-to-even",
    "truncated": "truncated", "double_rounded": "rounded twice",
}

#: Tests a p-value investigation expects in the results (key suffix ``~test``).
TESTS: tuple[str, ...] = ("fisher", "chi2", "chi2_yates", "barnard", "boschloo")
#: Tests defined for 2 x 2 tables only.
TWO_BY_TWO_ONLY: frozenset[str] = frozenset({"chi2_yates", "barnard", "boschloo"})
TEST_WORDS: dict[str, str] = {
    "fisher": "Fisher exact", "chi2": "chi-square", "chi2_yates": "chi-square with Yates",
    "barnard": "Barnard exact", "boschloo": "Boschloo exact",
}

#: Figure kinds the reconstruction solver was constrained to match
#: (mirrors ``helpers.reconstruct._CONSTRAINED_KINDS``; a test keeps them equal).
CONSTRAINED_KINDS: tuple[str, ...] = ("count", "proportion", "median", "min", "max")


@dataclass(frozen=True)
class Verdict:
    """Outcome of comparing one printed figure with its recomputed value.

    Attributes
    ----------
    verdict : str
        One of :data:`VERDICTS`.
    how : str
        For reproduced figures: ``"exact"`` or the rounding rule(s) that give
        the printed value; blank otherwise.
    reason : str
        For not reproduced / not recomputed figures: what differs or why no
        comparison was made; blank otherwise.
    printed : str
        The paper's text for the figure.
    recomputed_text : str
        The recomputed figure in the paper's style (``"23/34 = 67.65%"``), blank
        when nothing was recomputed.
    rules : tuple of str
        Every rule of :data:`RULES` under which the recomputed value prints as
        the paper's (empty for exact matches and mismatches).
    """

    verdict: str
    how: str
    reason: str
    printed: str
    recomputed_text: str
    rules: tuple[str, ...] = ()


# --- exact rounding -------------------------------------------------------------------

def round_by_rule(value: Fraction, decimals: int, rule: str) -> Fraction:
    """Round a non-negative exact value to ``decimals`` decimals by ``rule`` (see :data:`RULES`).

    >>> float(round_by_rule(Fraction(15, 28) * 100, 1, "truncated"))
    53.5
    >>> float(round_by_rule(Fraction(6, 34) * 100, 1, "double_rounded"))
    17.7
    """
    scale = Fraction(10) ** decimals
    if rule == "half_up":
        return Fraction(math.floor(value * scale + Fraction(1, 2))) / scale
    if rule == "half_even":
        return Fraction(round(value * scale)) / scale  # Fraction.__round__ is half-to-even
    if rule == "truncated":
        return Fraction(math.floor(value * scale)) / scale
    if rule == "double_rounded":
        return round_by_rule(round_by_rule(value, decimals + 1, "half_up"), decimals, "half_up")
    raise ValueError(f"unknown rounding rule {rule!r}; use one of {', '.join(RULES)}")


def matching_rules(value: Fraction, printed: Fraction, decimals: int,
                   rules: Sequence[str] = RULES) -> tuple[str, ...]:
    """The rules under which ``value`` prints as ``printed`` with ``decimals`` decimals."""
    return tuple(r for r in rules if round_by_rule(value, decimals, r) == printed)


def _fmt(value: Fraction, decimals: int) -> str:
    return f"{float(round_by_rule(value, decimals, 'half_up')):.{decimals}f}"


def describe_rules(rules: Sequence[str], value: Fraction, decimals: int) -> str:
    """Words for a set of matching rules, naming what the rounding rule would give when it differs."""
    rounds = [r for r in rules if r in ("half_up", "half_even")]
    places = "a whole number" if decimals == 0 else f"{decimals} decimal{'s' if decimals > 1 else ''}"
    if len(rounds) == 2:
        return f"rounded to {places}"
    if rounds:
        other = "half_even" if rounds[0] == "half_up" else "half_up"
        return (f"{RULE_WORDS[rounds[0]]} to {places} (a tie; {RULE_WORDS[other]} "
                f"gives {_fmt(round_by_rule(value, decimals, other), decimals)})")
    rounded = _fmt(round_by_rule(value, decimals, "half_up"), decimals)
    if "truncated" in rules:
        return f"truncated to {places} (rounding gives {rounded})"
    if "double_rounded" in rules:
        once = _fmt(round_by_rule(value, decimals + 1, "half_up"), decimals + 1)
        return f"rounded twice ({once}, then {places}; rounding once gives {rounded})"
    return ""


# --- reading printed text ---------------------------------------------------------------

_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%")
_NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)")
_P = re.compile(r"p\s*([=<>≤])\s*(\d*\.\d+|\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class PrintedNumber:
    """A number as printed: exact value, decimals shown, and comparison (``=`` or ``<``)."""

    value: Fraction
    decimals: int
    relation: str = "="

    @property
    def text(self) -> str:
        body = f"{float(self.value):.{self.decimals}f}"
        return body if self.relation == "=" else f"{self.relation} {body}"


def _number(token: str, relation: str = "=") -> PrintedNumber:
    decimals = len(token.split(".")[1]) if "." in token else 0
    return PrintedNumber(Fraction(Decimal(token)), decimals, relation)


def _from_value(value: float) -> PrintedNumber | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return _number(format(float(value), "g"))


def printed_percent(printed: str) -> PrintedNumber | None:
    """The first percentage in the printed text (``"13 (38.2%)"`` -> 38.2, 1 decimal); None if none."""
    hit = _PERCENT.search(printed or "")
    return _number(hit.group(1)) if hit else None


def printed_p_value(printed: str, value: float = math.nan) -> PrintedNumber | None:
    """``"p=0.02"`` -> 0.02 with 2 decimals; ``"p<0.05"`` keeps the ``<``. Falls back to ``value``."""
    hit = _P.search(printed or "")
    if hit:
        relation = {"≤": "<"}.get(hit.group(1), hit.group(1))
        return _number(hit.group(2), relation)
    return _from_value(value)


def printed_summary(printed: str, value: float = math.nan) -> PrintedNumber | None:
    """The first number in the printed text (``"21 days"``, ``"69%"``), else ``value``."""
    hit = _NUMBER.search(printed or "")
    return _number(hit.group(1)) if hit else _from_value(value)


# --- judging one figure -----------------------------------------------------------------

def _is_blank(x) -> bool:
    if x is None:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def _int(x) -> int | None:
    return None if _is_blank(x) else int(x)


def _text(x) -> str:
    return "" if _is_blank(x) else str(x)


def _figure_value(figure: Mapping) -> float:
    v = figure.get("value")
    return math.nan if _is_blank(v) else float(v)


def _not_recomputed(figure: Mapping, reason: str) -> Verdict:
    return Verdict(NOT_RECOMPUTED, "", reason, _text(figure.get("printed")), "")


def judge(figure: Mapping, result: Mapping | None, *,
          alternatives: pd.DataFrame | None = None) -> Verdict:
    """Compare one published figure with its recomputed result row.

    Parameters
    ----------
    figure : mapping
        A row of :func:`helpers.published.load_published_figures` (``kind``,
        ``printed``, ``value``, ``numerator``, ``denominator``, ``result_key``, ``note``).
    result : mapping or None
        The results row whose ``key`` is the figure's ``result_key``
        (``numerator``, ``denominator``, ``estimate``, ``p_value``); None when
        no notebook produced it.
    alternatives : DataFrame, optional
        For p-values: other recorded test rows of the same comparison
        (:func:`p_value_candidates`), named in the reason when the figure is not
        reproduced.

    Returns
    -------
    Verdict
        Counts are compared exactly; a printed percentage is compared with
        ``100 * numerator / denominator`` of the *result's* counts; summaries
        (median, min, max) with the result's ``estimate``; p-values with the
        result's ``p_value`` under :data:`P_VALUE_RULES`. Missing values in the
        result (blank p-value, blank estimate) give ``not recomputed``.
    """
    kind = _text(figure.get("kind"))
    printed = _text(figure.get("printed"))
    key = _text(figure.get("result_key"))
    note = _text(figure.get("note"))
    if kind == "external":
        return _not_recomputed(figure, "external figure, no cohort counterpart"
                               + (f" ({note})" if note else ""))
    if not key:
        return _not_recomputed(figure, "no result key for this figure"
                               + (f" ({note})" if note else ""))
    if result is None:
        return _not_recomputed(figure, f"no notebook recorded {key}")
    if kind == "p_value":
        return _judge_p_value(figure, result, alternatives)
    if kind in ("median", "min", "max"):
        return _judge_summary(figure, result)
    return _judge_counts(figure, result)


def _judge_counts(figure: Mapping, result: Mapping) -> Verdict:
    printed = _text(figure.get("printed"))
    num, den = _int(figure.get("numerator")), _int(figure.get("denominator"))
    r_num, r_den = _int(result.get("numerator")), _int(result.get("denominator"))
    if num is None:
        num = _int(_figure_value(figure)) if not math.isnan(_figure_value(figure)) else None
    if r_num is None:
        return _not_recomputed(figure, f"{result.get('key')} has no count")
    recomputed = f"{r_num}"
    if r_den and (den is not None or printed_percent(printed) is not None):
        recomputed = f"{r_num}/{r_den} = {_fmt(Fraction(100 * r_num, r_den), 2)}%"
    shown = printed_percent(printed) if den is not None else None
    if num is not None and r_num != num:
        return Verdict(NOT_REPRODUCED, "", f"count differs: paper {num}, data {r_num}",
                       printed, recomputed)
    if den is not None and r_den is not None and r_den != den:
        return Verdict(NOT_REPRODUCED, "", f"denominator differs: paper {num}/{den}, "
                       f"data {r_num}/{r_den}", printed, recomputed)
    if shown is None or not r_den:
        return Verdict(REPRODUCED, "exact", "", printed, recomputed)
    exact = Fraction(100 * r_num, r_den)
    if exact == shown.value:
        return Verdict(REPRODUCED, "exact", "", printed, recomputed)
    rules = matching_rules(exact, shown.value, shown.decimals)
    if rules:
        return Verdict(UP_TO_ROUNDING, describe_rules(rules, exact, shown.decimals), "",
                       printed, recomputed, rules)
    return Verdict(NOT_REPRODUCED, "", f"percentage differs beyond rounding: printed "
                   f"{shown.text}%, {r_num}/{r_den} = {_fmt(exact, 3)}% prints "
                   f"{_fmt(exact, shown.decimals)}%", printed, recomputed)


def _judge_summary(figure: Mapping, result: Mapping) -> Verdict:
    printed = _text(figure.get("printed"))
    shown = printed_summary(printed, _figure_value(figure))
    est = result.get("estimate")
    if _is_blank(est):
        return _not_recomputed(figure, f"{result.get('key')} has no value")
    value = Fraction(float(est))
    recomputed = format(float(est), "g")
    if shown is None:
        return _not_recomputed(figure, "no printed number to compare")
    if value == shown.value:
        return Verdict(REPRODUCED, "exact", "", printed, recomputed)
    rules = matching_rules(value, shown.value, shown.decimals)
    if rules:
        return Verdict(UP_TO_ROUNDING, describe_rules(rules, value, shown.decimals), "",
                       printed, recomputed, rules)
    return Verdict(NOT_REPRODUCED, "", f"{_text(figure.get('kind'))} differs: paper "
                   f"{shown.text}, data {recomputed}", printed, recomputed)


def _judge_p_value(figure: Mapping, result: Mapping, alternatives: pd.DataFrame | None) -> Verdict:
    printed = _text(figure.get("printed"))
    shown = printed_p_value(printed, _figure_value(figure))
    p = result.get("p_value")
    if _is_blank(p):
        return _not_recomputed(figure, f"{result.get('key')} has no p-value (not recorded)")
    recomputed = f"{float(p):.4f}"
    if shown is None:
        return _not_recomputed(figure, "no printed p-value to compare")
    ok, how, rules = p_value_matches(float(p), shown)
    if ok:
        verdict = REPRODUCED if how == "exact" else UP_TO_ROUNDING
        return Verdict(verdict, how, "", printed, recomputed, rules)
    reason = f"p-value differs: printed {shown.text}, {result.get('key')} gives {recomputed}"
    if alternatives is not None and len(alternatives):
        others = alternatives[alternatives["matches"] & (alternatives["key"] != result.get("key"))]
        if len(others):
            reason += "; matching instead: " + ", ".join(
                f"{k} ({v:.4f})" for k, v in zip(others["key"], others["p_value"]))
        else:
            reason += "; no other recorded test matches"
    return Verdict(NOT_REPRODUCED, "", reason, printed, recomputed)


def p_value_matches(p: float, shown: PrintedNumber) -> tuple[bool, str, tuple[str, ...]]:
    """Whether a computed p-value prints as ``shown``: (match, how, rules).

    ``p < bound`` matches any smaller p; ``p = x`` matches when ``p`` equals
    ``x`` or rounds to it under :data:`P_VALUE_RULES`. NaN never matches.
    """
    if math.isnan(p):
        return False, "", ()
    if shown.relation == "<":
        return (p < shown.value, f"below the printed bound {shown.text}", ()) if p < shown.value \
            else (False, "", ())
    if shown.relation == ">":
        return (p > shown.value, f"above the printed bound {shown.text}", ()) if p > shown.value \
            else (False, "", ())
    value = Fraction(p)
    if value == shown.value:
        return True, "exact", ()
    rules = matching_rules(value, shown.value, shown.decimals, P_VALUE_RULES)
    if rules:
        return True, f"{p:.4f} {describe_rules(rules, value, shown.decimals)}", rules
    return False, "", ()


# --- p-value investigation ------------------------------------------------------------

_TEST_KEY = re.compile(r"^(?P<measure>[^\[]+)\[(?P<by>[^\]|]+)(?:\|(?P<where>[^\]]*))?\]~(?P<test>\w+)$")


def split_test_key(key: str) -> dict | None:
    """``"any_cr[lines_group]~fisher"`` -> measure, by, where, test; None if not a test key."""
    hit = _TEST_KEY.match(key or "")
    return None if hit is None else {k: (v or "") for k, v in hit.groupdict().items()}


def _levels_recorded(results: pd.DataFrame, measure: str, grouping: str) -> int:
    """Levels of ``grouping`` with a rate row of ``measure`` (``missing`` and empty levels left out)."""
    by, _, where = grouping.partition("|")
    prefix = f"{measure}[" + (f"{where}&" if where else "") + f"{by}="
    keys = results["key"].astype(str)
    rows = results[keys.str.startswith(prefix) & ~keys.str.endswith("=missing]")]
    return int((pd.to_numeric(rows["denominator"], errors="coerce") > 0).sum())


def p_value_candidates(printed: str, results: pd.DataFrame, measure: str, by_prefix: str,
                       expected: Sequence[str] = TESTS) -> pd.DataFrame:
    """Every recorded test of ``measure`` across a grouping starting with ``by_prefix``, vs a printed p.

    Parameters
    ----------
    printed : str
        The paper's text, e.g. ``"p=0.03"``.
    results : DataFrame
        The run's results rows (:func:`helpers.results.read_results`).
    measure, by_prefix : str
        Select test keys ``{measure}[{by}...]~{test}`` whose ``by`` starts with
        ``by_prefix`` (so ``bmb_post`` finds both ``bmb_post_group`` (3x2) and
        a 2x2 grouping such as ``bmb_post_ge50``).
    expected : sequence of str
        Tests every selected grouping should have; a missing one is listed as
        ``not recorded`` (with NaN p-value), never computed here.

    Returns
    -------
    DataFrame
        One row per (grouping, test): ``key``, ``grouping`` (``by`` plus any
        ``|filter``), ``test``, ``test_name``, ``method``, ``p_value``,
        ``status`` (``recorded``, ``not recorded``, or ``not applicable (3x2
        table)`` for a 2 x 2-only test when the results hold more than two
        non-missing levels of the grouping), ``matches`` (bool: prints as the
        paper's p) and ``how``.
    """
    shown = printed_p_value(printed)
    rows = []
    seen: dict[str, set] = {}
    for rec in results.to_dict("records"):
        parts = split_test_key(_text(rec.get("key")))
        if not parts or parts["measure"] != measure or not parts["by"].startswith(by_prefix):
            continue
        grouping = parts["by"] + (f"|{parts['where']}" if parts["where"] else "")
        seen.setdefault(grouping, set()).add(parts["test"])
        p = math.nan if _is_blank(rec.get("p_value")) else float(rec["p_value"])
        ok, how, _ = p_value_matches(p, shown) if shown else (False, "", ())
        rows.append({"key": rec["key"], "grouping": grouping, "test": parts["test"],
                     "test_name": TEST_WORDS.get(parts["test"], parts["test"]),
                     "method": _text(rec.get("method")), "p_value": p,
                     "status": "recorded", "matches": ok, "how": how})
    for grouping in (seen or {by_prefix: set()}):
        levels = _levels_recorded(results, measure, grouping)
        for test in expected:
            if test not in seen.get(grouping, set()):
                status = "not recorded"
                if test in TWO_BY_TWO_ONLY and levels > 2:
                    status = f"not applicable ({levels}x2 table)"
                rows.append({"key": f"{measure}[{grouping}]~{test}", "grouping": grouping,
                             "test": test, "test_name": TEST_WORDS.get(test, test), "method": "",
                             "p_value": math.nan, "status": status, "matches": False, "how": ""})
    cols = ["key", "grouping", "test", "test_name", "method", "p_value", "status", "matches", "how"]
    frame = pd.DataFrame(rows, columns=cols)
    order = {t: i for i, t in enumerate(expected)}
    frame["_o"] = frame["test"].map(lambda t: order.get(t, len(order)))
    return frame.sort_values(["grouping", "_o"], kind="stable").drop(columns="_o").reset_index(drop=True)


# --- judging all figures --------------------------------------------------------------

VERDICT_COLUMNS: tuple[str, ...] = (
    "id", "location", "description", "kind", "result_key", "printed", "recomputed",
    "verdict", "detail", "rules", "basis",
)


def basis_of(kind: str, verdict: str, has_printed_percent: bool, reconstructed: bool) -> str:
    """What a verdict can tell, given whether the data are the shipped reconstruction.

    On the reconstruction, counts, proportions' counts, medians and ranges were
    solver constraints, so their agreement is guaranteed by construction; the
    rounding of a printed percentage, p-values and any mismatch are genuine checks.
    On other data the comparison is a replication: "your data vs the paper".
    """
    if verdict == NOT_RECOMPUTED:
        return "not checked"
    if not reconstructed:
        return "your data vs the paper"
    if kind not in CONSTRAINED_KINDS:
        return "genuine check (not a solver constraint)"
    if verdict == NOT_REPRODUCED:
        return "genuine finding (a constrained figure the analysis defines differently)"
    if kind == "proportion" and has_printed_percent:
        return "counts by construction; printed rounding a genuine check"
    return "by construction (solver constraint)"


def judge_all(published: pd.DataFrame, results: pd.DataFrame, *,
              reconstructed: bool = True) -> pd.DataFrame:
    """One verdict row per published figure.

    Parameters
    ----------
    published : DataFrame
        :func:`helpers.published.load_published_figures` output.
    results : DataFrame
        The run's results rows (:func:`helpers.results.read_results`); when a
        key occurs twice (two notebooks), the first occurrence is used.
    reconstructed : bool
        True when the data are the shipped reconstruction; False relabels the
        verdicts with :data:`REPLICATION_LABELS` (a difference is reported, not failed).

    Returns
    -------
    DataFrame
        Columns :data:`VERDICT_COLUMNS`: ``detail`` is the verdict's ``how`` or
        ``reason``; ``rules`` the matching rounding rules joined by ``;``;
        ``basis`` from :func:`basis_of`. Inputs are not modified.
    """
    by_key = {}
    for rec in results.to_dict("records"):
        by_key.setdefault(_text(rec.get("key")), rec)
    rows = []
    for fig in published.to_dict("records"):
        key = _text(fig.get("result_key"))
        alternatives = None
        if fig.get("kind") == "p_value" and key in by_key:
            parts = split_test_key(key)
            if parts:
                alternatives = p_value_candidates(_text(fig.get("printed")), results,
                                                  parts["measure"], parts["by"])
        v = judge(fig, by_key.get(key), alternatives=alternatives)
        has_pct = fig.get("kind") == "proportion" and printed_percent(v.printed) is not None
        label = v.verdict if reconstructed else REPLICATION_LABELS[v.verdict]
        rows.append({
            "id": fig["id"], "location": fig["location"], "description": fig["description"],
            "kind": fig["kind"], "result_key": key, "printed": v.printed,
            "recomputed": v.recomputed_text, "verdict": label,
            "detail": v.how or v.reason, "rules": ";".join(v.rules),
            "basis": basis_of(_text(fig.get("kind")), v.verdict, has_pct, reconstructed),
        })
    return pd.DataFrame(rows, columns=list(VERDICT_COLUMNS))


def verdict_order(reconstructed: bool = True) -> tuple[str, ...]:
    """The verdict labels in display order (replication wording when not reconstructed)."""
    return VERDICTS if reconstructed else tuple(REPLICATION_LABELS[v] for v in VERDICTS)


def summary(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Counts of each verdict, by location (in order of first appearance) and in total.

    Returns one row per location plus a final ``All figures`` row, with a
    ``figures`` total and one column per verdict label present in either wording.
    """
    present = set(verdicts["verdict"])
    replication = bool(present & (set(REPLICATION_LABELS.values()) - set(VERDICTS)))
    labels = [v for v in verdict_order(not replication) if v in present]
    locations = list(dict.fromkeys(verdicts["location"]))
    rows = []
    for loc, part in [(loc, verdicts[verdicts["location"] == loc]) for loc in locations] + \
            [("All figures", verdicts)]:
        counts = part["verdict"].value_counts()
        rows.append({"location": loc, "figures": len(part),
                     **{v: int(counts.get(v, 0)) for v in labels}})
    return pd.DataFrame(rows, columns=["location", "figures", *labels])


def summary_results(verdicts: pd.DataFrame, *, reconstructed: bool = True) -> pd.DataFrame:
    """Result rows (``results.csv`` schema) for the verdict counts and the basis counts.

    Keys: ``figures[all]`` (total), ``figures[verdict=<label>]`` for every label
    of :func:`verdict_order` (0 when unused, so prose can always cite it) and
    ``figures[basis=<basis>]``; numerator = count, denominator = all figures.
    """
    total = len(verdicts)
    rows = [{"key": rate_key("figures"), "label": "Published figures judged",
             "numerator": total, "denominator": total, "estimate": 1.0 if total else math.nan,
             "method": "count", "unit": "figures"}]
    verdict_counts = verdicts["verdict"].value_counts()
    basis_counts = verdicts["basis"].value_counts(sort=False)
    for column, counts in (("verdict", {v: int(verdict_counts.get(v, 0))
                                        for v in verdict_order(reconstructed)}),
                           ("basis", basis_counts.to_dict())):
        for value, n in counts.items():
            rows.append({"key": rate_key("figures", {column: value}),
                         "label": f"Published figures, {column}: {value}",
                         "numerator": int(n), "denominator": total,
                         "estimate": n / total if total else math.nan,
                         "method": "count", "unit": "figures"})
    return pd.DataFrame(rows)


def basis_table(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Figures by basis (by construction / genuine check / ...) and verdict, as counts."""
    table = pd.crosstab(verdicts["basis"], verdicts["verdict"])
    labels = [v for v in dict.fromkeys((*VERDICTS, *REPLICATION_LABELS.values())) if v in table.columns]
    return table.loc[:, labels].reset_index().rename_axis(columns=None)


#: Prefixes of the notebooks whose results notebook 06 judges.
UPSTREAM_NOTEBOOKS: tuple[str, ...] = ("01", "02", "03", "04", "05")


def read_upstream_results(output_dir, required: Sequence[str] = UPSTREAM_NOTEBOOKS) -> pd.DataFrame:
    """The results rows of notebooks 01-05 under ``{output_dir}/results/``.

    Raises
    ------
    FileNotFoundError
        Naming the notebooks whose ``results/NN_*.csv`` is missing, and how to
        produce them: nothing is recomputed here.
    """
    from pathlib import Path

    from helpers.results import read_results

    folder = Path(output_dir) / "results"
    present = {f.name[:2] for f in folder.glob("*.csv")} if folder.is_dir() else set()
    missing = [nb for nb in required if nb not in present]
    if missing:
        raise FileNotFoundError(
            f"no results of notebook(s) {', '.join(missing)} in {folder.name}/ under output_dir: "
            "run notebooks 01-05 first (or `make run`), then this notebook")
    frame = read_results(output_dir)
    keep = frame["notebook"].astype(str).str[:2].isin(list(required))
    return frame.loc[keep].reset_index(drop=True)


def result_row(results: pd.DataFrame, key: str) -> pd.Series:
    """The first results row with ``key`` (KeyError naming the key and the notebooks to run if absent)."""
    hit = results.loc[results["key"] == key]
    if hit.empty:
        raise KeyError(f"no result with key {key!r}: run notebooks 01-05 first, or check the key")
    return hit.iloc[0]


# --- the hard cases ----------------------------------------------------------------------

def rounding_evidence(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Which rounding rule each printed figure is consistent with, where it discriminates.

    A figure reproduced up to rounding is evidence for a rule only when some
    rules fail: ``rounding only`` (half-up or half-even, not truncation),
    ``truncation only``, ``double rounding only``, or ``tie broken half-up`` /
    ``half-even``; figures where rounding and truncation agree say nothing and
    are left out, as are p-values. Returns the verdict rows that discriminate, with a ``evidence`` column.
    """
    rows = []
    for rec in verdicts.to_dict("records"):
        if rec["kind"] == "p_value" or not rec["rules"]:
            continue
        rules = set(rec["rules"].split(";"))
        rounding = rules & {"half_up", "half_even"}
        if rounding and "truncated" in rules:
            continue  # rounding and truncation agree: says nothing about the rule
        if rounding == {"half_up", "half_even"}:
            evidence = "rounding only (truncation would differ)"
        elif rounding == {"half_up"}:
            evidence = "tie broken half-up"
        elif rounding == {"half_even"}:
            evidence = "tie broken half-to-even"
        elif "truncated" in rules:
            evidence = "truncation only"
        else:
            evidence = "double rounding only"
        rows.append({**{k: rec[k] for k in ("id", "location", "printed", "recomputed", "detail")},
                     "evidence": evidence})
    return pd.DataFrame(rows, columns=["id", "location", "printed", "recomputed", "detail", "evidence"])


def evidence_by_location(evidence: pd.DataFrame) -> pd.DataFrame:
    """Counts of :func:`rounding_evidence` classes per location (locations in order of appearance)."""
    if evidence.empty:
        return pd.DataFrame(columns=["location"])
    table = pd.crosstab(evidence["location"], evidence["evidence"])
    table = table.loc[list(dict.fromkeys(evidence["location"]))]
    return table.reset_index().rename_axis(columns=None)


def describe_candidates(printed: str, candidates: pd.DataFrame) -> str:
    """One Markdown sentence: which recorded tests print as the paper's p-value, and what the others give."""
    recorded = candidates[candidates["status"] == "recorded"]
    if recorded.empty:
        return f"No test of this comparison is recorded by notebooks 01-05, so {printed} is not checked."
    hits = recorded[recorded["matches"]]
    listing = "; ".join(f"{t} on `{g}` p = {p:.4f}" for t, g, p in
                        zip(recorded["test_name"], recorded["grouping"], recorded["p_value"]))
    missing = candidates[candidates["status"] == "not recorded"]
    tail = (f" Not recorded: {', '.join(f'{t} on `{g}`' for t, g in zip(missing['test_name'], missing['grouping']))}."
            if len(missing) else "")
    if hits.empty:
        return f"No recorded test gives {printed} ({listing}).{tail}"
    names = ", ".join(f"{t} on `{g}`" for t, g in zip(hits["test_name"], hits["grouping"]))
    return f"{printed} is reproduced by {names} ({listing}).{tail}"


#: Fitting numerators are listed one by one up to this many; a longer run (large
#: denominators, where many numerators print alike) is written as ``"lo–hi"``.
LISTED_NUMERATORS_MAX = 3


def _ceil_div(x, y):
    """Ceiling of x / y for integers (Python ints or numpy integer arrays), y > 0."""
    return -(-x // y)


def _rule_bounds(scaled: int, hundred_units: int, d, rule: str):
    """Inclusive bounds ``(lo, hi)`` of the numerators k with ``100 k / d`` printing as
    ``scaled / 10**decimals`` under ``rule`` (``"exact"``: equal without rounding).

    ``hundred_units`` is ``100 * 10**decimals``; with V = hundred_units * k / d the
    printed value in units of the last decimal, each rule is an interval of V
    (half-up ``[a - 1/2, a + 1/2)``, truncated ``[a, a + 1)``, rounded twice
    ``[a - 0.55, a + 0.45)``, half-even ``a ± 1/2`` with the ties going to an even
    ``a``), solved for k in integer arithmetic. ``d`` may be an int or an int array;
    an empty set has ``lo > hi``.
    """
    a, n = scaled, hundred_units
    if rule == "exact":
        return _ceil_div(a * d, n), (a * d) // n
    if rule == "half_up":
        return _ceil_div((2 * a - 1) * d, 2 * n), _ceil_div((2 * a + 1) * d, 2 * n) - 1
    if rule == "half_even":
        if a % 2 == 0:  # both ties round to a
            return _ceil_div((2 * a - 1) * d, 2 * n), ((2 * a + 1) * d) // (2 * n)
        return ((2 * a - 1) * d) // (2 * n) + 1, _ceil_div((2 * a + 1) * d, 2 * n) - 1
    if rule == "truncated":
        return _ceil_div(a * d, n), _ceil_div((a + 1) * d, n) - 1
    if rule == "double_rounded":
        return _ceil_div((20 * a - 11) * d, 20 * n), _ceil_div((20 * a + 9) * d, 20 * n) - 1
    raise ValueError(f"unknown rounding rule {rule!r}; use one of {', '.join(RULES)}")


def _fitting_bounds(printed_pct: str, denominators: np.ndarray,
                    rules: Sequence[str]) -> tuple[np.ndarray, np.ndarray] | None:
    """Inclusive bounds of the fitting numerators for every denominator (lo > hi: none).

    The numerators that print as a value under any set of rules form one run:
    each rule's interval of values contains the printed value itself, so their
    union is an interval, and ``100 k / d`` increases with k. None when the
    printed value has more digits than its decimals (then no closed form).
    """
    shown = printed_percent(printed_pct) or _number(printed_pct.strip())
    scaled = shown.value * 10 ** shown.decimals
    if scaled.denominator != 1:
        return None
    a, n = int(scaled), 100 * 10 ** shown.decimals
    d = denominators
    lo, hi = _rule_bounds(a, n, d, "exact")
    lo, hi = np.maximum(lo, 0), np.minimum(hi, d)
    for rule in rules:
        r_lo, r_hi = _rule_bounds(a, n, d, rule)
        r_lo, r_hi = np.maximum(r_lo, 0), np.minimum(r_hi, d)
        has = r_lo <= r_hi
        lo_empty, hi_empty = lo > hi, lo > hi
        lo = np.where(has, np.where(lo_empty, r_lo, np.minimum(lo, r_lo)), lo)
        hi = np.where(has, np.where(hi_empty, r_hi, np.maximum(hi, r_hi)), hi)
    return lo, hi


def fitting_numerators(printed_pct: str, denominator: int,
                       rules: Sequence[str] = RULES) -> tuple[int, ...]:
    """Numerators ``k`` (0..denominator) for which ``100 k / denominator`` prints as ``printed_pct``.

    ``printed_pct`` is the paper's text (``"53.5%"``); decimals come from it.
    Solved in exact integer arithmetic (:func:`_rule_bounds`), so the cost does
    not grow with the denominator beyond the size of the answer.
    """
    if denominator <= 0:
        raise ValueError(f"need a positive denominator, got {denominator}")
    bounds = _fitting_bounds(printed_pct, np.array([denominator], dtype=np.int64), rules)
    if bounds is None:  # no closed form: test every numerator
        shown = printed_percent(printed_pct) or _number(printed_pct.strip())
        return tuple(k for k in range(denominator + 1)
                     if Fraction(100 * k, denominator) == shown.value
                     or matching_rules(Fraction(100 * k, denominator), shown.value,
                                       shown.decimals, rules))
    return tuple(range(int(bounds[0][0]), int(bounds[1][0]) + 1))


def _numerators_text(lo: int, hi: int) -> str:
    if hi - lo + 1 <= LISTED_NUMERATORS_MAX:
        return "/".join(map(str, range(lo, hi + 1)))
    return f"{lo}–{hi}"


def denominators_fitting(printed: Mapping[str, str], denominators: Iterable[int]) -> pd.DataFrame:
    """For each candidate denominator, the numerators that print as each percentage.

    Parameters
    ----------
    printed : mapping
        Figure id -> printed percentage, for shares of one group that partition it
        (e.g. the four debulking categories among patients without CRS).
    denominators : iterable of int
        Candidate group sizes (positive).

    Returns
    -------
    DataFrame
        One row per denominator: one column per figure id (fitting numerators
        joined by ``/``, or ``"lo–hi"`` for a run longer than
        :data:`LISTED_NUMERATORS_MAX`; blank when none), ``fits_all`` (every
        percentage has a numerator) and ``sums_to_denominator`` (some choice of
        numerators adds up to the denominator, as a partition must: each figure's
        numerators are one run, so the reachable sums are every integer between
        the sums of the smallest and of the largest).

    Notes
    -----
    Vectorised over the denominators in integer arithmetic; the cost is linear
    in their number (a million candidates take about a second).
    """
    d = np.fromiter((int(v) for v in denominators), dtype=np.int64)
    if (d <= 0).any():
        raise ValueError("candidate denominators must be positive")
    columns: dict[str, list[str]] = {}
    fits_all = np.ones(len(d), dtype=bool)
    low_sum = np.zeros(len(d), dtype=np.int64)
    high_sum = np.zeros(len(d), dtype=np.int64)
    for fid, text in printed.items():
        bounds = _fitting_bounds(text, d, RULES)
        if bounds is None:
            runs = [fitting_numerators(text, int(v)) for v in d]
            lo = np.array([r[0] if r else 1 for r in runs], dtype=np.int64)
            hi = np.array([r[-1] if r else 0 for r in runs], dtype=np.int64)
        else:
            lo, hi = bounds
        has = lo <= hi
        fits_all &= has
        low_sum += np.where(has, lo, 0)
        high_sum += np.where(has, hi, 0)
        columns[fid] = [_numerators_text(a, b) if ok else ""
                        for a, b, ok in zip(lo.tolist(), hi.tolist(), has.tolist())]
    sums = fits_all & (low_sum <= d) & (d <= high_sum)
    return pd.DataFrame({"denominator": d.tolist(), **columns,
                         "fits_all": fits_all.tolist(), "sums_to_denominator": sums.tolist()})


def describe_evidence(evidence: pd.DataFrame) -> str:
    """Markdown: each rounding-evidence class with its figures and where they are printed."""
    if evidence.empty:
        return "No printed percentage distinguishes one rounding rule from another."
    lines = []
    for cls, part in evidence.groupby("evidence", sort=True):
        where = ", ".join(dict.fromkeys(part["location"]))
        ids = ", ".join(f"`{i}` ({p})" for i, p in zip(part["id"], part["printed"]))
        lines.append(f"- **{cls}** — {len(part)} figure{'s' if len(part) != 1 else ''} in {where}: {ids}")
    return "\n".join(lines)
