"""A batch's summary: ``summary.csv`` and a self-contained ``index.html`` that answers
"which centre differs?" and "what does the grid change?".

The page is rendered from ``pipeline/templates/batch_summary.html`` (Jinja2, autoescape on:
data text is never live HTML). It has the run report's look, banner (internal or share) and
phone-width layout. Its parts are:

* a forest plot of CR with the pooled row (all patients) and a dashed line at the pooled rate;
* the heterogeneity across centres and the funnel plot, as notebook 10 computed them in the
  run on all patients;
* for a cut-off grid, the contrast the cut-off defines (risk difference and odds ratio with
  95 % CIs and Fisher's p) per cut-off. Rates that do not depend on the grid are drawn once.

Which results it shows (their keys, titles and the contrast a cut-off defines) is declared in
:mod:`helpers.batch_view` with the analysis's key type; this module names no result key.
Nothing here fails on a share run's hidden counts (``"<5"``, ``"not shown"``). A run whose
results cannot be read is listed with one line saying why.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import math
import os
from pathlib import Path

import pandas as pd

from helpers import suppression
from helpers.batch_view import (
    CENTRES_AVAILABLE,
    CENTRES_FISHER,
    CENTRES_I2,
    CONTRASTS,
    GRID_CONTRASTS,
    HEADLINE_TITLES,
    PROPORTIONS,
)
from helpers.parameters import default
from helpers.results import Key
from pipeline.batch import ALL_PATIENTS
from pipeline.parameters import literal

FUNNEL_FIGURE = Path("figures") / "funnel_cr_by_centre.png"


def summary_rows(outcomes, out: Path) -> pd.DataFrame:
    """One row per run: what it is (``label``: the centre, else the data file), its status and
    error, and its headline numbers (blank when missing)."""
    rows = []
    for o in outcomes:
        s = o.spec
        row = {
            "run": s.name,
            "label": s.centre or s.source,
            "source": s.source,
            "centre": s.centre,
            "parameters": " ".join(f"{k}={v}" for k, v in s.parameters),
            "status": o.status,
            "error": o.error.splitlines()[0] if o.error else "",
        }
        results = _results(out / "runs" / s.name) if o.status != "failed" else None
        for prefix, key, _ in PROPORTIONS:
            hit = _row(results, key)
            for col in ("numerator", "denominator", "estimate", "ci_low", "ci_high"):
                row[f"{prefix}_{col}"] = hit.get(col) if hit else None
        for col, key in CONTRASTS:
            hit = _row(results, key)
            row[col] = hit.get("p_value") if hit else None
        rows.append(row)
    table = pd.DataFrame(rows)
    for prefix, _, _ in PROPORTIONS:  # counts stay whole numbers beside failed runs' blanks
        for col in (f"{prefix}_numerator", f"{prefix}_denominator"):
            numbers = pd.to_numeric(table[col], errors="coerce")
            if numbers.notna().sum() == table[col].notna().sum():  # a share run's "<5" stays text
                table[col] = numbers.astype("Int64")
    return table


def _results(run_dir: Path):
    try:
        return pd.read_csv(run_dir / "results.csv", keep_default_na=False, na_values=[""])
    except (OSError, ValueError):
        return None


def _row(results, key: Key) -> dict | None:
    if results is None or "key" not in results:
        return None
    hit = results[results["key"] == str(key)]
    return hit.iloc[0].to_dict() if len(hit) else None


def write_summary(outcomes, out: str | Path, *, share: bool | None = None) -> tuple[Path, Path]:
    """Write ``summary.csv`` and ``index.html`` into the batch folder ``out`` (atomically).
    ``share``: the kind of batch (None: read from the runs' manifests)."""
    out = Path(out)
    table = summary_rows(outcomes, out)
    kind, k = _kind(outcomes, out, share)
    policy = suppression.Policy.for_run(kind == "share", k)
    table = _protect_totals(table, policy)
    csv_path = out / "summary.csv"
    _atomic(csv_path, table.to_csv(index=False, lineterminator="\n"))
    html_path = out / "index.html"
    _atomic(html_path, render_page(outcomes, table, out, kind, policy))
    return csv_path, html_path


def _atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _manifest(out: Path, name: str) -> dict:
    try:
        return json.loads((out / "runs" / name / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _kind(outcomes, out: Path, share: bool | None) -> tuple[str, int]:
    """``("share" | "internal", k)``: k is the share runs' ``min_cell``."""
    manifests = [_manifest(out, o.spec.name) for o in outcomes if o.status != "failed"]
    if share is None:
        share = any(m.get("kind") == "share" for m in manifests)
    k = int(default("min_cell"))  # when no run records it
    for m in manifests:
        for values in m.get("parameters", {}).values():
            if "min_cell" in values:
                k = int(literal(values["min_cell"]))
    return ("share" if share else "internal"), k


def _protect_totals(table: pd.DataFrame, policy: suppression.Policy) -> pd.DataFrame:
    """In a share batch the centres of one file and grid point add up to the pooled run's shown
    totals: where exactly one centre's numerator (or patient number) is hidden, hide the next
    smallest too, with its rate."""
    if policy.k <= 1 or not len(table):
        return table
    table = table.copy()
    parts = table[(table["centre"] != "") & (table["centre"] != ALL_PATIENTS)]
    for _, group in parts.groupby(["source", "parameters"]):
        for prefix, _, _ in PROPORTIONS:
            for col in (f"{prefix}_numerator", f"{prefix}_denominator"):
                values = table.loc[group.index, col]
                hidden = [policy.hidden(v) for v in values]
                others = [
                    (_number(v), i)
                    for i, v, h in zip(values.index, values, hidden)
                    if not h and _number(v) > 0
                ]
                if sum(hidden) != 1 or not others:
                    continue
                i = min(others)[1]
                hide = [f"{prefix}_numerator"] + ([col] if col.endswith("denominator") else [])
                table[hide] = table[hide].astype(object)
                table.loc[i, hide] = suppression.SECONDARY
                table.loc[i, [f"{prefix}_estimate", f"{prefix}_ci_low", f"{prefix}_ci_high"]] = (
                    math.nan
                )
    return table


# --- the page ------------------------------------------------------------------------


def render_page(
    outcomes,
    table: pd.DataFrame,
    out: Path,
    kind: str,
    policy: suppression.Policy = suppression.NONE,
) -> str:
    """index.html from the template: every value passed as text, escaped by Jinja2."""
    import jinja2

    from pipeline.report import _kind_text

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    counts = {k: int((table["status"] == k).sum()) for k in ("done", "skipped", "failed")}
    rows = []
    for o, (_, row) in zip(outcomes, table.iterrows()):
        texts = _headlines(out, o.spec.name, policy) if o.status != "failed" else {}
        rows.append(
            {
                **row[["label", "source", "parameters", "status", "error"]].to_dict(),
                "link": f"runs/{o.spec.name}/report/index.html" if o.status != "failed" else "",
                "pooled": row["centre"] == ALL_PATIENTS,
                "proportions": [_proportion(row, p, policy) for p, _, _ in PROPORTIONS],
                "headlines": [texts.get(t, "–") for t in HEADLINE_TITLES],
            }
        )
    forest = forest_png(table, policy)
    centres = _heterogeneity(outcomes, out)
    grid = grid_contrasts(outcomes, out, policy)
    grid_png = grid_png_bytes(grid) if grid is not None else None
    page = env.get_template("batch_summary.html").render(
        banner=dict(_banner(outcomes), kind=_kind_text(kind, policy=policy)),
        kind_name=kind,
        n_runs=len(outcomes),
        counts=counts,
        proportion_titles=[t for _, _, t in PROPORTIONS],
        headline_titles=list(HEADLINE_TITLES),
        rows=rows,
        forest=_data_uri(forest),
        centres=centres,
        grid=None if grid is None else grid.to_dict("records"),
        grid_png=_data_uri(grid_png),
        note=policy.footnote() if policy.k > 1 else "",
    )
    return page


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    return buf.getvalue()


def _data_uri(png: bytes | None) -> str:
    return "" if png is None else "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _banner(outcomes) -> dict:
    """The data line of the banner: the shipped reconstruction's warning, else the files and hashes."""
    from helpers.provenance import data_provenance

    files = {}
    for o in outcomes:
        if o.spec.centre in ("", ALL_PATIENTS) and o.spec.data.is_file():
            files.setdefault(o.spec.source, o.spec.data)
    provs = [data_provenance(path) for path in files.values()]
    reconstructed = [p for p in provs if p.reconstructed]
    if reconstructed:
        return {"style": "reconstructed", "text": reconstructed[0].headline}
    if not provs:
        return {"style": "analyst", "text": "Data: not recorded."}
    return {
        "style": "analyst",
        "text": "Data: "
        + "; ".join(f"{p.file} (SHA-256 {p.sha256[:12]}…)" for p in provs)
        + ", supplied by the analyst.",
    }


def _proportion(row, prefix: str, policy: suppression.Policy) -> str:
    from helpers.narrative import format_result

    if pd.isna(row[f"{prefix}_denominator"]):
        return "–"
    return format_result(
        {col: row[f"{prefix}_{col}"] for col in ("numerator", "denominator", "ci_low", "ci_high")},
        "rate",
        policy=policy,
    )


def _headlines(out: Path, name: str, policy: suppression.Policy) -> dict[str, str]:
    from helpers.headlines import read_headlines

    run = out / "runs" / name
    results = _results(run)
    if results is None or "key" not in results:
        return {}
    try:
        return {
            h.title: h.text(results, policy=policy)
            for _, h in read_headlines(run)
            if h.title in HEADLINE_TITLES
        }
    except (ValueError, TypeError, KeyError) as err:  # a run this version cannot read: said
        return dict.fromkeys(HEADLINE_TITLES, f"not readable: {err}")


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _shown_count(value, policy: suppression.Policy) -> int | None:
    """A count as a whole number, or None when hidden or missing."""
    number = _number(value)
    return None if math.isnan(number) or policy.hidden(value) else int(number)


# --- which centre differs ----------------------------------------------------------------


def _heterogeneity(outcomes, out: Path) -> list[dict]:
    """Per file split by centre: notebook 10's tests in the run on all patients (first grid point)
    and its funnel plot."""
    from helpers.narrative import p_text

    found, seen = [], set()
    for o in outcomes:
        s = o.spec
        if s.centre != ALL_PATIENTS or s.source in seen or o.status == "failed":
            continue
        seen.add(s.source)
        results = _results(out / "runs" / s.name)
        fisher, i2 = _row(results, CENTRES_FISHER), _row(results, CENTRES_I2)
        available = _row(results, CENTRES_AVAILABLE)
        if fisher is None:
            why = (
                "notebook 10 (outcomes by centre) was not run"
                if available is None
                else str(available.get("method", "")).removeprefix("not available for this data: ")
            )
            found.append({"source": s.source, "text": f"Not computed: {why}.", "funnel": ""})
            continue
        text = (
            f"Fisher's exact test across centres, two-sided: {p_text(_number(fisher['p_value']))}"
        )
        if i2 is not None and not math.isnan(_number(i2["estimate"])):
            low, high = _number(i2["ci_low"]), _number(i2["ci_high"])
            interval = "" if math.isnan(low) else f" (95% CI {100 * low:.0f}–{100 * high:.0f}%)"
            text += f"; random-effects I² {100 * _number(i2['estimate']):.0f}%{interval}"
        png = out / "runs" / s.name / FUNNEL_FIGURE
        found.append(
            {
                "source": s.source,
                "text": text + ".",
                "funnel": _data_uri(png.read_bytes()) if png.is_file() else "",
            }
        )
    return found


def forest_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The rows the forest plot draws: runs with a CR rate shown, one per file and centre when
    the grid points give it the same counts, the pooled rows (all patients) first."""
    data = table.assign(est=[_number(v) for v in table["cr_estimate"]]).dropna(subset=["est"])
    data = data.drop_duplicates(subset=["source", "label", "cr_numerator", "cr_denominator"])
    pooled = data["centre"] == ALL_PATIENTS
    return pd.concat([data[pooled], data[~pooled]])


def forest_png(table: pd.DataFrame, policy: suppression.Policy = suppression.NONE) -> bytes | None:
    """Seaborn forest plot of CR (exact 95 % CI): one row per centre (or file), each drawn once
    however many grid points share its rates; the pooled rows (all patients) first, as
    diamonds, with a dashed line at their rate. None without any CR shown."""
    data = forest_rows(table)
    if not len(data):
        return None
    import matplotlib

    matplotlib.use("Agg")
    import seaborn as sns

    from helpers.figures import house_style, new_figure

    many_files = data["source"].nunique() > 1
    data = data.assign(
        pct=100 * data["est"],
        lo=[100 * _number(v) for v in data["cr_ci_low"]],
        hi=[100 * _number(v) for v in data["cr_ci_high"]],
        kind=[
            "all patients" if c == ALL_PATIENTS else "centre" if c else "file"
            for c in data["centre"]
        ],
        row=[
            (f"{src}: " if many_files else "") + f"{lab} (n={policy.count_text(_shown_or_text(d))})"
            for src, lab, d in zip(data["source"], data["label"], data["cr_denominator"])
        ],
    )
    with house_style():
        fig, ax = new_figure(8, 0.42 * len(data) + 1.8)
        ax.hlines(data["row"], data["lo"], data["hi"], color="0.3")
        sns.scatterplot(
            data=data,
            x="pct",
            y="row",
            hue="kind",
            style="kind",
            ax=ax,
            s=70,
            zorder=3,
            markers={"all patients": "D", "centre": "o", "file": "o"},
            palette={"all patients": "C3", "centre": "C0", "file": "C0"},
        )
        for rate in data.loc[data["kind"] == "all patients", "pct"]:
            ax.axvline(rate, color="C3", linestyle="--", linewidth=1)
        ax.set_xlim(0, 100)
        ax.margins(y=0.5 / max(1, len(data)) + 0.05)
        ax.set_xlabel("CR/CRp/CRi within two cycles, % (exact 95% CI); dashed: pooled rate")
        ax.set_ylabel("")
        ax.set_title(
            "Complete remission by centre"
            if (data["kind"] == "centre").any()
            else "Complete remission by run"
        )
        ax.legend(title="", fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
        return _png(fig)


def _shown_or_text(value):
    return value if isinstance(value, str) else int(_number(value))


# --- what the grid changes ----------------------------------------------------------------


def grid_contrasts(
    outcomes, out: Path, policy: suppression.Policy = suppression.NONE
) -> pd.DataFrame | None:
    """For a grid over a cut-off of :data:`helpers.batch_view.GRID_CONTRASTS`: per run the CR
    contrast that cut-off defines: counts, risk difference (Newcombe hybrid score 95 % CI),
    conditional maximum-likelihood odds ratio (exact 95 % CI, as R's ``fisher.test``) and
    Fisher's p; None without such a grid.
    Hidden counts leave the difference and ratio blank ("–")."""
    from scipy.stats.contingency import odds_ratio

    from helpers.comparison import newcombe_difference_ci
    from helpers.narrative import n_of, p_text

    varied = {k for o in outcomes for k, _ in o.spec.parameters}
    names = [k for k in GRID_CONTRASTS if k in varied]
    if not names:
        return None
    rows = []
    for o in outcomes:
        values = dict(o.spec.parameters)
        results = _results(out / "runs" / o.spec.name) if o.status != "failed" else None
        for name in names:
            if name not in values:
                continue
            contrast, v = GRID_CONTRASTS[name], values[name]
            high, low, test = (_row(results, key) for key in contrast.keys(v))
            row = {
                "label": o.spec.centre or o.spec.source,
                "source": o.spec.source,
                "parameter": name,
                "value": v,
                "contrast": contrast.text(v),
                **dict.fromkeys(("exposed", "reference"), "–"),
                **dict.fromkeys(("rd", "rd_low", "rd_high"), math.nan),
                **dict.fromkeys(("rd_text", "or_text", "p_text"), "–"),
            }
            if high is not None and low is not None:
                counts = ("numerator", "denominator")
                row["exposed"], row["reference"] = (
                    n_of(*(_count(r[c]) for c in counts), policy=policy) for r in (high, low)
                )
                k1, n1, k2, n2 = (_shown_count(r[c], policy) for r in (high, low) for c in counts)
                if (
                    None not in (k1, n1, k2, n2)
                    and n1
                    and n2
                    and not (policy.rate_hidden(k1, n1) or policy.rate_hidden(k2, n2))
                ):
                    d, lo, hi = newcombe_difference_ci(k1, n1, k2, n2)
                    ratio = odds_ratio([[k1, n1 - k1], [k2, n2 - k2]], kind="conditional")
                    ci = ratio.confidence_interval()
                    row.update(
                        rd=100 * d,
                        rd_low=100 * lo,
                        rd_high=100 * hi,
                        rd_text=f"{100 * d:+.1f} ({100 * lo:+.1f} to {100 * hi:+.1f})",
                        or_text=_or_text(ratio.statistic, ci.low, ci.high),
                    )
            if test is not None:
                row["p_text"] = p_text(_number(test["p_value"]), bare=True)
            rows.append(row)
    return pd.DataFrame(rows) if rows else None


def _count(value):
    number = _number(value)
    return value if isinstance(value, str) and math.isnan(number) else int(number)


def _or_text(estimate: float, low: float, high: float) -> str:
    def fmt(x: float) -> str:
        return "∞" if math.isinf(x) else f"{x:.2f}"

    return f"{fmt(estimate)} ({fmt(low)}–{fmt(high)})"


def grid_png_bytes(grid: pd.DataFrame) -> bytes | None:
    """Seaborn plot of the contrast's risk difference (95 % CI) against the value of the first
    grid parameter, one colour per centre or file (side by side); None when none is shown."""
    data = grid[grid["parameter"] == grid["parameter"].iloc[0]].dropna(subset=["rd"])
    if not len(data):
        return None
    import matplotlib

    matplotlib.use("Agg")
    import seaborn as sns

    from helpers.figures import house_style, new_figure

    values = sorted({_number(v) for v in data["value"]})
    step = min((b - a for a, b in itertools.pairwise(values)), default=1.0) * 0.25
    labels = list(dict.fromkeys(data["label"]))
    shift = {
        lab: (i - (len(labels) - 1) / 2) * step / max(len(labels), 1)
        for i, lab in enumerate(labels)
    }
    data = data.assign(x=[_number(v) + shift[lab] for v, lab in zip(data["value"], data["label"])])
    with house_style():
        fig, ax = new_figure(8, 4.2)
        ax.vlines(data["x"], data["rd_low"], data["rd_high"], color="0.3")
        sns.scatterplot(data=data, x="x", y="rd", hue="label", ax=ax, s=60, zorder=3)
        ax.axhline(0, color="0.4", linestyle="--", linewidth=1)
        ax.set_xticks(values)
        ax.set_xlabel(f"{data['parameter'].iloc[0]} (grid value)")
        ax.set_ylabel("CR difference, percentage points (95% CI)")
        ax.set_title("What the grid changes: CR difference between the groups each value defines")
        ax.legend(title="", fontsize=8)
        return _png(fig)
