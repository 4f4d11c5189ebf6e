"""A cell: one reproducer x one PyO3 release x one interpreter (x one Rust toolchain chosen
with `--rust`), from plan to stored record.

`plan` says what will happen before anything is built (unsupported cells are known without
building; cache hits are known from stored records). `Evaluator.evaluate` turns a cell into a
record: `CellKeys` resolves the release's lockfile when the reproducer needs it, keys the build
and the record and looks in the store; `CellRunner` builds, installs, checks the import and
runs the driver; `Record.for_cell` makes the record. Every path ends in a record, so a build
error or an unsupported window is evidence too.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from filelock import FileLock

from pyo3_triage import semantics
from pyo3_triage.building import build, locks, venvs
from pyo3_triage.building.toolchain import Toolchain
from pyo3_triage.evidence import BuildInfo, LockInfo, RunDetails
from pyo3_triage.interpreters import Interpreter
from pyo3_triage.outcome import Outcome
from pyo3_triage.reproducers.reproducer import Reproducer
from pyo3_triage.running import classify, runner
from pyo3_triage.store import records
from pyo3_triage.store.records import BuiltAs, Happened, Record
from pyo3_triage.system.areas import Area
from pyo3_triage.system.paths import Layout, write_if_changed
from pyo3_triage.toolchains import RustChoice, Rustup
from pyo3_triage.versions import rust_support, support
from pyo3_triage.versions.releases import Release
from pyo3_triage.versions.support import window_for


@dataclass(frozen=True)
class Options:
    """Run options that change what a built cell means, so they are part of its record key (an
    unsupported cell is the same whatever they are, and its record does not name them)."""

    build_unsupported: bool = False
    profile: str = "dev"
    repeat: int = 1
    abi3: bool = False  # one stable-ABI build per release, shared by every CPython

    def as_args(self) -> tuple[str, ...]:
        """The command-line options that give these options again."""
        args = ["--build-unsupported"] if self.build_unsupported else []
        args += ["--release"] if self.profile == "release" else []
        args += ["--repeat", str(self.repeat)] if self.repeat != 1 else []
        args += ["--abi3"] if self.abi3 else []
        return tuple(args)


@dataclass(frozen=True)
class Cell:
    reproducer: Reproducer
    release: Release
    interp: Interpreter
    rust: RustChoice | None = None  # None: the toolchain on PATH

    @property
    def declared(self) -> bool:
        """Inside the windows the release declares: for this interpreter's build (CPython,
        debug, free-threaded or PyPy) and for the chosen Rust (derived, never stored)."""
        return self.python_declared and self.rust_declared

    @property
    def python_declared(self) -> bool:
        return support.declares(self.release.version, self.interp.version, self.interp.build)

    @property
    def rust_declared(self) -> bool:
        return self.rust is None or rust_support.declares(self.release, self.rust.version)

    @property
    def window(self) -> str:
        """The release's declared window for this build in words, e.g. "3.7-3.12" or
        "PyPy 3.9-3.11", for notes."""
        return support.declared_span(self.release.version, self.interp.build)

    @property
    def outside(self) -> str:
        """Why the release does not declare this cell, in words ("declares CPython 3.7-3.10",
        "declares Rust 1.63 or newer"; "" when it does)."""
        if not self.python_declared:
            return f"declares CPython {self.window}"
        if not self.rust_declared:
            return f"declares {rust_support.floor_text(self.release)}"
        return ""

    @property
    def label(self) -> str:
        yanked = " (yanked)" if self.release.yanked else ""
        rust = f" · Rust {self.rust.name}" if self.rust else ""
        release = self.release.cargo_version
        return f"{self.reproducer.name} · PyO3 {release}{yanked} · {self.interp.name}{rust}"


def plan(
    reproducers: Sequence[Reproducer],
    releases: Sequence[Release],
    interpreters: Sequence[Interpreter],
    rusts: Sequence[RustChoice | None] = (None,),
) -> list[Cell]:
    """Every cell, ordered so that all reproducers of one (toolchain, release, interpreter) run
    together."""
    return [
        Cell(reproducer, release, interp, rust)
        for rust in rusts
        for release in releases
        for interp in interpreters
        for reproducer in reproducers
    ]


def shard(cells: Sequence[Cell], index: int, count: int) -> list[Cell]:
    """Shard `index` (1-based) of `count`: a contiguous slice of the plan, sizes within one.

    Contiguous, so the scenarios of one (release, interpreter) mostly land in the same shard
    and share its compiled PyO3; deterministic, so every runner computes the same split."""
    if not 1 <= index <= count:
        raise ValueError(f"shard {index}/{count}")
    start = (index - 1) * len(cells) // count
    stop = index * len(cells) // count
    return list(cells[start:stop])


class Evaluate(Protocol):
    """What matrix, bisect, verify and `git bisect run` need of an evaluator (test fakes
    provide it too)."""

    @property
    def options(self) -> Options: ...

    def evaluate(self, cell: Cell) -> tuple[Record, bool]:
        """The cell's record and whether it came from the store (True) or was computed."""


