"""The run's HTML report: one light page per notebook and an index that leads with findings.

``report/`` is self-contained: the tables, figures, results and executed
notebooks it links are copied into it, nothing is loaded from the network (no
script at all; the code toggle is a CSS checkbox). The pages come from the Jinja2
templates in ``pipeline/templates/report/``: the notebook pages from an nbconvert
template extending "basic", the index with autoescape on, so every text from the data
(file names, labels, Markdown outputs) is escaped, never live HTML.
"""

from __future__ import annotations

import ast
import base64
import copy
import hashlib
import html
import json
import os
import re
import shutil
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import nbformat

from helpers import headlines, suppression
from helpers.narrative import CUTOFF_WORDS, UNAVAILABLE, run_setting
from helpers.parameters import SETTINGS, default
from helpers.provenance import SHIPPED_COHORT, Provenance, data_provenance, file_sha256

#: Parameters every notebook gets from the pipeline; the banner names the data file.
PIPELINE_PARAMETERS = ("data_path", "output_dir", "params_file")
#: Folders of the run copied into ``report/`` so a copy of it works on its own.
COPIED_FOLDERS = ("tables", "figures", "results", "notebooks")
#: What each kind of run may be used for, said on every page.
RUN_KINDS = {
    "internal": "Internal run: may contain patient-level listings; keep within the analysis team.",
    "share": "Share-safe run: no copy of the input and no patient identifiers; counts from 1 to {below} are "
    'hidden (shown as "<{k}"), every other count is rounded to a multiple of {base}, and percentages '
    "and intervals are computed from the rounded counts; p-values and model estimates use all counts.",
}
#: How the index names a file type ("DOCX" means nothing to most readers).
FILE_KINDS = {"docx": "Word"}
#: Longest thumbnail caption and file label on the index, characters (cut at a comma or word).
CAPTION_CHARS = 90
REPORT_TITLE = "Debulking before blinatumomab: analysis report"
#: The report's templates: an nbconvert template (conf.json, index.html.j2) and the index's.
TEMPLATES = Path(__file__).parent / "templates" / "report"


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
        if (
            self.name.endswith("_file")
            and isinstance(self.value, str)
            and isinstance(self.default, str)
        ):
            return Path(self.value).name != Path(self.default).name
        return self.value != self.default

    @property
    def value_text(self) -> str:
        return _value_text(self.value)

    @property
    def default_text(self) -> str:
        return _value_text(self.default)


@dataclass
class Page:
    """One notebook's page: file names, title, sections and figures shown."""

    stem: str
    title: str
    summary: str
    sections: list[tuple[str, str]]
    figures: dict[str, str]  # figure stem -> section id where it is shown
    parameters: list[Parameter]


def render_report(
    run_dir: str | Path,
    cohort_file: str | None = None,
    *,
    kind: str = "internal",
    policy: suppression.Policy | None = None,
) -> Path:
    """Write ``report/`` (a page per executed notebook and ``index.html``) into a run
    directory and return the index's path. ``cohort_file``: default the notebooks'
    ``data_path``; ``kind``: a key of :data:`RUN_KINDS`; ``policy``: what the run shows of a
    count, by default that of ``kind`` at the notebooks' ``min_cell``."""
    import pandas as pd

    run_dir = Path(run_dir)
    report = run_dir / "report"
    report.mkdir(exist_ok=True)
    for folder in COPIED_FOLDERS:
        if (run_dir / folder).is_dir():
            shutil.copytree(run_dir / folder, report / folder, dirs_exist_ok=True)
    for name in ("results.csv", "manifest.json"):
        if (run_dir / name).is_file():
            shutil.copyfile(run_dir / name, report / name)
    paths = sorted((run_dir / "notebooks").glob("*.ipynb"))
    notebooks, stems = [nbformat.read(str(p), as_version=4) for p in paths], [p.stem for p in paths]
    ran_with = [notebook_parameters(nb) for nb in notebooks]
    if cohort_file is None and notebooks:
        cohort_file = next(
            (Path(str(p.value)).name for p in ran_with[0] if p.name == "data_path"), None
        )
    cutoffs = {p.name: p.value for params in ran_with for p in params if p.name in CUTOFF_WORDS}
    if policy is None:
        min_cell = next(
            (p.value for params in ran_with for p in params if p.name == "min_cell"),
            default("min_cell"),
        )
        policy = suppression.Policy.for_run(kind == "share", int(min_cell))
    banner, reconstructed = _banner(run_dir, cohort_file, kind, cutoffs, policy)
    figures = _figure_files(run_dir / "figures")
    links = [{"stem": s, "title": _notebook_title(n) or s} for s, n in zip(stems, notebooks)]
    exporter = _exporter()
    pages = []
    for i, (stem, nb, params) in enumerate(zip(stems, notebooks, ran_with)):
        prev, nxt = links[i - 1] if i else None, links[i + 1] if i + 1 < len(links) else None
        page, text = _notebook_page(
            exporter, stem, nb, params, banner, figures, run_dir / "figures", prev, nxt, policy
        )
        (report / f"{stem}.html").write_text(text, encoding="utf-8")
        pages.append(page)
    results = (
        pd.read_csv(run_dir / "results.csv")
        if (run_dir / "results.csv").is_file()
        else pd.DataFrame(columns=["notebook", "key"])
    )
    index = report / "index.html"
    index.write_text(
        _index(run_dir, pages, results, banner, reconstructed, policy), encoding="utf-8"
    )
    return index


