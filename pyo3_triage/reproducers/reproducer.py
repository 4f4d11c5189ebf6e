"""What every step after selection needs of a reproducer, whichever of the two kinds it is.

A `scenarios.Scenario` is a folder the template renders into a crate and a driver script runs;
a `usercrate.UserCrate` is the user's own maturin project and the command that shows the bug.
Planning, keys, builds, runs, records and reports speak only this protocol: each kind makes its
own crate for a release (`crate_for`, a `Crate`), says where it runs (`run_folder`), takes its
companion crates and says what it adds to a bisect question. No step asks which kind it has.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from packaging.version import Version

from pyo3_triage.reproducers.companions import Choice, Companion

if TYPE_CHECKING:
    from pyo3_triage.building.build import Crate
    from pyo3_triage.building.locks import ResolvedLock
    from pyo3_triage.system.areas import Area
    from pyo3_triage.system.paths import Layout
    from pyo3_triage.versions.releases import Release


# Python's options that take the next word as their value (`python -X dev repro.py`): reading
# a run command for its script steps over them.
PYTHON_VALUE_OPTIONS = ("-X", "-W", "--check-hash-based-pycs")


class Reproducer(Protocol):
    @property
    def name(self) -> str:
        """Names the reproducer's records, logs and tables."""

    @property
    def folder(self) -> Path:
        """Where it lives (the scenario folder, or the crate's start folder)."""

    @property
    def description(self) -> str: ...

    @property
    def upstream(self) -> str:
        """A link to the upstream issue, or ''."""

    @property
    def timeout(self) -> float:
        """Seconds one run may take before it counts as a hang."""

    @property
    def module(self) -> str:
        """The Python module the extension is imported as."""

    @property
    def packages(self) -> tuple[str, ...]:
        """The top-level names the project's own Python code is imported by: the module's
        package first (a user crate's `[project] name` too, when it differs)."""

    @property
    def requirements(self) -> tuple[str, ...]:
        """Installed beside the extension before the run (part of the run's key)."""

    @property
    def own_abi3(self) -> str | None:
        """The stable-ABI feature the reproducer itself asks for (a crate's `abi3-py38`)."""

    @property
    def source_text(self) -> str:
        """The reproducer's own Rust, for matching CHANGELOG words ('' when not read)."""

    @property
    def build_hash(self) -> str:
        """Everything about the reproducer that changes the compiled extension."""

    @property
    def run_hash(self) -> str:
        """Everything that changes a run of an already-built extension."""

    def selector(self) -> tuple[str, ...]:
        """The command-line options that pick exactly this reproducer again, from anywhere."""

    def excludes(self, python: Version) -> str | None:
        """Why the reproducer itself rules a CPython out, or None."""

    def rust_excludes(self, rust: Version) -> str | None:
        """Why the reproducer itself rules a Rust toolchain out (a user crate's rust-version
        or edition), or None."""

    def companions_for(self, release: Version) -> Choice:
        """The versions of the crates it depends on that depend on PyO3 (`numpy`,
        `pythonize`, ...) for a release, or which of them have none."""

    def argv(self, python: Path) -> list[str]:
        """The command that runs it, with `python` the cell's venv interpreter."""

    @property
    def needs_release_lock(self) -> bool:
        """Built with the release's own pinned lock, resolved before the cell is keyed (a
        scenario); a user's crate pins its own lock while its crate is written."""

    def crate_for(self, release: Release, lock: ResolvedLock | None, abi3: str | None) -> Crate:
        """Its crate for `release` (`lock`: the release's lock when `needs_release_lock`;
        `abi3`: the stable-ABI feature to build with, e.g. "abi3-py37")."""

    def run_folder(self, layout: Layout, build_key: str, record_key: str) -> tuple[Area, Path]:
        """Where a run starts, and the cache area that folder is in."""

    def ready(self, folder: Path) -> None:
        """Make the folder a run starts in (`run_folder`), its area held in use."""

    def registry_dependencies(self) -> Sequence[tuple[str, str, tuple[str, ...]]]:
        """Its dependencies from crates.io that may depend on PyO3 themselves: (the name its
        manifest uses, the crate's name, its features)."""

    def with_companions(self, found: tuple[Companion, ...]) -> Reproducer:
        """Itself, moving `found` (those dependencies that do depend on PyO3) with each
        release."""

    def question_args(self) -> tuple[str, ...]:
        """What it adds to a bisect question's identity beyond its name: a user's crate is
        asked with its run command and options, a scenario by its name alone."""
