"""Which recorded test (a ``results.csv`` row; nothing is computed here) could be behind a printed p-value."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

import pandas as pd

from helpers import contract
from helpers.results import Key, conditions
from helpers.rounding import (
    fmt_half_up,
    int_or_none,
    is_blank,
    matching_rules,
    p_value_matches,
    printed_p_value,
    text_of,
)
from helpers.stats import CONVENTION_PAIRS, TWO_BY_TWO_ONLY

#: Tests a p-value investigation expects in the results (key suffix ``~test``).
TESTS: tuple[str, ...] = ("fisher", "chi2", "chi2_yates", "barnard", "boschloo")
#: :data:`TESTS` plus the mid-p and the other two-sided conventions (:data:`helpers.stats.CONVENTION_PAIRS`).
TESTS_WITH_MIDP: tuple[str, ...] = (
    *TESTS,
    "fisher_midp",
    "boschloo_fisher2",
    "fisher_midp_doubled",
)
TEST_WORDS: dict[str, str] = {
    "fisher": "Fisher exact",
    "chi2": "chi-square",
    "chi2_yates": "chi-square with Yates",
    "barnard": "Barnard exact",
    "boschloo": "Boschloo exact",
    "fisher_midp": "Fisher mid-p",
    "boschloo_fisher2": "Boschloo exact (two-sided Fisher statistic)",
    "fisher_midp_doubled": "Fisher mid-p (twice one-sided)",
}
#: The two-sided convention each test name stands for, where there is more than one.
CONVENTION_WORDS: dict[str, str] = {
    "boschloo": "twice the smaller one-sided p (scipy's convention)",
    "boschloo_fisher2": "the two-sided Fisher p as statistic",
    "fisher_midp": "Fisher's two-sided p minus half the observed table's probability (Lancaster)",
    "fisher_midp_doubled": "twice the smaller one-sided mid-p",
}
_MIDP = "mid-p (not exact: its size can exceed alpha)"
#: What each test is, for labelling a candidate that prints as the paper's value.
TEST_KINDS: dict[str, str] = {
    "fisher": "exact",
    "barnard": "exact",
    "boschloo": "exact",
    "boschloo_fisher2": "exact",
    "chi2": "asymptotic",
    "chi2_yates": "asymptotic (continuity-corrected)",
    "fisher_midp": _MIDP,
    "fisher_midp_doubled": _MIDP,
}


def test_kind(test: str, method: str = "") -> str:
    """What a recorded test is: ``asymptotic`` when ``method`` says it replaced the exact test."""
    if "in place of" in (method or "") or (
        "asymptotic" in (method or "") and TEST_KINDS.get(test) == "exact"
    ):
        return "asymptotic (in place of the exact test, infeasible at this n)"
    return TEST_KINDS.get(test, "other")


def test_words(test: str, method: str = "") -> str:
    """The test's name as run: the fallback's words when ``method`` says it replaced the exact test."""
    words = TEST_WORDS.get(test, test)
    if "in place of" in (method or ""):
        return f"{method.split(' in place of ')[0]} in place of {words}"
    return words


def _on(rec: Mapping) -> str:
    """``"Fisher exact on Previous treatment lines"``: a recorded test and its grouping."""
    return f"{rec['test_name']} on {grouping_label(rec['grouping'])}"


def _short(rec: Mapping) -> str:
    return f"{_on(rec)} {rec['p_value']:.4f}"


def _twin(hit: Mapping, recorded: Sequence[Mapping]) -> tuple[str | None, Mapping | None]:
    """The other two-sided convention of ``hit``'s test (None if it has none) and its recorded row."""
    other = CONVENTION_PAIRS.get(hit["test"])
    return other, next(
        (r for r in recorded if r["test"] == other and r["grouping"] == hit["grouping"]), None
    )


def _convention_clause(hit: Mapping, recorded: Sequence[Mapping]) -> str:
    """`` (two-sided as <convention>; as <other> it is 0.0264)`` for a test with two conventions."""
    other, twin = _twin(hit, recorded)
    if other is None:
        return ""
    value = f"{twin['p_value']:.4f}" if twin is not None else "not recorded"
    return f" (two-sided as {CONVENTION_WORDS[hit['test']]}; as {CONVENTION_WORDS[other]}: {value})"


