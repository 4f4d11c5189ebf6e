"""The bisect command: find the PyO3 release (or CPython version, or Rust toolchain) where an
outcome changes, and with `--pyo3-git` the commit and pull request inside that release.

Its steps (`STEPS`): prepare, select, plan the searches, honour `--list`, search, write the
report, show the answers, evict, exit status."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from pyo3_triage import hashes
from pyo3_triage.bisecting import bisect_report, bisection, commits
from pyo3_triage.bisecting.bisection import (
    Candidates,
    Criteria,
    Probe,
    Search,
    StepCallback,
    python_candidates,
    release_candidates,
    rust_candidates,
)
from pyo3_triage.bisecting.search import Step
from pyo3_triage.cells import Options
from pyo3_triage.commands import invocation, workflow
from pyo3_triage.commands.invocation import Invocation
from pyo3_triage.errors import EXIT_NO_CHANGE, EXIT_OK, EXIT_UNSEARCHABLE, UserError, run_cli
from pyo3_triage.reporting import markdown
from pyo3_triage.reproducers.reproducer import Reproducer
from pyo3_triage.store import evict
from pyo3_triage.system.paths import write_atomic
from pyo3_triage.toolchains import RustChoice
from pyo3_triage.versions import changelog, rust_support
from pyo3_triage.versions.support import window_for


@dataclass(frozen=True)
class BisectState:
    """What the bisect's steps hand on: the question, its searches, then what they found."""

    inv: Invocation
    plans: tuple[Candidates, ...] = ()
    searches: tuple[Search, ...] = ()
    refined: Mapping[str, commits.CommitSearch] = field(default_factory=dict)
    report: Path = Path()

    @property
    def reproducer(self) -> Reproducer:
        return self.inv.reproducers[0]


def prepare(state: BisectState) -> BisectState:
    state.inv.start()
    return state


def select(state: BisectState) -> BisectState:
    return replace(state, inv=invocation.select_bisect(state.inv))


def plan_searches(state: BisectState) -> BisectState:
    inv = state.inv
    plans = _searches_for(inv)
    if inv.repo is not None and plans[0].axis != "pyo3":
        raise UserError("--pyo3-git refines a release boundary into commits: give a PyO3 range")
    return replace(state, plans=tuple(plans))


def honour_list(state: BisectState) -> BisectState | int:
    if not state.inv.args.list:
        return state
    for plan in state.plans:
        _describe(plan, state.inv.console)
    return EXIT_OK


def search(state: BisectState) -> BisectState:
    """Each search in turn, and with `--pyo3-git` the commits inside its boundary release."""
    inv = state.inv
    on_step = _progress(inv.console)
    searches: list[Search] = []
    refined: dict[str, commits.CommitSearch] = {}
    for plan in state.plans:
        inv.console.rule(f"{state.reproducer.name}: {_range(plan)} on {plan.fixed}")
        found = bisection.run(plan, inv.evaluator, inv.criteria, on_step)
        searches.append(found)
        if inv.repo is not None:
            context = commits.CommitBisect(
                inv.repo,
                state.reproducer,
                plan.cells[0].interp,
                inv.evaluator,
                inv.criteria,
                inv.layout,
                plan.cells[0].rust,
            )
            inside = commits.refine_commits(
                found,
                context,
                on_step,
            )
            if inside is not None:
                refined[found.fixed] = inside
    return replace(state, searches=tuple(searches), refined=refined)


def write(state: BisectState) -> BisectState:
    """The Markdown report and its JSON twin, named for the question."""
    inv, searches, scenario = state.inv, state.searches, state.reproducer
    changelogs = changelog.texts(bisect_report.first_new_releases(searches))
    env = markdown.here(inv.line, inv.layout.logs_dir())
    text = bisect_report.markdown(
        scenario, searches, env, inv.layout.results, changelogs, state.refined
    )
    question = _question(
        scenario, inv.criteria, inv.options, commit_level=inv.repo is not None, rusts=inv.rusts
    )
    path = inv.layout.bisect_report(
        scenario.name,
        _axis_name(searches),
        searches[0].labels[0],
        searches[0].labels[-1],
        question,
        "md",
    )
    write_atomic(path, text)
    as_json = bisect_report.as_json(scenario, searches, inv.argv, state.refined)
    write_atomic(path.with_suffix(".json"), as_json)
    return replace(state, report=path)


def show(state: BisectState) -> BisectState:
    for found in state.searches:
        _show_answer(found, state.refined.get(found.fixed), state.inv.console)
    state.inv.console.print(f"Report: {state.report}")
    return state


