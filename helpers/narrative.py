"""Narrative text built from computed values, so no number in prose goes stale.

Functions here return Markdown strings (or IPython Markdown objects via
:func:`show_markdown`); the notebooks never type a number into prose.
"""

from __future__ import annotations

import math

from helpers.provenance import Provenance, data_provenance  # noqa: F401  (the notebooks' names)


def show_markdown(text: str) -> None:
    """Display Markdown in a notebook as a single ``text/markdown`` output (no object repr).

    Parameters
    ----------
    text : str
        Markdown source.

    Returns
    -------
    None
        The text is displayed, not returned, so a cell ending with this call
        stores exactly one output.
    """
    from IPython.display import display

    display({"text/markdown": text}, raw=True)


def pct(numerator: int, denominator: int, digits: int = 1) -> str:
    """``"67.6%"`` for 23/34; ``"–"`` when the denominator is 0. Rounds half away from zero.

    Parameters
    ----------
    numerator, denominator : int
        Counts (patients).
    digits : int, default 1
        Decimals of the percentage.

    Returns
    -------
    str
        The percentage with a ``%`` sign, or ``"–"`` for a zero denominator.
    """
    if not denominator:
        return "–"
    value = 100 * numerator / denominator
    factor = 10 ** digits
    rounded = math.floor(value * factor + 0.5) / factor
    return f"{rounded:.{digits}f}%"


def n_of(numerator: int, denominator: int, digits: int = 1) -> str:
    """``"23/34 (67.6%)"``.

    Parameters
    ----------
    numerator, denominator : int
        Counts (patients).
    digits : int, default 1
        Decimals of the percentage (see :func:`pct`).

    Returns
    -------
    str
        ``"n/N (p%)"``; the percentage is ``"–"`` when ``denominator`` is 0.
    """
    return f"{numerator}/{denominator} ({pct(numerator, denominator, digits)})"


def ci_text(low: float, high: float, digits: int = 1) -> str:
    """``"95% CI 49.5–82.6%"`` from proportions in [0, 1].

    Parameters
    ----------
    low, high : float
        Interval bounds as proportions in [0, 1]; NaN when not estimable.
    digits : int, default 1
        Decimals of the percentages.

    Returns
    -------
    str
        The interval in percent, or ``"95% CI not estimable"`` if either bound is NaN.
    """
    if any(map(math.isnan, (low, high))):
        return "95% CI not estimable"
    return f"95% CI {100 * low:.{digits}f}–{100 * high:.{digits}f}%"


def p_text(p: float) -> str:
    """``"p = 0.021"``, ``"p < 0.001"``; three decimals, two significant below 0.01.

    Parameters
    ----------
    p : float
        A p-value in [0, 1]; NaN when no test was computed.

    Returns
    -------
    str
        ``"p = ..."``, ``"p < 0.001"`` or ``"p not computed"`` for NaN.
    """
    if math.isnan(p):
        return "p not computed"
    if p < 0.001:
        return "p < 0.001"
    if p < 0.01:
        return f"p = {p:.2g}" if p >= 0.001 else "p < 0.001"
    return f"p = {p:.3f}"


def share_word(numerator: int, denominator: int) -> str:
    """A number-free word for a share that stays literally true on any data.

    Parameters
    ----------
    numerator, denominator : int
        Counts (patients), ``0 <= numerator <= denominator``.

    Returns
    -------
    str
        ``"all"`` (n = N > 0), ``"more than half"``, ``"half"`` (2n = N),
        ``"fewer than half"``, ``"none"`` (n = 0 < N), or ``"none (no patients)"``
        when the denominator is 0. Written to be followed by "of the patients".
    """
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


def most_frequent(counts, *, label: str = "level") -> str:
    """The most frequent level of a count table, with its count, as prose.

    Parameters
    ----------
    counts : DataFrame
        Count rows of one variable (e.g. from :func:`helpers.tables.count_rows`)
        with ``numerator``, ``denominator`` and a display column ``label``.
    label : str, default "level"
        Column holding the level names to print.

    Returns
    -------
    str
        ``"Low-intensity chemotherapy ± steroids, 14/20 (70.0%)"``; tied levels
        are all named, joined by "and", in table order (``"A and B, each 3/20
        (15.0%)"``); ``"none (no patients)"`` when the table is empty or every
        count is 0.
    """
    if not len(counts) or int(counts["numerator"].max()) == 0:
        return "none (no patients)"
    top = counts[counts["numerator"] == counts["numerator"].max()]
    names = [str(v) for v in top[label]]
    share = n_of(int(top["numerator"].iloc[0]), int(top["denominator"].iloc[0]))
    if len(names) == 1:
        return f"{names[0]}, {share}"
    return f"{', '.join(names[:-1])} and {names[-1]}, each {share}"


