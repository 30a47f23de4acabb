"""The run's HTML report: one light page per notebook and an index that leads with findings.

``report/`` is self-contained: the tables, figures, results and executed
notebooks it links are copied into it, nothing is loaded from the network (no
script at all; the code toggle is a CSS checkbox), and every text that comes
from the data (file names, labels, Markdown outputs) is escaped, never live HTML.
"""

from __future__ import annotations

import ast
import base64
import copy
import hashlib
import html
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from helpers import suppression
from helpers.narrative import CUTOFF_WORDS, UNAVAILABLE, run_setting
from helpers.provenance import SHIPPED_COHORT, Provenance, data_provenance, file_sha256
from pipeline import headlines

#: Parameters every notebook gets from the pipeline; the banner names the data file.
PIPELINE_PARAMETERS = ("data_path", "output_dir", "params_file")
#: Folders of the run copied into ``report/`` so a copy of it works on its own.
COPIED_FOLDERS = ("tables", "figures", "results", "notebooks")
#: What each kind of run may be used for, said on every page.
RUN_KINDS = {
    "internal": "Internal run: may contain patient-level listings; keep within the analysis team.",
    "share": "Share-safe run: no copy of the input and no patient identifiers; counts from 1 to {below} are "
             "hidden (shown as \"<{k}\"), every other count is rounded to a multiple of {base}, and percentages "
             "and intervals are computed from the rounded counts; p-values and model estimates use all counts.",
}
#: How the index names a file type ("DOCX" means nothing to most readers).
FILE_KINDS = {"docx": "Word"}
#: Longest thumbnail caption and file label on the index, characters (cut at a comma or word).
CAPTION_CHARS = 90
REPORT_TITLE = "Debulking before blinatumomab: analysis report"
_INSERT = "report-insert-point"
_CSS = """
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f;margin:0}
main,header.top,footer{max-width:64em;margin:0 auto;padding:0 1.2em}
a{color:#0b57a4}
.banner{padding:.6em 1.2em;border-bottom:3px solid;font-size:.95em}
.banner.reconstructed{background:#fff4ce;border-color:#c98a00}
.banner.analyst{background:#e6f0fb;border-color:#2f6fb3}
.banner .kind{display:block;font-size:.9em;margin-top:.2em}
nav.pager{display:flex;gap:1.5em;flex-wrap:wrap;padding:.6em 0;font-size:.95em}
nav.toc{position:sticky;top:0;z-index:2;display:flex;align-items:baseline;gap:.8em;background:#f6f7f9;
border:1px solid #dde1e6;padding:.3em .8em;margin:1em 0;font-size:.9em}
nav.toc ol{display:flex;flex-wrap:wrap;gap:.1em 1.2em;margin:0;padding:.1em 0;list-style:none}
nav.toc li{white-space:nowrap}
@media (max-width:40em){nav.toc ol{flex-wrap:nowrap;overflow-x:auto}h1{font-size:1.5em}h2{font-size:1.25em}}
h1[id],h2[id],h3[id]{scroll-margin-top:3em}
.legend{font-size:.85em;color:#444;border-left:3px solid #c98a00;padding:.2em .8em;margin:1em 0}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}
th,td{border-bottom:1px solid #d0d4da;padding:.25em .7em;text-align:left;vertical-align:top}
thead th{border-bottom:2px solid #555}
caption{caption-side:top;text-align:left;font-weight:600;padding:.3em 0}
tfoot td,.footnote{font-size:.85em;color:#444}
tr.changed td{background:#fff4ce}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.88em}
p code,li code{overflow-wrap:anywhere}
pre{white-space:pre;overflow-x:auto;background:#f6f7f9;padding:.5em}
.output_png img,.figure img{max-width:100%;height:auto}
.rich-table,main>table{overflow-x:auto;max-width:100%}main>table{display:block}
.fig-files{font-size:.85em;margin:0 0 1em}
#show-code{margin:.2em .4em 0 0}label[for=show-code]{font-size:.9em}
.notebook .input,.notebook .output_stdout{display:none}
#show-code:checked~.notebook .input,#show-code:checked~.notebook .output_stdout{display:block}
.notebook .input pre{background:#eef3f8;border-left:3px solid #7d93ab}
.headlines li{margin:.3em 0}
.thumbs{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,19em),1fr));gap:1.2em}
.thumbs figure{margin:0}
.thumbs img{width:100%;height:16em;object-fit:contain;border:1px solid #dde1e6;background:#fff}
.thumbs figcaption{font-size:.85em}
.na{color:#666}
@media print{.notebook .input,.notebook .output_stdout{display:none!important}#show-code,label[for=show-code]{display:none}}
"""


