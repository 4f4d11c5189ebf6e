"""Cells from plan to record without a build: plan order, shards, options as arguments, record
keys, store lookups, and the cells whose record needs no build (unsupported, unresolvable)."""

from __future__ import annotations

import dataclasses
import sys
from itertools import combinations
from pathlib import Path

import pytest
from factories import DATA, LOCK, TOOLS, interp, make_crate, make_run
from packaging.version import Version

from pyo3_triage.building import build, locks
from pyo3_triage.building.locks import ResolvedLock
from pyo3_triage.building.toolchain import Toolchain
from pyo3_triage.cells import Cell, CellRunner, Evaluator, Options, cell_outcome, plan, shard
from pyo3_triage.commands import parser
from pyo3_triage.commands.cliargs import options_from
from pyo3_triage.evidence import BuildInfo
from pyo3_triage.outcome import Outcome
from pyo3_triage.reporting import table
from pyo3_triage.reproducers import scenarios
from pyo3_triage.reproducers.companions import Companion, parse_versions
from pyo3_triage.store import records
from pyo3_triage.store.records import Happened
from pyo3_triage.system.areas import Area
from pyo3_triage.system.paths import Layout
from pyo3_triage.versions.releases import Release

SCENARIO = scenarios.resolve("unsendable_gc_traverse")
OTHER = scenarios.resolve("unsendable_gc_traverse_workaround")
OLD = Release(Version("0.16.6"), vers="0.16.6")  # declares CPython 3.7-3.10
NEW = Release(Version("0.20.3"), vers="0.20.3")  # declares CPython 3.7-3.12


PY310, PY312 = interp("3.10.13"), interp("3.12.1")


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    found = Layout(tmp_path / "cache", tmp_path / "results")
    found.ensure()
    return found


def test_plan_keeps_the_scenarios_of_one_release_and_cpython_together() -> None:
    cells = plan([SCENARIO, OTHER], [OLD, NEW], [PY310, PY312])
    assert len(cells) == 8
    pairs = [(c.release.cargo_version, str(c.interp.version)) for c in cells]
    assert pairs[0::2] == pairs[1::2]  # each pair of neighbours: the two scenarios
    assert [c.reproducer.name for c in cells[:2]] == [SCENARIO.name, OTHER.name]
    assert pairs[::2] == [("0.16.6", "3.10.13"), ("0.16.6", "3.12.1")] + [
        ("0.20.3", "3.10.13"),
        ("0.20.3", "3.12.1"),
    ]


def test_shards_are_contiguous_slices_in_plan_order() -> None:
    cells = plan([SCENARIO, OTHER], [OLD, NEW], [PY310, PY312])
    parts = [shard(cells, k, 3) for k in (1, 2, 3)]
    assert [len(p) for p in parts] == [2, 3, 3]
    assert [c for p in parts for c in p] == cells
    with pytest.raises(ValueError, match="shard 4/3"):
        shard(cells, 4, 3)


def test_a_cell_knows_its_window_and_label() -> None:
    inside, outside = Cell(SCENARIO, OLD, PY310), Cell(SCENARIO, OLD, PY312)
    assert inside.declared and not outside.declared
    assert inside.window == "3.7-3.10"
    yanked = dataclasses.replace(NEW, yanked=True)
    assert Cell(SCENARIO, yanked, PY312).label == (
        f"{SCENARIO.name} · PyO3 0.20.3 (yanked) · CPython 3.12.1"
    )


FLAGS = ("--build-unsupported", "--release", "--repeat 4", "--abi3")


@pytest.mark.parametrize(
    "flags", [c for n in range(len(FLAGS) + 1) for c in combinations(FLAGS, n)], ids=str
)
def test_options_given_again_parse_back_to_the_same_options(flags: tuple[str, ...]) -> None:
    args = [part for flag in flags for part in flag.split()]
    options = options_from(parser.parse("matrix", args))
    assert options.as_args() == tuple(args)  # the canonical order is the order above
    assert options_from(parser.parse("matrix", list(options.as_args()))) == options


