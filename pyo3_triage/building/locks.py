"""One resolved, pinned Cargo.lock per PyO3 release, shared by every cell of that release.

Why a lockfile and not `pyo3 = "=X"`:
- yanked releases (0.22.0-0.22.3, 0.23.0-0.23.2, 0.28.0, 0.28.1) only build from a lockfile;
  `cargo update --precise` may select them, a plain requirement may not;
- some releases do not pin their sibling crates exactly, so a fresh resolve of 0.17.0 compiles
  `pyo3-build-config` 0.17.3; every `pyo3*` crate is pinned to the release under test here;
- every cell of a release then compiles the same dependency graph, which is what lets the
  scenarios of a cell share one compiled PyO3 in one target dir.
The lock is resolved once and kept, so a cell can be rebuilt identically later. For a Rust
toolchain chosen with `--rust` it is resolved for that toolchain (one lock per release and
toolchain): dependency versions it can build, in a lock format its cargo reads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from filelock import FileLock

from pyo3_triage import hashes
from pyo3_triage.building.template import render_manifest
from pyo3_triage.building.toolchain import Toolchain
from pyo3_triage.evidence import LockInfo
from pyo3_triage.system import procs
from pyo3_triage.system.paths import Layout, write_atomic
from pyo3_triage.tomlcompat import tomllib
from pyo3_triage.versions.releases import Release

SIBLINGS = ("pyo3-build-config", "pyo3-ffi", "pyo3-macros", "pyo3-macros-backend")
RESOLVE_TIMEOUT = 300.0


class ResolveError(Exception):
    """The release's dependency graph could not be resolved (network, or no such release).
    `own`: the project's own manifest asks the release for what it does not have (a feature
    it removed), which is the project meeting the release's API, not a failure to set up."""

    def __init__(self, message: str, log: Path, own: bool = False) -> None:
        super().__init__(message)
        self.log = log
        self.own = own


@dataclass(frozen=True)
class ResolvedLock:
    pyo3: str  # the release, as cargo spells it
    lock_text: str
    crates: tuple[tuple[str, str], ...]  # every pyo3* crate -> resolved version
    mismatched: tuple[str, ...]  # pyo3* crates that could not be pinned to the release
    companions: tuple[tuple[str, str], ...] = ()  # a user crate's companions -> resolved version

    @property
    def lock_hash(self) -> str:
        return hashes.digest(self.lock_text, hashes.CONTENT)

    def info(self, kept: Path) -> LockInfo:
        """What a record says of this lock, with the copy kept beside the records."""
        return LockInfo(
            self.pyo3, self.crates, self.mismatched, self.lock_hash, str(kept), self.companions
        )


def requirement(release: Release) -> str:
    """What Cargo.toml asks for: a caret requirement the pinned lockfile satisfies."""
    return release.cargo_version


def locked_versions(lock_text: str) -> dict[str, list[str]]:
    """Every package name in a Cargo.lock and the versions it was resolved to."""
    versions: dict[str, list[str]] = {}
    for package in tomllib.loads(lock_text).get("package", []):
        versions.setdefault(package["name"], []).append(package["version"])
    return versions


def pyo3_crates(lock_text: str) -> dict[str, str]:
    return {
        name: ",".join(found)
        for name, found in locked_versions(lock_text).items()
        if name == "pyo3" or name in SIBLINGS
    }


def lock_name(release: Release, toolchain: Toolchain) -> str:
    """What the kept lock is filed under: the release, and the toolchain it was resolved for
    when one was chosen with --rust."""
    version = release.cargo_version
    return f"{version}-rust-{toolchain.rust.release}" if toolchain.rust else version


def resolve(layout: Layout, release: Release, toolchain: Toolchain) -> ResolvedLock:
    """The pinned lock for `release`, resolving it on first use (one process at a time)."""
    name = lock_name(release, toolchain)
    with FileLock(str(layout.mutex(f"resolve-{name}"))):
        cached = _load(layout, name, release.cargo_version)
        if cached is not None:
            return cached
        lock = _resolve_fresh(layout, release, toolchain, name)
        write_atomic(layout.pinned_lock(name), lock.lock_text)
        info = lock.info(layout.pinned_lock(name)).as_dict()
        write_atomic(layout.pinned_lock_info(name), json.dumps(info, indent=2) + "\n")
        return lock


def load_cached(layout: Layout, release: Release, toolchain: Toolchain) -> ResolvedLock | None:
    """The lock if it was already resolved (no network, no lock taken): for planning."""
    return _load(layout, lock_name(release, toolchain), release.cargo_version)


