"""Batch runs: files x centres x parameter grid, each in its own run folder, a summary, resumable."""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from probe_notebooks import RUN_PARAMETERS, write_probe
from shared_runs import run_cli

from pipeline.batch import (
    ALL_PATIENTS,
    NO_CENTRE,
    OTHER_CENTRES,
    is_up_to_date,
    parse_grid,
    plan_batch,
    split_by_centre,
    write_snakefile,
)

ROOT = Path(__file__).resolve().parents[1]
COHORT = ROOT / "data" / "reconstructed_cohort.csv"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([], [()]),
        (["bmb_high_cutoff=40,50"], [(("bmb_high_cutoff", "40"),), (("bmb_high_cutoff", "50"),)]),
        (["a=1,2", "b=x"], [(("a", "1"), ("b", "x")), (("a", "2"), ("b", "x"))]),
    ],
)
def test_a_grid_is_every_combination_of_its_values(items, expected):
    assert parse_grid(items) == expected


@pytest.mark.parametrize("item", ["bmb_high_cutoff", "=40", "bmb_high_cutoff=", "x=,"])
def test_a_grid_item_without_name_or_values_is_refused_with_an_example(item):
    with pytest.raises(ValueError, match="NAME=VALUE"):
        parse_grid([item])


def test_centres_below_the_minimum_are_pooled_and_the_input_is_not_changed(tmp_path):
    before = sha(COHORT)
    counts = pd.read_csv(COHORT)["center"].value_counts()
    minimum = int(counts.max())
    groups = split_by_centre(COHORT, tmp_path / "work", minimum)
    big = sorted(counts[counts >= minimum].index)
    assert [label for label, _ in groups] == big + [OTHER_CENTRES]
    sizes = {label: len(pd.read_csv(path)) for label, path in groups}
    assert sum(sizes.values()) == len(counts.index.repeat(counts)) == counts.sum()
    assert sizes[OTHER_CENTRES] == int(counts[counts < minimum].sum())
    assert sha(COHORT) == before
    again = split_by_centre(COHORT, tmp_path / "work", minimum)
    assert [sha(p) for _, p in again] == [sha(p) for _, p in groups]  # same bytes: resumable


def test_patients_without_a_centre_are_their_own_run_never_pooled_and_all_patients_run_first(
    tmp_path,
):
    frame = pd.read_csv(COHORT, dtype=str, keep_default_na=False)
    frame["center"] = ["A"] * 20 + ["B"] * 12 + [""] * 2
    data = tmp_path / "registry.csv"
    frame.to_csv(data, index=False)
    specs = plan_batch([data], tmp_path / "batch", by="center", min_patients=15)
    assert [(s.name, s.centre) for s in specs] == [
        ("registry-all_patients", ALL_PATIENTS),
        ("registry-A", "A"),
        ("registry-other_centres", OTHER_CENTRES),
        ("registry-centre_not_recorded", NO_CENTRE),
    ]
    assert specs[0].data == data
    assert [len(pd.read_csv(s.data)) for s in specs] == [34, 20, 12, 2]


