"""`nox -s matrix -- ...`: parse the options and run resolve -> plan -> build/run -> tabulate."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape

from pyo3_triage import hashes, matrix, selection
from pyo3_triage.bisecting.bisection import Criteria, criteria_from, git_bisect_status
from pyo3_triage.building import toolchain
from pyo3_triage.cells import Cell, Evaluator, Options, plan, shard
from pyo3_triage.commands import program
from pyo3_triage.commands.cliargs import Parser, add_common, options_from, positive_int, shard_spec
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
from pyo3_triage.rendering.reproducer import Reproducer
from pyo3_triage.reporting import markdown, report, table
from pyo3_triage.running.supervisor import SUPERVISOR
from pyo3_triage.store import evict
from pyo3_triage.store.paths import Layout, write_atomic
from pyo3_triage.versions import revisions

DEFAULT_PYO3 = "0.16.."  # to the newest release on crates.io
DEFAULT_NOTE = "newest patch of each minor"
# Two (release, CPython) groups at once when there are cores for it: measured 19 % faster on
# 2 cores; tables stay in plan order, progress lines arrive as cells finish.
DEFAULT_JOBS = 2 if (os.cpu_count() or 1) >= 2 else 1


def build_parser() -> Parser:
    parser = Parser(
        prog=program.usage("matrix"),
        description="Build and run reproducers across PyO3 releases x CPython versions.",
    )
    parser.add_argument(
        "--pyo3",
        metavar="SPEC",
        help="releases: 0.19..0.21, 0.20.3..0.21.0, '>=0.19,<0.22', 0.20.3,0.21.0 "
        f"(default: {DEFAULT_PYO3}, {DEFAULT_NOTE})",
    )
    parser.add_argument(
        "--python",
        metavar="SPEC",
        help="CPythons: 3.8..3.13, 3.12, 3.11,3.12, 3.12.1 or a path "
        "(default: every CPython found that a selected release supports)",
    )
    parser.add_argument(
        "--newest-patch",
        action="store_true",
        help="keep only the newest patch release of each minor series",
    )
    parser.add_argument("--list", action="store_true", help="print the planned cells and exit")
    parser.add_argument(
        "--git-bisect-exit",
        action="store_true",
        help="run exactly one cell and exit 0 (old), 1 (new) or 125 (untestable) for "
        "`git bisect run`; --new/--old choose the outcomes (default: old = pass)",
    )
    parser.add_argument(
        "--new", metavar="OUTCOMES", help="with --git-bisect-exit: outcomes that count as new"
    )
    parser.add_argument(
        "--old", metavar="OUTCOMES", help="with --git-bisect-exit: outcomes that count as old"
    )
    parser.add_argument(
        "--cache-info", action="store_true", help="print the cache's size per area and exit"
    )
    parser.add_argument(
        "--clean",
        action="store_true",
        help="delete the cache areas this tool created (results are kept) and exit",
    )
    parser.add_argument(
        "--jobs",
        type=positive_int,
        default=DEFAULT_JOBS,
        metavar="N",
        help="evaluate N (release, CPython) groups at once (default: 2 on 2+ cores, else 1)",
    )
    parser.add_argument(
        "--shard",
        type=shard_spec,
        metavar="K/N",
        help="run only the K-th of N balanced slices of the plan (see the merge command)",
    )
    add_common(parser)
    return parser


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
    if clean:
        freed = layout.clean_cache()
        console.print(f"freed {freed / 2**20:.1f} MiB; results in {layout.results} are untouched")
    return EXIT_OK


def _evict(layout: Layout, limit: int, console: Console) -> None:
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
    console.print(
        f"{cells[0].label}: {table.cell_text(record)} -> {word} (exit {status}; {origin})"
    )
    return status


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    if (args.new is not None or args.old is not None) and not args.git_bisect_exit:
        raise UserError(
            "--new/--old choose what --git-bisect-exit reports as new or old; the matrix shows "
            f"every outcome as it is (use {program.name('bisect')} to search with them)"
        )
    criteria = criteria_from(args.new, args.old)
    console = Console(stderr=False, highlight=False)
    notify = lambda message: console.print(f"[yellow]note:[/] {escape(message)}")  # noqa: E731
    layout = Layout.default(cache=args.cache, results=args.results)
    limit = evict.limit_from(args.cache_limit)
    if args.cache_info or args.clean:  # before `ensure`: housekeeping creates nothing
        return housekeeping(layout, console, clean=args.clean, limit=limit)
    layout.ensure()
    SUPERVISOR.harden()

    scenarios = selection.pick_scenarios(
        args.scenario, args.crate, args.run, args.timeout, args.with_, args.extra
    )
    scenarios = selection.with_companions(scenarios, layout, notify)
    spec = DEFAULT_PYO3 if args.pyo3 is None else args.pyo3
    newest_patch = args.newest_patch or args.pyo3 is None
    spec, revs = selection.split_revisions(spec)
    repo = selection.pick_repo(args.pyo3_git, layout, fetch=args.pyo3_git_fetch, needed=bool(revs))
    if repo is not None and not revs:
        raise UserError(
            "--pyo3-git gives the commits that git:REV items in --pyo3 name, e.g. "
            "--pyo3 0.20.3,git:main; the matrix has none"
        )
    releases = []
    if spec or not revs:
        releases = selection.pick_releases(
            spec, layout, notify, pre=args.pre, yanked=args.yanked, newest_patch=newest_patch
        )
    if repo is not None:
        releases += [revisions.at(repo, rev, layout) for rev in revs]
    interpreters = selection.pick_interpreters(args.python, releases, notify)
    interpreters = selection.drop_excluded(scenarios, interpreters, notify)
    cells = plan(scenarios, releases, interpreters)
    planned = len(cells)
    if args.shard:
        cells = shard(cells, *args.shard)
    tools = toolchain.detect()
    evaluator = Evaluator(layout, tools, options_from(args), rerun=args.rerun)

    console.print(
        f"[bold]Plan:[/] {len(scenarios)} scenario(s) x {len(releases)} PyO3 release(s) "
        f"({', '.join(r.cargo_version for r in releases)}) x {len(interpreters)} CPython(s) "
        f"({', '.join(i.label for i in interpreters)}) = {planned} cells"
        + (f"; shard {args.shard[0]}/{args.shard[1]} runs {len(cells)}" if args.shard else "")
    )
    if args.list:
        for line in matrix.describe_plan(cells, evaluator):
            console.print(line)
        return EXIT_OK

    if args.git_bisect_exit:
        return git_bisect_exit(cells, evaluator, criteria, console)

    run = matrix.execute(cells, evaluator, console, jobs=args.jobs)
    grids = matrix.grids(scenarios, cells, run.records)
    short = table.needs_short(grids, console.width)
    for grid in grids:
        console.print(table.rich_table(grid, short))
    console.print(table.rich_legend(grids, short))
    note = ""
    if run.interrupted:
        note = f"Interrupted after {len(run.records)} of {len(cells)} cells."
    command = program.line("matrix", argv)
    text = markdown.matrix_document(grids, markdown.here(command, layout.logs_dir()), note)
    question = _question(scenarios, options_from(args), cells)
    matrix.write_markdown(layout, text)
    write_atomic(layout.question_file("matrix", question), text)
    report.write_latest(layout, scenarios)
    # An interrupted run stops at once: it leaves the last whole report (and its chart) as it
    # was, and the next run evicts.
    if not run.interrupted:
        report.write(layout, grids, question)
        _evict(layout, limit, console)
    console.print(
        f"{len(run.records)} cells ({run.reused} from stored records); "
        f"table written to {layout.matrix_markdown()} and kept as "
        f"{layout.question_file('matrix', question).name}"
    )
    if run.interrupted:
        console.print(f"[yellow]Interrupted.[/] Finished cells are kept; resume with: {command}")
        return EXIT_INTERRUPTED
    return EXIT_OK


def _question(scenarios: Sequence[Reproducer], options: Options, cells: Sequence[Cell]) -> str:
    """A name for what this run asked: the reproducers (their versions), the build options,
    the releases and CPythons; the same question asked again keeps the same name."""
    names = (
        "+".join(s.name for s in scenarios)
        if len(scenarios) <= 3
        else f"{len(scenarios)}-scenarios"
    )
    asked = sorted({(c.release.cargo_version, str(c.interp.version)) for c in cells})
    parts = [*(s.run_hash for s in scenarios), *options.as_args(), repr(asked)]
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
