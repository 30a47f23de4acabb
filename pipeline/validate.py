"""``validate FILE --fix-codes OUT``: a new CSV with every accepted variant in its contract form.

The input is only read; the copy is written to a new file, and removed unless it validates to
the same cohort.
"""

from __future__ import annotations

import csv
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from helpers import contract
from helpers.cells import parse_column, text_codes
from helpers.loading import ValidationReport, lines_text, normalise_cohort, validate_file
from helpers.reading import LINE, read_raw


@dataclass(frozen=True)
class CellFix:
    """Cells of ``column`` written ``old`` in the file and ``new`` in the normalised copy, on ``lines``."""

    column: str
    old: str
    new: str
    lines: tuple[int, ...]

    def __str__(self) -> str:
        where = "line" if len(self.lines) == 1 else "lines"
        return f"column {self.column}: {self.old!r} -> {self.new!r} on {where} {lines_text(self.lines)}"


def normalised_cells(
    path, sheet: str | None = None
) -> tuple[ValidationReport, pd.DataFrame | None, tuple[CellFix, ...]]:
    """The file's cells with each accepted variant in its contract form, and what changed.

    Contract cells lose surrounding spaces; codes take the contract's case
    (``' CR '`` -> ``'cr'``), booleans are ``yes``/``no`` (``TRUE``, ``1``...),
    whole numbers lose a ``.0`` (``'45.0'`` -> ``'45'``); numbers and text keep
    their spelling, extra columns are kept as written. The frame (columns as
    in the file, header names stripped, no ``_line``) is None when the file
    does not validate. Blank lines, a byte-order mark and a trailing empty
    column are not cells and do not show as fixes. The file is only read.
    """
    report = validate_file(path, sheet)
    if not report.ok:
        return report, None, ()
    raw = read_raw(path, sheet).frame
    out, fixes = {}, []
    for name in [c for c in raw.columns if c != LINE]:
        cells = raw[name].fillna("").astype(str)
        col = contract.BY_NAME.get(name)
        if col is None:
            out[name] = cells
            continue
        codes, texts = text_codes(cells)
        typed, _ = parse_column(pd.Series(texts, dtype=object), col)
        forms = [_contract_form(text, value, col) for text, value in zip(texts, typed)]
        new = pd.Series(np.array(forms, dtype=object)[codes], index=cells.index)
        out[name] = new
        changed = (new != cells).to_numpy()
        for (old, value), lines in pd.Series(raw[LINE].to_numpy()[changed]).groupby(
            [cells.to_numpy()[changed], new.to_numpy()[changed]], sort=False
        ):
            fixes.append(CellFix(name, old, value, tuple(int(n) for n in lines)))
    fixes.sort(
        key=lambda f: (
            f.lines[0],
            contract.NAMES.index(f.column) if f.column in contract.NAMES else 99,
        )
    )
    return report, pd.DataFrame(out, index=raw.index), tuple(fixes)


def _contract_form(text: str, value, col: contract.Column) -> str:
    """How one stripped, valid cell is written in the normalised copy (blank stays blank)."""
    if text == "" or pd.isna(value):
        return text
    if col.kind == "code":
        return str(value)
    if col.kind == "boolean":
        return "yes" if value else "no"
    if col.kind == "integer":
        return str(int(value))
    return text


def fix_codes(given: str, out: str, sheet: str | None) -> int:
    """``validate FILE --fix-codes OUT``: 0 written, 2 refused (invalid FILE, OUT taken), 1 not writable."""
    source, target = Path(given), Path(out)
    if target.suffix.lower() != ".csv":
        print(
            f"error: --fix-codes writes CSV: name the copy with .csv, not {target.name!r}",
            file=sys.stderr,
        )
        return 2
    if target.resolve() == source.resolve() or (
        target.exists() and source.exists() and os.path.samefile(target, source)
    ):
        print(
            f"error: --fix-codes never writes the input: {out} is the file being validated; name a new "
            "file",
            file=sys.stderr,
        )
        return 2
    if target.exists() or target.is_symlink():
        print(
            f"error: {out} already exists; --fix-codes writes a new file only (nothing written)",
            file=sys.stderr,
        )
        return 2
    report, cells, fixes = normalised_cells(source, sheet)
    print(report.format())
    if cells is None:
        print(
            "nothing written: --fix-codes rewrites only accepted variants; fix the problems above first"
        )
        return 2
    with open(target, "x", encoding="utf-8", newline="") as handle:  # "x": never replaces a file
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(cells.columns)
        writer.writerows(cells.itertuples(index=False, name=None))
    changed = sum(len(f.lines) for f in fixes)
    print(
        f"wrote {out}: {changed} cell{'s' if changed != 1 else ''} changed"
        + (":" if fixes else " (every cell was already in its contract form)")
    )
    for fix in fixes:
        print(f"  - {fix}")
    print(
        "  - blank lines, a byte-order mark and an empty trailing column are not copied; "
        "lines end in \\n, cells are quoted only when needed"
    )
    copy = validate_file(target)
    same = copy.ok and normalise_cohort(normalised_cells(target)[1]).equals(normalise_cohort(cells))
    if not same:
        target.unlink()
        print(
            f"error: the normalised copy did not validate to the same cohort, so it was removed:\n"
            f"{copy.format()}",
            file=sys.stderr,
        )
        return 1
    print(
        f"the copy validates: {copy.format().splitlines()[0]}; it loads to the same cohort as {given}"
    )
    sys.stdout.flush()
    return 0
