"""Figures that draw single patients become aggregate views in a share run, and only there.

The session's two runs of the shipped cohort, internal (``shipped_run``) and share
(``shipped_share_run``), are compared; each figure's alt text (the PNG's Description,
which the notebook shows too) says which view it is.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from helpers.figures import AGGREGATE_VIEW

#: notebooks drawing the figures below
NOTEBOOKS = ("02_debulking_regimens", "04_crs_analysis", "07_sensitivity_analysis")
# figure -> words of the per-patient view that the aggregate view must not use
FIGURES = {
    "blasts_before_after": "one line per patient",
    "crs_by_debulking_and_blasts": "one point per patient",
    "cr_by_blasts_logistic": "ticks mark the blast values seen",
}

pytestmark = pytest.mark.slow


@pytest.fixture
def runs(shipped_run, shipped_share_run) -> dict[bool, Path]:
    """share -> the run folder."""
    return {False: shipped_run, True: shipped_share_run}


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
