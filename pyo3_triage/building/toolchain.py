"""The tools that co-vary with every result: rustc, cargo, maturin, uv.

They are recorded in every record and are part of every cache key, so a toolchain change is
never mistaken for a PyO3 change.
"""

from __future__ import annotations

import functools
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from pyo3_triage.errors import UserError
from pyo3_triage.evidence import ToolVersions
from pyo3_triage.system import procs


@dataclass(frozen=True)
class Toolchain:
    rustc_verbose: str  # `rustc -vV`, whole
    cargo: str
    maturin: str
    uv: str
    cargo_bin: str
    maturin_bin: str
    uv_bin: str

    @property
    def rustc(self) -> str:
        return self.rustc_verbose.splitlines()[0] if self.rustc_verbose else ""

    @property
    def versions(self) -> ToolVersions:
        """What a record keeps of the toolchain (not where its binaries live)."""
        return ToolVersions(self.rustc, self.rustc_verbose, self.cargo, self.maturin, self.uv)


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
        rustc_verbose=_version([rustc, "-vV"]),
        cargo=_version([cargo, "-V"]),
        maturin=_version([maturin, "--version"]),
        uv=_version([uv, "--version"]),
        cargo_bin=cargo,
        maturin_bin=maturin,
        uv_bin=uv,
    )
