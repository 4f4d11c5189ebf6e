"""Run a built scenario: check that the extension imports, then run the driver and classify.

The import check is a separate short process so "the module does not even load" (an ABI
accident, a missing symbol) is told apart from "the reproducer crashed".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from pyo3_triage.evidence import RunDetails
from pyo3_triage.outcome import Outcome
from pyo3_triage.reproducers.reproducer import PYTHON_VALUE_OPTIONS, Reproducer
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


# For each name: whether the venv holds it (the wheel; without the current folder), then the
# first file or folder a run from `folder` (first on sys.path) imports it from that is neither
# the venv's nor the interpreter's own, or "".
_WHERE_FROM = """
import importlib, importlib.util, os, sys
homes = tuple(os.path.realpath(p) + os.sep for p in (sys.prefix, sys.base_prefix))
def foreign(path):
    return bool(path) and not os.path.realpath(path).startswith(homes)
def places(spec):
    if spec is None:
        return []
    found = [spec.origin] if spec.has_location else []
    return found + list(spec.submodule_search_locations or [])
names = {names!r}
held = {{}}
sys.path.pop(0)  # the current folder: the venv alone
for name in names:
    try:
        spec = importlib.util.find_spec(name)
        held[name] = spec is not None
    except BaseException:
        held[name] = False
sys.path.insert(0, {folder!r})
importlib.invalidate_caches()
for name in names:
    try:
        importlib.import_module({module!r} if name == {module!r}.split(".")[0] else name)
    except BaseException:
        pass
    module = sys.modules.get(name)
    if module is not None:
        found = [getattr(module, "__file__", None), *list(getattr(module, "__path__", []))]
    else:
        try:
            found = places(importlib.util.find_spec(name))
        except BaseException:
            found = []
    print(name, held[name], next((p for p in found if foreign(p)), ""), sep="\\t")
"""


@dataclass(frozen=True)
class Shadow:
    """A name a run imports from the project's source instead of the installed wheel."""

    name: str  # e.g. "mypkg"
    path: str  # the file or folder imported
    in_wheel: bool  # the venv holds the name too (the source only came first)


def first_on_path(argv: Sequence[str], python: Path, cwd: Path) -> Path:
    """The folder Python puts first on `sys.path` for a command: `python SCRIPT`'s own
    folder, else the current one (`-c`, `-m`, a command that is not the cell's python)."""
    first, *rest = argv
    if first != str(python):
        return cwd
    words = iter(rest)
    for word in words:
        if word in PYTHON_VALUE_OPTIONS:
            next(words, None)
        elif word in ("-m", "-c", "-"):
            break
        elif not word.startswith("-"):
            script = Path(word).expanduser()
            return (script if script.is_absolute() else cwd / script).resolve().parent
    return cwd


def shadowing(
    python: Path, module: str, names: Sequence[str], folder: Path, cwd: Path, log: Path
) -> Shadow | None:
    """The first of `names` (the project's package names; `module`'s package first) that a
    run with `folder` first on sys.path would import from outside the venv, or None."""
    code = _WHERE_FROM.format(folder=str(folder), module=module, names=list(names))
    done = procs.run(
        [str(python), "-c", code],
        cwd=cwd,
        env=driver_env(),
        timeout=IMPORT_TIMEOUT,
        log_path=log,
        header=f"# where {folder} imports {', '.join(names)} from",
        append=True,
    )
    for line in done.stdout_tail.splitlines() if done.returncode == 0 else []:
        name, held, path = (line.split("\t") + ["", ""])[:3]
        if name in names and path:
            return Shadow(name, path, held == "True")
    return None
