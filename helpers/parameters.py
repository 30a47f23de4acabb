"""Notebook parameters: what the notebooks declare, what values are allowed, and checks.

:data:`PARAMETER_RULES` is the one table of allowed values (range, and the
relations between parameters); the pipeline checks every run's effective
values against it before any notebook starts.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

#: Parameters the pipeline sets itself; a user cannot override them with -p.
RESERVED_PARAMETERS = ("data_path", "output_dir", "params_file")
#: The parameter naming the parameter file; a run passes it blank.
PARAMS_FILE = "params_file"


class ParameterError(ValueError):
    """A parameter name or value the run cannot use; ``str()`` is the message."""


@dataclass(frozen=True)
class Rule:
    """Allowed values of one numeric parameter.

    Attributes
    ----------
    low, high : float
        Bounds (units of the parameter); ``math.inf`` for none.
    low_open, high_open : bool
        True when the bound itself is not allowed.
    meaning : str
        What the parameter is, for the error message.
    """

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


#: Allowed values of every numeric notebook parameter.
PARAMETER_RULES: dict[str, Rule] = {
    "age_cutoff": Rule(0, 120, "age cut-off in years"),
    "bmb_low_cutoff": Rule(0, 100, "% bone-marrow blasts, lower edge of the middle group"),
    "bmb_high_cutoff": Rule(0, 100, "% bone-marrow blasts from which tumour burden is high"),
    "lines_cutoff": Rule(0, math.inf, "number of previous treatment lines"),
    "severe_crs_grade": Rule(1, 5, "CTCAE grade from which CRS counts as severe"),
    "prior_a": Rule(0, math.inf, "first shape of the Beta prior", low_open=True),
    "prior_b": Rule(0, math.inf, "second shape of the Beta prior", low_open=True),
    "power_target": Rule(0, 1, "power of the sample-size calculation",
                         low_open=True, high_open=True),
    "alpha": Rule(0, 1, "two-sided significance level", low_open=True, high_open=True),
    "scan_from": Rule(0, 100, "% bone-marrow blasts, lowest cut-off of the scan"),
    "scan_to": Rule(0, 100, "% bone-marrow blasts, highest cut-off of the scan"),
    "scan_step": Rule(0, 100, "percentage points between scanned cut-offs", low_open=True),
    "blast_step": Rule(0, 100, "percentage points of blasts per odds ratio", low_open=True),
    "age_step": Rule(0, 120, "years of age per odds ratio", low_open=True),
    "power_n_max": Rule(1, math.inf, "largest cohort size the sample-size search tries"),
    "at_risk_step_months": Rule(0, 600, "months between the numbers at risk", low_open=True),
    "landmark_months": Rule(0, 600, "months from the start of blinatumomab to the transplant landmark",
                            low_open=True),
    "min_cell": Rule(1, math.inf, "share runs: counts from 1 to min_cell - 1 are shown as \"<min_cell\""),
}

#: Relations between parameters: (smaller, larger), the first strictly below the second.
PARAMETER_RELATIONS: tuple[tuple[str, str], ...] = (
    ("bmb_low_cutoff", "bmb_high_cutoff"),
    ("alpha", "power_target"),
    ("scan_from", "scan_to"),
)


def declared_parameters(notebook: str | Path) -> dict[str, dict]:
    """Parameters declared in a notebook's ``parameters`` cell (papermill's inference).

    Returns ``{name: {"type": "int"|"float"|"str"|"bool"|..., "default": text, "help": text}}``.

    Raises
    ------
    ParameterError
        When a line of the parameters cell is one papermill cannot read.
    """
    # Imported here, not at the top: papermill pulls in nbclient and jsonschema, over
    # 100 times the import time of this module (python -X importtime), and a notebook
    # kernel may import this module for the rules alone.
    import nbformat
    import papermill

    found = papermill.inspect_notebook(str(notebook))
    nb = nbformat.read(str(notebook), as_version=4)
    for cell in nb.cells:
        if "parameters" in cell.metadata.get("tags", []):
            for number, line in enumerate(cell.source.splitlines(), start=1):
                match = re.match(r"^([A-Za-z_]\w*)\s*(:[^=]*)?=", line)
                if match and match.group(1) not in found:
                    raise ParameterError(
                        f"{Path(notebook).name}: papermill cannot read line {number} of the "
                        f"parameters cell ({line.strip()!r}); keep '=' out of the comment")
    return {
        name: {"type": info.get("inferred_type_name", "None"),
               "default": info.get("default"), "help": info.get("help", "")}
        for name, info in found.items()
    }


def coerce_parameters(pairs: Sequence[tuple[str, str]],
                      declared: Mapping[str, Mapping[str, dict]]) -> dict[str, object]:
    """Turn ``-p NAME VALUE`` pairs into typed values, checking every name exists.

    Parameters
    ----------
    pairs : sequence of (name, text)
        As given on the command line. Values are always data: a string is passed
        to papermill, which writes it as an escaped literal, never as code.
    declared : mapping
        ``{notebook name: declared_parameters(...)}``.

    Returns
    -------
    dict
        ``{name: value}`` typed as the first notebook declaring the name declares it.

    Raises
    ------
    ParameterError
        For a name no notebook declares, a reserved name, or a value that does
        not convert to the declared type.
    """
    types: dict[str, str] = {}
    for params in declared.values():
        for name, info in params.items():
            types.setdefault(name, info["type"])
    known = sorted(n for n in types if n not in RESERVED_PARAMETERS)
    values: dict[str, object] = {}
    for name, text in pairs:
        if name in RESERVED_PARAMETERS:
            option = {"data_path": "--data", "output_dir": "--out"}.get(name, "--params")
            raise ParameterError(f"parameter {name!r} is set by the pipeline; use {option}")
        if name not in types:
            raise ParameterError(f"unknown parameter {name!r}: no notebook declares it. "
                                 f"Known parameters: {', '.join(known)}")
        values[name] = _convert(name, text, types[name])
    return values


def _convert(name: str, text: str, type_name: str) -> object:
    try:
        if type_name == "int":
            return int(text)
        if type_name == "float":
            value = float(text)
            if not math.isfinite(value):
                raise ValueError(text)
            return value
        if type_name == "bool":
            lowered = text.strip().lower()
            if lowered in ("true", "yes", "1"):
                return True
            if lowered in ("false", "no", "0"):
                return False
            raise ValueError(text)
    except ValueError:
        raise ParameterError(f"parameter {name!r} must be {type_name}, got {text!r}") from None
    return text


def effective_parameters(declared: Mapping[str, dict],
                         overrides: Mapping[str, object]) -> dict[str, object]:
    """One notebook's parameter values: its literal defaults, replaced by ``overrides``."""
    values: dict[str, object] = {}
    for name, info in declared.items():
        try:
            values[name] = ast.literal_eval(info["default"])
        except (ValueError, SyntaxError, TypeError):
            continue  # not a literal: papermill would pass it on as written
    values.update({k: v for k, v in overrides.items() if k in declared})
    return values


