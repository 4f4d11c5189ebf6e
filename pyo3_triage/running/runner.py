"""Run a built scenario: check that the extension imports, then run the driver and classify.

The import check is a separate short process so "the module does not even load" (an ABI
accident, a missing symbol) is told apart from "the reproducer crashed".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
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


# Imports the module as a run from `folder` would (its folder first on sys.path) and prints
# the first file of the module's package that is not the venv's: the source it would import.
_WHERE_FROM = """
import importlib, importlib.util, os, sys
sys.path[0] = {folder!r}
venv = os.path.realpath(sys.prefix) + os.sep
top = {module!r}.split(".")[0]
def foreign(path):
    return bool(path) and not os.path.realpath(path).startswith(venv)
try:
    importlib.import_module({module!r})
except BaseException:
    pass
found = [getattr(m, "__file__", None) for n, m in list(sys.modules.items())
         if n == top or n.startswith(top + ".")]
if top not in sys.modules:
    try:
        spec = importlib.util.find_spec(top)
    except BaseException:
        spec = None
    found.append(spec.origin if spec is not None and spec.has_location else None)
print(next((path for path in found if foreign(path)), ""))
"""


def first_on_path(argv: Sequence[str], python: Path, cwd: Path) -> Path:
    """The folder Python puts first on `sys.path` for a command: `python SCRIPT`'s own
    folder, else the current one (`-c`, `-m`, a command that is not the cell's python)."""
    first, *rest = argv
    if first != str(python):
        return cwd
    words = iter(rest)
    for word in words:
        if word in ("-X", "-W", "--check-hash-based-pycs"):
            next(words, None)
        elif word in ("-m", "-c", "-"):
            break
        elif not word.startswith("-"):
            script = Path(word).expanduser()
            return (script if script.is_absolute() else cwd / script).resolve().parent
    return cwd


def shadowing(python: Path, module: str, folder: Path, cwd: Path, log: Path) -> str | None:
    """The file a run from `folder` would import `module`'s package from instead of the
    installed wheel (a source package or module beside the script), or None."""
    done = procs.run(
        [str(python), "-c", _WHERE_FROM.format(folder=str(folder), module=module)],
        cwd=cwd,
        env=driver_env(),
        timeout=IMPORT_TIMEOUT,
        log_path=log,
        header=f"# where {folder} imports {module} from",
        append=True,
    )
    lines = done.stdout_tail.strip().splitlines() if done.returncode == 0 else []
    return lines[-1] if lines and lines[-1] else None
