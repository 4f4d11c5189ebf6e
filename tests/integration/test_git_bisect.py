"""`--git-bisect-exit` for real: one cell built and run, its status what `git bisect run`
understands (0 / 1 / 125) with real aborting and segfaulting children, a real `git bisect run`
over a history, and nox resolving paths from where it was invoked. The status mapping alone:
unit/test_git_bisect_exit.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from factories import NOX_MATRIX, REPO

RUST = "#[pyfunction]\nfn answer() -> usize { 42 }\n"
DRIVERS = {
    "passes": "import gbx\nassert gbx.answer() == 42\n",
    "aborts": "import os, gbx\nos.abort()\n",
    "segfaults": "import ctypes, gbx\nctypes.string_at(0)\n",
    "raises": "import gbx\nraise ValueError('boom')\n",
}


def scenario(folder: Path, driver: str, rust: str = RUST) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scenario.toml").write_text('module = "gbx"\nfunctions = ["answer"]\ntimeout = 30\n')
    (folder / "lib.rs").write_text(rust)
    (folder / "driver.py").write_text(driver)
    return folder


def nox_cell(
    folder: Path, cache: Path, results: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    argv = [
        *NOX_MATRIX,
        "--git-bisect-exit",
        "--scenario",
        str(folder),
        "--pyo3",
        "0.21.2",
        "--python",
        "3.11",
        "--cache",
        str(cache),
        "--results",
        str(results),
        *extra,
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYO3_TRIAGE_")}
    return subprocess.run(argv, capture_output=True, text=True, timeout=900, env=env, check=False)


@pytest.mark.build
@pytest.mark.parametrize(
    ("name", "status"), [("passes", 0), ("aborts", 1), ("segfaults", 1), ("raises", 1)]
)
def test_real_children_map_to_git_statuses(
    name: str, status: int, build_cache: Path, tmp_path: Path
) -> None:
    folder = scenario(tmp_path / name, DRIVERS[name])
    done = nox_cell(folder, build_cache, tmp_path / "results")
    assert done.returncode == status, done.stdout + done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.build
def test_a_build_error_is_skip(build_cache: Path, tmp_path: Path) -> None:
    folder = scenario(tmp_path / "broken", DRIVERS["passes"], rust="fn answer( {\n")
    done = nox_cell(folder, build_cache, tmp_path / "results")
    assert done.returncode == 125, done.stdout + done.stderr


@pytest.mark.build
def test_a_compile_error_asked_for_as_new_is_bad(build_cache: Path, tmp_path: Path) -> None:
    """ "Which commit broke my build?": with --new build-error a compile error is 1, and a
    cell that compiles is 0, whatever its driver does."""
    broken = scenario(tmp_path / "broken", DRIVERS["passes"], rust=RUST.replace("42 }", '"x" }'))
    done = nox_cell(broken, build_cache, tmp_path / "results", "--new", "build-error")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "build-error -> new" in done.stdout
    fine = scenario(tmp_path / "fine", DRIVERS["aborts"])
    done = nox_cell(fine, build_cache, tmp_path / "results", "--new", "build-error")
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.build
def test_git_bisect_run_finds_the_commit_that_broke_it(build_cache: Path, tmp_path: Path) -> None:
    """A user's own history: three good commits, then a driver change that aborts."""
    repo = tmp_path / "history"
    folder = scenario(repo / "repro", DRIVERS["passes"])

    def git(*args: str) -> str:
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@t",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@t",
        }
        return subprocess.run(
            ["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True
        ).stdout.strip()

    git("init", "-q")
    for number in range(3):
        (folder / "notes.txt").write_text(f"step {number}\n")
        git("add", "-A")
        git("commit", "-qm", f"good {number}")
    (folder / "driver.py").write_text(DRIVERS["aborts"])
    git("commit", "-qam", "the bad one")
    (folder / "notes.txt").write_text("after\n")
    git("commit", "-qam", "after the bad one")
    bad = git("rev-parse", "HEAD~1")
    git("bisect", "start", "HEAD", "HEAD~4")
    # As the README shows it: from the user's own repository, the harness checkout elsewhere,
    # the scenario named by a path relative to where the user is.
    command = [
        *NOX_MATRIX,
        "--git-bisect-exit",
        "--scenario",
        "repro",
        "--pyo3",
        "0.21.2",
        "--python",
        "3.11",
        "--cache",
        str(build_cache),
        "--results",
        "../results",
    ]
    out = git("bisect", "run", *command)
    assert f"{bad} is the first bad commit" in out
    assert (tmp_path / "results" / "records").is_dir()  # relative to the user's folder


def test_nox_sessions_resolve_paths_from_where_nox_was_invoked(tmp_path: Path) -> None:
    """`cd elsewhere && nox -f <checkout>/noxfile.py -s matrix -- --scenario rel --results out`."""
    folder = scenario(tmp_path / "rel", DRIVERS["passes"])
    argv = [  # an unsupported cell: a record is written without a build
        *NOX_MATRIX,
        "--scenario",
        "rel",
        "--pyo3",
        "0.16.6",
        "--python",
        sys.executable,
        "--results",
        "out",
        "--cache",
        "cache",
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYO3_TRIAGE_")}
    done = subprocess.run(
        argv, cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "unsupported" in done.stdout
    assert (tmp_path / "out" / "records").is_dir() and (tmp_path / "cache").is_dir()
    assert folder.is_dir() and not (REPO / "out").exists()
