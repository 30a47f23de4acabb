"""A share-safe run (``run --share``): no input copy, no patient_id in any file, no count from 1 to 4, said on every page."""

from __future__ import annotations

import hashlib
import html
import json
import re
import zipfile
import zlib
from pathlib import Path

import pandas as pd
import pytest
from shared_runs import COUNTING_NOTEBOOKS, followup_cohort

from helpers import suppression

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def file_texts(path: Path) -> list[bytes]:
    """The bytes of a file as stored, plus what is inside it when it is compressed (XLSX, PNG)."""
    raw = path.read_bytes()
    out = [raw]
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            out += [z.read(name) for name in z.namelist()]
    if raw.startswith(b"\x89PNG"):
        pos = 8
        while pos + 8 <= len(raw):
            size = int.from_bytes(raw[pos : pos + 4], "big")
            kind, body = raw[pos + 4 : pos + 8], raw[pos + 8 : pos + 8 + size]
            if kind in (b"zTXt", b"iTXt"):
                try:
                    out.append(zlib.decompress(body[body.index(b"\0") + 2 :]))
                except (ValueError, zlib.error):
                    out.append(body)
            elif kind == b"tEXt":
                out.append(body)
            pos += 12 + size
    return out


@pytest.fixture(scope="module")
def share_run(followup_share_run) -> tuple[Path, Path]:
    """(cohort, run) of the session's shared share run (conftest.py)."""
    return followup_cohort(followup_share_run), followup_share_run


def test_a_share_run_keeps_no_copy_of_the_input_but_its_name_and_hash(share_run):
    cohort, out = share_run
    assert not (out / "input").exists()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == "share"
    assert manifest["input"]["file"] == cohort.name
    assert manifest["input"]["sha256"] == hashlib.sha256(cohort.read_bytes()).hexdigest()
    raw = cohort.read_bytes()
    assert not [p for p in out.rglob("*") if p.is_file() and p.read_bytes() == raw]


def test_every_report_page_of_a_share_run_says_it_is_one(share_run):
    _, out = share_run
    pages = sorted((out / "report").glob("*.html"))
    assert pages
    for page in pages:
        assert "Share-safe copy of" in page.read_text(encoding="utf-8"), page.name


def test_no_file_of_a_share_run_holds_a_patient_id(share_run):
    cohort, out = share_run
    ids = [str(i).encode("utf-8") for i in pd.read_csv(cohort, dtype=str)["patient_id"]]
    leaks = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        found = {i.decode() for blob in file_texts(path) for i in ids if i in blob}
        if found:
            leaks[str(path.relative_to(out))] = sorted(found)[:3]
    assert not leaks, f"patient_id found in {leaks}"


# --- small-cell suppression -------------------------------------------------------------

#: Counts written as text: "3/30", "30/3", "3 (10.0%)", "n = 3" (the count 1..4 not preceded by "<").
SMALL_COUNT = re.compile(
    r"(?<![\w.<–-])[1-4]/\d+(?![\d.])|(?<![\w.<])\d+/[1-4](?![\d.%])"
    r"|(?<![\w.<–/-])[1-4] \(\d+(?:\.\d)?%\)|\bn ?= ?[1-4]\b"
)


def shown_texts(out: Path):
    """(where, text) of every table, report page, results file and notebook output of a run."""
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        where = str(path.relative_to(out))
        if path.suffix in (".csv", ".html"):
            yield where, html.unescape(path.read_text(encoding="utf-8-sig"))
        elif path.suffix in (".xlsx", ".docx"):
            with zipfile.ZipFile(path) as z:
                for name in z.namelist():
                    if name.endswith(".xml"):
                        yield f"{where}:{name}", html.unescape(z.read(name).decode("utf-8"))
        elif path.suffix == ".ipynb":
            nb = json.loads(path.read_text(encoding="utf-8"))
            for i, cell in enumerate(nb["cells"]):
                for output in cell.get("outputs", []):
                    texts = [v for k, v in output.get("data", {}).items() if k.startswith("text")]
                    texts += [output["text"]] if "text" in output else []
                    for text in texts:
                        yield f"{where}[{i}]", html.unescape("".join(text))


