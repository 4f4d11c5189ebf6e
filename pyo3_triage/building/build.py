"""Build one scenario's extension for one (PyO3 release, interpreter) cell with maturin.

Builds are cached by content: the build key covers everything that changes the wheel
(template, scenario Rust side, PyO3 release and its lockfile, exact interpreter and ABI,
rustc, maturin, profile). Every reproducer and release built for one interpreter shares one
cargo target dir, so PyO3 is compiled once per (release, interpreter), what every release
needs alike once per interpreter, and each further reproducer only compiles its own crate.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from pyo3_triage import hashes, semantics
from pyo3_triage.building import locks
from pyo3_triage.building.buildlog import (
    compiled,
    denied_lint,
    failed_dependency,
    failed_pyo3_crate,
    first_error,
    missing_init_symbol,
    not_compiled,
    own_code_failed,
    worth_caching,
)
from pyo3_triage.building.locks import ResolvedLock
from pyo3_triage.building.toolchain import Toolchain
from pyo3_triage.evidence import BuildInfo, LockInfo
from pyo3_triage.interpreters import Interpreter
from pyo3_triage.system import procs
from pyo3_triage.system.paths import Layout, write_atomic, write_if_changed
from pyo3_triage.tomlcompat import tomllib
from pyo3_triage.versions.releases import Release

BUILD_TIMEOUT = 1800.0


@dataclass(frozen=True)
class Built:
    """What the build step hands on: the build, and the lock a user's crate was pinned to
    (a scenario's lock is the release's, resolved before the build)."""

    info: BuildInfo
    lock: LockInfo | None = None

    def as_json(self) -> str:
        """The cache's form (`Layout.build_info`), read back by `_cached`."""
        lock = self.lock.as_dict() if self.lock else None
        return json.dumps({**self.info.as_dict(), "lock": lock}, indent=2) + "\n"


def interpreter_tag(interp: Interpreter) -> str:
    """Names an interpreter uniquely enough for folder names (version + ABI + location)."""
    where = hashes.digest(str(interp.realpath), hashes.TAG)
    return f"{interp.version}-{interp.soabi or 'unknown'}-{where}"


@dataclass(frozen=True)
class Prepared:
    """A reproducer's crate on disk for one release, ready for maturin."""

    manifest: Path  # the Cargo.toml maturin builds
    workdir: Path  # where maturin runs
    lock: ResolvedLock | None = None  # the lock the crate pinned itself (a user's crate)


class Crate(Protocol):
    """A reproducer's crate for one release, decided when its cell is planned: what names it in
    the build key, and how it is put on disk when the key has no build in the cache."""

    def key_parts(self) -> dict[str, object]:
        """What names the crate in the build key (beside release, interpreter, toolchain)."""

    def write(self, into: Path, toolchain: Toolchain, log: Path) -> Prepared:
        """Put the crate into `into`; `locks.ResolveError` when a lock the crate pins itself
        cannot be resolved (that step's output goes to `log`)."""


class Buildable(Protocol):
    """What a build needs of a reproducer (`reproducer.Reproducer` is one): its name, for
    logs, and its crate for a release."""

    @property
    def name(self) -> str: ...

    def crate_for(self, release: Release, lock: ResolvedLock | None, abi3: str | None) -> Crate:
        """Its crate for `release` (with the release's lock, when it builds with it)."""


@dataclass(frozen=True)
class Job:
    """One build, decided before anything runs: what is built, for which cell, under which key.

    The reproducer's crate is decided here, once (a scenario's rendered, a user's project
    named by content); `build` only writes it."""

    name: str  # the reproducer's, for the build log
    release: Release
    lock: ResolvedLock | None  # the release's lock, when the reproducer builds with it
    interp: Interpreter
    profile: str
    abi3: str | None  # e.g. "abi3-py37": one stable-ABI wheel serves every CPython above
    crate: Crate
    key: str


