"""Headline findings: each notebook declares its own, next to the cell that computes them.

A :class:`Headline` is a title, a Markdown sentence template whose ``[[name:fmt]]``
placeholders name result keys (:func:`helpers.narrative.fill`), and the heading of the
section that computes it. A notebook writes its declarations beside its results
(``results/{notebook}.headlines.json``, :func:`write_headlines`); the report's index fills
them from ``results.csv`` in reading order, counts as the run's
:class:`~helpers.suppression.Policy` shows them. A declared key without a result is an error.
A notebook that cannot run an analysis on the data declares nothing for it and records
an availability row instead (:func:`not_available`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from helpers.results import Key
from helpers.suppression import NONE, Policy

#: Key of the row by which a notebook says whether its analysis ran on this data
#: (or a key ending in it, such as ``follow_up.available[all]``).
AVAILABILITY_KEY = str(Key("available"))
#: How such a row's method may start; the rest is the reason (otherwise its label is).
NOT_AVAILABLE = "not available for this data: "


@dataclass(frozen=True)
class Headline:
    """One line of the report's index: ``title``, a Markdown ``template`` with ``[[name:fmt]]``
    placeholders, ``keys`` (placeholder name -> :class:`~helpers.results.Key`), and the heading
    of the ``section`` of the notebook that computes it."""

    title: str
    template: str
    section: str
    keys: Mapping[str, Key] = field(default_factory=dict)

    def text(self, results: pd.DataFrame, *, policy: Policy = NONE) -> str:
        """The sentence filled from ``results``, counts as ``policy`` shows them (``KeyError``
        naming a missing key)."""
        from helpers.narrative import fill

        return fill(self.template, results, self.keys, policy=policy)


def missing_keys(headline: Headline, results: pd.DataFrame) -> list[str]:
    """The keys ``headline`` uses that ``results`` has no row for."""
    present = set(results["key"].astype(str)) if len(results) else set()
    return [str(k) for k in headline.keys.values() if str(k) not in present]


def write_headlines(
    declared: Iterable[Headline],
    results: pd.DataFrame,
    notebook: str,
    output_dir: str | Path,
    *,
    policy: Policy = NONE,
) -> Path:
    """Write a notebook's headlines to ``{output_dir}/results/{notebook}.headlines.json``;
    ``ValueError`` naming the headline and key when ``results`` (its results frame) lacks one
    or a placeholder does not fill under ``policy`` (the run's)."""
    declared = list(declared)
    for headline in declared:
        if missing := missing_keys(headline, results):
            raise ValueError(
                f"headline {headline.title!r} of {notebook} names results it did not compute: "
                f"{', '.join(missing)}"
            )
        # every placeholder fills (a typo in a name or format fails here)
        headline.text(results, policy=policy)
    folder = Path(output_dir) / "results"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{notebook}.headlines.json"
    records = [
        {
            "title": h.title,
            "template": h.template,
            "section": h.section,
            "keys": {name: str(key) for name, key in h.keys.items()},
        }
        for h in declared
    ]
    tmp = path.with_suffix(".json.part")
    tmp.write_text(json.dumps(records, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def read_headlines(output_dir: str | Path) -> list[tuple[str, Headline]]:
    """Every notebook's declared headlines under ``{output_dir}/results/``, in reading order,
    as ``(notebook, headline)``."""
    folder = Path(output_dir) / "results"
    found = []
    for path in sorted(folder.glob("*.headlines.json")) if folder.is_dir() else []:
        notebook = path.name.removesuffix(".headlines.json")
        for record in json.loads(path.read_text(encoding="utf-8")):
            keys = {name: Key.parse(key) for name, key in record["keys"].items()}
            found.append(
                (notebook, Headline(record["title"], record["template"], record["section"], keys))
            )
    return found


def not_available(results: pd.DataFrame, notebook: str) -> str | None:
    """Why a notebook's analysis did not run on this data, or None when it did."""
    if not len(results) or "key" not in results:
        return None
    keys = results["key"].astype(str)
    hit = results[
        (results["notebook"] == notebook)
        & ((keys == AVAILABILITY_KEY) | keys.str.endswith("." + AVAILABILITY_KEY))
    ]
    if len(hit) and float(hit["estimate"].iloc[0]) == 0:
        method = hit["method"].iloc[0] if "method" in hit else None
        method = method if isinstance(method, str) else ""
        return (
            method.removeprefix(NOT_AVAILABLE)
            if method.startswith(NOT_AVAILABLE)
            else str(hit["label"].iloc[0])
        )
    return None
