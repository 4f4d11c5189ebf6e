"""Outcome rules on real crashing children and on text copied from real Rust panics."""

from __future__ import annotations

import signal
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from factories import DATA
from hypothesis import given
from hypothesis import strategies as st

from pyo3_triage.outcome import Outcome
from pyo3_triage.running.classify import (
    classify_run,
    last_exception,
    panic_message,
    stdout_reason,
)
from pyo3_triage.system.procs import Completed, clean_env, run, signal_name
from pyo3_triage.system.supervisor import disable_core_dumps

# What a classification says: outcome, exit status, signal, panic message, exception.
Verdict = tuple[Outcome, int | None, str | None, str | None, str | None]


def verdict(done: Completed) -> Verdict:
    found = classify_run(done)
    return (found.outcome, found.exit_status, found.signal, found.panic_message, found.exception)


NEW_FORMAT = (
    "thread '<unnamed>' (2806) panicked at /path/src/x.rs:1048:9:\n"
    "assertion `left == right` failed: Node is unsendable, but sent to another thread\n"
    "  left: ThreadId(1)\n"
    " right: ThreadId(2)\n"
    "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n"
)
NEW_MESSAGE = "assertion `left == right` failed: Node is unsendable, but sent to another thread"

PANIC_TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "driver.py", line 3, in <module>\n'
    "    ext.boom()\n"
    "pyo3_runtime.PanicException: boom from rust\n"
)


@pytest.fixture(autouse=True, scope="module")
def _no_core_dumps() -> None:
    disable_core_dumps()


def completed(
    returncode: int | None,
    stderr: str = "",
    *,
    timed_out: bool = False,
) -> Completed:
    return Completed(
        argv=("python", "driver.py"),
        returncode=returncode,
        timed_out=timed_out,
        duration=0.1,
        stdout_tail="",
        stderr_tail=stderr,
        truncated=False,
        log_path=None,
    )


# --- panic_message -------------------------------------------------------------------


def test_new_format_with_thread_id() -> None:
    assert panic_message(NEW_FORMAT) == NEW_MESSAGE


def test_new_format_without_thread_id() -> None:
    stderr = "thread 'main' panicked at src/lib.rs:10:5:\nboom\nnote: run with RUST_BACKTRACE=1\n"
    assert panic_message(stderr) == "boom"


def test_new_format_multiline_message_stops_at_blank_line() -> None:
    stderr = "thread 'main' panicked at src/lib.rs:1:1:\nfirst line\nsecond line\n\nunrelated\n"
    assert panic_message(stderr) == "first line\nsecond line"


def test_new_format_stops_at_backtrace() -> None:
    stderr = "thread 'main' panicked at src/lib.rs:1:1:\nboom\nstack backtrace:\n   0: f\n"
    assert panic_message(stderr) == "boom"


def test_old_format() -> None:
    stderr = "thread 'main' panicked at 'boom, it's broken', src/lib.rs:10:5\nnote: run with\n"
    assert panic_message(stderr) == "boom, it's broken"


def test_old_format_assertion_spanning_lines_keeps_the_text() -> None:
    stderr = (
        "thread '<unnamed>' panicked at 'assertion failed: `(left == right)`\n"
        "  left: `ThreadId(1)`,\n"
        " right: `ThreadId(2)`: Node is unsendable', src/impl_/pyclass.rs:930:9\n"
    )
    assert panic_message(stderr) == "assertion failed: `(left == right)`"


def test_first_panic_wins_over_cleanup_panics() -> None:
    stderr = (
        NEW_FORMAT
        + "thread '<unnamed>' (2806) panicked at library/core/src/panicking.rs:225:5:\n"
        + "panic in a destructor during cleanup\n"
        + "thread caused non-unwinding panic. aborting.\n"
    )
    assert panic_message(stderr) == NEW_MESSAGE


def test_panic_after_other_output_on_the_same_line() -> None:
    stderr = "progress 50%thread 'main' panicked at src/lib.rs:2:3:\nboom\n"
    assert panic_message(stderr) == "boom"


def test_no_panic() -> None:
    assert panic_message("") is None
    assert panic_message("Traceback (most recent call last):\nValueError: x\n") is None


@given(st.text())
def test_panic_parsers_never_raise(text: str) -> None:
    panic_message(text)
    last_exception(text)


