"""The HTML report: light self-contained pages, navigation, parameters, alt text, escaped data."""

import base64
import io
import re
import shutil
import zlib
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from matplotlib.figure import Figure
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from helpers import headlines, suppression
from helpers.results import RESULT_COLUMNS, Key
from pipeline import report

EVIL = "<img src=x onerror=alert(42)>.csv"


def png(title: str, description: str | None = None) -> bytes:
    fig = Figure(figsize=(2, 1.5))
    fig.subplots().set_title(title)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None, "Description": description})
    return buffer.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def image_output(data: bytes, **metadata):
    return new_output(
        "display_data", data={"image/png": base64.b64encode(data).decode()}, metadata=metadata
    )


def notebook(title: str, cells: list) -> nbformat.NotebookNode:
    params = new_code_cell(
        'data_path: str = "../data/cohort.csv"  # cohort file\n'
        'output_dir: str = "."  # run folder\n'
        "bmb_high_cutoff: int = 50  # % blasts; high tumour burden at or above\n"
    )
    params.metadata["tags"] = ["parameters"]
    injected = new_code_cell(f"data_path = {('input/' + EVIL)!r}\nbmb_high_cutoff = 40\n")
    injected.metadata["tags"] = ["injected-parameters"]
    return new_notebook(
        cells=[
            new_markdown_cell(f"# {title}\n\nWhat it answers. More words."),
            params,
            injected,
            *cells,
        ]
    )


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    """A small run folder: two notebooks, figures, a table, results and an oddly named input."""
    run = tmp_path_factory.mktemp("run")
    for folder in ("notebooks", "figures", "tables", "input", "results"):
        (run / folder).mkdir()
    (run / "input" / EVIL).write_text("patient_id\nP1\n")
    saved = png("CR by blasts before debulking")
    (run / "figures" / "cr_by_blasts.png").write_bytes(saved)
    (run / "figures" / "cr_by_blasts.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (run / "tables" / "cr_by_blasts.csv").write_text("a\n1\n")
    evil_markdown = new_output(
        "display_data", data={"text/markdown": f"**Data:** {EVIL}\n\n## Not a section"}
    )
    first = notebook(
        "01 · Alpha",
        [
            new_markdown_cell("## Data"),
            new_code_cell("show()", outputs=[evil_markdown]),
            new_markdown_cell("## Figure 2: CR by blasts"),
            new_code_cell(
                'save_figure(fig, "cr_by_blasts", output_dir)', outputs=[image_output(saved)]
            ),
            new_markdown_cell("## More figures"),
            new_code_cell(
                "a()", outputs=[image_output(png("x"), **{"image/png": {"alt": "Given alt"}})]
            ),
            new_code_cell("b()", outputs=[image_output(png("y", "Described in the PNG"))]),
            new_code_cell("c()", outputs=[image_output(png("z"))]),
        ],
    )
    # images that carry no alt text of their own: an SVG output, an <img> in an HTML output
    svg = new_output(
        "display_data", data={"image/svg+xml": "<svg xmlns='http://www.w3.org/2000/svg'/>"}
    )
    html_img = new_output(
        "display_data",
        data={"text/html": f'<p><img src="data:image/png;base64,{b64(png("h"))}"></p>'},
    )
    second = notebook(
        "02 · Beta",
        [new_markdown_cell("## Survival"), new_code_cell("1", outputs=[svg, html_img])],
    )
    nbformat.write(first, run / "notebooks" / "01_alpha.ipynb")
    nbformat.write(second, run / "notebooks" / "02_beta.ipynb")
    rows = pd.DataFrame(
        [
            {
                "notebook": "01_alpha",
                "key": "any_cr[all]",
                "label": "any_cr",
                "numerator": 23,
                "denominator": 34,
                "estimate": 23 / 34,
                "ci_low": 0.4947346991,
                "ci_high": 0.8261165725,
            },
            {
                "notebook": "02_beta",
                "key": headlines.AVAILABILITY_KEY,
                "label": "the data have no follow-up dates",
                "estimate": 0,
            },
        ],
        columns=RESULT_COLUMNS,
    )
    rows.to_csv(run / "results.csv", index=False)
    headlines.write_headlines([CR_HEADLINE], rows, "01_alpha", run)
    report.render_report(run)
    return run


CR_HEADLINE = headlines.Headline("Complete remission", "[[cr:rate]]", "Data", {"cr": Key("any_cr")})


def pages(run: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in (run / "report").glob("*.html")}


def test_text_from_data_never_becomes_live_html(run):
    for name, text in pages(run).items():
        assert "<img src=x" not in text and "onerror=alert(42)>" not in text, name
    assert "&lt;img src=x onerror=alert(42)&gt;.csv" in pages(run)["01_alpha.html"]


def test_every_page_has_a_unique_title_and_links_to_the_index_and_its_neighbours(run):
    texts = pages(run)
    titles = [re.search(r"<title>(.*?)</title>", t).group(1) for t in texts.values()]
    assert len(set(titles)) == len(titles) == 3
    assert (
        'href="index.html"' in texts["01_alpha.html"]
        and 'href="02_beta.html" rel="next"' in texts["01_alpha.html"]
    )
    assert 'href="01_alpha.html" rel="prev"' in texts["02_beta.html"]


def test_a_page_lists_its_sections_and_the_parameters_it_ran_with(run):
    text = pages(run)["01_alpha.html"]
    toc = re.search(r'<nav [^>]*class="toc".*?</nav>', text, re.DOTALL).group(0)
    assert re.findall(r'<a href="#([^"]+)">', toc) == [
        "data",
        "figure-2-cr-by-blasts",
        "more-figures",
    ]
    assert (
        '<tr class="changed"><td><code>bmb_high_cutoff</code></td><td>40</td><td>50</td>'
        "<td>% blasts; high tumour burden at or above</td>"
    ) in text


@pytest.mark.parametrize(
    "description",
    [
        "CR by marrow blasts before debulking",  # Latin-1: Matplotlib writes a tEXt chunk
        "Weights of Ph\u2212 patients, effective sample size \u2248 9.5",  # beyond: an iTXt chunk
    ],
)
def test_a_figure_s_description_is_read_whatever_chunk_matplotlib_wrote_it_in(
    description, tmp_path
):
    png = tmp_path / "figure.png"
    Figure().savefig(png, metadata={"Description": description, "Title": "A title"})
    assert report.png_text(png.read_bytes())["Description"] == description
    assert report.figure_caption(png) == description
    assert report.png_text(b"not a PNG") == {}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")


def test_png_text_reads_compressed_itxt_and_never_decodes_the_image_even_a_huge_one():
    # PNG chunk layout: ISO/IEC 15948 (PNG, 2nd ed.), sections 5.3 and 11.3.4.5
    header = (40_000).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])  # 40,000 x 40,000 RGB
    text = "Ph\u2212 patients, effective sample size \u2248 9.5".encode()
    png = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
    png += _chunk(b"iTXt", b"Description\0\1\0en\0\0" + zlib.compress(text))
    png += _chunk(b"tEXt", b"Title\0Weights") + _chunk(b"IEND", b"")
    assert report.png_text(png) == {"Description": text.decode(), "Title": "Weights"}


