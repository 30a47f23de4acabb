"""environment.yml, pyproject.toml and requirements.lock describe one environment."""

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def _pyproject_requirements() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    return {canonicalize_name(Requirement(r).name): Requirement(r) for r in reqs}


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version
    return pins


def _conda_pins() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    pins = {}
    for item in pip_section:
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==(\S+)", item)
        if match:
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def test_environment_yml_pins_exactly_the_pyproject_dependencies():
    assert set(_conda_pins()) == set(_pyproject_requirements())


@pytest.mark.parametrize("name", sorted(_pyproject_requirements()))
def test_each_direct_dependency_is_pinned_alike_in_lock_and_environment_yml(name):
    lock, conda, req = _lock(), _conda_pins(), _pyproject_requirements()[name]
    assert name in lock, f"{name} missing from requirements.lock"
    assert conda[name] == lock[name], (
        f"environment.yml pins {name}=={conda[name]}, lock {lock[name]}"
    )
    assert req.specifier.contains(lock[name]), f"lock {name}=={lock[name]} outside pyproject {req}"


def test_environment_yml_installs_the_project_under_the_lock_file():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-c requirements.lock" in pip_section and "-e ." in pip_section
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))
    required = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert required == ">=3.11" and python == "python=3.11"
