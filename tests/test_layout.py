"""The package docstring and the README's Layout name every helper module that exists."""

import re
from pathlib import Path

import pytest

import helpers

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted(p.stem for p in (ROOT / "helpers").glob("*.py") if not p.stem.startswith("__"))


def _readme_layout() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text[text.index("## Layout"):text.index("## Performance")]


@pytest.mark.parametrize("module", MODULES)
def test_the_package_docstring_lists_each_helper_module(module):
    assert f":mod:`helpers.{module}`" in helpers.__doc__


@pytest.mark.parametrize("module", MODULES)
def test_the_readme_layout_names_each_helper_module(module):
    assert re.search(rf"\b{module}\b", _readme_layout()), f"README Layout does not name {module}"


def test_the_package_docstring_lists_no_module_that_is_gone():
    listed = set(re.findall(r":mod:`helpers\.(\w+)`", helpers.__doc__))
    assert listed == set(MODULES)