def test_figures_get_alt_text_from_metadata_caption_png_text_or_title_never_a_placeholder(run):
    alts = re.findall(r'<img\b[^>]*\balt="([^"]*)"', pages(run)["01_alpha.html"])
    assert alts == [
        "Figure 2: CR by blasts",
        "Given alt",
        "Described in the PNG",
        "Figure: More figures",
    ]
    assert report.NO_ALT_TEXT not in pages(run)["01_alpha.html"]


def test_every_image_on_every_page_has_alt_text_and_one_without_a_description_says_so(run):
    for name, text in pages(run).items():
        tags = re.findall(r"<img\b[^>]*>", text)
        assert all(re.search(r'\balt="[^"]+"', tag) for tag in tags), name
    alts = re.findall(r'<img\b[^>]*\balt="([^"]*)"', pages(run)["02_beta.html"])
    assert alts == [report.NO_ALT_TEXT] * 2  # the SVG output, the image in the HTML output


def test_a_page_is_nbconvert_s_html_page_but_for_its_serialisation(run, tmp_path, monkeypatch):
    """What HTMLExporter writes is the page parsed and written out by BeautifulSoup, which adds
    alt text to images without it: the report's page, so parsed and written, is the same."""
    from bs4 import BeautifulSoup
    from nbconvert import HTMLExporter

    def html_exporter():
        exporter = exporter_of_the_report()
        # the instance keeps the report's template and filters, the method is nbconvert's own
        exporter.from_notebook_node = HTMLExporter.from_notebook_node.__get__(exporter)
        return exporter

    exporter_of_the_report = report._exporter
    monkeypatch.setattr(report, "_exporter", html_exporter)
    copy = tmp_path / "run"
    shutil.copytree(run, copy, ignore=shutil.ignore_patterns("report"))
    report.render_report(copy)
    for name in ("01_alpha.html", "02_beta.html"):
        ours = (run / "report" / name).read_text(encoding="utf-8")
        nbconvert_page = (copy / "report" / name).read_text(encoding="utf-8")
        assert str(BeautifulSoup(ours, features="html.parser")) == nbconvert_page, name