def job_for(
    reproducer: Buildable,
    release: Release,
    lock: ResolvedLock | None,
    interp: Interpreter,
    toolchain: Toolchain,
    profile: str = "dev",
    abi3: str | None = None,
) -> Job:
    """The build a cell needs and its key. With `abi3` the wheel serves every interpreter at
    or above the floor, so the interpreter is not part of the key."""
    crate = reproducer.crate_for(release, lock, abi3)
    parts: dict[str, object] = {
        "scheme": semantics.BUILD.version,
        **crate.key_parts(),
        "pyo3": release.cargo_version,
        "python": str(interp.version),
        "python_path": str(interp.realpath),
        "soabi": interp.soabi,
        "free_threaded": interp.free_threaded,
        "rustc": toolchain.rustc_verbose,
        "maturin": toolchain.maturin,
        "profile": profile,
    }
    if toolchain.rust_name:  # chosen with --rust: its locks and crate are made for it
        parts["rust"] = toolchain.rust_name
    if toolchain.settings:  # RUSTFLAGS and the like, cargo config outside the project
        parts["settings"] = toolchain.settings
    if abi3:
        for name in ("python", "python_path", "soabi"):
            parts.pop(name)
        parts["abi3"] = abi3
    key = hashes.digest(json.dumps(parts, sort_keys=True), hashes.BUILD)
    return Job(reproducer.name, release, lock, interp, profile, abi3, crate, key)


def build(
    layout: Layout, job: Job, toolchain: Toolchain, *, rebuild: bool = False, shared: bool = True
) -> Built:
    """The job's wheel: from the cache when an identical build left one, else built now.

    `shared`: one cargo target dir per interpreter, for every release and reproducer, so what
    does not change with the release (syn, a project's own dependency tree, build scripts and
    their C) is compiled once and reused by cargo; else one per (release, interpreter). The
    wheel is the same either way: cargo keys each unit by its package, version, features and
    dependencies. Every area the build reads or writes is held in use until it returns (a
    caller that goes on to install the wheel holds the wheel's area longer)."""
    key, release = job.key, job.release
    log = layout.build_log(job.name, release.cargo_version, str(job.interp.version), key)
    with layout.wheels(key).in_use(), layout.crate(key).in_use():
        if not rebuild and (cached := _cached(layout, key, log)) is not None:
            return cached
        # Commits always share one per interpreter: cargo recompiles only what changed.
        series = "git" if release.revision else "shared" if shared else release.cargo_version
        # One per chosen toolchain too: an older cargo need not read a newer one's target dir.
        series += f"-rust-{toolchain.rust_name}" if toolchain.rust_name else ""
        target = layout.target(series, job.abi3 or interpreter_tag(job.interp))
        tree = layout.tree(release.source.name) if release.source else None
        # Scenarios of one cell share the target dir; cargo locks it during the build, but
        # maturin copies the artifact afterwards, so the whole step holds the target's mutex. A
        # concurrent run that built this very key while we waited has left it: reuse it.
        with target.in_use(), tree.in_use() if tree else contextlib.nullcontext(), target.writing():
            if not rebuild and (cached := _cached(layout, key, log)) is not None:
                return cached
            if tree is not None and not (tree.path / "Cargo.toml").is_file():
                error = f"the source of PyO3 {release.cargo_version} left the cache ({tree.path})"
                return _failed(key, log, f"{error}; run again", transient=True)
            return _build(layout, job, toolchain, log, target.path)


def _build(layout: Layout, job: Job, toolchain: Toolchain, log: Path, target: Path) -> Built:
    """Build with the target dir's lock held (see `build`): write the crate, run maturin,
    judge the result, cache it."""
    key = job.key
    crate = layout.crate(key).path
    try:
        prepared = job.crate.write(crate, toolchain, log)
    except locks.ResolveError as err:
        return _failed(key, log, str(err), compile_error=err.own)
    pinned = prepared.lock
    if pinned is not None:
        # The lock the crate pinned: beside the records, and in the cache for later results.
        write_if_changed(layout.kept_lock(pinned.pyo3, pinned.lock_hash), pinned.lock_text)
        write_if_changed(layout.cached_build_lock(key), pinned.lock_text)
    own = own_packages(prepared.manifest, crate)
    _fresh_sources(crate)
    wheels = _emptied(layout.wheels(key).path)
    # Debug info costs build time and is not needed for panic messages or backtraces; the
    # template says so in its manifest, a user's crate is told through cargo's environment.
    env = procs.clean_env(
        CARGO_TARGET_DIR=str(target), CARGO_TERM_COLOR="never", CARGO_PROFILE_DEV_DEBUG="false"
    )
    env.update(toolchain.build_env())
    if toolchain.reads_index_through_git:
        vendored = _vendored(layout, key, prepared, toolchain, log)
        if isinstance(vendored, str):
            return _failed(key, log, vendored)
        env.update(vendored)
    argv = _maturin_argv(job, toolchain, prepared, wheels)
    done = procs.run(argv, cwd=prepared.workdir, env=env, timeout=BUILD_TIMEOUT, log_path=log)
    log_text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    info = _judged(key, done, log, log_text, sorted(wheels.glob("*.whl")), own)
    kept = pinned and layout.kept_lock(pinned.pyo3, pinned.lock_hash)
    result = Built(info, pinned.info(kept) if pinned and kept else None)
    write_atomic(layout.cached_build_log(key), log_text)
    if not info.transient:
        write_atomic(layout.build_info(key), result.as_json())
    return result


