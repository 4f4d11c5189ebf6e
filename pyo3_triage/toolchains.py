"""The Rust toolchains a run asks for (`--rust`), and rustup, which holds and installs them.

`--rust 1.74..1.80,stable` names toolchains the way rustup does: `1.80` is the newest patch of
1.80, `stable`, `beta`, `nightly-2024-05-01` or any toolchain rustup has installed by name.
Choosing is pure (`choices`); a toolchain is installed (`--profile minimal`, once, with a
progress line) only when a cell first needs it, so a bisect over 26 toolchains installs the
few it probes. Toolchains live in rustup's folders, never in this tool's cache.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock
from packaging.version import InvalidVersion, Version

from pyo3_triage.errors import UserError
from pyo3_triage.system import procs

FORMS_HINT = "use e.g. 1.80, 1.74..1.95, stable, nightly-2024-05-01 or a comma list of them"
INSTALL_TIMEOUT = 1800.0
# A range bound or a version name: 1.80 (newest patch of 1.80) or 1.80.1.
_VERSION_NAME = re.compile(r"1\.(\d{1,3})(?:\.(\d{1,3}))?")
# rustup's toolchain name grammar (`rustup help toolchain`): <channel>[-<date>][-<host>], the
# channel `stable`, `beta`, `nightly` or a version (`1.80`, `1.80.1`, `1.80.0-beta.2`), the
# host a target triple, whole or partial (`-x86_64-unknown-linux-gnu`, `-msvc`). Anything
# else is a custom toolchain's name, which only an installed one can have.
_CHANNEL_NAME = re.compile(
    r"(?:stable|beta|nightly|1\.\d{1,3}(?:\.\d{1,3})?(?:-beta(?:\.\d+)?)?)"
    r"(?:-\d{4}-\d{2}-\d{2})?(?:-[a-z][a-z0-9_.]*)*"
)
_RELEASE_LINE = re.compile(r"^release:\s*(\S+)", re.MULTILINE)


@dataclass(frozen=True, order=True)
class RustChoice:
    """One toolchain a run asks for, by rustup's name; `version` is known from the name
    (`1.80` -> 1.80.0, the floor of its patches) or, for a channel, from its installed rustc."""

    version: Version
    name: str  # also how tables, records and the command line name it
    # False for a channel `--list` found not installed: its version is unknown (nothing is
    # installed to learn it) and `version` is only a stand-in newer than any Rust window.
    known: bool = True


# What `--list` takes a channel rustup has not installed for: newer than every release's
# Rust window, so no cell is called outside one on a guess.
UNKNOWN_VERSION = Version("999")


def _version_of(name: str) -> Version | None:
    found = _VERSION_NAME.fullmatch(name)
    return Version(f"1.{found[1]}.{found[2] or 0}") if found else None


def parse(spec: str, custom: Collection[str] = ()) -> list[str]:
    """The toolchain names a `--rust` value asks for, in its order, each once: ranges of
    minors expanded (`1.78..1.80` -> 1.78, 1.79, 1.80). Each must be a name rustup's grammar
    allows or one of `custom` (the toolchains rustup has, `installed_names`), so a word rustup
    could never accept is one line before rustup runs. Pure: nothing is run."""
    names: list[str] = []
    items = [item.strip() for item in spec.split(",")]
    if not any(items):
        raise UserError(f"--rust is empty; {FORMS_HINT}")
    for item in items:
        if not item:
            continue
        if ".." in item:
            names += _range(item)
        elif _CHANNEL_NAME.fullmatch(item) or item in custom:
            names.append(item)
        else:
            raise UserError(
                f"--rust {item!r} is not a toolchain name rustup accepts, nor one it has "
                f"installed; {FORMS_HINT}"
            )
    return list(dict.fromkeys(names))


def installed_names(env: dict[str, str] | None = None) -> frozenset[str]:
    """The names of the toolchains in rustup's folder (a custom one's is its own name), read
    from the folder: nothing is run."""
    return frozenset(path.name for path in rustup_toolchains(env)[1])


def _range(item: str) -> list[str]:
    low, _, high = item.partition("..")
    bounds = [_VERSION_NAME.fullmatch(b.strip()) for b in (low, high)]
    if bounds[0] is None or bounds[1] is None or bounds[0][2] or bounds[1][2]:
        raise UserError(
            f"--rust {item!r}: a range runs from one Rust minor to another, both given, "
            "e.g. 1.74..1.95"
        )
    first, last = int(bounds[0][1]), int(bounds[1][1])
    if first > last:
        raise UserError(f"--rust {item!r} runs backwards; write the older minor first")
    return [f"1.{minor}" for minor in range(first, last + 1)]


@dataclass(frozen=True)
class Rust:
    """An installed toolchain: what it says it is and where its binaries are."""

    name: str  # rustup's name for it, as asked
    release: str  # rustc's release, e.g. "1.80.1" or "1.97.0-nightly"
    rustc_verbose: str  # `rustc -vV`, whole
    cargo: str  # `cargo -V`
    bin_dir: str  # its rustc and cargo

    @property
    def version(self) -> Version:
        """The release as a version (a nightly counts as the release it leads to)."""
        try:
            return Version(self.release.split("-")[0])
        except InvalidVersion:
            return Version("0")

    @property
    def cargo_bin(self) -> str:
        return str(Path(self.bin_dir) / "cargo")

    @property
    def rustc_bin(self) -> str:
        return str(Path(self.bin_dir) / "rustc")


class Rustup:
    """rustup on this machine: which toolchains it has, what they are, installing one.

    The one place rustup is run. A toolchain is probed once per process (rustc -vV, cargo -V,
    where its binaries are) and installed at most once, under an inter-process mutex."""

    def __init__(
        self, binary: str, mutex: Path, log_dir: Path, notify: Callable[[str], None]
    ) -> None:
        self.binary = binary
        self.mutex = mutex
        self.log_dir = log_dir
        self.notify = notify
        self._found: dict[str, Rust | str] = {}  # name -> toolchain, or why it is missing
        self._absent: set[str] = set()  # probed and not installed (until `ensure` installs)
        self._lock = threading.Lock()

    @classmethod
    def on_path(cls, mutex: Path, log_dir: Path, notify: Callable[[str], None]) -> Rustup:
        binary = shutil.which("rustup")
        if binary is None:
            raise UserError(
                "Rust toolchains (--rust, a scenario's verify_rust) are chosen through rustup, "
                "which is not on PATH; install Rust with rustup (https://rustup.rs) or leave "
                "--rust out to use the toolchain on PATH"
            )
        return cls(binary, mutex, log_dir, notify)

    def _env(self) -> dict[str, str]:
        # Never let a rustup call install something implicitly (rustup 1.28 would): installing
        # is `ensure`'s job, with its progress line.
        return procs.clean_env(RUSTUP_AUTO_INSTALL="0")

    def installed(self, name: str) -> Rust | None:
        """The toolchain if rustup has it (nothing is installed)."""
        found = self._found.get(name)
        if isinstance(found, Rust):
            return found
        if name in self._absent:
            return None
        probed = self._probe(name)
        if probed is None:
            self._absent.add(name)
        else:
            self._found[name] = probed
        return probed

    def ensure(self, name: str) -> Rust | str:
        """The toolchain, installed first when rustup lacks it; else why it could not be had
        (rustup's own words), remembered for the rest of the run."""
        with self._lock:  # cells of several threads may ask for the same toolchain at once
            if name in self._found:
                return self._found[name]
            self._absent.discard(name)
            found: Rust | str | None = self.installed(name)
            if found is None:
                found = self._install(name)
            self._found[name] = found
            return found

    def _install(self, name: str) -> Rust | str:
        self.mutex.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.mutex)):  # rustup's folders are one per user, not per run
            found = self._probe(name)  # another run may have installed it meanwhile
            if found is not None:
                return found
            self.notify(f"installing Rust {name} through rustup (--profile minimal), once")
            log = self.log_dir / f"rustup-install-{re.sub(r'[^A-Za-z0-9._-]', '_', name)}.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            started = time.monotonic()
            done = procs.run(
                [
                    self.binary,
                    "toolchain",
                    "install",
                    name,
                    "--profile",
                    "minimal",
                    "--no-self-update",
                ],
                env=self._env(),
                timeout=INSTALL_TIMEOUT,
                log_path=log,
            )
            found = self._probe(name) if done.returncode == 0 else None
            if found is None:
                return f"rustup could not install Rust {name}: {_last_error(done)} (log: {log})"
            self.notify(
                f"installed Rust {name} ({found.release}) in {time.monotonic() - started:.0f} s"
            )
            return found

    def _probe(self, name: str) -> Rust | None:
        """What the installed toolchain `name` is; None when rustup does not have it."""
        env = self._env()
        where = procs.run([self.binary, "which", "--toolchain", name, "rustc"], env=env, timeout=60)
        rustc = where.stdout_tail.strip().splitlines()[-1:] if where.returncode == 0 else []
        if not rustc or not Path(rustc[0]).is_file():
            return None
        rustc_bin = Path(rustc[0])
        cargo_bin = rustc_bin.with_name("cargo")
        verbose = procs.run([str(rustc_bin), "-vV"], env=env, timeout=60)
        cargo = procs.run([str(cargo_bin), "-V"], env=env, timeout=60)
        if verbose.returncode != 0 or not cargo_bin.is_file():
            return None
        release = _RELEASE_LINE.search(verbose.stdout_tail)
        return Rust(
            name=name,
            release=release[1] if release else "",
            rustc_verbose=verbose.stdout_tail.strip(),
            cargo=cargo.stdout_tail.strip() if cargo.returncode == 0 else "",
            bin_dir=str(rustc_bin.parent),
        )