@given(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1
    ).filter(lambda s: s.strip() == s and s != "" and not s.startswith("note:"))
)
def test_any_single_line_message_round_trips_in_both_formats(message: str) -> None:
    new = f"thread 'main' (7) panicked at src/lib.rs:3:4:\n{message}\nnote: x\n"
    old = f"thread 'main' panicked at '{message}', src/lib.rs:3:4\n"
    assert panic_message(new) == message
    assert panic_message(old) == message


# --- last_exception ------------------------------------------------------------------


def test_last_exception_plain() -> None:
    assert last_exception(PANIC_TRACEBACK) == "pyo3_runtime.PanicException: boom from rust"


def test_last_exception_chained_takes_the_final_one() -> None:
    stderr = (
        "Traceback (most recent call last):\n  File 'a', line 1\nKeyError: 'k'\n\n"
        "During handling of the above exception, another exception occurred:\n\n"
        "Traceback (most recent call last):\n  File 'a', line 3\n    x()\n    ^^^\n"
        "ValueError: boom\n"
    )
    assert last_exception(stderr) == "ValueError: boom"


def test_last_exception_keeps_first_line_of_multiline_message_and_ignores_trailing_output() -> None:
    stderr = (
        "Traceback (most recent call last):\n  File 'a', line 1\nRuntimeError: line one\nline two\n"
    )
    assert last_exception(stderr) == "RuntimeError: line one"


def test_last_exception_skips_exceptions_python_survived() -> None:
    stderr = (
        "Exception ignored in: <function X.__del__ at 0x7f>\n"
        "Traceback (most recent call last):\n  File 'a', line 1\n"
        "pyo3_runtime.PanicException: in drop\n"
    )
    assert last_exception(stderr) is None
    assert last_exception(PANIC_TRACEBACK + stderr) == "pyo3_runtime.PanicException: boom from rust"


def test_last_exception_none_without_traceback() -> None:
    assert last_exception("Fatal Python error: Segmentation fault\n") is None


# --- signal_name ---------------------------------------------------------------------


def test_signal_name() -> None:
    assert signal_name(-signal.SIGABRT) == "SIGABRT"
    assert signal_name(-signal.SIGSEGV) == "SIGSEGV"
    assert signal_name(-signal.SIGKILL) == "SIGKILL"
    assert signal_name(0) is None
    assert signal_name(134) is None  # a shell's 128+n is an exit status, not a signal


# --- classify_run on constructed values ------------------------------------------------


@pytest.mark.parametrize(
    ("done", "expected"),
    [
        (completed(0), (Outcome.PASS, 0, None, None, None)),
        (completed(3), (Outcome.ERROR, 3, None, None, None)),
        (completed(-6), (Outcome.ABORT, None, "SIGABRT", None, None)),
        (completed(-11), (Outcome.SEGFAULT, None, "SIGSEGV", None, None)),
        (completed(-7), (Outcome.SIGNAL, None, "SIGBUS", None, None)),
        (
            completed(-signal.SIGKILL, timed_out=True),
            (Outcome.TIMEOUT, None, None, None, None),
        ),
        (
            completed(0, timed_out=True),  # exited cleanly on our SIGTERM: still a timeout
            (Outcome.TIMEOUT, 0, None, None, None),
        ),
        (
            completed(1, PANIC_TRACEBACK),
            (
                Outcome.PANIC,
                1,
                None,
                "boom from rust",
                "pyo3_runtime.PanicException: boom from rust",
            ),
        ),
        (
            completed(1, NEW_FORMAT + PANIC_TRACEBACK),  # the Rust text is the better message
            (Outcome.PANIC, 1, None, NEW_MESSAGE, "pyo3_runtime.PanicException: boom from rust"),
        ),
        (
            completed(1, "Traceback (most recent call last):\nPanicException: bare\n"),
            (Outcome.PANIC, 1, None, "bare", "PanicException: bare"),
        ),
        (
            completed(-6, NEW_FORMAT + "fatal runtime error: failed to initiate panic\n"),
            (Outcome.ABORT, None, "SIGABRT", NEW_MESSAGE, None),
        ),
        (
            completed(0, PANIC_TRACEBACK),  # the driver printed a caught panic and went on
            (
                Outcome.PASS,
                0,
                None,
                "boom from rust",
                "pyo3_runtime.PanicException: boom from rust",
            ),
        ),
        (
            completed(1, "Traceback (most recent call last):\nValueError: PanicException\n"),
            (Outcome.ERROR, 1, None, None, "ValueError: PanicException"),
        ),
    ],
)
def test_classify_constructed(done: Completed, expected: Verdict) -> None:
    assert verdict(done) == expected


