"""``run --share`` tells notebooks that declare ``share_safe``, reads the input from outside the run and hides counts below ``min_cell`` in its results."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from probe_notebooks import SHARE_PARAMETERS, recorded, write_probe, write_recording_probe
from shared_runs import SHIPPED_COHORT

from pipeline.run import run_analysis

pytestmark = pytest.mark.slow


def probe_notebooks(folder: Path) -> Path:
    """One notebook recording the share_safe it got and where its data_path pointed."""
    return write_recording_probe(
        folder,
        SHARE_PARAMETERS,
        "{'share_safe': share_safe, 'data_abs': os.path.abspath(data_path),\n"
        "               'readable': os.path.isfile(data_path), 'cwd': os.getcwd()}",
    )


@pytest.mark.parametrize("share", [False, True])
def test_the_notebooks_get_share_safe_and_a_share_run_reads_its_input_outside_the_run(
    tmp_path, share
):
    notebooks = probe_notebooks(tmp_path / "nbs")
    out = tmp_path / "run"
    run_analysis(
        SHIPPED_COHORT, out, notebooks_dir=notebooks, progress=False, workers=1, share=share
    )
    seen = recorded(out)
    assert seen["share_safe"] is share
    assert seen["readable"]
    inside = Path(seen["data_abs"]).is_relative_to(Path(seen["cwd"]))
    assert inside is not share
    assert (out / "input").exists() is not share
    if share:
        assert not Path(seen["data_abs"]).exists()  # the temporary copy is gone
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == ("share" if share else "internal")
    assert manifest["parameters"]["01_probe"]["share_safe"] == repr(share)


def counting_notebooks(folder: Path) -> Path:
    """One notebook declaring min_cell that writes result rows with the counts 0, 2, 4 and 9 out of 20."""
    return write_probe(
        folder,
        SHARE_PARAMETERS + "\nmin_cell: int = 5",
        "from helpers import results\n"
        "rows = [{'key': f'n[level={k}]', 'label': 'count', 'numerator': k, 'denominator': 20, 'estimate': k / 20,\n"
        "         'ci_low': 0.0, 'ci_high': 0.5, 'unit': 'proportion'} for k in (0, 2, 4, 9)]\n"
        "results.write_results(results.result_frame(rows, '01_count'), '01_count', output_dir)",
        name="01_count",
    )


@pytest.mark.parametrize(
    "share, parameters, shown",
    [
        (False, (), ["0", "2", "4", "9"]),
        (
            True,
            (),
            ["0", "<5", "<5", "10"],
        ),  # counts of min_cell or more rounded to a multiple of 5
        (True, (("min_cell", "3"),), ["0", "<3", "5", "10"]),
    ],
)
def test_a_share_run_hides_counts_below_min_cell_and_rounds_the_rest_in_results_files(
    tmp_path, share, parameters, shown
):
    out = tmp_path / "run"
    run_analysis(
        SHIPPED_COHORT,
        out,
        notebooks_dir=counting_notebooks(tmp_path / "nbs"),
        parameters=parameters,
        progress=False,
        workers=1,
        share=share,
    )
    for path in (out / "results.csv", out / "results" / "01_count.csv"):
        rows = pd.read_csv(path, dtype=str, keep_default_na=False)
        assert list(rows["numerator"]) == shown, path.name
        assert list(rows["denominator"]) == ["20"] * 4
        assert [e == "" for e in rows["estimate"]] == [s.startswith("<") for s in shown]
