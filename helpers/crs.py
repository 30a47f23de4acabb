"""The paper's CRS-by-debulking percentages rebuilt from counts under each reading of a missing record.

The paper reports CRS as 5/34 (the patient without a record as no CRS), but its percentages
among patients without CRS fit 28 patients (that patient left out); exact arithmetic throughout.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pandas as pd

from helpers import contract
from helpers.results import rate_key
from helpers.rounding import printed_percent, round_by_rule


def _as_printed(k: int, n: int, decimals: int, rule: str) -> Fraction | None:
    return round_by_rule(Fraction(100 * k, n), decimals, rule) if n else None


def printed_percentages_check(cohort: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """For each figure ``n[crs=...&debulking_category=...]``: the count, its percentage under
    each denominator (CRS patients; recorded without CRS; all without CRS), rounded half up and
    truncated to the printed precision, and which of them prints as the paper's text (NaN: no patients)."""
    status, category = cohort["crs_status"], cohort["debulking_category"].astype(str)
    by_key = published.dropna(subset=["result_key"]).set_index("result_key")
    rows = []
    for flag, name in ((True, "CRS"), (False, "No CRS")):
        group = status == name
        # the other reading: the patient without a record joins the no-CRS group
        other = group if flag else status.isin(["No CRS", "Not recorded"])
        for code in contract.column("debulking_category").codes:
            key = rate_key("n", {"crs": flag, "debulking_category": code})
            if key not in by_key.index:
                continue
            fig = by_key.loc[key]
            printed = printed_percent(str(fig["printed"]))
            if printed is None:
                raise ValueError(
                    f"figure {fig['id']}: printed text {fig['printed']!r} holds no percentage"
                )
            k, n = int((group & (category == code)).sum()), int(group.sum())
            k_other, n_other = int((other & (category == code)).sum()), int(other.sum())
            rounded, truncated = (
                _as_printed(k, n, printed.decimals, rule) for rule in ("half_up", "truncated")
            )
            hits = [
                rule
                for rule, v in (("rounded", rounded), ("truncated", truncated))
                if v == printed.value
            ]
            rows.append(
                {
                    "figure": fig["id"],
                    "group": name,
                    "category": code,
                    "printed": str(fig["printed"]),
                    "n": k,
                    "N": n,
                    "exact %": 100 * k / n if n else math.nan,
                    "rounded": math.nan if rounded is None else float(rounded),
                    "truncated": math.nan if truncated is None else float(truncated),
                    "printed as": {0: "neither", 1: hits[0] if hits else "", 2: "either"}[
                        len(hits)
                    ],
                    "N if not recorded = no": n_other,
                    "% if not recorded = no": 100 * k_other / n_other if n_other else math.nan,
                    "fits printed if not recorded = no": any(
                        _as_printed(k_other, n_other, printed.decimals, rule) == printed.value
                        for rule in ("half_up", "truncated")
                    ),
                }
            )
    return pd.DataFrame(rows)
