"""``run --share`` tells notebooks that declare ``share_safe`` and reads the input from outside the run."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from helpers.pipeline import run_analysis

ROOT = Path(__file__).resolve().parents[1]
COHORT = ROOT / "data" / "reconstructed_cohort.csv"

pytestmark = pytest.mark.slow


def probe_notebooks(folder: Path) -> Path:
    """One notebook recording the share_safe it got and where its data_path pointed."""
    folder.mkdir()
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = new_code_cell('data_path: str = "x.csv"\noutput_dir: str = "."\nshare_safe: bool = False')
    params.metadata["tags"] = ["parameters"]
    body = new_code_cell(
        "import json, os\n"
        "seen = {'share_safe': share_safe, 'data_abs': os.path.abspath(data_path),\n"
        "        'readable': os.path.isfile(data_path), 'cwd': os.getcwd()}\n"
        "os.makedirs(os.path.join(output_dir, 'tables'), exist_ok=True)\n"
        "with open(os.path.join(output_dir, 'tables', 'probe.json'), 'w') as fh:\n"
        "    json.dump(seen, fh)")
    nb.cells = [new_markdown_cell("# Probe"), params, body]
    nbformat.write(nb, folder / "01_probe.ipynb")
    return folder


@pytest.mark.parametrize("share", [False, True])
def test_the_notebooks_get_share_safe_and_a_share_run_reads_its_input_outside_the_run(tmp_path, share):
    notebooks = probe_notebooks(tmp_path / "nbs")
    out = tmp_path / "run"
    run_analysis(COHORT, out, notebooks_dir=notebooks, progress=False, workers=1, share=share)
    seen = json.loads((out / "tables" / "probe.json").read_text(encoding="utf-8"))
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
