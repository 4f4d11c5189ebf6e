"""The oldest Rust each PyO3 release builds with (its MSRV): the Rust side of a release's
declared window, as `support` is the CPython side.

A release's own `rust-version` (from the crates.io index, or a commit's manifest) wins; the
table in `data/rust_support.toml` (PyO3's CHANGELOG "MSRV" lines) covers releases whose
manifest has none. A cell whose toolchain is older is `unsupported`, not built.
"""

from __future__ import annotations

import functools
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from pyo3_triage.tomlcompat import tomllib
from pyo3_triage.versions.releases import Release

DATA_PATH = Path(__file__).parent.parent / "data" / "rust_support.toml"


@functools.cache
def _table(path: Path = DATA_PATH) -> tuple[tuple[SpecifierSet, Version], ...]:
    """The MSRV rows, read once; a malformed row is a packaging bug, so it raises ValueError."""
    with path.open("rb") as handle:
        rows = tomllib.load(handle).get("msrv")
    if not isinstance(rows, list) or not rows:
        raise ValueError("rust_support: no [[msrv]] rows")
    try:
        return tuple((SpecifierSet(row["pyo3"]), Version(row["rust"])) for row in rows)
    except (KeyError, TypeError, InvalidSpecifier, InvalidVersion) as err:
        raise ValueError(f"rust_support: bad row ({err})") from err


def msrv(release: Release) -> Version | None:
    """The oldest Rust the release declares; None when neither it nor the table says."""
    if release.rust_version:
        try:
            return Version(release.rust_version)
        except InvalidVersion:
            pass  # a manifest's odd value: the CHANGELOG's table still knows the series
    base = Version(release.version.base_version)
    return next((v for spec, v in _table() if spec.contains(base, prereleases=True)), None)


def declares(release: Release, rust: Version) -> bool:
    """True if the release declares it builds with this Rust (a nightly counts as the release
    it leads to; an unknown MSRV declares every Rust)."""
    floor = msrv(release)
    return floor is None or Version(rust.base_version) >= floor


def floor_text(release: Release) -> str:
    """The declared floor in words: "Rust 1.63 or newer"."""
    floor = msrv(release)
    return f"Rust {floor} or newer" if floor is not None else "any Rust"
