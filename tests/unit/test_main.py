"""`pyo3-triage`, the installed command: usage, help, version, and each subcommand handed
exactly the arguments after its name."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from pyo3_triage import __version__
from pyo3_triage.commands import (
    bisect_cli,
    main,
    matrix_cli,
    merge_cli,
    program,
    report_cli,
    verify_cli,
)
from pyo3_triage.errors import EXIT_OK, EXIT_USAGE


def test_no_arguments_is_the_usage_line_and_a_usage_exit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main.entry([]) == EXIT_USAGE
    assert capsys.readouterr().out.strip() == main.USAGE


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help_is_the_module_docstring(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main.entry([flag]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.strip() == (main.__doc__ or "").strip()
    assert "pyo3-triage matrix --crate ." in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main.entry(["--version"]) == EXIT_OK
    assert capsys.readouterr().out == f"pyo3-triage {__version__}\n"


def test_an_unknown_command_is_one_line_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert main.entry(["tabulate", "--pyo3", "0.20"]) == EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"error: unknown command 'tabulate'; {main.USAGE}\n"


def test_the_usage_line_names_every_command() -> None:
    listed = re.search(r"\{([a-z,]+)\}", main.USAGE)
    assert listed is not None
    assert listed[1].split(",") == list(main._commands())


SUBCOMMANDS = {
    "matrix": (matrix_cli, "entry"),
    "bisect": (bisect_cli, "entry"),
    "report": (report_cli, "entry"),
    "merge": (merge_cli, "entry"),
    "verify": (verify_cli, "entry"),
}


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_each_command_gets_the_arguments_after_its_name(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, list[str]]] = []
    for other, (module, attribute) in SUBCOMMANDS.items():
        monkeypatch.setattr(
            module, attribute, lambda argv, other=other: seen.append((other, list(argv))) or 7
        )
    assert main.entry([name, "--results", "out", "--help"]) == 7  # its exit status, passed on
    assert seen == [(name, ["--results", "out", "--help"])]


def test_help_of_a_command_goes_to_that_command(monkeypatch: pytest.MonkeyPatch) -> None:
    """`pyo3-triage report -h` is the report's help, not the tool's."""
    seen: list[list[str]] = []
    monkeypatch.setattr(report_cli, "entry", lambda argv: seen.append(list(argv)) or 0)
    assert main.entry(["report", "-h"]) == 0 and seen == [["-h"]]


def test_the_module_runs_as_a_script() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pyo3_triage.commands.main", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and done.stdout == f"pyo3-triage {__version__}\n", done.stderr


def test_program_words_follow_how_the_tool_was_started() -> None:
    assert program.line("matrix", ["--pyo3", "0.20"]) == "nox -s matrix -- --pyo3 0.20"
    assert program.line("matrix", []) == "nox -s matrix"
    assert program.line("bisect", ["--pyo3", "0.19..0.21"]) == "python bisect.py --pyo3 0.19..0.21"
    assert program.usage("report") == "nox -s report --"
    with program.started_as("pyo3-triage"):
        assert (
            program.line("matrix", ["--run", "python a.py"])
            == "pyo3-triage matrix --run 'python a.py'"
        )
        assert program.usage("bisect") == "pyo3-triage bisect"
        assert program.name("matrix") == "pyo3-triage matrix"
    assert program.name("matrix") == "nox -s matrix"  # only while it holds


@pytest.mark.parametrize("command", ["matrix", "bisect", "report", "merge", "verify"])
def test_the_installed_command_speaks_its_own_name(command: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pyo3_triage.commands.main", command, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: pyo3-triage {command} "), done.stdout[:200]
    assert "nox" not in done.stdout.split("\n")[0] and "bisect.py" not in done.stdout


def test_advice_names_the_installed_command(tmp_path) -> None:  # type: ignore[no-untyped-def]
    done = subprocess.run(
        [sys.executable, "-m", "pyo3_triage.commands.main", "report", "--results", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == EXIT_USAGE
    assert "run pyo3-triage matrix first" in done.stderr, done.stderr
