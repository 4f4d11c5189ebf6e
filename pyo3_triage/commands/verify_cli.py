"""The verify command: rerun each library scenario's recorded bisect (reusing stored records)
and compare it with what its `scenario.toml` says (`bisecting.verify`)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from rich.table import Table

from pyo3_triage import selection, toolchains
from pyo3_triage.bisecting.verify import Check, claims, recorded, verify_one
from pyo3_triage.commands import invocation
from pyo3_triage.commands.invocation import Invocation
from pyo3_triage.errors import EXIT_FINDING, EXIT_OK, UserError, run_cli
from pyo3_triage.reproducers import scenarios
from pyo3_triage.reproducers.scenarios import Scenario
from pyo3_triage.store import evict
from pyo3_triage.toolchains import RustChoice


def main(argv: Sequence[str]) -> int:
    inv = invocation.resolve("verify", argv)
    inv.layout.ensure()
    chosen = _chosen(inv)
    if inv.args.list:
        _describe(inv, chosen)
        return EXIT_OK
    inv.start()  # only now: --list starts nothing
    found = inv.interpreters_found()
    verdicts = []
    for scenario in chosen:
        inv.console.rule(scenario.name)
        try:
            rust = _rust(inv, scenario)
        except UserError as err:  # e.g. no rustup for its verify_rust: the others still run
            claim = claims(scenario)
            assert claim is not None  # `_chosen` keeps only scenarios that record one
            verdicts.append(Check(scenario.name, recorded(claim), f"not run: {err}", False))
            continue
        verdicts.append(verify_one(scenario, inv.layout, inv.evaluator, found, rust))
    inv.console.print(_summary(verdicts))
    evict.evict(inv.layout, inv.cache_limit)
    return EXIT_OK if all(v.ok for v in verdicts) else EXIT_FINDING


def _chosen(inv: Invocation) -> list[Scenario]:
    """The scenarios asked for (default: the library) that record where they changed."""
    names = selection.split_list(inv.args.scenario) or scenarios.available()
    chosen = [s for s in (scenarios.resolve(name) for name in names) if claims(s) is not None]
    if not chosen:
        raise UserError("no scenario among those selected records changed_in; nothing to verify")
    return chosen


def _rust(inv: Invocation, scenario: Scenario) -> RustChoice | None:
    """The toolchain the scenario's change depends on (`verify_rust`), or None."""
    name = scenario.metadata.get("verify_rust")
    if name is None:
        return None
    names = toolchains.parse(str(name))
    if len(names) != 1:
        raise UserError(f"{scenario.folder}/scenario.toml: verify_rust names one toolchain")
    return toolchains.choices(names, inv.rustup)[0]


def _describe(inv: Invocation, chosen: Sequence[Scenario]) -> None:
    for scenario in chosen:
        claim = claims(scenario)
        assert claim is not None
        inv.console.print(
            f"{scenario.name}: bisect {claim['verify_range']} on CPython "
            f"{claim['verify_python']}"
            + (f" with Rust {rust}" if (rust := scenario.metadata.get("verify_rust")) else "")
            + f", expecting {claim['changed_in']}: "
            f"{claim['outcome_before']} -> {claim['outcome_after']}"
        )


def _summary(verdicts: Sequence[Check]) -> Table:
    summary = Table(title="scenario library")
    for column in ("scenario", "recorded", "found", ""):
        summary.add_column(column)
    for v in verdicts:
        summary.add_row(
            v.scenario, v.expected, v.found, "[green]ok[/]" if v.ok else "[red]MISMATCH[/]"
        )
    return summary


def entry(argv: Sequence[str] | None = None) -> int:
    return run_cli(main, sys.argv[1:] if argv is None else argv)