def _load(layout: Layout, name: str, version: str) -> ResolvedLock | None:
    try:
        text = layout.pinned_lock(name).read_text(encoding="utf-8")
        info = json.loads(layout.pinned_lock_info(name).read_text(encoding="utf-8"))
        crates = pyo3_crates(text)
    except (OSError, ValueError, KeyError, tomllib.TOMLDecodeError):
        return None  # missing or half-written: resolve again
    return ResolvedLock(
        pyo3=version,
        lock_text=text,
        crates=tuple(sorted(crates.items())),
        mismatched=tuple(info.get("mismatched", [])),
    )


def _resolve_fresh(
    layout: Layout, release: Release, toolchain: Toolchain, name: str
) -> ResolvedLock:
    version = release.cargo_version
    folder = layout.resolve_dir(name)
    (folder / "src").mkdir(parents=True, exist_ok=True)
    write_atomic(
        folder / "Cargo.toml",
        render_manifest(release.version, requirement(release), "probe", pyo3_path=release.source),
    )
    write_atomic(folder / "src" / "lib.rs", "")
    (folder / "Cargo.lock").unlink(missing_ok=True)
    log = folder / "resolve.log"
    log.unlink(missing_ok=True)
    if release.source is not None:
        return _resolve_tree(folder, version, toolchain, log)
    return pin(folder, version, toolchain, log)


def _cargo(toolchain: Toolchain, folder: Path, log: Path, *args: str) -> procs.Completed:
    """Cargo resolving in `folder`, for the toolchain's Rust (see `Toolchain.resolve_env`)."""
    return procs.run(
        [toolchain.cargo_bin, *args],
        cwd=folder,
        env={**procs.clean_env(), **toolchain.resolve_env()},
        timeout=RESOLVE_TIMEOUT,
        log_path=log,
        append=True,
    )


def _readable(folder: Path, toolchain: Toolchain) -> str:
    """The folder's Cargo.lock, rewritten in a format the toolchain's cargo reads."""
    lock = folder / "Cargo.lock"
    text = lock.read_text(encoding="utf-8")
    readable = toolchain.readable_lock(text)
    if readable != text:
        write_atomic(lock, readable)
    return readable


def _resolve_tree(folder: Path, label: str, toolchain: Toolchain, log: Path) -> ResolvedLock:
    """A PyO3 commit: every pyo3* crate comes from its tree by path, so there is nothing to
    pin; the other dependencies are resolved once and kept like a release's."""
    done = _cargo(toolchain, folder, log, "generate-lockfile")
    if done.returncode != 0:
        _raise_resolve(done, f"cannot resolve PyO3 {label}", log)
    text = _readable(folder, toolchain)
    return ResolvedLock(label, text, tuple(sorted(pyo3_crates(text).items())), ())


def settle(
    folder: Path, label: str, toolchain: Toolchain, log: Path, companions: Sequence[str] = ()
) -> ResolvedLock:
    """A project whose pyo3* crates now come from a PyO3 commit's tree by path: its lock
    updated as little as that needs (every other dependency stays where the project's own
    lock had it), or resolved afresh when it has none."""
    lock = folder / "Cargo.lock"
    done = _cargo(toolchain, folder, log, "update", "--workspace") if lock.exists() else None
    if done is None or done.returncode != 0:
        lock.unlink(missing_ok=True)  # the project's lock cannot take the commit: anew
        done = _cargo(toolchain, folder, log, "generate-lockfile")
    if done.returncode != 0:
        _raise_resolve(done, f"cannot resolve PyO3 {label}", log)
    text = _readable(folder, toolchain)
    held = locked_versions(text)
    return ResolvedLock(
        pyo3=label,
        lock_text=text,
        crates=tuple(sorted(pyo3_crates(text).items())),
        mismatched=(),
        companions=tuple(
            (name, ",".join(held[name])) for name in sorted(companions) if name in held
        ),
    )


