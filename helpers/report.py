"""The HTML report of a run directory: one page per executed notebook and an index.

Nothing from the data becomes live HTML: every text shown is escaped, and the
Markdown the notebooks display (which carries file names, study names and
parameter values) is rendered with raw HTML escaped and harmful link
protocols (``javascript:``) removed, before nbconvert lays out the page.
"""

from __future__ import annotations

import html
from pathlib import Path
from urllib.parse import quote

import nbformat
import pandas as pd
from nbconvert import HTMLExporter
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

from helpers.provenance import data_provenance

TITLE = "Debulking before blinatumomab: analysis report"


def safe_markdown_html(source: str) -> str:
    """Markdown to HTML as nbconvert renders it, but with raw HTML shown as text.

    Parameters
    ----------
    source : str
        Markdown, possibly holding text from data or file names.

    Returns
    -------
    str
        HTML in which every ``<``, ``>`` and ``&`` of the source is escaped
        unless Markdown syntax produced the tag; ``javascript:`` and similar
        link targets are dropped.
    """
    renderer = IPythonRenderer(escape=True, allow_harmful_protocols=False)
    return MarkdownWithMath(renderer=renderer).render(source)


def escape_markdown_outputs(nb) -> None:
    """Replace every ``text/markdown`` output of ``nb`` by its :func:`safe_markdown_html`.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        An executed notebook, changed in place (a copy read for rendering).
    """
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "text/markdown" in data:
                source = data.pop("text/markdown")
                source = "".join(source) if isinstance(source, list) else source
                data["text/html"] = safe_markdown_html(source)


def notebook_title(nb) -> str | None:
    """The first ``# `` heading of the notebook's Markdown cells, or None."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return None


def render_page(notebook: str | Path, report_dir: str | Path) -> Path:
    """Render one executed notebook to ``report_dir/<stem>.html`` (code hidden, outputs escaped).

    Returns
    -------
    Path
        The page written.
    """
    notebook = Path(notebook)
    nb = nbformat.read(str(notebook), as_version=4)
    escape_markdown_outputs(nb)
    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nb)
    page = Path(report_dir) / f"{notebook.stem}.html"
    page.write_text(body, encoding="utf-8")
    return page


def render_report(run_dir: str | Path, cohort_file: str | None = None) -> Path:
    """Write ``report/index.html``, and the page of each executed notebook not yet rendered.

    The index opens with the reproduction summary when notebook 06 wrote
    ``tables/reproduction_summary.csv``, then links every notebook, table and figure.
    (The pipeline renders each page as soon as its notebook has run, see
    :func:`render_page`; the result is the same.)

    Parameters
    ----------
    run_dir : str or Path
        A run directory with executed ``notebooks/``.
    cohort_file : str, optional
        Name of the analysed cohort in ``input/``, for the data-provenance
        banner; None leaves the banner out.

    Returns
    -------
    Path
        ``report/index.html``.
    """
    run_dir = Path(run_dir)
    report = run_dir / "report"
    report.mkdir(exist_ok=True)
    pages = []
    for nb_path in sorted((run_dir / "notebooks").glob("*.ipynb")):
        if not (report / f"{nb_path.stem}.html").exists():
            render_page(nb_path, report)
        title = notebook_title(nbformat.read(str(nb_path), as_version=4))
        pages.append((nb_path.stem, title or nb_path.stem))

    def link(href: str, text: str) -> str:
        return f"<a href='{html.escape(quote(href), quote=True)}'>{html.escape(text)}</a>"

    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'>",
             f"<title>{html.escape(TITLE)}</title>",
             "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em}"
             "</style></head><body>",
             f"<h1>{html.escape(TITLE)}</h1>"]
    if cohort_file is not None:
        headline = data_provenance(run_dir / "input" / cohort_file).headline
        parts.append(f"<p><strong>{html.escape(headline)}</strong></p>")
    summary = run_dir / "tables" / "reproduction_summary.csv"
    if summary.exists():
        parts.append("<h2>Reproduction summary</h2>")
        parts.append(pd.read_csv(summary).to_html(index=False, na_rep="", border=0, escape=True))
    parts.append("<h2>Notebooks</h2><ol>")
    parts += [f"<li>{link(f'{stem}.html', title)}</li>" for stem, title in pages]
    parts.append("</ol>")
    for folder, what in (("tables", "Tables"), ("figures", "Figures")):
        files = sorted((run_dir / folder).glob("*")) if (run_dir / folder).is_dir() else []
        if files:
            parts.append(f"<h2>{what}</h2><ul>")
            parts += [f"<li>{link(f'../{folder}/{f.name}', f.name)}</li>" for f in files]
            parts.append("</ul>")
    parts.append(f"<p>{link('../results.csv', 'results.csv')} (every statistic) · "
                 f"{link('../manifest.json', 'manifest.json')} (input, versions)</p>")
    parts.append("</body></html>\n")
    index = report / "index.html"
    index.write_text("\n".join(parts), encoding="utf-8")
    return index
