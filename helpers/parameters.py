"""Notebook parameters: the one table of settings and the user's parameter file (analysis.toml).

:data:`SETTINGS` gives each analysis parameter's type, default, allowed values and meaning,
once. A notebook's tagged ``parameters`` cell names the settings it uses (``name = None``, so
papermill can still inject any of them) and its settings cell fills them in with
:func:`resolve`; the pipeline checks every run against the same table before any notebook starts.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

#: The parameter naming the parameter file; a run passes it blank.
PARAMS_FILE = "params_file"
#: The repository: the defaults' paths are relative to it.
REPO_ROOT = Path(__file__).resolve().parents[1]


class ParameterError(ValueError):
    """A parameter name or value the run cannot use; ``str()`` is the message."""


@dataclass(frozen=True)
class Rule:
    """Allowed values of one numeric parameter: bounds in its units (``math.inf`` for none),
    ``*_open`` when the bound itself is not allowed; ``meaning`` names it in messages."""

    low: float
    high: float
    meaning: str
    low_open: bool = False
    high_open: bool = False

    def allows(self, value: float) -> bool:
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def describe(self) -> str:
        left = "(" if self.low_open else "["
        right = ")" if self.high_open else "]"
        if math.isinf(self.high):
            return f"{'more than' if self.low_open else 'at least'} {self.low:g}"
        return f"in {left}{self.low:g}, {self.high:g}{right}"


@dataclass(frozen=True)
class Setting:
    """One analysis parameter: its type (``int``, ``float``, ``str``, ``bool``), the project
    default, its meaning (a noun phrase, also used in messages), the allowed values of a number
    (``allowed``) or of each item of a comma-separated list (``items``: a :class:`Rule`, or
    ``"grouping"`` for columns of :func:`groupings`). Paths (names ending ``_path``, ``_file``,
    ``_dir``) are relative to the repository, but ``params_file`` to the notebook's folder."""

    type: str
    default: object
    meaning: str
    allowed: Rule | None = None
    items: Rule | str | None = None


def _in(low: float, high: float, low_open: bool = False, high_open: bool = False) -> Rule:
    return Rule(low, high, "", low_open, high_open)


_BLASTS = "% bone-marrow blasts"
_UNIT = _in(0, 1, True, True)

