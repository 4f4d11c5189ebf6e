"""`nox -s verify`: rerun each library scenario's recorded bisect (reusing stored records) and
compare it with what its `scenario.toml` says (`bisecting.verify`)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from pyo3_triage import interpreters, selection
from pyo3_triage.bisecting.verify import claims, verify_one
from pyo3_triage.building import toolchain
from pyo3_triage.cells import Evaluator, Options
from pyo3_triage.commands import program
from pyo3_triage.commands.cliargs import Parser, add_locations
from pyo3_triage.errors import EXIT_FINDING, EXIT_OK, UserError, run_cli
from pyo3_triage.rendering import scenarios
from pyo3_triage.running.supervisor import SUPERVISOR
from pyo3_triage.store import evict
from pyo3_triage.store.paths import Layout


def main(argv: Sequence[str]) -> int:
    parser = Parser(prog=program.usage("verify"), description=__doc__)
    parser.add_argument("--scenario", action="append", metavar="NAME", help="only these scenarios")
    add_locations(parser)
    parser.add_argument(
        "--list", action="store_true", help="print what would be verified and exit (builds nothing)"
    )
    args = parser.parse_args(list(argv))
    layout = Layout.default(cache=args.cache, results=args.results)
    limit = evict.limit_from(args.cache_limit)  # a bad value is one line, before any work
    layout.ensure()
    names = selection.split_list(args.scenario) or scenarios.available()
    chosen = [s for s in (scenarios.resolve(name) for name in names) if claims(s) is not None]
    if not chosen:
        raise UserError("no scenario among those selected records changed_in; nothing to verify")
    console = Console(highlight=False)
    if args.list:
        for scenario in chosen:
            claim = claims(scenario)
            assert claim is not None
            console.print(
                f"{scenario.name}: bisect {claim['verify_range']} on CPython "
                f"{claim['verify_python']}, expecting {claim['changed_in']}: "
                f"{claim['outcome_before']} -> {claim['outcome_after']}"
            )
        return EXIT_OK
    SUPERVISOR.harden()  # only now: --list starts nothing
    evaluator = Evaluator(layout, toolchain.detect(), Options())
    found = interpreters.discover()
    verdicts = []
    for scenario in chosen:
        console.rule(scenario.name)
        verdicts.append(verify_one(scenario, layout, evaluator, found))
    summary = Table(title="scenario library")
    for column in ("scenario", "recorded", "found", ""):
        summary.add_column(column)
    for v in verdicts:
        summary.add_row(
            v.scenario, v.expected, v.found, "[green]ok[/]" if v.ok else "[red]MISMATCH[/]"
        )
    console.print(summary)
    evict.evict(layout, limit)
    return EXIT_OK if all(v.ok for v in verdicts) else EXIT_FINDING


def entry(argv: Sequence[str] | None = None) -> int:
    return run_cli(main, sys.argv[1:] if argv is None else argv)
