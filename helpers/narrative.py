"""Narrative text built from computed values, so no number in prose goes stale.

Functions here return Markdown strings (or IPython Markdown objects via
:func:`show_markdown`); the notebooks never type a number into prose.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SHIPPED_COHORT = REPO_ROOT / "data" / "reconstructed_cohort.csv"
DATASHEET = "data/reconstructed_cohort.datasheet.md"


@dataclass(frozen=True)
class Provenance:
    """Where the analysed data came from.

    Attributes
    ----------
    file : str
        File name (no folders, so stored outputs carry no absolute paths).
    sha256 : str
        SHA-256 of the file's bytes.
    reconstructed : bool
        True when the bytes are those of the shipped reconstructed cohort.
    """

    file: str
    sha256: str
    reconstructed: bool

    @property
    def headline(self) -> str:
        """One sentence for the top of every notebook and report."""
        if self.reconstructed:
            return (f"RECONSTRUCTED DATA — {self.file} is not real patients: a 34-patient cohort "
                    "rebuilt from the paper's published aggregates (see "
                    f"{DATASHEET}). Counts match the paper by construction; p-values, "
                    "intervals and unreported cross-tabulations are properties of the reconstruction.")
        return f"Data: {self.file} (SHA-256 {self.sha256[:12]}…), supplied by the analyst."


def data_provenance(path: str | Path) -> Provenance:
    """Identify a cohort file: its name, hash, and whether it is the shipped reconstruction."""
    from helpers.pipeline import file_sha256

    path = Path(path)
    digest = file_sha256(path)
    shipped = SHIPPED_COHORT.exists() and file_sha256(SHIPPED_COHORT) == digest
    return Provenance(path.name, digest, shipped)


def show_markdown(text: str) -> None:
    """Display Markdown in a notebook as a single ``text/markdown`` output (no object repr)."""
    from IPython.display import display

    display({"text/markdown": text}, raw=True)


def pct(numerator: int, denominator: int, digits: int = 1) -> str:
    """``"67.6%"`` for 23/34; ``"–"`` when the denominator is 0. Rounds half away from zero."""
    if not denominator:
        return "–"
    value = 100 * numerator / denominator
    factor = 10 ** digits
    rounded = math.floor(value * factor + 0.5) / factor
    return f"{rounded:.{digits}f}%"


def n_of(numerator: int, denominator: int, digits: int = 1) -> str:
    """``"23/34 (67.6%)"``."""
    return f"{numerator}/{denominator} ({pct(numerator, denominator, digits)})"


def ci_text(low: float, high: float, digits: int = 1) -> str:
    """``"95% CI 49.5–82.6%"`` from proportions in [0, 1]."""
    if any(map(math.isnan, (low, high))):
        return "95% CI not estimable"
    return f"95% CI {100 * low:.{digits}f}–{100 * high:.{digits}f}%"


def p_text(p: float) -> str:
    """``"p = 0.021"``, ``"p < 0.001"``; three decimals, two significant below 0.01."""
    if math.isnan(p):
        return "p not computed"
    if p < 0.001:
        return "p < 0.001"
    if p < 0.01:
        return f"p = {p:.2g}" if p >= 0.001 else "p < 0.001"
    return f"p = {p:.3f}"


# --- prose with computed numbers ------------------------------------------------------

_FORMATS = ("n", "N", "pct", "n_pct", "n_of", "ci", "p", "value", "int")


def format_result(row, fmt: str) -> str:
    """Format one ``results.csv`` row for prose.

    ``fmt`` is one of ``n`` (numerator), ``N`` (denominator), ``pct`` (estimate
    as a percentage, one decimal), ``n_pct`` ("21 (61.8%)"), ``n_of``
    ("23/34 (67.6%)"), ``ci`` ("95% CI 49.5–82.6%"), ``p`` ("p = 0.021"),
    ``value`` (the estimate, whole numbers without decimals) or ``int``.
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
    if fmt == "value":
        value = float(row["estimate"])
        return f"{value:.0f}" if value == int(value) else f"{value:.1f}"
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(_FORMATS)}")


def fill(template: str, results) -> str:
    """Replace ``[[key:fmt]]`` placeholders with values from result rows.

    Parameters
    ----------
    template : str
        Prose with placeholders such as ``[[any_cr[all]:n_of]]``; keys follow the
        grammar of :mod:`helpers.results`; see :func:`format_result` for ``fmt``.
    results : DataFrame
        Rows with at least ``key`` and the fields the formats need.

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
    """Display :func:`fill` output as Markdown."""
    show_markdown(fill(template, results))
