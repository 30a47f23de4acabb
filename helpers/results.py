"""Tidy statistics rows shared by every notebook (``results.csv``).

Each notebook writes its statistics as rows with the columns of :data:`RESULT_COLUMNS`;
the run joins them into ``results.csv``, which later notebooks and tests read.

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
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

RESULT_COLUMNS: tuple[str, ...] = (
    "notebook",
    "key",
    "label",
    "numerator",
    "denominator",
    "estimate",
    "ci_low",
    "ci_high",
    "p_value",
    "method",
    "unit",
)


@dataclass(frozen=True)
class Key:
    """A result key: ``str()`` writes it, :meth:`parse` reads it (the grammar above).

    ``Key("any_cr", {"high_burden": True})`` is ``any_cr[high_burden=True]``;
    ``Key("any_cr", by="high_burden", test="fisher")`` is ``any_cr[high_burden]~fisher``;
    ``Key("km_rfs", {"high_burden": True}, within={"any_cr": True})`` is
    ``km_rfs[high_burden=True|any_cr=True]``; ``Key("km_os", part="median")`` is
    ``km_os[all].median``. Levels are kept as text (``True`` -> ``"True"``).
    """

    statistic: str
    where: tuple[tuple[str, str], ...] = ()
    by: str = ""
    within: tuple[tuple[str, str], ...] = ()
    test: str = ""
    part: str = ""

    def __post_init__(self):
        for name in ("where", "within"):
            value = getattr(self, name)
            pairs = value.items() if isinstance(value, Mapping) else value
            object.__setattr__(self, name, tuple((str(k), str(v)) for k, v in pairs))

    def __str__(self) -> str:
        head = "&".join([self.by] * bool(self.by) + [f"{k}={v}" for k, v in self.where]) or "all"
        if self.within:
            head += "|" + "&".join(f"{k}={v}" for k, v in self.within)
        return (
            f"{self.statistic}[{head}]"
            + (f"~{self.test}" if self.test else "")
            + (f".{self.part}" if self.part else "")
        )

    @staticmethod
    def part_of(key: str, part: str) -> str:
        """The key written as ``key`` with ``.part`` set: ``km_os[all]`` -> ``km_os[all].median``."""
        return str(replace(Key.parse(key), part=part))

    @classmethod
    def parse(cls, text: str) -> Key:
        """The key written as ``text``; ``ValueError`` when it has no ``[...]``."""
        found = _KEY.fullmatch(text)
        if not found:
            raise ValueError(f"not a result key: {text!r}")
        statistic, inside = found.group("statistic"), found.group("inside")
        if "[" in inside:  # a key about another key: kept whole as the name
            return cls(
                statistic, by=inside, test=found.group("test") or "", part=found.group("part") or ""
            )
        head, _, within = inside.partition("|")
        by, where = "", []
        for i, item in enumerate(head.split("&") if head != "all" else []):
            name, eq, level = item.partition("=")
            if eq:
                where.append((name, level))
            elif i == 0:
                by = item
            else:
                raise ValueError(f"not a result key: {text!r} (a bare name after the first)")
        pairs = conditions(within)
        return cls(
            statistic,
            tuple(where),
            by,
            tuple(pairs),
            found.group("test") or "",
            found.group("part") or "",
        )


def conditions(text: str) -> tuple[tuple[str, str], ...]:
    """``"ph_status=negative&high_burden=True"`` as (name, level) pairs; ``""`` as none."""
    return tuple(tuple(item.partition("=")[::2]) for item in text.split("&")) if text else ()


# statistic[inside]~test.part; the inside may hold one nested key (``replication[any_cr[all]]``).
_KEY = re.compile(
    r"(?P<statistic>[^\[\]~]+)\[(?P<inside>(?:[^\[\]]|\[[^\[\]]*\])*)\]"
    r"(?:~(?P<test>[^.]+))?(?:\.(?P<part>.+))?"
)


def rate_key(measure: str, filters: Mapping[str, object] | None = None) -> str:
    """The key of a count/proportion/summary row (:class:`Key`)."""
    return str(Key(measure, filters or ()))


def test_key(measure: str, by: str, test: str, filters: Mapping[str, object] | None = None) -> str:
    """The key of a test row (:class:`Key`)."""
    return str(Key(measure, by=by, within=filters or (), test=test))


def proportion_row(key: str, label: str, proportion, method: str | None = None) -> dict:
    """A result row for a :class:`helpers.stats.Proportion` (method: "count; <interval method>")."""
    return {
        "key": key,
        "label": label,
        **proportion.row_fields(),
        "method": method or f"count; {proportion.method_label}",
        "unit": "proportion",
    }


def result_frame(rows: Iterable[Mapping[str, object]], notebook: str) -> pd.DataFrame:
    """Turn result rows (dicts) into a frame with exactly :data:`RESULT_COLUMNS`."""
    frame = pd.DataFrame(list(rows))
    notebooks = (
        frame["notebook"] if "notebook" in frame.columns else pd.Series(None, index=frame.index)
    )
    frame["notebook"] = [nb if isinstance(nb, str) else notebook for nb in notebooks]
    for col in RESULT_COLUMNS:
        if col not in frame.columns:
            frame[col] = math.nan
    frame = frame.loc[:, list(RESULT_COLUMNS)]
    dup = frame["key"][frame["key"].duplicated()]
    if len(dup):
        raise ValueError(f"duplicate result keys in {notebook}: {sorted(set(dup))}")
    return frame.reset_index(drop=True)


def write_results(
    frame: pd.DataFrame,
    notebook: str,
    output_dir: str | Path,
    inputs: Mapping[str, object] | None = None,
) -> Path:
    """Write one notebook's result rows to ``{output_dir}/results/{notebook}.csv``.

    Written to a temporary name and renamed, so a reader never sees half a file.
    ``inputs`` (:func:`run_inputs`) is written after it as ``{notebook}.inputs.json``;
    a record of an earlier run is removed first, so it never vouches for newer rows.
    """
    frame = result_frame(frame.to_dict("records"), notebook)
    folder = Path(output_dir) / "results"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{notebook}.inputs.json").unlink(missing_ok=True)
    path = folder / f"{notebook}.csv"
    tmp = path.with_suffix(".csv.part")
    frame.to_csv(tmp, index=False, lineterminator="\n", float_format="%.10g")
    tmp.replace(path)
    if inputs is not None:
        write_inputs(inputs, notebook, output_dir)
    return path


def read_results(output_dir: str | Path) -> pd.DataFrame:
    """Read every notebook's result rows under ``{output_dir}/results/``, in notebook order."""
    folder = Path(output_dir) / "results"
    files = sorted(folder.glob("*.csv")) if folder.is_dir() else []
    if not files:
        return pd.DataFrame(columns=list(RESULT_COLUMNS))
    frames = [pd.read_csv(f, dtype={"key": str, "label": str, "method": str}) for f in files]
    return pd.concat(frames, ignore_index=True).loc[:, list(RESULT_COLUMNS)]