# --- notebook pages --------------------------------------------------------------------


#: An ``<img>`` tag without alt text (its attributes, its end), and the alt text it gets, as
#: nbconvert gives it (an SVG output or an image in an HTML output, say).
_NO_ALT = re.compile(r"(<img\b(?![^>]*\balt=)[^>]*?)(\s*/?>)")
NO_ALT_TEXT = "No description has been provided for this image"


def _exporter():
    """nbconvert's HTML exporter with the report's template (cells only, no prompts or anchors)."""
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class ReportExporter(HTMLExporter):
        """The page as the template writes it, every image with alt text."""

        def from_notebook_node(self, nb, resources=None, **kw):
            # HTMLExporter.from_notebook_node (nbconvert 7) without its BeautifulSoup pass, which
            # parses and writes out the whole page again (60 % of the time to render one) to add
            # tab stops to the lab template's cells (not used here) and alt text where an image
            # has none: the substitution below does the latter.
            language = nb.metadata.get("language_info", {})
            lexer = language.get("pygments_lexer", language.get("name", None))
            highlight = self.filters.get(
                "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)
            )
            resources = self._init_resources(resources)
            data_type = WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources
            )
            self.register_filter("highlight_code", highlight)
            self.register_filter("filter_data_type", data_type)
            page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            return _NO_ALT.sub(rf'\1 alt="{NO_ALT_TEXT}"\2', page), resources

    templates = str(TEMPLATES.parent)  # holds "report/": found as a template and as files
    exporter = ReportExporter(
        template_name="report",
        extra_template_basedirs=[templates],
        extra_template_paths=[templates],
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        exclude_anchor_links=True,
        optimistic_validation=True,  # one schema check after the preprocessors, not one each
    )
    exporter.register_filter("markdown_with_ids", markdown_with_ids)
    exporter.register_filter("safe_markdown", safe_markdown)
    return exporter


def _notebook_page(
    exporter, stem, nb, parameters, banner, figures, figures_dir, prev, nxt, policy
) -> tuple[Page, str]:
    title = _notebook_title(nb) or stem
    shown = _prepare(nb, figures, figures_dir)
    legend = _one_legend(shown, policy)
    sections, found = _sections(shown)
    context = {
        "title": f"{title} — {REPORT_TITLE}",
        "banner": banner,
        "legend": legend,
        "prev": prev,
        "next": nxt,
        "sections": sections[1:],
        "ids": set(),
        "parameters": [p for p in parameters if p.name not in PIPELINE_PARAMETERS],
    }
    text, _ = exporter.from_notebook_node(shown, resources={"report": context})
    return Page(stem, title, _summary(nb), sections[1:], found, parameters), text


def _sections(nb) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """The (id, text) of the notebook's own h1/h2 headings, and for each saved figure shown the
    id of the section it is shown in ("" before any)."""
    headings: list[tuple[int, str, str]] = []
    used: set[str] = set()
    found: dict[str, str] = {}
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            markdown_with_ids(cell.source, used, headings)
        for output in cell.get("outputs", []):
            file = output.get("metadata", {}).get("filenames", {}).get("image/png", "")
            if file:
                own = [i for level, i, _ in headings if level <= 2]
                found.setdefault(Path(file).stem, own[-1] if own else "")
    return [(i, text) for level, i, text in headings if level <= 2], found


