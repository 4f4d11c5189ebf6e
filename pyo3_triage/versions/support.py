"""Which CPython versions each PyO3 release declares, and which its build script accepts; and
which PyPy, free-threaded and debug builds it declares (`build_window`).

The two windows differ: before 0.20.3 nothing stops a build against a CPython the release never
supported, and from 0.28 the next unreleased minor builds with only a warning. A cell outside the
declared window is an ABI accident, not evidence, so the harness needs both facts. The table lives
in `data/cpython_support.toml`, with the CHANGELOG / build-script evidence for every row.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from pyo3_triage.tomlcompat import tomllib

DATA_PATH = Path(__file__).parent.parent / "data" / "cpython_support.toml"

_FIELDS = ("pyo3", "declared_min", "declared_max", "enforced_min", "enforced_max", "note")


def _minor(version: Version) -> tuple[int, int]:
    """Reduce to (major, minor): PyO3 compares interpreter versions at that granularity."""
    return (version.major, version.minor)


@dataclass(frozen=True)
class Window:
    """The CPython window of one range of PyO3 releases (GIL builds)."""

    declared_min: Version
    declared_max: Version
    enforced_min: Version | None  # None: no minimum check
    enforced_max: Version | None  # None: no maximum check, a newer CPython still builds
    note: str

    @property
    def span(self) -> str:
        """The declared window in words, e.g. "3.7-3.12"."""
        return f"{self.declared_min}-{self.declared_max}"

    def declares(self, python: Version) -> bool:
        """True if the release's CHANGELOG claims support for this CPython (major.minor)."""
        return _minor(self.declared_min) <= _minor(python) <= _minor(self.declared_max)

    def enforces(self, python: Version) -> bool:
        """True if the build script would accept this CPython without an opt-out variable."""
        if self.enforced_min is not None and _minor(python) < _minor(self.enforced_min):
            return False
        return self.enforced_max is None or _minor(python) <= _minor(self.enforced_max)


def _version(row: dict[str, Any], key: str) -> Version:
    """Parse one version cell of a row, naming the row if it is malformed."""
    text = row.get(key)
    try:
        if not isinstance(text, str):
            raise InvalidVersion(repr(text))
        return Version(text)
    except InvalidVersion as err:
        raise ValueError(f"cpython_support row {row.get('pyo3')!r}: bad {key} {text!r}") from err


def _check(row: dict[str, Any], key: str) -> Version | None:
    """Parse an enforced bound; "" means the build script has no such check."""
    return None if row.get(key) == "" else _version(row, key)


def _parse_row(row: dict[str, Any]) -> tuple[SpecifierSet, Window]:
    missing = [key for key in _FIELDS if key not in row]
    if missing:
        raise ValueError(f"cpython_support row {row.get('pyo3')!r} lacks {', '.join(missing)}")
    try:
        spec = SpecifierSet(row["pyo3"])
    except InvalidSpecifier as err:
        raise ValueError(f"cpython_support: bad pyo3 specifier {row['pyo3']!r}") from err
    declared_min = _version(row, "declared_min")
    declared_max = _version(row, "declared_max")
    if _minor(declared_min) > _minor(declared_max):
        raise ValueError(f"cpython_support row {row['pyo3']!r}: declared_min > declared_max")
    window = Window(
        declared_min=declared_min,
        declared_max=declared_max,
        enforced_min=_check(row, "enforced_min"),
        enforced_max=_check(row, "enforced_max"),
        note=str(row["note"]),
    )
    return spec, window


# The builds with a window of their own, and the table of each in the data file. A debug
# build has CPython's window with its own floor (`[[debug]]`).
BUILDS = ("cpython", "debug", "free-threaded", "pypy")
_TABLES = {"cpython": "window", "free-threaded": "free_threaded", "pypy": "pypy"}


@functools.cache
def load_windows(
    path: Path | None = None, table: str = "window"
) -> tuple[tuple[SpecifierSet, Window], ...]:
    """Read a table once; a malformed row is a packaging bug, so it raises ValueError."""
    with (path or DATA_PATH).open("rb") as handle:
        data = tomllib.load(handle)
    rows = data.get(table)
    if not isinstance(rows, list) or not rows:
        raise ValueError(f"cpython_support: no [[{table}]] rows")
    return tuple(_parse_row(row) for row in rows)


def build_window(pyo3: Version, build: str) -> Window | None:
    """The window `pyo3` declares for a build (`BUILDS`); None when it declares none of it
    (PyPy 3.9 after 0.26, free-threaded CPython before 0.23). Raises LookupError for releases
    the table does not cover, as `window_for` does."""
    cpython = window_for(pyo3)
    if build == "cpython":
        return cpython
    release = Version(pyo3.base_version)
    if build == "debug":
        floor = _matching(load_windows(table="debug"), release)
        if floor is None or _minor(floor.declared_min) <= _minor(cpython.declared_min):
            return cpython
        return replace(cpython, declared_min=floor.declared_min, note=floor.note)
    return _matching(load_windows(table=_TABLES[build]), release)


def declares(pyo3: Version, python: Version, build: str = "cpython") -> bool:
    """True if the release declares this interpreter (its version and its build)."""
    window = build_window(pyo3, build)
    return window is not None and window.declares(python)


def declared_span(pyo3: Version, build: str = "cpython") -> str:
    """What the release declares for a build, in words: "3.7-3.12", "PyPy 3.9-3.11",
    "free-threaded 3.13-3.14", or "no PyPy"."""
    window = build_window(pyo3, build)
    name = {"cpython": "", "debug": "debug ", "free-threaded": "free-threaded ", "pypy": "PyPy "}
    if window is None:
        return f"no {name[build].strip()}"
    return f"{name[build]}{window.span}"


def _matching(windows: tuple[tuple[SpecifierSet, Window], ...], release: Version) -> Window | None:
    return next((w for spec, w in windows if spec.contains(release, prereleases=True)), None)


def window_for(pyo3: Version) -> Window:
    """The window of a PyO3 release; a pre-release (0.21.0-beta.0) belongs to its release series.

    Raises LookupError for releases the table does not cover, e.g. 0.15.x.
    """
    release = Version(pyo3.base_version)
    windows = load_windows()
    for spec, window in windows:
        if spec.contains(release, prereleases=True):
            return window
    raise LookupError(f"PyO3 {pyo3} is outside the releases this tool knows ({_span(windows)})")


def _span(windows: tuple[tuple[SpecifierSet, Window], ...]) -> str:
    """Describe the covered PyO3 releases as ">=LOW, <HIGH" for error messages."""
    lows = [Version(s.version) for spec, _ in windows for s in spec if s.operator == ">="]
    highs = [Version(s.version) for spec, _ in windows for s in spec if s.operator == "<"]
    low = f">={min(lows)}" if lows else ""
    high = f"<{max(highs)}" if highs else ""
    return ", ".join(part for part in (low, high) if part) or "none"