@dataclass(frozen=True)
class Parameter:
    """One notebook parameter: its value in the run, its default and what it means."""

    name: str
    value: object
    default: object
    meaning: str

    @property
    def changed(self) -> bool:
        """True when the run used another value than the notebook's default."""
        if self.name.endswith("_file") and isinstance(self.value, str) and isinstance(self.default, str):
            return Path(self.value).name != Path(self.default).name
        return self.value != self.default


@dataclass
class Page:
    """One notebook's page: file names, title, sections and figures shown."""

    stem: str
    title: str
    summary: str
    sections: list[tuple[str, str]]
    figures: dict[str, str]  # figure stem -> section id where it is shown
    parameters: list[Parameter]


def render_report(run_dir: str | Path, cohort_file: str | None = None, *,
                  kind: str = "internal", policy: suppression.Policy | None = None) -> Path:
    """Write ``report/`` (a page per executed notebook and ``index.html``) into a run
    directory and return the index's path. ``cohort_file``: default the notebooks'
    ``data_path``; ``kind``: a key of :data:`RUN_KINDS`; ``policy``: what the run shows of a
    count, by default that of ``kind`` at the notebooks' ``min_cell``."""
    import pandas as pd
    from nbconvert import HTMLExporter

    run_dir = Path(run_dir)
    report = run_dir / "report"
    report.mkdir(exist_ok=True)
    for folder in COPIED_FOLDERS:
        if (run_dir / folder).is_dir():
            shutil.copytree(run_dir / folder, report / folder, dirs_exist_ok=True)
    for name in ("results.csv", "manifest.json"):
        if (run_dir / name).is_file():
            shutil.copyfile(run_dir / name, report / name)
    notebooks = [nbformat.read(str(p), as_version=4)
                 for p in sorted((run_dir / "notebooks").glob("*.ipynb"))]
    stems = [p.stem for p in sorted((run_dir / "notebooks").glob("*.ipynb"))]
    if cohort_file is None and notebooks:
        cohort_file = next((Path(str(p.value)).name for p in notebook_parameters(notebooks[0])
                            if p.name == "data_path"), None)
    cutoffs = {p.name: p.value for nb in notebooks for p in notebook_parameters(nb) if p.name in CUTOFF_WORDS}
    if policy is None:
        min_cell = next((p.value for nb in notebooks for p in notebook_parameters(nb) if p.name == "min_cell"), 5)
        policy = suppression.Policy.for_run(kind == "share", int(min_cell))
    banner, reconstructed = _banner(run_dir, cohort_file, kind, cutoffs, policy)
    figures = _figure_files(run_dir / "figures")
    titles = [_notebook_title(n) or s for s, n in zip(stems, notebooks)]
    # nbconvert's "basic" template: cells only, no scripts, styles or CDN links.
    # Hidden code is shown plain: syntax colouring doubled the time to render a page.
    exporter = HTMLExporter(template_name="basic", exclude_input_prompt=True,
                            exclude_output_prompt=True, exclude_anchor_links=True,
                            filters={"highlight_code": lambda source, **_: f"<pre>{_esc(source)}</pre>"})
    pages = []
    for i, (stem, nb) in enumerate(zip(stems, notebooks)):
        prev = (stems[i - 1], titles[i - 1]) if i else None
        nxt = (stems[i + 1], titles[i + 1]) if i + 1 < len(stems) else None
        page, text = _notebook_page(exporter, stem, nb, banner, figures, run_dir / "figures", prev, nxt,
                                    policy)
        (report / f"{stem}.html").write_text(text, encoding="utf-8")
        pages.append(page)
    results = (pd.read_csv(run_dir / "results.csv") if (run_dir / "results.csv").is_file()
               else pd.DataFrame(columns=["notebook", "key"]))
    index = report / "index.html"
    index.write_text(_index(run_dir, pages, results, banner, reconstructed, policy), encoding="utf-8")
    return index


# --- notebook pages --------------------------------------------------------------------