#: Every analysis parameter, written once. A notebook names the ones it uses in its tagged
#: ``parameters`` cell (``name = None``: the project default); its settings cell resolves them.
SETTINGS: dict[str, Setting] = {
    # the data and where the results go
    "data_path": Setting(
        "str",
        "data/reconstructed_cohort.csv",
        "cohort file under the data contract (.csv or .xlsx)",
    ),
    "data_sheet": Setting(
        "str", "", "workbook sheet to read; blank: the one sheet holding the contract's columns"
    ),
    "output_dir": Setting(
        "str",
        "outputs/interactive",
        "folder for tables/, figures/ and results/ (a run writes to its --out)",
    ),
    "params_file": Setting(
        "str",
        "../analysis.toml",
        "the user's settings file a notebook reads, relative to the notebook's "
        "folder (a run passes it blank: none)",
    ),
    # definitions shared by the notebooks
    "age_cutoff": Setting("int", 50, "age cut-off in years", _in(0, 120)),
    "bmb_high_cutoff": Setting(
        "int", 50, f"{_BLASTS} from which tumour burden is high", _in(0, 100)
    ),
    "bmb_low_cutoff": Setting("int", 20, f"{_BLASTS}, lower edge of the middle group", _in(0, 100)),
    "lines_cutoff": Setting("int", 2, "number of previous treatment lines", _in(0, math.inf)),
    "alpha": Setting("float", 0.05, "two-sided significance level", _UNIT),
    "share_safe": Setting(
        "bool", False, "share run: no per-patient listing or figure, counts below min_cell hidden"
    ),
    "min_cell": Setting(
        "int",
        5,
        "smallest count a share run shows (smaller ones, from 1, are hidden)",
        _in(2, math.inf),
    ),
    # reference tables
    "published_file": Setting(
        "str", "data/published_figures.csv", "the paper's figures, one per row"
    ),
    "comparator_file": Setting(
        "str", "data/historic_comparators.csv", "published comparator figures, one per row"
    ),
    "pairings_file": Setting(
        "str",
        "data/historic_pairings.csv",
        "cohort endpoint x comparator pairings, with the reason",
    ),
    "baseline_file": Setting(
        "str",
        "data/historic_baselines.csv",
        "comparator arms' published baselines, one row per characteristic and level",
    ),
    # 03 response by subgroup
    "subgroup_columns": Setting(
        "str",
        "debulking_category,high_burden,bmb_baseline_group,bmb_post_group,"
        "bmb_post_split_low,bmb_post_split_high,age_group,lines_group",
        "groupings for CR and MRD, comma-separated, in display order",
        items="grouping",
    ),
    "all_tests_for": Setting(
        "str",
        "high_burden,bmb_post_group,bmb_post_split_low,bmb_post_split_high,lines_group",
        "comparisons with a printed p-value: run every test",
        items="grouping",
    ),
    "forest_columns": Setting(
        "str",
        "debulking_category,high_burden,bmb_baseline_group,bmb_post_group,age_group,lines_group",
        "rows of the forest plot",
        items="grouping",
    ),
    # 04 CRS
    "severe_crs_grade": Setting("int", 3, "CTCAE grade from which CRS counts as severe", _in(1, 5)),
    # 05 historic comparison, with the power and sample size of its primary test
    "prior_a": Setting("float", 1.0, "first shape of the Beta prior", _in(0, math.inf, True)),
    "prior_b": Setting("float", 1.0, "second shape of the Beta prior", _in(0, math.inf, True)),
    "reference_comparator": Setting(
        "str",
        "tower_blina_cr_crh_cri",
        "comparator row of the primary test, for its power and sample size",
    ),
    "power_target": Setting("float", 0.80, "power of the sample-size calculation", _UNIT),
    "power_rates": Setting(
        "str",
        "0.55,0.60,0.65,0.70",
        "true cohort CR rates for the power table, comma-separated",
        items=Rule(0, 1, "true CR rate of the power table", True, True),
    ),
    "power_n_max": Setting(
        "int", 500, "largest cohort size the sample-size search tries", _in(1, math.inf)
    ),
    # 07 sensitivity analyses
    "scan_from": Setting("int", 20, f"{_BLASTS}, lowest cut-off of the scan", _in(0, 100)),
    "scan_to": Setting("int", 80, f"{_BLASTS}, highest cut-off of the scan", _in(0, 100)),
    "scan_step": Setting("int", 5, "percentage points between scanned cut-offs", _in(0, 100, True)),
    "blast_step": Setting(
        "int", 10, "percentage points of blasts per odds ratio", _in(0, 100, True)
    ),
    "age_step": Setting("int", 10, "years of age per odds ratio", _in(0, 120, True)),
    # 08 time to event
    "survival_months": Setting(
        "str",
        "6, 12",
        "months at which survival is reported, comma-separated",
        items=Rule(0, 600, "months at which survival is reported"),
    ),
    "at_risk_step_months": Setting(
        "int", 6, "months between the numbers at risk", _in(0, 600, True)
    ),
    "landmark_months": Setting(
        "float",
        4.0,
        "months from the start of blinatumomab to the transplant landmark",
        _in(0, 600, True),
    ),
    # 09 population-adjusted comparison (MAIC)
    "maic_pairing": Setting(
        "str",
        "tower_cr_crh_cri_phneg",
        "pairing (pairings_file) whose comparator arm the cohort is reweighted to",
    ),
    "maic_characteristics": Setting(
        "str",
        "age_mean,age_sd,male,prior_hsct,blasts_ge50,salvage_first,salvage_second",
        "characteristics matched, from helpers.maic.CHARACTERISTICS",
    ),
    "bootstrap_samples": Setting(
        "int", 1000, "bootstrap resamples of the adjusted comparison", _in(1, math.inf)
    ),
    "bootstrap_seed": Setting(
        "int", 2017, "seed of the bootstrap's random numbers", _in(0, math.inf)
    ),
}

#: Allowed values of every numeric parameter (a view of :data:`SETTINGS`).
PARAMETER_RULES: dict[str, Rule] = {
    name: Rule(s.allowed.low, s.allowed.high, s.meaning, s.allowed.low_open, s.allowed.high_open)
    for name, s in SETTINGS.items()
    if s.allowed is not None
}

