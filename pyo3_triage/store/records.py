"""One JSON record per (scenario, PyO3 release, interpreter): the evidence a table is drawn from.

Records are schema-versioned, written atomically and keyed by a hash of every input that can
change the result, so an identical cell is reused instead of rebuilt, and any change
(scenario, template, lockfile, interpreter, toolchain, options) makes a new record. A record
that is unreadable or of another schema is ignored, never trusted.
"""

from __future__ import annotations

import datetime
import json
import platform
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from pyo3_triage import __version__, hashes
from pyo3_triage.evidence import BuildInfo, LockInfo, RunDetails, ToolVersions, fatal_line
from pyo3_triage.interpreters import Interpreter
from pyo3_triage.outcome import Outcome
from pyo3_triage.system.paths import (
    Layout,
    matrix_command,
    reproduce_folder,
    scenario_library,
    write_atomic,
)
from pyo3_triage.versions.releases import Release

SCHEMA = 1
UNCONFIRMED_MARK = "?"  # after an outcome no rerun has confirmed yet (`Record.unconfirmed`)


class _Source(Protocol):
    """What a record names of the reproducer it ran."""

    @property
    def name(self) -> str: ...
    @property
    def run_hash(self) -> str: ...
    @property
    def folder(self) -> Path: ...
    def selector(self) -> tuple[str, ...]: ...


class Asked(Protocol):
    """What a record needs of the cell it records (`cells.Cell` is one)."""

    @property
    def reproducer(self) -> _Source: ...
    @property
    def release(self) -> Release: ...
    @property
    def interp(self) -> Interpreter: ...
    @property
    def declared(self) -> bool: ...
    @property
    def rust(self) -> _Toolchain | None: ...


class _Toolchain(Protocol):
    """What a record names of a Rust toolchain chosen with --rust."""

    @property
    def name(self) -> str: ...


@dataclass(frozen=True)
class Happened:
    """What became of a cell: its outcome and the evidence behind it (`Record.for_cell`)."""

    outcome: Outcome
    runs: tuple[RunDetails, ...] = ()
    note: str = ""  # why the cell is untestable, in one line
    build: BuildInfo | None = None  # None: no build was tried
    lock: LockInfo | None = None
    transient: bool = False  # a problem of the moment: the next run computes the cell again
    confirmed: bool = False  # its load-dependent outcome was seen again on a rerun
    # What the run's requirements (a user crate's dependencies, --with, --extra) resolved to.
    installed: tuple[str, ...] = ()


@dataclass(frozen=True)
class BuiltAs:
    """How a built cell was built: the record names it so the cell can be made again (a cell
    outside its release's window that is not built has none)."""

    options: tuple[str, ...]  # the run options as command-line options (`Options.as_args`)
    abi3: str  # the stable-ABI feature, or ""


