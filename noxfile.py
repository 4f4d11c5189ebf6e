"""Entry points: `nox -s matrix`, `nox -s ecosystem`, `nox -s tests`, `nox -s lint`.

Sessions run in the environment nox itself runs in (the README's setup line installs the
project there), so the matrix starts at once; the tool makes its own per-cell venvs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nox

nox.options.default_venv_backend = "none"
nox.options.sessions = ["matrix"]


def _call(session: nox.Session, command: str) -> None:
    """Run the tool's `command` with the session's arguments, from the folder the user
    invoked nox in.

    nox runs sessions from the noxfile's folder; relative paths the user typed (`--crate .`,
    `--scenario repro`, `--results out`) and the default `./results` mean the user's folder.
    A non-zero status was already explained in one line: keep nox from adding a traceback."""
    from pyo3_triage.commands import main

    with session.chdir(session.invoked_from):
        status = main.run([command, *session.posargs])
    if status:
        raise SystemExit(status)


@nox.session(venv_backend="none")
def matrix(session: nox.Session) -> None:
    """Build and run the reproducers across PyO3 releases x CPython versions."""
    _call(session, "matrix")


@nox.session(venv_backend="none")
def merge(session: nox.Session) -> None:
    """Combine results folders (e.g. CI shards) into ./results and redraw the tables."""
    _call(session, "merge")


@nox.session(venv_backend="none")
def report(session: nox.Session) -> None:
    """Redraw results/report.md and results/matrix.svg from the stored records."""
    _call(session, "report")


@nox.session(venv_backend="none")
def verify(session: nox.Session) -> None:
    """Check that every library scenario still bisects to the release it records."""
    _call(session, "verify")


@nox.session(venv_backend="none")
def tests(session: nox.Session) -> None:
    """The unit tier (tests/unit: no build, no network), then, only if it passed, the
    integration tier (tests/integration: real PyO3 releases from crates.io built, nox runs).

    Arguments after `--` go to both tiers (`nox -s tests -- -k readme`); a filter that leaves
    one tier with nothing to run is no failure, but a tier empty without one is."""
    pytest = (sys.executable, "-m", "pytest")
    nothing_selected = 5  # pytest's exit status when no test was collected or all deselected
    success = [0, nothing_selected] if session.posargs else [0]
    session.run(*pytest, "tests/unit", *session.posargs, external=True, success_codes=success)
    session.run(
        *pytest,
        "tests/integration",
        "--durations=10",
        *session.posargs,
        external=True,
        success_codes=success,
    )


@nox.session(venv_backend="none")
def lint(session: nox.Session) -> None:
    """ruff (lint and format) over everything, mypy --strict over the package, and the GitHub
    Actions workflows through a linter (actionlint) and a security audit (zizmor, offline)."""
    session.run(sys.executable, "-m", "ruff", "check", ".", external=True)
    session.run(sys.executable, "-m", "ruff", "format", "--check", ".", external=True)
    session.run(sys.executable, "-m", "mypy", external=True)
    workflows = sorted(str(p) for p in Path(".github/workflows").glob("*.yml"))
    bin_dir = Path(sys.executable).parent
    session.run(str(bin_dir / "actionlint"), *workflows, external=True)
    session.run(str(bin_dir / "zizmor"), "--offline", "--no-progress", *workflows, external=True)


@nox.session(venv_backend="none")
def ecosystem(session: nox.Session) -> None:
    """Try a PyO3 release or commit on a list of real projects against a baseline."""
    _call(session, "ecosystem")