# --- prose with computed numbers ------------------------------------------------------

_FORMATS = ("n", "N", "pct", "n_pct", "n_of", "ci", "p", "value", "int", "share")


def format_result(row, fmt: str) -> str:
    """Format one ``results.csv`` row for prose.

    Parameters
    ----------
    row : mapping
        One result row (``key``, ``numerator``, ``denominator``, ``estimate``,
        ``ci_low``, ``ci_high``, ``p_value`` as the format needs).
    fmt : str
        One of ``n`` (numerator), ``N`` (denominator), ``pct`` (numerator over
        denominator as a percentage, one decimal), ``n_pct`` ("21 (61.8%)"),
        ``n_of`` ("23/34 (67.6%)"), ``ci`` ("95% CI 49.5–82.6%"), ``p``
        ("p = 0.021"), ``value`` (the estimate, whole numbers without decimals),
        ``int`` (the estimate rounded) or ``share`` (a number-free word from
        :func:`share_word`: "all", "more than half", "half", "fewer than half",
        "none").

    Returns
    -------
    str
        The formatted value. Missing intervals and p-values are worded as not
        estimable/computed (see :func:`ci_text`, :func:`p_text`).

    Raises
    ------
    ValueError
        For an unknown ``fmt``.
    """
    if fmt == "n":
        return str(int(row["numerator"]))
    if fmt == "N":
        return str(int(row["denominator"]))
    if fmt == "pct":
        return pct(int(row["numerator"]), int(row["denominator"]))
    if fmt == "n_pct":
        return f"{int(row['numerator'])} ({pct(int(row['numerator']), int(row['denominator']))})"
    if fmt == "n_of":
        return n_of(int(row["numerator"]), int(row["denominator"]))
    if fmt == "ci":
        return ci_text(float(row["ci_low"]), float(row["ci_high"]))
    if fmt == "p":
        return p_text(float(row["p_value"]))
    if fmt == "int":
        return str(int(round(float(row["estimate"]))))
    if fmt == "share":
        return share_word(int(row["numerator"]), int(row["denominator"]))
    if fmt == "value":
        value = float(row["estimate"])
        return f"{value:.0f}" if value == int(value) else f"{value:.1f}"
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(_FORMATS)}")


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    """A count with its noun in the right number: ``"1 patient"``, ``"2 patients"``.

    Parameters
    ----------
    n : int
        The count.
    singular : str
        The noun for one.
    plural_form : str, optional
        The noun for any other count; default ``singular + "s"``.

    Returns
    -------
    str
    """
    return f"{n} {singular if n == 1 else (plural_form or singular + 's')}"


def result_of(results, key: str) -> dict:
    """The first result row with ``key``, as a dict, for prose built from results.

    Parameters
    ----------
    results : DataFrame
        Result rows (``results.csv`` schema, at least ``key``).
    key : str
        The key looked up.

    Returns
    -------
    dict

    Raises
    ------
    KeyError
        Naming the key, when no row has it.
    """
    hit = results[results["key"] == key]
    if not len(hit):
        raise KeyError(f"no result with key {key!r} for the narrative")
    return hit.iloc[0].to_dict()


def fill(template: str, results) -> str:
    """Replace ``[[key:fmt]]`` placeholders with values from result rows.

    Parameters
    ----------
    template : str
        Prose with placeholders such as ``[[any_cr[all]:n_of]]``; keys follow the
        grammar of :mod:`helpers.results`; see :func:`format_result` for ``fmt``.
    results : DataFrame
        Rows with at least ``key`` and the fields the formats need.

    Returns
    -------
    str
        The template with every placeholder replaced; text outside placeholders
        is kept as is.

    Raises
    ------
    KeyError
        Naming any placeholder key that is not among the results.
    """
    import re

    by_key = {row["key"]: row for row in results.to_dict("records")}

    def substitute(match: re.Match) -> str:
        key, fmt = match.group(1).strip(), match.group(2).strip()
        if key not in by_key:
            raise KeyError(f"no result with key {key!r} for the narrative")
        return format_result(by_key[key], fmt)

    return re.sub(r"\[\[(.+?):([A-Za-z_]+)\]\]", substitute, template)


def show_filled(template: str, results) -> None:
    """Display :func:`fill` output as Markdown.

    Parameters
    ----------
    template : str
        Prose with ``[[key:fmt]]`` placeholders (see :func:`fill`).
    results : DataFrame
        Result rows the placeholders refer to.

    Returns
    -------
    None
        The filled text is displayed as one ``text/markdown`` output.
    """
    show_markdown(fill(template, results))