# --- what a notebook's results were computed from ------------------------------------

#: Parameters that change what the results of notebooks 01-05 mean; a notebook that
#: judges those results (06) needs the same values.
SHARED_PARAMETERS = (
    "data_sheet",
    "age_cutoff",
    "bmb_high_cutoff",
    "bmb_low_cutoff",
    "lines_cutoff",
)


def run_inputs(data_path: str | Path, **values: object) -> dict:
    """What results are computed from: the input's SHA-256 and the :data:`SHARED_PARAMETERS` given."""
    from helpers.provenance import file_sha256

    unknown = sorted(set(values) - set(SHARED_PARAMETERS))
    if unknown:
        raise ValueError(
            f"not shared parameters: {', '.join(unknown)} (shared: {', '.join(SHARED_PARAMETERS)})"
        )
    return {
        "data_file": Path(data_path).name,
        "data_sha256": file_sha256(data_path),
        "parameters": {k: values[k] for k in SHARED_PARAMETERS if k in values},
    }


def write_inputs(inputs: Mapping[str, object], notebook: str, output_dir: str | Path) -> Path:
    """Write :func:`run_inputs` beside the notebook's results: ``results/{notebook}.inputs.json``."""
    import json

    folder = Path(output_dir) / "results"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{notebook}.inputs.json"
    tmp = path.with_suffix(".json.part")
    tmp.write_text(json.dumps(inputs, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def check_same_inputs(
    output_dir: str | Path, prefixes: Iterable[str], expected: Mapping[str, object]
) -> None:
    """Raise ``ValueError`` unless the results of the notebooks ``prefixes`` (e.g. ``"01"``) were
    computed from the data and shared parameter values of ``expected`` (:func:`run_inputs`).

    The message names the notebook and the parameter with both values, or the two data hashes.
    """
    import json

    folder = Path(output_dir) / "results"
    for prefix in prefixes:
        for csv in sorted(folder.glob(f"{prefix}_*.csv")):
            record = csv.with_suffix(".inputs.json")
            if not record.is_file():
                raise ValueError(
                    f"{csv.name} carries no record of the data and parameters it was computed "
                    f"from ({record.name} is missing): run notebooks 01-05 again, then this one"
                )
            used = json.loads(record.read_text(encoding="utf-8"))
            if used.get("data_sha256") != expected["data_sha256"]:
                raise ValueError(
                    f"notebook {csv.stem} analysed other data: {used.get('data_file')} (SHA-256 "
                    f"{used.get('data_sha256')}), this notebook {expected['data_file']} (SHA-256 "
                    f"{expected['data_sha256']}); run notebooks 01-05 on the same file first"
                )
            for name, value in expected["parameters"].items():
                theirs = used.get("parameters", {}).get(name)
                if theirs != value:
                    raise ValueError(
                        f"notebook {csv.stem} used {name} = {theirs!r}, this notebook {name} = {value!r}: "
                        "its results answer another definition, so they are not judged here; run notebooks "
                        "01-05 with the same values (one parameter file, or `python -m pipeline run`)"
                    )