def test_a_run_keeps_the_end_of_each_stream_and_its_log() -> None:
    done = Completed(
        argv=("python", "driver.py"),
        returncode=-signal.SIGABRT,
        timed_out=False,
        duration=1.23456,
        stdout_tail="o" * 5000,
        stderr_tail="e" * 9000 + "\nlast",
        truncated=True,
        log_path=Path("/logs/run.log"),
    )
    found = classify_run(done)
    assert found.duration == 1.235
    assert found.stdout_tail == "o" * 4000
    assert len(found.stderr_tail) == 8000 and found.stderr_tail.endswith("\nlast")
    assert found.log == "/logs/run.log" and found.truncated


# --- classify_run on real children ---------------------------------------------------

FAKE_PANIC = (
    "PanicException = type('PanicException', (BaseException,), {'__module__': 'pyo3_runtime'})\n"
    "raise PanicException('Node is unsendable')\n"
)


@pytest.mark.parametrize(
    ("code", "outcome", "exit_status", "signal_", "panic", "exception"),
    [
        ("import os; os.abort()", Outcome.ABORT, None, "SIGABRT", None, None),
        ("import ctypes; ctypes.string_at(0)", Outcome.SEGFAULT, None, "SIGSEGV", None, None),
        ("import sys; sys.exit(3)", Outcome.ERROR, 3, None, None, None),
        ("import os; os._exit(3)", Outcome.ERROR, 3, None, None, None),
        ("print('ok')", Outcome.PASS, 0, None, None, None),
        (
            "raise ValueError('boom')",
            Outcome.ERROR,
            1,
            None,
            None,
            "ValueError: boom",
        ),
        (
            FAKE_PANIC,
            Outcome.PANIC,
            1,
            None,
            "Node is unsendable",
            "pyo3_runtime.PanicException: Node is unsendable",
        ),
        (
            "import os, signal; os.kill(os.getpid(), signal.SIGTERM)",
            Outcome.SIGNAL,
            None,
            "SIGTERM",
            None,
            None,
        ),
        (
            f"import sys; sys.stderr.write({NEW_FORMAT!r}); sys.stderr.flush()\n"
            "import os; os.abort()",
            Outcome.ABORT,
            None,
            "SIGABRT",
            NEW_MESSAGE,
            None,
        ),
    ],
)
def test_classify_real_child(
    code: str,
    outcome: Outcome,
    exit_status: int | None,
    signal_: str | None,
    panic: str | None,
    exception: str | None,
) -> None:
    done = run([sys.executable, "-c", code], env=clean_env(), timeout=20)
    assert verdict(done) == (outcome, exit_status, signal_, panic, exception)


# --- a failure's message when the program printed it to stdout (pytest, many scripts) ----
STDOUT = DATA / "stdout"


def _on_stdout(stdout: str, stderr: str = "") -> Completed:
    return replace(completed(1, stderr), stdout_tail=stdout)


@pytest.mark.parametrize(
    ("saved", "reason"),
    [
        (
            "pytest-collection-error.txt",
            "ModuleNotFoundError: No module named 'typing_extensions_missing'",
        ),
        ("pytest-assertion.txt", "AssertionError: arithmetic"),
    ],
)
def test_a_pytest_failure_on_stdout_is_the_runs_exception(saved: str, reason: str) -> None:
    """Real `pytest -x -q` output (stderr empty): the first `E ...` line says why."""
    run = classify_run(_on_stdout((STDOUT / saved).read_text(encoding="utf-8")))
    assert run.outcome is Outcome.ERROR and run.exception == reason


def test_stdout_reasons_in_order() -> None:
    traceback = "Traceback (most recent call last):\n  File \"x.py\", line 1\nKeyError: 'k'\ndone\n"
    assert stdout_reason(traceback) == "KeyError: 'k'"
    assert (
        stdout_reason("FAILED t.py::test_a - ValueError: v\n")
        == "FAILED t.py::test_a - ValueError: v"
    )
    assert stdout_reason("checking...\nmismatch: got 2\n\n") == "mismatch: got 2"
    assert stdout_reason("") is None


def test_stderr_keeps_precedence_and_a_pass_needs_no_reason() -> None:
    assert classify_run(_on_stdout("E   ValueError: x\n", "some warning\n")).exception is None
    passed = replace(completed(0), stdout_tail="E   ValueError: x\n")
    assert classify_run(passed).exception is None