#: Comma-separated list parameters: name -> the Rule of each number, or "grouping".
LIST_RULES: dict[str, Rule | str] = {n: s.items for n, s in SETTINGS.items() if s.items}


def default(name: str) -> object:
    """The project default of setting ``name`` (KeyError for an unknown name)."""
    return SETTINGS[name].default


#: Groupings notebook 03 reports whatever else ``subgroup_columns`` adds.
REPORTED_GROUPINGS = (
    "debulking_category",
    "high_burden",
    "bmb_post_group",
    "lines_group",
    "age_group",
)


def groupings() -> tuple[str, ...]:
    """Columns to group patients by: the contract's coded and yes/no columns, the derived groupings."""
    from helpers import contract, derived

    coded = [c.name for c in contract.COLUMNS if c.kind in ("code", "boolean")]
    return tuple(
        coded
        + [
            d.name
            for d in derived.DERIVED
            if d.name not in ("any_cr", "mrd_evaluable", "mrd_negative")
        ]
    )


def _list_problem(name: str, value: str, values: Mapping[str, object]) -> str | None:
    """Why the list ``value`` of parameter ``name`` is not allowed (None: it is)."""
    items, rule = [item.strip() for item in value.split(",")], LIST_RULES[name]
    if not all(items):
        return "it must be a comma-separated list without empty items"
    if rule == "grouping":
        chosen = values.get("subgroup_columns") if name == "forest_columns" else None
        allowed = [c.strip() for c in chosen.split(",")] if isinstance(chosen, str) else groupings()
        what = (
            "groupings computed (subgroup_columns)"
            if isinstance(chosen, str)
            else "grouping columns"
        )
        wrong = next((item for item in items if item not in allowed), None)
        if wrong is not None:
            return f"{wrong!r} is not one of the {what}: {', '.join(allowed)}"
        missing = (
            [g for g in REPORTED_GROUPINGS if g not in items] if name == "subgroup_columns" else []
        )
        return (
            f"it must include {', '.join(missing)} (notebook 03 reports them for the paper)"
            if missing
            else None
        )
    for item in items:
        try:
            if not rule.allows(float(item)):  # NaN is never allowed
                return f"{item!r} is out of range: each {rule.meaning} must be {rule.describe()}"
        except ValueError:
            return f"{item!r} is not a number"
    return None


#: Relations between parameters: (smaller, larger), the first strictly below the second.
PARAMETER_RELATIONS: tuple[tuple[str, str], ...] = (
    ("bmb_low_cutoff", "bmb_high_cutoff"),
    ("alpha", "power_target"),
    ("scan_from", "scan_to"),
)


def check_parameters(values: Mapping[str, object], where: str = "") -> None:
    """Raise :class:`ParameterError` (name, value, what is allowed; ``where`` added) unless
    ``values`` keep :data:`PARAMETER_RULES`, :data:`LIST_RULES` and the relations; names without a rule pass."""
    suffix = f" ({where})" if where else ""
    for name, value in values.items():
        if name in LIST_RULES and isinstance(value, str):
            problem = _list_problem(name, value, values)
            if problem:
                raise ParameterError(
                    f"parameter {name!r} = {value!r} is not allowed: {problem}{suffix}"
                )
        rule = PARAMETER_RULES.get(name)
        if rule is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if not rule.allows(value):
            raise ParameterError(
                f"parameter {name!r} = {value!r} is out of range: the "
                f"{rule.meaning} must be {rule.describe()}{suffix}"
            )
    for smaller, larger in PARAMETER_RELATIONS:
        if smaller in values and larger in values and not values[smaller] < values[larger]:
            raise ParameterError(
                f"parameter {smaller!r} = {values[smaller]!r} must be below "
                f"{larger!r} = {values[larger]!r}{suffix}"
            )


# --- one parameter file (analysis.toml) ---------------------------------------------

#: Parameters whose value is a path: in the parameter file, relative to the file's folder.
_PATH_SUFFIXES = ("_path", "_file", "_dir")


def _is_path(name: str) -> bool:
    """A setting holding a path relative to the repository (params_file: to the notebook)."""
    return name.endswith(_PATH_SUFFIXES) and name != PARAMS_FILE


_TYPE_WORDS = {
    "int": "a whole number",
    "float": "a number",
    "str": "text in quotes",
    "bool": "true or false",
}