class CellKeys:
    """What planning and `--list` need of a cell, with nothing built: the release's lock
    (resolved once per run), the build job (rendered once, keyed once), the record key and the
    store lookup; and the record a cell's life ends in, under that key."""

    def __init__(
        self,
        layout: Layout,
        toolchain: Toolchain,
        options: Options,
        *,
        rerun: bool = False,
        rustup: Callable[[], Rustup] | None = None,
    ) -> None:
        self.layout = layout
        self.toolchain = toolchain
        self.options = options
        self.rerun = rerun
        self.rustup = rustup  # rustup, found when a cell first names a Rust toolchain
        self._locks: dict[str, locks.ResolvedLock | locks.ResolveError] = {}

    def toolchain_for(self, cell: Cell, *, install: bool = True) -> Toolchain | str:
        """The tools that build the cell: the harness's, with the cell's Rust when it names one,
        installed first (with `install` False nothing is installed). A str says why there is
        no such toolchain: rustup's error, or "" when it is not installed."""
        if cell.rust is None:
            return self.toolchain
        if self.rustup is None:
            raise RuntimeError("a cell names a Rust toolchain but the evaluator has no rustup")
        rustup = self.rustup()
        found = rustup.ensure(cell.rust.name) if install else rustup.installed(cell.rust.name)
        if found is None or isinstance(found, str):
            return found or ""
        return self.toolchain.with_rust(found)

    def lock(
        self, release: Release, toolchain: Toolchain
    ) -> locks.ResolvedLock | locks.ResolveError:
        """The release's pinned lock for the toolchain, resolved once per run (a failure too)."""
        name = locks.lock_name(release, toolchain)
        if name not in self._locks:
            try:
                self._locks[name] = locks.resolve(self.layout, release, toolchain)
            except locks.ResolveError as err:
                self._locks[name] = err  # remembered: one failure per release per run
        return self._locks[name]

    def builds(self, cell: Cell) -> bool:
        return cell.declared or self.options.build_unsupported

    def job(self, cell: Cell, lock: locks.ResolvedLock | None, toolchain: Toolchain) -> build.Job:
        """The cell's build, rendered and keyed: the one place a cell's crate is rendered."""
        return build.job_for(
            cell.reproducer,
            cell.release,
            lock,
            cell.interp,
            toolchain,
            self.options.profile,
            self.abi3(cell),
        )

    def key(self, cell: Cell, job: build.Job | None) -> str:
        """The record key: every input that can change the cell's result."""
        inputs: dict[str, object] = {
            "scenario": cell.reproducer.run_hash,
            "pyo3": cell.release.cargo_version,
            "revision": cell.release.revision,
            "era": str(cell.release.version),
            "python": str(cell.interp.version),
            "python_path": str(cell.interp.realpath),
            "soabi": cell.interp.soabi,
        }
        if cell.rust is not None:  # the toolchain on PATH is named by the build key alone
            inputs["rust"] = cell.rust.name
        if not self.builds(cell):
            # Outside the CPython window: the key it always had; else the Rust window's words.
            why = cell.window if not cell.python_declared else cell.outside
            return records.record_key({**inputs, "unsupported": why})
        if (unbuilt := self.unbuilt(cell)) is not None:
            return records.record_key({**inputs, "incompatible": unbuilt[1]})
        if job is not None:
            inputs["build"] = job.key
        inputs.update(
            forced=not cell.declared, repeat=self.options.repeat, semantics=semantics.RECORD.version
        )
        return records.record_key(inputs)

    def unbuilt(self, cell: Cell) -> tuple[Outcome, str] | None:
        """Why the cell is not built at all (its record then says so), or None: outside the
        release's CPython window, or a companion crate with no version for the release."""
        if not self.builds(cell):
            return Outcome.UNSUPPORTED, f"PyO3 {cell.release.cargo_version} {cell.outside}"
        choice = cell.reproducer.companions_for(cell.release.version)
        if choice.missing:
            return Outcome.INCOMPATIBLE, choice.note(cell.release.cargo_version)
        return None

    def abi3(self, cell: Cell) -> str | None:
        """The stable-ABI feature for the release's CPython floor, e.g. "abi3-py37". PyPy
        has no stable ABI: its cells are built for PyPy itself, with or without `--abi3`."""
        if cell.interp.implementation == "pypy":
            return None
        if cell.reproducer.own_abi3:
            return cell.reproducer.own_abi3  # the crate's own stable-ABI build: built once
        if not self.options.abi3:
            return None
        floor = window_for(cell.release.version).declared_min
        return f"abi3-py{floor.major}{floor.minor}"

    def reusable(self, cell: Cell, key: str) -> Record | None:
        """The stored record for `key`, unless --rerun or it only recorded a passing problem
        (a network error, a vanished interpreter): those cells are tried again."""
        if self.rerun:
            return None
        found = records.load(self.layout, cell.reproducer.name, key)
        if found is not None and found.transient:
            return None
        return found

    def _cached_job(self, cell: Cell) -> build.Job | None:
        """The cell's job if its toolchain is installed and the lock it needs is already
        resolved (no network, nothing installed): for planning."""
        if not self.builds(cell):
            return None
        toolchain = self.toolchain_for(cell, install=False)
        if isinstance(toolchain, str):
            return None
        if not cell.reproducer.needs_release_lock:
            return self.job(cell, None, toolchain)
        lock = locks.load_cached(self.layout, cell.release, toolchain)
        return None if lock is None else self.job(cell, lock, toolchain)

    def cached_record(self, cell: Cell) -> Record | None:
        """The stored record for exactly this cell's inputs, without building or resolving."""
        if self.unbuilt(cell) is not None:
            return self.reusable(cell, self.key(cell, None))
        job = self._cached_job(cell)
        return None if job is None else self.reusable(cell, self.key(cell, job))

    def has_cached_build(self, cell: Cell) -> bool:
        """This cell's wheel is already in the cache (only a run is left to do)."""
        job = None if self.unbuilt(cell) else self._cached_job(cell)
        return job is not None and self.layout.build_info(job.key).is_file()

    def record(self, cell: Cell, key: str, happened: Happened) -> Record:
        """The cell's record under `key`, stored."""
        # An unsupported cell's key and record name no build option.
        built_as = BuiltAs(self.options.as_args(), self.abi3(cell) or "")
        toolchain = self.toolchain_for(cell, install=False)
        tools = (  # a toolchain never installed names no rustc: none ran
            replace(self.toolchain.versions, rustc="", rustc_verbose="", cargo="")
            if isinstance(toolchain, str)
            else toolchain.versions
        )
        made = Record.for_cell(cell, key, happened, built_as if self.builds(cell) else None, tools)
        records.save(self.layout, made)
        return made


