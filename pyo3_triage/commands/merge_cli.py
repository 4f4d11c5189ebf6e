"""The merge command: combine results folders (e.g. CI shards) and redraw the tables."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from rich.console import Console

from pyo3_triage import matrix
from pyo3_triage.commands import parser, program
from pyo3_triage.errors import EXIT_FINDING, EXIT_OK, UserError, run_cli
from pyo3_triage.reporting import markdown, report, table
from pyo3_triage.reproducers import scenarios
from pyo3_triage.store import merge
from pyo3_triage.system.paths import Layout


def main(argv: Sequence[str]) -> int:
    args = parser.parse("merge", argv)
    layout = Layout.default(results=args.results)
    layout.ensure(cache=False)
    console = Console(highlight=False)
    if any(source.resolve() == layout.results for source in args.sources):
        raise UserError(f"{layout.results} is the merge target; pass other folders as sources")
    result = merge.merge(args.sources, layout)
    for line in result.conflicts:
        console.print(f"[red]conflict:[/] {line}")
    grids = report.grids_from_store(layout, scenarios.known())
    if not grids:
        raise UserError(
            f"no records in {', '.join(map(str, args.sources))} or {layout.results}; "
            f"pass results folders written by {program.name('matrix')}"
        )
    for grid in grids:
        console.print(table.rich_table(grid))
    env = markdown.here(program.line("merge", argv), layout.logs_dir())
    matrix.write_markdown(layout, markdown.matrix_document(grids, env))
    report.write(layout, grids)
    console.print(
        f"merged {result.added} new record(s), {result.identical} identical, "
        f"{len(result.conflicts)} conflict(s); table written to {layout.matrix_markdown()}"
    )
    return EXIT_FINDING if result.conflicts else EXIT_OK


def entry(argv: Sequence[str] | None = None) -> int:
    return run_cli(main, sys.argv[1:] if argv is None else argv)
