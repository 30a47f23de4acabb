"""The run's parameters: what each notebook names, the ``-p`` values typed, the files a run reads.

The settings (:data:`helpers.parameters.SETTINGS`: type, default, allowed values, meaning) and
the parameter file stay in :mod:`helpers.parameters`, which the notebooks' settings cell uses.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from helpers.parameters import PARAMS_FILE, ParameterError, describe

#: Parameters the pipeline sets itself; a user cannot override them with -p.
RESERVED_PARAMETERS = ("data_path", "output_dir", "params_file")


def declared_parameters(notebook: str | Path) -> dict[str, dict]:
    """``{name: {"type", "default" (a Python literal, as papermill would write it), "help"}}``
    of the parameters a notebook names (:func:`helpers.parameters.describe`)."""
    return {
        name: {"type": info["type"], "default": repr(info["default"]), "help": info["meaning"]}
        for name, info in describe(notebook).items()
    }


def coerce_parameters(
    pairs: Sequence[tuple[str, str]], declared: Mapping[str, Mapping[str, dict]]
) -> dict[str, object]:
    """``-p NAME VALUE`` pairs typed as the first notebook declaring the name declares it.

    ``declared`` is ``{notebook: declared_parameters(...)}``. Values stay data: papermill writes
    a string as an escaped literal, never as code. :class:`ParameterError` for an unknown,
    reserved or repeated name, or a value not of the declared type.
    """
    types: dict[str, str] = {}
    for params in declared.values():
        for name, info in params.items():
            types.setdefault(name, info["type"])
    known = sorted(n for n in types if n not in RESERVED_PARAMETERS)
    values: dict[str, object] = {}
    given: dict[str, str] = {}
    for name, text in pairs:
        if name in given:
            raise ParameterError(
                f"parameter {name!r} is given twice (-p {name} {given[name]} and "
                f"-p {name} {text}); give each parameter once"
            )
        given[name] = text
        if name in RESERVED_PARAMETERS:
            option = {"data_path": "--data", "output_dir": "--out"}.get(name, "--params")
            raise ParameterError(f"parameter {name!r} is set by the pipeline; use {option}")
        if name not in types:
            raise ParameterError(
                f"unknown parameter {name!r}: no notebook declares it. "
                f"Known parameters: {', '.join(known)}"
            )
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


def effective_parameters(
    declared: Mapping[str, dict], overrides: Mapping[str, object]
) -> dict[str, object]:
    """One notebook's parameter values: its literal defaults, replaced by ``overrides``."""
    values: dict[str, object] = {}
    for name, info in declared.items():
        try:
            values[name] = ast.literal_eval(info["default"])
        except (ValueError, SyntaxError, TypeError):
            continue  # not a literal: papermill would pass it on as written
    values.update({k: v for k, v in overrides.items() if k in declared})
    return values


def literal(text: str) -> object:
    """The value of a Python literal (as a manifest records a parameter), else the text itself."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def check_params_path(path: str | Path) -> None:
    """:class:`ParameterError` unless ``path`` is a regular file: a pipe or device would block the
    run's hash of it (before it is read), a folder cannot be read."""
    import os
    import stat

    try:
        mode = os.stat(path).st_mode
    except OSError as err:
        raise ParameterError(
            f"parameter file {path}: cannot read it ({err.strerror or err})"
        ) from None
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "a pipe, socket or device"
        raise ParameterError(f"parameter file {path}: {kind}, not a file; give a TOML file")


def resolve_input_files(
    data: Path, notebooks_dir: Path, declared: Mapping[str, dict], overrides: Mapping[str, object]
) -> dict[str, Path]:
    """``{parameter: path}`` of the files a run reads: the cohort (``data_path``, first) and every
    ``*_file`` parameter.

    A default is relative to the notebooks folder (as in JupyterLab), a ``-p`` value to the current
    folder. :class:`ParameterError` if a file does not exist, two different files share a name, or
    the comparator tables are not readable as such (:func:`check_comparator_tables`).
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
    check_comparator_tables(files, declared, overrides)
    return files


def check_comparator_tables(
    files: Mapping[str, Path], declared: Mapping[str, dict], overrides: Mapping[str, object]
) -> None:
    """Read ``comparator_file`` and ``pairings_file`` (when the run reads them) as notebook 05
    does, and check that ``reference_comparator`` names a row: :class:`ParameterError` naming
    the file or value and what is allowed, before any notebook starts."""
    if "comparator_file" not in files:
        return
    from helpers import historic

    path = files["comparator_file"]
    try:
        comparators = historic.load_comparators(path)
    except (ValueError, OSError) as err:
        raise ParameterError(
            f"comparator_file {path}: not a table of historic comparators as "
            f"data/historic_comparators.csv is ({_first_line(err)})"
        ) from None
    if "pairings_file" in files:
        try:
            historic.load_pairings(files["pairings_file"], comparators)
        except (ValueError, OSError) as err:
            raise ParameterError(
                f"pairings_file {files['pairings_file']}: not a table of pairings of the "
                f"comparators in {path.name} ({_first_line(err)})"
            ) from None
    reference = overrides.get("reference_comparator")
    for params in declared.values():
        if reference is None and "reference_comparator" in params:
            reference = ast.literal_eval(params["reference_comparator"]["default"])
    ids = list(comparators["id"])
    if reference is not None and reference not in ids:
        raise ParameterError(
            f"parameter 'reference_comparator' = {reference!r} is not a row of {path.name}; "
            f"allowed: {', '.join(ids)}"
        )


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:300] if text else type(err).__name__