def _notebook_page(exporter, stem, nb, banner, figures, figures_dir, prev, nxt,
                   policy: suppression.Policy) -> tuple[Page, str]:
    title = _notebook_title(nb) or stem
    shown = _prepare(nb, figures, figures_dir)
    body, _ = exporter.from_notebook_node(shown)
    body, sections = _heading_ids(body)
    # Contents list the notebook's own headings, not headings inside printed outputs.
    own = {_plain(h) for c in nb.cells if c.cell_type == "markdown"
           for h in re.findall(r"^#{1,2}\s+(.+)$", c.source, flags=re.MULTILINE)}
    sections = [(s, t) for s, t in sections if " ".join(t.split()) in own]
    body = _figure_links(body)
    body, legend = _one_legend(body, policy)
    found = {}
    for name in re.findall(r'<img [^>]*src="figures/([^"/]+)\.png"', body):
        section = _section_before(body, f'src="figures/{name}.png"', sections)
        found.setdefault(name, section)
    parameters = notebook_parameters(nb)
    insert = legend + _parameters_html(parameters) + _toc_html(sections[1:])
    # Parameters and contents go after the title cell, in place of the marker cell; the
    # code toggle's checkbox precedes every .notebook part (a CSS sibling selector).
    marker = (r'<div class="cell[^>]*>(?:(?!<div class="cell).)*?<div id="' + _INSERT
              + r'"></div>\s*</div>\s*</div>\s*</div>')
    parts = re.split(marker, body, maxsplit=1, flags=re.DOTALL)
    main = ('<input type="checkbox" id="show-code"><label for="show-code">Show code and printed values</label>'
            + f'<div class="notebook">{parts[0]}</div>{insert}'
            + (f'<div class="notebook">{parts[1]}</div>' if len(parts) > 1 else ""))
    pager = _pager(prev, nxt)
    text = _shell(f"{title} — {REPORT_TITLE}", banner, f"<main>{pager}{main}{pager}</main>")
    return Page(stem, title, _summary(nb), sections[1:], found, parameters), text


def _prepare(nb, figures: dict[str, str], figures_dir: Path):
    """A copy of the notebook ready for the exporter: safe Markdown outputs, figure files, alt text."""
    nb = copy.deepcopy(nb)
    heading = ""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            heading = _last_heading(cell.source) or heading
            continue
        if cell.cell_type != "code":
            continue
        for j, output in enumerate(cell.get("outputs", [])):
            data = output.get("data", {})
            if "text/markdown" in data and "text/html" not in data:
                data["text/html"] = safe_markdown(data.pop("text/markdown"))
            if "image/png" in data:
                png = base64.b64decode(data["image/png"])
                name = figures.get(hashlib.sha256(png).hexdigest())
                meta = output.setdefault("metadata", {}).setdefault("image/png", {})
                if name:
                    output["metadata"].setdefault("filenames", {})["image/png"] = f"figures/{name}.png"
                svg = figures_dir / f"{name}.svg" if name else None
                meta["alt"] = figure_alt(output, cell, nb.cells[i + 1:], png, svg=svg,
                                         heading=heading, following=cell["outputs"][j + 1:])
    nb.cells = collapse_unavailable(nb.cells)
    if nb.cells:
        marker = nbformat.v4.new_markdown_cell(f'<div id="{_INSERT}"></div>')
        nb.cells.insert(1, marker)
    return nb


def collapse_unavailable(cells: list) -> list:
    """Cells with each section that says it cannot run on this data (an output marked by
    :func:`helpers.narrative.show_unavailable`) reduced to its heading and that sentence; after
    one marked for the rest of the notebook, later sections that show nothing are left out."""
    sections: list[list] = [[]]
    for cell in cells:
        if cell.cell_type == "markdown" and re.search(r"^##?\s", cell.source, flags=re.MULTILINE):
            sections.append([])
        sections[-1].append(cell)
    kept, rest_empty = [], False
    for section in sections:
        marked = [(c, o) for c in section if c.cell_type == "code" for o in c.get("outputs", [])
                  if o.get("metadata", {}).get(UNAVAILABLE)]
        shows = any(c.get("outputs") for c in section if c.cell_type == "code")
        if not marked:
            if not (rest_empty and not shows):
                kept += section
            continue
        head = section[0]
        if head.cell_type == "markdown":
            heading = re.search(r"^#{1,6}\s.*$", head.source, flags=re.MULTILINE)
            # the cells' own ids: a page renders them, and two runs must give the same page
            kept.append(nbformat.v4.new_markdown_cell(heading.group(0) if heading else "", id=head.get("id")))
        for cell, output in marked:
            kept.append(nbformat.v4.new_code_cell(cell.source, outputs=[output], id=cell.get("id")))
        rest_empty = rest_empty or any(o["metadata"][UNAVAILABLE] == "notebook" for _, o in marked)
    return kept


