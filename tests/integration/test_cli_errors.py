"""`nox -s matrix -- <bad input>` as a user meets it: exit status 2, one `error:` line, no
traceback, and nothing already in the results folder touched. Every case passes `--list`, so
nothing is built even if validation let something through by mistake."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from factories import REPO, snapshot

from pyo3_triage.errors import UserError
from pyo3_triage.system.paths import Layout
from pyo3_triage.versions import crates_index

NOXFILE = REPO / "noxfile.py"
KEEP_JSON = b'{"schema": 1, "note": "written by a user, must survive"}\n'
KEEP_MD = b"# matrix from an earlier run\n\n| a | b |\n"


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for every case, with the release list fetched once if crates.io answers (the
    cases that need it are marked `network`; the others never ask for it)."""
    cache = tmp_path_factory.mktemp("cli-cache")
    with contextlib.suppress(UserError):
        crates_index.load_index("pyo3", Layout(cache=cache, results=cache).index_file("pyo3"))
    return cache


@pytest.fixture
def results(tmp_path: Path) -> Path:
    """A results folder that already holds a record and a table from an earlier run."""
    folder = tmp_path / "results"
    (folder / "records" / "x").mkdir(parents=True)
    (folder / "records" / "x" / "keep.json").write_bytes(KEEP_JSON)
    (folder / "matrix.md").write_bytes(KEEP_MD)
    return folder


def run_matrix(
    cwd: Path, cache: Path, results: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYO3_TRIAGE_")}
    env.update(COLUMNS="200", NO_COLOR="1")
    argv = [sys.executable, "-m", "nox", "-f", str(NOXFILE), "-s", "matrix", "--", *args]
    argv += ["--results", str(results), "--cache", str(cache)]
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=180, check=False
    )


def own_lines(stderr: str) -> list[str]:
    """stderr without nox's own framing lines."""
    return [line for line in stderr.splitlines() if line.strip() and not line.startswith("nox >")]


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]
    expect: str  # a phrase the error line must contain
    network: bool = False  # the phrase needs the crates.io release list (marker `network`)
    xfail: str = ""


CASES: dict[str, Case] = {
    "unknown-scenario": Case(("--scenario", "no_such_scenario"), "unknown scenario"),
    "scenario-dotdot-etc": Case(("--scenario", "../etc"), "scenario folder"),
    "scenario-shell": Case(("--scenario", "a;rm -rf ~"), "not a scenario name"),
    "pyo3-reversed": Case(("--pyo3", "0.21..0.19"), "reversed", network=True),
    "pyo3-malformed": Case(("--pyo3", "0.20; rm -rf ~"), "as a version", network=True),
    "pyo3-empty": Case(
        ("--pyo3", "", "--python", "3.11"),
        "--pyo3 is empty",
        network=True,
    ),
    "pyo3-not-on-crates-io": Case(("--pyo3", "0.20.99"), "not a pyo3 release", network=True),
    "python-9.9": Case(("--pyo3", "0.20.3", "--python", "9.9"), "interpreter spec"),
    "python-3.x": Case(("--pyo3", "0.20.3", "--python", "3.x"), "interpreter spec"),
    "python-missing-path": Case(
        ("--pyo3", "0.20.3", "--python", "/nonexistent/python"), "does not exist"
    ),
    "repeat-0": Case(("--repeat", "0"), "--repeat"),
    "repeat-x": Case(("--repeat", "x"), "--repeat"),
    "unknown-option": Case(("--frobnicate",), "--frobnicate"),
    "new-without-git-bisect-exit": Case(("--new", "build-error"), "--git-bisect-exit"),
    "timeout-without-crate": Case(("--timeout", "5"), "--timeout goes with --crate"),
    "extra-without-crate": Case(("--extra", "test"), "goes with --crate"),
    "with-not-a-requirement": Case(("--with", "pytest; rm -rf ~ >"), "is not a requirement"),
}


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            case,
            id=name,
            marks=[pytest.mark.network] * case.network
            + [pytest.mark.xfail(strict=True, reason=case.xfail)] * bool(case.xfail),
        )
        for name, case in CASES.items()
    ],
)
def test_bad_input_is_one_error_line(
    case: Case, shared_cache: Path, results: Path, tmp_path: Path
) -> None:
    before = snapshot(results)
    done = run_matrix(tmp_path, shared_cache, results, "--list", *case.args)
    assert "Traceback" not in done.stdout + done.stderr
    assert done.returncode == 2, done.stdout + done.stderr
    lines = own_lines(done.stderr)
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    assert case.expect in lines[0]
    assert snapshot(results) == before
    assert not (shared_cache / "targets").exists()


