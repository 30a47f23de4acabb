"""Markdown prose built from computed values, so no number in prose goes stale."""

from __future__ import annotations

import math
import re

from helpers import suppression
from helpers.contract import readable
from helpers.provenance import Provenance, data_provenance  # noqa: F401  (the notebooks' names)


def show_markdown(text: str) -> None:
    """Display Markdown as a single ``text/markdown`` output, so a cell ending with this call stores one output
    (``>=50`` shown as ``≥50``)."""
    from IPython.display import display

    text = readable(suppression.scrub(text))  # a share run: small counts hidden, and "<5" explained where shown
    note = suppression.note_for(text)
    display({"text/markdown": f"{text}\n\n*{note}*" if note else text}, raw=True)


#: Output metadata key marking a sentence that stands for a section (or the rest of a notebook)
#: the data cannot fill; the report then shows the heading and that sentence only.
UNAVAILABLE = "unavailable"


def show_unavailable(sentence: str, *, rest_of_notebook: bool = False) -> None:
    """Say in one sentence why this section cannot run and what the data would need, e.g. "No
    follow-up columns: add os_months and os_event to see survival." The report collapses the
    section to its heading and this sentence; with ``rest_of_notebook`` also every later section
    that shows nothing."""
    from IPython.display import display

    display({"text/markdown": suppression.scrub(sentence)}, raw=True,
            metadata={UNAVAILABLE: "notebook" if rest_of_notebook else "section"})


def _missing(value) -> bool:
    """None, NaN or pandas NA."""
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def number(value: float, digits: int = 1) -> str:
    """``"12.5"``, ``"12"`` for 12.0: at most ``digits`` decimals (half up), trailing zeros dropped; ``"NA"`` for NaN."""
    if _missing(value):
        return "NA"
    text = f"{_half_up(float(value), digits):.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _half_up(value: float, digits: int) -> float:
    factor = 10 ** digits
    return math.floor(value * factor + 0.5) / factor


def percent(fraction: float, digits: int = 1) -> str:
    """``"67.6%"`` for 0.6765: a fraction in percent, rounded half up."""
    return f"{_half_up(100 * fraction, digits):.{digits}f}%"


def count(n: int) -> str:
    """A count of patients: ``"12"``; ``"<5"`` when hidden in a share run (:mod:`helpers.suppression`)."""
    return suppression.count_text(n)


def pct(numerator: int, denominator: int, digits: int = 1) -> str:
    """``"67.6%"`` for 23/34; ``"–"`` when the denominator is 0 or the rate is hidden (:func:`suppression.rate_hidden`)."""
    if suppression.rate_hidden(numerator, denominator):  # also "<5" read from results
        return "–"
    return percent(numerator / denominator, digits) if denominator else "–"


def n_of(numerator: int, denominator: int, digits: int = 1) -> str:
    """``"23/34 (67.6%)"``; in a share run ``"<5/34 (–)"``, and ``"not shown/34 (–)"`` for 33/34."""
    return (f"{suppression.rate_count_text(numerator, denominator)}/{count(denominator)} "
            f"({pct(numerator, denominator, digits)})")


def ci_text(low: float, high: float, digits: int = 1, label: str = "95% CI ", *,
            counts: tuple[int, int] | None = None) -> str:
    """``"95% CI 49.5–82.6%"`` from proportions in [0, 1] (``label=""``: ``"49.5–82.6"``); ``"not estimable"``
    for a NaN bound, ``"–"`` when the rate of ``counts`` (numerator, denominator) is hidden."""
    if counts is not None and suppression.rate_hidden(*counts):
        return f"{label}–" if label else "–"
    if _missing(low) or _missing(high):
        return f"{label}not estimable" if label else "–"
    text = f"{percent(low, digits)[:-1]}–{percent(high, digits)[:-1]}"
    return f"{label}{text}%" if label else text


def p_text(p: float, bare: bool = False) -> str:
    """``"p = 0.021"``, ``"p = 0.0023"``, ``"p < 0.001"`` (two significant digits below 0.01), NaN
    ``"p not computed"``; ``bare`` (table cells): ``"0.021"``, ``"< 0.001"``, ``"–"``."""
    if _missing(p):
        return "–" if bare else "p not computed"
    text = "< 0.001" if p < 0.001 else f"= {p:.2g}" if p < 0.01 else f"= {p:.3f}"
    if bare:
        return text.removeprefix("= ")
    return f"p {text}"


def share_word(numerator: int, denominator: int) -> str:
    """A number-free word for a share that stays true on any data: ``"all"``, ``"more than half"``,
    ``"half"``, ``"fewer than half"``, ``"none"``, or ``"none (no patients)"`` for 0/0."""
    numerator, denominator = int(numerator), int(denominator)
    if not 0 <= numerator <= denominator:
        raise ValueError(f"share {numerator}/{denominator} is not a count out of a total")
    if denominator == 0:
        return "none (no patients)"
    if numerator == denominator:
        return "all"
    if numerator == 0:
        return "none"
    if 2 * numerator == denominator:
        return "half"
    return "more than half" if 2 * numerator > denominator else "fewer than half"


# --- prose with computed numbers ------------------------------------------------------

_FORMATS = ("n", "N", "pct", "n_pct", "n_of", "ci", "p", "value", "int", "share")


def format_result(row, fmt: str) -> str:
    """Format one ``results.csv`` row for prose."""
    if fmt == "n":  # shown beside its N in prose: hidden with a small complement too
        return suppression.rate_count_text(int(row["numerator"]), int(row["denominator"]))
    if fmt == "N":
        return count(int(row["denominator"]))
    if fmt == "pct":
        return pct(int(row["numerator"]), int(row["denominator"]))
    if fmt == "n_pct":
        k, n = int(row["numerator"]), int(row["denominator"])
        return f"{suppression.rate_count_text(k, n)} ({pct(k, n)})"
    if fmt == "n_of":
        return n_of(int(row["numerator"]), int(row["denominator"]))
    if fmt == "ci":
        return ci_text(float(row["ci_low"]), float(row["ci_high"]),
                       counts=(row.get("numerator"), row.get("denominator")))
    if fmt == "p":
        return p_text(float(row["p_value"]))
    if fmt == "int":
        return str(int(round(float(row["estimate"]))))
    if fmt == "share":
        return share_word(int(row["numerator"]), int(row["denominator"]))
    if fmt == "value":
        return number(float(row["estimate"]))
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(_FORMATS)}")


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    """A count with its noun in the right number: ``"1 patient"``, ``"2 patients"``."""
    return f"{count(n)} {singular if n == 1 else (plural_form or singular + 's')}"


def fill(template: str, results) -> str:
    """Replace ``[[key:fmt]]`` placeholders with values from result rows."""
    by_key = {row["key"]: row for row in results.to_dict("records")}

    def substitute(match: re.Match) -> str:
        key, fmt = match.group(1).strip(), match.group(2).strip()
        if key not in by_key:
            raise KeyError(f"no result with key {key!r} for the narrative")
        return format_result(by_key[key], fmt)

    return re.sub(r"\[\[(.+?):([A-Za-z_]+)\]\]", substitute, template)


def show_filled(template: str, results) -> None:
    """Display :func:`fill` output as Markdown."""
    show_markdown(fill(template, results))
