"""A share run gives no hidden count back: the recovery arithmetic an attacker would try finds nothing.

Policy under test (helpers/suppression.py): counts 1..4 shown as "<5", every other count of patients
rounded to a multiple of 5, percentages and exact CIs from the rounded counts. Any sum or difference of
shown counts is then a multiple of 5, so it never equals a count from 1 to 4.
"""

from __future__ import annotations

import html
import math
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from helpers import figures, response, suppression, survival  # noqa: E402

SHARE = suppression.Policy.for_run(True, 5)
FRACTION = re.compile(r"(?<![\w.<–-])(\d+)/(\d+)(?![\d.])")
#: Published comparators' counts (data/historic_comparators.csv) are not this cohort's: they stay as printed.
COMPARATOR_TOTALS = set(
    pd.read_csv(Path(__file__).resolve().parents[1] / "data" / "historic_comparators.csv")[
        "denominator"
    ]
    .dropna()
    .astype(int)
    .astype(str)
)


def patient_rows(out: Path) -> pd.DataFrame:
    results = pd.read_csv(out / "results.csv", dtype=str, keep_default_na=False)
    return results[~results["unit"].isin(suppression.NOT_PATIENTS)]


@pytest.mark.slow
def test_every_count_of_patients_in_results_csv_is_hidden_zero_or_a_multiple_of_5(
    followup_share_run,
):
    rows = patient_rows(followup_share_run)
    for column in ("numerator", "denominator"):
        shown = rows.loc[rows[column] != "", column]
        assert shown.isin(["<5"]).any() or column == "denominator"
        numbers = shown[shown.str.fullmatch(r"\d+")].astype(int)
        assert (numbers % 5 == 0).all(), list(rows.loc[numbers[numbers % 5 != 0].index, "key"])[:5]


@pytest.mark.slow
def test_subtracting_shown_levels_from_their_total_in_results_csv_gives_back_no_hidden_count(
    followup_share_run,
):
    # n[var=level] of every level of var, beside n[all]: total minus the shown levels is the attack
    rows = patient_rows(followup_share_run).set_index("key")
    levels = rows[rows.index.str.fullmatch(r"n\[[a-z_]+=[^&\]]+\]")]
    variables = levels.index.str.extract(r"n\[([a-z_]+)=", expand=False)
    tried = 0
    for variable, block in levels.groupby(variables.to_numpy()):
        hidden = block["numerator"] == "<5"
        if hidden.sum() != 1 or not block["denominator"].str.fullmatch(r"\d+").all():
            continue
        total = int(block["denominator"].iloc[0])
        left = total - block.loc[~hidden, "numerator"].astype(int).sum()
        tried += 1
        assert not 1 <= left <= 4, (variable, left)
    assert tried, "no line of levels with one hidden count to attack"


@pytest.mark.slow
def test_every_percentage_and_interval_in_results_csv_inverts_only_to_the_shown_counts(
    followup_share_run,
):
    # R: binom.test(10, 15)$conf.int -> 0.3838037325 0.8817588966; binom.test(25, 40) -> 0.4580147522 0.7727372775
    assert SHARE.rate(10, 15) == pytest.approx((10 / 15, 0.3838037325, 0.8817588966), abs=1e-9)
    assert SHARE.rate(24, 41) == pytest.approx((25 / 40, 0.4580147522, 0.7727372775), abs=1e-9)
    rows = patient_rows(followup_share_run)
    rates = rows[
        rows["numerator"].str.fullmatch(r"\d+")
        & rows["denominator"].str.fullmatch(r"[1-9]\d*")
        & (rows["unit"] == "proportion")
        & (rows["estimate"] != "")
        # a cumulative incidence is not events / patients: it is read from the rounded steps
        & ~rows["key"].str.contains(r"\.cif_\d", regex=True)
    ]
    assert len(rates) > 20
    for row in rates.itertuples():
        k, n = int(row.numerator), int(row.denominator)
        assert float(row.estimate) == pytest.approx(k / n, abs=1e-9), row.key
        if row.ci_low != "" and row.method.startswith("count"):
            assert (float(row.ci_low), float(row.ci_high)) == pytest.approx(
                SHARE.rate(k, n)[1:], abs=1e-8
            ), row.key
    hidden = rows[rows["numerator"] == "<5"]
    assert (hidden[["estimate", "ci_low", "ci_high"]] == "").all(axis=None)