def test_cell_outcome_is_the_first_run_that_did_not_pass() -> None:
    assert cell_outcome([]) is Outcome.PASS
    assert cell_outcome([make_run(), make_run()]) is Outcome.PASS
    runs = [make_run(), make_run(Outcome.SEGFAULT), make_run(Outcome.ABORT)]
    assert cell_outcome(runs) is Outcome.SEGFAULT


def test_an_unsupported_cells_key_ignores_the_run_options(layout: Layout) -> None:
    outside = Cell(SCENARIO, OLD, PY312)

    def key(options: Options, cell: Cell = outside) -> str:
        return Evaluator(layout, TOOLS, options).keys.key(cell, None)

    assert key(Options()) == key(Options(repeat=3)) == key(Options(profile="release"))
    assert key(Options(build_unsupported=True)) != key(Options())  # then it is a forced build
    inside = Cell(SCENARIO, NEW, PY312)
    assert key(Options(), inside) != key(Options(repeat=3), inside)


def test_the_abi3_feature_follows_the_release_floor_or_the_crates_own(
    layout: Layout, tmp_path: Path
) -> None:
    def abi3(cell: Cell, options: Options) -> str | None:
        return Evaluator(layout, TOOLS, options).keys.abi3(cell)

    assert abi3(Cell(SCENARIO, NEW, PY312), Options()) is None
    assert abi3(Cell(SCENARIO, NEW, PY312), Options(abi3=True)) == "abi3-py37"
    newer = Release(Version("0.29.0"), vers="0.29.0")  # declares 3.8-3.15
    assert abi3(Cell(SCENARIO, newer, PY312), Options(abi3=True)) == "abi3-py38"
    crate = make_crate(tmp_path, "python a.py")
    own = dataclasses.replace(crate, project=dataclasses.replace(crate.project, abi3="abi3-py311"))
    assert abi3(Cell(own, NEW, PY312), Options()) == "abi3-py311"


def test_unsupported_cells_are_recorded_without_a_build_then_reused(layout: Layout) -> None:
    evaluator = Evaluator(layout, TOOLS, Options())
    cell = Cell(SCENARIO, OLD, PY312)
    assert evaluator.keys.cached_record(cell) is None
    record, reused = evaluator.evaluate(cell)
    assert not reused and record.outcome is Outcome.UNSUPPORTED
    assert record.note == "PyO3 0.16.6 declares CPython 3.7-3.10"
    assert record.build is None and record.python_label == "3.12" and not record.forced
    assert record.selection == SCENARIO.selector()
    assert records.load(layout, SCENARIO.name, record.key) == record
    again, reused = evaluator.evaluate(cell)
    assert reused and again == record
    assert evaluator.keys.cached_record(cell) == record
    assert Evaluator(layout, TOOLS, Options(), rerun=True).keys.cached_record(cell) is None