class CellRunner:
    """A built cell's steps: build -> install -> import check -> runs, each step's failure
    what happened to the cell. Every cache area the cell uses is held while it runs."""

    def __init__(
        self,
        layout: Layout,
        toolchain: Toolchain,
        options: Options,
        *,
        rerun: bool = False,
        shared: bool = True,
    ) -> None:
        self.layout = layout
        self.toolchain = toolchain
        self.options = options
        self.rerun = rerun
        self.shared = shared  # one target dir per interpreter (see `build.build`)
        # --rerun builds each key once a run: set when that build is done (see `_build`).
        self._rebuilt: dict[str, threading.Event] = {}
        self._rebuilt_guard = threading.Lock()
        self._refilled: set[Path] = set()  # venvs --rerun installed the new wheel into

    @contextlib.contextmanager
    def holding(self, cell: Cell, key: str, job: build.Job) -> Iterator[tuple[Area, Path]]:
        """The cell's venv and the folder it runs in, with every cache area it uses held in
        use, so another run's eviction never takes the venv, wheel or folder a run is using
        (held until the caller has made the record)."""
        venv = self._venv(cell, job.key)
        work, folder = cell.reproducer.run_folder(self.layout, job.key, key)
        with contextlib.ExitStack() as held:
            for area in (self.layout.wheels(job.key), venv, work):
                held.enter_context(area.in_use())
            yield venv, folder

    def run(
        self,
        cell: Cell,
        key: str,
        job: build.Job,
        toolchain: Toolchain,
        venv: Area,
        folder: Path,
        first: int = 1,
    ) -> Happened:
        """The cell's steps, with its areas held (`holding`); `first` numbers the first run's
        log (a rerun that confirms a record keeps the logs of the runs before it)."""
        made = self._build(job, toolchain)
        built = made.info
        happened = functools.partial(Happened, build=built, lock=self._lock_info(job, made))
        if not built.ok:
            failed = Outcome.BUILD_ERROR if built.compile_error else Outcome.SETUP_ERROR
            if built.pyo3_failed:  # PyO3's own crates do not compile here: an answer too
                failed = Outcome.PYO3_ERROR
            return happened(failed, note=built.error or "", transient=built.transient)

        log = self.layout.run_log(
            cell.reproducer.name, cell.release.cargo_version, str(cell.interp.version), key, first
        )
        log.unlink(missing_ok=True)  # a --rerun starts a fresh log; every step below appends
        try:
            fresh = self.rerun and venv.path not in self._refilled  # the wheel built just now
            self._refilled.add(venv.path)
            python, installed = self._install(cell, built, venv, log, fresh)
        except venvs.EnvironmentError_ as err:  # e.g. the interpreter vanished: try again next run
            return happened(Outcome.SETUP_ERROR, note=str(err), transient=True)
        happened = functools.partial(happened, installed=installed)
        cell.reproducer.ready(folder)
        # From the venv's folder: whatever the run's folder holds, this is the wheel.
        failed_import = runner.check_import(python, cell.reproducer.module, venv.path, log)
        if failed_import is not None:
            if gone := self._vanished(cell, python, folder):
                return happened(Outcome.SETUP_ERROR, (failed_import,), gone, transient=True)
            if missing := self._missing(cell, (failed_import,), None):
                return happened(Outcome.SETUP_ERROR, (failed_import,), missing)
            note = failed_import.exception or failed_import.signal or "import failed"
            return happened(Outcome.IMPORT_ERROR, (failed_import,), note)
        runs = tuple(self._runs(cell, key, python, folder, first))
        outcome = cell_outcome(runs)
        if outcome is not Outcome.PASS and (gone := self._vanished(cell, python, folder)):
            return happened(Outcome.SETUP_ERROR, runs, gone, transient=True)
        if outcome is not Outcome.PASS and (shadow := self._shadowed(cell, python, folder, log)):
            return happened(Outcome.SETUP_ERROR, runs, shadow)
        if outcome is Outcome.ERROR and (missing := self._missing(cell, runs, folder)):
            return happened(Outcome.SETUP_ERROR, runs, missing)
        return happened(outcome, runs)

    @staticmethod
    def _missing(cell: Cell, runs: Sequence[RunDetails], folder: Path | None) -> str | None:
        """Why a failed import or run is no answer when it stopped at a third-party module that
        is not installed, or None: not for the project's own module (the extension failing to
        load) nor one in the folder the run started in (the project's own files)."""
        failed = next((run for run in runs if run.outcome is not Outcome.PASS), None)
        exception = failed.exception if failed else None
        missing = classify.missing_module(exception)
        if missing is None:
            return None
        top = missing.split(".")[0]
        if top in cell.reproducer.packages:
            return None
        if folder is not None and any(p.exists() for p in (folder / top, folder / f"{top}.py")):
            return None
        return (
            f"the project's dependency {top} is not installed: {exception} (its [project] "
            f"dependencies are installed unless --no-deps; add others with --with {top})"
        )

    @staticmethod
    def _shadowed(cell: Cell, python: Path, folder: Path, log: Path) -> str | None:
        """Why a failed run is no answer when it imported the project's source instead of the
        installed wheel (a package or module beside its script that the run's copy could not
        keep out of the way, or one the wheel does not hold), or None."""
        reproducer = cell.reproducer
        first = runner.first_on_path(reproducer.argv(python), python, folder)
        found = runner.shadowing(python, reproducer.module, reproducer.packages, first, folder, log)
        if found is None:
            return None
        path = Path(found.path)
        shown = os.path.relpath(path, folder) if path.is_relative_to(folder) else found.path
        if found.in_wheel:
            return (
                f"the run imports {found.name} from {shown}, not from the installed wheel: "
                f"Python puts {first.name or first}/ first on sys.path; run a script in a "
                'folder without it (e.g. --run "python checks/repro.py")'
            )
        return (
            f"the run imports {found.name} from {shown}, the project's source: the built "
            f"wheel has no {found.name} (it holds {reproducer.module}; see maturin's "
            "module-name and python-source)"
        )

    def _build(self, job: build.Job, toolchain: Toolchain) -> build.Built:
        """The job's build; with --rerun made again once a run. A cell of another group that
        needs the same build meanwhile (a crate's own abi3 wheel serves every CPython) waits
        for it, instead of taking the cached wheel the rebuild is about to replace."""
        with self._rebuilt_guard:
            done = self._rebuilt.get(job.key)
            first = self.rerun and done is None
            if first:
                done = self._rebuilt[job.key] = threading.Event()
        if done is not None and not first:
            done.wait()
        try:
            return build.build(self.layout, job, toolchain, rebuild=first, shared=self.shared)
        finally:
            if first and done is not None:
                done.set()

    def _lock_info(self, job: build.Job, made: build.Built) -> LockInfo | None:
        """The lock the record names: the one the crate pinned itself, else the release's,
        kept beside the records."""
        if job.lock is None:
            return made.lock
        kept = self.layout.kept_lock(job.lock.pyo3, job.lock.lock_hash)
        write_if_changed(kept, job.lock.lock_text)
        return made.lock or job.lock.info(kept)

    @staticmethod
    def _vanished(cell: Cell, python: Path, folder: Path) -> str | None:
        """What a failed run lost from under it (then the failure is no answer), if anything."""
        for path, what in (
            (cell.interp.executable, "the interpreter"),
            (python, "the venv"),
            (folder, "the folder it ran in"),
        ):
            if not path.exists():
                return f"{what} ({path}) vanished during the run; run again"
        return None

    def _venv(self, cell: Cell, build_key: str) -> Area:
        """The venv of the cell's interpreter for this build (and the reproducer's extras)."""
        wanted = cell.reproducer.requirements
        return self.layout.venv(
            build_key + (venvs.requirements_tag(wanted) if wanted else ""),
            build.interpreter_tag(cell.interp),
        )

    def _install(
        self, cell: Cell, built: BuildInfo, venv: Area, log: Path, fresh: bool = False
    ) -> tuple[Path, tuple[str, ...]]:
        """The venv with the wheel (and what the reproducer asks for) installed: its python,
        and what the requirements resolved to ("anyio==4.6.0", ...). `fresh`: install the
        wheel even if the venv holds one of the same build key (--rerun built it again)."""
        uv = self.toolchain.uv_bin
        python = venvs.ensure(uv, venv, cell.interp, log)
        module = cell.reproducer.module
        venvs.install(uv, venv, built.wheel or "", module, built.key, log, fresh=fresh)
        wanted = cell.reproducer.requirements
        if not wanted:
            return python, ()
        name = venvs.requirements_tag(wanted) + "-" + build.interpreter_tag(cell.interp)
        pins = self.layout.python_pins(name)
        return python, venvs.install_requirements(uv, venv, wanted, log, pins, built.wheel or "")

    def _runs(
        self, cell: Cell, key: str, python: Path, work: Path, first: int = 1
    ) -> Iterator[RunDetails]:
        """The reproducer, `--repeat` times, each run with its own log."""
        for attempt in range(first, first + self.options.repeat):
            log = self.layout.run_log(
                cell.reproducer.name,
                cell.release.cargo_version,
                str(cell.interp.version),
                key,
                attempt,
            )
            yield runner.run_driver(python, cell.reproducer, work, log)


