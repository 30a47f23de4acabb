"""What a clinician reads in a finished run: report pages (with "Show code" off) and Word tables
carry labels, never result keys, raw levels (True, False, <NA>) or ASCII >= and <=."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from helpers import suppression
from pipeline import report

#: Cell texts that are a raw level or missing value, not words.
RAW_CELLS = {"True", "False", "<NA>", "nan", "NaN", "None"}
#: What a page hides until "Show code and printed values" is ticked, and the parameters list
#: (parameters are shown by their name, which is what a user passes to change one).
HIDDEN = ".input, .output_stdout, details.parameters, script, style"
#: Names set as code (in backticks: file and column names for analysts) and the glossary
#: tables whose "Variable" column defines each derived variable's name are meant as names.
GLOSSARY_HEADER = "Variable"


def result_key_names(run: Path) -> re.Pattern:
    """Every snake_case name inside a result key of ``results.csv`` (``any_cr``, ``high_burden``)."""
    keys = pd.read_csv(run / "results.csv")["key"].astype(str)
    names = {n for k in keys for n in re.findall(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b", k)}
    return re.compile(
        r"\b(" + "|".join(sorted(map(re.escape, names), key=len, reverse=True)) + r")\b"
    )


def visible(page: Path) -> BeautifulSoup:
    """A report page as a reader sees it with the code hidden, without code-set names and glossaries."""
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    for element in soup.select(HIDDEN) + soup.find_all("code"):
        element.decompose()
    for table in soup.find_all("table"):
        headers = [th.get_text(" ", strip=True) for th in table.find_all("th")]
        if GLOSSARY_HEADER in headers:
            table.decompose()
    return soup


def problems(texts: list[str], cells: list[str], names: re.Pattern) -> list[str]:
    found = [f"raw cell {c!r}" for c in cells if c.strip() in RAW_CELLS]
    for text in texts:
        for hit in re.finditer(r">=|<=|<NA>", text):
            found.append(f"{hit.group(0)!r} in …{text[max(0, hit.start() - 50) : hit.end() + 30]}…")
        for hit in names.finditer(text):
            found.append(
                f"key {hit.group(0)!r} in …{text[max(0, hit.start() - 50) : hit.end() + 30]}…"
            )
    return found


def page_problems(run: Path) -> dict[str, list[str]]:
    names = result_key_names(run)
    out = {}
    for page in sorted((run / "report").glob("*.html")):
        soup = visible(page)
        cells = [c.get_text(" ", strip=True) for c in soup.find_all(["td", "th"])]
        found = problems([soup.get_text(" ")], cells, names)
        if found:
            out[page.name] = sorted(set(found))
    return out


def word_problems(run: Path) -> dict[str, list[str]]:
    import docx

    names = result_key_names(run)
    out = {}
    for path in sorted((run / "tables").glob("*.docx")):
        document = docx.Document(str(path))
        cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
        found = problems([p.text for p in document.paragraphs] + cells, cells, names)
        if found:
            out[path.name] = sorted(set(found))
    return out


@pytest.mark.parametrize("fixture", ["shipped_run", "shipped_share_run"])
def test_no_report_page_shows_a_result_key_a_raw_level_or_an_ascii_comparison(fixture, request):
    run = request.getfixturevalue(fixture)
    assert page_problems(run) == {}


@pytest.mark.parametrize("fixture", ["shipped_run", "shipped_share_run"])
def test_no_word_table_shows_a_result_key_a_raw_level_or_an_ascii_comparison(fixture, request):
    run = request.getfixturevalue(fixture)
    assert list((run / "tables").glob("*.docx")), "the run wrote no Word table"
    assert word_problems(run) == {}


def test_the_scan_finds_a_key_a_raw_level_and_an_ascii_comparison(shipped_run, tmp_path):
    # The scan itself must be able to fail: a page with one of each is reported three times.
    run = tmp_path / "run"
    (run / "report").mkdir(parents=True)
    shutil.copyfile(shipped_run / "results.csv", run / "results.csv")
    (run / "report" / "x.html").write_text(
        "<p>CR by high_burden: blasts >= 50%</p><table><tr><th>CR</th></tr><tr><td>True</td></tr></table>"
        "<div class='input'><pre>any_cr >= 1</pre></div><p><code>any_cr</code></p>",
        encoding="utf-8",
    )
    found = page_problems(run)["x.html"]
    assert (
        len(found) == 3
        and any("high_burden" in f for f in found)
        and any("'>='" in f for f in found)
    )


def test_re_rendering_a_finished_share_runs_report_reads_hidden_counts_as_hidden(
    shipped_share_run, tmp_path
):
    # A share run's results.csv holds "<5" and "not shown" where counts are hidden; rendering the
    # report again (pipeline.report.render_report, as the run does) must show them, never parse them.
    run = tmp_path / "run"
    shutil.copytree(shipped_share_run, run)
    results = pd.read_csv(run / "results.csv", dtype=str, keep_default_na=False)
    crs = results["key"] == "crs[all]"
    results.loc[crs, "numerator"] = suppression.SECONDARY
    results.to_csv(run / "results.csv", index=False)
    index = report.render_report(run, kind="share", policy=suppression.Policy.for_run(True, 5))
    text = BeautifulSoup(index.read_text(encoding="utf-8"), "html.parser").get_text(" ")
    assert f"{suppression.SECONDARY}/" in text
