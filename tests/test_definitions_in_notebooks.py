"""Notebook sentences that compare with the paper say so only under the paper's definitions."""

from __future__ import annotations

from pathlib import Path

import pytest
import run_inprocess

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "data" / "reconstructed_cohort.csv"


# (high-burden cut-off, expected words, words that must not appear)
CUTOFF_SENTENCES = [
    (
        50,
        "(blasts ≥ 50%), where the paper cites lower response rates to blinatumomab",
        "a different definition",
    ),
    (
        60,
        "the paper's remark on lower response rates with a high burden is about ≥ 50% blasts, a different "
        "definition, so it is not repeated here",
        "where the paper cites lower response rates",
    ),
]


@pytest.mark.parametrize("cutoff, expected, absent", CUTOFF_SENTENCES)
def test_notebook_01_repeats_the_papers_remark_on_high_burden_only_at_the_papers_cut_off(
    tmp_path, cutoff, expected, absent
):
    ns = run_inprocess.execute(
        "01_cohort_description", data_path=SHIPPED, output_dir=tmp_path, bmb_high_cutoff=cutoff
    )
    closing = next(m for m in ns["_markdown"] if m.startswith("**What it means.**"))
    assert expected in closing and absent not in closing
