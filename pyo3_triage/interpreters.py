"""Find the CPython interpreters on this machine and pick the ones a run asks for.

Users should not have to activate anything: interpreters are found on PATH, in pyenv's
versions folder and in uv's managed-python folder, then *run* once to learn what they
really are, because file names lie (symlinks, `python3` meaning anything, pyenv shims
that fail for versions that are installed but not activated).

A virtual environment's python is taken for what it runs on, its base installation: a
project's `.venv` may be gone tomorrow, and cells make venvs of their own anyway.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from pyo3_triage.errors import UserError
from pyo3_triage.system import procs
from pyo3_triage.system.paths import write_atomic

# Source priority when one interpreter is reachable several ways: the first one wins.
SOURCES: tuple[str, ...] = ("PATH", "pyenv", "uv", "explicit")

# Names worth probing. `python3.13t` is the free-threaded build's name; `-config`,
# `-gdb.py` and `python3.6m` hard links never match.
# `python3.11d` and Debian's `python3.11-dbg` are debug builds; `pypy3`, `pypy3.9` PyPy.
_PATH_NAME = re.compile(r"python(3(\.\d+t?)?)?|python3\.\d+(d|-dbg)|pypy3(\.\d+)?")
_MANAGED_NAME = re.compile(r"python3(\.\d+t?)?|pypy3(\.\d+)?")

# What the matrix runs: CPython 3 (release, debug or free-threaded builds) and PyPy 3.
IMPLEMENTATIONS = ("cpython", "pypy")

# Variables that would make a probed interpreter load someone else's stdlib or site.
_STRIPPED_ENV = ("PYTHONHOME", "PYTHONPATH", "VIRTUAL_ENV", "PYTHONSTARTUP", "__PYVENV_LAUNCHER__")

# Valid under Python 2.7 and every 3.x: the answer must come back even from an
# interpreter we are going to reject. The cwd is dropped from sys.path first so a
# stray `json.py` in the working directory cannot answer for the stdlib.
# Inside a venv (sys.prefix is not the base prefix; `real_prefix` for virtualenv < 20) it
# also names where the base installation's interpreter may be, best guess first: the file a
# symlinked venv's python points to, `sys._base_executable` (3.11+ reads pyvenv.cfg's home),
# then the usual names in the base prefix's bin folder.
_PROBE_SCRIPT = """\
import sys
sys.path[:] = [p for p in sys.path if p not in ('', '.')]
import json, os, platform, sysconfig
implementation = platform.python_implementation().lower()
exe = sys.executable or ''
base = getattr(sys, 'real_prefix', None) or getattr(sys, 'base_prefix', sys.prefix)
bases = []
if exe and os.path.realpath(base) != os.path.realpath(sys.prefix):
    real = os.path.realpath(exe)
    if not real.startswith(os.path.join(os.path.realpath(sys.prefix), '')):
        bases.append(real)
    bases.append(getattr(sys, '_base_executable', '') or '')
    minor = '%d.%d' % sys.version_info[:2]
    stem = 'pypy' if implementation == 'pypy' else 'python'
    names = [stem + minor + getattr(sys, 'abiflags', ''), stem + minor, stem + minor[0], stem]
    bases += [os.path.join(base, 'bin', name) for name in names]
