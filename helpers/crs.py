"""The paper's CRS-by-debulking percentages rebuilt from counts under each reading of a missing record.

The paper reports CRS as 5/34, counting the patient without a record as no CRS,
but its percentages among patients without CRS fit 28 patients (that patient
left out). :func:`printed_percentages_check` shows which denominator each
printed figure fits.
"""

from __future__ import annotations

import math
import re

import pandas as pd

from helpers import contract
from helpers.results import rate_key


def _truncate(value: float, digits: int = 1) -> float:
    if math.isnan(value):
        return math.nan
    factor = 10 ** digits
    return math.floor(value * factor + 1e-9) / factor


def _round_half_up(value: float, digits: int = 1) -> float:
    if math.isnan(value):
        return math.nan
    factor = 10 ** digits
    return math.floor(value * factor + 0.5 + 1e-9) / factor


def _printed_number(text: str) -> float:
    found = re.search(r"\d+(?:\.\d+)?", str(text))
    return float(found.group()) if found else math.nan


def printed_percentages_check(cohort: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """For each figure ``n[crs=...&debulking_category=...]``: the count, its percentage under
    each denominator (CRS patients; recorded without CRS; all without CRS), rounded and
    truncated to the printed precision, and which of them prints as the paper's text."""
    status = cohort["crs_status"]
    category = cohort["debulking_category"].astype(str)
    by_key = published.dropna(subset=["result_key"]).set_index("result_key")
    rows = []
    for flag, name in ((True, "CRS"), (False, "No CRS")):
        in_group = (status == name).to_numpy()
        n_group = int(in_group.sum())
        n_alt = int(((status == "No CRS") | (status == "Not recorded")).sum())
        for code in contract.column("debulking_category").codes:
            key = rate_key("n", {"crs": flag, "debulking_category": code})
            if key not in by_key.index:
                continue
            fig = by_key.loc[key]
            k = int((in_group & (category == code).to_numpy()).sum())
            exact = 100 * k / n_group if n_group else math.nan
            if flag:
                alt = exact
            else:  # the patient without a record joins the no-CRS group
                in_alt = ((status == "No CRS") | (status == "Not recorded")).to_numpy()
                k_alt = int((in_alt & (category == code).to_numpy()).sum())
                alt = 100 * k_alt / n_alt if n_alt else math.nan
            printed_text = str(fig["printed"])
            printed = _printed_number(printed_text)
            digits = len(printed_text.split(".")[1].rstrip("%")) if "." in printed_text else 0
            rounded, truncated = _round_half_up(exact, digits), _truncate(exact, digits)
            hits = [name_ for name_, v in (("rounded", rounded), ("truncated", truncated))
                    if abs(v - printed) < 1e-9]
            rows.append({
                "figure": fig["id"], "group": name, "category": code, "printed": printed_text,
                "n": k, "N": n_group, "exact %": exact, "rounded": rounded, "truncated": truncated,
                "printed as": {0: "neither", 1: hits[0] if hits else "", 2: "either"}[len(hits)],
                "N if not recorded = no": n_alt if not flag else n_group,
                "% if not recorded = no": alt,
                "fits printed if not recorded = no": any(
                    abs(f(alt, digits) - printed) < 1e-9 for f in (_round_half_up, _truncate)),
            })
    return pd.DataFrame(rows)
