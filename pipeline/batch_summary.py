"""A batch's summary: ``summary.csv`` and a self-contained ``index.html`` with a forest plot of CR."""

from __future__ import annotations

import base64
import html
import io
import json
import os
from pathlib import Path

import pandas as pd

#: Proportions shown side by side: (column prefix, results key, title).
PROPORTIONS = (("cr", "any_cr[all]", "CR/CRp/CRi within two cycles"),
               ("mrd", "mrd_negative[all]", "MRD-negative among CR with an MRD result"),
               ("crs", "crs[all]", "CRS"),
               ("crs_ge3", "crs_grade_ge3[crs=True]", "CRS grade ≥3 among patients with CRS"))
#: Subgroup contrasts of CR: (column, results key of the Fisher exact test).
CONTRASTS = (("p_cr_by_burden", "any_cr[high_burden]~fisher"),
             ("p_cr_by_lines", "any_cr[lines_group]~fisher"),
             ("p_cr_by_regimen", "any_cr[debulking_category]~fisher"))
#: Headlines of pipeline.headlines shown as text in index.html.
HEADLINE_TITLES = ("CR by marrow blasts before debulking", "CR by previous treatment lines",
                   "CR by debulking therapy")


def summary_rows(outcomes, out: Path) -> pd.DataFrame:
    """One row per run: what it is, its status and error, and its headline numbers (blank when missing)."""
    rows = []
    for o in outcomes:
        s = o.spec
        row = {"run": s.name, "source": s.source, "centre": s.centre,
               "parameters": " ".join(f"{k}={v}" for k, v in s.parameters),
               "status": o.status, "error": o.error.splitlines()[0] if o.error else ""}
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


def _row(results, key: str) -> dict | None:
    if results is None:
        return None
    hit = results[results["key"] == key]
    return hit.iloc[0].to_dict() if len(hit) else None


def write_summary(outcomes, out: str | Path) -> tuple[Path, Path]:
    """Write ``summary.csv`` and ``index.html`` into the batch folder ``out`` (atomically)."""
    out = Path(out)
    table = summary_rows(outcomes, out)
    csv_path = out / "summary.csv"
    _atomic(csv_path, table.to_csv(index=False, lineterminator="\n"))
    html_path = out / "index.html"
    _atomic(html_path, _page(outcomes, table, out))
    return csv_path, html_path


def _atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def forest_png(table: pd.DataFrame) -> bytes | None:
    """Seaborn forest plot of CR (exact 95 % CI) per run, as PNG bytes; None without any CR."""
    data = table.dropna(subset=["cr_estimate"])
    if not len(data):
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    data = data.assign(pct=100 * data["cr_estimate"].astype(float),
                       lo=100 * data["cr_ci_low"].astype(float),
                       hi=100 * data["cr_ci_high"].astype(float),
                       label=[f"{r} (n={int(d)})" for r, d in zip(data["run"], data["cr_denominator"])])
    with sns.axes_style("whitegrid"):
        fig, ax = plt.subplots(figsize=(9, 0.45 * len(data) + 1.6))
        ax.hlines(data["label"], data["lo"], data["hi"], color="0.3")
        sns.scatterplot(data=data, x="pct", y="label", ax=ax, s=60, color="C0", zorder=3, legend=False)
        ax.set_xlim(0, 100)
        ax.margins(y=0.5 / max(1, len(data)) + 0.05)
        ax.set_xlabel("CR/CRp/CRi within two cycles, % (exact 95% CI)")
        ax.set_ylabel("")
        ax.set_title("Complete remission, run by run")
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
        plt.close(fig)
    return buf.getvalue()


def _proportion(row, prefix: str) -> str:
    from pipeline.headlines import rate_text

    if pd.isna(row[f"{prefix}_denominator"]):
        return "–"
    return rate_text({col: row[f"{prefix}_{col}"] for col in ("numerator", "denominator", "ci_low", "ci_high")})


def _headlines(out: Path, name: str) -> dict[str, str]:
    from pipeline.headlines import headline_results

    run_dir = out / "runs" / name
    results = _results(run_dir)
    if results is None:
        return {}
    params = {}
    try:
        manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
        for values in manifest["parameters"].values():
            for key in ("bmb_high_cutoff", "lines_cutoff"):
                if key in values:
                    params[key] = _literal(values[key])
    except (OSError, ValueError, KeyError):
        pass
    return {h.title: h.text for h in headline_results(results, params) if h.title in HEADLINE_TITLES}


def _literal(text):
    import ast

    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _page(outcomes, table: pd.DataFrame, out: Path) -> str:
    esc = lambda v: html.escape(str(v), quote=True)  # noqa: E731
    head = ["Run", "Data", "Centre", "Parameters", "Status"] + [t for _, _, t in PROPORTIONS] + \
        list(HEADLINE_TITLES)
    body = []
    for o, (_, row) in zip(outcomes, table.iterrows()):
        texts = _headlines(out, o.spec.name) if o.status != "failed" else {}
        link = (f'<a href="runs/{esc(o.spec.name)}/report/index.html">{esc(o.spec.name)}</a>'
                if o.status != "failed" else esc(o.spec.name))
        status = esc(o.status) + (f"<pre>{esc(o.error)}</pre>" if o.error else "")
        cells = [link, esc(row["source"]), esc(row["centre"]), esc(row["parameters"]), status]
        cells += [esc(_proportion(row, p)) for p, _, _ in PROPORTIONS]
        cells += [esc(texts.get(t, "–")) for t in HEADLINE_TITLES]
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    png = forest_png(table)
    figure = ("" if png is None else
              '<figure><img alt="Forest plot: CR/CRp/CRi with exact 95% CI for each run" src="data:image/png;base64,'
              + base64.b64encode(png).decode("ascii") + '"></figure>')
    counts = {k: int((table["status"] == k).sum()) for k in ("done", "skipped", "failed")}
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Batch summary</title>"
            "<style>body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:.3em;vertical-align:top;font-size:.9em}"
            "pre{white-space:pre-wrap;max-width:40em;color:#a00}</style></head><body>"
            f"<h1>Batch summary</h1><p>{len(outcomes)} runs: {counts['done']} ran now, "
            f"{counts['skipped']} unchanged since an earlier batch (skipped), {counts['failed']} failed. "
            "Proportions are n/N (%) with exact (Clopper-Pearson) 95% CIs; contrasts use Fisher's exact test, "
            "two-sided, or the test named where exact enumeration was infeasible. Runs with other parameters use other definitions: compare like with like.</p>"
            f"{figure}<table><thead><tr>{''.join(f'<th>{esc(h)}</th>' for h in head)}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></body></html>\n")