def evict_unused(state: BisectState) -> BisectState:
    evict.evict(state.inv.layout, state.inv.cache_limit)
    return state


def exit_status(state: BisectState) -> int:
    failed = [found for found in state.refined.values() if found.git_error]
    if failed:  # the release answer is kept in the report; the repository is what was wrong
        raise UserError(
            f"--pyo3-git {state.inv.args.pyo3_git}: {failed[0].stopped}; give a clone with "
            f"those tags (the release-level answer is in {state.report})"
        )
    kinds = {found.result.kind for found in state.searches}
    if kinds & {"boundary", "ambiguous"}:
        return EXIT_OK
    return EXIT_NO_CHANGE if kinds == {"no-change"} else EXIT_UNSEARCHABLE


STEPS = (
    prepare,
    select,
    plan_searches,
    honour_list,
    search,
    write,
    show,
    evict_unused,
    exit_status,
)


def main(argv: Sequence[str]) -> int:
    return workflow.execute(BisectState(invocation.resolve("bisect", argv)), STEPS)


def _show_answer(found: Search, refined: commits.CommitSearch | None, console: Console) -> None:
    """A search's answer on the terminal: the boundary, its compare link, the probes it took
    and, refined, the commits."""
    if found.reversed:
        console.print(
            f"[yellow]note:[/] {found.fixed}: the start {found.probes[0].label} already shows "
            "an outcome --new names; searched for where it goes away"
        )
    console.print(
        f"[bold]{found.fixed}:[/] {escape(bisection.answer(found))} "
        f"[dim](searched {_range(found)})[/]"
    )
    link = bisect_report.compare_link(found)
    if link:
        console.print(f"  {link}")
    first, refinement = found.bound
    bound = f"bound without untestable candidates: {first}" + (
        f" + {refinement} inside the boundary" if refinement else ""
    )
    console.print(
        f"  {len(found.probes)} probes, {found.builds} builds for "
        f"{len(found.labels)} candidates ({bound})"
    )
    if refined is not None:
        for line in bisect_report.commit_lines(refined):
            console.print(f"  {escape(line)}")


def _searches_for(inv: Invocation) -> list[Candidates]:
    """The searches to run: one per CPython over the releases, one over the CPythons, or one
    per CPython over the Rust toolchains."""
    if len(inv.rusts) >= 2:
        return _rust_searches(inv)
    if len(inv.releases) >= 2:
        return _release_searches(inv)
    if len(inv.interpreters) >= 2:
        if len(inv.releases) != 1:
            raise UserError(
                f"--pyo3 {inv.args.pyo3!r} matches no release; name one release to bisect CPython"
            )
        return [_python_search(inv)]
    raise UserError(
        "nothing to search: give a PyO3 range (--pyo3 0.19..0.21), or one release and a "
        "CPython range (--pyo3 0.20.3 --python 3.8..3.13) or a Rust range (--rust 1.70..1.95)"
    )


def _release_searches(inv: Invocation) -> list[Candidates]:
    """One search over the range's releases per CPython that two of them support."""
    wanted = {r.cargo_version for r in inv.releases}
    rust = inv.rusts[0] if inv.rusts else None
    plans = []
    for interp in inv.interpreters:
        found = release_candidates(
            inv.reproducers[0], inv.every, wanted, interp, inv.options.build_unsupported, rust
        )
        if found is None:
            inv.notify(f"{interp.name}: fewer than two releases in the range support it; skipped")
            continue
        if found.excluded:
            inv.notify(
                f"{interp.name}: not searched {', '.join(found.excluded)} "
                "(outside their declared CPython or Rust window)"
            )
        plans.append(found)
    if not plans:
        raise UserError(
            f"no CPython among {', '.join(i.label for i in inv.interpreters)} is supported by two "
            f"or more releases in {inv.args.pyo3!r}; choose another --python"
        )
    return plans


def _python_search(inv: Invocation) -> Candidates:
    """One search over the CPythons inside the one release's declared window."""
    release = inv.releases[0]
    span = window_for(release.version).span
    found = python_candidates(
        inv.reproducers[0],
        release,
        inv.interpreters,
        inv.options.build_unsupported,
        inv.rusts[0] if inv.rusts else None,
    )
    if found is None:
        raise UserError(
            f"PyO3 {release} declares CPython {span}; fewer than two of "
            f"{', '.join(i.label for i in inv.interpreters)} are inside it; choose another "
            "--python (or --build-unsupported)"
        )
    if found.excluded:
        inv.notify(
            f"left out CPython {', '.join(found.excluded)}: outside the window PyO3 {release} "
            f"declares ({span})"
        )
    return found