def _prepare(nb, figures: dict[str, str], figures_dir: Path):
    """A copy of the notebook ready for the exporter: figure files and alt text, sections the
    data cannot fill collapsed."""
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
            if "image/png" in data:
                png = base64.b64decode(data["image/png"])
                name = figures.get(hashlib.sha256(png).hexdigest())
                meta = output.setdefault("metadata", {}).setdefault("image/png", {})
                if name:
                    output["metadata"].setdefault("filenames", {})["image/png"] = (
                        f"figures/{name}.png"
                    )
                svg = figures_dir / f"{name}.svg" if name else None
                meta["alt"] = figure_alt(
                    output,
                    cell,
                    nb.cells[i + 1 :],
                    png,
                    svg=svg,
                    heading=heading,
                    following=cell["outputs"][j + 1 :],
                )
    nb.cells = collapse_unavailable(nb.cells)
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
        marked = [
            (c, o)
            for c in section
            if c.cell_type == "code"
            for o in c.get("outputs", [])
            if o.get("metadata", {}).get(UNAVAILABLE)
        ]
        shows = any(c.get("outputs") for c in section if c.cell_type == "code")
        if not marked:
            if not (rest_empty and not shows):
                kept += section
            continue
        head = section[0]
        if head.cell_type == "markdown":
            heading = re.search(r"^#{1,6}\s.*$", head.source, flags=re.MULTILINE)
            # the cells' own ids: a page renders them, and two runs must give the same page
            kept.append(
                nbformat.v4.new_markdown_cell(
                    heading.group(0) if heading else "", id=head.get("id")
                )
            )
        for cell, output in marked:
            kept.append(nbformat.v4.new_code_cell(cell.source, outputs=[output], id=cell.get("id")))
        rest_empty = rest_empty or any(o["metadata"][UNAVAILABLE] == "notebook" for _, o in marked)
    return kept


def safe_markdown(text: str) -> str:
    """Markdown to HTML with raw HTML escaped and script links disabled (text from data)."""
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    renderer = IPythonRenderer(
        escape=True, allow_harmful_protocols=False, exclude_anchor_links=True
    )
    return MarkdownWithMath(renderer=renderer).render(text)


def markdown_with_ids(text: str, used: set[str], headings: list | None = None) -> str:
    """A notebook's own Markdown to HTML, each h1-h3 with a readable id not in ``used`` (which
    gets it); ``headings`` gets their (level, id, plain text)."""
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    class Renderer(IPythonRenderer):
        def heading(self, text: str, level: int, **attrs) -> str:
            if level <= 3:
                plain = html.unescape(re.sub(r"<[^>]+>", "", text)).strip()
                base = re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-") or "section"
                slug, n = base, 2
                while slug in used:
                    slug, n = f"{base}-{n}", n + 1
                used.add(slug)
                attrs["id"] = slug
                if headings is not None:
                    headings.append((level, slug, plain))
            return super().heading(text, level, **attrs)

    return MarkdownWithMath(renderer=Renderer(escape=False, exclude_anchor_links=True)).render(text)


_CAPTION = re.compile(r"^\s*[*_]*(figure\b|caption:)", re.IGNORECASE)


def figure_alt(
    output,
    cell,
    later_cells,
    png: bytes,
    *,
    svg: Path | None = None,
    heading: str = "",
    following=(),
) -> str:
    """Alt text saying what a figure shows, never empty: ``alt`` metadata, a caption or
    "Figure" heading, the PNG's Description/Title, the SVG's axes titles, the section heading."""
    given = (
        output.get("metadata", {}).get("image/png", {}).get("alt")
        or output.get("metadata", {}).get("alt")
        or cell.get("metadata", {}).get("alt")
    )
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
    """The text chunks of a PNG (``tEXt``, and ``iTXt``, which Matplotlib writes for text beyond
    Latin-1), e.g. ``Title``, ``Description``, as a dict. Read chunk by chunk: the image is not
    decoded, whatever its size."""
    found, pos = {}, 8
    while pos + 8 <= len(png):
        length = int.from_bytes(png[pos : pos + 4], "big")
        kind = png[pos + 4 : pos + 8]
        key, _, value = png[pos + 8 : pos + 8 + length].partition(b"\0")
        if kind == b"tEXt":
            found[key.decode("latin-1")] = value.decode("latin-1")
        elif kind == b"iTXt":
            # compression flag and method, language tag, translated keyword, then the text
            text = value[2:].split(b"\0", 2)[-1]
            text = zlib.decompress(text) if value[:1] == b"\1" else text
            found[key.decode("latin-1")] = text.decode("utf-8", "replace")
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


def _one_legend(nb, policy: suppression.Policy) -> str:
    """The share run's note on hidden counts, taken out of every output that carries it (under
    each table and text), once for the top of the page; "" when nothing on the page is hidden."""
    if policy.k <= 1:
        return ""
    note, said = policy.footnote(), False
    for output in (o for c in nb.cells for o in c.get("outputs", [])):
        data = output.get("data", {})
        for mime, forms in (
            ("text/markdown", (f"*{note}*", note)),  # as helpers.narrative adds it
            ("text/html", (note, html.escape(note), html.escape(note, quote=False))),
        ):
            text = data.get(mime, "")
            if any(form in text for form in forms):
                said = True
                for form in forms:
                    text = text.replace(" " + form, "").replace(form, "")
                data[mime] = re.sub(r'<p(?: class="footnote")?>\s*</p>', "", text)
    return note if said else ""


