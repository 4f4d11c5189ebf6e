"""The matrix command: every reproducer x PyO3 release x CPython, built, run and tabulated.

Its steps (`STEPS`): prepare, select, plan the cells, honour `--list` and `--git-bisect-exit`,
execute, render, write the tables and the report, evict, exit status."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property

from rich.console import Console

from pyo3_triage import hashes, matrix, toolchains
from pyo3_triage.bisecting.bisection import Criteria, git_bisect_status
from pyo3_triage.cells import Cell, Evaluator, plan, shard
from pyo3_triage.commands import invocation, workflow
from pyo3_triage.commands.invocation import Invocation
from pyo3_triage.errors import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    GIT_BAD,
    GIT_GOOD,
    GIT_SKIP,
    UserError,
    run_cli,
)
from pyo3_triage.matrix import MatrixRun
from pyo3_triage.reporting import markdown, report, table
from pyo3_triage.store import evict
from pyo3_triage.system.areas import tree_size
from pyo3_triage.system.paths import Layout, write_atomic


def housekeeping(layout: Layout, console: Console, *, clean: bool, limit: int) -> int:
    if clean and not layout.tagged():  # refuse before printing sizes of someone else's files
        layout.clean_cache()
    usage = layout.cache_usage()
    for name, size in usage.items():
        console.print(f"{name:10} {size / 2**20:10.1f} MiB  {layout.cache_areas()[name]}")
    console.print(f"{'total':10} {sum(usage.values()) / 2**20:10.1f} MiB in {layout.cache}")
    console.print(
        f"{'limit':10} {limit / 2**20:10.1f} MiB (least recently used areas are evicted "
        f"after each run; --cache-limit or ${evict.ENV})"
    )
    folder, installed = toolchains.rustup_toolchains()
    if installed:
        sizes = sum(tree_size(path) for path in installed)
        console.print(
            f"Rust toolchains are rustup's, not this cache's: {len(installed)} in {folder} "
            f"({sizes / 2**20:.0f} MiB; --rust installs missing ones with --profile minimal); "
            "neither the limit nor --clean touches them: `rustup toolchain uninstall NAME`"
        )
        console.print("  " + ", ".join(path.name for path in installed), highlight=False)
    if clean:
        cleaned = layout.clean_cache()
        console.print(
            f"freed {cleaned.freed / 2**20:.1f} MiB; results in {layout.results} are untouched"
        )
        if cleaned.kept:
            console.print(f"kept {len(cleaned.kept)} folder(s) another run is using:")
            for path in cleaned.kept:
                console.print(f"  {path}", highlight=False)
    return EXIT_OK


def evict_and_say(layout: Layout, limit: int, console: Console) -> None:
    removed = evict.evict(layout, limit)
    if removed:
        freed = sum(area.size for area in removed) / 2**20
        console.print(
            f"cache over its limit ({limit / 2**20:.0f} MiB): evicted {len(removed)} least "
            f"recently used area(s) nobody was using, {freed:.0f} MiB"
        )


def git_bisect_exit(
    cells: Sequence[Cell], evaluator: Evaluator, criteria: Criteria, console: Console
) -> int:
    """One cell, one status for `git bisect run`: 0 old, 1 new, 125 skip."""
    if len(cells) != 1:
        raise UserError(
            f"--git-bisect-exit runs exactly one cell, but the selection has {len(cells)}; "
            "name one --scenario, one --pyo3 release and one --python"
        )
    record, reused = evaluator.evaluate(cells[0])
    status = git_bisect_status(record, criteria)
    word = {GIT_GOOD: "old", GIT_BAD: "new", GIT_SKIP: "skip"}[status]
    origin = "stored record" if reused else "built and ran"
    matched = criteria.matched(record)
    if matched is not None and criteria.pattern is not None:
        origin += (
            f"; {'matches' if matched else 'does not match'} --match {criteria.pattern.pattern!r}"
        )
    console.print(
        f"{cells[0].label}: {table.cell_text(record)} -> {word} (exit {status}; {origin})"
    )
    return status


@dataclass(frozen=True)
class MatrixState:
    """What the matrix's steps hand on: the question, then its cells, then what they gave."""

    inv: Invocation
    cells: tuple[Cell, ...] = ()
    run: MatrixRun = MatrixRun((), (), 0, False)
    grids: tuple[table.Grid, ...] = ()

    @cached_property
    def question(self) -> str:
        """The name of what was asked, for the tables and report kept under it."""
        return _question(self)


def prepare(state: MatrixState) -> MatrixState | int:
    """`--cache-info` and `--clean` answer before anything is created; else set up."""
    inv = state.inv
    if inv.args.cache_info or inv.args.clean:
        return housekeeping(inv.layout, inv.console, clean=inv.args.clean, limit=inv.cache_limit)
    inv.start()
    return state


def select(state: MatrixState) -> MatrixState:
    return replace(state, inv=invocation.select_matrix(state.inv))