def safe_markdown(text: str) -> str:
    """Markdown to HTML with raw HTML escaped and script links disabled (text from data)."""
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    renderer = IPythonRenderer(escape=True, allow_harmful_protocols=False, exclude_anchor_links=True)
    return MarkdownWithMath(renderer=renderer).render(text)


_CAPTION = re.compile(r"^\s*[*_]*(figure\b|caption:)", re.IGNORECASE)


def figure_alt(output, cell, later_cells, png: bytes, *, svg: Path | None = None,
               heading: str = "", following=()) -> str:
    """Alt text saying what a figure shows, never empty: ``alt`` metadata, a caption or
    "Figure" heading, the PNG's Description/Title, the SVG's axes titles, the section heading."""
    given = output.get("metadata", {}).get("image/png", {}).get("alt") \
        or output.get("metadata", {}).get("alt") or cell.get("metadata", {}).get("alt")
    if given:
        return str(given)
    nearby = [o.get("data", {}).get("text/markdown", "") for o in following]
    nearby += [c.source for c in later_cells[:1] if c.cell_type == "markdown"] + [heading]
    for text in nearby:
        text = "".join(text) if isinstance(text, list) else text
        if text and _CAPTION.match(text):
            return _plain(text)
    chunks = png_text(png)
    for key in ("Description", "Title"):
        if chunks.get(key):
            return chunks[key]
    titles = svg_titles(svg) if svg is not None and svg.is_file() else []
    if titles:
        lead = _plain(heading) if heading else "Figure"
        return "; ".join(titles) if titles[0].startswith(lead) else f"{lead}: " + "; ".join(titles)
    return f"Figure: {_plain(heading)}" if heading else "Figure without a caption in the notebook"


def svg_titles(svg: Path) -> list[str]:
    """Axes titles of a Matplotlib SVG: the last text group under each ``axes_N`` group
    (drawn after the others), if it has words."""
    import xml.etree.ElementTree as ET

    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
    root = ET.fromstring(svg.read_bytes(), parser=parser)
    titles = []
    for group in root.iter("{http://www.w3.org/2000/svg}g"):
        if not re.fullmatch(r"axes_\d+", group.get("id", "")):
            continue
        texts = [g for g in group if g.get("id", "").startswith("text_")]
        if texts:
            words = " ".join(c.text.strip() for c in texts[-1].iter() if c.tag is ET.Comment)
            if len(re.findall(r"[A-Za-z]{2,}", words)) >= 2:
                titles.append(words)
    return titles


def png_text(png: bytes) -> dict[str, str]:
    """The ``tEXt`` chunks of a PNG (e.g. ``Title``, ``Description``) as a dict."""
    found, pos = {}, 8
    while pos + 8 <= len(png):
        length = int.from_bytes(png[pos:pos + 4], "big")
        kind = png[pos + 4:pos + 8]
        if kind == b"tEXt":
            key, _, value = png[pos + 8:pos + 8 + length].partition(b"\0")
            found[key.decode("latin-1")] = value.decode("latin-1")
        if kind == b"IEND":
            break
        pos += 12 + length
    return found


def _plain(markdown: str) -> str:
    text = re.sub(r"[*`#>]+|(?<!\w)_+|_+(?!\w)", "", markdown)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return " ".join(text.split())


def _last_heading(source: str) -> str | None:
    heads = re.findall(r"^#{1,6}\s+(.+)$", source, flags=re.MULTILINE)
    return heads[-1].strip() if heads else None


def _heading_ids(body: str) -> tuple[str, list[tuple[str, str]]]:
    """Give every h1-h3 a readable unique id; return the body and the (id, text) of h1/h2."""
    used: set[str] = set()
    sections: list[tuple[str, str]] = []

    def replace(match: re.Match) -> str:
        level, inner = match.group(1), match.group(3)
        text = html.unescape(re.sub(r"<[^>]+>", "", inner)).strip()
        base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"
        slug, n = base, 2
        while slug in used:
            slug, n = f"{base}-{n}", n + 1
        used.add(slug)
        if level in "12":
            sections.append((slug, text))
        return f'<h{level} id="{slug}">{inner}</h{level}>'

    body = re.sub(r"<h([1-3])((?:\s[^>]*)?)>(.*?)</h\1>", replace, body, flags=re.DOTALL)
    return body, sections