@pytest.mark.slow
def test_a_risk_difference_against_a_published_comparator_gives_back_only_a_rounded_rate(
    followup_share_run,
):
    # comparator rate + difference = the cohort's rate: it must be a ratio of two shown (rounded) counts
    rows = patient_rows(followup_share_run).set_index("key")
    comparators = pd.read_csv(
        Path(__file__).resolve().parents[1] / "data" / "historic_comparators.csv"
    )
    rates = set((comparators["numerator"] / comparators["denominator"]).dropna()) | set(
        comparators["percent"] / 100
    )
    rounded = {k / n for n in range(5, 45, 5) for k in range(0, n + 1, 5)}
    # a reweighted (MAIC) rate is a model estimate, like a hazard ratio: computed from every patient
    # (the README's stated limit), so its difference is not one of rounded counts
    differences = rows.loc[
        rows.index.str.endswith(".risk_difference")
        & (rows["estimate"] != "")
        & ~rows.index.str.startswith("maic["),
        "estimate",
    ]
    assert len(differences)
    for key, d in differences.astype(float).items():
        assert any(abs(c + d - r) < 1e-9 for c in rates for r in rounded), key


def texts(path: Path) -> str:
    if path.suffix in (".docx", ".xlsx"):
        with zipfile.ZipFile(path) as z:
            return " ".join(
                html.unescape(z.read(n).decode("utf-8")) for n in z.namelist() if n.endswith(".xml")
            )
    return path.read_text(encoding="utf-8-sig")


@pytest.mark.slow
def test_word_tables_show_the_counts_of_their_csv_all_rounded_or_hidden(followup_share_run):
    tables = followup_share_run / "tables"
    word = sorted(tables.glob("*.docx"))
    assert word
    for docx in word:
        shown = {m.groups() for m in FRACTION.finditer(texts(docx))} - {
            m.groups() for m in FRACTION.finditer(texts(docx.with_suffix(".csv")))
        }
        cohort = [(k, n) for k, n in shown if n not in COMPARATOR_TOTALS]
        assert all(int(k) % 5 == 0 and int(n) % 5 == 0 for k, n in cohort), (docx.name, cohort[:5])
        found = [
            m.group(0)
            for m in FRACTION.finditer(texts(docx))
            if m.group(2) not in COMPARATOR_TOTALS and (int(m.group(1)) % 5 or int(m.group(2)) % 5)
        ]
        assert not found, (docx.name, found[:5])


@pytest.mark.slow
def test_no_table_page_or_notebook_shows_an_unrounded_count_of_this_cohorts_patients(
    followup_share_run,
):
    from test_share_mode import shown_texts

    found = [
        f"{where}: {m.group(0)}"
        for where, text in shown_texts(followup_share_run)
        if not where.startswith(("notebooks/06", "report/notebooks/06", "report/06"))
        for m in FRACTION.finditer(text)
        if m.group(2) not in COMPARATOR_TOTALS
        and (int(m.group(1)) % 5 or int(m.group(2)) % 5)
        and "5/34" not in m.group(0)
    ]  # the paper's 5/34, quoted in notebook 04's source
    assert not found, "\n".join(found[:10])


@pytest.mark.slow
def test_figure_captions_and_png_metadata_show_rounded_counts(followup_share_run):
    from test_share_mode import file_texts

    pngs = sorted((followup_share_run / "figures").glob("*.png"))
    assert pngs
    for png in pngs:
        meta = " ".join(b.decode("latin-1") for b in file_texts(png)[1:])
        for m in re.finditer(r"\b(\d+) of (\d+) patients", meta):
            assert int(m.group(1)) % 5 == 0 and int(m.group(2)) % 5 == 0, (png.name, m.group(0))
        assert not [
            m for m in FRACTION.finditer(meta) if int(m.group(1)) % 5 or int(m.group(2)) % 5
        ], png.name


