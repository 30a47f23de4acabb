"""The committed notebooks carry outputs of the shipped reconstructed cohort only.

A notebook saved after a run on other data (a registry's real patients) would
put patient-level output into git. Every stored output must come from
data/reconstructed_cohort.csv: its provenance banner names that file, no other
data file is named, and no papermill-injected parameters point elsewhere.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.provenance import SHIPPED_COHORT, data_provenance
from pipeline.notebook_guard import (
    DATA_FILE,
    OWN_OUTPUT,
    SHIPPED_FILES,
    clean,
    foreign_output,
    output_texts,
)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_the_shipped_banner_says_reconstructed_and_names_the_shipped_file():
    banner = data_provenance(SHIPPED_COHORT).headline
    assert banner.startswith(f"RECONSTRUCTED DATA — {SHIPPED_COHORT.name}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_a_committed_notebook_carries_outputs_of_the_shipped_cohort_only(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    texts = output_texts(nb)
    if not texts:
        return  # outputs stripped: nothing can leak
    joined = "\n".join(texts)
    assert data_provenance(SHIPPED_COHORT).headline in joined, (
        f"{path.name}: no provenance banner of {SHIPPED_COHORT.name} in the stored outputs"
    )
    assert "supplied by the analyst" not in joined, f"{path.name}: outputs of another data file"
    named = {m for m in DATA_FILE.findall(joined) if not OWN_OUTPUT.match(m)}
    others = {m for m in named if Path(m).name not in SHIPPED_FILES}
    assert not others, f"{path.name}: stored outputs name other data files {sorted(others)}"
    injected = [
        c for c in nb["cells"] if "injected-parameters" in c.get("metadata", {}).get("tags", [])
    ]
    assert not injected, f"{path.name}: saved from a papermill run (injected parameters)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_a_committed_notebook_reads_the_shipped_cohort_by_default(path):
    from helpers.parameters import describe

    assert describe(path)["data_path"]["default"] == "../data/reconstructed_cohort.csv", path.name


def test_the_check_catches_a_notebook_saved_after_a_run_on_other_data():
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "source": "",
                "outputs": [
                    {
                        "output_type": "stream",
                        "name": "stdout",
                        "text": "Data: registry_2024.xlsx (SHA-256 0123456789ab…), supplied by the analyst.",
                    }
                ],
            }
        ]
    }
    joined = "\n".join(output_texts(nb))
    assert data_provenance(SHIPPED_COHORT).headline not in joined
    assert {m for m in DATA_FILE.findall(joined)} == {"registry_2024.xlsx"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_the_git_filter_passes_a_committed_notebook_through_byte_for_byte(path):
    raw = path.read_bytes()
    assert foreign_output(json.loads(raw)) is None
    assert clean(raw) == raw


def test_the_git_filter_strips_the_outputs_of_a_notebook_run_on_other_data():
    raw = (ROOT / "notebooks" / "01_cohort_description.ipynb").read_text(encoding="utf-8")
    shipped = data_provenance(SHIPPED_COHORT).headline
    other = raw.replace(
        json.dumps(shipped, ensure_ascii=False)[1:-1],
        "Data: registry.csv (SHA-256 0123456789ab…), supplied by the analyst.",
    )
    assert other != raw
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.notebook_guard"],
        input=other.encode("utf-8"),
        capture_output=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    nb = json.loads(done.stdout)
    assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")
    assert [c["source"] for c in nb["cells"]] == [c["source"] for c in json.loads(other)["cells"]]


def test_git_with_the_filter_stores_shipped_outputs_as_they_are_and_strips_others(tmp_path):
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=tmp_path, check=True, capture_output=True, text=True, timeout=120
        ).stdout

    git("init", "-q")
    git(
        "config",
        "filter.shipped-outputs-only.clean",
        f"{sys.executable} -m pipeline.notebook_guard",
    )
    git("config", "filter.shipped-outputs-only.smudge", "cat")
    (tmp_path / ".gitattributes").write_bytes((ROOT / ".gitattributes").read_bytes())
    (tmp_path / "notebooks").mkdir()
    shipped = ROOT / "notebooks" / "01_cohort_description.ipynb"
    (tmp_path / "notebooks" / "01_shipped.ipynb").write_bytes(shipped.read_bytes())
    banner = json.dumps(data_provenance(SHIPPED_COHORT).headline, ensure_ascii=False)[1:-1]
    (tmp_path / "notebooks" / "02_real.ipynb").write_text(
        shipped.read_text(encoding="utf-8").replace(
            banner, "Data: real.csv (SHA-256 0123456789ab…), supplied by the analyst."
        ),
        encoding="utf-8",
    )
    git("add", ".")
    assert git("show", ":notebooks/01_shipped.ipynb") == shipped.read_text(encoding="utf-8")
    stored = json.loads(git("show", ":notebooks/02_real.ipynb"))
    assert not any(c.get("outputs") for c in stored["cells"])
    assert "supplied by the analyst" in (tmp_path / "notebooks" / "02_real.ipynb").read_text(
        encoding="utf-8"
    )
