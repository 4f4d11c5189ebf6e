"""One virtualenv per (PyO3 release, interpreter) cell, made and filled with uv.

uv makes a venv in tens of milliseconds and installs a local wheel without pip, which is
what keeps "run again, nothing changed" fast. A marker per module records which build is
installed, so an unchanged build is never reinstalled. Each function takes the venv's cache
area; the caller holds it in use (see `system/areas.py`) for as long as the venv is needed.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Sequence
from pathlib import Path

from packaging.utils import canonicalize_name

from pyo3_triage import hashes
from pyo3_triage.interpreters import Interpreter
from pyo3_triage.system import procs
from pyo3_triage.system.areas import Area, touch
from pyo3_triage.system.paths import write_atomic

VENV_TIMEOUT = 120.0


class EnvironmentError_(Exception):
    """The venv could not be made or the wheel not installed; the cell is untestable."""


def _uv_env() -> dict[str, str]:
    # Never let uv download an interpreter or read a user's config: the cell names its python.
    return procs.clean_env(UV_PYTHON_DOWNLOADS="never", UV_NO_CONFIG="1")


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def ensure(uv_bin: str, area: Area, interp: Interpreter, log: Path) -> Path:
    """The venv's python, creating the venv on first use."""
    venv = area.path
    with area.writing():
        python = venv_python(venv)
        if python.exists():
            touch(venv)
            return python
        make(uv_bin, area, interp, log)
        return python


def make(uv_bin: str, area: Area, interp: Interpreter, log: Path) -> None:
    """Make the venv beside its place and move it there when uv is done: a `uv venv` killed
    halfway leaves a `.partial` (made again next time), never a venv that looks whole."""
    partial = area.making
    shutil.rmtree(partial, ignore_errors=True)
    done = procs.run(
        [uv_bin, "venv", "--quiet", "--python", str(interp.executable), str(partial)],
        env=_uv_env(),
        timeout=VENV_TIMEOUT,
        log_path=log,
        append=True,
    )
    if done.returncode != 0 or not venv_python(partial).exists():
        shutil.rmtree(partial, ignore_errors=True)
        raise EnvironmentError_(f"could not create a venv for {interp.executable} (see {log})")
    # The activate scripts name the folder uv made (nothing here runs them; a person may).
    for script in (partial / "bin").glob("activate*"):
        with contextlib.suppress(OSError, UnicodeDecodeError):
            text = script.read_text(encoding="utf-8")
            script.write_text(text.replace(str(partial), str(area.path)), encoding="utf-8")
    shutil.rmtree(area.path, ignore_errors=True)  # a venv half made in place by an older run
    partial.replace(area.path)


def install(
    uv_bin: str,
    area: Area,
    wheel: str,
    module: str,
    build_key: str,
    log: Path,
    *,
    fresh: bool = False,
) -> None:
    """Install `wheel` unless the same build of `module` is already there (`fresh`: it was
    just built again, by --rerun, and replaces the one there)."""
    args = ["--no-deps", "--no-index", "--reinstall", wheel]
    if fresh:
        (area.path / f".pyo3-triage-{module}").unlink(missing_ok=True)
    _install_once(
        uv_bin,
        area,
        f".pyo3-triage-{module}",
        build_key,
        args,
        log,
        Path(wheel).name,
        VENV_TIMEOUT,
    )


def requirements_tag(requirements: Sequence[str]) -> str:
    """Part of a venv's name: cells with other extra requirements get venvs of their own."""
    return "-r" + hashes.digest("\0".join(requirements), hashes.TAG)


INSTALLED = ".pyo3-triage-installed"  # in a venv: what its requirements resolved to


def install_requirements(
    uv_bin: str,
    area: Area,
    requirements: Sequence[str],
    log: Path,
    pins: Path,
    wheel: str = "",
) -> tuple[str, ...]:
    """Install what the run needs besides the extension (a user crate's own dependencies,
    `--with`, `--extra`), once (from PyPI: this may take a while the first time); what they
    resolved to ("anyio==4.6.0", ...), for the record.

    The first resolve for these requirements and this interpreter is kept in `pins`, and
    every later venv is held to it (uv's constraints), so a venv made again after eviction
    holds the same versions and a rerun is the same run."""
    args = [*requirements, *(["--constraint", str(pins)] if pins.is_file() else [])]
    what = ", ".join(requirements)
    marker = ".pyo3-triage-requirements"
    _install_once(uv_bin, area, marker, "\n".join(requirements), args, log, what, VENV_TIMEOUT * 5)
    installed = area.path / INSTALLED
    try:
        return tuple(installed.read_text(encoding="utf-8").split())
    except OSError:
        pass
    with area.writing():
        done = _uv_pip(uv_bin, area, ["freeze"], log, VENV_TIMEOUT)
        if done.returncode != 0:
            raise EnvironmentError_(f"could not list what {what} installed (see {log})")
        frozen = resolved(done.stdout_tail, Path(wheel).name.split("-")[0])
        write_atomic(installed, "".join(f"{line}\n" for line in frozen))
        if not pins.is_file():
            pins.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(pins, "".join(f"{line}\n" for line in frozen))
    return frozen


def resolved(freeze: str, own: str) -> tuple[str, ...]:
    """`uv pip freeze`'s "name==version" lines, without the extension's own distribution
    (`own`, its wheel's name) or anything installed from a path or URL."""
    own_name = canonicalize_name(own) if own else ""
    found = []
    for line in freeze.splitlines():
        name, sep, _ = line.strip().partition("==")
        if sep and " @ " not in line and canonicalize_name(name) != own_name:
            found.append(line.strip())
    return tuple(sorted(found))


def _install_once(
    uv_bin: str,
    area: Area,
    marker_name: str,
    wanted: str,
    args: Sequence[str],
    log: Path,
    what: str,
    timeout: float,
) -> None:
    """`uv pip install ARGS` into the venv unless its marker says `wanted` is already there."""
    marker = area.path / marker_name
    with area.writing():
        try:
            if marker.read_text(encoding="utf-8").strip() == wanted.strip():
                return
        except OSError:
            pass
        done = _uv_pip(uv_bin, area, ["install", "--quiet", *args], log, timeout)
        if done.returncode != 0:
            raise EnvironmentError_(f"could not install {what} (see {log})")
        write_atomic(marker, wanted + "\n")


def _uv_pip(
    uv_bin: str, area: Area, args: Sequence[str], log: Path, timeout: float
) -> procs.Completed:
    """`uv pip COMMAND ARGS` for the venv's python, its output appended to `log`."""
    command, *rest = args
    python = str(venv_python(area.path))
    return procs.run(
        [uv_bin, "pip", command, "--python", python, *rest],
        env=_uv_env(),
        timeout=timeout,
        log_path=log,
        append=True,
    )