def test_a_saved_figure_shows_its_labels_and_caption_with_rounded_counts(tmp_path):
    fig, ax = figures.new_figure(4, 3)
    ax.set_yticks([0, 1], ["Steroids (9/11)", "<=2 (20/22)"])
    ax.set_title("for the 39 of 40 patients with a value")
    figures.save_figure(
        fig,
        "probe",
        tmp_path,
        alt="for the 39 of 40 patients with a value",
        show=False,
        policy=SHARE,
    )
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["Steroids (10/10)", "<=2 (20/20)"]
    assert ax.get_title() == "for the 40 of 40 patients with a value"
    assert b"39 of 40" not in (tmp_path / "figures" / "probe.png").read_bytes()


def test_a_forest_plot_row_is_drawn_from_the_rounded_counts_and_a_hidden_one_not_at_all():
    rates = pd.DataFrame(
        {
            "level": ["steroids", "tki"],
            "numerator": [9, 3],
            "denominator": [11, 6],
            "estimate": [9 / 11, 0.5],
            "ci_low": [0.48, 0.1],
            "ci_high": [0.98, 0.9],
        }
    )
    table = type(
        "RT", (), {"by": "debulking_category", "outcome": "any_cr", "where": None, "rates": rates}
    )()
    rows = response.forest_rows([table], policy=SHARE)
    assert rows["label"].str.endswith("(10/10)").iloc[0] and "(<5/5)" in rows["label"].iloc[1]
    assert rows["estimate"].iloc[0] == 1.0 and math.isnan(rows["estimate"].iloc[1])


@pytest.mark.parametrize(
    "durations, events, drawn",
    [
        (
            [0.5, 10.3, 15.1, 19.9],
            [1, 1, 1, 1],
            False,
        ),  # the group of 4: each step was one death
        (
            [0.5, 1.2, 2.2, 3, 4.5, 6, 7, 7.5, 9, 10, 12, 13, 14, 15, 18],
            [1, 1, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0],
            True,
        ),
    ],
)
def test_a_survival_curve_is_not_drawn_below_k_and_each_step_is_a_multiple_of_5_events(
    durations, events, drawn
):
    steps = SHARE.km_steps(durations, events)
    assert (len(steps) > 0) == drawn
    if drawn:
        assert (steps["events"] % 5 == 0).all() and (steps["at_risk"] % 5 == 0).all()
        assert (steps["time"] == steps["time"].round()).all()  # whole months, no patient's own time
        assert steps["survival"].is_monotonic_decreasing


#: 31 patients, 23 deaths; their rounded curve is that of 30 patients with 5 deaths at months 2, 5, 9, 13, 23 and
#: 5 censored at month 10 (the rounded counts), which R reproduces:
#: library(survival); t <- c(rep(2,5),rep(5,5),rep(9,5),rep(10,5),rep(13,5),rep(23,5))
#: e <- c(rep(1,15),rep(0,5),rep(1,10)); summary(survfit(Surv(t,e)~1, conf.type="log-log"))
ROUNDED_KM_R = pd.DataFrame(
    {
        "time": [2.0, 5, 9, 13, 23],
        "at_risk": [30, 25, 20, 10, 5],
        "events": [5] * 5,
        "survival": [0.8333333333, 0.6666666667, 0.5, 0.25, 0.0],
        "low": [0.64496100492, 0.46917060524, 0.31300644784, 0.09797303639, math.nan],
        "high": [0.9270060459, 0.8047398375, 0.6612405889, 0.4372391163, math.nan],
    }
)