def candidate_clause(printed: str, classes: CandidateClasses) -> str:
    """One clause for a verdict's detail, with the classes :func:`describe_candidates` lists."""
    if not classes.recorded:
        return "no other test of this comparison is recorded"
    parts = []
    rec = classes.recorded
    if classes.exact_hits:
        parts.append(
            f"rounded, an exact test prints as {printed}: "
            + ", ".join(_short(r) + _convention_clause(r, rec) for r in classes.exact_hits)
        )
    else:
        parts.append(f"no recorded two-sided exact test prints as {printed}")
    possible = [
        f"{_short(r)} when rounded [{r['test_kind']}]{_convention_clause(r, rec)}"
        for r in classes.other_hits
    ]
    possible += [f"{_short(r)} only if truncated [{r['test_kind']}]" for r in classes.truncated]
    if possible:
        parts.append("possibilities, not accepted: " + "; ".join(possible))
    elif not classes.exact_hits:
        parts.append("no other recorded test prints as it, rounded or truncated")
    return "; ".join(parts)


def group_rates(counts: Mapping[str, tuple[int, int]], test_key: str) -> dict[str, tuple[int, int]]:
    """The per-group ``(k, n)`` behind a test key, read from rate keys."""
    parts = split_test_key(test_key)
    if not parts:
        return {}
    prefix = (
        f"{parts['measure']}["
        + (f"{parts['where']}&" if parts["where"] else "")
        + f"{parts['by']}="
    )
    out = {}
    for key, kn in counts.items():
        if key.startswith(prefix) and key.endswith("]"):
            level = key[len(prefix) : -1]
            if level != "missing" and "&" not in level:
                out[level] = kn
    return out


_TEST_KEY = re.compile(
    r"^(?P<measure>[^\[]+)\[(?P<by>[^\]|]+)(?:\|(?P<where>[^\]]*))?\]~(?P<test>\w+)$"
)


def grouping_key(measure: str, grouping: str, test: str) -> str:
    """``any_cr[lines_group]~fisher``; a grouping ``by|name=level&...`` keeps its condition."""
    by, _, where = grouping.partition("|")
    return str(Key(measure, by=by, within=conditions(where), test=test))


def split_test_key(key: str) -> dict | None:
    """``"any_cr[lines_group]~fisher"`` -> measure, by, where, test; None if not a test key."""
    hit = _TEST_KEY.match(key or "")
    return None if hit is None else {k: (v or "") for k, v in hit.groupdict().items()}


def _level_rows(results: pd.DataFrame, measure: str, grouping: str) -> pd.DataFrame:
    """Rate rows of ``measure`` for each non-missing level of ``grouping`` (``by`` or ``by|where``)."""
    by, _, where = grouping.partition("|")
    prefix = f"{measure}[" + (f"{where}&" if where else "") + f"{by}="
    keys = results["key"].astype(str)
    rows = results[
        keys.str.startswith(prefix)
        & ~keys.str.endswith("=missing]")
        & ~keys.str.contains("~", regex=False)
    ]
    return rows.assign(level=rows["key"].astype(str).str[len(prefix) : -1])


def _levels_recorded(results: pd.DataFrame, measure: str, grouping: str) -> int:
    """Levels of ``grouping`` with a rate row of ``measure`` (``missing`` and empty levels left out)."""
    rows = _level_rows(results, measure, grouping)
    return int((pd.to_numeric(rows["denominator"], errors="coerce") > 0).sum())


def split_text(results: pd.DataFrame, measure: str, grouping: str) -> str:
    """The groups a test compares, from the recorded rate rows, labelled for readers:
    ``"<50: 16/20 · ≥50: 0/2"``, ``"Low tumour burden: 12/13 · High tumour burden: 10/20"``."""
    rows = _level_rows(results, measure, grouping)
    by = grouping.partition("|")[0]
    parts = [
        f"{contract.code_label(by, lvl)}: {int_or_none(k)}/{int_or_none(n)}"
        for lvl, k, n in zip(rows["level"], rows["numerator"], rows["denominator"])
        if int_or_none(n) and int_or_none(k) is not None
    ]
    return " · ".join(parts) if parts else "groups not recorded"


#: Headers of the candidate-test tables shown to readers (the saved CSV keeps the column names).
CANDIDATE_HEADERS: dict[str, str] = {
    "grouping": "Grouping",
    "split": "Groups compared",
    "test_name": "Test",
    "test_kind": "Kind",
    "p_value": "p",
    "rounded": "Rounded",
    "status": "Status",
    "matches": "Matches the paper",
    "truncation_only": "Matches only if truncated",
    "how": "How",
}


