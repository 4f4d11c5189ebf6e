"""The tool as people install it: a wheel of this repository in a fresh venv, used from an
empty folder outside the checkout, on a scenario of the library and on a crate made there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from factories import REPO, make_project

pytestmark = pytest.mark.build


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`pyo3-triage` from a wheel, in a venv that has nothing else of this checkout."""
    root = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(root), str(REPO)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = root.glob("pyo3_triage-*.whl")
    venv = root / "venv"
    uv = [sys.executable, "-m", "uv"]
    subprocess.run([*uv, "venv", "-q", "-p", sys.executable, str(venv)], check=True, timeout=300)
    subprocess.run(
        [*uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python"), str(wheel)],
        check=True,
        timeout=900,
    )
    return venv / "bin" / "pyo3-triage"


def run(tool: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYO3_TRIAGE_")}
    env.update(COLUMNS="200", NO_COLOR="1")
    return subprocess.run(
        [str(tool), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )


def test_version_and_help(installed: Path, tmp_path: Path) -> None:
    done = run(installed, tmp_path, "--version")
    assert done.returncode == 0 and done.stdout.startswith("pyo3-triage ")
    assert run(installed, tmp_path, "nonsense").returncode == 2


def test_matrix_and_bisect_from_an_empty_folder(
    installed: Path, build_cache: Path, tmp_path: Path
) -> None:
    cache = ["--cache", str(build_cache)]
    done = run(
        installed,
        tmp_path,
        "matrix",
        "--scenario",
        "unsendable_gc_traverse",
        "--pyo3",
        "0.20.3,0.21.0",
        "--python",
        "3.11",
        *cache,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    table = (tmp_path / "results" / "matrix.md").read_text()
    assert "| 0.20.3 | **abort** |" in table and "| 0.21.0 | pass |" in table
    report = (tmp_path / "results" / "report.md").read_text()
    assert "`pyo3-triage matrix --scenario " in report  # reproduce commands the wheel can run
    done = run(
        installed, tmp_path, "bisect", "--pyo3", "0.20.2..0.21.0", "--python", "3.11", *cache
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "fixed in 0.21.0 (0.20.3: abort -> 0.21.0: pass)" in done.stdout
    done = run(installed, tmp_path, "matrix", "--cache-info", *cache)
    assert done.returncode == 0 and "total" in done.stdout
    assert not (REPO / "results" / "matrix-unsendable_gc_traverse").exists()


def test_a_crate_made_in_the_folder(installed: Path, build_cache: Path, tmp_path: Path) -> None:
    make_project(tmp_path / "my-ext")
    done = run(
        installed,
        tmp_path / "my-ext",
        "matrix",
        "--crate",
        ".",
        "--run",
        "python repro.py",
        "--pyo3",
        "0.20.3,0.21.2",
        "--python",
        "3.11",
        "--cache",
        str(build_cache),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    table = (tmp_path / "my-ext" / "results" / "matrix.md").read_text()
    assert "| 0.20.3 | **abort** |" in table and "| 0.21.2 | pass |" in table


def test_the_starter_list_comes_with_the_wheel(installed: Path, tmp_path: Path) -> None:
    """`ecosystem` without --projects reads the starter list shipped in the package; --list
    plans it from an empty folder without downloading or building anything."""
    done = run(
        installed,
        tmp_path,
        "ecosystem",
        "--list",
        "--candidate",
        "0.21.2",
        "--baseline",
        "0.20.3",
        "--python",
        "3.11",
        "--cache",
        str(tmp_path / "cache"),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "rpds-py 0.18.1" in done.stdout and "python-calamine 0.9.1" in done.stdout
    assert not (tmp_path / "results").exists()
