"""Companion crates: dependencies of a project that themselves depend on PyO3 (`numpy`,
`pythonize`, `pyo3-log`, `pyo3-file`, ...), and which of their versions accepts a release.

`pyo3-ffi` declares `links = "python"`, so one build holds one PyO3: a project moved to another
release must move each companion to a version whose own PyO3 requirement accepts it, or it does
not resolve at all. The crates.io index lists every version's dependencies with their
requirements; this module reads them (pure: `crates_index` fetches the text) and picks, per
release, the newest version that is not yanked and accepts it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

from pyo3_triage.versions.crates_index import index_entries
from pyo3_triage.versions.releases import PYO3_CRATES

_COMPARATOR = re.compile(
    r"^\s*(\^|~|=|>=|<=|>|<)?\s*(\d+|\*)(?:\.(\d+|\*))?(?:\.(\d+|\*))?(-[\w.]+)?\s*$"
)


def requirement_accepts(requirement: str, version: Version) -> bool:
    """Whether a Cargo version requirement (`^0.26`, `>=0.25, <0.26`, `~0.21.1`, `=0.22.2`,
    `0.23`, `0.21.*`, `*`, `=0.23.0-beta.3`) accepts `version`; every comma-separated
    comparator must hold. As in Cargo, a pre-release (0.23.0-beta.3, here 0.23.0b3) is
    accepted only by a requirement naming a pre-release of the same major.minor.patch, and a
    pre-release in a requirement is part of its version (`=0.23.0-beta.3` is not 0.23.0)."""
    comparators = []
    for part in requirement.split(","):
        match = _COMPARATOR.match(part)
        if match is None:
            return False  # a requirement we cannot read accepts nothing rather than anything
        parts = [n for n in match.group(2, 3, 4) if n is not None]
        given = [int(n) for n in parts if n != "*"]
        op = match.group(1) or ("=" if "*" in parts else "^")  # `0.21.*` is `=0.21`
        try:
            pre = _pre_release(given, match.group(5))
        except InvalidVersion:
            return False
        comparators.append((op, given, pre))
    if version.pre is not None or version.dev is not None:
        same = tuple((*version.release, 0, 0, 0)[:3])
        if not any(pre is not None and tuple(given) == same for _, given, pre in comparators):
            return False
    return all(not given or _holds(op, given, pre, version) for op, given, pre in comparators)


def _pre_release(given: list[int], tag: str | None) -> Version | None:
    """The comparator's version with its pre-release tag (`-beta.3`), None without one;
    InvalidVersion when the tag cannot be read or follows a partial version (Cargo refuses)."""
    if tag is None:
        return None
    if len(given) != 3:
        raise InvalidVersion(f"a pre-release needs major.minor.patch: {given}{tag}")
    return Version(".".join(map(str, given)) + tag)


def _holds(op: str, given: list[int], pre: Version | None, version: Version) -> bool:
    """One comparator, with Cargo's meaning of partial versions (`<=0.25` is `<0.26.0`)."""
    low = pre or _version(given)
    last = len(given) - 1
    if op == ">=":
        return version >= low
    if op == ">":
        return version > low if pre else version >= _bump(given, last)
    if op == "<":
        return version < low
    if op == "<=":
        return version <= low if pre else version < _bump(given, last)
    if op == "=":
        return version == low if pre else low <= version < _bump(given, last)
    if op == "~":
        return low <= version < _bump(given, min(1, last))
    # caret: the left-most non-zero part given may not change (all zero: the last given)
    significant = next((i for i, n in enumerate(given) if n != 0), last)
    return low <= version < _bump(given, significant)


def _version(parts: Sequence[int]) -> Version:
    return Version(".".join(map(str, (*parts, 0, 0, 0)[:3])))


def _bump(given: Sequence[int], index: int) -> Version:
    """The first version past the parts given, counting at `index`: (0, 25) at 1 -> 0.26.0."""
    parts = [*given[: index + 1]]
    parts[index] += 1
    return _version(parts)


@dataclass(frozen=True)
class CrateVersion:
    """One published version of a crate, with what it asks of PyO3."""

    vers: str  # as crates.io spells it
    version: Version
    yanked: bool
    # (PyO3 crate, requirement, optional, feature names that turn the dependency on)
    needs: tuple[tuple[str, str, bool, tuple[str, ...]], ...]

    def accepts(self, release: Version, features: Iterable[str] = ()) -> bool:
        """Every PyO3 requirement this version has (optional ones only when `features` turn
        them on) accepts the release, and it has at least one."""
        wanted = set(features)
        active = [req for _, req, optional, on in self.needs if not optional or wanted & set(on)]
        return bool(active) and all(requirement_accepts(req, release) for req in active)


