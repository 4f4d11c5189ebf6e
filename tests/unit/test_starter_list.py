"""The starter list shipped in ecosystem/: its format (what the ecosystem command reads), its
check scripts, and the coverage the issue asks of it (ecosystem/coverage.toml)."""

from __future__ import annotations

import ast
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ECOSYSTEM = Path(__file__).resolve().parents[2] / "ecosystem"
KEYS = {"name", "version", "run", "with", "extra", "timeout", "python", "rust"}
MINIMUMS = {"companion": 4, "mixed-layout": 2, "workspace": 1, "abi3": 1, "deny-warnings": 1}


def load(name: str) -> dict[str, Any]:
    return tomllib.loads((ECOSYSTEM / name).read_text(encoding="utf-8"))


PROJECTS: list[dict[str, Any]] = load("projects.toml")["project"]
COVERAGE: dict[str, Any] = load("coverage.toml")


def test_at_least_twelve_projects_each_named_once_with_a_pinned_version() -> None:
    assert len(PROJECTS) >= 12
    names = [p["name"] for p in PROJECTS]
    assert len(names) == len(set(names)), [n for n, c in Counter(names).items() if c > 1]
    for project in PROJECTS:
        assert set(project) <= KEYS, (project["name"], set(project) - KEYS)
        assert isinstance(project["version"], str)
        assert re.fullmatch(r"\d+(\.\d+)+", project["version"]), project


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p["name"])
def test_each_check_exists_and_is_never_its_own_import(project: dict[str, Any]) -> None:
    """Python puts a script's folder first on sys.path: a check named like the module it
    imports (checks/rtoml.py doing `import rtoml`) would import itself."""
    python, script = project["run"].split()
    assert python == "python"
    path = ECOSYSTEM / script
    assert path.is_file(), path
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in (
            node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")]
        )
    }
    assert path.stem not in imported, (path.name, imported)
    assert any(isinstance(n, ast.Assert) for n in ast.walk(ast.parse(path.read_text())))


def test_every_project_has_its_coverage_and_the_minimums_are_met() -> None:
    assert set(COVERAGE) == {p["name"] for p in PROJECTS}
    counts: Counter[str] = Counter()
    for name, facts in COVERAGE.items():
        assert re.fullmatch(r"0\.\d+\.\d+", facts["pyo3"]), name
        counts.update({tag.split(":")[0] for tag in facts["covers"]})
    assert {tag: counts[tag] for tag in MINIMUMS} == {
        tag: max(counts[tag], least) for tag, least in MINIMUMS.items()
    }, counts


def test_some_projects_pin_pyo3_0_20() -> None:
    """The 0.20 -> 0.21 fixture compares a git candidate against projects of that era."""
    assert sum(facts["pyo3"].startswith("0.20.") for facts in COVERAGE.values()) >= 2
