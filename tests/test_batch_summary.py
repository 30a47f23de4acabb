"""The batch page and summary.csv, from run folders written here (no notebook runs): centre
labels, the pooled row, the grid's contrast, share runs' hidden counts, escaping.

R references (R 4.2), stored with their calls:

    f <- fisher.test(rbind(c(10, 10), c(12, 1)))   # OR 0.089376123059 (0.001781629955-0.822047720300),
                                                  # p 0.021590817494
    f <- fisher.test(rbind(c(6, 2), c(3, 6)))     # OR 5.3266966795, p 0.1534348005; its CI upper limit
                                                  # 87.727 is uniroot's default tolerance: solving the same
                                                  # noncentral hypergeometric tail with uniroot(tol = 1e-12)
                                                  # gives 0.5153196297-87.9265063131 (scipy: 87.93)
    # Newcombe hybrid score difference from the Wilson intervals prop.test(k, n, correct = FALSE)$conf.int:
    # 10/20 - 12/13 = -0.4230769231 (-0.6334982370 to -0.0976108731)
    # 6/8 - 3/9 = 0.41666666667 (-0.04563985024 to 0.69439320049)
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from pipeline.batch import ALL_PATIENTS, NO_CENTRE, RunOutcome, plan_batch
from pipeline.batch_summary import forest_rows, write_summary

ROOT = Path(__file__).resolve().parents[1]
#: CR at each cut-off, per run label: (high burden k, n, low burden k, n, Fisher p); CR overall is their sum.
BURDEN = {
    ("A", "40"): (10, 20, 12, 13, 0.021590817494),
    ("A", "60"): (6, 8, 3, 9, 0.1534348005),
}


def registry(tmp_path: Path, centres: list[str]) -> Path:
    frame = pd.read_csv(
        ROOT / "data" / "reconstructed_cohort.csv", dtype=str, keep_default_na=False
    )
    frame["center"] = centres
    path = tmp_path / "registry.csv"
    frame.to_csv(path, index=False)
    return path


def write_run(
    out: Path, name: str, rows: list[tuple], kind: str = "internal", cutoff: str = "50"
) -> None:
    run = out / "runs" / name
    run.mkdir(parents=True)
    pd.DataFrame(
        rows,
        columns=["key", "numerator", "denominator", "estimate", "ci_low", "ci_high", "p_value"],
    ).assign(notebook="03_response_by_subgroup", label="").to_csv(run / "results.csv", index=False)
    manifest = {
        "kind": kind,
        "parameters": {"03_response_by_subgroup": {"bmb_high_cutoff": cutoff, "min_cell": "5"}},
    }
    (run / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def burden_rows(k1, n1, k2, n2, p):
    return [
        ("any_cr[all]", k1 + k2, n1 + n2, (k1 + k2) / (n1 + n2), 0.3, 0.8, None),
        ("any_cr[high_burden=True]", k1, n1, k1 / n1, None, None, None),
        ("any_cr[high_burden=False]", k2, n2, k2 / n2, None, None, None),
        ("any_cr[high_burden]~fisher", None, None, None, None, None, p),
    ]


def test_a_cutoff_grid_shows_the_burden_contrast_per_cutoff_and_draws_unchanged_rates_once(
    tmp_path,
):
    data = registry(tmp_path, ["A"] * 20 + ["B"] * 14)
    specs = plan_batch([data], tmp_path, by="center", grid=["bmb_high_cutoff=40,60"])
    assert [s.centre for s in specs] == [ALL_PATIENTS, ALL_PATIENTS, "A", "A", "B", "B"]
    for spec in specs:
        cut = dict(spec.parameters)["bmb_high_cutoff"]
        counts = BURDEN.get((spec.centre, cut), (5, 10, 5, 10, 1.0))
        if spec.centre != "A":  # same CR overall at both cut-offs, a different split
            counts = (5, 10, 5, 10, 1.0) if cut == "40" else (4, 8, 6, 12, 1.0)
        write_run(tmp_path, spec.name, burden_rows(*counts), cutoff=cut)
    _, html_path = write_summary([RunOutcome(s, "done") for s in specs], tmp_path)
    page = html_path.read_text(encoding="utf-8")
    assert "-42.3 (-63.3 to -9.8)" in page
    assert "+41.7 (-4.6 to +69.4)" in page
    assert (
        "0.09 (0.00–0.82)" in page and "5.33 (0.52–87.93)" in page
    )  # conditional MLE, exact CI as R
    assert "0.022" in page and "0.153" in page
    assert page.count("data:image/png;base64,") == 2  # the forest plot and the grid's contrast
    summary = pd.read_csv(tmp_path / "summary.csv", keep_default_na=False)
    drawn = forest_rows(summary.assign(centre=summary["centre"].replace("", pd.NA).fillna("")))
    assert list(drawn["label"]) == [
        ALL_PATIENTS,
        "A",
        "A",
        "B",
    ]  # A's CR differs by cut-off, B's does not


def test_a_share_batch_summary_never_fails_on_hidden_counts_and_hides_what_would_give_one_back(
    tmp_path,
):
    data = registry(tmp_path, ["RM-03"] * 10 + ["MI-01"] * 14 + [""] * 10)
    specs = plan_batch([data], tmp_path, by="center")
    assert [s.centre for s in specs] == [ALL_PATIENTS, "MI-01", "RM-03", NO_CENTRE]
    rows = {
        ALL_PATIENTS: ("19", "34"),
        "MI-01": ("9", "14"),
        "RM-03": ("<5", "10"),
        NO_CENTRE: ("6", "10"),
    }
    for spec in specs:
        k, n = rows[spec.centre]
        write_run(
            tmp_path,
            spec.name,
            [
                ("any_cr[all]", k, n, None, None, None, None),
                ("crs[all]", "<5", "not shown", None, None, None, None),
                ("any_cr[high_burden]~fisher", None, None, None, None, None, 0.5),
                ("any_cr[high_burden=True]", "not shown", "<5", None, None, None, None),
                ("any_cr[high_burden=False]", "<5", "not shown", None, None, None, None),
            ],
            kind="share",
        )
    _, html_path = write_summary([RunOutcome(s, "done") for s in specs], tmp_path, share=True)
    page = html_path.read_text(encoding="utf-8")
    assert "Share-safe copy" in page and 'name="viewport"' in page
    assert "&lt;5/10 (–)" in page and "grade 3" not in page and "&lt;5/not shown (–)" in page
    assert ">centre not recorded</a>" in page and 'class="pooled"' in page
    summary = pd.read_csv(tmp_path / "summary.csv", keep_default_na=False).set_index("label")
    # 19 - 9 - 6 would give RM-03's hidden count back: the smallest other centre's count hides with it
    assert (
        summary.loc[NO_CENTRE, "cr_numerator"] == "not shown"
        and summary.loc[NO_CENTRE, "cr_denominator"] == 10
    )
    assert (
        summary.loc[ALL_PATIENTS, "cr_numerator"] == "19"
        and summary.loc["MI-01", "cr_numerator"] == "9"
    )
    assert "not shown/10 (–)" in page


def test_data_text_reaches_the_batch_page_only_as_text(tmp_path):
    data = registry(tmp_path, ["<b>X</b>"] * 20 + ["Y&Z"] * 14)
    specs = plan_batch([data], tmp_path, by="center")
    for spec in specs:
        write_run(tmp_path, spec.name, [("any_cr[all]", 10, 20, 0.5, 0.27, 0.73, None)])
    outcomes = [RunOutcome(s, "done") for s in specs[:-1]] + [
        RunOutcome(specs[-1], "failed", "bad <i>value</i>\nmore")
    ]
    _, html_path = write_summary(outcomes, tmp_path)
    page = html_path.read_text(encoding="utf-8")
    assert "<b>X</b>" not in page and "&lt;b&gt;X&lt;/b&gt;" in page and "Y&amp;Z" in page
    assert "<i>" not in page and "bad &lt;i&gt;value&lt;/i&gt;" in page and "more" not in page
    assert (
        "Internal run" in page
        and "Not computed: notebook 10 (outcomes by centre) was not run." in page
    )
