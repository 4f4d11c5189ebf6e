"""The wheel holds every package of the tool: a subpackage missing from pyproject.toml's list
imports from a checkout and fails from a wheel (the build tier's wheel test would say so
only after a build)."""

from __future__ import annotations

from factories import REPO

from pyo3_triage.tomlcompat import tomllib


def test_every_subpackage_is_in_the_wheel() -> None:
    listed = set(
        tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(init.parent.relative_to(REPO).parts)
        for init in (REPO / "pyo3_triage").rglob("__init__.py")
    }
    assert found <= listed, sorted(found - listed)