def test_no_table_report_or_results_file_of_a_share_run_shows_a_count_from_1_to_4(share_run):
    _, out = share_run
    found = [
        f"{where}: {m.group(0)!r}"
        for where, text in shown_texts(out)
        for m in SMALL_COUNT.finditer(text)
    ]
    assert not found, "\n".join(found[:20])
    results = pd.read_csv(out / "results.csv", dtype=str, keep_default_na=False)
    results = results[
        ~results["unit"].isin(suppression.NOT_PATIENTS)
    ]  # counts of the paper's figures, of codes
    for column in ("numerator", "denominator"):
        small = results.loc[results[column].isin(["1", "2", "3", "4"]), "key"]
        assert small.empty, f"results.csv {column} 1..4 for {list(small)[:5]}"


FRACTION = re.compile(r"(?<![\w.<–-])(\d+)/(\d+)(?![\d.])")


def test_no_table_or_page_of_a_share_run_shows_a_rate_whose_complement_is_from_1_to_4(share_run):
    # 33/34 would tell that 1 patient did not have the outcome; the historic comparators' published
    # figures (e.g. "14/16" in results labels and the historic forest plot) are not this cohort's counts.
    _, out = share_run
    found = [
        f"{where}: {m.group(0)!r}"
        for where, text in shown_texts(out)
        if where.startswith(("tables", "report/0", "report/index"))
        and where.endswith((".csv", ".html"))
        for m in FRACTION.finditer(text)
        if 0 < int(m.group(2)) - int(m.group(1)) < 5
    ]
    assert not found, "\n".join(found[:20])
    results = pd.read_csv(out / "results.csv", dtype=str, keep_default_na=False)
    counts = results[
        results["numerator"].str.isdigit()
        & results["denominator"].str.isdigit()
        & results["unit"].isin(["proportion", "count"])
    ]
    complement = counts["denominator"].astype(int) - counts["numerator"].astype(int)
    assert counts.loc[complement.between(1, 4), "key"].empty


def test_the_banner_of_a_share_run_says_which_counts_are_hidden(share_run):
    _, out = share_run
    assert "counts from 1 to 4 are hidden" in (out / "report" / "index.html").read_text(
        encoding="utf-8"
    )


def test_a_share_run_shows_less_than_5_with_its_footnote_in_tables_text_headlines_and_results(
    share_run,
):
    _, out = share_run
    footnote = "<5: a count from 1 to 4"
    table1 = (out / "tables" / "table1_patient_characteristics.csv").read_text(encoding="utf-8-sig")
    page = html.unescape(
        (out / "report" / "03_response_by_subgroup.html").read_text(encoding="utf-8")
    )
    assert "<5/" in page and footnote in page
    assert "<5" in table1 or "<5" in page
    with zipfile.ZipFile(out / "tables" / "response_by_subgroup.xlsx") as z:
        sheet = html.unescape(z.read("xl/worksheets/sheet1.xml").decode("utf-8"))
    assert "<5/" in sheet and footnote in sheet
    results = pd.read_csv(out / "results.csv", dtype=str, keep_default_na=False)
    hidden = results[results["numerator"] == "<5"]
    assert len(hidden) and (hidden[["estimate", "ci_low", "ci_high"]] == "").all(axis=None)
    tests = results[results["key"].str.contains("~fisher")]
    assert (tests["p_value"] != "").all()  # p-values from hidden counts stay


def test_an_internal_run_of_the_same_cohort_shows_the_counts_the_share_run_hides(
    shipped_share_run, shipped_run
):
    shared = pd.read_csv(
        shipped_share_run / "results.csv", dtype=str, keep_default_na=False
    ).set_index("key")
    internal = pd.read_csv(shipped_run / "results.csv", dtype=str, keep_default_na=False).set_index(
        "key"
    )
    hidden = shared.index[
        (shared["numerator"] == "<5") & shared["notebook"].isin(COUNTING_NOTEBOOKS)
    ]
    assert len(hidden)
    assert internal.loc[hidden, "numerator"].astype(float).between(1, 4).all()
    found = [m.group(0) for _, text in shown_texts(shipped_run) for m in SMALL_COUNT.finditer(text)]
    assert found
    assert "<5: a count from 1 to 4" not in (
        shipped_run / "report" / "03_response_by_subgroup.html"
    ).read_text(encoding="utf-8")