def _vendored(
    layout: Layout, key: str, prepared: Prepared, toolchain: Toolchain, log: Path
) -> dict[str, str] | str:
    """What lets a cargo older than 1.68 build without crates.io's git index (a GitHub
    clone): the resolving cargo copies every dependency of the lock beside the crate, and
    the build gets a cargo home whose config replaces crates.io with that copy. A str says
    why it could not be done."""
    vendor, home = layout.vendored(key)
    done = procs.run(
        [toolchain.cargo_bin, "vendor", "--locked", "--versioned-dirs"]
        + ["--manifest-path", str(prepared.manifest), str(vendor)],
        cwd=prepared.workdir,
        env=procs.clean_env(),
        timeout=locks.RESOLVE_TIMEOUT,
        log_path=log,
        append=True,
    )
    if done.returncode != 0:
        lines = [line.strip() for line in done.stderr_tail.splitlines() if line.strip()]
        error = next((line for line in lines if line.startswith("error")), None)
        return f"cannot copy the dependencies for {toolchain.rust_name}: " + (
            error or f"cargo vendor exited with {done.returncode}"
        )
    home.mkdir(parents=True, exist_ok=True)
    config = (
        '[source.crates-io]\nreplace-with = "vendored"\n\n'
        f"[source.vendored]\ndirectory = {json.dumps(str(vendor))}\n"
    )
    write_atomic(home / "config.toml", config)
    return {"CARGO_HOME": str(home)}


def _emptied(wheels: Path) -> Path:
    """The build's wheel folder, made and emptied of an earlier build's wheels."""
    wheels.mkdir(parents=True, exist_ok=True)
    for stale in wheels.glob("*.whl"):
        stale.unlink()
    return wheels


def _maturin_argv(job: Job, toolchain: Toolchain, prepared: Prepared, wheels: Path) -> list[str]:
    """maturin's command line. The matrix's profile always wins over a `profile` in the
    project's `[tool.maturin]`: dev (without debug info) unless the matrix asks for --release."""
    manifest = [] if names_manifest(prepared) else ["--manifest-path", str(prepared.manifest)]
    argv = [
        toolchain.maturin_bin,
        "build",
        *manifest,
        "--interpreter",
        str(job.interp.executable),
        "--out",
        str(wheels),
        "--compatibility",
        "linux",
        "--auditwheel",
        "skip",
        "--locked",
    ]
    return [*argv, "--release"] if job.profile == "release" else [*argv, "--profile", "dev"]


def names_manifest(prepared: Prepared) -> bool:
    """The pyproject.toml where maturin runs names the manifest it builds (`[tool.maturin]
    manifest-path`): maturin is then run from there without `--manifest-path`, as `maturin
    build` would be, so it reads that pyproject's `[tool.maturin]` (python-source,
    module-name, features, ...). Given `--manifest-path`, maturin 1.x looks for a
    pyproject.toml from the manifest's folder up to its Cargo workspace's root only, and a
    bindings crate that is its own workspace (as `manifests.rewrite` makes a lone crate)
    would be built without the project's."""
    tool = _toml(prepared.workdir / "pyproject.toml").get("tool")
    maturin = tool.get("maturin") if isinstance(tool, dict) else None
    named = maturin.get("manifest-path") if isinstance(maturin, dict) else None
    if not isinstance(named, str):
        return False
    return (prepared.workdir / named).resolve() == prepared.manifest.resolve()