print(json.dumps({
    'version_info': list(sys.version_info[:5]),
    'implementation': implementation,
    'gil_disabled': bool(sysconfig.get_config_var('Py_GIL_DISABLED')),
    'debug': bool(sysconfig.get_config_var('Py_DEBUG')),
    'soabi': sysconfig.get_config_var('SOABI') or '',
    'executable': exe,
    'venv_bases': [b for b in bases if b and b != exe],
}))
"""

_RELEASE_LEVELS = {"alpha": "a", "beta": "b", "candidate": "rc", "final": ""}

_PASS_PATH = "pass the path of a python executable"
ACCEPTED_FORMS = (
    "3.12, 3.13t, 3.11d, pp3.9, 3.12.1, 3.8..3.13, 3.11,3.12 or a path to a python executable"
)


@dataclass(frozen=True, order=True)
class Interpreter:
    """One working interpreter, described by what it said about itself."""

    version: Version
    executable: Path  # absolute path as found: the one we call
    realpath: Path  # symlinks resolved: two candidates with the same realpath are one
    implementation: str
    free_threaded: bool
    soabi: str
    source: str
    debug: bool = False  # Py_DEBUG: another build, never a stand-in for the release build

    @property
    def build(self) -> str:
        """Which build it is, for its support window: "pypy", "free-threaded", "debug" or
        "cpython" (a release build with the GIL)."""
        if self.implementation == "pypy":
            return "pypy"
        if self.free_threaded:
            return "free-threaded"
        return "debug" if self.debug else "cpython"

    @property
    def _marks(self) -> tuple[str, str]:
        prefix = "pp" if self.implementation == "pypy" else ""
        return prefix, ("t" if self.free_threaded else "") + ("d" if self.debug else "")

    @property
    def python_label(self) -> str:
        """Matrix key: "3.12"; "3.13t" free-threaded, "3.11d" debug, "pp3.9" PyPy (each a
        different build, its own column)."""
        prefix, suffix = self._marks
        return f"{prefix}{self.version.major}.{self.version.minor}{suffix}"

    @property
    def name(self) -> str:
        """For sentences: "CPython 3.13.0t", "CPython 3.11.2d", "PyPy 3.9.16"."""
        implementation = "PyPy" if self.implementation == "pypy" else "CPython"
        return f"{implementation} {self.version}{self._marks[1]}"

    @property
    def label(self) -> str:
        """Exact version for messages, e.g. "3.12.1", "3.13.0t", "3.11.2d" or "pp3.9.16"."""
        prefix, suffix = self._marks
        return f"{prefix}{self.version}{suffix}"


# --- finding candidates -------------------------------------------------------------------


def _executables(directory: Path, pattern: re.Pattern[str]) -> list[Path]:
    """Executable files in `directory` whose whole name matches `pattern`, sorted by name."""
    try:
        entries = sorted(directory.iterdir())
    except OSError:
        return []
    return [
        entry
        for entry in entries
        if pattern.fullmatch(entry.name) and entry.is_file() and os.access(entry, os.X_OK)
    ]


def _managed_bins(root: Path) -> list[Path]:
    """`<root>/*/bin` folders, the layout shared by pyenv versions and uv installs."""
    try:
        return sorted(child / "bin" for child in root.iterdir() if (child / "bin").is_dir())
    except OSError:
        return []


def _uv_root(env: Mapping[str, str], home: Path) -> Path:
    if env.get("UV_PYTHON_INSTALL_DIR"):
        return Path(env["UV_PYTHON_INSTALL_DIR"]).expanduser()
    if env.get("XDG_DATA_HOME"):
        return Path(env["XDG_DATA_HOME"]) / "uv" / "python"
    return home / ".local" / "share" / "uv" / "python"


def candidate_paths(
    env: Mapping[str, str] | None = None, home: Path | None = None
) -> list[tuple[Path, str]]:
    """Every file worth probing with its source, in priority order, one per realpath.

    Shim folders are skipped: pyenv shims fail for versions that are not activated and
    otherwise answer for whichever version is, so they say nothing about the file name.
    Relative PATH entries are skipped too: what they find depends on the working folder.
    """
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    found: list[tuple[Path, str]] = []
    for entry in env.get("PATH", "").split(os.pathsep):
        directory = Path(entry)
        if entry and directory.is_absolute() and "shims" not in directory.parts:
            found += [(path, "PATH") for path in _executables(directory, _PATH_NAME)]
    pyenv_root = Path(env["PYENV_ROOT"]) if env.get("PYENV_ROOT") else home / ".pyenv"
    for bin_dir in _managed_bins(pyenv_root / "versions"):
        found += [(path, "pyenv") for path in _executables(bin_dir, _MANAGED_NAME)]
    for bin_dir in _managed_bins(_uv_root(env, home)):
        found += [(path, "uv") for path in _executables(bin_dir, _MANAGED_NAME)]

    seen: set[Path] = set()
    unique: list[tuple[Path, str]] = []
    for path, source in found:
        real = path.resolve()
        if real not in seen:
            seen.add(real)
            unique.append((path, source))
    return unique


# --- probing ------------------------------------------------------------------------------


def _parse_probe(
    stdout: str, executable: Path, source: str
) -> tuple[Interpreter, list[Path]] | None:
    """Turn the probe script's JSON line into an Interpreter and, when it runs in a venv, the
    places its base installation's interpreter may be; None for anything unexpected."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    if not lines:
        return None
    try:
        data = json.loads(lines[-1])
        bases = [Path(str(path)) for path in data.get("venv_bases", [])]
        major, minor, micro, level, serial = data["version_info"]
        version = Version(f"{major}.{minor}.{micro}{_RELEASE_LEVELS[level]}")
        if level != "final":
            version = Version(f"{version}{serial}")
        implementation = str(data["implementation"])
        free_threaded = bool(data["gil_disabled"])
        debug = bool(data.get("debug", False))
        soabi = str(data["soabi"])
        reported = str(data["executable"])
    except (ValueError, KeyError, TypeError, InvalidVersion):
        return None
    # A wrapper script resolves to itself; the interpreter it started knows the real file.
    real = Path(reported).resolve() if reported else executable.resolve()
    found = Interpreter(
        version, executable, real, implementation, free_threaded, soabi, source, debug
    )
    return found, bases