class Evaluator:
    """The one way a cell becomes a record, shared by matrix, bisect, verify and `git bisect
    run`: its keys (`CellKeys`), the store lookup, then its steps (`CellRunner`) when nothing
    stored answers, and the record (`Record.for_cell`).

    An outcome that depends on the machine's load (a timeout, a SIGKILL: `Record.unconfirmed`)
    is stored unconfirmed. A stored one is never reused as it is: the cell runs again, and the
    same outcome again confirms it (`confirmation`). With `confirm` (a bisect, `git bisect
    run`, verify: commands that turn outcomes into verdicts) a fresh one is rerun at once."""

    def __init__(
        self,
        layout: Layout,
        toolchain: Toolchain,
        options: Options,
        *,
        rerun: bool = False,
        shared: bool = True,
        rustup: Callable[[], Rustup] | None = None,
        confirm: bool = False,
    ) -> None:
        self.layout = layout
        self.keys = CellKeys(layout, toolchain, options, rerun=rerun, rustup=rustup)
        self.runner = CellRunner(layout, toolchain, options, rerun=rerun, shared=shared)
        self.confirm = confirm

    @property
    def options(self) -> Options:
        return self.keys.options

    def evaluate(self, cell: Cell) -> tuple[Record, bool]:
        """The cell's record and whether it came from the store (True) or was computed.

        A candidate may name another to try after seeing its outcome (a PyO3 commit whose
        reproducer does not compile for one API it may speak tries the other)."""
        record, reused = self._evaluate(cell)
        instead = cell.release.retry_after(record.outcome)
        if instead is None:
            return record, reused
        return self._evaluate(replace(cell, release=instead))

    def _evaluate(self, cell: Cell) -> tuple[Record, bool]:
        keys = self.keys
        if (unbuilt := keys.unbuilt(cell)) is not None:
            key = keys.key(cell, None)
            if (found := keys.reusable(cell, key)) is not None:
                return found, True
            outcome, note = unbuilt
            return keys.record(cell, key, Happened(outcome, note=note)), False

        toolchain = keys.toolchain_for(cell)
        if isinstance(toolchain, str):  # rustup could not install it: perhaps the network
            happened = Happened(Outcome.SETUP_ERROR, note=toolchain, transient=True)
            return keys.record(cell, keys.key(cell, None), happened), False
        needs_lock = cell.reproducer.needs_release_lock
        lock = keys.lock(cell.release, toolchain) if needs_lock else None
        if isinstance(lock, locks.ResolveError):
            happened = Happened(Outcome.SETUP_ERROR, note=str(lock))
            return keys.record(cell, keys.key(cell, None), happened), False
        job = keys.job(cell, lock, toolchain)
        key = keys.key(cell, job)
        if (found := keys.reusable(cell, key)) is not None and not found.unconfirmed:
            return found, True
        # Another run may be computing this very cell: wait for it, then use its record.
        with FileLock(str(self.layout.record_mutex(key))):
            if (found := keys.reusable(cell, key)) is not None and not found.unconfirmed:
                return found, True
            with self.runner.holding(cell, key, job) as (venv, folder):
                if found is None:
                    happened = self.runner.run(cell, key, job, toolchain, venv, folder)
                    found = keys.record(cell, key, happened)
                    if not (self.confirm and found.unconfirmed):
                        return found, False
                again = self.runner.run(
                    cell, key, job, toolchain, venv, folder, first=len(found.runs) + 1
                )
                if again.transient:  # no answer either way: it stays unconfirmed
                    return found, False
                return keys.record(cell, key, confirmation(found, again)), False


def confirmation(first: Record, again: Happened) -> Happened:
    """What a rerun makes of an unconfirmed record: the same outcome again (and the same signal)
    confirms it; another outcome stands instead, and keeping both runs marks the cell flaky."""
    before = first.deciding_run
    after = next((run for run in again.runs if run.outcome is again.outcome), None)
    same = again.outcome is first.outcome and (
        again.outcome is not Outcome.SIGNAL
        or (before is not None and after is not None and before.signal == after.signal)
    )
    if same:
        return replace(again, runs=first.runs + again.runs, confirmed=True)
    if not again.runs or not again.outcome.testable:
        return again  # not run this time (a build or import failed): that stands, unmixed
    return replace(again, runs=first.runs + again.runs)


def cell_outcome(runs: Sequence[RunDetails]) -> Outcome:
    """One outcome for repeated runs: the first non-passing one seen (a crash seen once is a
    crash); `Record.flaky` tells that the runs disagreed."""
    for run in runs:
        if run.outcome is not Outcome.PASS:
            return run.outcome
    return Outcome.PASS
