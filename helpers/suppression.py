"""Small-cell suppression of share runs: a count from 1 to k-1 is shown as ``"<k"``, its
percentage and interval as ``"–"``; 0, p-values and model estimates are always shown.

One kernel-wide setting (:func:`hide_counts_below`, default 0: nothing hidden) that the count
formatters read. Secondary: where a line's shown total would give back its one hidden count,
the next smallest non-zero count is hidden too; a rate k/n is the line (k, n - k).
"""

from __future__ import annotations

import dataclasses
import math
import re
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

_threshold = {"k": 0}
#: Text of a hidden percentage or interval.
DASH = "–"
#: Text of a count of k or more hidden because a shown total would give a hidden count back.
SECONDARY = "not shown"
#: Result columns blanked in a share run when the row's count is hidden (a median of a few patients is theirs).
_RATE_COLUMNS = ("estimate", "ci_low", "ci_high", "median", "minimum", "maximum", "summary")
#: Count columns of tidy rows: ``n``/``n_missing`` are those of median (range) rows.
_COUNT_COLUMNS = ("numerator", "denominator", "n", "n_missing")


def hide_counts_below(k: int) -> None:
    """Hide counts from 1 to ``k - 1`` in everything formatted from now on; 0 or 1 hides nothing."""
    _threshold["k"] = max(int(k), 0)


def threshold() -> int:
    """The current k (0: nothing hidden)."""
    return _threshold["k"]


@contextmanager
def counts_hidden_below(k: int):
    """:func:`hide_counts_below` for the duration of a ``with`` block."""
    before = threshold()
    hide_counts_below(k)
    try:
        yield
    finally:
        hide_counts_below(before)


def hidden(n: object) -> bool:
    """True when ``n`` is a count from 1 to k-1, or the ``"<k"`` text that replaced one (never 0 or missing)."""
    if isinstance(n, str):  # "<5" or "not shown" where a count was hidden before
        return n.startswith("<") or n == SECONDARY
    try:
        value = float(n)
    except (TypeError, ValueError):
        return False
    return not math.isnan(value) and 0 < value < threshold()


def count_text(n: object) -> str:
    """``"12"``, ``"<5"`` for a hidden count; anything else as ``str`` writes it."""
    return n if isinstance(n, str) else f"<{threshold()}" if hidden(n) else str(n)


def rate_hidden(k: object, n: object) -> bool:
    """True when the rate ``k``/``n`` must not be shown: ``k``, ``n`` or ``n - k`` (33/34 gives the one
    patient back) from 1 to k-1. Missing values: False."""
    if hidden(k) or hidden(n):
        return True
    try:
        return hidden(float(n) - float(k))
    except (TypeError, ValueError):
        return False


def rate_count_text(k: object, n: object) -> str:
    """The numerator of a rate as shown: :func:`count_text`, or :data:`SECONDARY` when the rate is hidden only
    for its complement or its total (0 is always shown)."""
    shown = hidden(k) or not rate_hidden(k, n) or (not isinstance(k, str) and k == 0)
    return count_text(k) if shown else SECONDARY


def footnote() -> str:
    """The note under anything that shows ``"<k"``."""
    k = threshold()
    return (f"<{k}: a count from 1 to {k - 1}, hidden in this share run (its percentage and CI shown as "
            f"{DASH}); {SECONDARY}: a larger count hidden too (with its percentage and CI), because a shown "
            f"total would give a small one back (as the numerator of a rate when 1 to {k - 1} of its total are "
            "not in it). p-values and model estimates are computed from all counts, including those not shown.")


def note_for(text: str) -> str:
    """:func:`footnote` when ``text`` shows a hidden count (``"<k"`` or :data:`SECONDARY`), else ``""``."""
    k = threshold()
    return footnote() if k > 1 and (re.search(rf"(?<![\w<])<{k}(?!\d)", str(text)) or SECONDARY in str(text)) else ""


def with_note(footnote_text: str, shown: object) -> str:
    """``footnote_text`` followed by :func:`note_for` of what is shown (a frame, text)."""
    note = "".join(notes_for(shown))
    return f"{footnote_text} {note}".strip() if note and note not in footnote_text else footnote_text


def notes_for(shown: object) -> list[str]:
    """``[footnote()]`` when a frame or text shows a hidden count, else ``[]`` (for lists of notes)."""
    note = note_for(shown.to_csv(index=False) if isinstance(shown, pd.DataFrame) else str(shown))
    return [note] if note else []


def line_mask(counts, total_shown: bool = True) -> list[bool]:
    """Which counts of one line (a frequency table, a row or column) to hide: counts 1..k-1, and
    when the total is shown and exactly one is hidden, the next smallest non-zero count too."""
    values = [float(c) if pd.notna(c) else math.nan for c in counts]
    mask = [hidden(v) for v in values]
    if total_shown and sum(mask) == 1:
        others = [(v, i) for i, v in enumerate(values) if not mask[i] and v > 0]
        if others:
            mask[min(others)[1]] = True
    return mask


def table_mask(table: pd.DataFrame, margins: bool = True) -> pd.DataFrame:
    """Which cells of an r x c table of counts to hide; with ``margins``, every row and column is a line.

    Lines are revisited until no line has exactly one hidden cell left to protect.
    """
    values = table.astype(float)
    mask = values.map(hidden)
    changed = margins
    while changed:
        changed = False
        for transpose in (False, True):  # rows, then columns
            cells, lines = (values.T, mask.T) if transpose else (values, mask)
            for line in lines.index:
                others = cells.loc[line][~lines.loc[line] & (cells.loc[line] > 0)]
                if lines.loc[line].sum() == 1 and len(others):
                    lines.loc[line, others.idxmin()] = True
                    changed = True
            mask = lines.T if transpose else lines
    return mask


