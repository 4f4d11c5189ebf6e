"""The merge command: combine results folders (e.g. CI shards) and redraw the tables."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from pyo3_triage import matrix
from pyo3_triage.commands import parser, program
from pyo3_triage.ecosystem import report as eco_report
from pyo3_triage.ecosystem import rows
from pyo3_triage.errors import EXIT_FINDING, EXIT_OK, UserError, run_cli
from pyo3_triage.reporting import markdown, report, table
from pyo3_triage.reproducers import scenarios
from pyo3_triage.store import merge
from pyo3_triage.system.paths import Layout, write_atomic


def main(argv: Sequence[str]) -> int:
    args = parser.parse("merge", argv)
    layout = Layout.default(results=args.results)
    layout.ensure(cache=False)
    console = Console(highlight=False)
    if any(source.resolve() == layout.results for source in args.sources):
        raise UserError(f"{layout.results} is the merge target; pass other folders as sources")
    ecosystem = _ecosystem_parts(args.sources)  # checked before any record is copied
    result = merge.merge(args.sources, layout)
    for line in result.conflicts:
        console.print(f"[red]conflict:[/] {line}")
    if ecosystem:
        merged = rows.merge(ecosystem)
        write_atomic(layout.ecosystem_report("json"), merged.to_json())
        line = program.line("merge", argv)
        write_atomic(layout.ecosystem_report("md"), eco_report.markdown(merged, line))
        console.print(eco_report.headline(merged), highlight=False)
        console.print(
            f"merged {len(ecosystem)} ecosystem report(s), {result.added} new record(s), "
            f"{len(result.conflicts)} conflict(s); report written to "
            f"{layout.ecosystem_report('md')}"
        )
        return EXIT_FINDING if result.conflicts else EXIT_OK
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


def _ecosystem_parts(sources: Sequence[Path]) -> list[tuple[str, rows.Ecosystem]]:
    """The ecosystem reports the sources hold (shards of one run), read; a source without
    one next to sources with one is refused, as are shards of different questions."""
    found = []
    for source in sources:
        path = Layout(cache=Path(), results=source).ecosystem_report("json")
        if path.is_file():
            found.append(
                (str(path), rows.Ecosystem.from_json(path.read_text(encoding="utf-8"), str(path)))
            )
    if found and len(found) != len(sources):
        missing = [str(s) for s in sources if not (s / "ecosystem.json").is_file()]
        raise UserError(
            f"{', '.join(missing)} holds no ecosystem.json while the other folders do: merge "
            "the shards of one ecosystem run only"
        )
    if found:
        rows.merge(found)  # refuses mixed candidates or baselines, in one line
    return found


def entry(argv: Sequence[str] | None = None) -> int:
    return run_cli(main, sys.argv[1:] if argv is None else argv)