def test_a_saved_figure_is_linked_as_a_file_with_its_downloads_and_shown_on_the_index(run):
    texts = pages(run)
    assert 'src="figures/cr_by_blasts.png"' in texts["01_alpha.html"]
    assert 'href="figures/cr_by_blasts.svg"' in texts["01_alpha.html"]
    assert (
        '<a href="01_alpha.html#figure-2-cr-by-blasts"><img src="figures/cr_by_blasts.png"'
        in texts["index.html"]
    )


def test_the_index_leads_with_the_data_banner_changed_parameters_and_headline_results(run):
    index = pages(run)["index.html"]
    assert (
        index.index('class="banner analyst"')
        < index.index("Parameters changed")
        < index.index("Main findings")
    )
    assert "23/34 (67.6%), 95% CI 49.5–82.6%" in index
    assert "not available for this data: the data have no follow-up dates" in index


def test_a_declared_headline_without_its_result_in_results_csv_stops_the_report(run, tmp_path):
    import shutil

    copy = shutil.copytree(run, tmp_path / "run")
    results = pd.read_csv(copy / "results.csv")
    results[results["key"] != "any_cr[all]"].to_csv(copy / "results.csv", index=False)
    with pytest.raises(
        ValueError, match=r"'Complete remission' declared by 01_alpha.*any_cr\[all\]"
    ):
        report.render_report(copy)


def test_the_report_folder_works_alone_every_link_resolves_inside_it_and_nothing_is_fetched(run):
    folder = run / "report"
    for name, text in pages(run).items():
        assert "<script" not in text and "http" not in text.replace("http://www.w3.org", ""), name
        assert len(text.encode()) < 300_000
        for link in re.findall(r'(?:href|src)="([^"#]+)', text):
            if link.startswith("data:image/"):  # a figure shown but not saved
                continue
            assert not link.startswith(("/", "..")), link
            assert (folder / link).is_file(), f"{name} links {link}"
    assert (folder / "tables" / "cr_by_blasts.csv").is_file() and (folder / "results.csv").is_file()


@pytest.mark.parametrize(
    ("kind", "words"), [("internal", "Internal run"), ("share", "Share-safe copy")]
)
def test_every_page_says_which_kind_of_run_it_is(run, tmp_path, kind, words):
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    report.render_report(copy, kind=kind)
    assert all(words in t for t in pages(copy).values())


def test_at_another_cut_off_every_page_s_banner_names_it_and_never_claims_counts_match(
    run, tmp_path
):
    import shutil

    from helpers.provenance import SHIPPED_COHORT

    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    shutil.copyfile(SHIPPED_COHORT, copy / "input" / SHIPPED_COHORT.name)
    report.render_report(
        copy, cohort_file=SHIPPED_COHORT.name
    )  # the notebooks ran at bmb_high_cutoff = 40
    for name, text in pages(copy).items():
        assert (
            "RECONSTRUCTED DATA" in text and "Counts match the paper by construction" not in text
        ), name
        assert (
            "high tumour burden at ≥ 40% marrow blasts before debulking (the paper: ≥ 50%)" in text
        ), name


def test_the_index_names_a_changed_parameter_once_by_its_name_and_value_with_its_notebooks(run):
    index = pages(run)["index.html"]
    assert index.count("<td><code>bmb_high_cutoff</code></td><td>40</td><td>50</td>") == 1
    assert "<td>01, 02</td>" in index


def test_a_share_page_without_the_input_names_it_and_its_hash_from_the_manifest(run, tmp_path):
    import hashlib
    import json
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    shutil.rmtree(copy / "input")
    digest = hashlib.sha256(b"patient_id\nP1\n").hexdigest()
    (copy / "manifest.json").write_text(
        json.dumps({"input": {"file": "cohort.csv", "sha256": digest}})
    )
    report.render_report(copy, kind="share")
    for text in pages(copy).values():
        banner = re.search(r'<div class="banner.*?</div>', text, re.DOTALL).group(0)
        assert (
            f"Share-safe copy of cohort.csv (SHA-256 {digest[:12]}…): no copy of the input"
            in banner
        )
        assert "not recorded" not in banner


