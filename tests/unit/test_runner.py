"""What the runner adds to a classified run (test_runner_venvs.py covers the plain
outcomes): the environment every reproducer gets, a panic found in the full log after the
tail scrolled past it, compile errors named, and the log each run leaves. The interpreter
running these tests stands in for a cell's venv python."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from pyo3_triage.outcome import Outcome
from pyo3_triage.reproducers.scenarios import Scenario
from pyo3_triage.running import runner
from pyo3_triage.system import procs

PY = Path(sys.executable)
PANIC = "thread 'main' panicked at src/lib.rs:12:9:\nalready mutably borrowed\nnote: run with"


def scenario(tmp_path: Path, driver: str, timeout: float = 30.0) -> Scenario:
    path = tmp_path / "driver.py"
    path.write_text(driver)
    return Scenario("s", tmp_path, "", "", timeout, "json", (), (), "", path, driver)


def test_every_reproducer_runs_with_backtraces_and_the_fault_handler(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VIRTUAL_ENV", "/somewhere/venv")
    monkeypatch.setenv("RUST_BACKTRACE", "0")
    env = runner.driver_env()
    assert env["RUST_BACKTRACE"] == "1" and env["PYTHONFAULTHANDLER"] == "1"
    assert env["PYTHONUNBUFFERED"] == "1" and env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert "VIRTUAL_ENV" not in env  # the user's shell does not leak into the run
    assert env == procs.clean_env(
        RUST_BACKTRACE="1",
        PYTHONFAULTHANDLER="1",
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
    )


def test_the_driver_sees_that_environment(tmp_path: Path) -> None:
    driver = "import json, os, sys\nprint(json.dumps({k: os.environ.get(k) for k in ('RUST_BACKTRACE', 'PYTHONFAULTHANDLER')}))\n"
    found = runner.run_driver(PY, scenario(tmp_path, driver), tmp_path, tmp_path / "run.log")
    assert found.outcome is Outcome.PASS
    assert json.loads(found.stdout_tail) == {"RUST_BACKTRACE": "1", "PYTHONFAULTHANDLER": "1"}


def test_a_panic_that_scrolled_out_of_the_tail_is_read_from_the_log(tmp_path: Path) -> None:
    """A crash after much output: the stderr tail no longer holds the panic, the log does."""
    driver = (
        "import os, sys\n"
        f"sys.stderr.write({PANIC!r} + '\\n')\n"
        "sys.stderr.write('noise line\\n' * 5000)\n"
        "sys.stderr.flush()\n"
        "os.abort()\n"
    )
    log = tmp_path / "run.log"
    found = runner.run_driver(PY, scenario(tmp_path, driver), tmp_path, log)
    assert found.outcome is Outcome.ABORT and found.signal == "SIGABRT"
    assert "panicked" not in found.stderr_tail
    assert found.panic_message == "already mutably borrowed"
    assert found.log == str(log)


def test_the_log_is_read_for_panics_only_when_there_is_one(tmp_path: Path) -> None:
    (tmp_path / "with.log").write_text(f"# scenario s\n{PANIC}\n")
    (tmp_path / "without.log").write_text("# scenario s\nSegmentation fault\n")
    assert runner._panic_in_log(tmp_path / "with.log") == "already mutably borrowed"
    assert runner._panic_in_log(tmp_path / "without.log") is None
    assert runner._panic_in_log(tmp_path / "missing.log") is None


@pytest.mark.parametrize(
    ("stderr", "outcome", "named"),
    [
        ('  File "d.py", line 2\n    x = (\nSyntaxError: \'(\' was never closed\n', Outcome.ERROR, "SyntaxError: '(' was never closed"),
        ("IndentationError: unexpected indent\nTabError: inconsistent use of tabs  \n", Outcome.ERROR, "TabError: inconsistent use of tabs"),
        ("SyntaxError: invalid syntax\n", Outcome.ABORT, None),  # only an error exit is told so
        ("ValueError: not a compile error\n", Outcome.ERROR, None),
    ],
)  # fmt: skip
def test_compile_errors_are_named_by_their_last_line(
    stderr: str, outcome: Outcome, named: str | None
) -> None:
    assert runner._compile_error(outcome, stderr) == named


def test_an_indentation_error_in_the_driver_is_the_exception(tmp_path: Path) -> None:
    found = runner.run_driver(
        PY, scenario(tmp_path, "if True:\nprint('x')\n"), tmp_path, tmp_path / "run.log"
    )
    assert found.outcome is Outcome.ERROR
    assert (found.exception or "").startswith("IndentationError")


def test_each_step_appends_to_the_cells_log_under_its_header(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    assert runner.check_import(PY, "json", tmp_path, log) is None
    runner.run_driver(PY, scenario(tmp_path, "print('driver ran')\n", 7.5), tmp_path, log)
    text = log.read_text()
    assert text.index("# import check") < text.index("# scenario s, timeout 7.5s")
    assert "driver ran" in text


def test_an_import_that_crashes_is_an_import_error_with_its_signal(tmp_path: Path) -> None:
    (tmp_path / "crashing.py").write_text("import os\nos.abort()\n")
    found = runner.check_import(PY, "crashing", tmp_path, tmp_path / "log")
    assert found is not None and found.outcome is Outcome.IMPORT_ERROR
    assert found.signal == "SIGABRT" and found.log == str(tmp_path / "log")
