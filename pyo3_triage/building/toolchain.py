"""The tools that co-vary with every result: rustc, cargo, maturin, uv.

They are recorded in every record and are part of every cache key, so a toolchain change is
never mistaken for a PyO3 change. `detect` finds the ones on PATH; `with_rust` swaps in a
Rust toolchain chosen with `--rust` (maturin and uv stay the harness's own).
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from packaging.version import InvalidVersion, Version

from pyo3_triage import hashes
from pyo3_triage.errors import UserError
from pyo3_triage.evidence import ToolVersions
from pyo3_triage.system import procs
from pyo3_triage.toolchains import Rust

# The lock format cargo 1.78 began to read (and 1.83 to write); older cargo reads version 3,
# which says the same of a lock whose packages all come from a registry.
LOCK_V4_CARGO = Version("1.78")
# The first cargo that can read crates.io's sparse index (HTTP); before it, a git clone from GitHub.
SPARSE_CARGO = Version("1.68")
# The first Rust with the 2021 edition, which the crate template is written in.
EDITION_2021 = Version("1.56")
# The first cargo that resolves dependencies for an older Rust (`incompatible-rust-versions`).
MSRV_AWARE_CARGO = Version("1.84")


@dataclass(frozen=True)
class Toolchain:
    rustc_verbose: str  # `rustc -vV`, whole
    cargo: str
    maturin: str
    uv: str
    cargo_bin: str
    maturin_bin: str
    uv_bin: str
    # A toolchain chosen with --rust; None for the one on PATH. The cargo above then resolves
    # locks for it (the newer of the two cargos).
    rust: Rust | None = None
    # rustup's name of the toolchain on PATH ("" without rustup): builds name it, so a
    # project's rust-toolchain.toml cannot swap the compiler the records name.
    rustup_name: str = ""
    # What else changes what cargo builds: RUSTFLAGS-like variables and cargo configuration
    # outside the project, as (name, value or content digest); part of every build key.
    settings: tuple[tuple[str, str], ...] = ()

    @property
    def rust_name(self) -> str:
        """The chosen toolchain's rustup name, "" for the one on PATH."""
        return self.rust.name if self.rust else ""

    @property
    def rustc(self) -> str:
        return self.rustc_verbose.splitlines()[0] if self.rustc_verbose else ""

    @property
    def versions(self) -> ToolVersions:
        """What a record keeps of the toolchain (not where its binaries live)."""
        settings = "; ".join(f"{name}={value}" for name, value in self.settings)
        return ToolVersions(
            self.rustc, self.rustc_verbose, self.cargo, self.maturin, self.uv, settings
        )

    def with_rust(self, rust: Rust) -> Toolchain:
        """This toolchain with `rust` building the cells; locks are resolved by the newer of
        the two cargos (Rust-version-aware resolution needs cargo 1.84), for `rust`."""
        resolver = self.cargo_bin
        mine = self.rust.release if self.rust else _cargo_release(self.cargo)
        if _release_version(rust.release) >= _release_version(mine):
            resolver = rust.cargo_bin
        return replace(
            self, rustc_verbose=rust.rustc_verbose, cargo=rust.cargo, cargo_bin=resolver, rust=rust
        )

    def _older_than(self, version: Version) -> bool:
        """A chosen toolchain older than `version` (the one on PATH never counts)."""
        return self.rust is not None and self.rust.version < version

    @property
    def reads_index_through_git(self) -> bool:
        """A chosen toolchain whose cargo knows only crates.io's git index (before 1.68): its
        builds get their dependencies copied by the resolving cargo (`build._vendored`)."""
        return self._older_than(SPARSE_CARGO)

    def build_env(self) -> dict[str, str]:
        """What a build's environment adds for a chosen toolchain: rustup's proxies select it,
        and its folder comes first on PATH for a cargo that is not rustup's."""
        if self.rust is None:
            return self._pinned()
        path = os.pathsep.join([self.rust.bin_dir, os.environ.get("PATH", "")])
        # 1.68 and 1.69 know crates.io's sparse index but do not use it unless told.
        return {
            "RUSTUP_TOOLCHAIN": self.rust.name,
            "PATH": path,
            "CARGO_REGISTRIES_CRATES_IO_PROTOCOL": "sparse",
        }

    def _pinned(self) -> dict[str, str]:
        """The toolchain on PATH, named to rustup: a rust-toolchain.toml in a project's copy
        would otherwise pick another compiler than the one detected (and recorded)."""
        return {"RUSTUP_TOOLCHAIN": self.rustup_name} if self.rustup_name else {}

    def resolve_env(self) -> dict[str, str]:
        """What resolving a lock adds for a chosen toolchain: cargo picks, for every crate, a
        version whose rust-version the toolchain satisfies (falling back to the newest when
        none does, so the build says which crate needs a newer Rust)."""
        if self.rust is None:
            return self._pinned()
        return {
            "CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS": "fallback",
            "RUSTC": self.rust.rustc_bin,
        }

    def readable_lock(self, text: str) -> str:
        """`text` in a lock format the chosen toolchain's cargo reads."""
        if self._older_than(LOCK_V4_CARGO):
            return text.replace("\nversion = 4\n", "\nversion = 3\n", 1)
        return text

    def template_manifest(self, text: str) -> str:
        """The crate template's Cargo.toml for this toolchain: edition 2018 for a Rust older
        than the 2021 edition (PyO3 0.16-0.19 declare Rust 1.48), else as rendered."""
        if self._older_than(EDITION_2021):
            return text.replace('\nedition = "2021"\n', '\nedition = "2018"\n', 1)
        return text