def test_a_share_page_carries_the_note_on_hidden_counts_once(tmp_path):
    legend = suppression.Policy.for_run(True, 5).footnote()
    table = f'<p class="footnote">n/N (%) with exact CI. {legend}</p>'
    note = new_output(
        "display_data", data={"text/html": f"<table><tr><td>&lt;5</td></tr></table>{table}"}
    )
    said = new_output("display_data", data={"text/markdown": legend})
    nb = notebook(
        "01 · Alpha",
        [
            new_markdown_cell("## A"),
            new_code_cell("a()", outputs=[note, said]),
            new_markdown_cell("## B"),
            new_code_cell("b()", outputs=[note]),
        ],
    )
    (tmp_path / "notebooks").mkdir()
    nbformat.write(nb, tmp_path / "notebooks" / "01_alpha.ipynb")
    report.render_report(tmp_path, kind="share")
    page = pages(tmp_path)["01_alpha.html"]
    assert page.count("a count from 1 to 4, hidden in this share run") == 1
    assert page.count("n/N (%) with exact CI.") == 2
    assert page.index('class="legend"') < page.index('id="a"')


def test_index_thumbnails_and_file_lists_use_the_figures_description_and_the_tables_title(tmp_path):
    from openpyxl import Workbook

    for folder in ("notebooks", "figures", "tables"):
        (tmp_path / folder).mkdir()
    saved = png("x", "Forest plot: CR by subgroup with exact 95% CI; dashed line: overall rate.")
    (tmp_path / "figures" / "forest_plot.png").write_bytes(saved)
    book = Workbook()
    book.active.append(["Previous treatment lines ≥2 before blinatumomab"])
    book.save(tmp_path / "tables" / "prior_lines_ge2.xlsx")
    nb = notebook(
        "01 · Alpha",
        [
            new_markdown_cell("## Marrow blasts before and after debulking"),
            new_code_cell(
                'save_figure(fig, "forest_plot"); save_table(t, "prior_lines_ge2")',
                outputs=[image_output(saved)],
            ),
        ],
    )
    nbformat.write(nb, tmp_path / "notebooks" / "01_alpha.ipynb")
    report.render_report(tmp_path)
    index = pages(tmp_path)["index.html"]
    assert "<figcaption>Forest plot: CR by subgroup with exact 95% CI</figcaption>" in index
    assert "<li>Previous treatment lines ≥2 before blinatumomab: " in index
    assert "prior lines ge2" not in index and "<figcaption>Marrow blasts" not in index


def test_long_pages_and_the_index_keep_their_contents_in_view(run):
    for name, text in pages(run).items():
        if name != "02_beta.html":  # one section: no contents
            assert re.search(r'<nav [^>]*class="toc"', text), name
    assert re.search(r"nav\.toc\{position:sticky;top:0", text)


def test_a_section_the_data_cannot_fill_shows_its_heading_and_one_sentence_and_later_empty_ones_go(
    tmp_path,
):
    why = "No follow-up columns: add os_months and os_event to see survival."
    marked = new_output(
        "display_data", data={"text/markdown": why}, metadata={"unavailable": "notebook"}
    )
    shown = new_output("display_data", data={"text/markdown": "1 result row written."})
    nb = notebook(
        "08 · Gamma",
        [
            new_markdown_cell("## Follow-up\n\nThe denominator of every survival estimate."),
            new_code_cell("show_unavailable(why, rest_of_notebook=True)", outputs=[marked]),
            new_code_cell("if has_os:\n    table()"),
            new_markdown_cell("## Overall survival\n\nKaplan-Meier method prose."),
            new_code_cell("if has_os: km()"),
            new_markdown_cell("## Results and summary"),
            new_code_cell("write()", outputs=[shown]),
        ],
    )
    (tmp_path / "notebooks").mkdir()
    nbformat.write(nb, tmp_path / "notebooks" / "08_gamma.ipynb")
    report.render_report(tmp_path)
    page = pages(tmp_path)["08_gamma.html"]
    assert page.count(why) == 1 and 'id="follow-up"' in page
    assert "The denominator of every survival estimate" not in page
    assert "Overall survival" not in page and "Kaplan-Meier method prose" not in page
    assert 'id="results-and-summary"' in page and "1 result row written." in page
