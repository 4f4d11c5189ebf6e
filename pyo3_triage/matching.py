"""`--match REGEX`: the crash you mean, told apart from a reproducer failing some other way.

A reproducer that aborts in `tp_traverse` on one release may fail on another with an API
error or an import error; an outcome alone cannot tell the two apart, the evidence can. The
regex is searched in what a failing cell left behind: its note (a compile error, why it was
not run), the compiler's first error, and for each run that did not pass its panic message,
exception and stderr tail. Stdout is left out (a driver's progress prints would match in a
run that failed another way), and a passing run never matches.
"""

from __future__ import annotations

import re

from pyo3_triage.errors import UserError
from pyo3_triage.outcome import Outcome
from pyo3_triage.store.records import Record

# How a matrix cell whose evidence matches is marked (the legend says what it means).
MATCH_MARK = "‡"


def compile_match(text: str | None) -> re.Pattern[str] | None:
    """--match as typed, checked: a Python regular expression (`re.search`, case-sensitive;
    `(?i)` for case-insensitive); None when not given."""
    if text is None:
        return None
    if not text:
        raise UserError("--match is empty; give a regular expression such as 'tp_traverse'")
    try:
        return re.compile(text)
    except re.error as err:
        raise UserError(f"--match {text!r} is not a regular expression ({err})") from None


def evidence(record: Record) -> tuple[str, ...]:
    """The texts --match searches, in the order a reader would look at them."""
    texts = [record.note, record.build.error if record.build and record.build.error else ""]
    for run in record.runs:
        if run.outcome is not Outcome.PASS:
            texts += [run.panic_message or "", run.exception or "", run.stderr_tail]
    return tuple(text for text in texts if text)


def matches(record: Record, pattern: re.Pattern[str]) -> bool:
    """The cell's evidence holds the regex (anywhere, in any of its texts)."""
    return any(pattern.search(text) for text in evidence(record))


def said(record: Record, limit: int = 100) -> str:
    """What the cell said, as the first line of its message, cut to `limit` characters."""
    message = (record.message or "").strip()
    line = message.splitlines()[0] if message else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"
