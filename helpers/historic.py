"""Historic comparators (``data/historic_comparators.csv``), their pairing with cohort endpoints
(``data/historic_pairings.csv``: which endpoint and population meets which comparator, and why),
and the exact comparisons. Cohort endpoints are defined once, in :data:`COHORT_ENDPOINTS`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from helpers import comparison, contract, suppression
from helpers.derived import CUTOFFS
from helpers.published import cutoffs_used, definition_differences, different_definition_text
from helpers.results import RESULT_COLUMNS, Key, conditions
from helpers.rounding import fitting_numerators
from helpers.stats import boschloo_fisher_two_sided, exact_ci, proportion
from helpers.subgroups import count_row

#: Columns of the comparator file, in order.
COMPARATOR_COLUMNS: tuple[str, ...] = (
    "id",
    "study",
    "reference",
    "population",
    "arm",
    "endpoint",
    "endpoint_definition",
    "numerator",
    "denominator",
    "percent",
    "ci_low",
    "ci_high",
    "status",
    "note",
    "cutoffs",
)
#: Columns a comparator file may leave out (read as blank).
OPTIONAL_COMPARATOR_COLUMNS: tuple[str, ...] = ("cutoffs",)
#: Where a comparator's numbers come from: counts printed, counts derived from a
#: printed percentage and n, or only a rate.
STATUSES: tuple[str, ...] = ("seen", "derived", "percent_only")
#: Columns of the pairings file, in order.
PAIRING_COLUMNS: tuple[str, ...] = (
    "pairing_id",
    "comparator_id",
    "cohort_endpoint",
    "cohort_population",
    "rationale",
)
_NUMBERS = ("numerator", "denominator", "percent", "ci_low", "ci_high")
_REQUIRED_TEXT = tuple(c for c in COMPARATOR_COLUMNS if c not in (*_NUMBERS, "note", "cutoffs"))
_RESULT_FIELDS = [c for c in RESULT_COLUMNS if c != "notebook"]
_STATISTICS = (
    "test_method",
    "p_value",
    "boschloo_p",
    "boschloo_method",
    "boschloo_fisher2_p",
    "boschloo_fisher2_method",
    "risk_difference",
    "rd_low",
    "rd_high",
    "rd_method",
    "prob_cohort_higher",
    "posterior_method",
)


@dataclass(frozen=True)
class CohortEndpoint:
    """One cohort endpoint in the words of the paper and the contract. Exactly one of
    ``response_codes`` (events; every patient evaluable) and ``column`` (a boolean cohort
    column; missing = not evaluable) is set."""

    code: str
    label: str
    definition: str
    response_codes: tuple[str, ...] | None = None
    column: str | None = None


#: The cohort endpoints that can be paired (codes as in the comparator file).
COHORT_ENDPOINTS: dict[str, CohortEndpoint] = {
    e.code: e
    for e in (
        CohortEndpoint(
            "cr_crh_cri",
            "CR/CRh/CRi",
            "CR, CRp or CRi within 2 cycles (the paper's CRp has TOWER's CRh thresholds)",
            response_codes=tuple(contract.CR_CODES),
        ),
        CohortEndpoint(
            "cr_crh",
            "CR/CRh",
            "CR or CRp within 2 cycles (CRi not counted)",
            response_codes=("cr", "crp"),
        ),
        CohortEndpoint(
            "cr_full",
            "CR with full recovery",
            "CR with full count recovery within 2 cycles",
            response_codes=("cr",),
        ),
        CohortEndpoint(
            "mrd_among_responders",
            "MRD response among responders",
            "complete MRD response among CR/CRp/CRi patients with an MRD result",
            column="mrd_negative",
        ),
    )
}


# --- reading and checking the data files ---------------------------------------------


def _read_csv(
    path: str | Path, columns: tuple[str, ...], optional: tuple[str, ...] = ()
) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    frame = frame.assign(**{c: "" for c in optional if c not in frame.columns})
    if tuple(frame.columns) != columns:
        raise ValueError(
            f"{Path(path).name}: expected columns {', '.join(columns)}; "
            f"found {', '.join(frame.columns)}"
        )
    return frame


def comparator_problems(raw: pd.DataFrame) -> list[str]:
    """Problems of a comparator table read as text; empty when well formed."""
    problems = []
    duplicated = raw["id"][raw["id"].duplicated()]
    if len(duplicated):
        problems.append(f"duplicate ids: {', '.join(sorted(set(duplicated)))}")
    for line, row in enumerate(raw.to_dict("records"), start=2):
        where = f"line {line} ({row['id'] or 'no id'})"
        for col in _REQUIRED_TEXT:
            if not row[col].strip():
                problems.append(f"{where}: {col} is empty")
        values = {}
        for col in _NUMBERS:
            text = row[col].strip()
            try:
                values[col] = float(text) if text else math.nan
            except ValueError:
                problems.append(f"{where}: {col} {text!r} is not a number")
                values[col] = math.nan
            if values[col] < 0:
                problems.append(f"{where}: {col} is negative")
        k, n = values["numerator"], values["denominator"]
        if not math.isnan(k) and not math.isnan(n) and k > n:
            problems.append(f"{where}: numerator {k:g} exceeds denominator {n:g}")
        status = row["status"]
        if status not in STATUSES:
            problems.append(f"{where}: status {status!r} not one of {', '.join(STATUSES)}")
        elif status in ("seen", "derived") and (math.isnan(k) or math.isnan(n)):
            problems.append(f"{where}: status {status} needs numerator and denominator")
        elif status == "percent_only" and (math.isnan(values["percent"]) or not math.isnan(k)):
            problems.append(f"{where}: percent_only needs a percent and no numerator")
        low, high, pct = values["ci_low"], values["ci_high"], values["percent"]
        if math.isnan(low) != math.isnan(high):
            problems.append(f"{where}: a CI needs both limits")
        elif not math.isnan(low) and not (low <= high and (math.isnan(pct) or low <= pct <= high)):
            problems.append(f"{where}: CI {low:g}-{high:g} does not enclose {pct:g}")
        try:
            parse_cutoffs(row.get("cutoffs", ""))
        except ValueError as err:
            problems.append(f"{where}: {err}")
    return problems


def parse_cutoffs(text: str) -> dict[str, float]:
    """``"bmb_high_cutoff=50"`` -> ``{"bmb_high_cutoff": 50.0}`` (``&`` joins several;
    names of :data:`helpers.derived.CUTOFFS`); blank gives ``{}``."""
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in (text or "").split("&"))):
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or name not in CUTOFFS:
            raise ValueError(
                f"cutoffs {text!r}: expected parameter=value with a parameter of "
                f"{', '.join(CUTOFFS)}"
            )
        try:
            out[name] = float(value)
        except ValueError:
            raise ValueError(f"cutoffs {text!r}: {value.strip()!r} is not a number") from None
    return out


def load_comparators(path: str | Path) -> pd.DataFrame:
    """Read and check ``historic_comparators.csv``."""
    raw = _read_csv(path, COMPARATOR_COLUMNS, OPTIONAL_COMPARATOR_COLUMNS)
    problems = comparator_problems(raw)
    if problems:
        raise ValueError(f"{Path(path).name}: " + "; ".join(problems))
    frame = raw.copy()
    for col in ("numerator", "denominator"):
        frame[col] = pd.to_numeric(frame[col].replace("", None)).astype("Int64")
    for col in ("percent", "ci_low", "ci_high"):
        frame[col] = pd.to_numeric(frame[col].replace("", None)).astype(float)
    return frame


def parse_population(text: str) -> dict[str, object]:
    """``"all"`` -> ``{}``; ``"ph_status=positive&high_burden=True"`` -> a filter dict
    (``True``/``False`` become booleans)."""
    text = text.strip()
    if text in ("", "all"):
        return {}
    out: dict[str, object] = {}
    for part in text.split("&"):
        column, sep, value = part.partition("=")
        if not sep or not column.strip():
            raise ValueError(f"population {text!r}: expected column=value joined by &")
        value = value.strip()
        out[column.strip()] = {"True": True, "False": False}.get(value, value)
    return out


def pairing_problems(
    pairings: pd.DataFrame, comparators: pd.DataFrame, cohort_columns: tuple[str, ...] | None = None
) -> list[str]:
    """Problems of a pairings table; empty when every pairing resolves."""
    problems = []
    duplicated = pairings["pairing_id"][pairings["pairing_id"].duplicated()]
    if len(duplicated):
        problems.append(f"duplicate pairing ids: {', '.join(sorted(set(duplicated)))}")
    known = set(comparators["id"])
    for row in pairings.to_dict("records"):
        pid = row["pairing_id"]
        if row["comparator_id"] not in known:
            problems.append(f"{pid}: unknown comparator {row['comparator_id']!r}")
        if row["cohort_endpoint"] not in COHORT_ENDPOINTS:
            problems.append(
                f"{pid}: unknown cohort endpoint {row['cohort_endpoint']!r}; "
                f"choose from {', '.join(COHORT_ENDPOINTS)}"
            )
        try:
            filters = parse_population(row["cohort_population"])
        except ValueError as err:
            problems.append(f"{pid}: {err}")
            continue
        if cohort_columns is not None:
            missing = [c for c in filters if c not in cohort_columns]
            if missing:
                problems.append(f"{pid}: population names unknown columns {', '.join(missing)}")
        if not row["rationale"].strip():
            problems.append(f"{pid}: no rationale")
    return problems


def load_pairings(path: str | Path, comparators: pd.DataFrame) -> pd.DataFrame:
    """Read ``historic_pairings.csv``; ValueError listing :func:`pairing_problems`."""
    frame = _read_csv(path, PAIRING_COLUMNS)
    problems = pairing_problems(frame, comparators)
    if problems:
        raise ValueError(f"{Path(path).name}: " + "; ".join(problems))
    return frame


# --- the cohort side ---------------------------------------------------------------


def with_endpoint_columns(cohort: pd.DataFrame) -> pd.DataFrame:
    """A copy of the cohort with a boolean ``endpoint.<code>`` column per cohort endpoint
    (MRD keeps its missing values: not evaluable)."""
    out = cohort.copy()
    for e in COHORT_ENDPOINTS.values():
        flags = (
            out["response"].astype(object).isin(e.response_codes)
            if e.response_codes
            else out[e.column]
        )
        out[f"endpoint.{e.code}"] = flags.astype("boolean")
    return out


def endpoint_key(code: str, population: str) -> str:
    """``endpoint[cr_crh_cri]`` for all patients, ``endpoint[cr_crh|ph_status=positive]`` otherwise."""
    population = population.strip()
    within = "" if population == "all" else population
    return str(Key("endpoint", by=code, within=conditions(within)))


def population_label(population: str) -> str:
    """Readable cohort population, e.g. ``"Ph+ patients"``, ``"baseline blasts >= cut-off"``."""
    filters = parse_population(population)
    if not filters:
        return "all patients"
    words = []
    for column, value in filters.items():
        if column == "high_burden":
            words.append("high tumour burden" if value else "low tumour burden")
        elif column == "ph_status":
            words.append({"positive": "Ph+", "negative": "Ph−"}.get(str(value), str(value)))
        else:
            words.append(f"{contract.label(column)} = {contract.code_label(column, value)}")
    return ", ".join(words) + " patients"


def cohort_endpoint_rates(cohort: pd.DataFrame, pairings: pd.DataFrame) -> pd.DataFrame:
    """Rate and exact 95% CI of every (endpoint, population) in the pairings, in order of
    first appearance; patients outside the population (a missing value never matches) or
    with a missing endpoint are not in the denominator."""
    marked = with_endpoint_columns(cohort)
    rows = []
    for code, population in dict.fromkeys(
        (r["cohort_endpoint"], r["cohort_population"].strip() or "all")
        for r in pairings.to_dict("records")
    ):
        part = marked
        for column, value in parse_population(population).items():
            part = part[(part[column] == value).fillna(False)]
        outcome = part[f"endpoint.{code}"].dropna()
        k, n = int(outcome.sum()), len(outcome)
        label = f"This cohort, {COHORT_ENDPOINTS[code].definition}; {population_label(population)}"
        row = count_row(endpoint_key(code, population), label, k, n, proportion(k, n).method_label)
        rows.append({**row, "cohort_endpoint": code, "cohort_population": population})
    return pd.DataFrame(rows, columns=[*_RESULT_FIELDS, "cohort_endpoint", "cohort_population"])


# --- the comparator side -----------------------------------------------------------


def _rate(row: Mapping, counted: bool) -> tuple[float, float, float, str]:
    if counted:
        k, n = int(row["numerator"]), int(row["denominator"])
        return (k / n, *exact_ci(k, n), f"Clopper-Pearson exact 95% CI from {row['status']} counts")
    return (
        row["percent"] / 100,
        row["ci_low"] / 100,
        row["ci_high"] / 100,
        "no CI published" if math.isnan(row["ci_low"]) else "published 95% CI",
    )


def comparator_rates(comparators: pd.DataFrame) -> pd.DataFrame:
    """Each comparator's rate as a fraction: ``k/n`` with its Clopper-Pearson CI when
    counts are known, else the printed percentage and CI (NaN limits when none);
    ``ci_source`` says which."""
    has_counts = comparators["numerator"].notna() & comparators["denominator"].notna()
    rates = [
        _rate(row, counted) for row, counted in zip(comparators.to_dict("records"), has_counts)
    ]
    estimate, low, high, source = (list(c) for c in zip(*rates)) if rates else ([], [], [], [])
    return comparators.assign(
        has_counts=has_counts.to_numpy(dtype=bool),
        estimate=estimate,
        est_low=low,
        est_high=high,
        ci_source=source,
    )


def comparator_label(row: Mapping[str, object]) -> str:
    """Short text for a comparator, e.g. ``"TOWER, blinatumomab: 119/271"`` or ``"... 33% (rate only)"``."""
    head = f"{row['study']}, {row['arm']}"
    if pd.notna(row["numerator"]) and pd.notna(row["denominator"]):
        return f"{head}: {int(row['numerator'])}/{int(row['denominator'])}"
    return f"{head}: {row['percent']:g}% (rate only)"


def printed_numerators(percent_value: float, n: int) -> tuple[int, ...]:
    """Numerators k of ``n`` whose percentage prints as ``percent_value`` (to its own decimals, half up)."""
    return fitting_numerators(format(float(percent_value), "g"), n, ("half_up",))


def matched_pairings(
    cohort_rates: pd.DataFrame,
    comparators: pd.DataFrame,
    pairings: pd.DataFrame,
    cutoffs: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """One row per pairing: cohort rate, comparator figure and why they are paired.
    ``definition`` names a cut-off of the run (``cutoffs``) that differs from the
    comparator's; ``comparator_numerators`` the numerators that print as a rate-only
    comparator's percentage when its n is known."""
    rates = comparator_rates(comparators).set_index("id")
    cohort = cohort_rates.set_index(["cohort_endpoint", "cohort_population"])
    rows = []
    for p in pairings.to_dict("records"):
        population = p["cohort_population"].strip() or "all"
        c = cohort.loc[(p["cohort_endpoint"], population)]
        h = rates.loc[p["comparator_id"]]
        endpoint = COHORT_ENDPOINTS[p["cohort_endpoint"]]
        known_n = (
            (not h["has_counts"]) and pd.notna(h["denominator"]) and not math.isnan(h["percent"])
        )
        numerators = (
            tuple(int(k) for k in [h["numerator"]])
            if h["has_counts"]
            else printed_numerators(h["percent"], int(h["denominator"]))
            if known_n
            else ()
        )
        known_n = known_n and bool(numerators)
        rows.append(
            {
                "pairing_id": p["pairing_id"],
                "cohort_endpoint": endpoint.code,
                "endpoint_label": endpoint.label,
                "cohort_population": population,
                "population_label": population_label(population),
                "rationale": p["rationale"],
                "cohort_key": c["key"],
                "cohort_k": int(c["numerator"]),
                "cohort_n": int(c["denominator"]),
                "cohort_rate": c["estimate"],
                "cohort_low": c["ci_low"],
                "cohort_high": c["ci_high"],
                "comparator_id": p["comparator_id"],
                "study": h["study"],
                "arm": h["arm"],
                "reference": h["reference"],
                "comparator_definition": h["endpoint_definition"],
                "comparator_k": h["numerator"],
                "comparator_n": h["denominator"],
                "comparator_rate": h["estimate"],
                "comparator_low": h["est_low"],
                "comparator_high": h["est_high"],
                "ci_source": h["ci_source"],
                "status": h["status"],
                "note": h["note"],
                "comparator_label": comparator_label({**h, "id": p["comparator_id"]}),
                "design": "two-sample" if h["has_counts"] or known_n else "one-sample",
                "comparator_numerators": numerators,
                "definition": different_definition_text(
                    definition_differences(
                        cutoffs_used(population),
                        cutoffs or {},
                        parse_cutoffs(h.get("cutoffs", "")),
                        source=str(h["study"]),
                    )
                ),
            }
        )
    return pd.DataFrame(rows).astype({"comparator_k": "Int64", "comparator_n": "Int64"})