def test_a_file_without_a_centre_column_runs_as_a_whole(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    specs = plan_batch([bad], tmp_path / "batch", by="center", grid=["bmb_high_cutoff=40,50"])
    assert [(s.name, s.data, s.centre) for s in specs] == [
        ("bad-bmb_high_cutoff=40", bad, ""),
        ("bad-bmb_high_cutoff=50", bad, ""),
    ]


def test_a_folder_without_a_manifest_is_not_up_to_date(tmp_path):
    spec = plan_batch([COHORT], tmp_path)[0]
    assert not is_up_to_date(spec, tmp_path / "runs" / spec.name)


def test_the_snakefile_has_one_rule_per_run_calling_pipeline_run_with_this_interpreter_and_parameter_file(
    tmp_path,
):
    specs = plan_batch([COHORT], tmp_path / "batch", grid=["bmb_high_cutoff=40,50,60"])
    path = write_snakefile(
        specs, tmp_path / "batch", tmp_path / "Snakefile", params_file=ROOT / "analysis.toml"
    )
    text = path.read_text(encoding="utf-8")
    rules = re.findall(r"^rule (\w+):$", text, flags=re.M)
    assert rules == ["all"] + [
        f"run_reconstructed_cohort_bmb_high_cutoff_{v}" for v in (40, 50, 60)
    ]
    shells = [
        ast.literal_eval(line.split("shell: ", 1)[1])
        for line in text.splitlines()
        if line.startswith("    shell: ")
    ]
    assert len(shells) == 3
    for spec, shell in zip(specs, shells):
        assert shell.startswith(f"{shlex.quote(sys.executable)} -m pipeline run --data ")
        assert f"--params {shlex.quote(str(ROOT / 'analysis.toml'))} " in shell
        assert f"-p bmb_high_cutoff {dict(spec.parameters)['bmb_high_cutoff']}" in shell
        assert str(tmp_path / "batch" / "runs" / spec.name) in shell
    outputs = re.findall(r"^    output: (.+)$", text, flags=re.M)
    assert [ast.literal_eval(o) for o in outputs] == [
        str(tmp_path / "batch" / "runs" / s.name / "manifest.json") for s in specs
    ]


#: A stand-in for notebook 03 where the runs, not the analysis, are tested: it takes the
#: parameter the grid varies and writes the result row the summary reads (CR, exact CI),
#: computed from its cohort with the helpers notebook 03 uses.
CR_PROBE = """\
from helpers import loading, results, stats
cohort = loading.load_cohort(data_path, bmb_high_cutoff=bmb_high_cutoff)
cr = stats.proportion(int(cohort["any_cr"].sum()), len(cohort))
rows = results.result_frame([results.proportion_row(str(results.Key("any_cr")), "CR", cr)], NAME)
results.write_results(rows, NAME, output_dir)"""


@pytest.fixture(scope="module")
def small_notebooks(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("nbs") / "notebooks"
    name = "03_response_by_subgroup"
    body = CR_PROBE.replace("NAME", repr(name))
    return write_probe(folder, RUN_PARAMETERS + "bmb_high_cutoff: float = 50\n", body, name)


@pytest.mark.slow
def test_a_batch_over_centres_and_a_grid_survives_a_failing_run_and_resumes(
    tmp_path, small_notebooks
):
    cohort = tmp_path / "synthetic.csv"
    assert run_cli("synth", "--n", "60", "--seed", "1", "--out", str(cohort)).returncode == 0
    counts = pd.read_csv(cohort)["center"].value_counts()
    minimum = int(counts.max())  # the largest centre(s) alone, the rest pooled
    centres = [ALL_PATIENTS] + sorted(counts[counts >= minimum].index) + [OTHER_CENTRES]
    assert len(centres) == 3
    bad = tmp_path / "broken.csv"
    bad.write_text(
        "patient_id,age_years\nX1,30\n", encoding="utf-8"
    )  # no centre: one run, fails validation
    before = sha(cohort)
    out = tmp_path / "batch"
    args = [
        "batch",
        str(cohort),
        str(bad),
        "--out",
        str(out),
        "--by",
        "center",
        "--min-patients",
        str(minimum),
        "--grid",
        "bmb_high_cutoff=40,60",
        "--notebooks",
        str(small_notebooks),
        "--jobs",
        "2",
    ]

    first = run_cli(*args)
    assert first.returncode == 1, first.stderr
    assert sha(cohort) == before
    good = [
        f"synthetic-{c.replace(' ', '_')}-bmb_high_cutoff={v}" for c in centres for v in (40, 60)
    ]
    failing = [f"broken-bmb_high_cutoff={v}" for v in (40, 60)]
    for name in good:
        run = out / "runs" / name
        assert (run / "results.csv").is_file() and (run / "report" / "index.html").is_file(), name
        manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
        cut = name.rsplit("=", 1)[1]
        assert manifest["parameters"]["03_response_by_subgroup"]["bmb_high_cutoff"] == cut
        source = (
            cohort
            if ALL_PATIENTS.replace(" ", "_") in name
            else out / "work" / "synthetic" / manifest["input"]["file"]
        )
        assert manifest["input"]["sha256"] == sha(source)
    for name in failing:
        assert not (out / "runs" / name).exists()
        assert f"run {name} failed" in first.stderr

    summary = pd.read_csv(out / "summary.csv", keep_default_na=False)
    assert sorted(summary["run"]) == sorted(good + failing)
    by_run = summary.set_index("run")
    assert set(by_run.loc[good, "status"]) == {"done"}
    assert set(by_run.loc[failing, "status"]) == {"failed"}
    assert all(by_run.loc[failing, "error"].str.len() > 0)
    for name in good:
        results = pd.read_csv(out / "runs" / name / "results.csv").set_index("key")
        assert int(by_run.loc[name, "cr_numerator"]) == int(results.loc["any_cr[all]", "numerator"])
        assert int(by_run.loc[name, "cr_denominator"]) == int(
            results.loc["any_cr[all]", "denominator"]
        )
        assert float(by_run.loc[name, "cr_ci_low"]) == pytest.approx(
            results.loc["any_cr[all]", "ci_low"]
        )
    sizes = by_run.loc[good, "cr_denominator"].astype(int)
    parts = sizes.groupby(lambda n: n.rsplit("-", 1)[0]).first()
    assert parts["synthetic-all_patients"] == parts.drop("synthetic-all_patients").sum() <= 60
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in page and 'src="http' not in page
    assert all(f"runs/{name}/report/index.html" in page for name in good)

    marker = out / "runs" / good[0] / "results.csv"
    stamp = marker.stat().st_mtime_ns
    changed = out / "runs" / good[1] / "manifest.json"  # as if its input had changed since
    manifest = json.loads(changed.read_text(encoding="utf-8"))
    manifest["input"]["sha256"] = "0" * 64
    changed.write_text(json.dumps(manifest), encoding="utf-8")
    again = run_cli(*args)
    assert again.returncode == 1, again.stderr
    assert marker.stat().st_mtime_ns == stamp
    summary = pd.read_csv(out / "summary.csv", keep_default_na=False).set_index("run")
    assert summary.loc[good[0], "status"] == "skipped"
    assert summary.loc[good[1], "status"] == "done"
    assert "1 run, 5 skipped (unchanged), 2 failed" in again.stdout


def _snakemake() -> str | None:
    beside = Path(sys.executable).with_name("snakemake")
    return str(beside) if beside.exists() else shutil.which("snakemake")


def test_snakemake_accepts_the_exported_batch_in_a_dry_run(tmp_path):
    specs = plan_batch([COHORT], tmp_path / "batch", grid=["bmb_high_cutoff=40,60"])
    path = write_snakefile(specs, tmp_path / "batch", tmp_path / "Snakefile")
    done = subprocess.run(
        [_snakemake(), "-n", "--cores", "1", "-s", str(path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for spec in specs:
        assert f"run_{spec.name.replace('-', '_').replace('=', '_')}" in done.stdout


@pytest.mark.slow
def test_an_exported_snakefile_run_by_snakemake_makes_the_run_folders_of_the_batch_command(
    tmp_path,
):
    frame = pd.read_csv(COHORT, dtype=str, keep_default_na=False)
    frame["center"] = ["A"] * 17 + ["B"] * 17
    cohort = tmp_path / "two_centres.csv"
    frame.to_csv(cohort, index=False)
    # a probe notebook: the runs, not the analysis, are tested here
    notebooks = write_probe(tmp_path / "notebooks", RUN_PARAMETERS, "x = 1", "01_probe")
    out, snakefile = tmp_path / "batch", tmp_path / "Snakefile"
    args = [str(cohort), "--by", "center", "--out", str(out), "--notebooks", str(notebooks)]
    exported = run_cli("batch", *args, "--snakefile", str(snakefile))
    assert exported.returncode == 0, exported.stderr
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    done = subprocess.run(
        [_snakemake(), "--cores", "2", "-s", str(snakefile)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    names = ["two_centres-all_patients", "two_centres-A", "two_centres-B"]
    assert sorted(p.name for p in (out / "runs").iterdir()) == sorted(names)
    again = run_cli("batch", *args)  # the batch command finds every run it would make, up to date
    assert again.returncode == 0, again.stderr
    assert "0 run, 3 skipped (unchanged), 0 failed" in again.stdout
    summary = pd.read_csv(out / "summary.csv", keep_default_na=False)
    assert list(summary["run"]) == names and set(summary["status"]) == {"skipped"}


@pytest.mark.parametrize(
    ("recorded", "share", "up_to_date"),
    [
        ({"bmb_high_cutoff": "40", "kind": "internal"}, False, True),
        ({"bmb_high_cutoff": "40", "kind": "internal"}, True, False),
        ({"bmb_high_cutoff": "40", "kind": "share"}, True, True),
        ({"bmb_high_cutoff": "50", "kind": "internal"}, False, False),
        ({"bmb_high_cutoff": "40", "kind": "internal", "sha256": "0" * 64}, False, False),
    ],
)
def test_a_run_is_up_to_date_only_for_the_same_input_parameters_and_kind(
    tmp_path, recorded, share, up_to_date
):
    spec = plan_batch([COHORT], tmp_path, grid=["bmb_high_cutoff=40"])[0]
    run_dir = tmp_path / "runs" / spec.name
    run_dir.mkdir(parents=True)
    (run_dir / "results.csv").write_text("notebook,key\n", encoding="utf-8")
    manifest = {
        "kind": recorded["kind"],
        "input": {"sha256": recorded.get("sha256", sha(COHORT))},
        "parameters": {
            "03_response_by_subgroup": {
                "bmb_high_cutoff": recorded["bmb_high_cutoff"],
                "lines_cutoff": "2",
            }
        },
    }
    (run_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert is_up_to_date(spec, run_dir, share) is up_to_date


def test_the_summary_puts_each_runs_results_side_by_side_and_escapes_errors(tmp_path):
    from pipeline.batch import RunOutcome
    from pipeline.batch_summary import write_summary

    specs = plan_batch([COHORT], tmp_path, grid=["bmb_high_cutoff=40,60"])
    rows = {"40": (23, 34, 0.4947346991, 0.8261165725), "60": (9, 17, 0.2781, 0.7702)}
    for spec in specs:
        n, d, lo, hi = rows[dict(spec.parameters)["bmb_high_cutoff"]]
        run = tmp_path / "runs" / spec.name
        run.mkdir(parents=True)
        pd.DataFrame(
            [
                {
                    "notebook": "03_response_by_subgroup",
                    "key": "any_cr[all]",
                    "label": "any_cr",
                    "numerator": n,
                    "denominator": d,
                    "estimate": n / d,
                    "ci_low": lo,
                    "ci_high": hi,
                }
            ]
        ).to_csv(run / "results.csv", index=False)
    broken = plan_batch([tmp_path / "a<b>.csv"], tmp_path)[0]
    outcomes = [
        RunOutcome(specs[0], "done"),
        RunOutcome(specs[1], "skipped"),
        RunOutcome(broken, "failed", "bad value <script>alert(1)</script>\nsecond line"),
    ]
    csv_path, html_path = write_summary(outcomes, tmp_path)
    summary = pd.read_csv(csv_path, keep_default_na=False).set_index("run")
    assert list(summary["status"]) == ["done", "skipped", "failed"]
    assert summary.loc[specs[1].name, ["cr_numerator", "cr_denominator"]].tolist() == ["9", "17"]
    assert summary.loc[broken.name, "error"] == "bad value <script>alert(1)</script>"
    assert summary.loc[broken.name, "cr_numerator"] == ""
    page = html_path.read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;" in page and "a&lt;b&gt;" in page
    assert "23/34 (67.6%), 95% CI 49.5–82.6%" in page
    assert page.count("data:image/png;base64,") == 1 and "http" not in page
