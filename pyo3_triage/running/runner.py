"""Run a built scenario: check that the extension imports, then run the driver and classify.

The import check is a separate short process so "the module does not even load" (an ABI
accident, a missing symbol) is told apart from "the reproducer crashed".
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from pyo3_triage.evidence import RunDetails
from pyo3_triage.outcome import Outcome
from pyo3_triage.reproducers.reproducer import Reproducer
from pyo3_triage.running.classify import classify_run, panic_message
from pyo3_triage.system import procs

IMPORT_TIMEOUT = 60.0
# Python reports a driver it cannot compile without a "Traceback" header, so the traceback
# rules miss it; its last line still names the error.
_COMPILE_ERROR = re.compile(r"^(?:SyntaxError|IndentationError|TabError)\b.*$", re.MULTILINE)


def driver_env() -> dict[str, str]:
    """What every reproducer runs with: backtraces on, Python's fault handler on, unbuffered."""
    return procs.clean_env(
        RUST_BACKTRACE="1",
        PYTHONFAULTHANDLER="1",
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
    )


def _details(done: procs.Completed, log: Path) -> RunDetails:
    """The classified run, with what only the full log and the whole tail can still tell."""
    classified = classify_run(done)
    panic = classified.panic_message
    if panic is None and classified.outcome.crashed:
        panic = _panic_in_log(log)  # the tail may have scrolled past it
    exception = classified.exception or _compile_error(classified.outcome, done.stderr_tail)
    return replace(classified, panic_message=panic, exception=exception, log=str(log))


def _compile_error(outcome: Outcome, stderr: str) -> str | None:
    if outcome is not Outcome.ERROR:
        return None
    found = _COMPILE_ERROR.findall(stderr)
    return found[-1].rstrip() if found else None


def _panic_in_log(log: Path, limit: int = 1 << 20) -> str | None:
    try:
        with log.open("r", encoding="utf-8", errors="replace") as handle:
            return panic_message(handle.read(limit))
    except OSError:
        return None


def check_import(python: Path, module: str, cwd: Path, log: Path) -> RunDetails | None:
    """None when `module` imports cleanly; otherwise the evidence, as an import-error."""
    done = procs.run(
        [str(python), "-c", f"import {module}"],
        cwd=cwd,
        env=driver_env(),
        timeout=IMPORT_TIMEOUT,
        log_path=log,
        header="# import check",
        append=True,
    )
    if done.returncode == 0:
        return None
    return replace(_details(done, log), outcome=Outcome.IMPORT_ERROR)


def run_driver(python: Path, scenario: Reproducer, cwd: Path, log: Path) -> RunDetails:
    done = procs.run(
        scenario.argv(python),
        cwd=cwd,
        env=driver_env(),
        timeout=scenario.timeout,
        log_path=log,
        header=f"# scenario {scenario.name}, timeout {scenario.timeout:g}s",
        append=True,
    )
    return _details(done, log)