@dataclass(frozen=True)
class Record:
    key: str
    scenario: str
    scenario_hash: str
    pyo3: str  # as cargo spells it
    yanked: bool
    python: str  # exact version, e.g. 3.12.1
    python_label: str  # the column: the minor version, "t" when free-threaded (3.13t)
    executable: str
    outcome: Outcome  # the cell's outcome (see `runs` when repeated)
    runs: tuple[RunDetails, ...] = ()
    forced: bool = False  # built although outside the release's declared CPython window
    note: str = ""  # why the cell is untestable, in one line (build error, unsupported window)
    build: BuildInfo | None = None  # None: no build was tried (unsupported, lock unresolved)
    lock: LockInfo | None = None
    toolchain: ToolVersions = ToolVersions()
    # Recorded a problem of the moment (the network, a vanished interpreter): the next run
    # computes this cell again instead of reusing the record.
    transient: bool = False
    platform: str = ""
    created: str = ""
    harness: str = ""
    scenario_source: str = ""  # the scenario folder, for the reproduce command
    abi3: str = ""  # built for the stable ABI (e.g. "abi3-py37"): a different build, labelled
    # The options that select this reproducer and build it this way again (reproduce commands).
    selection: tuple[str, ...] = ()
    # A PyO3 commit, not a release (`--pyo3-git`): its full hash, `git describe`, and the
    # release whose API the reproducer was rendered for.
    revision: str = ""
    describe: str = ""
    era: str = ""
    # The Rust toolchain chosen with --rust, by rustup's name ("" for the toolchain on PATH);
    # `toolchain` says what it was exactly.
    rust: str = ""
    # A load-dependent outcome (`RunDetails.load_dependent`: a timeout, a SIGKILL) seen again
    # by a rerun; until then it is no verdict (`unconfirmed`). Records from before: False.
    confirmed: bool = False
    # What the run's requirements resolved to, "name==version" each (see `Happened`).
    installed: tuple[str, ...] = ()
    schema: int = SCHEMA

    @classmethod
    def for_cell(
        cls,
        cell: Asked,
        key: str,
        happened: Happened,
        built_as: BuiltAs | None,
        tools: ToolVersions,
    ) -> Record:
        """The record of `cell` under `key`: what happened, with what it ran on and what
        selects it again. `built_as` is None for a cell that is not built (outside the
        release's window): its record then names no build option."""
        scenario, release, interp = cell.reproducer, cell.release, cell.interp
        commit = bool(release.revision)
        return cls(
            key=key,
            scenario=scenario.name,
            scenario_hash=scenario.run_hash,
            pyo3=release.cargo_version,
            yanked=release.yanked,
            python=str(interp.version),
            python_label=interp.python_label,
            executable=str(interp.executable),
            outcome=happened.outcome,
            runs=happened.runs,
            forced=built_as is not None and not cell.declared,
            note=happened.note,
            build=happened.build,
            lock=happened.lock,
            transient=happened.transient,
            toolchain=tools,
            platform=platform.platform(),
            created=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            harness=__version__,
            scenario_source=str(scenario.folder),
            abi3=built_as.abi3 if built_as else "",
            selection=(
                *scenario.selector(),
                *(built_as.options if built_as else ()),
                *(("--pyo3-git", release.repo) if commit else ()),
                *(("--rust", cell.rust.name) if cell.rust else ()),
            ),
            revision=release.revision,
            describe=release.describe,
            era=str(release.version) if commit else "",
            rust=cell.rust.name if cell.rust else "",
            confirmed=happened.confirmed,
            installed=happened.installed,
        )

    @property
    def interpreter(self) -> str:
        """The interpreter in words, from the record alone: "CPython 3.12.1", "CPython
        3.13.5t" (free-threaded), "CPython 3.11.2d" (debug), "PyPy 3.9.16"."""
        label = self.python_label
        marks = label[len(label.rstrip("td")) :]
        name = "PyPy" if label.startswith("pp") else "CPython"
        return f"{name} {self.python}{marks}"

    @property
    def cell_name(self) -> str:
        """The cell in a few words: "0.20.3/3.11", with "/Rust 1.80" when a toolchain was chosen."""
        return f"{self.pyo3}/{self.python_label}" + (f"/Rust {self.rust}" if self.rust else "")

    @property
    def deciding_run(self) -> RunDetails | None:
        """The run whose outcome is the cell's (the first that gave it)."""
        return next((run for run in self.runs if run.outcome is self.outcome), None)

    @property
    def unconfirmed(self) -> bool:
        """Its outcome depends on the machine's load (a timeout, a SIGKILL) and no rerun has
        seen it again yet: shown as such, rerun before a bisect counts it or a later run
        reuses it."""
        run = self.deciding_run
        return run is not None and run.load_dependent and not self.confirmed

    @property
    def outcome_word(self) -> str:
        """The outcome as progress lines and bisect reports name it: `timeout?` until
        confirmed."""
        return self.outcome.value + (UNCONFIRMED_MARK if self.unconfirmed else "")

    @property
    def flaky(self) -> bool:
        return len({run.outcome for run in self.runs}) > 1

    @property
    def panic_message(self) -> str | None:
        return next((run.panic_message for run in self.runs if run.panic_message), None)

    @property
    def message(self) -> str | None:
        """The cell's evidence in one line: the panic message, else the Python exception, else
        why it was not run (a compile error), else the assertion or fatal error a crash in C
        printed, else the last line the process wrote to stderr (a run command that failed
        without a traceback still says why)."""
        failed = next((run for run in self.runs if run.outcome is not Outcome.PASS), None)
        run = failed or (self.runs[0] if self.runs else None)
        if self.outcome is Outcome.SETUP_ERROR and self.note:
            return self.note  # why the runs, whatever they printed, are no answer
        if self.panic_message:
            return self.panic_message
        if run is not None and run.exception:
            return run.exception
        if self.note:
            return self.note
        if run is not None and run.outcome is not Outcome.PASS:
            if (fatal := fatal_line(run.stderr_tail)) is not None:
                return fatal
            lines = [line.strip() for line in run.stderr_tail.splitlines() if line.strip()]
            return lines[-1] if lines else None
        return None

    def to_json(self) -> str:
        data = asdict(self)
        data["outcome"] = self.outcome.value
        data["runs"] = [run.as_dict() for run in self.runs]
        data["build"] = self.build.as_dict() if self.build else {}
        data["lock"] = self.lock.as_dict() if self.lock else {}
        data["toolchain"] = self.toolchain.as_dict()
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Record:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("a record is a JSON object")
        if data.get("schema") != SCHEMA:
            raise ValueError(f"schema {data.get('schema')!r}")
        data["outcome"] = Outcome(data["outcome"])
        data["runs"] = tuple(RunDetails.from_dict(run) for run in data.get("runs", ()))
        data["selection"] = tuple(data.get("selection", ()))
        data["installed"] = tuple(data.get("installed", ()))
        build = data.get("build") or None
        data["build"] = BuildInfo.from_dict(build) if build else None
        data["lock"] = LockInfo.from_dict(data["lock"]) if data.get("lock") else None
        data["toolchain"] = ToolVersions.from_dict(data.get("toolchain") or {})
        # Records written before these fields had their own names.
        data.setdefault("python_label", data.pop("python_minor", ""))
        data.setdefault("transient", bool(build and build.get("transient")))
        return cls(**data)


