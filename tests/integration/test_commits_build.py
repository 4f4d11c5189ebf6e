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


@pytest.mark.build
def test_a_users_crate_builds_against_a_pyo3_commit(
    fixture_repo: Path, build_cache: Path, tmp_path: Path
) -> None:
    """`--crate` with `git:REV`: every pyo3* crate of the project comes from the commit's tree
    by path (not a `pyo3 = "git:..."` requirement no registry has), and the cell is the
    reproducer's real outcome."""
    from factories import crate_args, make_project

    from pyo3_triage.commands import matrix_cli
    from pyo3_triage.outcome import Outcome
    from pyo3_triage.store import records
    from pyo3_triage.system.paths import Layout

    project = make_project(tmp_path / "proj")
    results = tmp_path / "results"
    argv = crate_args(project, "python repro.py", "git:8bef6e339", "3.11", build_cache, results)
    assert matrix_cli.main([*argv, "--pyo3-git", str(fixture_repo)]) == 0
    (record,) = records.all_records(Layout(build_cache, results))
    assert record.outcome is Outcome.PASS, record.message
    assert record.revision.startswith("8bef6e339")
    assert record.lock is not None and dict(record.lock.crates)["pyo3"] == "0.21.0-dev"
