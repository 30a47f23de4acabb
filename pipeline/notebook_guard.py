"""Git clean filter keeping notebook outputs of data other than the shipped cohort out of git.

``make git-filter`` sets it up (``.gitattributes`` names it). A notebook whose stored
outputs all come from ``data/reconstructed_cohort.csv`` passes through byte for byte; any
other is stored with its outputs stripped by nbstripout. The working copy never changes.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from helpers.provenance import SHIPPED_COHORT, data_provenance

#: Reference tables shipped in data/ (not patient data) may be named in outputs.
SHIPPED_FILES = (
    frozenset(p.name for p in SHIPPED_COHORT.parent.iterdir() if p.is_file())
    if SHIPPED_COHORT.parent.is_dir()
    else frozenset()
)
#: A run's own outputs (results/, tables/, figures/) may be named too.
OWN_OUTPUT = re.compile(r"^(?:\.\./)?(?:outputs/interactive/)?(?:results|tables|figures)/")
DATA_FILE = re.compile(r"[\w./-]+\.(?:csv|tsv|xlsx|xlsm|xls|parquet|sav|dta)\b", re.I)


def output_texts(nb: dict) -> list[str]:
    """Every stored output of a notebook as text (streams, errors, text/* and JSON); images left out."""
    texts = []
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            if "text" in out:
                texts.append("".join(out["text"]))
            if "evalue" in out:
                texts.append(str(out["evalue"]))
            for mime, value in out.get("data", {}).items():
                if mime.startswith("text/") or mime.endswith("json"):
                    texts.append("".join(value) if isinstance(value, list) else json.dumps(value))
    return texts


def foreign_output(nb: dict) -> str | None:
    """Why the notebook's outputs may not be of the shipped cohort, or None when they are (or it has none)."""
    texts = output_texts(nb)
    has_images = any(o.get("data") for c in nb.get("cells", []) for o in c.get("outputs", []))
    if not texts and not has_images:
        return None
    joined = "\n".join(texts)
    if data_provenance(SHIPPED_COHORT).headline not in joined:
        return f"no provenance banner of {SHIPPED_COHORT.name} in the stored outputs"
    if "supplied by the analyst" in joined:
        return "outputs of a data file supplied by the analyst"
    others = sorted(
        {
            m
            for m in DATA_FILE.findall(joined)
            if not OWN_OUTPUT.match(m) and Path(m).name not in SHIPPED_FILES
        }
    )
    if others:
        return f"stored outputs name other data files: {', '.join(others)}"
    if any(
        "injected-parameters" in c.get("metadata", {}).get("tags", []) for c in nb.get("cells", [])
    ):
        return "saved from a papermill run (injected parameters)"
    return None


def clean(raw: bytes) -> bytes:
    """The notebook bytes git should store: unchanged when its outputs are the shipped cohort's, else stripped."""
    try:
        nb = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return raw  # not a notebook git can parse either; leave it to the author
    if foreign_output(nb) is None:
        return raw
    import nbformat
    from nbstripout import strip_output

    node = nbformat.reads(raw.decode("utf-8"), as_version=nbformat.NO_CONVERT)
    stripped = strip_output(node, keep_output=False, keep_count=False, keep_id=True)
    return (nbformat.writes(stripped) + "\n").encode("utf-8")


def main() -> int:
    """Filter stdin to stdout (git clean filter)."""
    sys.stdout.buffer.write(clean(sys.stdin.buffer.read()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