def record_key(inputs: Mapping[str, Any]) -> str:
    """A stable hash of every input that can change a cell's result."""
    blob = json.dumps({"schema": SCHEMA, **inputs}, sort_keys=True, default=str)
    return hashes.digest(blob, hashes.RECORD)


def save(layout: Layout, record: Record) -> Path:
    layout.mark_results()
    path = layout.record_file(record.scenario, record.key)
    write_atomic(path, record.to_json())
    return path


def load(layout: Layout, scenario: str, key: str) -> Record | None:
    return _read(layout.record_file(scenario, key))


def _read(path: Path) -> Record | None:
    try:
        return Record.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError, KeyError):
        return None  # missing, half-written by a killed run, or another schema


def all_records(layout: Layout) -> Iterator[Record]:
    root = layout.records_dir()
    if not root.is_dir():
        return
    for path in sorted(root.glob("*/*.json")):
        record = _read(path)
        if record is not None:
            yield record


def reproduce_command(record: Record, results: Path) -> str:
    """The command that rebuilds and reruns exactly this one cell, runnable from any folder;
    its tables go to a folder of their own, so the run's own tables stay in view."""
    selection = list(record.selection)
    if not selection:  # a record from before records kept their selection
        source = Path(record.scenario_source) if record.scenario_source else None
        scenario = record.scenario
        if source is not None and source.parent.resolve() != scenario_library().resolve():
            scenario = str(source)
        selection = ["--scenario", scenario]
    return shlex.join(
        [
            *matrix_command(),
            *selection,
            "--pyo3",
            record.pyo3,
            "--python",
            record.executable,
            "--results",
            str(reproduce_folder(results).absolute()),
            "--rerun",
        ]
    )
