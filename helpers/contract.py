"""The patient-level data contract, as data: the single source of column names, types,
codes, missingness and display labels (transcribes ``docs/data-contract.md``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    """One column of the cohort file: kind ``text``, ``code`` (one of ``codes``, by default the
    keys of ``code_labels``, in display order), ``integer``, ``number`` (float) or ``boolean``
    (yes/no); ``minimum``/``maximum`` inclusive bounds of numbers; ``optional``: a file may
    leave the whole column out (the follow-up columns)."""

    name: str
    kind: str
    label: str
    nullable: bool
    codes: tuple[str, ...] = ()
    code_labels: dict[str, str] = field(default_factory=dict)
    minimum: float | None = None
    maximum: float | None = None
    unique: bool = False
    meaning: str = ""
    optional: bool = False

    def __post_init__(self) -> None:
        # one source for a column's values: the codes are its labels' keys, yes/no reads Yes/No
        if self.kind == "boolean" and not self.code_labels:
            object.__setattr__(self, "code_labels", YES_NO)
        if self.kind == "code" and not self.codes:
            object.__setattr__(self, "codes", tuple(self.code_labels))

    def allowed(self) -> str:
        """The allowed values in words for error messages, e.g. ``"a whole number from 18 to
        100, or blank"``."""
        if self.kind == "code":
            text = "one of " + ", ".join(repr(c) for c in self.codes)
        elif self.kind == "boolean":
            text = "yes or no (also true/false, 1/0)"
        elif self.kind in ("integer", "number"):
            what = "a whole number" if self.kind == "integer" else "a number"
            text = f"{what} from {_fmt(self.minimum)} to {_fmt(self.maximum)}"
        elif self.unique:
            text = "a unique, non-empty text"
        else:
            text = "non-empty text" if not self.nullable else "any text"
        if self.nullable and self.kind != "text":
            text += ", or blank"
        return text


