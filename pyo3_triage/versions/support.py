"""Which CPython versions each PyO3 release declares, and which its build script accepts; and
which PyPy, free-threaded and debug builds it declares (`build_window`).

The two windows differ: before 0.20.3 nothing stops a build against a CPython the release never
supported, and from 0.28 the next unreleased minor builds with only a warning. A cell outside the
declared window is an ABI accident, not evidence, so the harness needs both facts. The table lives
in `data/cpython_support.toml`, with the CHANGELOG / build-script evidence for every row.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
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
    (PyPy 3.9 after 0.26, free-threaded CPython before 0.23). A release newer than the table
    has the newest release's windows (`stand_in`); one older raises LookupError, as
    `window_for` does."""
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
    """The row for `release`; past the CPython table's end, the row of this table that reaches
    that end (None when this table stopped earlier: the build was dropped)."""
    found = next((w for spec, w in windows if spec.contains(release, prereleases=True)), None)
    end = _end(load_windows())
    if found is None and end is not None and release >= end:
        return next((w for spec, w in windows if _upper(spec) == end), None)
    return found


def _upper(spec: SpecifierSet) -> Version | None:
    return max((Version(s.version) for s in spec if s.operator == "<"), default=None)


def _end(windows: tuple[tuple[SpecifierSet, Window], ...]) -> Version | None:
    """The first release past every row (0.31.0); None when the newest row is open-ended."""
    uppers = [_upper(spec) for spec, _ in windows]
    return None if None in uppers else max(u for u in uppers if u is not None)


def listed(pyo3: Version) -> Window:
    """The window of a release the table lists; a pre-release (0.21.0-beta.0) belongs to its
    release series. Raises LookupError for any other release (0.15.x, or one newer than the
    table): where a release's API era is decided, a guess is worse than no answer."""
    release = Version(pyo3.base_version)
    windows = load_windows()
    for spec, window in windows:
        if spec.contains(release, prereleases=True):
            return window
    raise LookupError(f"PyO3 {pyo3} is outside the releases this tool knows ({_span(windows)})")


def window_for(pyo3: Version) -> Window:
    """The window of a PyO3 release (`listed`), or for one newer than the table the newest
    row's. A new minor usually moves the window by a CPython at either end, so a few cells may
    be `unsupported` that are not, or built outside the true window (where the build script
    refuses them: a setup error); never a wrong verdict, and the run goes on (`stand_in` says
    so). Raises LookupError for releases older than the table, e.g. 0.15.x.
    """
    try:
        return listed(pyo3)
    except LookupError:
        found = _matching(load_windows(), Version(pyo3.base_version))
        if found is None:
            raise
        return found


def stand_in(releases: Sequence[Version]) -> str | None:
    """That the releases newer than the table have the newest row's windows, in words (said
    when they are chosen); None when the table lists them all. Raises LookupError for a
    release older than the table."""
    newer = []
    for pyo3 in releases:
        try:
            listed(pyo3)
        except LookupError:
            window_for(pyo3)  # older than the table: raises
            newer.append(pyo3)
    if not newer:
        return None
    windows = load_windows()
    end = _end(windows)
    spec = next(spec for spec, _ in windows if _upper(spec) == end)
    since = min((s.version for s in spec if s.operator == ">="), default="")
    verb, their = ("is", "its") if len(newer) == 1 else ("are", "their")
    return (
        f"PyO3 {', '.join(map(str, newer))} {verb} newer than the CPython support table "
        f"({DATA_PATH.name} lists releases before {end}): {their} windows are taken from its "
        f"newest row ({since} on: CPython {window_for(newer[0]).span}) until a row is added"
    )


def _span(windows: tuple[tuple[SpecifierSet, Window], ...]) -> str:
    """Describe the covered PyO3 releases as ">=LOW, <HIGH" for error messages."""
    lows = [Version(s.version) for spec, _ in windows for s in spec if s.operator == ">="]
    highs = [Version(s.version) for spec, _ in windows for s in spec if s.operator == "<"]
    low = f">={min(lows)}" if lows else ""
    high = f"<{max(highs)}" if highs else ""
    return ", ".join(part for part in (low, high) if part) or "none"