def _figure_files(folder: Path) -> dict[str, str]:
    """SHA-256 of each ``figures/*.png`` -> its stem, to link shown images to their files."""
    if not folder.is_dir():
        return {}
    return {
        hashlib.sha256(p.read_bytes()).hexdigest(): p.stem for p in sorted(folder.glob("*.png"))
    }


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
    for name, (value, _) in defaults.items():
        if value is None and name in SETTINGS:  # a setting at its project default
            defaults[name] = (SETTINGS[name].default, SETTINGS[name].meaning)
    return [
        Parameter(name, injected.get(name, default), default, meaning)
        for name, (default, meaning) in defaults.items()
    ]


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
        rest = lines[node.end_lineno - 1][node.end_col_offset :]
        found[target.id] = (value, rest.split("#", 1)[1].strip() if "#" in rest else "")
    return found


def _value_text(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and ("/" in value or "\\" in value):
        return Path(value).name
    return str(value)


# --- page parts ------------------------------------------------------------------------


def _banner(
    run_dir: Path,
    cohort_file: str | None,
    kind: str,
    cutoffs: dict | None = None,
    policy: suppression.Policy = suppression.NONE,
) -> tuple[dict, bool]:
    """The data banner of every page (``style``, ``text`` naming the ``cutoffs`` set otherwise than
    the paper, ``kind`` of run), and whether the data are the shipped reconstruction."""
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
    return {
        "style": style,
        "text": text,
        "kind": _kind_text(kind, prov, policy),
    }, style == "reconstructed"


def _manifest_provenance(run_dir: Path) -> Provenance | None:
    """The input named in ``manifest.json`` (file name and SHA-256), or None without one."""
    path = run_dir / "manifest.json"
    entry = json.loads(path.read_text(encoding="utf-8")).get("input") if path.is_file() else None
    if not isinstance(entry, dict) or not entry.get("file") or not entry.get("sha256"):
        return None
    shipped = SHIPPED_COHORT.is_file() and file_sha256(SHIPPED_COHORT) == entry["sha256"]
    return Provenance(Path(str(entry["file"])).name, str(entry["sha256"]), shipped)


def _kind_text(
    kind: str, prov: Provenance | None = None, policy: suppression.Policy = suppression.NONE
) -> str:
    """The banner's line on the kind of run; a share run names the input, its hash prefix and its k."""
    k, base = policy.k, policy.base
    text = (
        f"Share-safe run: no copy of the input and no patient identifiers; no counts are hidden (k = {k}), "
        f"every count is rounded to a multiple of {base}."
        if kind == "share" and k <= 1
        else RUN_KINDS[kind].format(k=k, below=k - 1, base=base)
    )
    if kind == "share":
        source = f" of {prov.file} (SHA-256 {prov.sha256[:12]}…)" if prov is not None else ""
        text = f"Share-safe copy{source}: " + text.removeprefix("Share-safe run: ")
    return text


def report_date() -> str:
    """Today's date (UTC), or that of ``SOURCE_DATE_EPOCH`` for reproducible builds."""
    stamp = float(os.environ.get("SOURCE_DATE_EPOCH", time.time()))
    return time.strftime("%Y-%m-%d", time.gmtime(stamp))


# --- index -------------------------------------------------------------------------------


def _index(
    run_dir: Path,
    pages: list[Page],
    results,
    banner: dict,
    reconstructed: bool,
    policy: suppression.Policy,
) -> str:
    from importlib import metadata

    import jinja2

    try:
        version = metadata.version("debulking-blina")
    except metadata.PackageNotFoundError:
        version = "not installed"
    commit = ""
    if (run_dir / "manifest.json").is_file():  # written before the report by the pipeline
        git = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8")).get("git") or {}
        if git.get("commit"):
            commit = (
                f" · commit {git['commit'][:10]}{' with local changes' if git.get('dirty') else ''}"
            )
    changed: dict[tuple[str, str, str], tuple[Parameter, list[str]]] = {}
    for page in pages:
        for p in page.parameters:
            if p.changed and p.name not in PIPELINE_PARAMETERS:
                # one row per parameter and value (the first notebook's meaning), and the notebooks
                key = (p.name, p.value_text, p.default_text)
                changed.setdefault(key, (p, []))[1].append(page.stem[:2])
    found = _headlines(run_dir, results, pages, policy)
    k = policy.k
    hidden = k > 1 and any(re.search(rf"<{k}(?!\d)", h["title"] + h["text"]) for h in found)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES.parent),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.do"],
    )
    return env.get_template("report/report_index.html.j2").render(
        title=REPORT_TITLE,
        banner=banner,
        date=report_date(),
        version=version,
        commit=commit,
        pages=pages,
        n_results=len(results),
        changed=list(changed.values()),
        headlines=found,
        legend=policy.footnote() if hidden else "",
        thumbs=_thumbnails(pages, run_dir / "figures"),
        summary=_summary_table(run_dir, reconstructed),
        reasons={p.stem: headlines.not_available(results, p.stem) for p in pages},
        downloads=_downloads(run_dir, pages),
    )


