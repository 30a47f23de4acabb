"""Each package's docstring and the README's Layout name every module that exists."""

import re
from pathlib import Path

import pytest

import helpers
import pipeline

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"helpers": helpers, "pipeline": pipeline}
MODULES = [
    (package, p.stem)
    for package in PACKAGES
    for p in sorted((ROOT / package).glob("*.py"))
    if p.stem != "__init__" and not (package == "helpers" and p.stem == "__main__")
]


def _readme_layout() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text[text.index("## Layout") : text.index("## Performance")]


@pytest.mark.parametrize(("package", "module"), MODULES)
def test_the_package_docstring_lists_each_module(package, module):
    assert f":mod:`{package}.{module}`" in PACKAGES[package].__doc__


@pytest.mark.parametrize(("package", "module"), [m for m in MODULES if m[1] != "__main__"])
def test_the_readme_layout_names_each_module(package, module):
    assert re.search(rf"\b{module}\b", _readme_layout()), f"README Layout does not name {module}"


@pytest.mark.parametrize("package", PACKAGES)
def test_the_package_docstring_lists_no_module_that_is_gone(package):
    listed = set(re.findall(rf":mod:`{package}\.(\w+)`", PACKAGES[package].__doc__))
    assert listed == {m for p, m in MODULES if p == package}