def _figure_links(body: str) -> str:
    def add(match: re.Match) -> str:
        name = match.group(1)
        return (match.group(0) + f'<p class="fig-files">Download: <a href="figures/{name}.png">PNG</a>'
                f' · <a href="figures/{name}.svg">SVG</a></p>')

    return re.sub(r'<img [^>]*src="figures/([^"/]+)\.png"[^>]*>', add, body)


def _one_legend(body: str, policy: suppression.Policy) -> tuple[str, str]:
    """The page without the share run's note on hidden counts under each table and text, and
    that note once, for the top of the page ("" when nothing on the page is hidden)."""
    note = policy.footnote() if policy.k > 1 else ""
    forms = {html.escape(note, quote=q) for q in (True, False)} if note else set()
    if not any(f in body for f in forms):
        return body, ""
    for form in forms:
        body = body.replace(" " + form, "").replace(form, "")
    body = re.sub(r'<p(?: class="footnote")?>\s*</p>', "", body)
    return body, f'<p class="legend" role="note">{_esc(note)}</p>'


def _section_before(body: str, needle: str, sections) -> str:
    cut = body[:body.find(needle)]
    ids = [s for s, _ in sections if f'id="{s}"' in cut]
    return ids[-1] if ids else ""


def _figure_files(folder: Path) -> dict[str, str]:
    """SHA-256 of each ``figures/*.png`` -> its stem, to link shown images to their files."""
    if not folder.is_dir():
        return {}
    return {hashlib.sha256(p.read_bytes()).hexdigest(): p.stem for p in sorted(folder.glob("*.png"))}


def _notebook_title(nb) -> str | None:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return None


def _summary(nb) -> str:
    """The first sentence after a notebook's title."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("# "):
            paragraphs = [p for p in cell.source.split("\n\n")[1:] if p.strip()]
            if paragraphs:
                text = _plain(paragraphs[0])
                return re.split(r"(?<=[.?!])\s", text, maxsplit=1)[0]
    return ""


# --- parameters ------------------------------------------------------------------------

def notebook_parameters(nb) -> list[Parameter]:
    """The parameters a notebook ran with: its ``parameters`` cell updated by papermill's
    injected cell (Python literals)."""
    defaults: dict[str, tuple[object, str]] = {}
    injected: dict[str, object] = {}
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if cell.cell_type == "code" and "parameters" in tags:
            defaults.update(_assignments(cell.source))
        elif cell.cell_type == "code" and "injected-parameters" in tags:
            injected.update({k: v for k, (v, _) in _assignments(cell.source).items()})
    return [Parameter(name, injected.get(name, default), default, meaning)
            for name, (default, meaning) in defaults.items()]


def _assignments(source: str) -> dict[str, tuple[object, str]]:
    """``{name: (literal value, trailing comment)}`` of a cell of literal assignments."""
    lines = source.splitlines()
    found = {}
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return found
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
        if not isinstance(target, ast.Name) or getattr(node, "value", None) is None:
            continue
        try:
            value = ast.literal_eval(node.value)
        except ValueError:
            continue
        rest = lines[node.end_lineno - 1][node.end_col_offset:]
        found[target.id] = (value, rest.split("#", 1)[1].strip() if "#" in rest else "")
    return found


def _parameters_html(parameters: list[Parameter]) -> str:
    shown = [p for p in parameters if p.name not in PIPELINE_PARAMETERS]
    if not shown:
        return ""
    rows = "".join(
        f'<tr{" class=changed" if p.changed else ""}><td><code>{_esc(p.name)}</code></td>'
        f"<td>{_esc(_value_text(p.value))}</td><td>{_esc(_value_text(p.default))}</td>"
        f"<td>{_esc(p.meaning)}</td></tr>" for p in shown)
    changed = sum(p.changed for p in shown)
    note = (f"{changed} changed from the default (highlighted)." if changed
            else "All at their defaults.")
    return ('<details class="parameters"><summary>Parameters this notebook ran with: '
            f"{_esc(note)}</summary><table><thead><tr><th>Parameter</th><th>Value</th>"
            f"<th>Default</th><th>Meaning</th></tr></thead><tbody>{rows}</tbody></table></details>")


def _value_text(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and ("/" in value or "\\" in value):
        return Path(value).name
    return str(value)


# --- page parts ------------------------------------------------------------------------

def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _banner(run_dir: Path, cohort_file: str | None, kind: str, cutoffs: dict | None = None,
            policy: suppression.Policy = suppression.NONE) -> tuple[str, bool]:
    """The data banner of every page (naming the ``cutoffs`` set otherwise than the paper), and whether
    the data are the shipped reconstruction."""
    from helpers.published import load_published_figures, paper_cutoffs

    if kind not in RUN_KINDS:
        raise ValueError(f"unknown kind of run {kind!r}; use one of {', '.join(RUN_KINDS)}")
    style, text, prov = "analyst", "Data: not recorded.", None
    if cohort_file and (run_dir / "input" / cohort_file).is_file():
        prov = data_provenance(run_dir / "input" / cohort_file)
    else:  # a share run keeps no input: the manifest names it and holds its hash
        prov = _manifest_provenance(run_dir)
    if prov is not None:
        style = "reconstructed" if prov.reconstructed else "analyst"
        text = run_setting(prov, cutoffs or {}, paper_cutoffs(load_published_figures())).banner
    return ((f'<div class="banner {style}" role="note"><strong>{_esc(text)}</strong>'
            f'<span class="kind">{_esc(_kind_text(kind, prov, policy))}</span></div>'), style == "reconstructed")


def _manifest_provenance(run_dir: Path) -> Provenance | None:
    """The input named in ``manifest.json`` (file name and SHA-256), or None without one."""
    import json

    path = run_dir / "manifest.json"
    entry = json.loads(path.read_text(encoding="utf-8")).get("input") if path.is_file() else None
    if not isinstance(entry, dict) or not entry.get("file") or not entry.get("sha256"):
        return None
    shipped = SHIPPED_COHORT.is_file() and file_sha256(SHIPPED_COHORT) == entry["sha256"]
    return Provenance(Path(str(entry["file"])).name, str(entry["sha256"]), shipped)


def _kind_text(kind: str, prov: Provenance | None = None,
               policy: suppression.Policy = suppression.NONE) -> str:
    """The banner's line on the kind of run; a share run names the input, its hash prefix and its k."""
    k, base = policy.k, policy.base
    text = (f"Share-safe run: no copy of the input and no patient identifiers; no counts are hidden (k = {k}), "
            f"every count is rounded to a multiple of {base}."
            if kind == "share" and k <= 1 else RUN_KINDS[kind].format(k=k, below=k - 1, base=base))
    if kind == "share":
        source = f" of {prov.file} (SHA-256 {prov.sha256[:12]}…)" if prov is not None else ""
        text = f"Share-safe copy{source}: " + text.removeprefix("Share-safe run: ")
    return text


