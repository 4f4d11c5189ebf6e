"""`nox -s verify`: every library scenario still bisects to the release its metadata records.

A scenario that knows where its behaviour changed says so in `scenario.toml`:
`changed_in`, `outcome_before`, `outcome_after`, `verify_range` (a --pyo3 range) and
`verify_python`, and for a change asked about with --new/--old (a compile-time change:
`verify_new = "build-error"`) those too. Verifying reruns that bisect (reusing stored records) and compares, so the
scenario library doubles as the harness's own regression suite.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from . import evict, interpreters, scenarios, selection, toolchain
from .bisection import criteria_from, over_releases
from .cells import Evaluator, Options
from .cliargs import Parser, add_locations
from .errors import EXIT_FINDING, EXIT_OK, UserError, run_cli
from .paths import Layout
from .supervisor import SUPERVISOR

KEYS = ("changed_in", "outcome_before", "outcome_after", "verify_range", "verify_python")


@dataclass(frozen=True)
class Check:
    scenario: str
    expected: str  # "0.21.0: abort -> pass"
    found: str
    ok: bool


def claims(scenario: scenarios.Scenario) -> dict[str, str] | None:
    """The scenario's recorded finding, or None when it records none."""
    if "changed_in" not in scenario.metadata:
        return None
    missing = [key for key in KEYS if not isinstance(scenario.metadata.get(key), str)]
    if missing:
        raise UserError(
            f"{scenario.folder}/scenario.toml records changed_in but lacks {', '.join(missing)}"
        )
    return {key: scenario.metadata[key] for key in KEYS}


def verify_one(
    scenario: scenarios.Scenario,
    layout: Layout,
    evaluator: Evaluator,
    found_pythons: Sequence[interpreters.Interpreter],
) -> Check:
    claim = claims(scenario)
    assert claim is not None
    expected = f"{claim['changed_in']}: {claim['outcome_before']} -> {claim['outcome_after']}"
    notify = lambda message: None  # noqa: E731 - the summary table says what matters
    every = selection.pick_releases(claim["verify_range"], layout, notify, yanked=True)
    primary = {
        r.cargo_version for r in selection.pick_releases(claim["verify_range"], layout, notify)
    }
    (interp,) = interpreters.select_interpreters(claim["verify_python"], found_pythons)
    criteria = criteria_from(
        scenario.metadata.get("verify_new"), scenario.metadata.get("verify_old")
    )
    search = over_releases(scenario, every, primary, interp, evaluator, criteria)
    if search is None:
        return Check(scenario.name, expected, "nothing to search on that CPython", False)
    result = search.result
    old, new = search.probe_for(result.last_old), search.probe_for(result.first_new)
    if result.kind != "boundary" or old is None or new is None:
        return Check(scenario.name, expected, f"{result.kind}", False)
    found = f"{new.label}: {old.record.outcome.value} -> {new.record.outcome.value}"
    return Check(scenario.name, expected, found, found == expected)


def main(argv: Sequence[str]) -> int:
    parser = Parser(prog="nox -s verify --", description=__doc__)
    parser.add_argument("--scenario", action="append", metavar="NAME", help="only these scenarios")
    add_locations(parser)
    parser.add_argument(
        "--list", action="store_true", help="print what would be verified and exit (builds nothing)"
    )
    args = parser.parse_args(list(argv))
    layout = Layout.default(cache=args.cache, results=args.results)
    limit = evict.limit_from(args.cache_limit)  # a bad value is one line, before any work
    layout.ensure()
    SUPERVISOR.harden()
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