def resolves_for_any_rust(cargo: str) -> bool | None:
    """Whether a cargo (`cargo -V`) resolves for an older Rust's rust-version (cargo 1.84's
    Rust-version-aware resolution); None when its version cannot be read."""
    release = _cargo_release(cargo)
    return _release_version(release) >= MSRV_AWARE_CARGO if release else None


def _release_version(release: str) -> Version:
    try:
        return Version(release.split("-")[0])
    except InvalidVersion:
        return Version("0")


def _cargo_release(cargo: str) -> str:
    """`cargo 1.95.0 (f2d3ce0bd 2026-03-21)` -> "1.95.0"."""
    parts = cargo.split()
    return parts[1] if len(parts) > 1 else ""


def _beside_python(name: str) -> str | None:
    """Prefer the tool installed with the harness (same env) over whatever PATH has."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.is_file() else shutil.which(name)


def _version(argv: list[str]) -> str:
    done = procs.run(argv, timeout=60)
    return done.stdout_tail.strip() if done.returncode == 0 and not done.timed_out else ""


def _uv_bin() -> str | None:
    try:
        import uv  # the PyPI package ships the binary

        return uv.find_uv_bin()
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


@functools.cache
def detect() -> Toolchain:
    cargo = shutil.which("cargo")
    rustc = shutil.which("rustc")
    if not cargo or not rustc:
        raise UserError("cargo/rustc not found on PATH; install Rust with rustup and retry")
    maturin = _beside_python("maturin")
    if not maturin:
        raise UserError("maturin not found; run the README's setup line (pip install -e .)")
    uv = _uv_bin()
    if not uv:
        raise UserError("uv not found; run the README's setup line (pip install -e .)")
    return Toolchain(
        rustup_name=_rustup_name(rustc),
        settings=build_settings(os.environ, _cargo_configs()),
        rustc_verbose=_version([rustc, "-vV"]),
        cargo=_version([cargo, "-V"]),
        maturin=_version([maturin, "--version"]),
        uv=_version([uv, "--version"]),
        cargo_bin=cargo,
        maturin_bin=maturin,
        uv_bin=uv,
    )


# Variables through which cargo and rustc take build settings from the environment; the
# target dir, colours and debug info are set by the build itself.
_SETTING_NAMES = frozenset({"RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_INCREMENTAL"})
_SETTING_PREFIXES = ("CARGO_BUILD_", "CARGO_TARGET_", "CARGO_PROFILE_", "CARGO_UNSTABLE_")
_SET_BY_BUILD = frozenset({"CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR"})


def build_settings(
    environ: Mapping[str, str], configs: Sequence[Path]
) -> tuple[tuple[str, str], ...]:
    """The environment's build settings and the cargo configuration files outside any
    project (by content): what changes a wheel besides its sources and the toolchain."""
    found = [
        (name, value)
        for name, value in environ.items()
        if (name in _SETTING_NAMES or name.startswith(_SETTING_PREFIXES))
        and name not in _SET_BY_BUILD
    ]
    for config in configs:
        try:
            content = config.read_bytes()
        except OSError:
            continue
        found.append((f"cargo config {config}", hashes.digest(content, hashes.CONTENT)))
    return tuple(sorted(found))


def _cargo_configs() -> list[Path]:
    """Cargo configuration every build here reads: cargo's home's, and the `.cargo` folders
    above the cache and the home folder (cargo looks in every folder above a crate)."""
    home = Path(os.environ.get("CARGO_HOME") or Path.home() / ".cargo")
    folders = [home, *(folder / ".cargo" for folder in Path.home().resolve().parents)]
    names = ("config", "config.toml")
    return [folder / name for folder in dict.fromkeys(folders) for name in names]


def _rustup_name(rustc: str) -> str:
    """The rustup toolchain `rustc` on PATH is, from its sysroot (`~/.rustup/toolchains/NAME`),
    or "" when it is not rustup's."""
    done = procs.run([rustc, "--print", "sysroot"], timeout=60)
    sysroot = Path(done.stdout_tail.strip()) if done.returncode == 0 else None
    if sysroot is None or sysroot.parent.name != "toolchains":
        return ""
    return sysroot.name
