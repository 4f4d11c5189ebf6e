"""The report command: redraw `results/report.md` and its chart from stored records, no rebuild."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from pyo3_triage.commands import parser, program
from pyo3_triage.errors import EXIT_OK, UserError, run_cli
from pyo3_triage.reporting import report
from pyo3_triage.reproducers import scenarios
from pyo3_triage.selection import split_list
from pyo3_triage.system.paths import Layout


def main(argv: Sequence[str]) -> int:
    args = parser.parse("report", argv)
    layout = Layout.default(results=args.results)
    if not layout.records_dir().is_dir():
        raise UserError(f"no records in {layout.results}; run {program.name('matrix')} first")
    grids = report.grids_from_store(layout, scenarios.known())
    wanted = set(split_list(args.scenario))
    grids = [g for g in grids if not wanted or g.scenario in wanted]
    if not grids:
        raise UserError(f"no records for {', '.join(sorted(wanted))} in {layout.results}")
    path = report.write(layout, grids)
    print(
        f"report written to {path} ({path.stat().st_size} bytes), pictures to "
        f"{layout.report_png()} and {layout.report_svg()}"
    )
    return EXIT_OK


def entry(argv: Sequence[str] | None = None) -> int:
    return run_cli(main, sys.argv[1:] if argv is None else argv)
