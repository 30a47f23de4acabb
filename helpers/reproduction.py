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
* ``not recomputed`` -- an external figure with no comparator row (protocol
  doses, definitions), a figure with no result key, or a key no notebook
  produced; ``reason`` says why.

A ``result_key`` may add up several keys (``"n[a=1] + n[a=2]"``, see
:func:`sum_parts`): the figure is then judged against the sum of their counts.
An external figure without a comparator says why from its ``external_type``
(:func:`external_reason`). A p-value that is not reproduced names, in its
detail, every recorded test of the same family that prints as it when rounded
or only when truncated (:func:`classify_candidates`, shared with the report's
hard cases).

External figures linked to a row of ``data/historic_comparators.csv`` (column
``comparator_id``) are judged against that row's counts or printed rate, the
same way as cohort figures (:func:`judge_against_comparator`).

On data other than the shipped reconstruction the comparison is a
*replication* (:func:`judge_replication`): the paper's rate is set against the
data's rate and its exact Clopper-Pearson 95% interval, a p-value by whether
significance (at :data:`SIGNIFICANCE_LEVEL`) and the direction of the
difference agree, and a summary by its value; counts of different cohorts are
never compared as counts.

All arithmetic on printed values is exact (``fractions.Fraction``), so
``13/16 = 81.25`` really is a tie for the half-up and half-even rules.
Nothing here computes a statistical test: p-values come from the results rows
(replication intervals are exact Clopper-Pearson limits of recorded counts).
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
from helpers.stats import exact_ci

# --- verdicts ---------------------------------------------------------------------------

REPRODUCED = "reproduced"
UP_TO_ROUNDING = "reproduced up to rounding"
NOT_REPRODUCED = "not reproduced"
NOT_RECOMPUTED = "not recomputed"
#: Verdicts in display order.
VERDICTS: tuple[str, ...] = (REPRODUCED, UP_TO_ROUNDING, NOT_REPRODUCED, NOT_RECOMPUTED)