def _pager(prev, nxt) -> str:
    links = ['<a href="index.html">↑ Report index</a>']
    if prev:
        links.append(f'<a href="{_esc(prev[0])}.html" rel="prev">← {_esc(prev[1])}</a>')
    if nxt:
        links.append(f'<a href="{_esc(nxt[0])}.html" rel="next">{_esc(nxt[1])} →</a>')
    return f'<nav class="pager" aria-label="Pages">{"".join(links)}</nav>'


def _toc_html(sections) -> str:
    if not sections:
        return ""
    items = "".join(f'<li><a href="#{s}">{_esc(t)}</a></li>' for s, t in sections)
    return f'<nav class="toc" aria-label="Contents"><strong>Contents</strong><ol>{items}</ol></nav>'


def _shell(title: str, banner: str, main: str, footer: str = "") -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_esc(title)}</title><style>{_CSS}</style></head>\n<body>{banner}"
            f'<header class="top"></header>{main}<footer>{footer}</footer></body></html>\n')


def report_date() -> str:
    """Today's date (UTC), or that of ``SOURCE_DATE_EPOCH`` for reproducible builds."""
    stamp = float(os.environ.get("SOURCE_DATE_EPOCH", time.time()))
    return time.strftime("%Y-%m-%d", time.gmtime(stamp))


# --- index -------------------------------------------------------------------------------

