"""Where the analysed data came from: file hashes and the provenance banner.

Imported by notebook kernels (through :mod:`helpers.narrative`) and by the
pipeline; it needs only the standard library.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SHIPPED_COHORT = REPO_ROOT / "data" / "reconstructed_cohort.csv"
DATASHEET = "data/reconstructed_cohort.datasheet.md"


def file_sha256(path: str | Path) -> str:
    """SHA-256 hex digest (64 lower-case hex digits) of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Provenance:
    """Where the analysed data came from: file name (no folders, so stored outputs carry no
    absolute paths), SHA-256 of its bytes, and whether they are the shipped reconstruction."""

    file: str
    sha256: str
    reconstructed: bool

    @property
    def headline(self) -> str:
        """One sentence for the top of every notebook and report (plain text, not HTML)."""
        if self.reconstructed:
            return (
                f"RECONSTRUCTED DATA — {self.file} is not real patients: a 34-patient cohort "
                "rebuilt from the paper's published aggregates (see "
                f"{DATASHEET}). Counts match the paper by construction; p-values, "
                "intervals and unreported cross-tabulations are properties of the reconstruction."
            )
        return f"Data: {self.file} (SHA-256 {self.sha256[:12]}…), supplied by the analyst."


def data_provenance(path: str | Path) -> Provenance:
    """The :class:`Provenance` of an existing cohort file."""
    path = Path(path)
    digest = file_sha256(path)
    shipped = SHIPPED_COHORT.exists() and file_sha256(SHIPPED_COHORT) == digest
    return Provenance(path.name, digest, shipped)
