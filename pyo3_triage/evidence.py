"""What a cell leaves behind, typed: each run, the build, the lock and the tools.

A `Record` is made of these. Each type knows its JSON form; a form with a field it does not
know is refused (the record is then ignored, never half-trusted).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from pyo3_triage.outcome import Outcome


@dataclass(frozen=True)
class RunDetails:
    """One run of a reproducer (or of the import check), classified, with its evidence."""

    outcome: Outcome
    exit_status: int | None = None
    signal: str | None = None
    panic_message: str | None = None  # the first Rust panic message, or a PanicException's
    exception: str | None = None  # the exception line ending the last traceback
    duration: float = 0.0
    stdout_tail: str = ""
    stderr_tail: str = ""
    log: str | None = None
    truncated: bool = False

    @property
    def load_dependent(self) -> bool:
        """The outcome may say more about what else the machine was doing than about the
        reproducer: a timeout (another build was compiling), or a SIGKILL no timeout sent (the
        kernel's out-of-memory killer). Such an outcome is a verdict only once a rerun
        confirms it (`Record.unconfirmed`)."""
        if self.outcome is Outcome.TIMEOUT:
            return True
        return self.outcome is Outcome.SIGNAL and self.signal == "SIGKILL"

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["outcome"] = self.outcome.value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunDetails:
        return cls(**{**data, "outcome": Outcome(data["outcome"])})


@dataclass(frozen=True)
class LockInfo:
    """The Cargo.lock a cell was built with: its PyO3 crates and where a copy is kept."""

    pyo3: str
    crates: tuple[tuple[str, str], ...] = ()  # every pyo3* crate -> the version it resolved to
    mismatched: tuple[str, ...] = ()  # pyo3* crates that could not be pinned to the release
    lock_hash: str = ""
    file: str = ""  # the kept copy, beside the records
    # A user crate's companion crates (dependencies that depend on PyO3) -> resolved version
    companions: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "crates": dict(self.crates),
            "mismatched": list(self.mismatched),
            "companions": dict(self.companions),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LockInfo:
        crates = tuple(sorted(dict(data.get("crates") or {}).items()))
        companions = tuple(sorted(dict(data.get("companions") or {}).items()))
        mismatched = tuple(data.get("mismatched", ()))
        return cls(**{**data, "crates": crates, "mismatched": mismatched, "companions": companions})


@dataclass(frozen=True)
class BuildInfo:
    """One maturin build of a cell's extension (or the cached result of an identical one)."""

    key: str
    ok: bool
    wheel: str | None  # path of the built wheel
    duration: float  # seconds spent building (0 when cached)
    cached: bool  # reused from an earlier identical build
    log: str
    error: str | None  # the compiler's first error, or why the build could not start
    compiled_pyo3: bool  # cargo compiled the pyo3 crate itself in this build
    transient: bool = False  # failed for a reason of the moment (network, timeout): retry
    # The reproducer's own code did not compile (a possible answer), as opposed to a cell that
    # could not be set up (a dependency's build script, the toolchain, the network).
    compile_error: bool = False
    # The compile error is a lint the crate itself denies (`#![deny(warnings)]`), or "".
    denied_lint: str = ""
    # The crate of PyO3's own that did not compile (`pyo3-ffi`; also an answer), or "".
    pyo3_failed: str = ""

    @property
    def ran(self) -> bool:
        """A build actually ran (not a cached wheel)."""
        return not self.cached and self.duration > 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BuildInfo:
        # Builds cached (and records written) before `LockInfo` carried a user crate's lock here.
        return cls(**{name: value for name, value in data.items() if name != "lock"})


@dataclass(frozen=True)
class ToolVersions:
    """The versions of the tools that built and ran a cell, as they name themselves."""

    rustc: str = ""
    rustc_verbose: str = ""  # `rustc -vV`, whole
    cargo: str = ""
    maturin: str = ""
    uv: str = ""
    settings: str = ""  # build settings from the environment and cargo config, "" if none

    def as_dict(self) -> dict[str, str]:
        found = asdict(self)
        if not self.settings:
            del found["settings"]  # most machines have none: records stay as they were
        return found

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ToolVersions:
        return cls(**data)


# What a C-level crash prints before it dies: an assertion (CPython's debug checks, glibc's
# assert) or CPython's "Fatal Python error: ...".
_ASSERTION = re.compile(r"\bAssertion\b.*\bfailed\b")
_FATAL = "Fatal Python error:"


def fatal_line(stderr: str) -> str | None:
    """The line that says why a process died in C, when it printed one: the first failed
    assertion, else the first "Fatal Python error" line."""
    lines = [line.strip() for line in stderr.splitlines()]
    found = next((line for line in lines if _ASSERTION.search(line)), None)
    return found or next((line for line in lines if line.startswith(_FATAL)), None)