def _judged(
    key: str, done: procs.Completed, log: Path, log_text: str, built: list[Path], own: set[str]
) -> BuildInfo:
    """What maturin's run says of the build: a wheel, a compile error of the reproducer's own
    code or of PyO3's (or a library without the module's init symbol), or a failure to set up
    (then whether the inputs explain it, so it may be cached)."""
    ok = done.returncode == 0 and bool(built)
    error = no_init = None
    pyo3 = None if ok else failed_pyo3_crate(log_text, own)
    if ok and own and not compiled(log_text, own):
        # Never package a library this build did not compile: it may be another reproducer's.
        ok, error = False, "cargo did not compile the reproducer's own crate (stale target dir)"
    elif ok and (no_init := missing_init_symbol(log_text)):
        ok, error = False, no_init  # its module name is not its #[pymodule]'s: a build-error
    elif not ok:
        error = first_error(log_text) or (
            "build timed out" if done.timed_out else f"maturin exited with {done.returncode}"
        )
        if (dependency := pyo3 or failed_dependency(log_text, own)) is not None:
            error = not_compiled(dependency, error)
    return BuildInfo(
        key=key,
        ok=ok,
        wheel=str(built[-1]) if ok else None,
        duration=round(done.duration, 3),
        cached=False,
        log=str(log),
        error=error,
        compiled_pyo3=compiled(log_text, {"pyo3"}),
        transient=not worth_caching(ok, error, done.timed_out or (done.returncode or 0) < 0)
        or (done.returncode == 0 and not ok and not no_init),
        compile_error=bool(no_init) or (not ok and own_code_failed(log_text, own)),
        denied_lint=(denied_lint(log_text) or "") if not ok else "",
        pyo3_failed=pyo3 or "",
    )


def _fresh_sources(crate: Path) -> None:
    """Give every file of the crate this build's time, so cargo compiles the crate's own code.

    Every reproducer and release built for an interpreter shares one target dir, where cargo knows a
    package by name and version, not by folder, and calls it fresh when its sources are older
    than its last build there. A crate folder kept from an earlier build (a scenario's, a
    user's project copied with its own times) would then get another reproducer's library
    with the same name. Dependencies (PyO3 included) are not touched and stay compiled."""
    now = time.time_ns()
    for folder, _dirs, files in os.walk(crate):
        for name in files:
            os.utime(os.path.join(folder, name), ns=(now, now))


def own_packages(manifest: Path, top: Path) -> set[str]:
    """The packages of the crate maturin builds (its `manifest`), of its Cargo workspace's
    members, and of the path dependencies they have inside the project (a pure-Rust core
    beside the bindings): the reproducer's own code, as cargo names it in "could not compile
    `NAME`".

    The workspace is cargo's: the manifest's own `[workspace]`, else the nearest folder above
    it (up to `top`, the copied project) whose Cargo.toml has one. A project that keeps its
    bindings in a subfolder (`[tool.maturin] manifest-path`) has no manifest at its root, or
    one of another package."""
    if not manifest.is_file():
        return set()
    roots = [manifest]
    if "workspace" not in _toml(manifest):
        for folder in manifest.parent.parents:
            if not folder.is_relative_to(top):
                break
            if "workspace" in _toml(folder / "Cargo.toml"):
                roots.append(folder / "Cargo.toml")
                break
    names: set[str] = set()
    manifests = list(roots)
    seen: set[Path] = set()
    while manifests:
        manifest = manifests.pop()
        if manifest in seen or not manifest.is_file():
            continue
        seen.add(manifest)
        data = _toml(manifest)
        package = data.get("package", {})
        if isinstance(package, dict) and isinstance(package.get("name"), str):
            names.add(package["name"])
        workspace = data.get("workspace", {})
        members = workspace.get("members", []) if isinstance(workspace, dict) else []
        for pattern in members if isinstance(members, list) else []:
            if isinstance(pattern, str):
                manifests.extend(m / "Cargo.toml" for m in manifest.parent.glob(pattern))
        for folder in _path_dependencies(data, manifest.parent):
            if folder.resolve().is_relative_to(top.resolve()):
                manifests.append(folder / "Cargo.toml")
    return names