def test_a_release_that_cannot_be_resolved_is_a_setup_error_tried_once_per_run(
    layout: Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def unresolvable(layout: Layout, release: Release, toolchain: Toolchain) -> ResolvedLock:
        calls.append(release.cargo_version)
        raise locks.ResolveError("cannot resolve pyo3 0.20.3: error: no network", Path("/log"))

    monkeypatch.setattr(locks, "resolve", unresolvable)
    evaluator = Evaluator(layout, TOOLS, Options())
    for python in (PY310, PY312):
        record, reused = evaluator.evaluate(Cell(SCENARIO, NEW, python))
        assert not reused and record.outcome is Outcome.SETUP_ERROR
        assert record.note == "cannot resolve pyo3 0.20.3: error: no network"
    assert calls == ["0.20.3"]


def test_cached_records_are_found_by_their_inputs_without_resolving(
    layout: Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    cell = Cell(SCENARIO, NEW, PY312)
    monkeypatch.setattr(locks, "load_cached", lambda layout, release, toolchain: None)
    evaluator = Evaluator(layout, TOOLS, Options())
    assert evaluator.keys.cached_record(cell) is None and not evaluator.keys.has_cached_build(cell)

    monkeypatch.setattr(locks, "load_cached", lambda layout, release, toolchain: LOCK)
    job = evaluator.keys.job(cell, LOCK, TOOLS)
    key = evaluator.keys.key(cell, job)
    ran = Happened(Outcome.ABORT, runs=(make_run(Outcome.ABORT),))
    stored = evaluator.keys.record(cell, key, ran)
    assert evaluator.keys.cached_record(cell) == stored
    assert Evaluator(layout, TOOLS, Options(repeat=2)).keys.cached_record(cell) is None
    evaluator.keys.record(
        cell, key, Happened(Outcome.SETUP_ERROR, transient=True)
    )  # tried again next run
    assert evaluator.keys.cached_record(cell) is None

    assert not evaluator.keys.has_cached_build(cell)
    layout.build_info(job.key).parent.mkdir(parents=True, exist_ok=True)
    layout.build_info(job.key).write_text("{}")
    assert evaluator.keys.has_cached_build(cell)


def _with_pyo3_file(tmp_path: Path) -> object:
    text = (DATA / "index" / "pyo3-file.jsonl").read_text()
    found = Companion("pyo3-file", "pyo3-file", (), parse_versions(text, "pyo3-file"))
    return dataclasses.replace(make_crate(tmp_path, "python a.py"), companions=(found,))


def test_a_release_no_companion_accepts_is_incompatible_without_a_build(
    layout: Layout, tmp_path: Path
) -> None:
    """pyo3-file has no version for pyo3 0.20.3: the cell is not built (nothing resolved, no
    network) and says why; it is never a verdict and never a setup-error."""
    crate = _with_pyo3_file(tmp_path)
    cell = Cell(crate, NEW, PY312)  # type: ignore[arg-type]
    evaluator = Evaluator(layout, TOOLS, Options())
    record, reused = evaluator.evaluate(cell)
    assert not reused and record.outcome is Outcome.INCOMPATIBLE
    assert record.note == "no pyo3-file release accepts pyo3 0.20.3" == record.message
    assert record.build is None and not evaluator.keys.has_cached_build(cell)
    assert evaluator.keys.cached_record(cell) == record


def test_the_companion_version_is_part_of_the_build_key(tmp_path: Path) -> None:
    crate = _with_pyo3_file(tmp_path)
    release = Release(Version("0.26.0"), vers="0.26.0")
    job = Evaluator(Layout(tmp_path, tmp_path), TOOLS, Options()).keys.job(
        Cell(crate, release, PY312),  # type: ignore[arg-type]
        LOCK,
        TOOLS,
    )
    assert crate.companions_for(release.version).versions == (("pyo3-file", "0.14.0"),)
    bare = dataclasses.replace(crate, companions=())  # type: ignore[type-var]
    other = Evaluator(Layout(tmp_path, tmp_path), TOOLS, Options()).keys.job(
        Cell(bare, release, PY312), LOCK, TOOLS
    )
    assert other.key != job.key


def _failing_builds(
    monkeypatch: pytest.MonkeyPatch, error: str, *, compile_error: bool = False, pyo3: str = ""
) -> list[build.Job]:
    """Every build fails with `error` (nothing is built); the jobs asked for, in order."""
    jobs: list[build.Job] = []

    def failing_build(
        layout: Layout,
        job: build.Job,
        toolchain: Toolchain,
        *,
        rebuild: bool = False,
        shared: bool = True,
    ) -> build.Built:
        jobs.append(job)
        info = BuildInfo(job.key, False, None, 1.0, False, "/b.log", error, False)
        return build.Built(dataclasses.replace(info, compile_error=compile_error, pyo3_failed=pyo3))

    monkeypatch.setattr(build, "build", failing_build)
    return jobs


def test_a_commit_that_does_not_compile_for_its_older_api_is_tried_with_the_newer(
    layout: Layout, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The retry is the commit's (`Commit.retry_after`); the evaluator only asks."""
    from pyo3_triage.versions.revisions import Commit

    jobs = _failing_builds(monkeypatch, "error[E0308]", compile_error=True)
    monkeypatch.setattr(locks, "resolve", lambda layout, release, toolchain: LOCK)
    commit = Commit(
        Version("0.20.3"),
        vers="git:abcdef012",
        revision="abcdef012" * 4,
        source=tmp_path,
        next_era=Version("0.21.0"),
    )
    record, reused = Evaluator(layout, TOOLS, Options()).evaluate(Cell(SCENARIO, commit, PY312))
    assert [str(j.release.version) for j in jobs] == ["0.20.3", "0.21.0"] and not reused
    assert record.outcome is Outcome.BUILD_ERROR and record.era == "0.21.0"
    assert Evaluator(layout, TOOLS, Options()).evaluate(Cell(SCENARIO, NEW, PY312))[0].era == ""
    eras = [str(j.release.version) for j in jobs]
    assert eras == ["0.20.3", "0.21.0", "0.20.3"]  # a published release is built once


def test_pyo3s_own_crates_not_compiling_is_their_own_outcome(
    layout: Layout, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Not `setup-error` (never an answer) nor the reproducer's `build-error`: `pyo3-error`,
    named in the note. A commit is not tried with its other API: the reproducer is not at
    fault."""
    from pyo3_triage.versions.revisions import Commit

    note = "PyO3's own crate `pyo3-ffi` does not compile: error[E0425]: cannot find type `c_int`"
    jobs = _failing_builds(monkeypatch, note, pyo3="pyo3-ffi")
    monkeypatch.setattr(locks, "resolve", lambda layout, release, toolchain: LOCK)
    record, _ = Evaluator(layout, TOOLS, Options()).evaluate(Cell(SCENARIO, NEW, PY312))
    assert record.outcome is Outcome.PYO3_ERROR and record.note == note
    assert not record.transient
    commit = Commit(
        Version("0.20.3"),
        vers="git:abcdef012",
        revision="abcdef012" * 4,
        source=tmp_path,
        next_era=Version("0.21.0"),
    )
    record, _ = Evaluator(layout, TOOLS, Options()).evaluate(Cell(SCENARIO, commit, PY312))
    assert record.outcome is Outcome.PYO3_ERROR and record.era == "0.20.3"  # the older API
    assert [str(j.release.version) for j in jobs] == ["0.20.3", "0.20.3"]


def test_a_user_crate_cell_never_resolves_the_templates_lock(
    layout: Layout, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A user's crate pins its own lock as it is built: the template's probe lock for the
    release is neither resolved (no network for a lock it never uses) nor in its build key."""

    def no_resolve(*args: object) -> ResolvedLock:
        raise AssertionError("resolved the template's lock for a user crate")

    seen = _failing_builds(monkeypatch, "no net")
    monkeypatch.setattr(locks, "resolve", no_resolve)
    monkeypatch.setattr(locks, "load_cached", no_resolve)
    crate = make_crate(tmp_path, "python a.py")
    evaluator = Evaluator(layout, TOOLS, Options())
    cell = Cell(crate, NEW, PY312)
    assert evaluator.keys.cached_record(cell) is None and not evaluator.keys.has_cached_build(cell)
    record, _ = evaluator.evaluate(cell)
    assert record.outcome is Outcome.SETUP_ERROR and record.lock is None
    assert [job.lock for job in seen] == [None]
    keys = evaluator.keys
    assert keys.job(cell, LOCK, TOOLS).key == keys.job(cell, None, TOOLS).key == seen[0].key


def test_rerun_installs_the_wheel_it_built_again_into_each_venv_once(
    layout: Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--rerun builds the same key again: the venv that already holds that key's wheel gets
    the new one (once a run), or the run would test the earlier build."""
    import sys

    from pyo3_triage.building import venvs
    from pyo3_triage.running import runner

    def built(layout: Layout, job: build.Job, toolchain: Toolchain, **_: object) -> build.Built:
        return build.Built(BuildInfo(job.key, True, "/w/x.whl", 1.0, False, "/b.log", None, True))

    installs: list[bool] = []
    monkeypatch.setattr(build, "build", built)
    monkeypatch.setattr(locks, "resolve", lambda layout, release, toolchain: LOCK)
    monkeypatch.setattr(venvs, "ensure", lambda *args: Path(sys.executable))
    monkeypatch.setattr(venvs, "install", lambda *args, fresh=False: installs.append(fresh))
    monkeypatch.setattr(runner, "check_import", lambda *args: make_run(Outcome.IMPORT_ERROR))
    cell = Cell(SCENARIO, NEW, PY312)
    Evaluator(layout, TOOLS, Options()).evaluate(cell)
    rerun = Evaluator(layout, TOOLS, Options(), rerun=True)
    rerun.evaluate(cell)
    rerun.evaluate(Cell(OTHER, NEW, PY312))  # its Rust side is the same: same build and venv
    rerun.evaluate(cell)
    assert installs[:2] == [False, True] and installs[-1] is False


# --- load-dependent outcomes: stored unconfirmed, confirmed by a rerun ----------------------
def _scripted_runs(
    evaluator: Evaluator, monkeypatch: pytest.MonkeyPatch, *answers: Happened
) -> list[int]:
    """The cell's steps give `answers` in turn (nothing built or run); the `first` log number
    of each call, in order."""
    import contextlib

    calls: list[int] = []
    left = list(answers)

    def run(*args: object, first: int = 1) -> Happened:
        calls.append(first)
        return left.pop(0)

    @contextlib.contextmanager
    def holding(*args: object) -> object:
        yield evaluator.layout.venv("v", "t"), Path("/nowhere")

    monkeypatch.setattr(evaluator.runner, "run", run)
    monkeypatch.setattr(evaluator.runner, "holding", holding)
    return calls


HANG = Happened(Outcome.TIMEOUT, runs=(make_run(Outcome.TIMEOUT, duration=60.0),))
KILLED = Happened(
    Outcome.SIGNAL, runs=(make_run(Outcome.SIGNAL, signal="SIGKILL", exit_status=None),)
)
PASSED = Happened(Outcome.PASS, runs=(make_run(Outcome.PASS),))


def test_a_stored_timeout_is_not_reused_until_a_rerun_confirms_it(
    layout: Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A matrix stores a timeout unconfirmed; the next run does not take it as final but runs
    the cell again (its logs numbered after the first's); seen again, it is confirmed and
    reused from then on."""
    monkeypatch.setattr(locks, "resolve", lambda layout, release, toolchain: LOCK)
    cell = Cell(SCENARIO, NEW, PY312)
    first = Evaluator(layout, TOOLS, Options())
    _scripted_runs(first, monkeypatch, HANG)
    record, reused = first.evaluate(cell)
    assert record.unconfirmed and not reused
    assert table.cell_text(record) == "timeout?"

    later = Evaluator(layout, TOOLS, Options())
    calls = _scripted_runs(later, monkeypatch, HANG)
    record, reused = later.evaluate(cell)
    assert calls == [2] and not reused
    assert record.confirmed and not record.unconfirmed and not record.flaky
    assert len(record.runs) == 2 and table.cell_text(record) == "timeout"

    third = Evaluator(layout, TOOLS, Options())
    assert _scripted_runs(third, monkeypatch) == []
    assert third.evaluate(cell) == (record, True)


def test_a_bisect_confirms_at_once_and_another_outcome_stands(
    layout: Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(locks, "resolve", lambda layout, release, toolchain: LOCK)
    evaluator = Evaluator(layout, TOOLS, Options(), confirm=True)
    calls = _scripted_runs(evaluator, monkeypatch, KILLED, PASSED)
    record, reused = evaluator.evaluate(Cell(SCENARIO, NEW, PY312))
    assert calls == [1, 2] and not reused
    assert record.outcome is Outcome.PASS and record.flaky and not record.unconfirmed
    assert [run.outcome for run in record.runs] == [Outcome.SIGNAL, Outcome.PASS]
    assert records.load(layout, SCENARIO.name, record.key) == record


def test_a_rerun_that_could_not_run_leaves_the_record_unconfirmed(
    layout: Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(locks, "resolve", lambda layout, release, toolchain: LOCK)
    evaluator = Evaluator(layout, TOOLS, Options(), confirm=True)
    vanished = Happened(Outcome.SETUP_ERROR, note="the venv vanished", transient=True)
    _scripted_runs(evaluator, monkeypatch, HANG, vanished)
    record, _ = evaluator.evaluate(Cell(SCENARIO, NEW, PY312))
    assert record.outcome is Outcome.TIMEOUT and record.unconfirmed


def _built_and_installed(
    monkeypatch: pytest.MonkeyPatch, package: str, installed: tuple[str, ...] = ()
) -> None:
    """Every build succeeds and "installs" `package` as the module `ext` in the venv's folder
    (where the import check runs), with this interpreter as the venv's python."""

    def ok_build(layout: Layout, job: build.Job, toolchain: Toolchain, **_: object) -> build.Built:
        wheel = "/w/ext-0.1.0-cp312-cp312-linux_x86_64.whl"
        return build.Built(BuildInfo(job.key, True, wheel, 1.0, False, "/b.log", None, False))

    def install(
        runner: CellRunner,
        cell: Cell,
        built: BuildInfo,
        venv: Area,
        log: Path,
        fresh: bool = False,
    ) -> tuple[Path, tuple[str, ...]]:
        (venv.path / "ext").mkdir(parents=True, exist_ok=True)
        (venv.path / "ext" / "__init__.py").write_text(package)
        return Path(sys.executable), installed

    monkeypatch.setattr(build, "build", ok_build)
    monkeypatch.setattr(CellRunner, "_install", install)


@pytest.mark.parametrize(
    ("package", "script", "outcome", "said"),
    [
        # The extension's package imports a dependency that is not installed.
        ("import anyio_not_here\n", "", Outcome.SETUP_ERROR, "dependency anyio_not_here is not"),
        # Its own compiled module is what did not load: the extension failed.
        ("import ext._lib\n", "", Outcome.IMPORT_ERROR, "No module named 'ext._lib'"),
        # The run itself stops at a module nobody installed.
        ("", "import numpy_not_here\n", Outcome.SETUP_ERROR, "dependency numpy_not_here is not"),
        ("", "raise ValueError('the bug')\n", Outcome.ERROR, "ValueError: the bug"),
        # A module of the project's own files (beside the script) is not a dependency.
        ("", "import helpers.gone\n", Outcome.ERROR, "No module named 'helpers.gone'"),
    ],
)
def test_a_missing_third_party_module_is_a_setup_error_naming_it(
    layout: Layout,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    package: str,
    script: str,
    outcome: Outcome,
    said: str,
) -> None:
    _built_and_installed(monkeypatch, package, ("anyio==4.6.0",))
    project = tmp_path / "proj"
    project.mkdir()
    (project / "a.py").write_text(script)
    (project / "helpers").mkdir()
    (project / "helpers" / "notes.txt").write_text("not a module")
    crate = make_crate(project, "python a.py")
    cell = Cell(crate, NEW, interp("3.12.1", path=sys.executable))
    record, _ = Evaluator(layout, TOOLS, Options()).evaluate(cell)
    assert record.outcome is outcome and said in (record.message or ""), record.message
    assert record.installed == ("anyio==4.6.0",) and not record.transient
    assert records.load(layout, record.scenario, record.key) == record  # stored as it is
