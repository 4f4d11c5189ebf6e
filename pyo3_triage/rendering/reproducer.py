"""What every step after selection needs of a reproducer, whichever of the two kinds it is.

A `scenarios.Scenario` is a folder the template renders into a crate and a driver script runs;
a `usercrate.UserCrate` is the user's own maturin project and the command that shows the bug.
Planning, keys, runs, records and reports speak only this protocol; the two places that make
a crate on disk (`build.plan`, `build.build`) and the one that picks the run's folder ask
which kind they have.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from packaging.version import Version

from pyo3_triage.rendering.companions import Choice


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

    def companions_for(self, release: Version) -> Choice:
        """The versions of the crates it depends on that depend on PyO3 (`numpy`,
        `pythonize`, ...) for a release, or which of them have none."""

    def argv(self, python: Path) -> list[str]:
        """The command that runs it, with `python` the cell's venv interpreter."""
