"""Tidy statistics rows shared by every notebook (``results.csv``).

Each notebook records the statistics it computes as rows with the columns in
:data:`RESULT_COLUMNS`; the pipeline concatenates them into the run's
``results.csv`` so later notebooks and tests read plain data instead of scraping
notebooks.

Key grammar (stable, so ``data/published_figures.csv`` can point at keys):

* ``{measure}[{filter}]`` -- a count, proportion or summary. ``measure`` is
  ``n`` (count and share of patients), an outcome column (``any_cr``,
  ``mrd_negative``, ``crs``, ``response=cr``...), ``{column}.median`` /
  ``{column}.min`` / ``{column}.max``, or ``{column}.available`` /
  ``{column}.missing`` (patients with / without a value), or ``{column}.distinct``
  (distinct non-missing codes, e.g. centres). ``filter`` is ``all`` or
  ``var=level`` joined by ``&`` (e.g. ``high_burden=True&debulking_category=tki``).
* ``{measure}[{var}]~{test}`` -- a test of ``measure`` across the levels of
  ``var`` (``fisher``, ``chi2``, ``chi2_yates``, ``barnard``, ``boschloo``,
  ``fisher_midp``); ``{measure}[{var}|{filter}]~{test}`` restricts the population first.

A published figure's ``result_key`` may join several count keys with `` + `` (a
figure the paper states as a sum, e.g. chemotherapy = low-intensity +
polychemotherapy); see :mod:`helpers.reproduction`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

RESULT_COLUMNS: tuple[str, ...] = (
    "notebook", "key", "label", "numerator", "denominator", "estimate",
    "ci_low", "ci_high", "p_value", "method", "unit",
)


def rate_key(measure: str, filters: Mapping[str, object] | None = None) -> str:
    """Build the key of a count/proportion/summary row."""
    if not filters:
        return f"{measure}[all]"
    return f"{measure}[" + "&".join(f"{k}={v}" for k, v in filters.items()) + "]"


def test_key(measure: str, by: str, test: str, filters: Mapping[str, object] | None = None) -> str:
    """Build the key of a test row."""
    where = ""
    if filters:
        where = "|" + "&".join(f"{k}={v}" for k, v in filters.items())
    return f"{measure}[{by}{where}]~{test}"


def proportion_row(key: str, label: str, proportion, method: str | None = None) -> dict:
    """A result row for a :class:`helpers.stats.Proportion` (method: "count; <interval method>")."""
    return {"key": key, "label": label, "numerator": proportion.numerator,
            "denominator": proportion.denominator, "estimate": proportion.estimate,
            "ci_low": proportion.ci_low, "ci_high": proportion.ci_high,
            "method": method or f"count; {proportion.method_label}", "unit": "proportion"}


def result_frame(rows: Iterable[Mapping[str, object]], notebook: str) -> pd.DataFrame:
    """Turn result rows (dicts) into a frame with exactly :data:`RESULT_COLUMNS`."""
    frame = pd.DataFrame(list(rows))
    notebooks = frame["notebook"] if "notebook" in frame.columns else pd.Series(None, index=frame.index)
    frame["notebook"] = [nb if isinstance(nb, str) else notebook for nb in notebooks]
    for col in RESULT_COLUMNS:
        if col not in frame.columns:
            frame[col] = math.nan
    frame = frame.loc[:, list(RESULT_COLUMNS)]
    dup = frame["key"][frame["key"].duplicated()]
    if len(dup):
        raise ValueError(f"duplicate result keys in {notebook}: {sorted(set(dup))}")
    return frame.reset_index(drop=True)


def write_results(frame: pd.DataFrame, notebook: str, output_dir: str | Path) -> Path:
    """Write one notebook's result rows to ``{output_dir}/results/{notebook}.csv``.

    Written to a temporary name and renamed, so a reader never sees half a file.
    """
    frame = result_frame(frame.to_dict("records"), notebook)
    folder = Path(output_dir) / "results"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{notebook}.csv"
    tmp = path.with_suffix(".csv.part")
    frame.to_csv(tmp, index=False, lineterminator="\n", float_format="%.10g")
    tmp.replace(path)
    return path


def read_results(output_dir: str | Path) -> pd.DataFrame:
    """Read every notebook's result rows under ``{output_dir}/results/``, in notebook order."""
    folder = Path(output_dir) / "results"
    files = sorted(folder.glob("*.csv")) if folder.is_dir() else []
    if not files:
        return pd.DataFrame(columns=list(RESULT_COLUMNS))
    frames = [pd.read_csv(f, dtype={"key": str, "label": str, "method": str}) for f in files]
    return pd.concat(frames, ignore_index=True).loc[:, list(RESULT_COLUMNS)]
