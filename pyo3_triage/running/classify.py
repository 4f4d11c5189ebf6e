"""Turn what a driver run left behind into an `Outcome` plus the evidence behind it.

Pure functions of a `Completed`: no processes, no files, so every rule is unit-testable
on text copied from real crashes.
"""

from __future__ import annotations

import re

from pyo3_triage.evidence import RunDetails
from pyo3_triage.outcome import Outcome
from pyo3_triage.system.procs import Completed

__all__ = ["classify_run", "last_exception", "missing_module", "panic_message", "stdout_reason"]

_MAX_MESSAGE_CHARS = 4000
KEPT_STDOUT = 4000  # characters of each stream a record keeps
KEPT_STDERR = 8000
_MAX_OLD_FORMAT_LINES = 200  # how far an old-format quoted message may run on

# "thread 'main' panicked at ..." and, since Rust 1.80-ish, "thread 'main' (2806) panicked at ..."
_PANIC_HEAD = re.compile(r"thread '(?P<thread>.*?)'(?: \(\d+\))? panicked at (?P<rest>.*)$")
# Rust >= 1.73: the location ends the line with a colon and the message follows on new lines.
_NEW_LOCATION = re.compile(r".+:\d+:\d+:")
# Older Rust: the quoted message, then the location, possibly across several lines.
_OLD_TAIL = re.compile(r"'(?P<message>.*)', \S+:\d+:\d+", re.DOTALL)
_MESSAGE_STOPS = (
    "  left:",
    " right:",
    "stack backtrace:",
    "note:",
    "Traceback (most recent call last):",
    "fatal runtime error:",
)
_TRACEBACK = "Traceback (most recent call last):"
# Tracebacks Python prints without the exception ending the process.
_NOT_FATAL = ("Exception ignored in", "Exception in thread")


def _message_lines(lines: list[str]) -> str:
    """Keep the message's first line and what follows up to the panic's trailing notes."""
    kept = lines[:1]
    for line in lines[1:]:
        if not line.strip() or line.startswith(_MESSAGE_STOPS) or _PANIC_HEAD.search(line):
            break
        kept.append(line)
    return "\n".join(kept).strip()[:_MAX_MESSAGE_CHARS]


def panic_message(stderr: str) -> str | None:
    """The message of the first Rust panic in `stderr`, in the old or the new format.

    The first panic is the cause; later ones are usually "panic in a destructor during
    cleanup" and similar consequences.
    """
    lines = stderr.splitlines()
    for index, line in enumerate(lines):
        head = _PANIC_HEAD.search(line)
        if head is None:
            continue
        rest = head.group("rest").rstrip()
        if _NEW_LOCATION.fullmatch(rest):
            return _message_lines(lines[index + 1 :])
        if rest.startswith("'"):
            following = lines[index + 1 : index + 1 + _MAX_OLD_FORMAT_LINES]
            for end in range(len(following) + 1):
                old = _OLD_TAIL.fullmatch("\n".join([rest, *following[:end]]))
                if old is not None:
                    return _message_lines(old.group("message").split("\n"))
            return _message_lines([rest[1:]])
        return _message_lines([rest])
    return None


def last_exception(stderr: str) -> str | None:
    """The exception line of the last fatal Python traceback, e.g. "ValueError: boom".

    Only the first line of a multi-line message is kept. Tracebacks Python reports without
    dying (exceptions ignored in `__del__`, uncaught in a thread) are skipped.
    """
    lines = stderr.splitlines()
    found: str | None = None
    for index, line in enumerate(lines):
        if line.rstrip() != _TRACEBACK:
            continue
        if index > 0 and lines[index - 1].startswith(_NOT_FATAL):
            continue
        for candidate in lines[index + 1 :]:
            if candidate and not candidate[0].isspace():
                found = candidate.rstrip()
                break
    return found


_PYTEST_ERROR = re.compile(r"^E\s{2,}(\S.*)$")  # pytest's "E   ValueError: boom" lines
_PYTEST_SUMMARY = re.compile(r"^(?:FAILED|ERROR) \S.*$")


def stdout_reason(stdout: str) -> str | None:
    """Why a run that wrote nothing to stderr failed, from its stdout (pytest and many scripts
    print failures there): pytest's first `E ...` line, else its first `FAILED`/`ERROR`
    summary line, else a traceback's exception line, else the last non-empty line."""
    lines = [line.rstrip() for line in stdout.splitlines()]
    for pattern in (_PYTEST_ERROR, _PYTEST_SUMMARY):
        found = next((m for line in lines if (m := pattern.match(line))), None)
        if found is not None:
            return (found.group(1) if found.groups() else found.group(0))[:_MAX_MESSAGE_CHARS]
    if (exception := last_exception(stdout)) is not None:
        return exception
    filled = [line.strip() for line in lines if line.strip()]
    return filled[-1][:_MAX_MESSAGE_CHARS] if filled else None


_MISSING = re.compile(r"^(?:ModuleNotFoundError|ImportError): No module named '([^']+)'")


def missing_module(exception: str | None) -> str | None:
    """The module an import could not find ("anyio" of "ModuleNotFoundError: No module named
    'anyio'"), or None: any other exception, e.g. a name a module does not have."""
    found = _MISSING.match(exception or "")
    return found.group(1) if found else None


def _exception_type(exception: str) -> str:
    return exception.split(":", 1)[0].strip()


def _is_panic_exception(exception: str | None) -> bool:
    if exception is None:
        return False
    name = _exception_type(exception)
    return name == "PanicException" or name.endswith(".PanicException")


def classify_run(completed: Completed) -> RunDetails:
    """Apply the outcome rules: timeout, then the killing signal, then the exit status.

    The record keeps the end of each stream (the whole output is in the log)."""
    signal, exit_status = completed.signal, completed.exit_status
    exception = last_exception(completed.stderr_tail)
    message = panic_message(completed.stderr_tail)
    if message is None and exception is not None and _is_panic_exception(exception):
        message = exception.split(":", 1)[1].strip() if ":" in exception else ""

    if completed.timed_out:
        outcome = Outcome.TIMEOUT
    elif signal == "SIGABRT":
        outcome = Outcome.ABORT
    elif signal == "SIGSEGV":
        outcome = Outcome.SEGFAULT
    elif signal is not None:
        outcome = Outcome.SIGNAL
    elif exit_status == 0:
        outcome = Outcome.PASS
    elif _is_panic_exception(exception):
        outcome = Outcome.PANIC
    else:
        outcome = Outcome.ERROR
    if outcome is not Outcome.PASS and exception is None and not completed.stderr_tail.strip():
        exception = stdout_reason(completed.stdout_tail)
    return RunDetails(
        outcome=outcome,
        exit_status=exit_status,
        signal=signal,
        panic_message=message,
        exception=exception,
        duration=round(completed.duration, 3),
        stdout_tail=completed.stdout_tail[-KEPT_STDOUT:],
        stderr_tail=completed.stderr_tail[-KEPT_STDERR:],
        log=str(completed.log_path) if completed.log_path else None,
        truncated=completed.truncated,
    )