def check_parameters(values: Mapping[str, object], where: str = "") -> None:
    """Check values against :data:`PARAMETER_RULES` and :data:`PARAMETER_RELATIONS`.

    Parameters
    ----------
    values : mapping
        ``{name: value}``; names without a rule are not checked.
    where : str
        Added to the message (e.g. the notebook whose values these are).

    Raises
    ------
    ParameterError
        Naming the parameter, its value and what is allowed.
    """
    suffix = f" ({where})" if where else ""
    for name, value in values.items():
        rule = PARAMETER_RULES.get(name)
        if rule is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if not rule.allows(value):
            raise ParameterError(f"parameter {name!r} = {value!r} is out of range: the "
                                 f"{rule.meaning} must be {rule.describe()}{suffix}")
    for smaller, larger in PARAMETER_RELATIONS:
        if smaller in values and larger in values and not values[smaller] < values[larger]:
            raise ParameterError(f"parameter {smaller!r} = {values[smaller]!r} must be below "
                                 f"{larger!r} = {values[larger]!r}{suffix}")


def resolve_input_files(data: Path, notebooks_dir: Path, declared: Mapping[str, dict],
                        overrides: Mapping[str, object]) -> dict[str, Path]:
    """The files a run reads: the cohort and every ``*_file`` parameter.

    A ``*_file`` default (e.g. ``"../data/historic_comparators.csv"``) is resolved
    against the notebooks folder, as when the notebook is opened in JupyterLab; a
    value given with ``-p`` against the current directory.

    Parameters
    ----------
    data : Path
        The cohort file.
    notebooks_dir : Path
        Folder of the notebooks (base of relative defaults).
    declared : mapping
        ``{notebook stem: declared_parameters(...)}``.
    overrides : mapping
        Typed ``-p`` values (:func:`coerce_parameters`).

    Returns
    -------
    dict
        ``{parameter name: path}``, ``data_path`` first.

    Raises
    ------
    ParameterError
        If a file does not exist or two different files share a name.
    """
    files: dict[str, Path] = {"data_path": data}
    for params in declared.values():
        for name, info in params.items():
            if not name.endswith("_file") or name in files or name == PARAMS_FILE:
                continue
            if name in overrides:
                files[name] = Path(str(overrides[name]))
            else:
                files[name] = Path(notebooks_dir) / ast.literal_eval(info["default"])
    by_name: dict[str, Path] = {}
    for name, path in files.items():
        if not path.is_file():
            raise ParameterError(f"{name}: no such file {path}")
        other = by_name.setdefault(path.name, path)
        if other.resolve() != path.resolve():
            raise ParameterError(f"two input files share the name {path.name}: {other} and {path}")
    return files


# --- one parameter file (analysis.toml) ---------------------------------------------

#: Parameters whose value is a path: in the parameter file, relative to the file's folder.
_PATH_SUFFIXES = ("_path", "_file", "_dir")

_TYPE_WORDS = {"int": "a whole number", "float": "a number", "str": "text in quotes",
               "bool": "true or false"}


