"""Run planned cells with a progress bar, then draw the tables from the records.

The tables are always drawn from stored records (never from in-memory state only), so
re-rendering needs no rebuild and an interrupted run still shows what it finished.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pyo3_triage.cells import Cell, Evaluate, Evaluator
from pyo3_triage.reporting import table
from pyo3_triage.reproducers.reproducer import Reproducer
from pyo3_triage.store.records import Record
from pyo3_triage.system.paths import Layout, write_atomic
from pyo3_triage.system.supervisor import SUPERVISOR, Interrupted


@dataclass(frozen=True)
class MatrixRun:
    cells: tuple[Cell, ...]
    records: tuple[Record, ...]  # one per finished cell, in plan order
    reused: int  # records taken from the store
    interrupted: bool


def describe_plan(cells: Sequence[Cell], evaluator: Evaluator) -> list[str]:
    """One line per cell: what will happen (unsupported, cached, build)."""
    keys = evaluator.keys
    lines = []
    for cell in cells:
        found = keys.cached_record(cell)
        if found is not None and found.unconfirmed:
            what = f"run again (stored {found.outcome.value} is unconfirmed)"
        elif found is not None:
            what = f"cached: {found.outcome.value}"
        elif not cell.declared and not keys.options.build_unsupported:
            what = f"unsupported ({cell.outside}); not built"
        else:
            what = "run (build cached)" if keys.has_cached_build(cell) else "build and run"
            what += "" if cell.declared else " (forced: outside window)"
        if cell.rust is not None and not cell.rust.known:
            what += f" (Rust {cell.rust.name} not installed: its window is unknown)"
        lines.append(f"{cell.label}: {what}")
    return lines


def execute(
    cells: Sequence[Cell], evaluator: Evaluate, console: Console, jobs: int = 1
) -> MatrixRun:
    """Evaluate every cell; with `jobs` > 1, that many (release, CPython) groups at a time
    (the scenarios of one group stay sequential: they share a target dir and its lock)."""
    done: dict[int, tuple[Record, bool]] = {}
    interrupted = False
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("cells", total=len(cells))

        def one(index: int) -> None:
            cell = cells[index]
            progress.update(task, description=cell.label)
            record, cached = evaluator.evaluate(cell)
            done[index] = (record, cached)
            progress.advance(task)
            origin = "cached" if cached else _took(record)
            style = table.STYLES[record.outcome]
            if console.is_terminal:
                line = f"{cell.label}: [{style}]{table.cell_text(record)}[/] ({origin})"
            else:  # a log or nox's pipe: one compact line per cell, never wrapped mid-word
                release = cell.release.cargo_version
                line = (
                    f"[{len(done)}/{len(cells)}] {cell.reproducer.name} {release} "
                    f"{_column(cell)}: [{style}]{table.cell_text(record)}[/] ({origin})"
                )
            console.print(line, highlight=False, soft_wrap=True)

        try:
            if jobs <= 1:
                for index in range(len(cells)):
                    one(index)
            else:
                _parallel(cells, jobs, one)
        except KeyboardInterrupt:
            interrupted = True
    ordered = [done[i] for i in sorted(done)]
    reused = sum(1 for _, cached in ordered if cached)
    return MatrixRun(tuple(cells), tuple(r for r, _ in ordered), reused, interrupted)


def _parallel(cells: Sequence[Cell], jobs: int, one: Callable[[int], None]) -> None:
    groups: dict[tuple[str, str, str], list[int]] = {}
    for index, cell in enumerate(cells):
        rust = cell.rust.name if cell.rust else ""
        where = (cell.release.cargo_version, str(cell.interp.realpath), rust)
        groups.setdefault(where, []).append(index)

    def work(indices: list[int]) -> None:
        for index in indices:
            if SUPERVISOR.interrupted:
                return
            one(index)

    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="cell")
    futures = [pool.submit(work, indices) for indices in groups.values()]
    try:
        for future in as_completed(futures):
            future.result()
    except KeyboardInterrupt:
        # Stop every running child; their runs raise instead of recording a killed result.
        SUPERVISOR.interrupt_all()
        pool.shutdown(wait=True, cancel_futures=True)
        SUPERVISOR.clear_interrupt()
        raise
    except Interrupted:
        raise KeyboardInterrupt from None
    pool.shutdown(wait=True)


def _column(cell: Cell) -> str:
    """The interpreter in a progress line: "py3.12.1", "py3.11.2d", "pp3.9.16" (and the
    toolchain, "py3.11.2 Rust 1.80", when one was chosen)."""
    label = cell.interp.label
    rust = f" Rust {cell.rust.name}" if cell.rust else ""
    return (label if label.startswith("pp") else f"py{label}") + rust


def _took(record: Record) -> str:
    build = record.build.duration if record.build else 0.0
    run = sum(r.duration for r in record.runs)
    return f"build {build:.1f}s, run {run:.1f}s"


def grids(
    scenarios: Sequence[Reproducer], cells: Sequence[Cell], found: Sequence[Record]
) -> list[table.Grid]:
    """One grid per scenario with cells in the plan (and per toolchain, see `table.arrange`),
    laid out by the plan (cells not yet run show as '·')."""
    by_cell = {(r.scenario, r.pyo3, r.rust, r.python_label): r for r in found}
    result = []
    for scenario in scenarios:
        own = [c for c in cells if c.reproducer.name == scenario.name]
        if not own:  # a shard may hold none of a scenario's cells: no empty table for it
            continue
        rows = tuple(dict.fromkeys((c.release.cargo_version, c.release.yanked) for c in own))
        columns = tuple(dict.fromkeys(c.interp.python_label for c in own))
        rusts = tuple(dict.fromkeys(c.rust.name if c.rust else "" for c in own)) or ("",)
        mine = {
            key[1:]: by_cell[key]
            for c in own
            if (
                key := (
                    scenario.name,
                    c.release.cargo_version,
                    c.rust.name if c.rust else "",
                    c.interp.python_label,
                )
            )
            in by_cell
        }
        shape = table.Grid(scenario.name, scenario.description, scenario.upstream, rows, columns)
        result += table.arrange(shape, rusts, mine)
    return result


def write_markdown(layout: Layout, text: str) -> None:
    write_atomic(layout.matrix_markdown(), text)