#: Wording when the data are not the shipped reconstruction: the comparison is a
#: replication ("your data vs the paper"), and a difference is not a failure.
#: A rate is "consistent" when the paper's rate lies inside the data's exact 95%
#: interval; a p-value when significance and direction agree (see :func:`judge_replication`).
REPLICATION_LABELS: dict[str, str] = {
    REPRODUCED: "consistent with the paper",
    UP_TO_ROUNDING: "consistent with the paper up to rounding",
    NOT_REPRODUCED: "differs from the paper",
    NOT_RECOMPUTED: "not recomputed",
}
#: Two-sided level at which a replication compares the significance of p-values.
SIGNIFICANCE_LEVEL: float = 0.05

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
#: :data:`TESTS` plus Fisher's mid-p, for a p-value no standard test reproduces.
TESTS_WITH_MIDP: tuple[str, ...] = (*TESTS, "fisher_midp")
#: Tests defined for 2 x 2 tables only.
TWO_BY_TWO_ONLY: frozenset[str] = frozenset({"chi2_yates", "barnard", "boschloo"})
#: Tests the notebooks compute for 2 x 2 tables only (defined more widely, but
#: not computed here for r x c tables): listed as not computed, not as missing.
COMPUTED_FOR_TWO_BY_TWO_ONLY: frozenset[str] = frozenset({"fisher_midp"})
#: The two-sided exact tests whose size never exceeds alpha.
EXACT_TESTS: frozenset[str] = frozenset({"fisher", "barnard", "boschloo"})
TEST_WORDS: dict[str, str] = {
    "fisher": "Fisher exact", "chi2": "chi-square", "chi2_yates": "chi-square with Yates",
    "barnard": "Barnard exact", "boschloo": "Boschloo exact", "fisher_midp": "Fisher mid-p",
}
#: What each test is, for labelling a candidate that prints as the paper's value.
TEST_KINDS: dict[str, str] = {
    "fisher": "exact", "barnard": "exact", "boschloo": "exact",
    "chi2": "asymptotic", "chi2_yates": "asymptotic (continuity-corrected)",
    "fisher_midp": "mid-p (not exact: its size can exceed alpha)",
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

    Parameters
    ----------
    value : Fraction
        Exact non-negative value (e.g. a percentage).
    decimals : int
        Decimals kept.
    rule : str
        One of :data:`RULES`.

    Returns
    -------
    Fraction
        The rounded value, exact.
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
    """The rules under which ``value`` prints as ``printed`` with ``decimals`` decimals.

    Parameters
    ----------
    value : Fraction
        Exact recomputed value.
    printed : Fraction
        The printed value.
    decimals : int
        Decimals printed.
    rules : sequence of str
        Rules tried (default :data:`RULES`).

    Returns
    -------
    tuple of str
        The matching rules, in the order of ``rules`` (empty if none).
    """
    return tuple(r for r in rules if round_by_rule(value, decimals, r) == printed)


def _fmt(value: Fraction, decimals: int) -> str:
    return f"{float(round_by_rule(value, decimals, 'half_up')):.{decimals}f}"


def describe_rules(rules: Sequence[str], value: Fraction, decimals: int) -> str:
    """Words for a set of matching rules, naming what the rounding rule would give when it differs.

    Parameters
    ----------
    rules : sequence of str
        Matching rules (:func:`matching_rules`).
    value : Fraction
        The exact value.
    decimals : int
        Decimals printed.

    Returns
    -------
    str
        Words such as ``"rounded to 1 decimal"``; blank when ``rules`` is empty.
    """
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
    """The first percentage in the printed text (``"13 (38.2%)"`` -> 38.2, 1 decimal); None if none.

    Parameters
    ----------
    printed : str
        The paper's text.

    Returns
    -------
    PrintedNumber or None
        The first percentage, or None.
    """
    hit = _PERCENT.search(printed or "")
    return _number(hit.group(1)) if hit else None


def printed_p_value(printed: str, value: float = math.nan) -> PrintedNumber | None:
    """``"p=0.02"`` -> 0.02 with 2 decimals; ``"p<0.05"`` keeps the ``<``. Falls back to ``value``.

    Parameters
    ----------
    printed : str
        The paper's text.
    value : float
        Fallback stored value (NaN: none).

    Returns
    -------
    PrintedNumber or None
        The p-value with its relation, or None.
    """
    hit = _P.search(printed or "")
    if hit:
        relation = {"≤": "<"}.get(hit.group(1), hit.group(1))
        return _number(hit.group(2), relation)
    return _from_value(value)


def printed_summary(printed: str, value: float = math.nan) -> PrintedNumber | None:
    """The first number in the printed text (``"21 days"``, ``"69%"``), else ``value``.

    Parameters
    ----------
    printed : str
        The paper's text.
    value : float
        Fallback stored value (NaN: none).

    Returns
    -------
    PrintedNumber or None
        The first number, or None.
    """
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


def external_reason(figure: Mapping) -> str:
    """Why an external figure without a comparator row is not recomputed, from its row.

    Parameters
    ----------
    figure : mapping
        A published-figures row of kind ``external`` (``external_type``,
        ``comparator_id``, ``note``; a missing or blank field is read as blank).

    Returns
    -------
    str
        ``"external: "`` and the words of its ``external_type``
        (:data:`helpers.published.EXTERNAL_TYPES`; ``"no cohort counterpart"``
        when blank or unknown), ``"no comparator row"`` for a literature figure
        not linked to the comparator file, then the ``note`` in brackets.
    """
    from helpers.published import EXTERNAL_TYPES

    etype = _text(figure.get("external_type"))
    words = EXTERNAL_TYPES.get(etype, "no cohort counterpart")
    if etype == "literature" and not _text(figure.get("comparator_id")):
        words += ", no comparator row"
    note = _text(figure.get("note"))
    return f"external: {words}" + (f" ({note})" if note else "")


# --- figures that are sums of recorded counts ------------------------------------------

def sum_parts(key: str) -> tuple[str, ...]:
    """The result keys a ``result_key`` adds up: ``"a[x=1] + a[x=2]"`` -> both keys.

    Only a ``+`` outside square brackets separates keys, so a level holding
    ``" + "`` (``n[debulking_regimen=vincristine + 6-mp]``) stays one key.

    >>> sum_parts("n[r=a + b] + n[r=c]")
    ('n[r=a + b]', 'n[r=c]')

    Parameters
    ----------
    key : str
        A figure's ``result_key`` (blank gives an empty tuple).

    Returns
    -------
    tuple of str
        The stripped keys, in order; one key for an ordinary ``result_key``.
    """
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(key or ""):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "+" and depth == 0:
            parts.append(key[start:i])
            start = i + 1
    parts.append((key or "")[start:])
    return tuple(p.strip() for p in parts if p.strip())


def lookup_result(by_key: Mapping[str, Mapping], key: str) -> tuple[dict | None, tuple[str, ...]]:
    """The result row for a ``result_key``, adding up the rows of a sum key.

    Parameters
    ----------
    by_key : mapping
        Result key -> results row (``numerator``, ``denominator``, ...).
    key : str
        A figure's ``result_key``: one key, or several joined by ``" + "``
        (:func:`sum_parts`).

    Returns
    -------
    tuple
        ``(row, missing)``. For one key: its row (None when absent). For a sum:
        a new row whose ``numerator`` is the sum of the parts' numerators (None
        when a part has no count), ``denominator`` their common denominator
        (None when they differ or one is blank: the parts are then not shares
        of one population), ``terms`` the parts' numerators; None when a part
        is absent. ``missing`` lists the absent keys. Rows are not modified.
    """
    parts = sum_parts(key)
    missing = tuple(k for k in parts if k not in by_key)
    if len(parts) <= 1:
        return (dict(by_key[key]) if key in by_key else None), missing
    if missing:
        return None, missing
    rows = [by_key[k] for k in parts]
    nums = [_int(r.get("numerator")) for r in rows]
    dens = {_int(r.get("denominator")) for r in rows}
    den = dens.pop() if len(dens) == 1 else None
    total = None if any(n is None for n in nums) else sum(nums)
    return ({"key": key, "numerator": total, "denominator": den, "estimate": math.nan,
             "p_value": math.nan, "method": "sum of " + " and ".join(parts),
             "terms": tuple(nums)}, ())


def judge(figure: Mapping, result: Mapping | None, *,
          alternatives: pd.DataFrame | None = None,
          comparator: Mapping | None = None) -> Verdict:
    """Compare one published figure with its recomputed result row.

    Parameters
    ----------
    figure : mapping
        A row of :func:`helpers.published.load_published_figures` (``kind``,
        ``printed``, ``value``, ``numerator``, ``denominator``, ``result_key``,
        ``comparator_id``, ``note``).
    result : mapping or None
        The results row whose ``key`` is the figure's ``result_key``
        (``numerator``, ``denominator``, ``estimate``, ``p_value``); None when
        no notebook produced it.
    alternatives : DataFrame, optional
        For p-values: other recorded test rows of the same comparison
        (:func:`p_value_candidates`), named in the reason when the figure is not
        reproduced.
    comparator : mapping, optional
        For an external figure with a ``comparator_id``: that row of the
        comparator file (:func:`helpers.historic.load_comparators`); judged by
        :func:`judge_against_comparator`. None leaves such a figure not recomputed.

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
    key = _text(figure.get("result_key"))
    note = _text(figure.get("note"))
    if kind == "external":
        cid = _text(figure.get("comparator_id"))
        if cid:
            if comparator is None:
                return _not_recomputed(figure, f"comparator {cid} not given (no comparator file)")
            return judge_against_comparator(figure, comparator)
        return _not_recomputed(figure, external_reason(figure))
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


def _judge_percentage(printed: str, shown: PrintedNumber, k: int, n: int, recomputed: str,
                      source: str) -> Verdict:
    """A printed percentage against ``100 k / n``: exact, up to a rounding rule, or not."""
    exact = Fraction(100 * k, n)
    if exact == shown.value:
        return Verdict(REPRODUCED, "exact", "", printed, recomputed)
    rules = matching_rules(exact, shown.value, shown.decimals)
    if rules:
        return Verdict(UP_TO_ROUNDING, describe_rules(rules, exact, shown.decimals), "",
                       printed, recomputed, rules)
    return Verdict(NOT_REPRODUCED, "", f"percentage differs beyond rounding: printed "
                   f"{shown.text}%, {source} {k}/{n} = {_fmt(exact, 3)}% prints "
                   f"{_fmt(exact, shown.decimals)}%", printed, recomputed)


def judge_against_comparator(figure: Mapping, comparator: Mapping) -> Verdict:
    """Judge an external figure (a historic rate the paper quotes) against its source row.

    Parameters
    ----------
    figure : mapping
        A published-figures row of kind ``external`` whose ``printed`` text holds
        a percentage (``"34%"``).
    comparator : mapping
        The row of ``data/historic_comparators.csv`` it quotes (``id``,
        ``numerator``, ``denominator``, ``percent``; counts may be blank).

    Returns
    -------
    Verdict
        With counts in the comparator row: the printed percentage against
        ``100 * numerator / denominator`` (exact, up to a rounding rule, or not
        reproduced), as for cohort figures. With a rate only: the printed
        percentage against the source's printed percentage, compared at the
        coarser of the two precisions (equal: ``reproduced``; equal after
        rounding the finer one: ``reproduced up to rounding``). No percentage on
        either side gives ``not recomputed``.
    """
    printed = _text(figure.get("printed"))
    shown = printed_percent(printed)
    cid = _text(comparator.get("id"))
    if shown is None:
        return _not_recomputed(figure, f"no printed percentage to compare with {cid}")
    k, n = _int(comparator.get("numerator")), _int(comparator.get("denominator"))
    if k is not None and n:
        recomputed = f"{cid}: {k}/{n} = {_fmt(Fraction(100 * k, n), 2)}%"
        return _judge_percentage(printed, shown, k, n, recomputed, cid)
    pct = comparator.get("percent")
    if _is_blank(pct):
        return _not_recomputed(figure, f"{cid} has neither counts nor a printed rate")
    source = _number(format(float(pct), "g"))
    recomputed = f"{cid}: {source.text}% (rate only, as printed by the source)"
    if source.value == shown.value:
        return Verdict(REPRODUCED, "exact (same printed rate as the source)", "", printed, recomputed)
    if source.decimals > shown.decimals:
        rules = matching_rules(source.value, shown.value, shown.decimals)
        if rules:
            return Verdict(UP_TO_ROUNDING, "source's " + source.text + "% "
                           + describe_rules(rules, source.value, shown.decimals), "",
                           printed, recomputed, rules)
    return Verdict(NOT_REPRODUCED, "", f"rate differs from the source: printed {shown.text}%, "
                   f"{cid} prints {source.text}%", printed, recomputed)


def _judge_counts(figure: Mapping, result: Mapping) -> Verdict:
    printed = _text(figure.get("printed"))
    num, den = _int(figure.get("numerator")), _int(figure.get("denominator"))
    r_num, r_den = _int(result.get("numerator")), _int(result.get("denominator"))
    if num is None:
        num = _int(_figure_value(figure)) if not math.isnan(_figure_value(figure)) else None
    if r_num is None:
        return _not_recomputed(figure, f"{result.get('key')} has no count")
    terms = result.get("terms") or ()
    summed = " + ".join(map(str, terms))
    recomputed = f"{summed} = {r_num}" if terms else f"{r_num}"
    if r_den and (den is not None or printed_percent(printed) is not None):
        top = f"({summed})" if terms else f"{r_num}"
        recomputed = f"{top}/{r_den} = {_fmt(Fraction(100 * r_num, r_den), 2)}%"
    shown = printed_percent(printed) if den is not None else None
    if num is not None and r_num != num:
        return Verdict(NOT_REPRODUCED, "", f"count differs: paper {num}, data {r_num}",
                       printed, recomputed)
    if den is not None and r_den is not None and r_den != den:
        return Verdict(NOT_REPRODUCED, "", f"denominator differs: paper {num}/{den}, "
                       f"data {r_num}/{r_den}", printed, recomputed)
    if shown is None or not r_den:
        return Verdict(REPRODUCED, "exact", "", printed, recomputed)
    return _judge_percentage(printed, shown, r_num, r_den, recomputed, "data")


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
        reason += "; " + _candidate_clause(shown.text, classify_candidates(alternatives))
    return Verdict(NOT_REPRODUCED, "", reason, printed, recomputed)


def _short(rec: Mapping) -> str:
    return f"{rec['test_name']} on {rec['grouping']} {rec['p_value']:.4f}"


def _candidate_clause(printed: str, classes: CandidateClasses) -> str:
    """One clause for a verdict's detail, with the classes :func:`describe_candidates` lists."""
    if not classes.recorded:
        return "no other test of this comparison is recorded"
    parts = []
    if classes.exact_hits:
        parts.append(f"rounded, an exact test prints as {printed}: "
                     + ", ".join(_short(r) for r in classes.exact_hits))
    else:
        parts.append(f"no recorded two-sided exact test prints as {printed}")
    possible = [f"{_short(r)} when rounded [{r['test_kind']}]" for r in classes.other_hits]
    possible += [f"{_short(r)} only if truncated [{r['test_kind']}]" for r in classes.truncated]
    if possible:
        parts.append("possibilities, not accepted: " + "; ".join(possible))
    elif not classes.exact_hits:
        parts.append("no other recorded test prints as it, rounded or truncated")
    return "; ".join(parts)


# --- replication: someone else's data against the paper -------------------------------

def _ci_words(k: int, n: int) -> tuple[float, float, str]:
    low, high = exact_ci(k, n)
    return low, high, f"{k}/{n} = {_fmt(Fraction(100 * k, n), 1)}% (95% CI {100 * low:.1f}–{100 * high:.1f}%)"


def judge_replication(figure: Mapping, result: Mapping | None, *,
                      paper_total: int | None = None, data_total: int | None = None,
                      paper_groups: Mapping[str, tuple[int, int]] | None = None,
                      data_groups: Mapping[str, tuple[int, int]] | None = None,
                      alpha: float = SIGNIFICANCE_LEVEL,
                      comparator: Mapping | None = None) -> Verdict:
    """Compare one published figure with another cohort's result: rates, not counts.

    Parameters
    ----------
    figure : mapping
        A row of :func:`helpers.published.load_published_figures`.
    result : mapping or None
        The data's results row for the figure's ``result_key`` (None: not recorded).
    paper_total, data_total : int, optional
        Patients in the paper's cohort and in the data (the ``n[all]`` figure and
        result). A count printed without a denominator is compared as a share of
        the whole cohort only when the data's denominator for it is the whole
        cohort; otherwise, or when a total is missing, it is not compared.
    paper_groups, data_groups : mapping, optional
        For p-values: ``level -> (k, n)`` of the compared measure in each
        non-missing group, from the paper's figures and from the data (see
        :func:`group_rates`); used for the direction of a two-group difference.
    alpha : float
        Two-sided level at which significance is compared (default
        :data:`SIGNIFICANCE_LEVEL`).
    comparator : mapping, optional
        For an external figure with a ``comparator_id``: judged against the
        comparator file as on the reconstruction (the data play no part).

    Returns
    -------
    Verdict
        In the canonical verdicts (:data:`VERDICTS`; :func:`judge_all` relabels
        them with :data:`REPLICATION_LABELS`):

        * counts and proportions: ``reproduced`` (consistent) when the paper's
          rate ``numerator / denominator`` lies inside the exact Clopper-Pearson
          95% interval of the data's rate, ``not reproduced`` (differs) when it
          lies outside; a data denominator of 0 gives ``not recomputed``;
        * p-values: consistent when both are below ``alpha`` or both are not
          and, for two groups, the higher rate is in the same group; a printed
          bound (``p<0.05``) counts as below ``alpha`` when the bound is at most
          ``alpha``; more than two groups: significance only;
        * medians and ranges: their value at the paper's printed precision, as
          on the reconstruction (no interval is recorded for them);
        * missing results or figures without a key: ``not recomputed``.
    """
    kind = _text(figure.get("kind"))
    if kind == "external" or not _text(figure.get("result_key")) or result is None:
        return judge(figure, result, comparator=comparator)
    if kind in ("median", "min", "max"):
        return _judge_summary(figure, result)
    if kind == "p_value":
        return _replicate_p_value(figure, result, paper_groups or {}, data_groups or {}, alpha)
    return _replicate_rate(figure, result, paper_total, data_total)


def _replicate_rate(figure: Mapping, result: Mapping, paper_total: int | None,
                    data_total: int | None) -> Verdict:
    printed = _text(figure.get("printed"))
    num, den = _int(figure.get("numerator")), _int(figure.get("denominator"))
    r_num, r_den = _int(result.get("numerator")), _int(result.get("denominator"))
    if num is None or r_num is None:
        return _not_recomputed(figure, f"{result.get('key')} has no count")
    if den is None and r_den is None:
        return _not_recomputed(figure, f"{result.get('key')} is not a share of patients (no "
                               "denominator), so another cohort's count is not compared with it")
    if den is None:
        if r_den is None or paper_total is None or data_total is None or r_den != data_total:
            return _not_recomputed(figure, "a count without the paper's denominator; counts of "
                                   "cohorts of different sizes are not compared")
        den = paper_total
    if not r_den:
        return _not_recomputed(figure, f"no patients in the data's denominator of {result.get('key')}")
    low, high, data_text = _ci_words(r_num, r_den)
    paper = Fraction(num, den)
    paper_text = f"{num}/{den} = {_fmt(100 * paper, 1)}%"
    if low <= paper <= high:
        return Verdict(REPRODUCED, f"paper's {paper_text} inside the data's 95% CI", "",
                       printed, data_text)
    side = "below" if paper < low else "above"
    return Verdict(NOT_REPRODUCED, "", f"paper's {paper_text} {side} the data's 95% CI",
                   printed, data_text)


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


def _replicate_p_value(figure: Mapping, result: Mapping, paper_groups: Mapping,
                       data_groups: Mapping, alpha: float) -> Verdict:
    printed = _text(figure.get("printed"))
    shown = printed_p_value(printed, _figure_value(figure))
    p = result.get("p_value")
    if _is_blank(p) or shown is None:
        return _not_recomputed(figure, f"{result.get('key')} has no p-value, or nothing is printed")
    p = float(p)
    recomputed = f"{p:.4f}"
    paper_sig = _paper_significant(shown, alpha)
    if paper_sig is None:
        return _not_recomputed(figure, f"printed {shown.text} does not say whether p < {alpha:g}")
    data_sig = p < alpha
    word = {True: f"below {alpha:g}", False: f"not below {alpha:g}"}
    parts = [f"paper {shown.text} ({word[paper_sig]}), data {recomputed} ({word[data_sig]})"]
    differs = [] if paper_sig == data_sig else ["significance"]
    by = (split_test_key(_text(result.get("key"))) or {}).get("by", "group")
    if len(paper_groups) == 2 and len(data_groups) == 2:
        hp, hd = _higher_group(paper_groups), _higher_group(data_groups)
        if hp is None or hd is None:
            parts.append("direction not compared (equal rates on one side)")
        else:
            if hp != hd:
                differs.append("direction")
            parts.append(f"higher rate with {by}={hp} in the paper, with {by}={hd} in the data")
    else:
        parts.append("direction not compared (not two groups)")
    text = "; ".join(parts)
    if not differs:
        return Verdict(REPRODUCED, "same conclusion: " + text, "", printed, recomputed)
    return Verdict(NOT_REPRODUCED, "", " and ".join(differs) + " differ" + ("s" if len(differs) == 1 else "")
                   + ": " + text, printed, recomputed)


def group_rates(counts: Mapping[str, tuple[int, int]], test_key: str) -> dict[str, tuple[int, int]]:
    """The per-group ``(k, n)`` behind a test key, read from rate keys.

    Parameters
    ----------
    counts : mapping
        Rate key (``any_cr[high_burden=True]``) -> ``(numerator, denominator)``,
        from results rows or from the paper's figures.
    test_key : str
        A test key such as ``any_cr[high_burden]~fisher`` or
        ``crs[debulking_category|crs_recorded=True]~fisher``.

    Returns
    -------
    dict
        Group level -> ``(k, n)`` for every key ``{measure}[{where&}{by}=level]``
        found, in the order of ``counts``; the ``missing`` level is left out.
        Empty when ``test_key`` is not a test key.
    """
    parts = split_test_key(test_key)
    if not parts:
        return {}
    prefix = f"{parts['measure']}[" + (f"{parts['where']}&" if parts["where"] else "") + f"{parts['by']}="
    out = {}
    for key, kn in counts.items():
        if key.startswith(prefix) and key.endswith("]"):
            level = key[len(prefix):-1]
            if level != "missing" and "&" not in level:
                out[level] = kn
    return out


def p_value_matches(p: float, shown: PrintedNumber) -> tuple[bool, str, tuple[str, ...]]:
    """Whether a computed p-value prints as ``shown``: (match, how, rules).

    ``p < bound`` matches any smaller p; ``p = x`` matches when ``p`` equals
    ``x`` or rounds to it under :data:`P_VALUE_RULES`. NaN never matches.

    Parameters
    ----------
    p : float
        Recomputed p-value (NaN: not computed).
    shown : PrintedNumber
        The printed p-value (:func:`printed_p_value`).

    Returns
    -------
    tuple
        ``(match, how, rules)``: bool, words, and the matching rules.
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
    """``"any_cr[lines_group]~fisher"`` -> measure, by, where, test; None if not a test key.

    Parameters
    ----------
    key : str
        A results key.

    Returns
    -------
    dict or None
        ``measure``, ``by``, ``where`` (blank when none) and ``test``.
    """
    hit = _TEST_KEY.match(key or "")
    return None if hit is None else {k: (v or "") for k, v in hit.groupdict().items()}


def _level_rows(results: pd.DataFrame, measure: str, grouping: str) -> pd.DataFrame:
    """Rate rows of ``measure`` for each non-missing level of ``grouping`` (``by`` or ``by|where``)."""
    by, _, where = grouping.partition("|")
    prefix = f"{measure}[" + (f"{where}&" if where else "") + f"{by}="
    keys = results["key"].astype(str)
    rows = results[keys.str.startswith(prefix) & ~keys.str.endswith("=missing]")
                   & ~keys.str.contains("~", regex=False)]
    return rows.assign(level=rows["key"].astype(str).str[len(prefix):-1])


def _levels_recorded(results: pd.DataFrame, measure: str, grouping: str) -> int:
    """Levels of ``grouping`` with a rate row of ``measure`` (``missing`` and empty levels left out)."""
    rows = _level_rows(results, measure, grouping)
    return int((pd.to_numeric(rows["denominator"], errors="coerce") > 0).sum())


def split_text(results: pd.DataFrame, measure: str, grouping: str) -> str:
    """The groups a test compares, from the recorded rate rows: ``"<50: 16/20 · >=50: 0/2"``.

    Parameters
    ----------
    results : DataFrame
        Results rows.
    measure, grouping : str
        As in a test key ``{measure}[{grouping}]~test``.

    Returns
    -------
    str
        One ``level: k/n`` per non-missing level with a positive denominator, in
        recorded order; ``"groups not recorded"`` when there are none.
    """
    rows = _level_rows(results, measure, grouping)
    parts = [f"{lvl}: {_int(k)}/{_int(n)}" for lvl, k, n in
             zip(rows["level"], rows["numerator"], rows["denominator"])
             if _int(n) and _int(k) is not None]
    return " · ".join(parts) if parts else "groups not recorded"


def p_value_candidates(printed: str, results: pd.DataFrame, measure: str, by_prefix: str,
                       expected: Sequence[str] = TESTS,
                       groupings: Sequence[str] = ()) -> pd.DataFrame:
    """Every recorded test of ``measure`` across a grouping starting with ``by_prefix``, vs a printed p.

    Parameters
    ----------
    printed : str
        The paper's text, e.g. ``"p=0.03"``.
    results : DataFrame
        The run's results rows (:func:`helpers.results.read_results`).
    measure, by_prefix : str
        Select test keys ``{measure}[{by}...]~{test}`` whose ``by`` starts with
        ``by_prefix`` (so ``bmb_post`` finds ``bmb_post_group`` (3x2) and the
        2x2 groupings ``bmb_post_group2`` and ``bmb_post_high``).
    expected : sequence of str
        Tests every selected grouping should have; a missing one is listed as
        ``not recorded`` (with NaN p-value), never computed here.
    groupings : sequence of str, optional
        Groupings expected even when no test of theirs is recorded yet (each
        is then listed with every expected test ``not recorded``).

    Returns
    -------
    DataFrame
        One row per (grouping, test): ``key``, ``grouping`` (``by`` plus any
        ``|filter``), ``split`` (:func:`split_text`), ``test``, ``test_name``,
        ``test_kind`` (:data:`TEST_KINDS`), ``method``, ``p_value``, ``status``
        (``recorded``, ``not recorded``, ``not applicable (3x2 table)`` for
        a 2 x 2-only test when the results hold more than two non-missing
        levels, or ``not computed (3x2 table; computed for 2x2 tables only)``
        for a test of :data:`COMPUTED_FOR_TWO_BY_TWO_ONLY` there), ``matches`` (bool: prints as the paper's p under the strict
        rounding rules :data:`P_VALUE_RULES`), ``truncation_only`` (bool: prints
        as the paper's p only if truncated), ``rounded`` (the p-value rounded
        half-up to the printed decimals, blank when not recorded) and ``how``.
    """
    shown = printed_p_value(printed)
    rows = []
    seen: dict[str, set] = {g: set() for g in groupings}
    for rec in results.to_dict("records"):
        parts = split_test_key(_text(rec.get("key")))
        if not parts or parts["measure"] != measure or not parts["by"].startswith(by_prefix):
            continue
        grouping = parts["by"] + (f"|{parts['where']}" if parts["where"] else "")
        seen.setdefault(grouping, set()).add(parts["test"])
        p = math.nan if _is_blank(rec.get("p_value")) else float(rec["p_value"])
        ok, how, _ = p_value_matches(p, shown) if shown else (False, "", ())
        truncated = bool(shown and not ok and shown.relation == "=" and not math.isnan(p)
                         and matching_rules(Fraction(p), shown.value, shown.decimals, ("truncated",)))
        if truncated:
            how = (f"{p:.4f} truncated to {shown.decimals} decimals (rounding gives "
                   f"{_fmt(Fraction(p), shown.decimals)})")
        rows.append({"key": rec["key"], "grouping": grouping, "test": parts["test"],
                     "test_name": TEST_WORDS.get(parts["test"], parts["test"]),
                     "method": _text(rec.get("method")), "p_value": p,
                     "status": "recorded", "matches": ok, "truncation_only": truncated,
                     "rounded": "" if math.isnan(p) or shown is None
                     else _fmt(Fraction(p), shown.decimals), "how": how})
    for grouping in (seen or {by_prefix: set()}):
        levels = _levels_recorded(results, measure, grouping)
        for test in expected:
            if test not in seen.get(grouping, set()):
                status = "not recorded"
                if test in TWO_BY_TWO_ONLY and levels > 2:
                    status = f"not applicable ({levels}x2 table)"
                elif test in COMPUTED_FOR_TWO_BY_TWO_ONLY and levels > 2:
                    status = f"not computed ({levels}x2 table; computed for 2x2 tables only)"
                rows.append({"key": f"{measure}[{grouping}]~{test}", "grouping": grouping,
                             "test": test, "test_name": TEST_WORDS.get(test, test), "method": "",
                             "p_value": math.nan, "status": status, "matches": False,
                             "truncation_only": False, "rounded": "", "how": ""})
    cols = ["key", "grouping", "split", "test", "test_name", "test_kind", "method", "p_value",
            "status", "matches", "truncation_only", "rounded", "how"]
    frame = pd.DataFrame(rows, columns=[c for c in cols if c not in ("split", "test_kind")])
    frame["split"] = frame["grouping"].map(lambda g: split_text(results, measure, g))
    frame["test_kind"] = frame["test"].map(lambda t: TEST_KINDS.get(t, "other"))
    frame = frame.loc[:, cols]
    order = {t: i for i, t in enumerate(expected)}
    groups = {g: i for i, g in enumerate(seen)}
    frame["_g"] = frame["grouping"].map(lambda g: groups.get(g, len(groups)))
    frame["_o"] = frame["test"].map(lambda t: order.get(t, len(order)))
    return (frame.sort_values(["_g", "_o"], kind="stable").drop(columns=["_g", "_o"])
            .reset_index(drop=True))


_FAMILY_SUFFIX = re.compile(r"_group\d*$")


def grouping_family(by: str) -> str:
    """The prefix shared by every grouping of the same measurement: ``bmb_post_group`` -> ``bmb_post``.

    A trailing ``_group`` (with any digits) is dropped, so the candidates of a
    printed p-value include the other splits of the same variable
    (``bmb_post_group2``, ``bmb_post_high``); a grouping without that suffix
    (``high_burden``) is its own family.

    Parameters
    ----------
    by : str
        The ``by`` part of a test key.

    Returns
    -------
    str
        The prefix passed to :func:`p_value_candidates`.
    """
    return _FAMILY_SUFFIX.sub("", by)


def figure_candidates(figure: Mapping, results: pd.DataFrame,
                      expected: Sequence[str] = TESTS_WITH_MIDP,
                      groupings: Sequence[str] = ()) -> pd.DataFrame | None:
    """Every recorded test that could be behind a printed p-value (:func:`p_value_candidates`).

    Used both by :func:`judge_all` (the verdict's detail) and by the report's
    hard cases, so the two always list the same possibilities.

    Parameters
    ----------
    figure : mapping
        A published-figures row of kind ``p_value`` whose ``result_key`` is a test key.
    results : DataFrame
        The run's results rows.
    expected : sequence of str
        Tests every grouping should have (default :data:`TESTS_WITH_MIDP`).
    groupings : sequence of str, optional
        Groupings listed even when nothing of theirs is recorded.

    Returns
    -------
    DataFrame or None
        The candidates of the figure's measure across every grouping of its
        family (:func:`grouping_family`); None when the key is not a test key.
    """
    parts = split_test_key(_text(figure.get("result_key")))
    if not parts:
        return None
    return p_value_candidates(_text(figure.get("printed")), results, parts["measure"],
                              grouping_family(parts["by"]), expected=expected, groupings=groupings)


@dataclass(frozen=True)
class CandidateClasses:
    """Recorded tests sorted by how they relate to a printed p-value (records of :func:`p_value_candidates`).

    Attributes
    ----------
    exact_hits : tuple of dict
        Two-sided exact tests (:data:`EXACT_TESTS`) that print as the value when rounded.
    other_hits : tuple of dict
        Other tests (asymptotic, mid-p) that print as it when rounded: possibilities.
    truncated : tuple of dict
        Tests that print as it only if truncated: possibilities, never accepted.
    recorded : tuple of dict
        Every recorded test.
    not_recorded : tuple of dict
        Expected tests no notebook recorded.
    not_applicable : tuple of dict
        Tests not defined or not computed for the grouping's table (status
        starting ``not applicable`` or ``not computed``).
    """

    exact_hits: tuple
    other_hits: tuple
    truncated: tuple
    recorded: tuple
    not_recorded: tuple
    not_applicable: tuple


def classify_candidates(candidates: pd.DataFrame) -> CandidateClasses:
    """Sort :func:`p_value_candidates` rows into the classes the report names.

    Parameters
    ----------
    candidates : DataFrame
        :func:`p_value_candidates` output (not modified).

    Returns
    -------
    CandidateClasses
        Rows as dicts, in the candidates' order. A test with a blank p-value
        is never a hit.
    """
    recs = candidates.to_dict("records")
    recorded = tuple(r for r in recs if r["status"] == "recorded")
    return CandidateClasses(
        exact_hits=tuple(r for r in recorded if r["matches"] and r["test"] in EXACT_TESTS),
        other_hits=tuple(r for r in recorded if r["matches"] and r["test"] not in EXACT_TESTS),
        truncated=tuple(r for r in recorded if r["truncation_only"]),
        recorded=recorded,
        not_recorded=tuple(r for r in recs if r["status"] == "not recorded"),
        not_applicable=tuple(r for r in recs if str(r["status"]).startswith(("not applicable",
                                                                               "not computed"))),
    )


# --- judging all figures --------------------------------------------------------------

VERDICT_COLUMNS: tuple[str, ...] = (
    "id", "location", "description", "kind", "result_key", "printed", "recomputed",
    "verdict", "detail", "rules", "basis",
)


#: Basis of a figure judged against the comparator file rather than the cohort.
COMPARATOR_BASIS = "genuine check (against the comparator file)"


def basis_of(kind: str, verdict: str, has_printed_percent: bool, reconstructed: bool,
             against_comparator: bool = False) -> str:
    """What a verdict can tell, given whether the data are the shipped reconstruction.

    Parameters
    ----------
    kind : str
        The figure's kind (:data:`helpers.published.KINDS`).
    verdict : str
        Its canonical verdict (:data:`VERDICTS`).
    has_printed_percent : bool
        Whether a proportion is printed with a percentage (whose rounding is checkable).
    reconstructed : bool
        Whether the data are the shipped reconstruction.
    against_comparator : bool
        Whether the figure was judged against the comparator file (a historic
        rate the paper quotes); such a check never involves the cohort.

    Returns
    -------
    str
        On the reconstruction, counts, proportions' counts, medians and ranges
        were solver constraints, so their agreement is guaranteed by
        construction; the rounding of a printed percentage, p-values, any
        mismatch and comparator checks are genuine checks. On other data the
        comparison is a replication: "your data vs the paper". ``"not checked"``
        for figures not recomputed.
    """
    if verdict == NOT_RECOMPUTED:
        return "not checked"
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
        k, n = _int(rec.get("numerator")), _int(rec.get("denominator"))
        key = _text(rec.get(key_column))
        if key and k is not None and n is not None:
            out.setdefault(key, (k, n))
    return out


def judge_all(published: pd.DataFrame, results: pd.DataFrame, *,
              reconstructed: bool = True, comparators: pd.DataFrame | None = None,
              alpha: float = SIGNIFICANCE_LEVEL) -> pd.DataFrame:
    """One verdict row per published figure.

    Parameters
    ----------
    published : DataFrame
        :func:`helpers.published.load_published_figures` output.
    results : DataFrame
        The run's results rows (:func:`helpers.results.read_results`); when a
        key occurs twice (two notebooks), the first occurrence is used. A
        ``result_key`` of several keys joined by ``" + "`` is judged against the
        sum of their counts (:func:`lookup_result`); a p-value's detail names
        every recorded test of the same family that could print as it
        (:func:`figure_candidates`, :func:`classify_candidates`).
    reconstructed : bool
        True when the data are the shipped reconstruction (:func:`judge`);
        False judges a replication (:func:`judge_replication`: rates against
        exact intervals, p-values by significance and direction) and relabels
        the verdicts with :data:`REPLICATION_LABELS`.
    comparators : DataFrame, optional
        :func:`helpers.historic.load_comparators` output; external figures with
        a ``comparator_id`` are judged against it. Without it they are not
        recomputed.
    alpha : float
        Significance level for replicated p-values.

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
    by_comparator = ({} if comparators is None else
                     {_text(r["id"]): r for r in comparators.to_dict("records")})
    paper_counts = _counts_by_key(published[published["kind"] == "proportion"], "result_key")
    data_counts = _counts_by_key(results, "key")
    paper_total = next((_int(f.get("numerator")) for f in published.to_dict("records")
                        if _text(f.get("result_key")) == rate_key("n")), None)
    data_total = _int(by_key[rate_key("n")].get("numerator")) if rate_key("n") in by_key else None
    rows = []
    for fig in published.to_dict("records"):
        key = _text(fig.get("result_key"))
        cid = _text(fig.get("comparator_id"))
        comparator = by_comparator.get(cid) if cid else None
        found, missing = lookup_result(by_key, key)
        if reconstructed:
            alternatives = None
            if fig.get("kind") == "p_value" and found is not None:
                alternatives = figure_candidates(fig, results)
            v = judge(fig, found, alternatives=alternatives, comparator=comparator)
        else:
            v = judge_replication(fig, found, paper_total=paper_total,
                                  data_total=data_total,
                                  paper_groups=group_rates(paper_counts, key),
                                  data_groups=group_rates(data_counts, key), alpha=alpha,
                                  comparator=comparator)
        if len(sum_parts(key)) > 1 and missing:
            v = _not_recomputed(fig, f"no notebook recorded {', '.join(missing)} (part of {key})")
        has_pct = fig.get("kind") == "proportion" and printed_percent(v.printed) is not None
        label = v.verdict if reconstructed else REPLICATION_LABELS[v.verdict]
        rows.append({
            "id": fig["id"], "location": fig["location"], "description": fig["description"],
            "kind": fig["kind"], "result_key": key or (f"comparator[{cid}]" if cid else ""),
            "printed": v.printed, "recomputed": v.recomputed_text, "verdict": label,
            "detail": v.how or v.reason, "rules": ";".join(v.rules),
            "basis": basis_of(_text(fig.get("kind")), v.verdict, has_pct, reconstructed,
                              against_comparator=comparator is not None),
        })
    return pd.DataFrame(rows, columns=list(VERDICT_COLUMNS))


def verdict_order(reconstructed: bool = True) -> tuple[str, ...]:
    """The verdict labels in display order (replication wording when not reconstructed).

    Parameters
    ----------
    reconstructed : bool
        Whether the data are the shipped reconstruction.

    Returns
    -------
    tuple of str
        :data:`VERDICTS` or their :data:`REPLICATION_LABELS`.
    """
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

    Parameters
    ----------
    verdicts : DataFrame
        :func:`judge_all` output.
    reconstructed : bool
        Wording of the verdict keys (:func:`verdict_order`).

    Returns
    -------
    DataFrame
        Result rows (:mod:`helpers.results` schema, without ``notebook``).
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
    """Figures by basis and verdict, as counts.

    Parameters
    ----------
    verdicts : DataFrame
        :func:`judge_all` output.

    Returns
    -------
    DataFrame
        One row per ``basis`` (by construction / genuine check / your data vs
        the paper / not checked), one column per verdict label present, in
        display order (:func:`verdict_order` of the wording used).
    """
    table = pd.crosstab(verdicts["basis"], verdicts["verdict"])
    replication = bool(set(table.columns) & (set(REPLICATION_LABELS.values()) - set(VERDICTS)))
    labels = [v for v in verdict_order(not replication) if v in table.columns]
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

    Parameters
    ----------
    output_dir : str or Path
        Run folder holding ``results/``.
    required : sequence of str
        Notebook prefixes that must be present.

    Returns
    -------
    DataFrame
        The rows of the required notebooks, in notebook order.
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
    """The first results row with ``key`` (KeyError naming the key and the notebooks to run if absent).

    Parameters
    ----------
    results : DataFrame
        Results rows.
    key : str
        The key looked up.

    Returns
    -------
    Series
        The first row with that key.
    """
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
    """Counts of :func:`rounding_evidence` classes per location (locations in order of appearance).

    Parameters
    ----------
    evidence : DataFrame
        :func:`rounding_evidence` output.

    Returns
    -------
    DataFrame
        One row per location, one count column per evidence class (empty frame
        with a ``location`` column when there is no evidence).
    """
    if evidence.empty:
        return pd.DataFrame(columns=["location"])
    table = pd.crosstab(evidence["location"], evidence["evidence"])
    table = table.loc[list(dict.fromkeys(evidence["location"]))]
    return table.reset_index().rename_axis(columns=None)


def _name(rec: Mapping) -> str:
    return f"{rec['test_name']} on `{rec['grouping']}` ({rec['split']}) p = {rec['p_value']:.4f}"


def describe_candidates(printed: str, candidates: pd.DataFrame) -> str:
    """Markdown: which recorded tests print as the paper's p-value, and under which printing rule.

    Parameters
    ----------
    printed : str
        The paper's text (``"p=0.03"``).
    candidates : DataFrame
        :func:`p_value_candidates` output.

    Returns
    -------
    str
        Bullets, each computed from the candidates: tests that print as the
        paper's value when rounded (the strict rule) split into exact tests and
        other tests (each labelled with its kind); tests that print as it only
        when truncated (a possibility, not accepted: truncation makes a
        p-value look smaller); whether any exact test reproduces it; every
        recorded p-value; the tests not recorded; and the tests not defined
        (Barnard, Boschloo, Yates) or not computed (mid-p) for a table larger
        than 2 x 2, said as such rather than as missing. The classes are
        :func:`classify_candidates`, as in a verdict's detail. One sentence
        when no test is recorded.
    """
    classes = classify_candidates(candidates)
    if not classes.recorded:
        return f"No test of this comparison is recorded by notebooks 01-05, so {printed} is not checked."
    recs = classes.recorded
    exact_hits, other_hits, truncated = classes.exact_hits, classes.other_hits, classes.truncated
    lines = []
    if exact_hits:
        lines.append(f"- **Rounded (strict rule), exact test:** {printed} is printed by "
                     + "; ".join(_name(r) for r in exact_hits) + ".")
    else:
        lines.append(f"- **Rounded (strict rule), exact test:** no recorded two-sided exact "
                     f"test (Fisher, Barnard, Boschloo) on any grouping prints as {printed}.")
    for r in other_hits:
        lines.append(f"- **Possibility, rounded, {r['test_kind']}:** {_name(r)} prints as {printed}.")
    for r in truncated:
        lines.append(f"- **Possibility, only if truncated ({r['test_kind']}):** {_name(r)} — {r['how']}.")
    if not other_hits and not truncated and not exact_hits:
        lines.append(f"- No other recorded test prints as {printed}, rounded or truncated.")
    lines.append("- Every recorded value: " + "; ".join(
        f"{r['test_name']} on `{r['grouping']}` {r['p_value']:.4f}" for r in recs) + ".")
    if classes.not_recorded:
        lines.append("- Not recorded (not computed here): " + ", ".join(
            f"{r['test_name']} on `{r['grouping']}`" for r in classes.not_recorded) + ".")
    undefined = [r for r in classes.not_applicable if r["test"] in TWO_BY_TWO_ONLY]
    uncomputed = [r for r in classes.not_applicable if r["test"] not in TWO_BY_TWO_ONLY]
    if undefined:
        lines.append("- Not applicable (defined for 2 x 2 tables only): " + ", ".join(
            f"{r['test_name']} on `{r['grouping']}`" for r in undefined) + ".")
    if uncomputed:
        lines.append("- Computed for 2 x 2 tables only, so not for: " + ", ".join(
            f"{r['test_name']} on `{r['grouping']}` ({r['status'].split('(')[1].split(';')[0]})"
            for r in uncomputed) + ".")
    return "\n".join(lines)


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

    Parameters
    ----------
    printed_pct : str
        The printed percentage.
    denominator : int
        Group size (positive).
    rules : sequence of str
        Rounding rules allowed.

    Returns
    -------
    tuple of int
        The fitting numerators, increasing (empty when none fits).
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
    """Markdown: each rounding-evidence class with its figures and where they are printed.

    Parameters
    ----------
    evidence : DataFrame
        :func:`rounding_evidence` output.

    Returns
    -------
    str
        One bullet per class, or a sentence when nothing discriminates.
    """
    if evidence.empty:
        return "No printed percentage distinguishes one rounding rule from another."
    lines = []
    for cls, part in evidence.groupby("evidence", sort=True):
        where = ", ".join(dict.fromkeys(part["location"]))
        ids = ", ".join(f"`{i}` ({p})" for i, p in zip(part["id"], part["printed"]))
        lines.append(f"- **{cls}** — {len(part)} figure{'s' if len(part) != 1 else ''} in {where}: {ids}")
    return "\n".join(lines)


def what_it_means(verdicts: pd.DataFrame, reconstructed: bool) -> str:
    """The report's closing paragraph, worded for the data actually analysed.

    Parameters
    ----------
    verdicts : DataFrame
        :func:`judge_all` output for the same data.
    reconstructed : bool
        Whether the data are the shipped reconstruction
        (:attr:`helpers.narrative.Provenance.reconstructed`).

    Returns
    -------
    str
        Markdown. On the reconstruction: agreement of constrained figures is by
        construction, the informative verdicts are the genuine checks (counted
        from ``basis``) and the disagreements. On other data: every verdict is a
        replication, what "consistent" means, and that a difference is a finding
        about two cohorts, not a failure. Counts come from ``verdicts``.
    """
    basis = verdicts["basis"]
    n_comparator = int((basis == COMPARATOR_BASIS).sum())
    comparator = (f" The {n_comparator} historic rate{'s' if n_comparator != 1 else ''} the paper "
                  "quotes are checked against the comparator file, whatever the data."
                  if n_comparator else "")
    if reconstructed:
        n_construct = int(basis.str.startswith("by construction").sum())
        n_genuine = int(basis.str.contains("genuine").sum())
        n_bad = int((verdicts["verdict"] == NOT_REPRODUCED).sum())
        bad = ("none is not reproduced" if n_bad == 0 else
               f"{n_bad} {'is' if n_bad == 1 else 'are'} not reproduced and listed above with the arithmetic")
        return (f"**What it means.** On the shipped reconstruction, {n_construct} figures agree "
                "because the solver was constrained to make them agree; that proves the solver "
                f"worked, not the paper. The {n_genuine} genuine checks — the rounding of printed "
                "percentages, the p-values, comparator rates and figures the analysis defines "
                f"differently — are the informative part: of the figures compared, {bad}."
                + comparator)
    consistent = REPLICATION_LABELS[REPRODUCED]
    compared = verdicts[basis == "your data vs the paper"]
    n_ok = int(compared["verdict"].isin([consistent, REPLICATION_LABELS[UP_TO_ROUNDING]]).sum())
    n_diff = int((compared["verdict"] == REPLICATION_LABELS[NOT_REPRODUCED]).sum())
    return (f"**What it means.** These data are not the shipped reconstruction, so each of the "
            f"{len(compared)} figures compared is a replication: {n_ok} {consistent} and {n_diff} "
            "different. *Consistent* means the paper's rate lies inside the data's exact 95% "
            "interval (or, for a p-value, the same significance and direction) — not that the "
            "two cohorts are equal; wide intervals make consistency easy to reach and hard to "
            "interpret. A difference is a finding about two cohorts, not a failure of the analysis."
            + comparator)


@dataclass(frozen=True)
class PartitionCheck:
    """Which group sizes fit a set of printed shares of the patients *without* an event.

    Attributes
    ----------
    total : int
        Patients in the paper's denominator of the event (e.g. 34 for CRS).
    events : int
        Patients with the event, as printed.
    complement : int
        ``total - events``: the group size the text implies.
    printed : str
        The event figure as printed (``"14.7% (5 cases)"``).
    fitting : DataFrame
        :func:`denominators_fitting` for sizes 1..``total``.
    fits : tuple of int
        Sizes whose printed shares have numerators that add up to the size.
    """

    total: int
    events: int
    complement: int
    printed: str
    fitting: pd.DataFrame
    fits: tuple[int, ...]

    @property
    def complement_fits(self) -> bool:
        """Whether the size the text implies is among :attr:`fits`."""
        return self.complement in self.fits


def complement_partition_check(figures: pd.DataFrame, event_id: str,
                               population: str) -> PartitionCheck:
    """Check the paper's shares of a complement group against the size its text implies.

    Parameters
    ----------
    figures : DataFrame
        :func:`helpers.published.load_published_figures` output.
    event_id : str
        Figure of the event with its numerator and denominator (``"s331_crs"``).
    population : str
        The ``population`` query of the figures that split the complement
        (``"crs == 'no'"``); their printed percentages are tested.

    Returns
    -------
    PartitionCheck
        Every number is read from ``figures`` (the paper), never from data.
    """
    hit = figures.loc[figures["id"] == event_id]
    if hit.empty:
        raise KeyError(f"no published figure with id {event_id!r}")
    event = hit.iloc[0]
    total, events = int(event["denominator"]), int(event["numerator"])
    shares = figures[figures["population"] == population]
    fitting = denominators_fitting(dict(zip(shares["id"], shares["printed"])), range(1, total + 1))
    fits = tuple(int(d) for d in fitting.loc[fitting["sums_to_denominator"], "denominator"])
    return PartitionCheck(total, events, total - events, _text(event["printed"]), fitting, fits)
