"""Printed numbers: exact rounding rules, reading printed text, and which counts fit a printed share.

All arithmetic is exact (``fractions.Fraction``), so ``13/16 = 81.25`` really is a
tie for the half-up and half-even rules.
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

#: Rounding rules tried, in order of preference, for percentages and summaries.
#: ``double_rounded`` is half-up to one more decimal, then half-up again
#: (6/34 = 17.647 -> 17.65 -> 17.7), a common spreadsheet artefact.
RULES: tuple[str, ...] = ("half_up", "half_even", "truncated", "double_rounded")
#: Rules granted to p-values: only rounding. Truncating a p-value makes it look
#: smaller (anti-conservative), so a truncation-only match is not accepted.
P_VALUE_RULES: tuple[str, ...] = ("half_up", "half_even")
RULE_WORDS: dict[str, str] = {
    "half_up": "rounded half-up",
    "half_even": "rounded half-to-even",
    "truncated": "truncated",
    "double_rounded": "rounded twice",
}


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


def matching_rules(
    value: Fraction, printed: Fraction, decimals: int, rules: Sequence[str] = RULES
) -> tuple[str, ...]:
    """The rules under which ``value`` prints as ``printed`` with ``decimals`` decimals."""
    return tuple(r for r in rules if round_by_rule(value, decimals, r) == printed)


def fmt_half_up(value: Fraction, decimals: int) -> str:
    return f"{float(round_by_rule(value, decimals, 'half_up')):.{decimals}f}"


def describe_rules(rules: Sequence[str], value: Fraction, decimals: int) -> str:
    """Words for a set of matching rules, naming what the rounding rule would give when it differs."""
    rounds = [r for r in rules if r in ("half_up", "half_even")]
    places = (
        "a whole number" if decimals == 0 else f"{decimals} decimal{'s' if decimals > 1 else ''}"
    )
    if len(rounds) == 2:
        return f"rounded to {places}"
    if rounds:
        other = "half_even" if rounds[0] == "half_up" else "half_up"
        return (
            f"{RULE_WORDS[rounds[0]]} to {places} (a tie; {RULE_WORDS[other]} "
            f"gives {fmt_half_up(round_by_rule(value, decimals, other), decimals)})"
        )
    rounded = fmt_half_up(round_by_rule(value, decimals, "half_up"), decimals)
    if "truncated" in rules:
        return f"truncated to {places} (rounding gives {rounded})"
    if "double_rounded" in rules:
        once = fmt_half_up(round_by_rule(value, decimals + 1, "half_up"), decimals + 1)
        return f"rounded twice ({once}, then {places}; rounding once gives {rounded})"
    return ""


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


def parse_number(token: str, relation: str = "=") -> PrintedNumber:
    decimals = len(token.split(".")[1]) if "." in token else 0
    return PrintedNumber(Fraction(Decimal(token)), decimals, relation)


def _from_value(value: float) -> PrintedNumber | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return parse_number(format(float(value), "g"))


def printed_percent(printed: str) -> PrintedNumber | None:
    """The first percentage in the printed text (``"13 (38.2%)"`` -> 38.2, 1 decimal); None if none."""
    hit = _PERCENT.search(printed or "")
    return parse_number(hit.group(1)) if hit else None


def printed_p_value(printed: str, value: float = math.nan) -> PrintedNumber | None:
    """``"p=0.02"`` -> 0.02 with 2 decimals; ``"p<0.05"`` keeps the ``<``. Falls back to ``value``."""
    hit = _P.search(printed or "")
    if hit:
        relation = {"≤": "<"}.get(hit.group(1), hit.group(1))
        return parse_number(hit.group(2), relation)
    return _from_value(value)


def printed_summary(printed: str, value: float = math.nan) -> PrintedNumber | None:
    """The first number in the printed text (``"21 days"``, ``"69%"``), else ``value``."""
    hit = _NUMBER.search(printed or "")
    return parse_number(hit.group(1)) if hit else _from_value(value)


def is_blank(x) -> bool:
    if x is None:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def int_or_none(x) -> int | None:
    return None if is_blank(x) else int(x)


def text_of(x) -> str:
    return "" if is_blank(x) else str(x)


def sum_parts(key: str) -> tuple[str, ...]:
    """The result keys a ``result_key`` adds up: ``"a[x=1] + a[x=2]"`` -> both keys.

    Only a ``+`` outside square brackets separates keys, so a level holding
    ``" + "`` (``n[debulking_regimen=vincristine + 6-mp]``) stays one key.

    >>> sum_parts("n[r=a + b] + n[r=c]")
    ('n[r=a + b]', 'n[r=c]')
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


def p_value_matches(p: float, shown: PrintedNumber) -> tuple[bool, str, tuple[str, ...]]:
    """Whether a computed p-value prints as ``shown``: (match, how, rules).

    ``p < bound`` matches any smaller p; ``p = x`` matches when ``p`` equals
    ``x`` or rounds to it under :data:`P_VALUE_RULES`. NaN never matches.
    """
    if math.isnan(p):
        return False, "", ()
    if shown.relation in ("<", ">"):
        beyond = p < shown.value if shown.relation == "<" else p > shown.value
        side = "below" if shown.relation == "<" else "above"
        return (True, f"{side} the printed bound {shown.text}", ()) if beyond else (False, "", ())
    value = Fraction(p)
    if value == shown.value:
        return True, "exact", ()
    rules = matching_rules(value, shown.value, shown.decimals, P_VALUE_RULES)
    if rules:
        return True, f"{p:.4f} {describe_rules(rules, value, shown.decimals)}", rules
    return False, "", ()


