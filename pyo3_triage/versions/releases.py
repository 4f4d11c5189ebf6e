"""Which PyO3 releases exist on crates.io, and which of them a `--pyo3` selection means.

The release list comes from the crates.io sparse index (one JSON object per published
version) so that ranges like `0.19..0.21` expand to real releases, yanked ones are known,
and the exact `req` each release puts on its `pyo3-*` siblings is at hand for pinning.
Reading the index from crates.io is `crates_index`'s job; this module is pure. All version logic goes through `packaging`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from pyo3_triage.errors import UserError

if TYPE_CHECKING:
    from pyo3_triage.outcome import Outcome

SPECIFIER_OPERATORS = ("<", ">", "=", "!", "~")
_SEMVER_PRE = {"a": "alpha", "b": "beta", "rc": "rc"}
FORMS_HINT = "use e.g. 0.20.3,0.21.0 or 0.21 or 0.19..0.21 or '>=0.19,<0.22'"


def _series(version: Version) -> tuple[int, int]:
    release = (*version.release, 0, 0)
    return (release[0], release[1])


def semver_spelling(version: Version) -> str:
    """Spell a version the way Cargo expects (`0.21.0-beta.0`, not PEP 440's `0.21.0b0`)."""
    text = ".".join(str(part) for part in version.release)
    if version.pre is not None:
        letter, number = version.pre
        text += f"-{_SEMVER_PRE.get(letter, letter)}.{number}"
    if version.local is not None:
        text += f"+{version.local}"
    return text


# The crates of PyO3 itself, released together: a dependency on any of them ties a crate to one
# PyO3 release (one of them links the interpreter, and cargo allows one crate that does).
PYO3_CRATES = frozenset(
    {"pyo3", "pyo3-build-config", "pyo3-ffi", "pyo3-macros", "pyo3-macros-backend"}
)


@dataclass(frozen=True, order=True)
class Release:
    """One published version. Identity and ordering are by version alone; the rest describes it."""

    version: Version
    yanked: bool = field(default=False, compare=False)
    # the version exactly as crates.io spells it; empty when not read from the index
    vers: str = field(default="", compare=False)
    # A PyO3 commit instead of a release (`--pyo3-git`): its full hash, `git describe`, and
    # its source tree in the cache. `version` is then the release whose API it is rendered for.
    revision: str = field(default="", compare=False)
    describe: str = field(default="", compare=False)
    source: Path | None = field(default=None, compare=False)
    repo: str = field(default="", compare=False)  # the --pyo3-git repository it came from
    # The oldest Rust its manifest declares (`rust-version`), "" when it has none or it is unknown.
    rust_version: str = field(default="", compare=False)

    @property
    def cargo_version(self) -> str:
        """The spelling to hand to Cargo; `str(version)` would be PEP 440-normalised."""
        return self.vers or semver_spelling(self.version)

    @property
    def series(self) -> tuple[int, int]:
        """The (major, minor) series, e.g. (0, 21) for 0.21.2."""
        return _series(self.version)

    def retry_after(self, outcome: Outcome) -> Release | None:
        """The candidate to try instead after this one gave `outcome`, or None: a published
        release speaks one API (a commit may speak two, `revisions.Commit`)."""
        return None

    def __str__(self) -> str:
        return self.cargo_version


@dataclass(frozen=True)
class ReleaseIndex:
    """The release list of one crate, with where and when it came from."""

    crate: str
    releases: tuple[Release, ...]  # sorted ascending
    fetched_at: float  # unix time of the network fetch the data came from
    from_cache_offline: bool  # True when the network failed and a cached copy was used

    def get(self, version: str | Version) -> Release | None:
        try:
            wanted = version if isinstance(version, Version) else Version(version)
        except InvalidVersion:
            return None
        return next((r for r in self.releases if r.version == wanted), None)

    @property
    def newest(self) -> Release | None:
        """The newest stable, non-yanked release (what `cargo add` would pick)."""
        usable = [r for r in self.releases if not r.yanked and not r.version.is_prerelease]
        return usable[-1] if usable else (self.releases[-1] if self.releases else None)


def unreachable_error(crate: str, reason: str) -> UserError:
    return UserError(
        f"could not reach crates.io for the {crate} release list ({reason}); name exact "
        f"versions instead (e.g. --pyo3 0.20.3,0.21.0) to work without the release list"
    )


# --- selection ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Bound:
    version: Version
    minor: bool  # a bare `0.21` bound covers the whole 0.21.x series

    @property
    def series(self) -> tuple[int, int]:
        return _series(self.version)


@dataclass(frozen=True)
class _Range:
    lower: _Bound | None
    upper: _Bound | None

    @property
    def names_prerelease(self) -> bool:
        """A bound that is a pre-release admits pre-releases, as a PEP 440 specifier would."""
        return any(b is not None and b.version.is_prerelease for b in (self.lower, self.upper))

    def __contains__(self, release: Release) -> bool:
        low, up = self.lower, self.upper
        if low is not None and not (
            release.series >= low.series if low.minor else release.version >= low.version
        ):
            return False
        return up is None or (
            release.series <= up.series if up.minor else release.version <= up.version
        )


def _version(token: str, spec: str) -> Version:
    try:
        version = Version(token)
    except InvalidVersion:
        message = f"cannot read {token!r} in --pyo3 {spec!r} as a version; {FORMS_HINT}"
        raise UserError(message) from None
    if len(version.release) < 2:
        raise UserError(
            f"{token!r} in --pyo3 {spec!r} is too broad; name a minor series like 0.21 "
            f"or a full version like 0.21.1"
        )
    return version


def _bound(token: str, spec: str) -> _Bound:
    version = _version(token, spec)
    bare = len(version.release) == 2 and not version.is_prerelease and version.local is None
    return _Bound(version, minor=bare)


def _parse_item(item: str, spec: str) -> tuple[Version, str] | _Range:
    """An exact version (with the user's spelling), or a range (a bare minor is a range)."""
    if ".." not in item:
        bound = _bound(item, spec)
        return _Range(bound, bound) if bound.minor else (bound.version, item)
    low_text, _, up_text = (part.strip() for part in item.partition(".."))
    if not low_text and not up_text:
        raise UserError(f"range {item!r} in --pyo3 {spec!r} has no ends; write e.g. 0.19..0.21")
    lower = _bound(low_text, spec) if low_text else None
    upper = _bound(up_text, spec) if up_text else None
    if lower is not None and upper is not None:
        by_series = lower.minor or upper.minor
        if (lower.series > upper.series) if by_series else (lower.version > upper.version):
            raise UserError(
                f"range {item!r} in --pyo3 {spec!r} is reversed; write {up_text}..{low_text}"
            )
    return _Range(lower, upper)


def _nearest(index: ReleaseIndex, version: Version) -> str:
    pool = [r for r in index.releases if version.is_prerelease or not r.version.is_prerelease]
    below = [r for r in pool if r.version < version][-1:]
    above = [r for r in pool if r.version > version][:1]
    return ", ".join(str(r) + (" (yanked)" if r.yanked else "") for r in below + above)


def _missing_error(index: ReleaseIndex, version: Version, token: str, spec: str) -> UserError:
    near = _nearest(index, version)
    hint = f"nearest: {near}" if near else "see https://crates.io/crates/" + index.crate
    return UserError(
        f"{token} (in --pyo3 {spec!r}) is not a {index.crate} release on crates.io; {hint}"
    )


def _bound_error(index: ReleaseIndex, bound: _Bound, spec: str) -> UserError:
    """A range end named to the patch that crates.io never published: a typo or a guess, so
    refused rather than clamped to the releases that happen to lie inside."""
    major, minor = bound.series
    series = [r for r in index.releases if r.series == bound.series]
    if series:
        listed = ", ".join(str(r) + (" (yanked)" if r.yanked else "") for r in series)
        hint = f"the {major}.{minor} series has {listed}"
    else:
        near = _nearest(index, bound.version)
        hint = f"there is no {major}.{minor} series" + (f"; nearest: {near}" if near else "")
    return UserError(
        f"{bound.version} (an end of --pyo3 {spec!r}) is not a {index.crate} release on "
        f"crates.io; {hint} (a bare {major}.{minor} means the whole series)"
    )


def _no_match_error(
    spec: str, index: ReleaseIndex, hidden: Sequence[Release], pre: bool, yanked: bool
) -> UserError:
    newest = index.newest
    head = (
        f"--pyo3 {spec!r} matches none of the {len(index.releases)} {index.crate} releases "
        f"on crates.io (newest: {newest})"
    )
    flags = []
    if not pre and any(r.version.is_prerelease for r in hidden):
        flags.append("--pre")
    if not yanked and any(r.yanked for r in hidden):
        flags.append("--yanked")
    if hidden and flags:
        return UserError(f"{head}; only excluded releases match, add {' '.join(flags)}")
    return UserError(f"{head}; widen the selection ({FORMS_HINT})")


def _clause_versions(spec_set: SpecifierSet) -> tuple[set[Version], set[Version]]:
    """The versions all clauses mention, and those named exactly (`==0.23.0`, no wildcard)."""
    mentioned, named = set(), set()
    for clause in spec_set:
        wildcard = clause.version.endswith(".*")
        try:
            version = Version(clause.version[:-2] if wildcard else clause.version)
        except InvalidVersion:  # `===` accepts arbitrary strings
            continue
        mentioned.add(version)
        if clause.operator in ("==", "===") and not wildcard:
            named.add(version)
    return mentioned, named


def _select_by_specifier(
    spec: str, index: ReleaseIndex | None, pre: bool, yanked: bool
) -> tuple[list[Release], list[Release]]:
    try:
        spec_set = SpecifierSet(spec)
    except InvalidSpecifier:
        raise UserError(
            f"cannot read --pyo3 {spec!r} as a version specifier; write e.g. '>=0.19,<0.22' or "
            f"'~=0.20.0', and do not mix specifiers with plain versions or ranges"
        ) from None
    if index is None:
        raise unreachable_error("pyo3", f"needed to expand {spec!r}")
    mentioned, named = _clause_versions(spec_set)
    # as in PEP 440, a specifier that mentions a pre-release admits pre-releases
    allow_pre = pre or any(v.is_prerelease for v in mentioned)
    chosen: list[Release] = []
    hidden: list[Release] = []
    for release in index.releases:
        if not spec_set.contains(release.version, prereleases=True):
            continue
        excluded = (release.version.is_prerelease and not allow_pre) or (
            release.yanked and not yanked and release.version not in named
        )
        (hidden if excluded else chosen).append(release)
    return chosen, hidden


def _select_items(
    spec: str, index: ReleaseIndex | None, pre: bool, yanked: bool
) -> tuple[list[Release], list[Release]]:
    items = [item.strip() for item in spec.split(",")]
    if any(not item for item in items):
        raise UserError(f"--pyo3 {spec!r} has an empty item; separate versions with single commas")
    parsed = [_parse_item(item, spec) for item in items]
    if index is None:
        if all(isinstance(p, tuple) and len(p[0].release) == 3 for p in parsed):
            return [Release(p[0]) for p in parsed if isinstance(p, tuple)], []
        raise unreachable_error("pyo3", f"needed to expand {spec!r}")
    chosen: list[Release] = []
    hidden: list[Release] = []
    for item in parsed:
        if isinstance(item, tuple):
            found = index.get(item[0])
            if found is None:
                raise _missing_error(index, item[0], item[1], spec)
            chosen.append(found)  # named exactly: selected even if yanked or a pre-release
            continue
        for bound in (item.lower, item.upper):
            if bound is not None and not bound.minor and index.get(bound.version) is None:
                raise _bound_error(index, bound, spec)
        for release in index.releases:
            if release in item:
                allow_pre = pre or item.names_prerelease
                excluded = (release.version.is_prerelease and not allow_pre) or (
                    release.yanked and not yanked
                )
                (hidden if excluded else chosen).append(release)
    return chosen, hidden


def newest_per_series(releases: Iterable[Release]) -> list[Release]:
    """Keep the newest release of each (major, minor) series, ascending."""
    newest: dict[tuple[int, int], Release] = {}
    for release in sorted(set(releases)):
        newest[release.series] = release
    return sorted(newest.values())


def select_releases(
    spec: str,
    index: ReleaseIndex | None,
    *,
    pre: bool = False,
    yanked: bool = False,
    newest_patch: bool = False,
) -> list[Release]:
    """Expand a `--pyo3` selection into releases, ascending and without duplicates.

    Without an index (crates.io unreachable, nothing cached) only exact X.Y.Z lists work.
    """
    text = spec.strip()
    if not text:
        raise UserError(f"--pyo3 is empty; {FORMS_HINT}")
    if any(item.strip().startswith(SPECIFIER_OPERATORS) for item in text.split(",")):
        chosen, hidden = _select_by_specifier(text, index, pre, yanked)
    else:
        chosen, hidden = _select_items(text, index, pre, yanked)
    if not chosen and index is not None:  # without an index, only exact lists get here
        raise _no_match_error(text, index, hidden, pre, yanked)
    unique = sorted(set(chosen))
    return newest_per_series(unique) if newest_patch else unique


def split_revisions(spec: str) -> tuple[str, list[str]]:
    """`--pyo3 0.20.3,git:main,0.21.0` -> ("0.20.3,0.21.0", ["main"]): PyO3 commits to build
    from `--pyo3-git` beside the releases."""
    items = [item.strip() for item in spec.split(",")]
    revs = [item[4:].strip() for item in items if item.startswith("git:")]
    if any(not rev for rev in revs):
        raise UserError("git: needs a revision: git:main, git:v0.21.0 or git:<hash>")
    return ",".join(item for item in items if not item.startswith("git:")), revs


def exact_only(spec: str) -> bool:
    """Every part names one exact release (0.20.3, 0.21.0-beta.0): usable without the index."""
    parts = [part.strip() for part in spec.split(",")]
    try:
        return all(".." not in part and len(Version(part).release) == 3 for part in parts)
    except ValueError:
        return False