# --- comparisons -------------------------------------------------------------------


def compare_pairings(
    matched: pd.DataFrame,
    *,
    prior: tuple[float, float] = (1.0, 1.0),
    policy: suppression.Policy = suppression.NONE,
) -> pd.DataFrame:
    """The exact comparison of every matched pairing (empty population: NaN statistics).

    With comparator counts: Fisher and Boschloo (both conventions), risk difference with
    Newcombe's interval and P(cohort higher) under Beta(``prior``) priors; a percentage
    with known n is compared with each numerator that prints as it, the larger Fisher p
    reported. Rate only: exact binomial test and P(cohort higher) than the fixed rate. A
    different definition is not compared (NaN, reason in ``test_method``).
    """
    a, b = prior
    added = []
    for row in matched.to_dict("records"):
        k, n = row["cohort_k"], row["cohort_n"]
        stats = {
            "test": "fisher" if row["design"] == "two-sample" else "binomial",
            **{c: "" if c.endswith("method") else math.nan for c in _STATISTICS},
        }
        # a share run compares the counts it shows
        if policy.active and not row.get("definition") and n:
            if policy.rate_hidden(k, n):
                added.append(
                    {**stats, "test_method": f"not shown: a count below {policy.k} in a share run"}
                )
                continue
            k, n = int(policy.count(k)), int(policy.count(n))
        if row.get("definition"):
            stats["test_method"] = f"not compared: {row['definition']}"
        elif n == 0:
            stats["test_method"] = "not computed: no evaluable cohort patients"
        elif row["design"] == "two-sample":
            n2 = int(row["comparator_n"])
            candidates = list(row.get("comparator_numerators") or (int(row["comparator_k"]),))
            runs = [
                (k2, comparison.compare_with_counts(k, n, k2, n2, prior=(a, b)))
                for k2 in candidates
            ]
            k2, res = max(runs, key=lambda r: r[1].fisher.p_value)
            which = (
                ""
                if len(runs) == 1
                else f"; comparator numerator {' or '.join(map(str, candidates))} of {n2} (each prints as "
                f"the published {row['comparator_rate'] * 100:g}%), {k2} used: the larger Fisher p"
            )
            other = boschloo_fisher_two_sided([[k, n - k], [k2, n2 - k2]])
            stats.update(
                test_method=res.fisher.method + which,
                p_value=res.fisher.p_value,
                boschloo_p=res.boschloo.p_value,
                boschloo_method=res.boschloo.method + which,
                boschloo_fisher2_p=other.p_value,
                boschloo_fisher2_method=other.method + which,
                risk_difference=res.risk_difference,
                rd_low=res.rd_ci_low,
                rd_high=res.rd_ci_high,
                rd_method=res.rd_method + which,
                prob_cohort_higher=res.prob_cohort_higher,
                posterior_method=(
                    f"P(cohort > comparator), independent Beta({a:g}, {b:g}) "
                    "priors updated by both groups' counts" + which
                ),
            )
        else:
            res = comparison.compare_with_rate(k, n, float(row["comparator_rate"]), prior=(a, b))
            stats.update(
                test_method=f"{res.binomial.method} against the published rate",
                p_value=res.binomial.p_value,
                risk_difference=k / n - float(row["comparator_rate"]),
                prob_cohort_higher=res.prob_cohort_higher,
                posterior_method=(
                    f"P(cohort > fixed published rate), Beta({a:g}, {b:g}) "
                    "prior updated by the cohort's counts"
                ),
            )
        added.append(stats)
    return pd.concat([matched.reset_index(drop=True), pd.DataFrame(added)], axis=1)


