"""Shared fixtures. Build-tier tests (marker `build`) use a persistent cache so a rerun is warm;
unit tests never touch it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pyo3_triage.store.paths import Layout

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def build_cache() -> Path:
    """Cargo target dirs, wheels and locks for build-tier tests, kept between test runs."""
    root = os.environ.get("PYO3_TRIAGE_TEST_CACHE")
    path = Path(root) if root else Path.home() / ".cache" / "pyo3-triage-tests"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def build_layout(build_cache: Path, tmp_path: Path) -> Layout:
    """Warm cache, fresh results folder."""
    layout = Layout(cache=build_cache, results=tmp_path / "results")
    layout.ensure()
    return layout


def _refuse_to_build(*args: object, **kwargs: object) -> object:
    raise AssertionError(
        "a unit test tried to build or resolve a crate: mark it @pytest.mark.build "
        "(the build tier) or give it a fake"
    )


@pytest.fixture(autouse=True)
def no_builds_in_unit_tests(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unit tests are fast and offline by promise: in-process, any attempt to compile a crate,
    resolve a lockfile or make a venv fails the test (build-tier tests are marked `build`)."""
    if request.node.get_closest_marker("build") is not None:
        return
    from pyo3_triage.building import build, locks, venvs

    for module, name in (
        (build, "_build"),
        (locks, "pin"),
        (locks, "_resolve_fresh"),
        (venvs, "ensure"),
    ):
        monkeypatch.setattr(module, name, _refuse_to_build)
