"""The paper's printed figures, as data (``data/published_figures.csv``): one row per number the
paper prints (or implies, ``derived == "yes"``), with its population, condition and ``results.csv``
key. A ``definition`` figure names the run parameter it sets: the one source of the paper's cut-offs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from helpers import derived

#: Default location of the figures file, relative to the repository.
DEFAULT_PATH: Path = Path(__file__).resolve().parents[1] / "data" / "published_figures.csv"

#: Columns of the figures file, in order.
FIGURE_COLUMNS: tuple[str, ...] = (
    "id",
    "location",
    "description",
    "kind",
    "numerator",
    "denominator",
    "printed",
    "value",
    "population",
    "condition",
    "result_key",
    "derived",
    "note",
    "comparator_id",
    "external_type",
    "parameter",
)
#: Columns a figures file may leave out (read as blank).
OPTIONAL_COLUMNS: tuple[str, ...] = ("external_type", "parameter")

#: ``external_type`` codes of external figures and the words a report gives for them.
EXTERNAL_TYPES: dict[str, str] = {
    "protocol": "dosing schedule, not a column of the data contract",
    "definition": "definition or cut-off, an input of the analysis rather than a result",
    "assay": "assay property, not a column of the data contract",
    "not_in_contract": "event not representable in the data contract",
    "literature": "literature figure",
}

#: Allowed values of ``kind``.
KINDS: tuple[str, ...] = ("count", "proportion", "median", "min", "max", "p_value", "external")

_TEXT = tuple(c for c in FIGURE_COLUMNS if c not in ("numerator", "denominator", "value"))


def load_published_figures(path: str | Path = DEFAULT_PATH) -> pd.DataFrame:
    """Read and check the published-figures file."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[])
    raw = raw.assign(**{c: "" for c in OPTIONAL_COLUMNS if c not in raw.columns})
    missing = [c for c in FIGURE_COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}")
    frame = raw.loc[:, list(FIGURE_COLUMNS)].copy()
    for col in _TEXT:
        frame[col] = frame[col].astype(str).str.strip()
    for col in ("numerator", "denominator"):
        frame[col] = pd.to_numeric(frame[col].replace("", None)).astype("Int64")
    frame["value"] = pd.to_numeric(frame["value"].replace("", None)).astype(float)

    ext, typed, named = (
        frame["kind"] == "external",
        frame["external_type"] != "",
        frame["parameter"] != "",
    )
    both = frame["numerator"].notna() & frame["denominator"].notna()
    twice = frame.loc[named, "parameter"]
    problems = ["blank id"] if (frame["id"] == "").any() else []
    for what, bad in (
        ("repeated ids", frame["id"].duplicated()),
        ("unknown kind in", ~frame["kind"].isin(KINDS)),
        ("derived must be yes/no in", ~frame["derived"].isin(("yes", "no"))),
        (
            "numerator > denominator in",
            both & (frame["numerator"] > frame["denominator"]).fillna(False),
        ),
        (
            "no numerator in",
            frame["kind"].isin(("count", "proportion")) & frame["numerator"].isna(),
        ),
        ("comparator_id on a non-external figure in", (frame["comparator_id"] != "") & ~ext),
        ("unknown external_type in", typed & ~frame["external_type"].isin(list(EXTERNAL_TYPES))),
        ("external_type on a non-external figure in", typed & ~ext),
        (
            "parameter not a cut-off of helpers.derived in",
            named & ~frame["parameter"].isin(list(derived.CUTOFFS)),
        ),
        (
            "parameter on a figure that is not a definition with a value in",
            named & ((frame["external_type"] != "definition") | frame["value"].isna()),
        ),
    ):
        if bad.any():
            ids = frame.loc[bad, "id"]
            problems.append(f"{what} {sorted(set(ids)) if what == 'repeated ids' else list(ids)}")
    if twice.duplicated().any():
        problems.append(f"a parameter set by two figures: {sorted(set(twice[twice.duplicated()]))}")
    if problems:
        raise ValueError(f"{path}: " + "; ".join(problems))
    return frame


def figure(figures: pd.DataFrame, figure_id: str) -> pd.Series:
    """The row of one figure; KeyError naming the id when there is none."""
    hit = figures.loc[figures["id"] == figure_id]
    if hit.empty:
        raise KeyError(f"no published figure with id {figure_id!r}")
    return hit.iloc[0]


def wording(description: str) -> str:
    """A figure's description for readers: ``>=``/``<=`` as ≥/≤ and no data-contract column
    name in brackets (``"median age at treatment start (age_years)"`` -> ``"median age at
    treatment start"``)."""
    from helpers import contract

    text = _COLUMN_IN_BRACKETS.sub(
        lambda m: "" if m.group(1) in contract.BY_NAME else m.group(0), str(description)
    )
    return contract.readable(text.replace(">=", "≥").replace("<=", "≤"))


_COLUMN_IN_BRACKETS = re.compile(r" \(([a-z][a-z0-9]*(?:_[a-z0-9]+)+)\)")


# --- definitions: the paper's cut-offs against a run's ----------------------------------


def paper_cutoffs(figures: pd.DataFrame) -> dict[str, float]:
    """The paper's cut-offs, ``{parameter: value}``, from the figures that name a ``parameter``."""
    named = figures[figures["parameter"] != ""]
    return {p: float(v) for p, v in zip(named["parameter"], named["value"])}


_TERM = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:=([^&|\]\[~+]*))?")


def cutoffs_used(text: str) -> tuple[str, ...]:
    """The cut-off parameters a result key or population depends on (through the derived
    variables it names), in :data:`derived.CUTOFFS` order; of three blast groups the lowest (``<20``)
    depends on the low cut-off only, the highest (``>=50``) on the high one only."""
    used = set()
    for name, level in _TERM.findall(text or ""):
        var, level = derived.BY_NAME.get(name), level.strip()
        # patients without a value: one group at any cut-off
        if var is None or level == derived.MISSING:
            continue
        sign = level[:1]
        if {"bmb_low_cutoff", "bmb_high_cutoff"} <= set(var.parameters) and sign in ("<", ">"):
            used.add("bmb_low_cutoff" if sign == "<" else "bmb_high_cutoff")  # three groups
        else:
            used.update(var.parameters)
    return tuple(p for p in derived.CUTOFFS if p in used)


def definition_differences(
    used: Iterable[str],
    run: Mapping[str, float],
    reference: Mapping[str, float],
    source: str = "the paper",
) -> tuple[str, ...]:
    """One phrase per cut-off in ``used`` whose ``run`` value differs from ``reference``,
    e.g. ``"bmb_high_cutoff 60 here, 50 in the paper"``; a value missing on either side is
    not compared."""
    out = []
    for name in used:
        if name in run and name in reference and float(run[name]) != float(reference[name]):
            out.append(f"{name} {float(run[name]):g} here, {float(reference[name]):g} in {source}")
    return tuple(out)


def different_definition_text(differences: Iterable[str]) -> str:
    """``"different definition (bmb_high_cutoff 60 here, 50 in the paper)"``; empty when none."""
    differences = tuple(differences)
    return f"different definition ({'; '.join(differences)})" if differences else ""
