"""Entry points: `nox -s matrix`, `nox -s tests`, `nox -s lint`.

Sessions run in the environment nox itself runs in (the README's setup line installs the
project there), so the matrix starts at once; the tool makes its own per-cell venvs.
"""

from __future__ import annotations

import sys

import nox

nox.options.default_venv_backend = "none"
nox.options.sessions = ["matrix"]


def _exit_with(status: int) -> None:
    # A user error has already been printed as one line; keep nox from adding a traceback.
    if status:
        raise SystemExit(status)


@nox.session(venv_backend="none")
def matrix(session: nox.Session) -> None:
    """Build and run the reproducers across PyO3 releases x CPython versions."""
    from pyo3_triage import cli

    _exit_with(cli.entry(session.posargs))


@nox.session(venv_backend="none")
def merge(session: nox.Session) -> None:
    """Combine results folders (e.g. CI shards) into ./results and redraw the tables."""
    from pyo3_triage import merge_cli

    _exit_with(merge_cli.entry(session.posargs))


@nox.session(venv_backend="none")
def report(session: nox.Session) -> None:
    """Redraw results/report.md and results/matrix.svg from the stored records."""
    from pyo3_triage import report_cli

    _exit_with(report_cli.entry(session.posargs))


@nox.session(venv_backend="none")
def verify(session: nox.Session) -> None:
    """Check that every library scenario still bisects to the release it records."""
    from pyo3_triage import verify

    _exit_with(verify.entry(session.posargs))


@nox.session(venv_backend="none")
def tests(session: nox.Session) -> None:
    """Unit tests and the build tier (real PyO3 releases from crates.io)."""
    session.run(sys.executable, "-m", "pytest", *session.posargs, external=True)


@nox.session(venv_backend="none")
def lint(session: nox.Session) -> None:
    session.run(sys.executable, "-m", "ruff", "check", ".", external=True)
    session.run(sys.executable, "-m", "ruff", "format", "--check", ".", external=True)
