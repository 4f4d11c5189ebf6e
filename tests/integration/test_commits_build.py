"""The commit-level search on the fixture of PyO3's own history (build tier): `bisect.py
--pyo3-git` names the pull request that changed the founding bug (pyo3#3689)."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from factories import NOX_MATRIX, REPO, snapshot

FIXTURE = REPO.parent / "shared" / "fixtures" / "pyo3-v0.20.0-v0.21.0.git.tar.gz"


@pytest.fixture(scope="module")
def fixture_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not FIXTURE.is_file():
        pytest.skip(f"{FIXTURE} is not here")
    folder = tmp_path_factory.mktemp("fixture")
    with tarfile.open(FIXTURE) as tar:
        tar.extractall(folder, filter="data")
    return folder / "pyo3.git"


@pytest.mark.build
def test_the_founding_bisect_names_pull_request_3689(
    fixture_repo: Path, build_cache: Path, tmp_path: Path
) -> None:
    refs_before = snapshot(fixture_repo)
    results = tmp_path / "results"
    argv = [
        sys.executable,
        str(REPO / "bisect.py"),
        "--pyo3",
        "0.20.3..0.21.0",
        "--python",
        "3.11",
        "--pyo3-git",
        str(fixture_repo),
        "--cache",
        str(build_cache),
        "--results",
        str(results),
    ]
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "fixed in 0.21.0 (0.20.3: abort -> 0.21.0: pass)" in done.stdout
    assert "first new commit: 8bef6e339 'Merge pull request #3689" in done.stdout
    assert "https://github.com/PyO3/pyo3/pull/3689" in done.stdout
    (report,) = results.glob("bisect-*-commits.md")
    text = report.read_text()
    assert "[#3689](https://github.com/PyO3/pyo3/pull/3689)" in text
    assert "newsfragments/3689.changed.md" in text
    assert snapshot(fixture_repo) == refs_before
    # The same commit as a matrix row, next to releases, marked as not a release.
    matrix = [
        *NOX_MATRIX,
        "--scenario",
        "unsendable_gc_traverse",
        "--pyo3",
        "0.20.3,git:8bef6e339",
        "--pyo3-git",
        str(fixture_repo),
        "--python",
        "3.11",
        "--cache",
        str(build_cache),
        "--results",
        str(results),
    ]
    done = subprocess.run(matrix, capture_output=True, text=True, timeout=1800, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    table = (results / "matrix.md").read_text()
    assert "| git:8bef6e339 (v0.20.0-218-g8bef6e3) | pass |" in table
    assert "| 0.20.3 | **abort** |" in table and "not releases" in table
