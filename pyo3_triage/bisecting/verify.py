"""The library's regression check: a scenario still bisects to the release its metadata records
(`nox -s verify`, in `commands.verify_cli`).

A scenario that knows where its behaviour changed says so in `scenario.toml`:
`changed_in`, `outcome_before`, `outcome_after`, `verify_range` (a --pyo3 range) and
`verify_python`, and for a change asked about with --new/--old (a compile-time change:
`verify_new = "build-error"`) those too; `verify_rust` names the Rust toolchain of a change
that depends on it (`--rust`). Verifying reruns that bisect (reusing stored records) and compares, so the
scenario library doubles as the harness's own regression suite.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pyo3_triage import interpreters, selection
from pyo3_triage.bisecting.bisection import criteria_from, over_releases
from pyo3_triage.cells import Evaluate
from pyo3_triage.errors import UserError
from pyo3_triage.reproducers import scenarios
from pyo3_triage.system.paths import Layout
from pyo3_triage.toolchains import RustChoice

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


def recorded(claim: dict[str, str]) -> str:
    """What the scenario records, as the summary shows it: "0.21.0: abort -> pass"."""
    return f"{claim['changed_in']}: {claim['outcome_before']} -> {claim['outcome_after']}"


def verify_one(
    scenario: scenarios.Scenario,
    layout: Layout,
    evaluator: Evaluate,
    found_pythons: Sequence[interpreters.Interpreter],
    rust: RustChoice | None = None,
) -> Check:
    """Rerun the scenario's recorded bisect (with `rust`, its `verify_rust`) and compare."""
    claim = claims(scenario)
    assert claim is not None
    expected = recorded(claim)
    notify = lambda message: None  # noqa: E731 - the summary table says what matters
    every = selection.pick_releases(claim["verify_range"], layout, notify, yanked=True)
    primary = {
        r.cargo_version for r in selection.pick_releases(claim["verify_range"], layout, notify)
    }
    (interp,) = interpreters.select_interpreters(claim["verify_python"], found_pythons)
    criteria = criteria_from(
        scenario.metadata.get("verify_new"), scenario.metadata.get("verify_old")
    )
    search = over_releases(scenario, every, primary, interp, evaluator, criteria, rust=rust)
    if search is None:
        return Check(scenario.name, expected, "nothing to search on that CPython", False)
    result = search.result
    old, new = search.probe_for(result.last_old), search.probe_for(result.first_new)
    if result.kind != "boundary" or old is None or new is None:
        return Check(scenario.name, expected, f"{result.kind}", False)
    found = f"{new.label}: {old.record.outcome.value} -> {new.record.outcome.value}"
    return Check(scenario.name, expected, found, found == expected)
