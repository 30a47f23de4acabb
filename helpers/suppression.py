"""Disclosure control of share runs: small counts hidden, every other count rounded.

Policy (:class:`Policy`, ``Policy.for_run(share_safe, min_cell)``):

* a count from 1 to k-1 (``min_cell``, k = 5 by default) is shown as ``"<k"``, its
  percentage, interval, survival curve and table row as ``"–"`` or not at all;
* every other count is rounded to the nearest multiple of :data:`ROUND_TO` (5; of k when k is
  larger): 0 stays 0, 5-7 read 5, 8-12 read 10 (no ties with 5);
* every percentage and exact (Clopper-Pearson) interval of a count out of a total is computed
  from the two rounded counts, so inverting it gives back only rounded counts;
* a survival curve is drawn from rounded cumulative counts on whole months
  (:func:`Policy.km_steps`): each step stands for a multiple of 5 events, never one patient.

Why rounding and not primary plus secondary suppression: a hidden cell is safe only if no
other shown number, in this table, another table, another file, another run of the same
batch or the interval beside it, pins it down. Secondary suppression has to know every such
link (Table 1 against results.csv, a centre's run against the whole-file run) and the links
grow with every table added. Rounding every count independently is robust to differencing
by construction: every sum or difference of shown counts is a multiple of the base (at least
k), so no subtraction within a run or across the runs of a batch lands on a count from 1 to
k-1. It is the approach of OpenSAFELY's output checking
(redact small counts, round the rest to 5, derive percentages from the rounded counts).

Known limits (said in the README too): p-values, hazard and odds ratios, medians and other
model estimates are computed from the true counts and shown; with the rounded margins a
reader may narrow a cell down from an exact test's p-value. Rounding defeats subtraction, not
every bound: each shown count bounds the true one to 5 values, and the bounds of a line and its
total can, rarely, pin a count (7, 7 and 4 shown as 5, 5 and <5 with the total 18 shown as 20:
only 7 + 7 + 4 reaches 18). 0 is shown as 0 (a group with no patient). Numbers a notebook
writes without the formatters are caught only by :func:`scrub`'s patterns.

A notebook makes its policy once, from its parameters
(``policy = Policy.for_run(share_safe, min_cell)``), and hands it to every count formatter
(:mod:`helpers.narrative`, :mod:`helpers.display`, :mod:`helpers.tables`, ... take ``policy``;
:meth:`Policy.bind` binds it to a module's functions once). Results frames go through
:meth:`Policy.apply` before they are shown; the runner applies the same policy to every results
file once the notebooks are done (:func:`suppress_result_files`). Nothing here holds state.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import math
import re
from pathlib import Path

import pandas as pd

#: Every shown count of a share run is a multiple of this.
ROUND_TO = 5
#: Text of a hidden percentage or interval.
DASH = "–"
#: Text of a count hidden to protect another (not produced under rounding; kept for the
#: tables that name it).
SECONDARY = "not shown"
#: Result columns blanked in a share run when the row's count is hidden (a median of a few patients is theirs).
_RATE_COLUMNS = ("estimate", "ci_low", "ci_high", "median", "minimum", "maximum", "summary")
#: Count columns of tidy rows: ``n``/``n_missing`` are those of median (range) rows.
_COUNT_COLUMNS = ("numerator", "denominator", "n", "n_missing")
#: Result units whose counts are not of patients (notebook 06 counts the paper's figures; centres are codes).
NOT_PATIENTS = ("figures", "codes")


def hidden_text(text: str) -> bool:
    """True for the text a share run writes in place of a count (``"<5"``, ``"not shown"``)."""
    return text.startswith("<") or text == SECONDARY


def _number(n: object) -> float:
    """``n`` as a float; NaN for text and missing values."""
    if isinstance(n, bool) or isinstance(n, str):
        return math.nan
    try:
        return float(n)
    except (TypeError, ValueError):
        return math.nan


@dataclasses.dataclass(frozen=True)
class Policy:
    """What a run may show of a count: ``k`` (counts 1..k-1 hidden; 0 or 1: none) and ``base``
    (other counts rounded to a multiple of it; 1: exact). ``Policy()`` shows everything."""

    k: int = 0
    base: int = 1

    @classmethod
    def for_run(cls, share_safe: bool, min_cell: int) -> Policy:
        """The policy of a share run (hide 1..min_cell-1, round to :data:`ROUND_TO` or to ``min_cell`` when
        larger, so that no difference of shown counts falls in 1..min_cell-1) or of an internal one."""
        k = max(int(min_cell), 0)
        return cls(k, max(ROUND_TO, k)) if share_safe else cls()

    @property
    def active(self) -> bool:
        """True when anything is hidden or rounded."""
        return self.k > 1 or self.base > 1

    def hidden(self, n: object) -> bool:
        """True for a count from 1 to k-1, or the ``"<k"`` text that replaced one (never 0 or missing)."""
        if isinstance(n, str):
            return hidden_text(n)
        value = _number(n)
        return not math.isnan(value) and 0 < value < self.k

    def count(self, n: object) -> object:
        """The count as shown: ``"<k"`` when hidden, else rounded to ``base`` (an ``int``);
        text and missing values unchanged."""
        if self.hidden(n):
            return f"<{self.k}"
        value = _number(n)
        if math.isnan(value) or not self.active:
            return n
        return int(math.floor(value / self.base + 0.5)) * self.base

    def text(self, n: object) -> str:
        """:meth:`count` as text: ``"10"``, ``"<5"``."""
        shown = self.count(n)
        return str(int(shown)) if isinstance(shown, float) and shown.is_integer() else str(shown)

    def rate_hidden(self, k: object, n: object) -> bool:
        """True when the rate ``k``/``n`` is not shown: ``k`` or ``n`` hidden."""
        return self.hidden(k) or self.hidden(n)

    def rate(
        self, k: object, n: object, low: float = math.nan, high: float = math.nan
    ) -> tuple[float, float, float]:
        """(estimate, low, high) of ``k``/``n`` as shown: NaN when hidden; from the rounded counts
        (exact Clopper-Pearson 95 %) when the policy rounds; else k/n with the given interval."""
        if self.rate_hidden(k, n):
            return math.nan, math.nan, math.nan
        kk, nn = _number(self.count(k)), _number(self.count(n))
        if math.isnan(kk) or math.isnan(nn) or nn <= 0:
            return math.nan, math.nan, math.nan
        if self.base <= 1:
            return kk / nn, low, high
        from scipy.stats import beta

        kk = min(kk, nn)
        lo = 0.0 if kk == 0 else float(beta.ppf(0.025, kk, nn - kk + 1))
        hi = 1.0 if kk == nn else float(beta.ppf(0.975, kk + 1, nn - kk))
        return kk / nn, lo, hi

    def footnote(self) -> str:
        """The note under anything a share run shows with counts."""
        parts = []
        if self.k > 1:
            parts.append(
                f"<{self.k}: a count from 1 to {self.k - 1}, hidden in this share run (its percentage "
                f"and CI shown as {DASH})."
            )
        if self.base > 1:
            parts.append(
                f"Counts of {max(self.k, 1)} or more are rounded to the nearest multiple of {self.base}, "
                "and percentages and exact CIs are computed from the rounded counts."
            )
        parts.append(
            "p-values and model estimates are computed from all counts, including those not shown."
        )
        return " ".join(parts)

    def event_table(self, durations, causes) -> pd.DataFrame:
        """The counts a share run may draw a curve from: times grouped into whole months (an event or
        censoring at 3.2 months counts at month 4); the group size and, at each month, the cumulative
        count of each cause and of censorings rounded to the nearest multiple of ``base`` (as OpenSAFELY's
        rounded Kaplan-Meier); censorings give way where rounding leaves too few patients for the events
        to come. ``causes``: 0 censored, 1, 2, ... the cause of the event (``True`` = 1).
        Columns ``time`` (months, from 0), ``at_risk``, ``events`` (all causes) and ``events_<c>``
        per cause; empty for a group of fewer than k patients."""
        import numpy as np

        durations = np.asarray(durations, dtype=float)
        causes = np.asarray(causes).astype(int)
        codes = sorted(int(c) for c in set(causes.tolist()) - {0}) or [1]
        columns = ["time", "at_risk", "events", *(f"events_{c}" for c in codes)]
        if self.hidden(len(durations)) or not len(durations):
            return pd.DataFrame(columns=columns)
        months = np.ceil(durations).astype(int)
        grid = np.arange(0, max(int(months.max()), 0) + 1)
        base = max(self.base, 1)

        def rounded_cumulative(code: int):
            return (
                np.floor(
                    np.array([np.sum((causes == code) & (months == m)) for m in grid]).cumsum()
                    / base
                    + 0.5
                )
                * base
            )

        total = int(self.count(len(durations)))
        by_cause = {c: rounded_cumulative(c) for c in codes}
        died = sum(by_cause.values())
        left = np.minimum(rounded_cumulative(0), max(total - died[-1], 0))
        gone = np.concatenate([[0], (died + left)[:-1]])
        out = {
            "time": grid.astype(float),
            "at_risk": np.maximum(total - gone, 0).astype(int),
            "events": np.diff(np.concatenate([[0], died])).astype(int),
        }
        out.update(
            {
                f"events_{c}": np.diff(np.concatenate([[0], v])).astype(int)
                for c, v in by_cause.items()
            }
        )
        return pd.DataFrame(out, columns=columns)

    def km_steps(self, durations, events) -> pd.DataFrame:
        """A Kaplan-Meier curve a share run may draw, from :meth:`event_table`: S(t) the product over
        months of 1 - events / at risk. Columns ``time``, ``at_risk``, ``events``, ``survival``; empty for
        a group of fewer than k patients. Each step is a multiple of ``base`` events, so no step shows
        one patient's event or its time."""
        import numpy as np

        causes = np.asarray(events).astype(bool).astype(int)
        return self.cif_steps(durations, causes)[["time", "at_risk", "events", "survival"]]

    def cif_steps(self, durations, causes) -> pd.DataFrame:
        """Cumulative incidence of each cause (Aalen-Johansen) a share run may draw, from :meth:`event_table`:
        ``cif_<c>`` the sum over months of S(t-) x events of c / at risk. Columns of :meth:`event_table` and
        ``survival``, ``cif_<c>``; empty for a group of fewer than k patients."""
        import numpy as np

        table = self.event_table(durations, causes)
        risk = table["at_risk"].to_numpy(dtype=float)
        safe = np.where(risk > 0, risk, 1)
        step = np.where(
            risk > 0, 1 - np.minimum(table["events"].to_numpy(dtype=float), risk) / safe, 1.0
        )
        survival = np.cumprod(step) if len(table) else np.array([])
        before = np.concatenate([[1.0], survival[:-1]]) if len(table) else survival
        out = table.assign(survival=survival)
        for col in [c for c in table.columns if c.startswith("events_")]:
            share = np.where(risk > 0, table[col].to_numpy(dtype=float) / safe, 0.0)
            out[f"cif_{col.removeprefix('events_')}"] = (
                np.cumsum(before * share) if len(table) else []
            )
        return out

    def count_text(self, n: object) -> str:
        """``"10"`` (rounded in a share run), ``"<5"`` for a hidden count; text as it is."""
        return n if isinstance(n, str) else self.text(n)

    def rate_count_text(self, k: object, n: object) -> str:
        """The numerator of a rate as shown (:meth:`count_text`)."""
        return self.count_text(k)

    def note_for(self, text: str) -> str:
        """:meth:`footnote` when the policy is active and ``text`` shows a count, else ``""``."""
        if not self.active:
            return ""
        text = str(text)
        shows = (self.k > 1 and re.search(rf"(?<![\w<])<{self.k}(?!\d)", text)) or re.search(
            r"\d+/\d+|\(\d+(?:\.\d+)?%\)", text
        )
        return self.footnote() if shows else ""

    def notes_for(self, shown: object) -> list[str]:
        """``[footnote]`` when a frame or text shows counts in a share run, else ``[]``."""
        text = shown.to_csv(index=False) if isinstance(shown, pd.DataFrame) else str(shown)
        note = self.note_for(text)
        return [note] if note else []

    def with_note(self, footnote_text: str, shown: object) -> str:
        """``footnote_text`` followed by :meth:`note_for` of what is shown (a frame, text)."""
        note = "".join(self.notes_for(shown))
        if note and note not in footnote_text:
            return f"{footnote_text} {note}".strip()
        return footnote_text

    def table_mask(self, table: pd.DataFrame) -> pd.DataFrame:
        """Which cells of an r x c table of counts to hide: counts 1..k-1."""
        return table.astype(float).map(self.hidden)

    def hide_small(self, counts):
        """A Series or frame of counts as shown: ``"<k"`` where hidden, the others rounded; the
        input itself under a policy that shows everything."""
        return counts.map(self.count).astype(object) if self.active else counts

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Result-style rows as this policy shows them (:func:`tidy`)."""
        return tidy(frame, self)

    def scrub(self, text: object) -> object:
        """Text already written with counts as this policy shows it (:func:`scrub`)."""
        return scrub(text, self)

    def bind(self, *modules):
        """Each module as a view whose functions with a ``policy`` parameter show counts under
        this policy (a notebook's formatters, bound once in its setup cell)."""
        views = tuple(_Bound(m, self) for m in modules)
        return views[0] if len(views) == 1 else views


class _Bound:
    """A module whose functions taking ``policy`` get this one (see :meth:`Policy.bind`)."""

    def __init__(self, module, policy: Policy):
        self._module, self.policy = module, policy

    def __getattr__(self, name: str):
        value = getattr(self._module, name)
        if callable(value) and not isinstance(value, type) and _takes_policy(value):
            return functools.partial(value, policy=self.policy)
        return value

    def __repr__(self) -> str:
        return f"<{self._module.__name__} under {self.policy}>"


def _takes_policy(function) -> bool:
    try:
        return "policy" in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False


#: Shows everything (an internal run).
NONE = Policy()


def _is_rate(frame: pd.DataFrame) -> pd.Series:
    """Rows that are a count out of a total: an estimate equal to numerator/denominator, or no
    estimate column but an interval."""
    k = pd.to_numeric(frame["numerator"], errors="coerce")
    n = pd.to_numeric(frame["denominator"], errors="coerce")
    if "estimate" in frame.columns:
        est = pd.to_numeric(frame["estimate"], errors="coerce")
        return (n > 0) & ((est - k / n).abs() < 1e-9)
    return (n > 0) & k.notna() if "ci_low" in frame.columns else pd.Series(False, index=frame.index)


def tidy(frame: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """Result-style rows as a share run shows them: counts (``numerator``, ``denominator``, ``n``,
    ``n_missing``) hidden or rounded; a count out of a total with its estimate and interval recomputed
    from the rounded counts (blank when hidden); a row whose count is hidden has its rate, CI or median
    blank; a count repeated as the estimate (patients at risk) rounded with it; text cells through
    :func:`scrub`. The frame itself when the policy shows everything."""
    cols = [c for c in _COUNT_COLUMNS if c in frame.columns]
    if not policy.active or not cols:
        return frame
    if "unit" in frame.columns and frame["unit"].isin(NOT_PATIENTS).any():
        keep = frame["unit"].isin(NOT_PATIENTS)
        shown = tidy(frame[~keep], policy).astype(object)
        out = pd.concat([shown, frame[keep].astype(object)]).loc[frame.index].infer_objects()
        # whole numbers stay whole beside text
        for col in (c for c in _COUNT_COLUMNS if c in out.columns):
            out[col] = [int(v) if isinstance(v, float) and v.is_integer() else v for v in out[col]]
        return out
    out = frame.copy()
    hit = frame[cols].apply(lambda col: col.map(policy.hidden))
    rows = hit.drop(columns="n_missing", errors="ignore").any(axis=1)
    if {"numerator", "denominator"} <= set(cols):
        rate_rows = _is_rate(frame) & ~rows
        for i in frame.index[rate_rows]:
            low = frame.at[i, "ci_low"] if "ci_low" in frame.columns else math.nan
            high = frame.at[i, "ci_high"] if "ci_high" in frame.columns else math.nan
            est, lo, hi = policy.rate(
                frame.at[i, "numerator"], frame.at[i, "denominator"], low, high
            )
            for col, value in (("estimate", est), ("ci_low", lo), ("ci_high", hi)):
                if col in out.columns:
                    out[col] = out[col].astype(object)
                    out.at[i, col] = value
        if "estimate" in frame.columns:  # a count shown as its own estimate (patients at risk)
            same = (
                (
                    pd.to_numeric(frame["estimate"], errors="coerce")
                    == pd.to_numeric(frame["numerator"], errors="coerce")
                )
                & ~rate_rows
                & ~rows
            )
            out["estimate"] = out["estimate"].astype(object)
            out.loc[same, "estimate"] = [policy.count(v) for v in frame.loc[same, "numerator"]]
    for col in cols:
        out[col] = [policy.count(v) for v in frame[col]]
    for col in (c for c in _RATE_COLUMNS if c in out.columns):
        out[col] = out[col].astype(object).where(~rows, math.nan)
    for col in out.columns:
        if (out[col].dtype == object or pd.api.types.is_string_dtype(out[col])) and col not in cols:
            out[col] = out[col].map(lambda v: scrub(v, policy) if isinstance(v, str) else v)
    return out


def suppress_result_files(run_dir: str | Path, policy: Policy | int) -> list[Path]:
    """Rewrite every ``results.csv`` and ``results/*.csv`` under ``run_dir`` as ``policy`` shows them
    (an ``int`` is the ``min_cell`` of a share run)."""
    if not isinstance(policy, Policy):
        policy = Policy.for_run(True, policy)
    changed = []
    for path in sorted(Path(run_dir).rglob("*.csv")):
        if path.name != "results.csv" and path.parent.name != "results":
            continue
        frame = pd.read_csv(
            path,
            dtype={"key": str, "label": str, "method": str},
            keep_default_na=False,
            na_values=[""],
        )
        shown = tidy(frame, policy)
        if shown is not frame:
            shown.to_csv(path, index=False, lineterminator="\n", float_format="%.10g")
            changed.append(path)
    return changed


def share_failure_text(message: str) -> str:
    """One line saying a share batch's run failed, and in which notebook, without the error itself: it may
    quote a patient's identifier or value, or a path on the analyst's machine."""
    found = re.search(r"\bnotebook (\d\d_\w+\.ipynb)\b", str(message))
    where = (
        f"notebook {found.group(1)} failed"
        if found
        else "the run failed (its data, parameters or a notebook)"
    )
    return (
        f"{where}; a share batch does not show the error, which may name patients, values or paths: "
        "run this file without --share to read it"
    )


_FRACTION = re.compile(
    r"(?<![\w.<])(\d+)/(\d+)(?![\d.])( = \d+(?:\.\d+)?%| \(\d+(?:\.\d+)?%\))?"
    r"(,? \(?95% CI [\d.]+–[\d.]+%\)?)?"
)
_N_PCT = re.compile(r"(?<![\w.<–/])(\d+) \(\d+(?:\.\d+)?%\)")
_N_IS = re.compile(r"\b(n ?= ?)(\d+)\b(?!\.\d|/)")
_N_OF = re.compile(r"\b(\d+)( of (?:the |all )?)(\d+)( patients\b)")


def _pct_text(fraction: float) -> str:
    return f"{math.floor(1000 * fraction + 0.5) / 10:.1f}%"


def scrub(text: object, policy: Policy) -> object:
    """Text already written with counts (``"3/30 = 10.0% (95% CI ...)"``, ``"12 (30.0%)"``, ``"n = 3"``,
    ``"39 of 40 patients"``) as ``policy`` shows it: a safety net for text built outside the
    count formatters. A percentage without its total is shown as "–"."""
    if not policy.active or not isinstance(text, str):
        return text

    def fraction(m: re.Match) -> str:
        k, n = int(m.group(1)), int(m.group(2))
        if k > n or (
            policy.count(k) == k and policy.count(n) == n and not policy.rate_hidden(k, n)
        ):
            return m.group(0)  # not a count of a total, or already as shown
        est, lo, hi = policy.rate(k, n)
        pct = "" if not m.group(3) else f" ({DASH})" if math.isnan(est) else f" ({_pct_text(est)})"
        ci = (
            ""
            if not m.group(4)
            else (
                f", 95% CI {DASH}"
                if math.isnan(est)
                else f", 95% CI {_pct_text(lo)[:-1]}–{_pct_text(hi)}"
            )
        )
        return f"{policy.text(k)}/{policy.text(n)}{pct}{ci}"

    def n_pct(m: re.Match) -> str:
        n = int(m.group(1))
        return m.group(0) if policy.count(n) == n else f"{policy.text(n)} ({DASH})"

    text = _FRACTION.sub(fraction, text)
    text = _N_PCT.sub(n_pct, text)
    text = _N_OF.sub(
        lambda m: (
            f"{policy.text(int(m.group(1)))}{m.group(2)}{policy.text(int(m.group(3)))}{m.group(4)}"
        ),
        text,
    )
    return _N_IS.sub(lambda m: m.group(1) + policy.text(int(m.group(2))), text)
