"""`--git-bisect-exit` without a build: which outcome is which status `git bisect run`
understands (0 / 1 / 125), and failures to set up that must read as skip (125), never bad.
Built and run for real: integration/test_git_bisect.py."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from factories import make_record

from pyo3_triage.bisecting.bisection import Criteria, git_bisect_status
from pyo3_triage.outcome import Outcome
from pyo3_triage.store.records import Record


def record(outcome: Outcome) -> Record:
    return make_record(outcome, key="k", pyo3="0.21.2")


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        (Outcome.PASS, 0),
        (Outcome.ABORT, 1),
        (Outcome.SEGFAULT, 1),
        (Outcome.SIGNAL, 1),
        (Outcome.ERROR, 1),
        (Outcome.TIMEOUT, 1),
        (Outcome.BUILD_ERROR, 125),
        (Outcome.UNSUPPORTED, 125),
        (Outcome.IMPORT_ERROR, 125),
    ],
)
def test_default_mapping(outcome: Outcome, status: int) -> None:
    confirmed = dataclasses.replace(record(outcome), confirmed=True)  # a timeout seen twice
    assert git_bisect_status(confirmed, Criteria()) == status


def test_new_outcomes_narrow_what_is_bad() -> None:
    crashes = Criteria(new=frozenset({Outcome.ABORT, Outcome.SEGFAULT}))
    assert git_bisect_status(record(Outcome.ABORT), crashes) == 1
    assert git_bisect_status(record(Outcome.ERROR), crashes) == 0


def test_a_commit_without_the_reproducer_is_skipped(tmp_path: Path) -> None:
    """Under git bisect run, a reproducer that cannot be set up must not read as "bad" (2)."""
    from pyo3_triage.commands import matrix_cli

    missing = tmp_path / "not-there"
    argv = [
        "--git-bisect-exit",
        "--scenario",
        str(missing),
        "--pyo3",
        "0.21.2",
        "--cache",
        str(tmp_path / "cache"),
        "--results",
        str(tmp_path / "results"),
    ]
    assert matrix_cli.entry(argv) == 125
    assert (
        matrix_cli.entry(argv[1:]) == 2
    )  # the same mistake outside git bisect is a plain usage error


def test_an_unexpected_failure_is_a_skip_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not only bad input: anything that stops the tool from testing a commit is 125."""
    from pyo3_triage.commands import matrix_cli

    def broken(argv: object) -> int:
        raise RuntimeError("something this tool did not expect")

    monkeypatch.setattr(matrix_cli, "main", broken)
    assert matrix_cli.entry(["--git-bisect-exit", "--pyo3", "0.21.2"]) == 125
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "something this tool did not expect" in err[0]
    with pytest.raises(RuntimeError):
        matrix_cli.entry(["--pyo3", "0.21.2"])  # outside git bisect: a bug shows as a bug