def _rust_searches(inv: Invocation) -> list[Candidates]:
    """One search over the toolchains for the one release, per CPython."""
    if len(inv.releases) != 1:
        raise UserError(
            f"bisect searches one axis at a time: --rust {inv.args.rust!r} names "
            f"{len(inv.rusts)} toolchains, so name one PyO3 release (e.g. --pyo3 0.20.3), "
            f"not {len(inv.releases)}"
        )
    release = inv.releases[0]
    plans = []
    for interp in inv.interpreters:
        found = rust_candidates(
            inv.reproducers[0], release, interp, inv.rusts, inv.options.build_unsupported
        )
        if found is None:
            continue
        if found.excluded:
            inv.notify(
                f"left out Rust {', '.join(found.excluded)}: PyO3 {release} declares "
                f"{rust_support.floor_text(release)}"
            )
        plans.append(found)
    if not plans:
        raise UserError(
            f"PyO3 {release} declares {rust_support.floor_text(release)}; fewer than two of "
            f"--rust {inv.args.rust} are inside it; choose newer toolchains (or "
            "--build-unsupported)"
        )
    return plans


def _range(searched: Candidates | Search) -> str:
    labels = searched.labels
    return f"{labels[0]}{' (yanked)' if labels[0] in searched.yanked else ''} .. " + (
        f"{labels[-1]}{' (yanked)' if labels[-1] in searched.yanked else ''}"
    )


def _describe(plan: Candidates, console: Console) -> None:
    """`--list`: what a search would walk, without building or running anything."""
    shown = [f"{label} (yanked)" if label in plan.yanked else label for label in plan.labels]
    console.print(
        f"[bold]{plan.fixed}:[/] {len(plan.labels)} candidates, first pass over "
        f"{len(plan.primary)} (at most {plan.first_pass_bound} probes without untestable ones): "
        + ", ".join(shown)
    )
    if plan.excluded:
        console.print(
            "  not searched (outside their declared CPython or Rust window): "
            + ", ".join(plan.excluded)
        )


def _axis_name(searches: Sequence[Search]) -> str:
    """The axis and the fixed values: a search on another CPython must not overwrite it."""
    if searches[0].axis == "python":
        return "python-" + searches[0].fixed.removeprefix("PyO3 ").replace(" with Rust ", "-rust")
    if searches[0].axis == "rust":
        return "rust-" + searches[0].fixed.removeprefix("PyO3 ").replace(" on CPython ", "-py")
    minors = [
        s.fixed.replace("CPython ", "py").replace("PyPy ", "pp").replace(" with Rust ", "-rust")
        for s in searches
    ]
    return f"pyo3-{minors[0]}" + (f"-{minors[-1].removeprefix('py')}" if len(minors) > 1 else "")


def _question(
    scenario: Reproducer,
    criteria: Criteria,
    options: Options,
    *,
    commit_level: bool = False,
    rusts: Sequence[RustChoice] = (),
) -> str:
    """What else makes this bisect a different question: verdict options, build options and,
    for a user's crate, its run command. Empty for a scenario asked the default way."""
    parts = [f"new-{'+'.join(sorted(o.value for o in criteria.new))}"] if criteria.new else []
    parts += [f"old-{'+'.join(sorted(o.value for o in criteria.old))}"] if criteria.old else []
    parts += [f"flaky-{criteria.flaky_rule}"] if criteria.flaky_rule != "crash-wins" else []
    if criteria.pattern is not None:  # any text: named by its hash
        parts.append(f"match-{hashes.digest(criteria.pattern.pattern, hashes.TAG)}")
    parts += ["commits"] if commit_level else []
    parts += [f"rust-{rusts[0].name}"] if len(rusts) == 1 else []
    extra = [*options.as_args(), *scenario.question_args()]
    if extra:
        parts.append(hashes.digest("\0".join(extra), hashes.TAG))
    return "-".join(parts)


def _progress(console: Console) -> StepCallback:
    def show(step: Step, probe: Probe, labels: Sequence[str]) -> None:
        low, high = labels[step.window[0]], labels[step.window[1]]
        matched = {True: " (matches)", False: " (does not match)", None: ""}[probe.matched]
        console.print(
            f"  probed {probe.label}: {probe.record.outcome_word}{matched} -> {probe.verdict.value} "
            f"({probe.how}); window {low} .. {high}"
            + (f", ~{step.remaining_steps} step(s) left" if step.remaining_steps else "")
        )

    return show


def entry(argv: Sequence[str] | None = None) -> int:
    return run_cli(main, sys.argv[1:] if argv is None else argv)