def _ask(executable: Path, source: str, timeout: float) -> tuple[Interpreter, list[Path]] | None:
    env = {key: value for key, value in os.environ.items() if key not in _STRIPPED_ENV}
    done = procs.run([str(executable), "-E", "-s", "-c", _PROBE_SCRIPT], env=env, timeout=timeout)
    if done.returncode != 0 or done.timed_out:
        return None
    return _parse_probe(done.stdout_tail, executable, source)


def _same_build(one: Interpreter, other: Interpreter) -> bool:
    return (one.version, one.implementation, one.soabi, one.free_threaded, one.debug) == (
        other.version,
        other.implementation,
        other.soabi,
        other.free_threaded,
        other.debug,
    )


def probe(executable: Path, source: str, timeout: float = 10.0) -> Interpreter | None:
    """Run `executable` once and ask what it is; None if it fails, hangs or talks nonsense.

    A venv's python answers as its base installation (the first of the places it names
    that runs as the same build outside any venv): builds, cell venvs and records then name
    an interpreter that outlives the venv, and the venv and its base are one column. A venv
    whose base cannot be found is kept as it is: it still runs.
    """
    answer = _ask(executable, source, timeout)
    if answer is None:
        return None
    found, bases = answer
    for base in dict.fromkeys(bases):
        if not base.is_absolute() or not base.is_file():
            continue
        again = _ask(base, source, timeout)
        if again is not None and not again[1] and _same_build(again[0], found):
            return again[0]
    return found