def _index(run_dir: Path, pages: list[Page], results, banner: str, reconstructed: bool,
           policy: suppression.Policy) -> str:
    from importlib import metadata

    try:
        version = metadata.version("debulking-blina")
    except metadata.PackageNotFoundError:
        version = "not installed"
    commit = ""
    if (run_dir / "manifest.json").is_file():  # written before the report by the pipeline
        import json

        git = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8")).get("git") or {}
        if git.get("commit"):
            commit = f" · commit {git['commit'][:10]}{' with local changes' if git.get('dirty') else ''}"
    parts = [f"<h1>{_esc(REPORT_TITLE)}</h1>",
             (f'<p class="footnote">Report of {_esc(report_date())} · debulking-blina {_esc(version)}'
             f"{_esc(commit)} · {len(pages)} notebooks · {len(results)} statistics in results.csv</p>")]
    changed: dict[tuple[str, str, str], tuple[str, list[str]]] = {}
    for page in pages:
        for p in page.parameters:
            if p.changed and p.name not in PIPELINE_PARAMETERS:
                # one row per parameter and value: notebooks word the same setting differently
                row = changed.setdefault((p.name, _value_text(p.value), _value_text(p.default)),
                                         (p.meaning, []))
                row[1].append(page.stem[:2])
    if changed:
        rows = "".join(f"<tr><td><code>{_esc(n)}</code></td><td>{_esc(v)}</td><td>{_esc(d)}</td>"
                       f"<td>{_esc(m)}</td><td>{_esc(', '.join(nbs))}</td></tr>"
                       for (n, v, d), (m, nbs) in changed.items())
        parts.append("<h2 id=\"parameters\">Parameters changed from the defaults</h2><table><thead>"
                     "<tr><th>Parameter</th><th>Value</th><th>Default</th><th>Meaning</th><th>Notebooks</th>"
                     f"</tr></thead><tbody>{rows}</tbody></table>")
    else:
        parts.append('<p id="parameters">Every parameter at its default value.</p>')
    parts.append(_headlines_html(results, pages, policy))
    k = policy.k
    if k > 1 and re.search(rf"&lt;{k}(?!\d)", parts[-1]):  # a headline shows a hidden count
        parts.append(f'<p class="legend" role="note">{_esc(policy.footnote())}</p>')
    parts.append(_thumbnails_html(pages, run_dir / "figures"))
    parts.append(_summary_table_html(run_dir, reconstructed))
    parts.append(_notebooks_html(pages, results))
    parts.append(_downloads_html(run_dir, pages))
    sections = re.findall(r'<h2 id="([^"]+)">(.*?)</h2>', "".join(parts[2:]))
    parts.insert(2, _toc_html([(s, html.unescape(t)) for s, t in sections]))
    return _shell(REPORT_TITLE, banner, f"<main>{''.join(parts)}</main>")


def _headlines_html(results, pages, policy: suppression.Policy) -> str:
    found = headlines.headline_results(results, {p.name: p.value for pg in pages for p in pg.parameters},
                                       policy=policy)
    if not found:
        return "<h2 id=\"findings\">Main findings</h2><p class=\"na\">No headline results in results.csv.</p>"
    items = []
    for h in found:
        page = next((p for p in pages if p.stem.startswith(h.notebook)), None)
        link = ""
        if page:
            section = next((s for s, t in page.sections if re.search(h.section, t, re.IGNORECASE)), "")
            link = f' <a href="{_esc(page.stem)}.html{"#" + section if section else ""}">details</a>'
        items.append(f"<li><strong>{_esc(h.title)}:</strong> {_esc(h.text)}{link}</li>")
    return f'<h2 id="findings">Main findings</h2><ul class="headlines">{"".join(items)}</ul>'


def figure_caption(png: Path) -> str:
    """The first sentence of a saved figure's ``Description`` (what it shows), "" without one."""
    if not png.is_file():
        return ""
    text = png_text(png.read_bytes()).get("Description", "") or png_text(png.read_bytes()).get("Title", "")
    first = re.split(r"(?<=[.;])\s", text, maxsplit=1)[0].rstrip(".;") if text else ""
    if len(first) <= CAPTION_CHARS:
        return first
    cut = first[:CAPTION_CHARS]
    comma = cut.rfind(",")
    return cut[:comma] if comma > CAPTION_CHARS // 2 else cut.rsplit(" ", 1)[0] + " …"


def table_title(xlsx: Path) -> str:
    """The title a saved table carries in its XLSX (first cell), "" without one."""
    from openpyxl import load_workbook

    if not xlsx.is_file():
        return ""
    book = load_workbook(xlsx, read_only=True)
    try:
        first = next(book.active.iter_rows(min_row=1, max_row=1, max_col=1, values_only=True), (None,))[0]
    finally:
        book.close()
    return str(first) if first else ""


