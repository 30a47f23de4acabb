"""Markdown prose built from computed values, so no number in prose goes stale; what a page may say about the
paper, by case (:func:`pick`: one Markdown template per case, held by the notebooks)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from helpers import suppression
from helpers.contract import readable
from helpers.provenance import DATASHEET, Provenance, data_provenance  # noqa: F401  (data_provenance: the notebooks' name)
from helpers.suppression import NONE, Policy


def show_markdown(text: str, *, policy: Policy = NONE) -> None:
    """Display Markdown as a single ``text/markdown`` output, so a cell ending with this call stores one output
    (``>=50`` shown as ``≥50``); in a share run with the note on hidden and rounded counts."""
    from IPython.display import display

    # a share run: small counts hidden, and "<5" explained where shown
    text = readable(policy.scrub(text))
    note = policy.note_for(text)
    display({"text/markdown": f"{text}\n\n*{note}*" if note else text}, raw=True)


#: Output metadata key marking a sentence that stands for a section (or the rest of a notebook)
#: the data cannot fill; the report then shows the heading and that sentence only.
UNAVAILABLE = "unavailable"


def show_unavailable(
    sentence: str, *, rest_of_notebook: bool = False, policy: Policy = NONE
) -> None:
    """Say in one sentence why this section cannot run and what the data would need, e.g. "No
    follow-up columns: add os_months and os_event to see survival." The report collapses the
    section to its heading and this sentence; with ``rest_of_notebook`` also every later section
    that shows nothing."""
    from IPython.display import display

    display(
        {"text/markdown": policy.scrub(sentence)},
        raw=True,
        metadata={UNAVAILABLE: "notebook" if rest_of_notebook else "section"},
    )


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
    factor = 10**digits
    return math.floor(value * factor + 0.5) / factor


def percent(fraction: float, digits: int = 1) -> str:
    """``"67.6%"`` for 0.6765: a fraction in percent, rounded half up."""
    return f"{_half_up(100 * fraction, digits):.{digits}f}%"


def count(n: int, *, policy: Policy = NONE) -> str:
    """A count of patients: ``"12"``; ``"<5"`` when hidden in a share run (:mod:`helpers.suppression`)."""
    return policy.count_text(n)


def pct(numerator: int, denominator: int, digits: int = 1, *, policy: Policy = NONE) -> str:
    """``"67.6%"`` for 23/34; ``"–"`` when the denominator is 0 or the rate is hidden
    (:meth:`Policy.rate_hidden`); in a share run of the rounded counts (:meth:`Policy.rate`)."""
    estimate = policy.rate(numerator, denominator)[0]  # also "<5" read from results
    return "–" if math.isnan(estimate) else percent(estimate, digits)


def n_of(numerator: int, denominator: int, digits: int = 1, *, policy: Policy = NONE) -> str:
    """``"23/34 (67.6%)"``; in a share run ``"25/35 (71.4%)"`` (rounded counts) and ``"<5/35 (–)"``."""
    return (
        f"{policy.rate_count_text(numerator, denominator)}/{count(denominator, policy=policy)} "
        f"({pct(numerator, denominator, digits, policy=policy)})"
    )


def ci_text(
    low: float,
    high: float,
    digits: int = 1,
    label: str = "95% CI ",
    *,
    counts: tuple[int, int] | None = None,
    policy: Policy = NONE,
) -> str:
    """``"95% CI 49.5–82.6%"`` from proportions in [0, 1] (``label=""``: ``"49.5–82.6"``); ``"not estimable"``
    for a NaN bound, ``"–"`` when the rate of ``counts`` (numerator, denominator) is hidden; in a share run the
    exact interval of the rounded ``counts`` (:meth:`Policy.rate`)."""
    if counts is not None and policy.active:
        estimate, low, high = policy.rate(*counts, low, high)
        if math.isnan(estimate):
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

_FORMATS = (
    "n N pct n_pct n_of ci p value int share percent points ci_points rate test stored interval "
    "ratio months difference"
).split()


def _count(value):
    """A count from a results row: an int, or the text a share run writes in its place (``"<5"``)."""
    return value if isinstance(value, str) and suppression.hidden_text(value) else int(value)


def format_result(row, fmt: str, *, policy: Policy = NONE) -> str:
    """Format one ``results.csv`` row for prose, counts as ``policy`` shows them (counts a share run
    hid are shown as hidden)."""
    if fmt in ("n", "N", "pct", "n_pct", "n_of", "rate", "stored"):
        k, n = (
            _count(row[c]) if not _missing(row[c]) or isinstance(row[c], str) else row[c]
            for c in ("numerator", "denominator")
        )
    if fmt == "n":  # shown beside its N in prose: hidden with a small complement too
        return policy.rate_count_text(k, n)
    if fmt == "N":
        return count(n, policy=policy)
    if fmt == "stored":  # a count as the results file holds it (not a patient count)
        return str(k)
    if fmt == "pct":
        return pct(k, n, policy=policy)
    if fmt == "n_pct":
        return f"{policy.rate_count_text(k, n)} ({pct(k, n, policy=policy)})"
    if fmt == "n_of":
        return n_of(k, n, policy=policy)
    if fmt == "rate":  # "23/34 (67.6%), 95% CI 49.5–82.6% (Clopper-Pearson exact)"
        method = _ci_method(row)
        ci = ci_text(
            number_or_nan(row["ci_low"]),
            number_or_nan(row["ci_high"]),
            counts=(k, n),
            policy=policy,
        )
        return f"{n_of(k, n, policy=policy)}, {ci}" + (f" ({method})" if method else "")
    if fmt == "ci":
        return ci_text(
            float(row["ci_low"]),
            float(row["ci_high"]),
            counts=(row.get("numerator"), row.get("denominator")),
            policy=policy,
        )
    if fmt == "interval":  # of an estimate that is not a count out of a total
        return ci_text(number_or_nan(row["ci_low"]), number_or_nan(row["ci_high"]))
    if fmt == "p":
        return p_text(float(row["p_value"]))
    # "Fisher's exact test, two-sided, p = 0.022", or the test that stood in for it
    if fmt == "test":
        return f"{_test_name(row)}, two-sided, {p_text(float(row['p_value']))}"
    if fmt == "int":
        return str(int(round(float(row["estimate"]))))
    if fmt == "share":
        return share_word(int(row["numerator"]), int(row["denominator"]))
    if fmt == "value":
        return number(float(row["estimate"]))
    if fmt == "ratio":  # "1.54 (95% CI 1.17–2.03)"
        return (
            f"{float(row['estimate']):.2f} (95% CI {float(row['ci_low']):.2f}–"
            f"{float(row['ci_high']):.2f})"
        )
    if fmt == "months":
        return months_text(*(float(row[c]) for c in ("estimate", "ci_low", "ci_high")))
    if fmt == "percent":  # an estimated proportion without counts (e.g. a weighted rate)
        return "–" if _missing(row["estimate"]) else percent(float(row["estimate"]))
    if fmt == "points":  # a difference of proportions, in signed percentage points
        return "NA" if _missing(row["estimate"]) else f"{100 * float(row['estimate']):+.1f}"
    if fmt == "ci_points":
        low, high = float(row["ci_low"]), float(row["ci_high"])
        return (
            "95% CI not estimable"
            if _missing(low) or _missing(high)
            else f"95% CI {100 * low:+.1f} to {100 * high:+.1f}"
        )
    # "+23.7 percentage points (95% CI +5.9 to +38.2, Newcombe hybrid score)"
    if fmt == "difference":
        method = _ci_method(row)
        interval = (
            ""
            if _missing(row["ci_low"])
            else f" ({format_result(row, 'ci_points')}{', ' + method if method else ''})"
        )
        return f"{format_result(row, 'points')} percentage points{interval}"
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(_FORMATS)}")


def months_text(value: float, low: float, high: float) -> str:
    """``"9.6 months (95% CI 7.1–12.0)"``; NaN (months) reads ``not reached``."""
    low_text, high_text = ("not reached" if math.isnan(x) else f"{x:.1f}" for x in (low, high))
    head = "not reached" if math.isnan(value) else f"{value:.1f} months"
    return f"{head} (95% CI {low_text}–{high_text})"


def number_or_nan(value) -> float:
    """A number from a results row; NaN for a missing or hidden value."""
    return math.nan if _missing(value) else float(value)


def _ci_method(row) -> str:
    """``"Clopper-Pearson exact"`` from a row's method such as ``"count; Clopper-Pearson exact 95% CI"``;
    ``""`` when the row has none."""
    method = row.get("method")
    if not isinstance(method, str):
        return ""
    return re.sub(r"\s*\d+(\.\d+)?% CI.*$", "", method.split("; ")[-1]).strip()


def _test_name(row) -> str:
    """Fisher's exact test, or the test its row's method says stood in for it where it was infeasible."""
    method = row.get("method")
    if isinstance(method, str) and " in place of " in method:
        return (
            method.split(" in place of ")[0]
            + " (asymptotic; Fisher's exact test infeasible at this size)"
        )
    return "Fisher's exact test"


def plural(n: int, singular: str, plural_form: str | None = None, *, policy: Policy = NONE) -> str:
    """A count with its noun in the right number: ``"1 patient"``, ``"2 patients"``."""
    return f"{count(n, policy=policy)} {singular if n == 1 else (plural_form or singular + 's')}"


def fill(
    template: str, results, keys: Mapping[str, object] | None = None, *, policy: Policy = NONE
) -> str:
    """Replace ``[[key:fmt]]`` placeholders with values from result rows, counts as ``policy``
    shows them; a placeholder may name an entry of ``keys`` (name -> result key, e.g. a
    :class:`helpers.results.Key`) instead."""
    by_key = {row["key"]: row for row in results.to_dict("records")}
    names = {name: str(key) for name, key in (keys or {}).items()}

    def substitute(match: re.Match) -> str:
        key, fmt = match.group(1).strip(), match.group(2).strip()
        key = names.get(key, key)
        if key not in by_key:
            raise KeyError(f"no result with key {key!r} for the narrative")
        return format_result(by_key[key], fmt, policy=policy)

    return re.sub(r"\[\[(.+?):([A-Za-z_]+)\]\]", substitute, template)


def show_filled(
    template: str, results, keys: Mapping[str, object] | None = None, *, policy: Policy = NONE
) -> None:
    """Display :func:`fill` output as Markdown (``keys``: placeholder names -> result keys)."""
    show_markdown(fill(template, results, keys, policy=policy), policy=policy)


# --- wording about the paper: the shipped reconstruction at the paper's cut-offs, a cut-off the passage depends
# on set otherwise (any data), or other data at the paper's cut-offs (methods from the data contract) ---------
PAPER, OTHER_CUTOFFS, OTHER_DATA = "paper", "other cut-offs", "other data"
#: A cut-off in words (prose shows values, not parameter names): this run's, then the paper's beside it.
CUTOFF_WORDS: dict[str, tuple[str, str]] = {
    "bmb_high_cutoff": ("high tumour burden at ≥ {:g}% marrow blasts before debulking", "≥ {:g}%"),
    "bmb_low_cutoff": ("the lowest blast group below {:g}%", "below {:g}%"),
    "age_cutoff": ("the age groups split at {:g} years", "{:g} years"),
    "lines_cutoff": ("the previous-lines groups split after {:g} lines", "after {:g}"),
}
#: The data banner at cut-offs other than the paper's, by whether the data are the shipped reconstruction.
OTHER_CUTOFF_BANNERS: dict[bool, str] = {
    True: "RECONSTRUCTED DATA — {file} is not real patients: a 34-patient cohort rebuilt from the paper's published "
    "aggregates (see {datasheet}). OTHER CUT-OFFS — this run sets {changes}: results that depend on it are not "
    "the paper's and their counts need not match it; p-values, intervals and unreported cross-tabulations "
    "are properties of the reconstruction.",
    False: "{headline} OTHER CUT-OFFS — this run sets {changes}: results that depend on it are not defined as in the paper.",
}


@dataclass(frozen=True)
class Setting:
    """The data's provenance and ``(parameter, run value, paper value)`` per cut-off set otherwise."""

    provenance: Provenance
    changed: tuple[tuple[str, float, float], ...] = ()

    def case(self, *parameters: str) -> str:
        """The case of a passage that depends on ``parameters`` (default: every cut-off)."""
        if any(not parameters or name in parameters for name, _, _ in self.changed):
            return OTHER_CUTOFFS
        return PAPER if self.provenance.reconstructed else OTHER_DATA

    def changes(self, *parameters: str) -> str:
        """``"high tumour burden at ≥ 60% ... (the paper: ≥ 50%)"`` per differing cut-off, ``"; "``-joined."""
        return "; ".join(
            f"{CUTOFF_WORDS[n][0].format(run)} (the paper: {CUTOFF_WORDS[n][1].format(paper)})"
            for n, run, paper in self.changed
            if not parameters or n in parameters
        )

    @property
    def banner(self) -> str:
        """The data banner of every page: the provenance headline, or at other cut-offs one naming them."""
        return (
            OTHER_CUTOFF_BANNERS[self.provenance.reconstructed].format(
                file=self.provenance.file,
                datasheet=DATASHEET,
                headline=self.provenance.headline,
                changes=self.changes(),
            )
            if self.changed
            else self.provenance.headline
        )


def run_setting(
    provenance: Provenance, cutoffs: Mapping[str, float], paper: Mapping[str, float]
) -> Setting:
    """The :class:`Setting` of a run with ``cutoffs`` against the ``paper``'s (compared where both give one)."""
    return Setting(
        provenance,
        tuple(
            (n, float(cutoffs[n]), float(paper[n]))
            for n in CUTOFF_WORDS
            if n in cutoffs and n in paper and float(cutoffs[n]) != float(paper[n])
        ),
    )


def pick(templates: Mapping[str, str], setting: Setting, *parameters: str, **values: object) -> str:
    """The template for ``setting.case(*parameters)`` filled with ``values`` (``{changes}``: the differing
    cut-offs in words); ValueError unless there is one template per case."""
    if missing := [case for case in (PAPER, OTHER_CUTOFFS, OTHER_DATA) if case not in templates]:
        raise ValueError(f"no template for the case(s) {', '.join(missing)}")
    return templates[setting.case(*parameters)].format(
        changes=setting.changes(*parameters), **values
    )