def plan_cells(state: MatrixState) -> MatrixState:
    """The cells of every reproducer x release x CPython (this shard's slice of them)."""
    inv, shard_of = state.inv, state.inv.args.shard
    cells = plan(inv.reproducers, inv.releases, inv.interpreters, inv.rust_axis)
    shown = shard(cells, *shard_of) if shard_of else cells
    rusts = (
        f" x {len(inv.rusts)} Rust toolchain(s) ({', '.join(r.name for r in inv.rusts)})"
        if inv.rusts
        else ""
    )
    inv.console.print(
        f"[bold]Plan:[/] {len(inv.reproducers)} scenario(s) x {len(inv.releases)} PyO3 "
        f"release(s) ({', '.join(r.cargo_version for r in inv.releases)}) x "
        f"{len(inv.interpreters)} CPython(s) ({', '.join(i.label for i in inv.interpreters)})"
        f"{rusts} = {len(cells)} cells"
        + (f"; shard {shard_of[0]}/{shard_of[1]} runs {len(shown)}" if shard_of else "")
    )
    return replace(state, cells=tuple(shown))


def honour_list(state: MatrixState) -> MatrixState | int:
    """`--list`: each column's interpreter (the file its cells build with and run on), then
    what each cell would do; nothing is built, installed or stored."""
    if not state.inv.args.list:
        return state
    for interp in state.inv.interpreters:
        state.inv.console.print(f"{interp.name}: {interp.executable}", highlight=False)
    for line in matrix.describe_plan(state.cells, state.inv.evaluator):
        state.inv.console.print(line)
    return EXIT_OK


def git_bisect(state: MatrixState) -> MatrixState | int:
    inv = state.inv
    if not inv.args.git_bisect_exit:
        return state
    return git_bisect_exit(state.cells, inv.evaluator, inv.criteria, inv.console)


def execute(state: MatrixState) -> MatrixState:
    inv = state.inv
    run = matrix.execute(state.cells, inv.evaluator, inv.console, jobs=inv.args.jobs)
    grids = matrix.grids(inv.reproducers, state.cells, run.records)
    pattern = inv.criteria.pattern  # --match: its cells are marked
    return replace(state, run=run, grids=tuple(replace(g, pattern=pattern) for g in grids))


def render(state: MatrixState) -> MatrixState:
    console = state.inv.console
    short = table.needs_short(state.grids, console.width)
    for grid in state.grids:
        console.print(table.rich_table(grid, short))
    console.print(table.rich_legend(state.grids, short))
    return state


def write(state: MatrixState) -> MatrixState:
    """matrix.md, its copy named for the question and, unless interrupted, the report: an
    interrupted run leaves the last whole report (and its chart) as it was."""
    inv, run = state.inv, state.run
    note = (
        f"Interrupted after {len(run.records)} of {len(state.cells)} cells."
        if run.interrupted
        else ""
    )
    text = markdown.matrix_document(
        state.grids, markdown.here(inv.line, inv.layout.logs_dir()), note
    )
    matrix.write_markdown(inv.layout, text)
    write_atomic(inv.layout.question_file("matrix", state.question), text)
    report.write_latest(inv.layout, inv.reproducers)
    if not run.interrupted:
        report.write(inv.layout, state.grids, state.question)
    return state


def evict_unused(state: MatrixState) -> MatrixState:
    if not state.run.interrupted:  # an interrupted run stops at once; the next one evicts
        evict_and_say(state.inv.layout, state.inv.cache_limit, state.inv.console)
    return state


def exit_status(state: MatrixState) -> int:
    inv, run = state.inv, state.run
    inv.console.print(
        f"{len(run.records)} cells ({run.reused} from stored records); "
        f"table written to {inv.layout.matrix_markdown()} and kept as "
        f"{inv.layout.question_file('matrix', state.question).name}"
    )
    if run.interrupted:
        inv.console.print(
            f"[yellow]Interrupted.[/] Finished cells are kept; resume with: {inv.line}"
        )
        return EXIT_INTERRUPTED
    return EXIT_OK


STEPS = (
    prepare,
    select,
    plan_cells,
    honour_list,
    git_bisect,
    execute,
    render,
    write,
    evict_unused,
    exit_status,
)


def main(argv: Sequence[str]) -> int:
    return workflow.execute(MatrixState(invocation.resolve("matrix", argv)), STEPS)


def _question(state: MatrixState) -> str:
    """A name for what this run asked: the reproducers (their versions), the build options,
    the releases and CPythons; the same question asked again keeps the same name."""
    reproducers = state.inv.reproducers
    names = (
        "+".join(s.name for s in reproducers)
        if len(reproducers) <= 3
        else f"{len(reproducers)}-scenarios"
    )
    asked = sorted({(c.release.cargo_version, str(c.interp.version)) for c in state.cells})
    rusts = [f"rust={r.name}" for r in state.inv.rusts]
    parts = [*(s.run_hash for s in reproducers), *state.inv.options.as_args(), repr(asked), *rusts]
    return f"{names}-{hashes.digest(chr(0).join(parts), hashes.TAG)}"


def entry(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--git-bisect-exit" not in argv:
        return run_cli(main, argv)
    # Under `git bisect run`, any status but 0, 1 and 125 misleads git: 2 would read as "bad".
    # A commit where the reproducer cannot even be set up (its folder missing, bad metadata,
    # a failure of this tool) is untestable: skip it, with the one-line reason on stderr.
    try:
        status = run_cli(main, argv)
    except Exception as err:  # noqa: BLE001 - anything unexpected is still "cannot test"
        if "--debug" in argv:
            raise
        print(f"error: {type(err).__name__}: {err} (skipping this commit)", file=sys.stderr)
        return GIT_SKIP
    return GIT_SKIP if status == EXIT_USAGE else status


if __name__ == "__main__":
    sys.exit(entry())