def _parameters_source(notebook: Path) -> str | None:
    """The source of a notebook's tagged ``parameters`` cell, read from its JSON (no kernel, no
    papermill); None without one."""
    import json

    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            source = cell["source"]
            return "".join(source) if isinstance(source, list) else source
    return None


def declared(notebook: str | Path) -> dict[str, object]:
    """``{name: value written}`` of a notebook's tagged ``parameters`` cell: ``None`` for a
    setting at the project default (:data:`SETTINGS`), else the literal written there (a
    notebook's own parameter, or a value typed in JupyterLab). :class:`ParameterError` for a
    line that is not ``name = literal`` (optionally annotated)."""
    path = Path(notebook)
    found: dict[str, object] = {}
    for number, line in enumerate((_parameters_source(path) or "").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            node = ast.parse(line).body[0]
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            found[target.id] = ast.literal_eval(node.value)
        except (SyntaxError, ValueError, AttributeError, IndexError, TypeError):
            raise ParameterError(
                f"{path.name}: line {number} of the parameters cell is not "
                f"'name = value' ({line.strip()!r})"
            ) from None
    return found


def _written_type(notebook: Path, name: str) -> str:
    """The annotation of a notebook's own parameter, else the type of its literal."""
    for node in ast.parse(_parameters_source(notebook) or "").body:
        if isinstance(node, ast.AnnAssign) and node.target.id == name:
            return ast.unparse(node.annotation)
    return "None"


def describe(notebook: str | Path) -> dict[str, dict]:
    """``{name: {"type", "default" (Python value), "meaning"}}`` of the parameters a notebook
    names: a setting's from :data:`SETTINGS` (a path default relative to the notebook's folder,
    as it reads it), a notebook's own from its cell."""
    import os

    notebook = Path(notebook)
    out = {}
    for name, value in declared(notebook).items():
        setting = SETTINGS.get(name)
        if setting is not None:
            if value is None:
                value = setting.default
                if _is_path(name) and value:
                    value = os.path.relpath(REPO_ROOT / str(value), notebook.resolve().parent)
            out[name] = {"type": setting.type, "default": value, "meaning": setting.meaning}
        else:
            kind = type(value).__name__ if value is not None else _written_type(notebook, name)
            out[name] = {"type": kind, "default": value, "meaning": ""}
    return out


def catalog(notebooks_dir: str | Path) -> dict[str, dict]:
    """Every parameter the ``NN_name.ipynb`` notebooks in ``notebooks_dir`` name: ``{name:
    {"type", "default", "meaning", "notebooks" (stems)}}`` (:func:`describe`), names in
    first-named order."""
    found: dict[str, dict] = {}
    for path in sorted(Path(notebooks_dir).glob("[0-9][0-9]_*.ipynb")):
        for name, info in describe(path).items():
            found.setdefault(name, {**info, "notebooks": []})["notebooks"].append(path.stem)
    return found


def read_params_file(path: str | Path, relative_to: str | Path | None = None) -> dict[str, object]:
    """The flat ``key = value`` pairs of a TOML parameter file (stdlib ``tomllib``).

    Path values (keys ending in ``_path``, ``_file``, ``_dir``) are relative to the file's
    folder; they are returned relative to ``relative_to``, or absolute when it is None.
    A blank path stays blank; a byte-order mark is skipped. Raises :class:`ParameterError` naming the file.
    """
    import os
    import tomllib

    path = Path(path)
    try:
        with open(path, "rb") as handle:  # Windows editors add a BOM
            values = tomllib.loads(handle.read().removeprefix(b"\xef\xbb\xbf").decode("utf-8"))
    except OSError as err:
        raise ParameterError(
            f"parameter file {path}: cannot read it ({err.strerror or err})"
        ) from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise ParameterError(f"parameter file {path}: not valid TOML in UTF-8 ({err})") from None
    folder = path.resolve().parent
    for key, value in values.items():
        if isinstance(value, (dict, list)):
            raise ParameterError(
                f"parameter file {path}: {key} holds a table or list; "
                "the file holds flat key = value lines only"
            )
        if key.endswith(_PATH_SUFFIXES) and isinstance(value, str) and value:
            full = folder / value
            values[key] = str(full) if relative_to is None else os.path.relpath(full, relative_to)
    return values


def check_file_values(
    values: Mapping[str, object], types: Mapping[str, str], source: str
) -> dict[str, object]:
    """Typed values of a parameter file, checked against the declared types and :data:`PARAMETER_RULES`.

    ``types`` is ``{name: declared type}`` of every notebook parameter; a key not in it is
    an error, as is a value of another type or out of range (messages name ``source``).
    """
    checked: dict[str, object] = {}
    for key, value in values.items():
        if key not in types or key == PARAMS_FILE:
            known = ", ".join(sorted(n for n in types if n != PARAMS_FILE))
            raise ParameterError(
                f"{source}: unknown key {key!r} (= {value!r}): no notebook names a "
                f"parameter of that name. Known: {known}"
            )
        kind = types[key]
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        fits = {
            "int": isinstance(value, int) and number,
            "bool": isinstance(value, bool),
            "float": number and math.isfinite(value),
            "str": isinstance(value, str),
        }.get(kind, True)
        if not fits:
            raise ParameterError(
                f"{source}: {key} = {value!r} is not allowed: it must be "
                f"{_TYPE_WORDS.get(kind, kind)}"
            )
        value = float(value) if kind == "float" else value
        rule = PARAMETER_RULES.get(key)
        if rule is not None and number and not rule.allows(value):
            raise ParameterError(
                f"{source}: {key} = {value!r} is out of range: the {rule.meaning} "
                f"must be {rule.describe()}"
            )
        checked[key] = value
    return checked


def resolve(namespace: Mapping[str, object]) -> dict[str, object]:
    """The values of the settings a notebook's parameters cell names, for its settings cell.

    ``namespace`` holds the cell's values (and papermill's injected ones). A value other than
    None stands (``-p``, or typed into the cell); None takes the parameter file's value
    (``params_file``; None: ``../analysis.toml``, blank: no file), else the default
    of :data:`SETTINGS`. Paths come back relative to the current folder. Raises
    :class:`ParameterError` naming the file or parameter, the value and what is allowed.
    """
    import os

    names = [name for name in SETTINGS if name in namespace]
    given = {name: namespace[name] for name in names if namespace[name] is not None}
    params_file = given.get(PARAMS_FILE, default(PARAMS_FILE))
    types = {name: SETTINGS[name].type for name in SETTINGS}
    from_file = {}
    if params_file:
        source = f"parameter file {params_file}"
        from_file = check_file_values(
            read_params_file(params_file, relative_to=Path.cwd()), types, source
        )
    values: dict[str, object] = {}
    if PARAMS_FILE in names:  # as the notebook reads it
        values[PARAMS_FILE] = params_file
    for name in names:
        if name == PARAMS_FILE:
            continue
        if name in given:
            values[name] = _typed(name, given[name])
        elif name in from_file:
            values[name] = from_file[name]
        elif _is_path(name) and default(name):
            values[name] = os.path.relpath(REPO_ROOT / str(default(name)))
        else:
            values[name] = default(name)
    check_parameters(values, where=f"parameter file {params_file}" if from_file else "")
    return values


def _typed(name: str, value: object) -> object:
    """``value`` given for setting ``name`` (papermill types ``-p`` text as it reads it) in the
    setting's type; :class:`ParameterError` when it cannot be."""
    kind = SETTINGS[name].type
    if kind == "str":
        return value if isinstance(value, str) else str(value)
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "float" and number and math.isfinite(value):
        return float(value)
    if (kind == "int" and number and float(value).is_integer()) or (
        kind == "bool" and isinstance(value, bool)
    ):
        return type(default(name))(value)
    raise ParameterError(
        f"parameter {name!r} = {value!r} is not allowed: it must be "
        f"{_TYPE_WORDS[kind].replace(' in quotes', '')}"
    )


def summary(values: Mapping[str, object]) -> str:
    """One line for the settings cell: the settings changed from the project defaults (paths,
    and the share run's switch, aside)."""
    changed = [
        f"{name} = {value!r}"
        for name, value in values.items()
        if not _is_path(name) and name not in (PARAMS_FILE, "share_safe") and value != default(name)
    ]
    return (
        "Settings changed from the project defaults: " + ", ".join(changed)
        if changed
        else "Every setting at its project default (python -m pipeline params lists them)."
    )