def test_a_share_runs_survival_curve_is_the_kaplan_meier_of_the_rounded_counts_as_r_computes_it():
    from lifelines import KaplanMeierFitter

    durations = [
        0.5,
        1.2,
        2.2,
        3,
        4.5,
        6,
        7,
        7.5,
        9,
        10,
        12,
        13,
        14,
        15,
        18,
        2.5,
        3.5,
        4.1,
        8.8,
        9.9,
        11.2,
        12.5,
        16,
        17,
        20,
        21,
        22,
        23,
        5.5,
        6.6,
        1.1,
    ]
    events = [
        1,
        1,
        0,
        1,
        1,
        1,
        0,
        1,
        1,
        0,
        1,
        1,
        0,
        1,
        0,
        1,
        1,
        1,
        1,
        0,
        1,
        1,
        1,
        0,
        1,
        1,
        0,
        1,
        1,
        1,
        1,
    ]
    steps = survival.rounded_steps(KaplanMeierFitter().fit(durations, events), policy=SHARE)
    stepped = steps[steps["events"] > 0].reset_index(drop=True)
    pd.testing.assert_frame_equal(stepped, ROUNDED_KM_R, check_dtype=False, atol=1e-9)


def test_a_share_runs_cumulative_incidence_is_aalen_johansen_of_the_rounded_counts_as_cmprsk_computes_it():
    # 20 patients, causes 1 and 2; the rounded counts are 5 of cause 1 at month 4, 5 of cause 2 at 8, 5 of cause 1
    # at 15, 5 censored at 17. R: library(cmprsk); t <- c(rep(4,5),rep(8,5),rep(15,5),rep(17,5))
    # e <- c(rep(1,5),rep(2,5),rep(1,5),rep(0,5)); timepoints(cuminc(t, e), c(4, 8, 15))$est
    #   cause 1: 0.25 0.25 0.50; cause 2: 0.00 0.25 0.25
    durations = list(range(1, 21))
    causes = [1, 2, 1, 1, 0, 2, 1, 2, 2, 1, 0, 1, 1, 2, 1, 1, 0, 2, 1, 1]
    steps = SHARE.cif_steps(durations, causes).set_index("time")
    assert list(steps.loc[[4.0, 8.0, 15.0], "cif_1"]) == pytest.approx([0.25, 0.25, 0.50])
    assert list(steps.loc[[4.0, 8.0, 15.0], "cif_2"]) == pytest.approx([0.00, 0.25, 0.25])
    assert (steps[["events_1", "events_2", "at_risk"]] % 5 == 0).all(axis=None)
    assert SHARE.cif_steps([1, 2, 3], [1, 2, 1]).empty  # a group of 3 is not drawn


def test_the_survival_table_of_a_share_run_shows_no_median_or_survival_of_a_group_below_k():
    from lifelines import KaplanMeierFitter

    fits = {
        "small": KaplanMeierFitter().fit([0.5, 10.3, 15.1, 19.9], [1, 1, 1, 1]),
        "large": KaplanMeierFitter().fit(list(range(1, 16)), [1, 0] * 7 + [1]),
    }
    table = survival.km_table(fits, [6], policy=SHARE)
    small = table.set_index("Group").loc["small"]
    assert (
        small["Patients"] == "<5"
        and small["Median"] == "–"
        and small["Survival at 6 months"] == "–"
    )
    assert table.set_index("Group").loc["large", "Patients"] == "15"


@pytest.mark.parametrize("centre_n", range(5, 13))
def test_whole_file_minus_the_other_centres_gives_back_no_hidden_count_of_a_centre(centre_n):
    # a share batch: the whole-file run and every centre's run each show their own rounded counts
    others = pd.DataFrame(
        {"key": ["n[any_cr=True]"], "numerator": [20], "denominator": [31], "estimate": [20 / 31]}
    )
    for centre_cr in range(1, 5):
        centre = others.assign(
            numerator=[centre_cr], denominator=[centre_n], estimate=[centre_cr / centre_n]
        )
        whole = others.assign(numerator=[20 + centre_cr], denominator=[31 + centre_n])
        whole["estimate"] = whole["numerator"] / whole["denominator"]
        shown = {
            name: suppression.tidy(frame, SHARE).iloc[0]
            for name, frame in (("whole", whole), ("others", others), ("centre", centre))
        }
        assert shown["centre"]["numerator"] == "<5"
        recovered = int(shown["whole"]["numerator"]) - int(shown["others"]["numerator"])
        assert not 1 <= recovered <= 4 and recovered != centre_cr