def grouping_label(grouping: object) -> str:
    """A grouping of the candidate tests for readers: ``"high_burden|ph_status=positive"`` ->
    ``"High tumour burden (blasts before debulking), Ph status: Positive"``."""
    by, _, where = str(grouping).partition("|")
    among = []
    for term in filter(None, where.split("&")):
        name, _, code = term.partition("=")
        among.append(
            f"{contract.label(name)}: {contract.code_label(name, code)}"
            if code
            else contract.label(name)
        )
    return ", ".join([contract.label(by), *among])


def candidates_view(tests: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """``columns`` of a candidate-test frame for readers: groupings by their labels, headers in words."""
    view = tests.loc[:, list(columns)].copy()
    if "p_value" in view:
        view["p_value"] = [
            f"{p:.4f}" if isinstance(p, float) and p == p else p for p in view["p_value"]
        ]
    if "grouping" in view:
        view["grouping"] = view["grouping"].map(grouping_label)
    return view.rename(columns=CANDIDATE_HEADERS)


def p_value_candidates(
    printed: str,
    results: pd.DataFrame,
    measure: str,
    by_prefix: str,
    expected: Sequence[str] = TESTS,
    groupings: Sequence[str] = (),
) -> pd.DataFrame:
    """Every recorded test of ``measure`` across a grouping starting with ``by_prefix``, vs a printed p."""
    shown = printed_p_value(printed)
    rows = []
    seen: dict[str, set] = {g: set() for g in groupings}
    for rec in results.to_dict("records"):
        parts = split_test_key(text_of(rec.get("key")))
        if not parts or parts["measure"] != measure or not parts["by"].startswith(by_prefix):
            continue
        grouping = parts["by"] + (f"|{parts['where']}" if parts["where"] else "")
        seen.setdefault(grouping, set()).add(parts["test"])
        p = math.nan if is_blank(rec.get("p_value")) else float(rec["p_value"])
        ok, how, _ = p_value_matches(p, shown) if shown else (False, "", ())
        truncated = bool(
            shown
            and not ok
            and shown.relation == "="
            and not math.isnan(p)
            and matching_rules(Fraction(p), shown.value, shown.decimals, ("truncated",))
        )
        if truncated:
            how = (
                f"{p:.4f} truncated to {shown.decimals} decimals (rounding gives "
                f"{fmt_half_up(Fraction(p), shown.decimals)})"
            )
        rows.append(
            {
                "key": rec["key"],
                "grouping": grouping,
                "test": parts["test"],
                "test_name": test_words(parts["test"], text_of(rec.get("method"))),
                "method": text_of(rec.get("method")),
                "p_value": p,
                "status": "recorded",
                "matches": ok,
                "truncation_only": truncated,
                "rounded": ""
                if math.isnan(p) or shown is None
                else fmt_half_up(Fraction(p), shown.decimals),
                "how": how,
            }
        )
    for grouping in seen or {by_prefix: set()}:
        levels = _levels_recorded(results, measure, grouping)
        for test in expected:
            if test not in seen.get(grouping, set()):
                status = "not recorded"
                if test in TWO_BY_TWO_ONLY and levels > 2:
                    status = f"not applicable ({levels}x2 table)"
                rows.append(
                    {
                        "key": grouping_key(measure, grouping, test),
                        "grouping": grouping,
                        "test": test,
                        "test_name": TEST_WORDS.get(test, test),
                        "method": "",
                        "p_value": math.nan,
                        "status": status,
                        "matches": False,
                        "truncation_only": False,
                        "rounded": "",
                        "how": "",
                    }
                )
    columns = (
        "key grouping test test_name method p_value status matches truncation_only rounded how"
    )
    frame = pd.DataFrame(rows, columns=columns.split())
    frame.insert(2, "split", frame["grouping"].map(lambda g: split_text(results, measure, g)))
    frame.insert(5, "test_kind", [test_kind(t, m) for t, m in zip(frame["test"], frame["method"])])
    rank = {
        "grouping": {g: i for i, g in enumerate(seen)},
        "test": {t: i for i, t in enumerate(expected)},
    }
    return frame.sort_values(
        ["grouping", "test"],
        kind="stable",
        key=lambda col: col.map(lambda v: rank[col.name].get(v, len(rank[col.name]))),
    ).reset_index(drop=True)


_FAMILY_SUFFIX = re.compile(r"_(group\d*|split_low|split_high)$")


def grouping_family(by: str) -> str:
    """The prefix shared by every grouping of one measurement (``bmb_post_group`` -> ``bmb_post``)."""
    return _FAMILY_SUFFIX.sub("", by)


def figure_candidates(figure: Mapping, results: pd.DataFrame) -> pd.DataFrame | None:
    """Every recorded test (:data:`TESTS_WITH_MIDP`) that could be behind a printed p-value
    (None: not a test key)."""
    parts = split_test_key(text_of(figure.get("result_key")))
    if not parts:
        return None
    printed, family = text_of(figure.get("printed")), grouping_family(parts["by"])
    return p_value_candidates(printed, results, parts["measure"], family, TESTS_WITH_MIDP)


@dataclass(frozen=True)
class CandidateClasses:
    """Recorded tests sorted by how they relate to a printed p-value (records of :func:`p_value_candidates`)."""

    exact_hits: tuple
    other_hits: tuple
    truncated: tuple
    recorded: tuple
    not_recorded: tuple
    not_applicable: tuple


def classify_candidates(candidates: pd.DataFrame) -> CandidateClasses:
    """Sort :func:`p_value_candidates` rows into the classes the report names."""
    recs = candidates.to_dict("records")
    recorded = tuple(r for r in recs if r["status"] == "recorded")
    return CandidateClasses(
        exact_hits=tuple(r for r in recorded if r["matches"] and r["test_kind"] == "exact"),
        other_hits=tuple(r for r in recorded if r["matches"] and r["test_kind"] != "exact"),
        truncated=tuple(r for r in recorded if r["truncation_only"]),
        recorded=recorded,
        not_recorded=tuple(r for r in recs if r["status"] == "not recorded"),
        not_applicable=tuple(r for r in recs if str(r["status"]).startswith("not applicable")),
    )


def _name(rec: Mapping) -> str:
    return f"{_on(rec)} ({rec['split']}) p = {rec['p_value']:.4f}"


def _convention_line(hit: Mapping, recs: Sequence[Mapping], printed: str) -> list[str]:
    """A line saying which two-sided convention a matching test depends on, with the other's value."""
    other, twin = _twin(hit, recs)
    if other is None:
        return []
    twin_text = (
        f"{twin['p_value']:.4f}"
        + (
            f", which prints as {printed} too"
            if twin["matches"]
            else f", which does not print as {printed}"
        )
        if twin is not None
        else "not recorded"
    )
    return [
        f"- **Convention:** {_on(hit)} prints as {printed} with "
        f"the two-sided p as {CONVENTION_WORDS[hit['test']]}; as {CONVENTION_WORDS[other]} it is "
        f"{twin_text}."
    ]


def describe_candidates(printed: str, candidates: pd.DataFrame) -> str:
    """Markdown: which recorded tests print as the paper's p-value, and under which printing rule."""
    classes = classify_candidates(candidates)
    if not classes.recorded:
        return f"No test of this comparison is recorded by notebooks 01-05, so {printed} is not checked."
    recs = classes.recorded
    exact_hits, other_hits, truncated = classes.exact_hits, classes.other_hits, classes.truncated
    lines = []
    if exact_hits:
        lines.append(
            f"- **Rounded (strict rule), exact test:** {printed} is printed by "
            + "; ".join(_name(r) for r in exact_hits)
            + "."
        )
    else:
        lines.append(
            f"- **Rounded (strict rule), exact test:** no recorded two-sided exact "
            f"test (Fisher, Barnard, Boschloo) on any grouping prints as {printed}."
        )
    for r in other_hits:
        lines.append(
            f"- **Possibility, rounded, {r['test_kind']}:** {_name(r)} prints as {printed}."
        )
    for r in (*exact_hits, *other_hits):
        lines.extend(_convention_line(r, recs, printed))
    for r in truncated:
        lines.append(
            f"- **Possibility, only if truncated ({r['test_kind']}):** {_name(r)} — {r['how']}."
        )
    if not other_hits and not truncated and not exact_hits:
        lines.append(f"- No other recorded test prints as {printed}, rounded or truncated.")
    lines.append("- Every recorded value: " + "; ".join(map(_short, recs)) + ".")
    for title, missing in (
        ("Not recorded (not computed here)", classes.not_recorded),
        ("Not applicable (2 x 2 tables only)", classes.not_applicable),
    ):
        if missing:
            lines.append(f"- {title}: " + ", ".join(map(_on, missing)) + ".")
    return "\n".join(lines)
