"""The matrix run around the cells: what the plan says will happen, how cells run (in order, or
grouped by release and CPython in parallel), and the grids drawn from records."""

from __future__ import annotations

import dataclasses
import io
import threading
from pathlib import Path

import pytest
from factories import LOCK, TOOLS, interp, make_record, make_run
from packaging.version import Version
from rich.console import Console

from pyo3_triage import matrix
from pyo3_triage.building import locks
from pyo3_triage.cells import Cell, Evaluator, Options, plan
from pyo3_triage.evidence import BuildInfo
from pyo3_triage.outcome import Outcome
from pyo3_triage.reproducers import scenarios
from pyo3_triage.store.records import Happened, Record
from pyo3_triage.system.paths import Layout
from pyo3_triage.versions.releases import Release

SCENARIO = scenarios.resolve("unsendable_gc_traverse")
OTHER = scenarios.resolve("unsendable_gc_traverse_workaround")
OLD = Release(Version("0.16.6"), vers="0.16.6")  # declares CPython 3.7-3.10
NEW = Release(Version("0.20.3"), vers="0.20.3", yanked=True)


PY310, PY312 = interp("3.10.13"), interp("3.12.1")


def test_the_plan_is_described_cell_by_cell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layout = Layout(tmp_path / "cache", tmp_path / "results")
    layout.ensure()
    monkeypatch.setattr(locks, "load_cached", lambda layout, release, toolchain: None)
    evaluator = Evaluator(layout, TOOLS, Options())
    outside, inside = Cell(SCENARIO, OLD, PY312), Cell(SCENARIO, NEW, PY312)
    lines = matrix.describe_plan([outside, inside], evaluator)
    assert lines == [
        f"{outside.label}: unsupported (declares CPython 3.7-3.10); not built",
        f"{inside.label}: build and run",
    ]
    forced = Evaluator(layout, TOOLS, Options(build_unsupported=True))
    assert matrix.describe_plan([outside], forced) == [
        f"{outside.label}: build and run (forced: outside window)"
    ]

    monkeypatch.setattr(locks, "load_cached", lambda layout, release, toolchain: LOCK)
    job = evaluator.keys.job(inside, LOCK, TOOLS)
    layout.build_info(job.key).parent.mkdir(parents=True, exist_ok=True)
    layout.build_info(job.key).write_text("{}")
    assert matrix.describe_plan([inside], evaluator) == [f"{inside.label}: run (build cached)"]
    evaluator.evaluate(outside)  # stores the unsupported record
    evaluator.keys.record(inside, evaluator.keys.key(inside, job), Happened(Outcome.ABORT))
    assert matrix.describe_plan([outside, inside], evaluator) == [
        f"{outside.label}: cached: unsupported",
        f"{inside.label}: cached: abort",
    ]


def test_grids_follow_the_plan_one_per_scenario() -> None:
    cells = plan([SCENARIO, OTHER], [OLD, NEW], [PY310, PY312])
    found = [
        make_record(Outcome.PASS, scenario=SCENARIO.name, pyo3="0.16.6", python_label="3.10"),
        make_record(Outcome.ABORT, scenario=SCENARIO.name, pyo3="0.20.3", python_label="3.12"),
        make_record(Outcome.ERROR, scenario=OTHER.name, pyo3="0.20.3", python_label="3.10"),
        make_record(Outcome.ABORT, scenario=SCENARIO.name, pyo3="0.21.0", python_label="3.12"),
        make_record(Outcome.ABORT, scenario="elsewhere", pyo3="0.20.3", python_label="3.12"),
    ]
    first, second = matrix.grids([SCENARIO, OTHER], cells, found)
    assert (first.scenario, first.description) == (SCENARIO.name, SCENARIO.description)
    assert first.rows == (("0.16.6", False), ("0.20.3", True))  # 0.21.0 is not in the plan
    assert first.columns == ("3.10", "3.12")
    assert {k: r.outcome for k, r in first.cells.items()} == {
        ("0.16.6", "3.10"): Outcome.PASS,
        ("0.20.3", "3.12"): Outcome.ABORT,
    }
    assert {k: r.outcome for k, r in second.cells.items()} == {("0.20.3", "3.10"): Outcome.ERROR}
    assert matrix.grids([SCENARIO], [], found) == []  # a shard without its cells: no table


class FakeEvaluator:
    options = Options()

    def __init__(self, stop_at: int | None = None) -> None:
        self.seen: list[Cell] = []
        self.stop_at = stop_at

    def evaluate(self, cell: Cell) -> tuple[Record, bool]:
        if len(self.seen) == self.stop_at:
            raise KeyboardInterrupt
        self.seen.append(cell)
        build = BuildInfo("b", True, "/w.whl", 2.0, False, "/b.log", None, True)
        run = dataclasses.replace(make_run(Outcome.ABORT), duration=0.5)
        made = make_record(Outcome.ABORT, pyo3=cell.release.cargo_version, build=build, runs=(run,))
        return made, len(self.seen) % 2 == 0  # every second one "from the store"


def console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=False, width=300, highlight=False), out


def test_execute_runs_every_cell_in_plan_order_and_counts_reuse() -> None:
    cells = plan([SCENARIO], [OLD, NEW], [PY312])
    fake = FakeEvaluator()
    screen, out = console()
    run = matrix.execute(cells, fake, screen)
    assert fake.seen == cells and run.cells == tuple(cells)
    assert [r.pyo3 for r in run.records] == ["0.16.6", "0.20.3"]
    assert (run.reused, run.interrupted) == (1, False)
    lines = out.getvalue().splitlines()
    assert f"[1/2] {SCENARIO.name} 0.16.6 py3.12.1: abort (build 2.0s, run 0.5s)" in lines
    assert f"[2/2] {SCENARIO.name} 0.20.3 py3.12.1: abort (cached)" in lines


def test_an_interrupted_run_keeps_what_finished() -> None:
    cells = plan([SCENARIO, OTHER], [NEW], [PY310, PY312])
    run = matrix.execute(cells, FakeEvaluator(stop_at=3), console()[0])
    assert run.interrupted and len(run.records) == 3 and len(run.cells) == 4


def test_the_parallel_pool_keeps_each_release_and_cpython_group_on_one_worker() -> None:
    cells = plan([SCENARIO, OTHER], [OLD, NEW], [PY310, PY312])
    ran: list[tuple[int, str]] = []

    def one(index: int) -> None:
        ran.append((index, threading.current_thread().name))

    matrix._parallel(cells, 3, one)
    assert sorted(i for i, _ in ran) == list(range(len(cells)))
    groups: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for index, thread in ran:
        cell = cells[index]
        groups.setdefault((cell.release.cargo_version, str(cell.interp.realpath)), []).append(
            (index, thread)
        )
    assert len(groups) == 4
    for members in groups.values():
        assert [i for i, _ in members] == sorted(i for i, _ in members)  # in plan order
        assert len({thread for _, thread in members}) == 1 and len(members) == 2
    assert all(thread.startswith("cell") for _, thread in ran)


def test_the_markdown_table_is_written_into_the_results(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "cache", tmp_path / "results")
    matrix.write_markdown(layout, "## table\n")
    assert layout.matrix_markdown().read_text() == "## table\n"