def test_results_pointing_at_a_file(shared_cache: Path, results: Path, tmp_path: Path) -> None:
    before = snapshot(results)
    done = run_matrix(tmp_path, shared_cache, results / "matrix.md", "--list")
    assert "Traceback" not in done.stdout + done.stderr
    assert done.returncode == 2
    lines = own_lines(done.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "is a file" in lines[0] and "--results DIR" in lines[0]
    assert snapshot(results) == before


def test_list_plans_without_building(shared_cache: Path, results: Path, tmp_path: Path) -> None:
    before = snapshot(results)
    done = run_matrix(
        tmp_path, shared_cache, results, "--list", "--pyo3", "0.20.3,0.21.0", "--python", "3.11"
    )
    if "no interpreter matches" in done.stderr:
        pytest.skip("no CPython 3.11 on this machine")
    assert "Traceback" not in done.stdout + done.stderr
    assert done.returncode == 0, done.stdout + done.stderr
    assert own_lines(done.stderr) == []
    planned = [line for line in done.stdout.splitlines() if " · PyO3 " in line]
    assert len(planned) == 4, done.stdout
    assert "= 4 cells" in done.stdout
    assert {line.split(" · ")[1] for line in planned} == {"PyO3 0.20.3", "PyO3 0.21.0"}
    assert all(" · CPython 3.11." in line for line in planned)
    assert all(line.endswith(": build and run") for line in planned)
    for built in ("targets", "crates", "wheels", "venvs"):
        assert not (shared_cache / built).exists(), built
    assert snapshot(results) == before


# --- --clean and --cache-info never touch what is not ours ------------------------------------
AREAS = ("index", "resolve", "locks", "crates", "targets", "wheels", "venvs", "locks.d", "work")


def foreign_folder(root: Path, tag: str | None) -> dict[str, bytes]:
    """A folder holding a user's files under every cache area's name (and maybe a tag)."""
    for area in AREAS:
        (root / area).mkdir(parents=True)
        (root / area / "mine.txt").write_text(f"a user's file in {area}\n")
    if tag is not None:
        (root / "CACHEDIR.TAG").write_text(tag)
    return snapshot(root)


@pytest.mark.parametrize(
    "tag",
    [
        pytest.param(None, id="untagged"),
        pytest.param(
            "Signature: 8a477f597d28d172789f06886806bc55\n# made by some other program\n",
            id="tagged-by-another-program",
        ),
    ],
)
def test_clean_deletes_nothing_in_a_folder_it_did_not_tag(
    tag: str | None, results: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "not-our-cache"
    before = foreign_folder(folder, tag)
    kept = snapshot(results)
    done = run_matrix(tmp_path, folder, results, "--clean")
    assert done.returncode == 2, done.stdout + done.stderr
    lines = own_lines(done.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "nothing deleted" in lines[0]
    assert snapshot(folder) == before  # every file survives and nothing was added
    assert snapshot(results) == kept


def test_cache_info_creates_nothing(results: Path, tmp_path: Path) -> None:
    folder = tmp_path / "no-cache-yet"
    done = run_matrix(tmp_path, folder, results, "--cache-info")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "total" in done.stdout
    assert not folder.exists()


def test_a_run_does_not_tag_a_folder_holding_other_files(tmp_path: Path) -> None:
    folder = tmp_path / "home-like"
    foreign_folder(folder, None)
    Layout(cache=folder, results=tmp_path / "results").ensure()
    assert not (folder / "CACHEDIR.TAG").exists()
    with pytest.raises(UserError, match="nothing deleted"):
        Layout(cache=folder, results=tmp_path / "results").clean_cache()


def test_clean_in_a_folder_the_tool_made(results: Path, tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    Layout(cache=folder, results=results).ensure()  # a fresh folder: tagged as ours
    (folder / "targets" / "x").mkdir(parents=True)
    (folder / "targets" / "x" / "f").write_bytes(b"x" * 2048)
    (folder / "notes.txt").write_text("not an area: kept")
    done = run_matrix(tmp_path, folder, results, "--clean")
    assert done.returncode == 0, done.stdout + done.stderr
    assert not (folder / "targets").exists()
    assert (folder / "notes.txt").read_text() == "not an area: kept"


def test_git_bisect_exit_refuses_build_error_as_both_new_and_old(
    shared_cache: Path, results: Path, tmp_path: Path
) -> None:
    """Refused in one line before anything is built; 125 so git skips instead of reading 2
    as "bad"."""
    before = snapshot(results)
    done = run_matrix(
        tmp_path,
        shared_cache,
        results,
        "--git-bisect-exit",
        "--new",
        "build-error",
        "--old",
        "build-error",
        "--pyo3",
        "0.21.2",
    )
    assert done.returncode == 125, done.stdout + done.stderr
    lines = own_lines(done.stderr)
    assert len(lines) == 1 and "--new and --old both name build-error" in lines[0], done.stderr
    assert snapshot(results) == before
    assert not (shared_cache / "targets").exists()


@pytest.mark.parametrize("args", [("--list", "--pyo3", "0.20.3"), ("--pyo3", "0.20.99x")])
def test_list_and_bad_input_leave_no_results_folder(
    shared_cache: Path, tmp_path: Path, args: tuple[str, ...]
) -> None:
    """A results folder appears with the first record stored, not before."""
    fresh = tmp_path / "never-made"
    done = run_matrix(tmp_path, shared_cache, fresh, *args)
    assert "Traceback" not in done.stdout + done.stderr
    assert not fresh.exists(), done.stdout + done.stderr