class Remembered:
    """Probe answers kept in a file (`memo`), each with the identity of the file its
    candidate resolves to (inode, size, mtime): an interpreter is run again only when that
    file changed, so finding a dozen interpreters costs a dozen `stat` calls."""

    def __init__(self, memo: Path, probe: Callable[[Path, str], Interpreter | None]) -> None:
        self.memo, self.probe, self.changed = memo, probe, False
        try:
            known = json.loads(memo.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            known = {}
        self.known: dict[str, Any] = known if isinstance(known, dict) else {}

    def __call__(self, executable: Path, source: str) -> Interpreter | None:
        try:
            real = executable.resolve()
            stat = real.stat()
        except OSError:
            return None
        identity = [_MEMO_FORMAT, str(real), stat.st_ino, stat.st_size, stat.st_mtime_ns]
        kept = self.known.get(str(executable))
        if isinstance(kept, dict) and kept.get("identity") == identity:
            with contextlib.suppress(ValueError, KeyError, TypeError, InvalidVersion):
                known = _from_memo(kept["answer"], source)
                if known.executable.is_file():  # a venv's base may be gone: ask again
                    return known
        found = self.probe(executable, source)
        if found is not None:  # a failure may be of the moment: asked again next time
            self.known[str(executable)] = {"identity": identity, "answer": _to_memo(found)}
            self.changed = True
        return found

    def save(self) -> None:
        if self.changed:
            with contextlib.suppress(OSError):  # a memo that cannot be kept costs time only
                write_atomic(self.memo, json.dumps(self.known, indent=1, sort_keys=True) + "\n")


# 2: answers say whether the build is a debug build; 3: a venv's python answers as its base
# installation, so each answer names the file to call.
_MEMO_FORMAT = 3


def _to_memo(found: Interpreter) -> dict[str, Any]:
    return {
        "executable": str(found.executable),
        "version": str(found.version),
        "realpath": str(found.realpath),
        "implementation": found.implementation,
        "free_threaded": found.free_threaded,
        "soabi": found.soabi,
        "debug": found.debug,
    }


def _from_memo(data: dict[str, Any], source: str) -> Interpreter:
    return Interpreter(
        Version(str(data["version"])),
        Path(str(data["executable"])),
        Path(str(data["realpath"])),
        str(data["implementation"]),
        bool(data["free_threaded"]),
        str(data["soabi"]),
        source,
        bool(data["debug"]),
    )


def discover(
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
    probe: Callable[[Path, str], Interpreter | None] = probe,
    memo: Path | None = None,
) -> list[Interpreter]:
    """All working CPython 3 and PyPy 3 interpreters, one per realpath, sorted by version. With a
    `memo` file, an interpreter already probed is not run again while its file is unchanged.

    Probing is process start-up, not CPU work, so a small thread pool hides most of it.
    """
    candidates = candidate_paths(env, home)
    asked = Remembered(memo, probe) if memo is not None else None
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda item: (asked or probe)(*item), candidates))
    if asked is not None:
        asked.save()
    seen: set[Path] = set()
    kept: list[Interpreter] = []
    for interpreter in answers:  # candidate order is source priority
        if interpreter is None or interpreter.realpath in seen:
            continue
        if interpreter.implementation in IMPLEMENTATIONS and interpreter.version.major == 3:
            seen.add(interpreter.realpath)
            kept.append(interpreter)
    return sorted(kept)


# --- selecting ----------------------------------------------------------------------------

# `3.12`, `3.13t`, `3.11d`, `pp3.9` (or `pypy3.9`), each with an optional patch: `3.12.1`.
_NAMED = re.compile(r"(?P<pypy>pp|pypy)?3\.(?P<minor>\d+)(?:\.(?P<patch>\d+))?(?P<t>t?)(?P<d>d?)")
_RANGE = re.compile(r"3\.(\d+)\.\.3\.(\d+)")


def _preference(interpreter: Interpreter) -> tuple[Version, int, str]:
    """Sort key for picking one of several: newest patch, then source priority."""
    rank = SOURCES.index(interpreter.source) if interpreter.source in SOURCES else len(SOURCES)
    return (interpreter.version, -rank, str(interpreter.executable))


def _newest(found: Sequence[Interpreter], minor: int, label: str = "") -> Interpreter | None:
    """The newest of one minor and build (`label`: its column, "3.13t"; default the release
    build with the GIL)."""
    wanted = label or f"3.{minor}"
    matching = [i for i in found if i.python_label == wanted]
    return max(matching, key=_preference) if matching else None


def _named(match: re.Match[str], found: Sequence[Interpreter]) -> Interpreter | None:
    """The interpreter an item such as `3.12`, `3.11d`, `pp3.9` or `3.12.1` names."""
    prefix = "pp" if match["pypy"] else ""
    label = f"{prefix}3.{match['minor']}{match['t']}{match['d']}"
    if match["patch"] is None:
        return _newest(found, int(match["minor"]), label)
    wanted = Version(f"3.{match['minor']}.{match['patch']}")
    exact = [i for i in found if i.python_label == label and i.version == wanted]
    return max(exact, key=_preference) if exact else None


def _no_match(item: str, found: Sequence[Interpreter]) -> UserError:
    labels = ", ".join(i.label for i in sorted(found, key=lambda i: (i.version, i.python_label)))
    return UserError(
        f"no interpreter matches {item!r} (found {labels or 'none'}); "
        "install it (e.g. `pyenv install` or `uv python install`) or pass a path to it"
    )