def parse_versions(text: str, crate: str) -> tuple[CrateVersion, ...]:
    """Every version in a sparse-index file, ascending (a later line for a version wins)."""
    found: dict[Version, CrateVersion] = {}
    for entry in index_entries(text, crate):
        vers, deps = entry.get("vers"), entry.get("deps", [])
        try:
            version = Version(str(vers))
        except InvalidVersion:
            continue
        features = {**(entry.get("features") or {}), **(entry.get("features2") or {})}
        needs = tuple(_needs(deps if isinstance(deps, list) else [], features))
        found[version] = CrateVersion(str(vers), version, entry.get("yanked") is True, needs)
    return tuple(found[v] for v in sorted(found))


def _needs(
    deps: Iterable[Mapping[str, object]], features: Mapping[str, Sequence[str]]
) -> Iterable[tuple[str, str, bool, tuple[str, ...]]]:
    """The version's dependencies on PyO3 crates that are built with it (not dev-only)."""
    for dep in deps:
        name = str(dep.get("package") or dep.get("name") or "")
        if name not in PYO3_CRATES or dep.get("kind") == "dev":
            continue
        local = str(dep.get("name"))
        turned_on = _turning_on(features, local)
        yield name, str(dep.get("req", "*")), dep.get("optional") is True, tuple(sorted(turned_on))


def _turning_on(features: Mapping[str, Sequence[str]], local: str) -> set[str]:
    """The features that turn the optional dependency `local` on: those naming it, and those
    naming such a feature, to any depth (`default = ["python"]`, `python = ["dep:pyo3"]`)."""
    turned_on = {local}  # an optional dependency is also a feature of its own name
    grew = True
    while grew:
        grew = False
        for feature, enables in features.items():
            if feature not in turned_on and any(
                _enables(item, local) or item in turned_on for item in enables
            ):
                turned_on.add(feature)
                grew = True
    return turned_on


def _enables(item: str, local: str) -> bool:
    """`dep:pyo3`, `pyo3`, `pyo3/abi3` or `pyo3?/abi3` in a feature's list turns `pyo3` on."""
    item = item.removeprefix("dep:")
    return item == local or item.split("/", 1)[0].rstrip("?") == local and "?" not in item


@dataclass(frozen=True)
class Companion:
    """A dependency of the project that depends on PyO3: how the project names it, which
    features it asks for, and every version crates.io has."""

    local: str  # the key in the project's dependency table
    crate: str  # the crate's name on crates.io
    features: tuple[
        str, ...
    ]  # "default" among them unless the project sets default-features = false
    versions: tuple[CrateVersion, ...]

    def involves_pyo3(self) -> bool:
        """Some version needs PyO3 in the build (an optional need only if the project asks)."""
        wanted = set(self.features)
        return any(
            not optional or wanted & set(on)
            for version in self.versions
            for _, _, optional, on in version.needs
        )

    def choose(self, release: Version) -> CrateVersion | None:
        """The newest version, not yanked and not a pre-release, that accepts `release`."""
        usable = [
            v
            for v in self.versions
            if not v.yanked and not v.version.is_prerelease and v.accepts(release, self.features)
        ]
        return usable[-1] if usable else None


@dataclass(frozen=True)
class Choice:
    """What moving a project to one release means for its companions."""

    versions: tuple[tuple[str, str], ...] = ()  # (crate, version) chosen, by crate name
    missing: tuple[str, ...] = ()  # companions no version of which accepts the release

    def note(self, release: str) -> str:
        """Why the cell is not built, in one line."""
        names = ", ".join(self.missing)
        return f"no {names} release accepts pyo3 {release}"

    def describe(self) -> str:
        """`pyo3-file 0.16.0, numpy 0.28.0`."""
        return ", ".join(f"{crate} {vers}" for crate, vers in self.versions)


def choose_all(companions: Iterable[Companion], release: Version) -> Choice:
    """Each companion's version for `release`, or the companions that have none."""
    chosen: dict[str, str] = {}
    missing: list[str] = []
    for companion in companions:
        found = companion.choose(release)
        if found is None:
            missing.append(companion.crate)
        else:
            chosen[companion.crate] = found.vers
    return Choice(tuple(sorted(chosen.items())), tuple(sorted(set(missing))))