def _last_error(done: procs.Completed) -> str:
    lines = [line.strip() for line in done.stderr_tail.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error")]
    if done.timed_out:
        return "timed out"
    return (errors or lines or [f"exit status {done.returncode}"])[-1]


def choices(
    names: Sequence[str], rustup: Rustup, *, install: bool = True
) -> tuple[RustChoice, ...]:
    """The asked toolchains in version order. A version name needs nothing from rustup yet
    (it is installed when a cell first needs it); a channel or custom name is installed now
    (its version decides which PyO3 releases it can build). Without `install` (`--list`)
    nothing is installed: a channel rustup lacks is a choice of unknown version."""
    chosen = []
    for name in names:
        version = _version_of(name)
        if version is None and not install:
            installed = rustup.installed(name)
            if installed is None:
                chosen.append(RustChoice(UNKNOWN_VERSION, name, known=False))
                continue
            version = installed.version
        if version is None:
            found = rustup.ensure(name)
            if isinstance(found, str):
                raise UserError(f"--rust {name}: {found}")
            version = found.version
        chosen.append(RustChoice(version, name))
    return tuple(sorted(chosen))


def rustup_toolchains(env: dict[str, str] | None = None) -> tuple[Path, list[Path]]:
    """rustup's toolchains folder and the toolchains in it (read from the folder, nothing
    run): what `--cache-info` shows beside the cache, which never holds a toolchain."""
    source = os.environ if env is None else env
    home = Path(source.get("RUSTUP_HOME") or Path.home() / ".rustup")
    folder = home / "toolchains"
    found = sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    return folder, found