def _fmt(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


YES_NO = {"yes": "Yes", "no": "No"}

COLUMNS: tuple[Column, ...] = (
    Column(
        "patient_id",
        "text",
        "Patient",
        nullable=False,
        unique=True,
        meaning="pseudonymous identifier; never a name or hospital number",
    ),
    Column("center", "text", "Centre", nullable=True, meaning="treating centre code"),
    Column(
        "source",
        "code",
        "Programme",
        nullable=True,
        code_labels={
            "neuf": "NEUF expanded-access study",
            "paap": "Post-approval access programme",
            "observational": "Observational study",
        },
        meaning="programme the patient was treated in",
    ),
    Column(
        "sex",
        "code",
        "Sex",
        nullable=False,
        code_labels={"male": "Male", "female": "Female"},
    ),
    Column(
        "age_years",
        "integer",
        "Age (years)",
        nullable=False,
        minimum=18,
        maximum=100,
        meaning="age at blinatumomab start",
    ),
    Column(
        "disease_status",
        "code",
        "Disease status",
        nullable=False,
        code_labels={"relapsed": "Relapsed", "refractory": "Refractory"},
    ),
    Column(
        "prior_lines",
        "integer",
        "Previous treatment lines",
        nullable=False,
        minimum=1,
        maximum=15,
        meaning="lines of treatment before debulking",
    ),
    Column(
        "prior_hsct",
        "boolean",
        "Prior HSCT",
        nullable=False,
        meaning="allogeneic HSCT before blinatumomab",
    ),
    Column(
        "ph_status",
        "code",
        "Ph status",
        nullable=False,
        code_labels={"positive": "Positive", "negative": "Negative"},
        meaning="Philadelphia chromosome",
    ),
    Column(
        "bmb_baseline_pct",
        "number",
        "Bone marrow blasts before debulking (%)",
        nullable=True,
        minimum=0,
        maximum=100,
        meaning="bone-marrow blasts (%) before debulking",
    ),
    Column(
        "debulking_category",
        "code",
        "Debulking therapy",
        nullable=False,
        code_labels={
            "steroids": "Steroids",
            "low_intensity_chemo": "Low-intensity chemotherapy ± steroids",
            "polychemotherapy": "Polychemotherapy",
            "tki": "TKI ± steroids or chemotherapy",
        },
        meaning="the paper's four groups (a-d in its section 2.1)",
    ),
    Column("debulking_regimen", "text", "Regimen", nullable=False, meaning="the regimen as given"),
    Column(
        "debulking_to_blina_days",
        "integer",
        "Days from debulking start to blinatumomab",
        nullable=True,
        minimum=0,
        maximum=365,
    ),
    Column(
        "bmb_post_debulking_pct",
        "number",
        "Bone marrow blasts after debulking (%)",
        nullable=True,
        minimum=0,
        maximum=100,
        meaning="bone-marrow blasts (%) after debulking, before blinatumomab",
    ),
    Column(
        "blina_dose",
        "code",
        "Blinatumomab dose",
        nullable=False,
        code_labels={
            "full": "Full dose",
            "full_interrupted": "Full dose, interrupted > 72 h",
            "reduced": "Reduced dose",
        },
    ),
    Column("blina_cycles", "integer", "Blinatumomab cycles", nullable=False, minimum=1, maximum=10),
    Column(
        "response",
        "code",
        "Best response within 2 cycles",
        nullable=False,
        code_labels={
            "cr": "CR (full recovery)",
            "crp": "CRp (partial recovery)",
            "cri": "CRi (incomplete recovery)",
            "none": "No CR",
        },
    ),
    Column(
        "mrd_status",
        "code",
        "MRD",
        nullable=True,
        code_labels={"negative": "Complete MRD response", "positive": "MRD positive"},
        meaning="complete MRD response (negative) or not; blank = not assessed",
    ),
    Column(
        "crs",
        "boolean",
        "Cytokine release syndrome",
        nullable=True,
        meaning="clinically significant CRS; blank = not recorded",
    ),
    Column("crs_grade", "integer", "CRS grade (CTCAE v5)", nullable=True, minimum=1, maximum=5),
    Column("hsct_after_blina", "boolean", "HSCT after blinatumomab", nullable=False),
)

#: Optional follow-up columns (time to event): a file may leave all of them out.
FOLLOW_UP_COLUMNS: tuple[Column, ...] = (
    Column(
        "os_months",
        "number",
        "Overall survival (months)",
        nullable=True,
        minimum=0,
        maximum=600,
        optional=True,
        meaning="months from the start of blinatumomab to death or last contact",
    ),
    Column(
        "os_event",
        "boolean",
        "Died",
        nullable=True,
        optional=True,
        meaning="yes = died at os_months; no = alive at last contact (censored)",
    ),
    Column(
        "rfs_months",
        "number",
        "Relapse-free survival (months)",
        nullable=True,
        minimum=0,
        maximum=600,
        optional=True,
        meaning="CR patients only: months from CR to relapse, death or last contact",
    ),
    Column(
        "rfs_event",
        "boolean",
        "Relapsed or died",
        nullable=True,
        optional=True,
        meaning="yes = relapse or death at rfs_months; no = censored",
    ),
    Column(
        "rfs_event_cause",
        "code",
        "What ended remission",
        nullable=True,
        code_labels={"relapse": "Relapse", "death": "Death in remission"},
        optional=True,
        meaning="when rfs_event is yes: relapse or death in remission (non-relapse mortality); "
        "blank = cause unknown",
    ),
    Column(
        "hsct_months",
        "number",
        "Months to HSCT after blinatumomab",
        nullable=True,
        minimum=0,
        maximum=600,
        optional=True,
        meaning="months from the start of blinatumomab to HSCT, when hsct_after_blina is yes",
    ),
)

#: Labels of the values of derived yes/no groupings (keys and CSV codes keep True/False).
DERIVED_CODE_LABELS: dict[str, dict[str, str]] = {
    "high_burden": {"yes": "High tumour burden", "no": "Low tumour burden"},
    "any_cr": {"yes": "CR", "no": "No CR"},
    "mrd_negative": {"yes": "Complete MRD response", "no": "MRD positive"},
}

#: Follow-up columns given together: a file with one has the other, and each row
#: gives both or neither.
FOLLOW_UP_PAIRS: tuple[tuple[str, str], ...] = (
    ("os_months", "os_event"),
    ("rfs_months", "rfs_event"),
)
#: Follow-up columns that need another one: (column, the column it needs); the second may
#: come without the first.
FOLLOW_UP_NEEDS: tuple[tuple[str, str], ...] = (("rfs_event_cause", "rfs_event"),)

#: Response codes that count as complete remission (any count recovery).
CR_CODES: tuple[str, ...] = ("cr", "crp", "cri")

#: Derived groupings added by the loader (never stored in the file), with labels.
DERIVED_LABELS: dict[str, str] = {
    "age_group": "Age (years)",
    "bmb_baseline_group": "Bone marrow blasts before debulking",
    "high_burden": "High tumour burden (blasts before debulking)",
    "bmb_post_group": "Bone marrow blasts after debulking",
    "bmb_post_split_low": "Bone marrow blasts after debulking (2 groups, low cut-off)",
    "bmb_post_split_high": "Bone marrow blasts after debulking (2 groups, high cut-off)",
    "lines_group": "Previous treatment lines",
    "lines_1_2_3plus": "Previous treatment lines",
    "any_cr": "CR within 2 cycles (CR, CRp or CRi)",
    "mrd_negative": "Complete MRD response (among evaluable CR)",
}

#: Every column a file may hold: the required ones, then the optional follow-up.
ALL_COLUMNS: tuple[Column, ...] = COLUMNS + FOLLOW_UP_COLUMNS
BY_NAME: dict[str, Column] = {c.name: c for c in ALL_COLUMNS}
#: The columns every file must have, in contract order.
NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
FOLLOW_UP_NAMES: tuple[str, ...] = tuple(c.name for c in FOLLOW_UP_COLUMNS)

#: Columns a file may leave out altogether (then blank for every patient, which the contract allows).
OPTIONAL_COLUMNS: tuple[str, ...] = ("center", "source")


def column(name: str) -> Column:
    """The contract entry of a column; KeyError if there is none."""
    return BY_NAME[name]


def label(name: str) -> str:
    """Display label of a contract column or derived grouping (``name`` when it has none)."""
    if name in BY_NAME:
        return BY_NAME[name].label
    return DERIVED_LABELS.get(name, name)


#: What a reader sees for the ASCII comparisons that codes and result keys keep.
SYMBOLS: dict[str, str] = {">=": "≥", "<=": "≤"}


def readable(text: str) -> str:
    """``text`` with ``>=``/``<=`` before a number as ≥/≤ (``>=50`` -> ``≥50``; labels for people,
    while keys and CSV codes keep ASCII); a comparison in code (``x >= cutoff``) is left alone."""
    return re.sub(r"(>=|<=)(?=[-+]?\d)", lambda m: SYMBOLS[m.group(1)], text)


def in_sentence(label: str) -> str:
    """A label inside a sentence: first letter lower-case unless the first word is an
    abbreviation (``"Steroids"`` -> ``"steroids"``, ``"TKI ± steroids"`` stays)."""
    first = label.split(" ", 1)[0]
    return label if sum(ch.isupper() for ch in first) > 1 else label[:1].lower() + label[1:]


def code_label(name: str, code: object) -> str:
    """Display label of one value of a column (booleans and ``"True"`` read as Yes/No);
    other values, missing ones included, as ``str(code)`` with ≥/≤ for ``>=``/``<=``."""
    col = BY_NAME.get(name)
    if isinstance(code, bool) or str(code) in ("True", "False"):
        code = "yes" if str(code) == "True" else "no"
        if col is None:
            return DERIVED_CODE_LABELS.get(name, YES_NO)[code]
    if col is not None and str(code) in col.code_labels:
        return col.code_labels[str(code)]
    return readable(str(code))