def comparator_results(comparators: pd.DataFrame, ids) -> pd.DataFrame:
    """Result rows ``comparator[<id>]`` for the given ids, in order (as
    :func:`comparator_rates`; ``method`` says which interval and the status)."""
    rates = comparator_rates(comparators).set_index("id")
    rows = []
    for cid in ids:
        r = rates.loc[cid]
        rows.append(
            {
                "key": str(Key("comparator", by=cid)),
                "label": f"{r['study']}, {r['arm']}: {r['endpoint_definition']}",
                "numerator": r["numerator"],
                "denominator": r["denominator"],
                "estimate": r["estimate"],
                "ci_low": r["est_low"],
                "ci_high": r["est_high"],
                "p_value": math.nan,
                "method": r["ci_source"] + (f" ({r['status']})" if r["status"] != "seen" else ""),
                "unit": "proportion",
            }
        )
    return pd.DataFrame(rows, columns=_RESULT_FIELDS).astype(
        {"numerator": "Int64", "denominator": "Int64"}
    )


def _boschloo_method_text(method: str) -> str:
    """Method words for a Boschloo row: the exact test's, or the asymptotic fallback's own text
    (:func:`helpers.stats.boschloo_exact` switches for large samples and says so)."""
    if isinstance(method, str) and ("asymptotic" in method or "not compared" in method):
        return method
    extra = method.split("; ", 1)[1] if isinstance(method, str) and "; " in method else ""
    return "Boschloo's exact test (two-sided)" + (f"; {extra}" if extra else "")