def hide_small(counts, margins: bool = True):
    """A Series (one line) or frame (rows and columns are lines when ``margins``) of counts with
    hidden cells as ``"<k"`` or :data:`SECONDARY`; the input itself when nothing is hidden."""
    if threshold() <= 1:
        return counts
    if isinstance(counts, pd.Series):
        mask = pd.Series(line_mask(counts, margins), index=counts.index)
    else:
        mask = table_mask(counts, margins)
    if not mask.to_numpy().any():
        return counts
    small = counts.astype(float).map(hidden)  # a subset of mask: the rest is hidden to protect them
    return counts.astype(object).where(~mask, SECONDARY).where(~small, f"<{threshold()}")


def tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Result-style rows with a hidden count (``numerator``, ``denominator``, ``n``) as ``"<k"``
    (a numerator with a hidden complement as :data:`SECONDARY`), their rate, CI or median blank;
    the frame itself when nothing is hidden."""
    cols = [c for c in _COUNT_COLUMNS if c in frame.columns]
    if threshold() <= 1 or not cols:
        return frame
    hit = frame[cols].apply(lambda col: col.map(hidden))
    rows = hit.drop(columns="n_missing", errors="ignore").any(axis=1)
    # a rate whose complement (denominator - numerator) is small hides its numerator as "not shown"
    complement = (pd.Series([rate_hidden(k, n) for k, n in zip(frame["numerator"], frame["denominator"])],
                            index=frame.index) & ~rows
                  if {"numerator", "denominator"} <= set(cols) else pd.Series(False, index=frame.index))
    rows = rows | complement
    if not rows.any() and not hit.to_numpy().any():  # a lone small n_missing is hidden too
        return frame
    out = frame.copy()
    k = f"<{threshold()}"
    for col in cols:  # whole numbers stay whole beside the "<k" text
        out[col] = [k if h else int(v) if isinstance(v, float) and v.is_integer() else v
                     for v, h in zip(out[col], hit[col])]
    if complement.any():
        out["numerator"] = out["numerator"].astype(object).where(~complement, SECONDARY)
    for col in (c for c in _RATE_COLUMNS if c in out.columns):
        out[col] = out[col].astype(object).where(~rows, math.nan)
    return out


def suppress_result_files(run_dir: str | Path, k: int) -> list[Path]:
    """Rewrite every ``results.csv`` and ``results/*.csv`` under ``run_dir`` with counts 1..k-1 hidden."""
    changed = []
    with counts_hidden_below(k):
        for path in sorted(Path(run_dir).rglob("*.csv")):
            if path.name != "results.csv" and path.parent.name != "results":
                continue
            frame = pd.read_csv(path, dtype={"key": str, "label": str, "method": str},
                                keep_default_na=False, na_values=[""])
            shown = tidy(frame)
            if shown is not frame:
                shown.to_csv(path, index=False, lineterminator="\n", float_format="%.10g")
                changed.append(path)
    return changed


def printable(result: object) -> object:
    """A statistics result (dataclass) for ``print``: unchanged when nothing is hidden, else a repr-like
    text with hidden counts as ``"<k"`` and their estimate and CI as ``"–"`` (p-values stay)."""
    if threshold() <= 1 or not dataclasses.is_dataclass(result):
        return result
    fields = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    counts = [fields.get("numerator"), fields.get("denominator")]
    table = fields.get("table")
    if table is not None:
        shown = hide_small(pd.DataFrame([list(row) for row in table]))
        fields["table"] = tuple(tuple(row) for row in shown.itertuples(index=False))
    if not rate_hidden(*counts) and fields.get("table") == table:
        return result
    if rate_hidden(*counts):
        fields.update({name: DASH for name in _RATE_COLUMNS if name in fields})
        fields.update({"numerator": rate_count_text(*counts), "denominator": count_text(counts[1])})
    return f"{type(result).__name__}(" + ", ".join(f"{k}={v!r}" if not isinstance(v, str) or k in
                                                   ("method", "short", "name", "statistic_name")
                                                   else f"{k}={v}" for k, v in fields.items()) + ")"


_FRACTION = re.compile(r"(?<![\w.<])(\d+)/(\d+)(?![\d.])( = \d+(?:\.\d+)?%| \(\d+(?:\.\d+)?%\))?"
                       r"(,? \(?95% CI [\d.]+–[\d.]+%\)?)?")
_N_PCT = re.compile(r"(?<![\w.<–/])(\d+) \(\d+(?:\.\d+)?%\)")
_N_IS = re.compile(r"\b(n ?= ?)(\d+)\b(?!\.\d|/)")


def scrub(text: object) -> object:
    """Text already written with counts (``"3/30 = 10.0% (95% CI ...)"``, ``"2 (9.1%)"``, ``"n = 3"``)
    with small ones hidden: a safety net for text built outside the count formatters."""
    if threshold() <= 1 or not isinstance(text, str):
        return text

    def fraction(m: re.Match) -> str:
        k, n = int(m.group(1)), int(m.group(2))
        if not rate_hidden(k, n):
            return m.group(0)
        return f"{rate_count_text(k, n)}/{count_text(n)}" + (f" ({DASH})" if m.group(3) else "")

    text = _FRACTION.sub(fraction, text)
    text = _N_PCT.sub(lambda m: f"{count_text(int(m.group(1)))} ({DASH})" if hidden(int(m.group(1))) else m.group(0),
                      text)
    return _N_IS.sub(lambda m: m.group(1) + count_text(int(m.group(2))), text)
