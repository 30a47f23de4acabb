"""A share-safe run (``run --share``): no input copy, no patient_id in any file, said on every page."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def run_cli(*args: str, cwd: Path = ROOT, timeout: int = 1800) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "helpers", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def file_texts(path: Path) -> list[bytes]:
    """The bytes of a file as stored, plus what is inside it when it is compressed (XLSX, PNG)."""
    raw = path.read_bytes()
    out = [raw]
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            out += [z.read(name) for name in z.namelist()]
    if raw.startswith(b"\x89PNG"):
        pos = 8
        while pos + 8 <= len(raw):
            size = int.from_bytes(raw[pos:pos + 4], "big")
            kind, body = raw[pos + 4:pos + 8], raw[pos + 8:pos + 8 + size]
            if kind in (b"zTXt", b"iTXt"):
                try:
                    out.append(zlib.decompress(body[body.index(b"\0") + 2:]))
                except (ValueError, zlib.error):
                    out.append(body)
            elif kind == b"tEXt":
                out.append(body)
            pos += 12 + size
    return out


@pytest.fixture(scope="module")
def share_run(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("share")
    cohort = folder / "cohort.csv"
    assert run_cli("synth", "--n", "30", "--seed", "2", "--out", str(cohort)).returncode == 0
    out = folder / "run"
    done = run_cli("run", "--data", str(cohort), "--out", str(out), "--share", "--workers", "1")
    assert done.returncode == 0, done.stderr
    return cohort, out


def test_a_share_run_keeps_no_copy_of_the_input_but_its_name_and_hash(share_run):
    cohort, out = share_run
    assert not (out / "input").exists()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == "share"
    assert manifest["input"]["file"] == cohort.name
    assert manifest["input"]["sha256"] == hashlib.sha256(cohort.read_bytes()).hexdigest()
    raw = cohort.read_bytes()
    assert not [p for p in out.rglob("*") if p.is_file() and p.read_bytes() == raw]


def test_every_report_page_of_a_share_run_says_it_is_one(share_run):
    _, out = share_run
    pages = sorted((out / "report").glob("*.html"))
    assert pages
    for page in pages:
        assert "Share-safe run" in page.read_text(encoding="utf-8"), page.name


def test_no_file_of_a_share_run_holds_a_patient_id(share_run):
    cohort, out = share_run
    ids = [str(i).encode("utf-8") for i in pd.read_csv(cohort, dtype=str)["patient_id"]]
    leaks = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        found = {i.decode() for blob in file_texts(path) for i in ids if i in blob}
        if found:
            leaks[str(path.relative_to(out))] = sorted(found)[:3]
    assert not leaks, f"patient_id found in {leaks}"