_EVIDENCE = {
    frozenset({"half_up", "half_even"}): "rounding only (truncation would differ)",
    frozenset({"half_up"}): "tie broken half-up",
    frozenset({"half_even"}): "tie broken half-to-even",
}


def _evidence(rules: str) -> str:
    """The rounding rule a figure's matching ``rules`` (``;``-joined) point to; "" for none."""
    found = set(rules.split(";"))
    rounding = frozenset(found & {"half_up", "half_even"})
    if rounding and "truncated" in found:
        return ""  # rounding and truncation agree: says nothing about the rule
    return _EVIDENCE.get(rounding) or (
        "truncation only" if "truncated" in found else "double rounding only"
    )


def rounding_evidence(verdicts: pd.DataFrame) -> pd.DataFrame:
    """The verdict rows (p-values left out) whose printed figure tells rounding rules apart,
    with an ``evidence`` column saying which rule it points to."""
    judged = verdicts[(verdicts["kind"] != "p_value") & (verdicts["rules"] != "")]
    evidence = judged["rules"].map(_evidence)
    columns = ["id", "location", "description", "printed", "recomputed", "detail"]
    telling = evidence != ""
    return judged.loc[telling, columns].assign(evidence=evidence[telling]).reset_index(drop=True)


#: Fitting numerators are listed one by one up to this many; a longer run (large
#: denominators, where many numerators print alike) is written as ``"lo–hi"``.
LISTED_NUMERATORS_MAX = 3


def _ceil_div(x, y):
    """Ceiling of x / y for integers (Python ints or numpy integer arrays), y > 0."""
    return -(-x // y)


def _rule_bounds(scaled: int, hundred_units: int, d, rule: str):
    """Inclusive bounds ``(lo, hi)`` (lo > hi: none) of the numerators k with ``100 k / d``
    printing as ``scaled / 10**decimals`` under ``rule``; ``d`` an int or int array."""
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


def _fitting_bounds(
    printed_pct: str, denominators: np.ndarray, rules: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Inclusive bounds of the numerators fitting ``printed_pct`` for every denominator (lo > hi:
    none): the rules' intervals all contain the printed value, so their union is one run."""
    shown = printed_percent(printed_pct) or parse_number(printed_pct.strip())
    scaled = shown.value * 10**shown.decimals
    if scaled.denominator != 1:
        raise ValueError(f"{printed_pct!r}: write the percentage with its decimals, as printed")
    a, n, d = int(scaled), 100 * 10**shown.decimals, denominators
    lo, hi = _rule_bounds(a, n, d, "exact")
    lo, hi = np.maximum(lo, 0), np.minimum(hi, d)
    for rule in rules:
        r_lo, r_hi = _rule_bounds(a, n, d, rule)
        r_lo, r_hi = np.maximum(r_lo, 0), np.minimum(r_hi, d)
        has, empty = r_lo <= r_hi, lo > hi
        lo = np.where(has, np.where(empty, r_lo, np.minimum(lo, r_lo)), lo)
        hi = np.where(has, np.where(empty, r_hi, np.maximum(hi, r_hi)), hi)
    return lo, hi


def fitting_numerators(
    printed_pct: str, denominator: int, rules: Sequence[str] = RULES
) -> tuple[int, ...]:
    """Numerators ``k`` in 0..denominator with ``100 k / denominator`` printing as
    ``printed_pct`` (the paper's text, e.g. ``"53.5%"``), in exact integer arithmetic."""
    if denominator <= 0:
        raise ValueError(f"need a positive denominator, got {denominator}")
    (lo,), (hi,) = _fitting_bounds(printed_pct, np.array([denominator], dtype=np.int64), rules)
    return tuple(range(int(lo), int(hi) + 1))


def _numerators_text(lo: int, hi: int) -> str:
    if hi - lo + 1 <= LISTED_NUMERATORS_MAX:
        return "/".join(map(str, range(lo, hi + 1)))
    return f"{lo}–{hi}"


def denominators_fitting(printed: Mapping[str, str], denominators: Iterable[int]) -> pd.DataFrame:
    """For each candidate denominator, the numerators that print as each percentage."""
    d = np.fromiter((int(v) for v in denominators), dtype=np.int64)
    if (d <= 0).any():
        raise ValueError("candidate denominators must be positive")
    columns: dict[str, list[str]] = {}
    fits_all = np.ones(len(d), dtype=bool)
    low_sum = np.zeros(len(d), dtype=np.int64)
    high_sum = np.zeros(len(d), dtype=np.int64)
    for fid, text in printed.items():
        lo, hi = _fitting_bounds(text, d, RULES)
        has = lo <= hi
        fits_all &= has
        low_sum += np.where(has, lo, 0)
        high_sum += np.where(has, hi, 0)
        columns[fid] = [
            _numerators_text(a, b) if ok else ""
            for a, b, ok in zip(lo.tolist(), hi.tolist(), has.tolist())
        ]
    sums = fits_all & (low_sum <= d) & (d <= high_sum)
    return pd.DataFrame(
        {
            "denominator": d.tolist(),
            **columns,
            "fits_all": fits_all.tolist(),
            "sums_to_denominator": sums.tolist(),
        }
    )