def _path_dependencies(data: dict[str, object], folder: Path) -> list[Path]:
    """The folders of a manifest's `path = ...` dependencies (every dependency table,
    per-target ones and `[workspace.dependencies]` included)."""
    tables: list[object] = []
    for owner in (data, *_tables(data.get("target")).values()):
        if isinstance(owner, dict):
            tables += [owner.get(name) for name in _DEPENDENCY_TABLES]
    tables.append(_tables(data.get("workspace")).get("dependencies"))
    found = []
    for table in tables:
        for entry in _tables(table).values():
            if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                found.append(folder / entry["path"])
    return found


_DEPENDENCY_TABLES = ("dependencies", "dev-dependencies", "build-dependencies")


def _tables(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def _toml(path: Path) -> dict[str, object]:
    """A TOML file's tables, {} when it is missing or unreadable."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def _failed(
    key: str, log: Path, error: str, *, transient: bool = False, compile_error: bool = False
) -> Built:
    """A build that could not start (a user crate's lock not resolved, a commit's tree gone):
    a setup failure, cached only when it is not one of the moment (the network); or, with
    `compile_error`, the project's own manifest asking the release for what it lacks."""
    transient = transient or not worth_caching(False, error, timed_out=False)
    info = BuildInfo(key, False, None, 0.0, False, str(log), error, False, transient)
    return Built(replace(info, compile_error=compile_error))


def _local_log(layout: Layout, key: str, stored: str, log: Path) -> Path | None:
    """A cached build's log, copied into this results folder so every record's log exists;
    None when no copy is left."""
    if log.is_file():
        return log
    for source in (layout.cached_build_log(key), Path(stored)):
        try:
            text = source.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        try:
            write_atomic(log, text)
        except OSError as err:  # a full disk fails a write that names no file: name it
            if err.filename is not None:
                raise
            raise OSError(err.errno, err.strerror, str(log)) from err
        return log
    return None


def _cached(layout: Layout, key: str, log: Path) -> Built | None:
    try:
        data = json.loads(layout.build_info(key).read_text(encoding="utf-8"))
        info = BuildInfo.from_dict(data)
        lock = LockInfo.from_dict(data["lock"]) if data.get("lock") else None
    except (OSError, ValueError, TypeError, KeyError):
        return None
    if info.ok and not (info.wheel and Path(info.wheel).is_file()):
        return None
    local = _local_log(layout, key, info.log, log)
    if local is None:
        return None  # the evidence behind the cached result is gone: build again
    if lock is not None:  # a user crate's own pinned lock
        try:
            text = layout.cached_build_lock(key).read_text(encoding="utf-8")
        except OSError:
            return None  # the lock behind the cached build is gone: build again
        kept = layout.kept_lock(lock.pyo3, lock.lock_hash)
        write_if_changed(kept, text)  # this results folder gets its copy too
        lock = replace(lock, file=str(kept))
    compile_error, lint = info.compile_error, info.denied_lint
    if not info.ok and "denied_lint" not in data:  # cached before these were told
        text, crate = local.read_text(encoding="utf-8", errors="replace"), layout.crate(key).path
        compile_error = own_code_failed(text, own_packages(crate / "Cargo.toml", crate))
        lint = denied_lint(text) or ""
    if not info.ok and "pyo3_failed" not in data:  # cached before PyO3's own failure was told
        text, crate = local.read_text(encoding="utf-8", errors="replace"), layout.crate(key).path
        if pyo3 := failed_pyo3_crate(text, own_packages(crate / "Cargo.toml", crate)):
            said = f"dependency `{pyo3}` does not compile: "
            error = not_compiled(pyo3, (info.error or "").removeprefix(said))
            info = replace(info, pyo3_failed=pyo3, error=error)
    info = replace(
        info,
        cached=True,
        duration=0.0,
        compiled_pyo3=False,
        log=str(local),
        compile_error=compile_error,
        denied_lint=lint,
    )
    return Built(info, lock)