def comparison_results(compared: pd.DataFrame) -> pd.DataFrame:
    """Result rows of every comparison: ``cmp[<pairing>]~fisher``, ``~boschloo``,
    ``~boschloo_fisher2`` or ``~binomial`` (cohort k/n), ``.risk_difference`` (cohort minus
    comparator, fraction) and ``.prob_cohort_higher``."""
    rows = []
    for r in compared.to_dict("records"):
        pid = r["pairing_id"]
        what = f"{r['endpoint_label']}, {r['population_label']} vs {r['comparator_label']}"
        if r["design"] == "two-sample":
            tests = [
                ("fisher", r["p_value"], r["test_method"]),
                (
                    "boschloo",
                    r["boschloo_p"],
                    _boschloo_method_text(r.get("boschloo_method", "") or r["test_method"]),
                ),
                (
                    "boschloo_fisher2",
                    r.get("boschloo_fisher2_p", math.nan),
                    r.get("boschloo_fisher2_method", "") or r["test_method"],
                ),
            ]
        else:
            tests = [("binomial", r["p_value"], r["test_method"])]
        for short, p, method in tests:
            rows.append(
                {
                    "key": str(Key("cmp", by=pid, test=short)),
                    "label": what,
                    "numerator": r["cohort_k"],
                    "denominator": r["cohort_n"],
                    "p_value": p,
                    "method": method,
                    "unit": "p-value",
                }
            )
        rows.append(
            {
                "key": str(Key("cmp", by=pid, part="risk_difference")),
                "label": f"{what}: cohort minus comparator",
                "estimate": r["risk_difference"],
                "ci_low": r["rd_low"],
                "ci_high": r["rd_high"],
                "method": r["rd_method"] or "difference from a fixed rate (no interval)",
                "unit": "difference in proportions",
            }
        )
        rows.append(
            {
                "key": str(Key("cmp", by=pid, part="prob_cohort_higher")),
                "label": what,
                "estimate": r["prob_cohort_higher"],
                "method": r["posterior_method"],
                "unit": "probability",
            }
        )
    return pd.DataFrame(rows, columns=_RESULT_FIELDS)