def _headlines(run_dir: Path, results, pages, policy: suppression.Policy) -> list[dict]:
    """The headlines the notebooks declared, filled from results.csv with counts as ``policy``
    shows them, in reading order, each linked to its page's section; a declared headline without
    its result is an error."""
    items = []
    for stem, h in headlines.read_headlines(run_dir):
        try:
            text = h.text(results, policy=policy)
        except KeyError as err:
            raise ValueError(
                f"the headline {h.title!r} declared by {stem} has no result: {err}"
            ) from None
        page = next((p for p in pages if p.stem == stem), None)
        href = ""
        if page:
            section = next(
                (
                    s
                    for s, t in page.sections
                    if " ".join(html.unescape(t).split()).lower() == h.section.lower()
                ),
                "",
            )
            href = f"{page.stem}.html" + (f"#{section}" if section else "")
        items.append({"title": h.title, "text": text, "href": href})
    return items


def figure_caption(png: Path) -> str:
    """The first sentence of a saved figure's ``Description`` (what it shows), "" without one."""
    if not png.is_file():
        return ""
    chunks = png_text(png.read_bytes())
    text = chunks.get("Description") or chunks.get("Title", "")
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
        first = next(
            book.active.iter_rows(min_row=1, max_row=1, max_col=1, values_only=True), (None,)
        )[0]
    finally:
        book.close()
    return str(first) if first else ""


def _thumbnails(pages, figures_dir: Path) -> list[dict]:
    cells = []
    for page in pages:
        for name, section in page.figures.items():
            label = next((t for s, t in page.sections if s == section), name.replace("_", " "))
            cells.append(
                {
                    "href": f"{page.stem}.html" + (f"#{section}" if section else ""),
                    "name": name,
                    "caption": figure_caption(figures_dir / f"{name}.png") or label,
                }
            )
    return cells


def _summary_table(run_dir: Path, reconstructed: bool) -> dict | None:
    import pandas as pd

    path = run_dir / "tables" / "reproduction_summary.csv"
    if not path.is_file():
        return None
    table = pd.read_csv(path, keep_default_na=False)
    return {
        "title": (
            "Reproduction of the paper's figures"
            if reconstructed
            else "Replication: the main endpoints beside the paper's"
        ),
        "columns": [c[:1].upper() + c[1:] for c in table.columns],
        "rows": list(table.itertuples(index=False)),
    }


def _downloads(run_dir: Path, pages) -> dict:
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

    def files(keys) -> list[dict]:
        found = []
        for key in keys:
            folder, stem = key.split("/", 1)
            label = (
                table_title(run_dir / folder / f"{stem}.xlsx")
                if folder == "tables"
                else figure_caption(run_dir / folder / f"{stem}.png")
            )
            found.append(
                {
                    "label": label or stem.replace("_", " "),
                    "links": [
                        (f"{key}.{ext}", FILE_KINDS.get(ext, ext.upper())) for ext in stems[key]
                    ],
                }
            )
        return found

    groups = []
    for page in pages:
        links = [(f"notebooks/{page.stem}.ipynb", "executed notebook")]
        if (run_dir / "results" / f"{page.stem}.csv").is_file():
            links.append((f"results/{page.stem}.csv", "its results (CSV)"))
        groups.append(
            {
                "title": page.title,
                "links": links,
                "files": files(k for k in stems if owner.get(k) == page.stem),
            }
        )
    rest = [k for k in stems if k not in owner]
    if rest:
        groups.append({"title": "Other files", "links": [], "files": files(rest)})
    run_files = [
        (name, what)
        for name, what in (
            ("results.csv", "every statistic, one row each"),
            ("manifest.json", "input hash, parameters, package versions"),
        )
        if (run_dir / name).is_file()
    ]
    return {"run_files": run_files, "groups": groups}
