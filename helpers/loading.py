"""Validate and normalise a cohort file against the data contract (:mod:`helpers.contract`).

The contract becomes a pandera schema plus a table of cross-column rules, so every check
comes from one place. Validation collects every problem, each naming the file's line (header
= line 1), the patient, the column, the value as written and what is allowed. The file is only
read: ``validate_file`` never raises for bad content, ``load_cohort`` raises
:class:`CohortValidationError`.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa

from helpers import contract
from helpers.cells import (
    blank,
    duplicated,
    id_codes,
    parse_column,
    reason,
    stripped_frame,
    text_codes,
    valid_cells,
)
from helpers.derived import add_derived
from helpers.parameters import default
from helpers.reading import LINE, Problem, and_join, normalise_name, read_raw

#: Problems (and warnings) listed one by one in a report; the rest are counted by column.
MAX_LISTED = 200
#: Lines listed for one repeated patient_id; the rest are counted.
MAX_LINES_LISTED = 10


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ValidationReport:
    """Outcome of validating one file: problems (errors), warnings, notes and the workbook sheet read."""

    path: str
    ok: bool
    problems: tuple[Problem, ...]
    warnings: tuple[Problem, ...]
    notes: tuple[str, ...]
    n_rows: int
    sheet: str | None = None

    def format(self) -> str:
        """The file (and sheet) and the verdict on line 1, then one ``  - `` line per problem,
        warning and note; past :data:`MAX_LISTED` one line counts the rest by column."""
        warn = _plural(len(self.warnings), "warning")
        where = self.path + (f", sheet {self.sheet!r}" if self.sheet is not None else "")
        if self.ok:
            head = f"{where}: valid ({_plural(self.n_rows, 'patient')}"
            head += f", {warn})" if self.warnings else ")"
        else:
            head = f"{where}: {_plural(len(self.problems), 'problem')}"
            head += f" in {_plural(self.n_rows, 'row')}" if self.n_rows else ""
            head += f" (and {warn})" if self.warnings else ""
        lines = [head]
        lines += _listed(self.problems, "", "problem")
        lines += _listed(self.warnings, "warning: ", "warning")
        lines += [f"  - note: {n}" for n in self.notes]
        return "\n".join(lines)


def _listed(found: tuple[Problem, ...], prefix: str, word: str) -> list[str]:
    """Report lines of the first :data:`MAX_LISTED` findings and one line counting the rest by column."""
    lines = [f"  - {prefix}{p}" for p in found[:MAX_LISTED]]
    rest = found[MAX_LISTED:]
    if rest:
        kinds = Counter(f"column {p.column}" if p.column else "the file's structure" for p in rest)
        detail = ", ".join(f"{n:,} in {kind}" for kind, n in kinds.most_common())
        lines.append(f"  - {prefix}... and {len(rest):,} more {word}s of the same kinds ({detail})")
    return lines


class CohortValidationError(ValueError):
    """A cohort file breaks the contract; ``str()`` names the file and lists every problem."""

    def __init__(self, report: ValidationReport):
        super().__init__(report.format())
        self.report = report


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


# --------------------------------------------------------------------------- rules and schema


@dataclass(frozen=True)
class CrossRule:
    """A rule across columns: ``breaks(typed)`` is True on rows that break it."""

    name: str
    columns: tuple[str, ...]
    report_column: str
    breaks: Callable[[dict[str, pd.Series]], pd.Series]
    message: Callable[[dict[str, str]], str]
    allowed: str
    severity: str = "error"


CROSS_RULES: tuple[CrossRule, ...] = (
    CrossRule(
        "mrd_only_for_cr",
        ("mrd_status", "response"),
        "mrd_status",
        lambda t: t["mrd_status"].notna() & (t["response"] == "none"),
        lambda v: f"{v['mrd_status']!r} is given but response is {v['response']!r}",
        "mrd_status only for patients in CR (response cr, crp or cri); blank otherwise",
    ),
    CrossRule(
        "crs_grade_only_with_crs",
        ("crs_grade", "crs"),
        "crs_grade",
        lambda t: t["crs_grade"].notna() & (t["crs"] != True),  # noqa: E712 (NA-aware)
        lambda v: f"{v['crs_grade']!r} is given but crs is {v['crs'] or 'blank'!r}",
        "crs_grade only when crs is yes",
    ),
    CrossRule(
        "crs_needs_grade",
        ("crs", "crs_grade"),
        "crs_grade",
        lambda t: (t["crs"] == True) & t["crs_grade"].isna(),  # noqa: E712
        lambda v: f"blank, but crs is {v['crs']!r}",
        "a CRS grade from 1 to 5 whenever crs is yes",
    ),
    CrossRule(
        "hsct_after_blina_only_for_cr",
        ("hsct_after_blina", "response"),
        "hsct_after_blina",
        lambda t: (t["hsct_after_blina"] == True) & (t["response"] == "none"),  # noqa: E712
        lambda v: f"{v['hsct_after_blina']!r} but response is {v['response']!r}",
        "yes only for patients in CR (response cr, crp or cri)",
    ),
    CrossRule(
        "tki_with_ph_negative",
        ("debulking_category", "ph_status"),
        "debulking_category",
        lambda t: (t["debulking_category"] == "tki") & (t["ph_status"] == "negative"),
        lambda v: (
            f"{v['debulking_category']!r} with ph_status {v['ph_status']!r}: "
            "a TKI is unusual for Ph-negative disease"
        ),
        "usually tki only with ph_status positive",
        severity="warning",
    ),
    CrossRule(
        "cr_after_one_cycle",
        ("response", "blina_cycles"),
        "response",
        lambda t: (t["response"] != "none") & (t["blina_cycles"] == 1),
        lambda v: (
            f"{v['response']!r} with blina_cycles {v['blina_cycles']!r}: "
            "the paper's CR patients all received 2 cycles"
        ),
        "usually response none when blina_cycles is 1",
        severity="warning",
    ),
    # Optional follow-up columns: a rule whose columns are not all in the file is not judged.
    CrossRule(
        "os_event_with_os_months",
        ("os_event", "os_months"),
        "os_event",
        lambda t: t["os_event"].isna() & t["os_months"].notna(),
        lambda v: f"blank, but os_months is {v['os_months']!r}",
        "os_event (yes or no) whenever os_months is given",
    ),
    CrossRule(
        "os_months_with_os_event",
        ("os_months", "os_event"),
        "os_months",
        lambda t: t["os_months"].isna() & t["os_event"].notna(),
        lambda v: f"blank, but os_event is {v['os_event']!r}",
        "os_months (a number from 0 to 600) whenever os_event is given",
    ),
    CrossRule(
        "rfs_event_with_rfs_months",
        ("rfs_event", "rfs_months"),
        "rfs_event",
        lambda t: t["rfs_event"].isna() & t["rfs_months"].notna(),
        lambda v: f"blank, but rfs_months is {v['rfs_months']!r}",
        "rfs_event (yes or no) whenever rfs_months is given",
    ),
    CrossRule(
        "rfs_months_with_rfs_event",
        ("rfs_months", "rfs_event"),
        "rfs_months",
        lambda t: t["rfs_months"].isna() & t["rfs_event"].notna(),
        lambda v: f"blank, but rfs_event is {v['rfs_event']!r}",
        "rfs_months (a number from 0 to 600) whenever rfs_event is given",
    ),
    CrossRule(
        "rfs_only_for_cr",
        ("rfs_months", "rfs_event", "response"),
        "rfs_months",
        lambda t: (t["rfs_months"].notna() | t["rfs_event"].notna()) & (t["response"] == "none"),
        lambda v: (
            (
                f"{v['rfs_months']!r} is given"
                if v["rfs_months"].strip()
                else f"blank, but rfs_event is {v['rfs_event']!r}"
            )
            + f" and response is {v['response']!r}"
        ),
        "rfs_months and rfs_event only for patients in CR (response cr, crp or cri); blank otherwise",
    ),
    CrossRule(
        "rfs_event_cause_only_with_event",
        ("rfs_event_cause", "rfs_event"),
        "rfs_event_cause",
        lambda t: t["rfs_event_cause"].notna() & (t["rfs_event"] != True),  # noqa: E712 (NA-aware)
        lambda v: (
            f"{v['rfs_event_cause']!r} is given but rfs_event is {v['rfs_event'] or 'blank'!r}"
        ),
        "rfs_event_cause (relapse or death) only when rfs_event is yes; blank otherwise",
    ),
    CrossRule(
        "rfs_within_os",
        ("rfs_months", "os_months"),
        "rfs_months",
        lambda t: t["rfs_months"] > t["os_months"],
        lambda v: f"{v['rfs_months']!r} is longer than os_months {v['os_months']!r}",
        "rfs_months at most os_months",
    ),
    CrossRule(
        "hsct_months_only_with_hsct",
        ("hsct_months", "hsct_after_blina"),
        "hsct_months",
        lambda t: t["hsct_months"].notna() & (t["hsct_after_blina"] != True),  # noqa: E712
        lambda v: (
            f"{v['hsct_months']!r} is given but hsct_after_blina is "
            f"{v['hsct_after_blina'] or 'blank'!r}"
        ),
        "hsct_months only when hsct_after_blina is yes",
    ),
    CrossRule(
        "hsct_within_os",
        ("hsct_months", "os_months"),
        "hsct_months",
        lambda t: t["hsct_months"] > t["os_months"],
        lambda v: f"{v['hsct_months']!r} is later than os_months {v['os_months']!r}",
        "hsct_months at most os_months",
    ),
)


def _rule_check(rule: CrossRule) -> pa.Check:
    def holds(frame: pd.DataFrame) -> pd.Series:
        if any(c not in frame.columns for c in rule.columns):
            return pd.Series(True, index=frame.index)  # missing columns are reported on their own
        parsed = {c: parse_column(frame[c], contract.column(c)) for c in rule.columns}
        broken = rule.breaks({c: typed for c, (typed, _) in parsed.items()})
        broken = broken.astype("boolean").fillna(False).astype(bool)
        # A cell that is itself invalid is reported by its column check; judging
        # the rule on it too would add a second, misleading problem.
        for _, valid in parsed.values():
            broken &= valid
        return ~broken

    return pa.Check(holds, name=rule.name)


def cohort_schema() -> pa.DataFrameSchema:
    """The pandera schema of a raw (text) cohort frame, from the contract: per column
    ``required``, ``valid`` and (patient_id) ``unique`` checks, and :data:`CROSS_RULES` frame-wide.

    Follow-up columns may be absent, extra columns are allowed. Checks take text or
    Categorical-of-text columns; validation passes Categoricals so each distinct value is parsed once.
    """
    columns = {}
    for col in contract.ALL_COLUMNS:
        checks = []
        if not col.nullable:
            checks.append(pa.Check(lambda s: ~blank(s), name="required"))
        if col.kind != "text":
            checks.append(pa.Check(lambda s, col=col: valid_cells(s, col), name="valid"))
        if col.unique:
            checks.append(pa.Check(lambda s: ~duplicated(s), name="unique"))
        columns[col.name] = pa.Column(checks=checks, required=not col.optional, nullable=True)
    return pa.DataFrameSchema(columns, checks=[_rule_check(r) for r in CROSS_RULES], strict=False)


# --------------------------------------------------------------------------- validation


def validate_file(path, sheet: str | None = None) -> ValidationReport:
    """Every problem (errors and warnings) of a CSV or .xlsx cohort file; never raises for bad content.

    ``sheet``: default the only visible sheet with the contract's columns. Accepted variants
    (surrounding spaces, upper-case codes, yes/no/true/false/1/0, ``45.0`` for 45, a byte-order
    mark, blank lines, a trailing empty column, no ``center`` or ``source`` column) are not problems.
    """
    return _validate(path, sheet)[0]


def _validate(path, sheet: str | None = None) -> tuple[ValidationReport, pd.DataFrame | None]:
    """The report and the file's cells as :func:`helpers.cells.stripped_frame` (None when unreadable)."""
    read = read_raw(path, sheet)
    raw, problems, notes = read.frame, read.problems, read.notes
    if raw is None:
        return _report(path, problems, notes, 0, read.sheet), None
    extras = [c for c in raw.columns if c != LINE and c not in contract.BY_NAME]
    for name in contract.OPTIONAL_COLUMNS:
        if name not in raw.columns and not _suggest(name, extras):
            raw[name] = ""
            notes.append(
                f"there is no {name} column: {name} is blank for every patient "
                "(the contract allows it blank)"
            )
    stripped = stripped_frame(raw, [c for c in raw.columns if c != LINE])
    # A row with a structural problem (the wrong number of cells, so shifted cells; an
    # unreadable workbook cell) would get false or repeated problems if judged cell by cell.
    structural = {p.line for p in problems if p.line is not None}
    problems = problems + _validate_frame(raw, stripped, notes, skip_lines=structural)
    if raw.empty and not any(p.severity == "error" for p in problems):
        problems.append(
            Problem(
                None,
                None,
                None,
                None,
                "one row per patient",
                "the file has a header but no patients: add one row per patient below the header",
            )
        )
    return _report(path, problems, notes, len(raw), read.sheet), stripped