def _explicit(
    item: str, probe: Callable[[Path, str], Interpreter | None], notify: Callable[[str], None]
) -> Interpreter:
    path = Path(item).expanduser()
    if not path.exists():
        raise UserError(f"interpreter {item!r} does not exist; {_PASS_PATH}")
    if not path.is_file():
        raise UserError(f"interpreter {item!r} is not a file; {_PASS_PATH}")
    interpreter = probe(path.absolute(), "explicit")
    if interpreter is None:
        raise UserError(f"{item!r} did not run as a Python interpreter; pass a working CPython 3")
    if interpreter.implementation not in IMPLEMENTATIONS or interpreter.version.major != 3:
        raise UserError(
            f"{item!r} is {interpreter.implementation} {interpreter.version}, "
            "not CPython 3 or PyPy 3; pass one of those"
        )
    if interpreter.executable != path.absolute():  # probe took a venv's python for its base
        notify(
            f"{item} is a virtual environment's python: its base installation "
            f"{interpreter.executable} ({interpreter.name}) builds and runs the cells, "
            "which make venvs of their own"
        )
    return interpreter


def _select_item(
    item: str,
    spec: str,
    found: Sequence[Interpreter],
    probe: Callable[[Path, str], Interpreter | None],
    notify: Callable[[str], None],
) -> list[Interpreter]:
    if "/" in item or item.startswith("~") or (os.sep != "/" and os.sep in item):
        return [_explicit(item, probe, notify)]
    if match := _NAMED.fullmatch(item):
        chosen = _named(match, found)
        if chosen is None:
            raise _no_match(item, found)
        return [chosen]
    if match := _RANGE.fullmatch(item):
        low, high = int(match[1]), int(match[2])
        if low > high:
            raise UserError(f"range {item!r} is reversed; write the older version first")
        picked = [_newest(found, minor) for minor in range(low, high + 1)]
        matched = [i for i in picked if i is not None]
        if not matched:
            raise _no_match(item, found)
        return matched
    raise UserError(f"{spec!r} is not an interpreter spec; use e.g. {ACCEPTED_FORMS}")


def select_interpreters(
    spec: str | None,
    found: Sequence[Interpreter],
    probe: Callable[[Path, str], Interpreter | None] = probe,
    notify: Callable[[str], None] = lambda message: None,
) -> list[Interpreter]:
    """The interpreters `spec` names, one per column, sorted by version (`notify` hears when a
    path given is a venv's python, taken for its base installation).

    Without a spec: the newest patch of every minor found of CPython's release build with
    the GIL. Free-threaded, debug and PyPy builds are other builds, and run when asked for
    (`3.13t`, `3.11d`, `pp3.9`), so the default table means the same on every machine.
    """
    if spec is None:
        gil = [i for i in found if i.build == "cpython" and i.version.major == 3]
        minors = sorted({i.version.minor for i in gil})
        chosen = [_newest(found, minor) for minor in minors]
        if not chosen:
            raise UserError(
                "no CPython 3 interpreter found on PATH, in pyenv or in uv's folder; "
                "install one (e.g. `uv python install 3.12`) or pass a path to it"
            )
        return sorted(i for i in chosen if i is not None)

    items = [item.strip() for item in spec.split(",")]
    if not all(items):
        raise UserError(f"{spec!r} is not an interpreter spec; use e.g. {ACCEPTED_FORMS}")
    by_minor: dict[str, Interpreter] = {}
    for item in items:
        for interpreter in _select_item(item, spec, found, probe, notify):
            earlier = by_minor.setdefault(interpreter.python_label, interpreter)
            if earlier.realpath != interpreter.realpath:
                raise UserError(
                    f"{spec!r} asks for {interpreter.python_label} twice ({earlier.label} at "
                    f"{earlier.executable} and {interpreter.label} at {interpreter.executable}); "
                    "name one interpreter per minor version"
                )
    return sorted(by_minor.values(), key=lambda i: (i.version, i.python_label))
