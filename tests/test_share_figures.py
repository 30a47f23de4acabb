"""Figures that draw single patients become aggregate views in a share run, and only there.

Notebooks 02, 04 and 07 are run twice on one synthetic cohort (internal and
``share=True``); each figure's alt text (the PNG's Description, which the
notebook shows too) says which view it is.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image
from shared_runs import run_cli

from helpers.figures import AGGREGATE_VIEW
from pipeline.run import run_analysis

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ("02_debulking_regimens", "04_crs_analysis", "07_sensitivity_analysis")
# figure -> words of the per-patient view that the aggregate view must not use
FIGURES = {
    "blasts_before_after": "one line per patient",
    "crs_by_debulking_and_blasts": "one point per patient",
    "cr_by_blasts_logistic": "ticks mark the blast values seen",
}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[bool, Path]:
    folder = tmp_path_factory.mktemp("share-figures")
    cohort = folder / "cohort.csv"
    made = run_cli("synth", "--n", "60", "--seed", "3", "--out", str(cohort))
    assert made.returncode == 0, made.stderr[-3000:]
    notebooks = folder / "notebooks"
    notebooks.mkdir()
    for name in NOTEBOOKS:
        shutil.copy(ROOT / "notebooks" / f"{name}.ipynb", notebooks)
    shutil.copytree(
        ROOT / "data", folder / "data"
    )  # the reference files notebook 07 reads (../data/...)
    out = {}
    for share in (False, True):
        out[share] = folder / ("share" if share else "internal")
        run_analysis(
            cohort, out[share], notebooks_dir=notebooks, progress=False, workers=1, share=share
        )
    return out


@pytest.mark.parametrize("share", [False, True], ids=["internal", "share"])
@pytest.mark.parametrize("figure", sorted(FIGURES))
def test_a_share_run_draws_the_aggregate_view_and_an_internal_run_the_patients(runs, figure, share):
    alt = Image.open(runs[share] / "figures" / f"{figure}.png").text["Description"]
    assert (AGGREGATE_VIEW in alt) is share
    assert (FIGURES[figure] in alt) is not share


def test_the_notebooks_of_a_share_run_show_the_aggregate_captions(runs):
    for name in NOTEBOOKS:
        text = (runs[True] / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8")
        assert AGGREGATE_VIEW in text, name
        assert AGGREGATE_VIEW not in (runs[False] / "notebooks" / f"{name}.ipynb").read_text(
            encoding="utf-8"
        )