def _report(path, problems, notes, n_rows, sheet=None) -> ValidationReport:
    errors = tuple(p for p in problems if p.severity == "error")
    warnings = tuple(p for p in problems if p.severity != "error")
    return ValidationReport(str(path), not errors, errors, warnings, tuple(notes), n_rows, sheet)


def _validate_frame(
    raw: pd.DataFrame, stripped: pd.DataFrame, notes: list[str], skip_lines: set[int] = frozenset()
) -> list[Problem]:
    """Run the schema on ``stripped`` (:func:`helpers.cells.stripped_frame` of ``raw``); failures become Problems.

    Only failing cells are visited one by one; messages quote ``raw``. Cell
    and cross-column failures on a line in ``skip_lines`` (rows already
    reported as ragged) are not reported; ``notes`` is appended to.
    """
    problems: list[Problem] = []
    present = [c for c in raw.columns if c != LINE]
    extras = [c for c in present if c not in contract.BY_NAME]

    def header(column: str, allowed: str, message: str) -> None:  # a problem of line 1
        problems.append(Problem(1, None, column, None, allowed, message))

    for name in (c for c in contract.NAMES if c not in raw.columns):
        header(
            name,
            "every contract column, named exactly",
            "required column is missing" + _suggest(name, extras),
        )
    for pair in contract.FOLLOW_UP_PAIRS:
        together = f"{pair[0]} and {pair[1]} together, or neither"
        for given, partner in (pair, pair[::-1]):
            if given in raw.columns and partner not in raw.columns:
                message = f"column {given} is given without its partner {partner}"
                header(partner, together, f"{message}; expected {together}")
    for given, needed in contract.FOLLOW_UP_NEEDS:
        if given in raw.columns and needed not in raw.columns:
            header(
                needed,
                f"{needed} whenever {given} is given",
                f"column {given} is given without the column {needed} it describes; "
                f"expected {needed} too, or neither",
            )
    if extras:
        notes.append("extra columns kept but not used by the analysis: " + ", ".join(extras))
    if raw.empty:
        return problems
    # `stripped` has exactly the texts in use as categories: stop at the first non-blank one.
    all_blank = {
        c.name
        for c in contract.COLUMNS
        if c.name in stripped.columns
        and not c.nullable
        and all(t == "" for t in stripped[c.name].array.categories)
    }
    for name in all_blank:
        col = contract.column(name)
        problems.append(
            Problem(
                None,
                None,
                name,
                "",
                col.allowed(),
                f"the column is empty in every row, but it is required; expected {col.allowed()}",
            )
        )
    try:
        cohort_schema().validate(stripped, lazy=True)
        return problems
    except pa.errors.SchemaErrors as errors:
        failures = errors.failure_cases
    if "patient_id" in stripped.columns:
        pid_codes, pid_texts = text_codes(stripped["patient_id"])
        key_codes = id_codes(stripped["patient_id"])[0]
    else:
        pid_codes, pid_texts = np.zeros(len(raw), dtype=np.int64), [""]
        key_codes = pid_codes
    file_lines = raw[LINE].to_numpy()
    cells = {}  # column -> its raw cells as an object array, taken when first needed
    same_pid: dict[int, np.ndarray] = {}
    reasons: dict[tuple[str, str], str] = {}
    rules = {r.name: r for r in CROSS_RULES}

    def cell(name: str, row: int) -> str:
        if name not in cells:
            cells[name] = raw[name].to_numpy(dtype=object)
        return cells[name][row]

    def rows_with_pid(code: int) -> np.ndarray:
        if not same_pid:  # group every repeated id once, not one scan per id
            repeated = np.flatnonzero(np.bincount(key_codes)[key_codes] > 1)
            repeated = repeated[np.argsort(key_codes[repeated], kind="stable")]
            starts = np.flatnonzero(np.diff(key_codes[repeated])) + 1
            same_pid.update((int(key_codes[g[0]]), g) for g in np.split(repeated, starts))
        return same_pid[code]

    found = []
    seen_rows: set[tuple[str, int]] = set()
    duplicates_done: set[int] = set()
    for failure in failures.itertuples(index=False):
        check, name, index = failure.check, failure.column, failure.index
        if check == "column_in_dataframe" or index is None or pd.isna(index):
            continue  # missing columns are reported above, with suggestions
        row = int(index)
        line = int(file_lines[row])
        if line in skip_lines:
            continue
        patient = pid_texts[pid_codes[row]] or None
        if check in rules:
            if (check, row) in seen_rows:
                continue
            seen_rows.add((check, row))
            rule = rules[check]
            values = {c: cell(c, row) for c in rule.columns}
            found.append(
                Problem(
                    line,
                    patient,
                    rule.report_column,
                    values[rule.report_column],
                    rule.allowed,
                    f"{rule.message(values)}; expected {rule.allowed}",
                    rule.severity,
                )
            )
            continue
        col = contract.column(name)
        value = cell(name, row)
        if check in ("required", "valid"):
            if check == "required":
                if name in all_blank:
                    continue
                said = f"blank, but a value is required; expected {col.allowed()}"
            else:
                if (name, value) not in reasons:
                    reasons[name, value] = reason(value, col)
                why = f" ({reasons[name, value]})" if reasons[name, value] else ""
                said = f"{value!r} is not allowed; expected {col.allowed()}{why}"
            found.append(Problem(line, patient, name, value, col.allowed(), said))
        elif check == "unique":
            if key_codes[row] in duplicates_done:
                continue
            duplicates_done.add(key_codes[row])
            rows = rows_with_pid(int(key_codes[row]))
            first = pid_texts[pid_codes[rows[0]]]
            written = dict.fromkeys(pid_texts[pid_codes[r]] for r in rows[:MAX_LINES_LISTED])
            spelling = (
                f" (written {and_join(map(repr, written))}; identifiers are compared ignoring "
                "case, character width and invisible characters)"
                if len(written) > 1
                else ""
            )
            found.append(
                Problem(
                    int(file_lines[rows[0]]),
                    first,
                    name,
                    first,
                    col.allowed(),
                    f"{first!r} is not allowed: the same patient_id is on lines "
                    f"{lines_text(file_lines[rows])}{spelling}; expected {col.allowed()}",
                )
            )
        else:  # a check this module does not know: report it as pandera words it
            found.append(
                Problem(
                    line, patient, name, str(failure.failure_case), "", f"failed check {check!r}"
                )
            )
    order = {n: i for i, n in enumerate(contract.NAMES)}
    found.sort(key=lambda p: (p.line or 0, order.get(p.column or "", 99)))
    return problems + found


