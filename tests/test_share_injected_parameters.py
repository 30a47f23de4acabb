"""The injected-parameters cell of a share run names the input file only; an internal run's is unchanged."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from probe_notebooks import SHARE_PARAMETERS, write_probe
from shared_runs import SHIPPED_COHORT

from pipeline.run import run_analysis

pytestmark = pytest.mark.slow


def probe_notebooks(folder: Path) -> Path:
    return write_probe(
        folder,
        SHARE_PARAMETERS,
        "import os\nprint(os.path.isfile(data_path))",
    )


@pytest.mark.parametrize(
    ("share", "shown"),
    [
        (False, 'data_path = "input/reconstructed_cohort.csv"'),
        (True, 'data_path = "reconstructed_cohort.csv"'),
    ],
    ids=["internal", "share"],
)
def test_the_injected_parameters_name_the_input_and_never_a_temporary_or_absolute_path(
    tmp_path, share, shown
):
    out = tmp_path / "run"
    run_analysis(
        SHIPPED_COHORT,
        out,
        notebooks_dir=probe_notebooks(tmp_path / "nbs"),
        progress=False,
        workers=1,
        share=share,
    )
    nb = nbformat.read(out / "notebooks" / "01_probe.ipynb", as_version=4)
    [injected] = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert shown in injected.source.splitlines()
    assert nb.metadata.papermill.parameters["data_path"] == shown.split('"')[1]
    assert nb.cells[-1].outputs[0]["text"] == "True\n"  # the notebook read the file it was given
    assert ("share run" in injected.source) is share
    for path in [out / "notebooks" / "01_probe.ipynb", *sorted((out / "report").glob("*.html"))]:
        text = path.read_text(encoding="utf-8")
        assert "share-input-" not in text and str(tmp_path) not in text and "/tmp/" not in text, (
            path.name
        )