def test_a_share_batch_summary_names_no_patient_value_or_path(tmp_path):
    from pipeline.batch import RunSpec, run_batch

    missing = tmp_path / "secret-folder" / "Rossi Mario 1957-03-02.csv"
    spec = RunSpec(name="centre-x", data=missing, source="registry.csv", centre="x", parameters=())
    run_batch([spec], tmp_path / "out", progress=False, share=True)
    written = (tmp_path / "out" / "summary.csv").read_text(encoding="utf-8") + (
        tmp_path / "out" / "index.html"
    ).read_text(encoding="utf-8")
    assert "Rossi" not in written and str(tmp_path) not in written and "1957" not in written
    assert "without --share" in written


def test_a_share_failure_text_keeps_the_notebook_and_drops_the_patient_and_the_path():
    text = suppression.share_failure_text(
        "notebook 03_response_by_subgroup.ipynb failed: patient Rossi Mario 1957-03-02, column age_years: '17'\n"
        "The partial run is kept for inspection as /home/me/out.failed"
    )
    assert "03_response_by_subgroup.ipynb" in text
    assert not any(s in text for s in ("Rossi", "1957", "'17'", "/home/me"))


def test_the_next_run_removes_a_killed_share_runs_input_copy_even_under_a_reused_pid_not_a_starting_runs(
    tmp_path, monkeypatch, capsys
):
    import tempfile

    from pipeline import run

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    left = tmp_path / f"{run.SHARE_INPUT_PREFIX}abc"
    (left / "input").mkdir(parents=True)
    (left / "input" / "cohort.csv").write_text("patient_id\nP001\n", encoding="utf-8")
    (left / "owner.pid").write_text(f"{dead.pid}\n", encoding="ascii")
    alive = tmp_path / f"{run.SHARE_INPUT_PREFIX}live"
    alive.mkdir()
    (alive / "owner.pid").write_text(f"{os.getpid()} {run._process_start(os.getpid())}\n", "ascii")
    # a killed run whose process id the kernel has since given to another process (this one)
    reused = tmp_path / f"{run.SHARE_INPUT_PREFIX}reused"
    reused.mkdir()
    (reused / "owner.pid").write_text(f"{os.getpid()} 1\n", encoding="ascii")
    older = tmp_path / f"{run.SHARE_INPUT_PREFIX}older"  # a live run's id without start time
    older.mkdir()
    (older / "owner.pid").write_text(f"{os.getpid()}\n", encoding="ascii")
    # share runs starting now: no whole process id yet, so nothing copied yet; left alone
    starting = tmp_path / f"{run.SHARE_INPUT_PREFIX}starting"
    starting.mkdir()
    (starting / "owner.pid.part").write_text("", encoding="ascii")
    naming = tmp_path / f"{run.SHARE_INPUT_PREFIX}naming"  # its owner file still being written
    naming.mkdir()
    (naming / "owner.pid").write_text("", encoding="ascii")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    made = run._share_input_folder()
    assert not left.exists() and not reused.exists() and made.is_dir()
    assert alive.exists() and older.exists() and starting.exists() and naming.exists()
    assert sorted(p.name for p in made.iterdir()) == ["owner.pid"]
    err = capsys.readouterr().err
    assert str(left) in err and str(reused) in err
    assert str(starting) not in err and str(naming) not in err and str(alive) not in err
    pid, started = (made / "owner.pid").read_text(encoding="ascii").split()
    assert (int(pid), started) == (os.getpid(), run._process_start(os.getpid()))
    assert int(started) > 1  # ticks after boot, read from /proc


def test_a_process_whose_name_is_not_ascii_still_gives_its_start_time(tmp_path):
    import shutil

    from pipeline import run

    sleeper = tmp_path / "schl\u00e4fer) 1 2"  # /proc/<pid>/stat holds the name as raw bytes
    shutil.copy(shutil.which("sleep"), sleeper)
    proc = subprocess.Popen([str(sleeper), "30"])
    try:
        assert run._process_start(proc.pid).isdigit()
    finally:
        proc.kill()
        proc.wait()
    assert run._process_start(proc.pid) == ""  # gone


