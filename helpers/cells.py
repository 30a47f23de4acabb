"""Parse raw text cells by their contract kind, once per distinct value.

A column's cells are factorised into distinct stripped texts; each text is
parsed once (code, boolean, whole number, number, text) and the result is
spread back to the cells. Blank cells are missing, never invalid here.
"""

from __future__ import annotations

import difflib
import re
import unicodedata

import numpy as np
import pandas as pd

from helpers import contract

_BOOLEAN_WORDS = {"yes": True, "no": False, "true": True, "false": False, "1": True, "0": False}
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_DATE = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}")
# Zero-width and other invisible characters that copy-paste leaves in identifiers.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)


def id_key(text: str) -> str:
    """The form in which identifiers are compared: NFKC, invisible characters removed,
    stripped, case-folded (``" r01"``, ``"R01\\u200b"`` and ``"Ｒ０１"`` share one key)."""
    return unicodedata.normalize("NFKC", text.translate(_INVISIBLE)).strip().casefold()


def id_codes(raw: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Cells as codes into their distinct :func:`id_key` keys (``""`` for blank cells)."""
    codes, texts = text_codes(raw)
    # Stripped ASCII text is its own NFKC form: only case folding is left to do.
    keys = [t.lower() if t.isascii() else id_key(t) for t in texts]
    merged, keys = pd.factorize(np.array(keys or [""], dtype=object))
    return merged[codes], list(keys)


def text_codes(raw: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Cells as codes into their distinct stripped texts (``""`` for blank, missing or
    non-text), so per-value work runs once per distinct value; a Categorical is used as is."""
    if isinstance(raw.dtype, pd.CategoricalDtype):
        codes, distinct = raw.array.codes, list(raw.array.categories)  # no Series built
    else:
        codes, distinct = pd.factorize(raw.to_numpy(dtype=object))
        distinct = list(distinct)
    texts = [v.strip() if v.__class__ is str else "" for v in distinct]
    # already distinct stripped texts, nothing missing (as from stripped_frame)
    if texts == distinct and (len(codes) == 0 or codes.min() >= 0):
        return codes, texts
    texts.append("")  # the code of missing cells (-1 from factorize)
    codes = np.where(codes < 0, len(distinct), codes)
    merged, texts = pd.factorize(np.array(texts, dtype=object))  # " a" and "a" are one text
    return merged[codes], list(texts)


def stripped_frame(raw: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Columns ``names`` of ``raw`` as Categoricals of stripped text, so the schema's checks
    parse each distinct value once."""
    out = {}
    for name in names:
        codes, texts = text_codes(raw[name])
        out[name] = pd.Series(
            pd.Categorical.from_codes(codes, categories=pd.Index(texts, dtype=object)),
            index=raw.index,
        )
    return pd.DataFrame(out, index=raw.index, copy=False)


def blank(raw: pd.Series) -> pd.Series:
    """True on blank cells (only whitespace, or missing)."""
    codes, texts = text_codes(raw)
    return pd.Series(np.array([t == "" for t in texts], dtype=bool)[codes], index=raw.index)


def duplicated(raw: pd.Series) -> pd.Series:
    """True on non-blank cells whose :func:`id_key` is also another cell's."""
    codes, keys = id_codes(raw)
    repeated = np.bincount(codes, minlength=len(keys)) > 1
    empty = np.array([k == "" for k in keys], dtype=bool)
    return pd.Series((repeated & ~empty)[codes], index=raw.index)


def parse_column(raw: pd.Series, column: contract.Column) -> tuple[pd.Series, pd.Series]:
    """One raw text column parsed by its contract kind: (typed, valid). Blank and invalid
    cells are missing in ``typed``; ``valid`` is False only where a non-blank cell is not
    allowed (whether blanks are allowed is the separate "required" check)."""
    codes, texts = text_codes(raw)
    index = raw.index
    parsed, valid = _parse_texts(texts, column)
    if column.kind == "code":
        typed = pd.Series(
            pd.Categorical.from_codes(parsed[codes], categories=list(column.codes), ordered=True),
            index=index,
        )
    elif column.kind == "boolean":
        typed = pd.Series(
            pd.arrays.BooleanArray((parsed == 1)[codes], (parsed < 0)[codes]), index=index
        )
    elif column.kind in ("integer", "number"):
        typed = pd.Series(parsed[codes], index=index)
        if column.kind == "integer":
            typed = typed.round().astype("Int64")
    else:
        typed = pd.Series(parsed[codes], index=index, dtype="str")
    return typed.rename(raw.name), pd.Series(valid[codes], index=index, dtype=bool)


def valid_cells(raw: pd.Series, column: contract.Column) -> pd.Series:
    """The ``valid`` result of :func:`parse_column` alone (the schema's check), without typing."""
    codes, texts = text_codes(raw)
    return pd.Series(_parse_texts(texts, column)[1][codes], index=raw.index, dtype=bool)


def _parse_texts(texts: list[str], column: contract.Column) -> tuple[np.ndarray, np.ndarray]:
    """(parsed, valid) per distinct text: code -> position in ``column.codes`` (-1 none);
    boolean -> 1, 0, -1; numbers -> float (NaN unless valid); text -> itself (None if blank)."""
    blank = np.array([t == "" for t in texts], dtype=bool)
    if column.kind == "code":
        position = {code: i for i, code in enumerate(column.codes)}
        parsed = np.array([position.get(t.lower(), -1) for t in texts], dtype=np.int64)
        return parsed, blank | (parsed >= 0)
    if column.kind == "boolean":
        words = {word: int(flag) for word, flag in _BOOLEAN_WORDS.items()}
        parsed = np.array([words.get(t.lower(), -1) for t in texts], dtype=np.int64)
        return parsed, blank | (parsed >= 0)
    if column.kind in ("integer", "number"):
        numbers = np.array(
            [float(t) if _NUMBER.match(t) else np.nan for t in texts], dtype="float64"
        )
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(numbers) & (numbers >= column.minimum) & (numbers <= column.maximum)
            if column.kind == "integer":
                ok &= numbers == np.floor(numbers)
        return np.where(ok, numbers, np.nan), blank | ok
    return np.array([None if t == "" else t for t in texts], dtype=object), np.ones(
        len(texts), dtype=bool
    )


def reason(value: str, column: contract.Column) -> str:
    """A short hint why a non-blank value is not allowed."""
    text = value.strip()
    if column.kind in ("integer", "number"):
        if _DATE.match(text):
            return "it looks like a date"
        if "%" in text:
            return "write the number without '%'"
        if "," in text and _NUMBER.match(text.replace(",", ".")):
            return "use a dot as the decimal separator"
        if not _NUMBER.match(text):
            return "it is not a number"
        number = float(text)
        if column.kind == "integer" and number != np.floor(number):
            return "it is not a whole number"
        if number < column.minimum:
            return f"it is below the minimum {column.minimum:g}"
        if number > column.maximum:
            return f"it is above the maximum {column.maximum:g}"
    if column.kind == "code":
        close = difflib.get_close_matches(text.lower(), column.codes, n=1)
        if close:
            return f"did you mean {close[0]!r}?"
    return ""