def lines_text(lines) -> str:
    """``"2 and 6"``, or the first :data:`MAX_LINES_LISTED` lines and a count of the rest."""
    shown = [f"{int(n):,}" for n in lines[:MAX_LINES_LISTED]]
    if len(lines) <= MAX_LINES_LISTED:
        return and_join(shown)
    return f"{', '.join(shown)} and {len(lines) - MAX_LINES_LISTED:,} more lines"


def _suggest(name: str, extras: list[str]) -> str:
    """'; the file has a column X — rename it to name' when an extra column looks like ``name``."""
    col = contract.column(name)
    targets = {name, normalise_name(col.label)}
    exact = [e for e in extras if normalise_name(e) in targets]
    close = exact or [
        e
        for e in extras
        if difflib.get_close_matches(normalise_name(e), list(targets), n=1, cutoff=0.75)
    ]
    if not close:
        return ""
    return f"; the file has a column {close[0]!r} that looks like it — rename it to {name!r}"


# --------------------------------------------------------------------------- normalising


def normalise_cohort(raw: pd.DataFrame) -> pd.DataFrame:
    """A validated raw frame (:func:`helpers.reading.read_raw`) typed: contract columns in contract order,
    then extra columns as text; ``_line`` dropped, RangeIndex in file order.

    Codes -> ordered Categorical of all the contract's codes (unused ones count 0); booleans ->
    ``"boolean"``; integers -> ``"Int64"``; numbers -> float64; blank or invalid cells -> missing.
    """
    out = {}
    for col in contract.ALL_COLUMNS:
        if col.name in raw.columns:
            out[col.name] = parse_column(raw[col.name], col)[0].reset_index(drop=True)
    as_text = contract.Column("", "text", "", nullable=True)
    for name in raw.columns:
        if name not in contract.BY_NAME and name != LINE:
            out[name] = parse_column(raw[name], as_text)[0].reset_index(drop=True)
    return pd.DataFrame(out, index=pd.RangeIndex(len(raw)), copy=False)


def load_cohort(
    path,
    *,
    age_cutoff: float = default("age_cutoff"),
    bmb_high_cutoff: float = default("bmb_high_cutoff"),
    bmb_low_cutoff: float = default("bmb_low_cutoff"),
    lines_cutoff: float = default("lines_cutoff"),
    sheet: str | None = None,
) -> pd.DataFrame:
    """The typed cohort (:func:`normalise_cohort`) with the derived variables (cut-offs: years, %
    blasts, lines; :func:`helpers.derived.add_derived`); ``attrs["validation"]`` holds the report.
    :class:`CohortValidationError` listing every problem when the file breaks the contract."""
    report, cells = _validate(path, sheet)
    if not report.ok:
        raise CohortValidationError(report)
    cohort = add_derived(
        normalise_cohort(cells),
        age_cutoff=age_cutoff,
        bmb_high_cutoff=bmb_high_cutoff,
        bmb_low_cutoff=bmb_low_cutoff,
        lines_cutoff=lines_cutoff,
    )
    cohort.attrs["validation"] = report.format()
    return cohort