@pytest.mark.slow
def test_notebook_06_of_a_share_run_on_the_shipped_cohort_prints_no_count_from_1_to_4(
    shipped_share_run,
):
    from test_share_mode import SMALL_COUNT, shown_texts

    pages = [
        (where, text)
        for where, text in shown_texts(shipped_share_run)
        if "06_reproduction" in where
    ]
    assert pages
    found = [
        f"{where}: {m.group(0)!r}" for where, text in pages for m in SMALL_COUNT.finditer(text)
    ]
    assert not found, "\n".join(found[:10])


@pytest.mark.slow
def test_a_share_run_killed_with_sigkill_leaves_a_copy_that_the_next_share_run_reports_and_removes(
    tmp_path,
):
    import signal
    import time

    from shared_runs import ROOT, SHIPPED_COHORT, pipeline_command

    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp)}
    run = subprocess.Popen(
        pipeline_command(
            "run",
            "--data",
            str(SHIPPED_COHORT),
            "--out",
            str(tmp_path / "run"),
            "--share",
            "--workers",
            "1",
        ),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    copy = None
    for _ in range(600):  # the copy is made once the input has been validated
        copy = next(temp.glob(f"share-input-*/input/{SHIPPED_COHORT.name}"), None)
        if copy is not None or run.poll() is not None:
            break
        time.sleep(0.1)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    assert copy is not None and copy.exists()
    check = subprocess.run(
        [sys.executable, "-c", "from pipeline import run; run._share_input_folder()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stderr
    assert not copy.exists() and str(copy.parents[1]) in check.stderr


@pytest.mark.slow
def test_a_failed_share_run_keeps_no_partial_run_and_says_how_to_inspect_it(tmp_path):
    from shared_runs import run_cli
    from test_pipeline import COHORT, tiny_notebooks

    notebooks = tiny_notebooks(tmp_path / "nbs", 'raise ValueError("boom in the analysis")')
    done = run_cli(
        "run",
        "--data",
        str(COHORT),
        "--out",
        str(tmp_path / "run"),
        "--notebooks",
        str(notebooks),
        "--share",
    )
    assert done.returncode == 1 and "01_tiny.ipynb" in done.stderr
    assert "without --share" in done.stderr and "kept for inspection" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nbs"]


@pytest.mark.slow
def test_the_whole_file_run_minus_the_other_centres_run_gives_back_no_hidden_count_of_a_share_batch(
    followup_share_run, tmp_path
):
    from shared_runs import counting_notebooks, followup_cohort, run_cli, with_session_fork_server

    from pipeline.batch import OTHER_CENTRES

    # the shared run analysed the whole file; the batch splits the same file into centre c02 (9 patients) and
    # the 31 patients of the other centres, pooled (--min-patients 7)
    cohort = followup_cohort(followup_share_run)
    # the notebooks that count patients by group, response, CRS and survival: the batch runs
    # only these (the keys compared are those all three runs share)
    notebooks = counting_notebooks(tmp_path)
    done = run_cli(
        "batch",
        str(cohort),
        "--by",
        "center",
        "--min-patients",
        "7",
        "--share",
        "--out",
        str(tmp_path / "batch"),
        "--notebooks",
        str(notebooks),
        env=with_session_fork_server(),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    runs = sorted((tmp_path / "batch" / "runs").iterdir())
    centre = next(r for r in runs if r.name.endswith("c02"))
    others = next(r for r in runs if r.name.endswith(OTHER_CENTRES.replace(" ", "_")))
    read = {
        name: patient_rows(run).set_index("key")
        for name, run in (("whole", followup_share_run), ("centre", centre), ("others", others))
    }
    keys = read["centre"].index.intersection(read["whole"].index).intersection(read["others"].index)
    tried = 0
    for key in keys:
        for column in ("numerator", "denominator"):
            if read["centre"].at[key, column] != "<5":
                continue
            whole, other = read["whole"].at[key, column], read["others"].at[key, column]
            if whole.isdigit() and other.isdigit():
                tried += 1
                assert not 1 <= int(whole) - int(other) <= 4, (key, column, whole, other)
    assert tried, "no hidden count of the centre to attack"
    summary = (tmp_path / "batch" / "summary.csv").read_text(encoding="utf-8")
    assert str(tmp_path) not in summary
