"""Turn what a driver run left behind into an `Outcome` plus the evidence behind it.

Pure functions of a `Completed`: no processes, no files, so every rule is unit-testable
on text copied from real crashes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .outcome import Outcome
from .procs import Completed, signal_name

__all__ = ["Classification", "classify_run", "last_exception", "panic_message", "signal_name"]

_MAX_MESSAGE_CHARS = 4000
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


@dataclass(frozen=True)
class Classification:
    """The outcome of one driver run and the evidence a reader needs to trust it."""

    outcome: Outcome
    exit_status: int | None
    signal: str | None
    panic_message: str | None  # the first Rust panic message, or a PanicException's message
    exception: str | None  # the exception line ending the last traceback: "ValueError: boom"


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


def _exception_type(exception: str) -> str:
    return exception.split(":", 1)[0].strip()


def _is_panic_exception(exception: str | None) -> bool:
    if exception is None:
        return False
    name = _exception_type(exception)
    return name == "PanicException" or name.endswith(".PanicException")


def classify_run(completed: Completed) -> Classification:
    """Apply the outcome rules: timeout, then the killing signal, then the exit status."""
    returncode = completed.returncode
    signal: str | None = None
    if not completed.timed_out:
        signal = completed.signal
        if signal is None and returncode is not None:
            signal = signal_name(returncode)
    exit_status = completed.exit_status
    if exit_status is None and returncode is not None and returncode >= 0:
        exit_status = returncode

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
    return Classification(
        outcome=outcome,
        exit_status=exit_status,
        signal=signal,
        panic_message=message,
        exception=exception,
    )