def catalog(notebooks_dir: str | Path) -> dict[str, dict]:
    """Every parameter of the ``NN_name.ipynb`` notebooks in ``notebooks_dir``, read from their JSON.

    Returns ``{name: {"type", "default" (the Python value), "help" (the line's comment),
    "notebooks" (stems declaring it)}}``, names in first-declared order. No kernel, no papermill.
    """
    import io
    import json
    import tokenize

    found: dict[str, dict] = {}
    for path in sorted(Path(notebooks_dir).glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for cell in cells:
            if "parameters" not in cell.get("metadata", {}).get("tags", []):
                continue
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            for line in source.splitlines():
                try:
                    node = ast.parse(line).body
                except SyntaxError:
                    continue
                if len(node) != 1 or not isinstance(node[0], ast.AnnAssign):
                    continue
                name = node[0].target.id
                comments = [t.string for t in tokenize.generate_tokens(io.StringIO(line).readline)
                            if t.type == tokenize.COMMENT]
                entry = found.setdefault(name, {
                    "type": ast.unparse(node[0].annotation), "default": ast.literal_eval(node[0].value),
                    "help": comments[0].lstrip("# ").strip() if comments else "", "notebooks": []})
                entry["notebooks"].append(path.stem)
            break
    return found


def read_params_file(path: str | Path, relative_to: str | Path | None = None) -> dict[str, object]:
    """The flat ``key = value`` pairs of a TOML parameter file (stdlib ``tomllib``).

    Path values (keys ending in ``_path``, ``_file``, ``_dir``) are relative to the file's
    folder; they are returned relative to ``relative_to``, or absolute when it is None.
    A blank path stays blank. Raises :class:`ParameterError` naming the file.
    """
    import os
    import tomllib

    path = Path(path)
    try:
        with open(path, "rb") as handle:
            values = tomllib.load(handle)
    except OSError as err:
        raise ParameterError(f"parameter file {path}: cannot read it ({err.strerror or err})") from None
    except tomllib.TOMLDecodeError as err:
        raise ParameterError(f"parameter file {path}: not valid TOML ({err})") from None
    folder = path.resolve().parent
    for key, value in values.items():
        if isinstance(value, (dict, list)):
            raise ParameterError(f"parameter file {path}: {key} holds a table or list; "
                                 "the file holds flat key = value lines only")
        if key.endswith(_PATH_SUFFIXES) and isinstance(value, str) and value:
            full = folder / value
            values[key] = str(full) if relative_to is None else os.path.relpath(full, relative_to)
    return values


def check_file_values(values: Mapping[str, object], types: Mapping[str, str],
                      source: str) -> dict[str, object]:
    """Typed values of a parameter file, checked against the declared types and :data:`PARAMETER_RULES`.

    ``types`` is ``{name: declared type}`` of every notebook parameter; a key not in it is
    an error, as is a value of another type or out of range (messages name ``source``).
    """
    checked: dict[str, object] = {}
    for key, value in values.items():
        if key not in types or key == PARAMS_FILE:
            known = ", ".join(sorted(n for n in types if n != PARAMS_FILE))
            raise ParameterError(f"{source}: unknown key {key!r} (= {value!r}): no notebook declares a "
                                 f"parameter of that name. Known: {known}")
        kind = types[key]
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        fits = {"int": isinstance(value, int) and number, "bool": isinstance(value, bool),
                "float": number and math.isfinite(value), "str": isinstance(value, str)}.get(kind, True)
        if not fits:
            raise ParameterError(f"{source}: {key} = {value!r} is not allowed: it must be "
                                 f"{_TYPE_WORDS.get(kind, kind)}")
        value = float(value) if kind == "float" else value
        rule = PARAMETER_RULES.get(key)
        if rule is not None and number and not rule.allows(value):
            raise ParameterError(f"{source}: {key} = {value!r} is out of range: the {rule.meaning} "
                                 f"must be {rule.describe()}")
        checked[key] = value
    return checked


def notebook_settings(params_file: str, notebook: str | Path,
                      current: Mapping[str, object]) -> dict[str, object]:
    """The parameter file's values for the parameters ``notebook`` declares, for its settings cell.

    ``params_file`` blank: nothing (the parameters cell stands). Paths come back relative
    to the current folder (the notebook's, in JupyterLab). ``current`` holds the cell's
    values, for the relations of :data:`PARAMETER_RELATIONS`. Raises
    :class:`ParameterError` naming the file, key, value and what is allowed.
    """
    if not params_file:
        return {}
    notebook = Path(notebook)
    known = catalog(notebook.parent)
    source = f"parameter file {params_file}"
    values = check_file_values(read_params_file(params_file, relative_to=Path.cwd()),
                               {name: info["type"] for name, info in known.items()}, source)
    mine = {k: v for k, v in values.items() if notebook.stem in known[k]["notebooks"]}
    merged = {name: current[name] for name in known if name in current and notebook.stem in known[name]["notebooks"]}
    check_parameters({**merged, **mine}, where=source)
    return mine