def _thumbnails_html(pages, figures_dir: Path) -> str:
    cells = []
    for page in pages:
        for name, section in page.figures.items():
            href = f"{page.stem}.html" + (f"#{section}" if section else "")
            label = next((t for s, t in page.sections if s == section), name.replace("_", " "))
            caption = figure_caption(figures_dir / f"{name}.png") or label
            cells.append(f'<figure><a href="{_esc(href)}"><img src="figures/{_esc(name)}.png" '
                         f'alt="{_esc(caption)}"></a><figcaption>{_esc(caption)}'
                         "</figcaption></figure>")
    return f'<h2 id="figures">Figures</h2><div class="thumbs">{"".join(cells)}</div>' if cells else ""


def _summary_table_html(run_dir: Path, reconstructed: bool) -> str:
    import pandas as pd

    path = run_dir / "tables" / "reproduction_summary.csv"
    if not path.is_file():
        return ""
    title = ("Reproduction of the paper's figures" if reconstructed
             else "Replication: the main endpoints beside the paper's")
    table = pd.read_csv(path, keep_default_na=False)
    head = "".join(f"<th>{_esc(c[:1].upper() + c[1:])}</th>" for c in table.columns)
    rows = "".join("<tr>" + "".join(f"<td>{_esc(v)}</td>" for v in row) + "</tr>"
                   for row in table.itertuples(index=False))
    return (f'<h2 id="reproduction">{_esc(title)}</h2><table><thead><tr>{head}</tr></thead>'
            f"<tbody>{rows}</tbody></table>")


def _notebooks_html(pages, results) -> str:
    items = []
    for page in pages:
        reason = headlines.not_available(results, page.stem)
        line = (f'<span class="na">not available for this data: {_esc(reason)}</span>' if reason
                else _esc(page.summary))
        items.append(f'<li><a href="{_esc(page.stem)}.html">{_esc(page.title)}</a> — {line}</li>')
    return f'<h2 id="notebooks">Notebooks</h2><ol>{"".join(items)}</ol>'


def _downloads_html(run_dir: Path, pages) -> str:
    """Links to every saved file, grouped by the notebook whose source names it."""
    stems: dict[str, list[str]] = {}
    for folder in ("tables", "figures"):
        for path in sorted((run_dir / folder).glob("*")) if (run_dir / folder).is_dir() else []:
            stems.setdefault(f"{folder}/{path.stem}", []).append(path.suffix.lstrip("."))
    owner: dict[str, str] = {}
    for page in pages:
        nb = nbformat.read(str(run_dir / "notebooks" / f"{page.stem}.ipynb"), as_version=4)
        text = "\n".join(cell.source for cell in nb.cells)
        for key in stems:
            if key not in owner and key.split("/", 1)[1] in text:
                owner[key] = page.stem

    def label(key: str) -> str:
        folder, stem = key.split("/", 1)
        found = (table_title(run_dir / folder / f"{stem}.xlsx") if folder == "tables"
                 else figure_caption(run_dir / folder / f"{stem}.png"))
        return found or stem.replace("_", " ")

    def files(keys) -> str:
        return "".join(f"<li>{_esc(label(key))}: " + " · ".join(
            f'<a href="{_href(key + "." + ext)}">{_esc(FILE_KINDS.get(ext, ext.upper()))}</a>' for ext in stems[key])
            + "</li>" for key in keys)

    parts = ['<h2 id="downloads">Downloads</h2><p>']
    for name, what in (("results.csv", "every statistic, one row each"),
                       ("manifest.json", "input hash, parameters, package versions")):
        if (run_dir / name).is_file():
            parts.append(f'<a href="{name}">{name}</a> ({what}) ')
    parts.append("</p>")
    for page in pages:
        links = [f'<a href="{_href("notebooks/" + page.stem + ".ipynb")}">executed notebook</a>']
        if (run_dir / "results" / f"{page.stem}.csv").is_file():
            links.append(f'<a href="{_href("results/" + page.stem + ".csv")}">its results (CSV)</a>')
        mine = [k for k in stems if owner.get(k) == page.stem]
        parts.append(f"<h3>{_esc(page.title)}</h3><p>{' · '.join(links)}</p><ul>{files(mine)}</ul>")
    rest = [k for k in stems if k not in owner]
    if rest:
        parts.append(f"<h3>Other files</h3><ul>{files(rest)}</ul>")
    return "".join(parts)


def _href(path: str) -> str:
    """A relative link to a file in ``report/``, percent-encoded and escaped."""
    from urllib.parse import quote

    return _esc(quote(path))