def pin(
    folder: Path, version: str, toolchain: Toolchain, log: Path, companions: Sequence[str] = ()
) -> ResolvedLock:
    """Resolve the crate in `folder` (keeping an existing Cargo.lock as a starting point) and
    pin pyo3 and every sibling crate it has to `version`, yanked or not; say which version of
    each companion crate (`companions`, by name) the lock holds."""

    def cargo(*args: str) -> procs.Completed:
        return _cargo(toolchain, folder, log, *args)

    def locked() -> dict[str, str]:
        return pyo3_crates((folder / "Cargo.lock").read_text(encoding="utf-8"))

    if not (folder / "Cargo.lock").exists():
        done = cargo("generate-lockfile")
        if done.returncode != 0:
            _raise_resolve(done, f"cannot resolve pyo3 {version}", log)
    else:
        # A project's own lock may not match its manifest as rewritten: a companion crate
        # moved to a newer version than the lock holds (pyo3-log 0.13.2 -> =0.13.5), or
        # entries of workspace members that maturin's sdist left out (jiter's fuzz crate).
        # The build passes --locked, so bring the lock in line first; `update --workspace`
        # changes only what the manifest no longer matches and keeps every other version.
        # Offline first: a lock that already fits needs no index, so a run whose crates are
        # all downloaded still works without crates.io.
        done = cargo("update", "--workspace", "--offline")
        if done.returncode != 0:
            done = cargo("update", "--workspace")
        if done.returncode != 0:
            _raise_resolve(done, f"cannot resolve pyo3 {version}", log)
    # When the manifest itself just changed (a user's crate moved to another release), cargo
    # first re-resolves to satisfy it and may land on another patch of the series: pin again,
    # and never let a cell named for one release build another.
    for _attempt in range(2):
        if locked().get("pyo3") == version:
            break
        done = cargo("update", "-p", "pyo3", "--precise", version)
        if done.returncode != 0:
            _raise_resolve(done, f"cannot pin pyo3 {version}", log)
    if locked().get("pyo3") != version:
        raise ResolveError(
            f"cannot pin pyo3 {version}: cargo resolved pyo3 {locked().get('pyo3')} instead", log
        )
    for sibling in SIBLINGS:
        if locked().get(sibling) not in (None, version):
            # May fail when the release never published this sibling at `version`: recorded below.
            cargo("update", "-p", sibling, "--precise", version)
    text = _readable(folder, toolchain)
    crates = pyo3_crates(text)
    held = locked_versions(text)
    return ResolvedLock(
        pyo3=version,
        lock_text=text,
        crates=tuple(sorted(crates.items())),
        mismatched=tuple(sorted(name for name, found in crates.items() if found != version)),
        companions=tuple(
            (name, ",".join(held[name])) for name in sorted(companions) if name in held
        ),
    )


_BLAMED = re.compile(r"(?:required by|of) package `([^`\s]+) v([^`\s]+)")


_MISSING_FEATURE = re.compile(
    r"package `([^`]+)` depends on `(pyo3[\w-]*)` with feature `([^`]+)` but `\2` does not "
    r"have that feature\.?(?:\s*package `\2` does have feature `([^`]+)`)?"
)


def missing_feature(stderr: str) -> tuple[str, str] | None:
    """A PyO3 feature a package of the project (a path package: cargo prints its folder)
    asks for and the release does not have, in words, with that package's name; None when
    cargo said no such thing, or the package asking is a dependency from a registry."""
    found = _MISSING_FEATURE.search(stderr)
    if found is None:
        return None
    package, crate, feature, instead = found.groups()
    if not re.search(rf"`{re.escape(package)} v[^`(]*\(/", stderr):
        return None
    hint = f" (it has `{instead}`)" if instead else ""
    return (
        package,
        f"`{package}` asks {crate} for feature `{feature}`, which it does not have{hint}",
    )


def _raise_resolve(done: procs.Completed, what: str, log: Path) -> NoReturn:
    """The resolve failed: why, as one line (see `ResolveError`)."""
    own = missing_feature(done.stderr_tail)
    if own is not None:
        raise ResolveError(f"{what}: {own[1]}", log, own=True)
    raise ResolveError(_cargo_error(done, what), log)


def _cargo_error(done: procs.Completed, what: str) -> str:
    """The first error line, and the packages cargo names as requiring the conflict (a
    companion crate pinned to another PyO3, say), which "failed to select a version" hides."""
    lines = [line.strip() for line in done.stderr_tail.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error")]
    detail = errors[0] if errors else (lines[-1] if lines else f"exit status {done.returncode}")
    blamed = blamed_packages(done.stderr_tail)
    return f"{what}: {detail}" + (f" (required by {', '.join(blamed)})" if blamed else "")


def blamed_packages(stderr: str) -> list[str]:
    """`pyo3-file v0.18.0` for every package cargo's conflict report names as requiring a
    PyO3 crate, PyO3's own crates left out, in the order cargo names them."""
    found: dict[str, None] = {}
    for name, version in _BLAMED.findall(stderr):
        if name != "pyo3" and name not in SIBLINGS:
            found.setdefault(f"{name} v{version}")
    return list(found)
