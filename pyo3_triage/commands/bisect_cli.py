"""`python bisect.py ...`: find the PyO3 release (or CPython version) where an outcome changes."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from pyo3_triage import hashes, interpreters, selection
from pyo3_triage.bisecting import bisect_report, bisection, commits
from pyo3_triage.bisecting.bisection import (
    FLAKY_RULES,
    Candidates,
    Criteria,
    Probe,
    Search,
    StepCallback,
    criteria_from,
    python_candidates,
    release_candidates,
)
from pyo3_triage.bisecting.search import Step
from pyo3_triage.building import toolchain
from pyo3_triage.cells import Evaluator, Options
from pyo3_triage.commands import program
from pyo3_triage.commands.cliargs import Parser, add_common, options_from
from pyo3_triage.errors import EXIT_NO_CHANGE, EXIT_OK, EXIT_UNSEARCHABLE, UserError, run_cli
from pyo3_triage.interpreters import Interpreter
from pyo3_triage.rendering.reproducer import Reproducer
from pyo3_triage.reporting import markdown
from pyo3_triage.running.supervisor import SUPERVISOR
from pyo3_triage.store import evict
from pyo3_triage.store.paths import Layout, write_atomic
from pyo3_triage.versions import changelog
from pyo3_triage.versions.releases import Release
from pyo3_triage.versions.support import window_for

DEFAULT_SCENARIO = "unsendable_gc_traverse"


def build_parser() -> Parser:
    parser = Parser(
        prog=program.usage("bisect"),
        description="Find the PyO3 release (or CPython version) where a reproducer's outcome changes.",
    )
    parser.add_argument(
        "--pyo3",
        metavar="SPEC",
        required=True,
        help="releases to search (0.19..0.21, '>=0.19,<0.22', ...) or one release "
        "when bisecting CPython",
    )
    parser.add_argument(
        "--python",
        metavar="SPEC",
        help="CPython(s): one search per CPython over the PyO3 range, or a range to "
        "search when --pyo3 names one release (default: the running CPython)",
    )
    parser.add_argument(
        "--new", metavar="OUTCOMES", help="outcomes that count as new, e.g. abort,segfault"
    )
    parser.add_argument("--old", metavar="OUTCOMES", help="outcomes that count as old, e.g. pass")
    parser.add_argument(
        "--list",
        action="store_true",
        help="print the candidates each search would walk and exit (builds nothing)",
    )
    parser.add_argument(
        "--flaky",
        choices=FLAKY_RULES,
        default="crash-wins",
        help="a probe whose repeated runs disagree: crash-wins (default: a crash seen "
        "once counts), stop, or skip",
    )
    add_common(parser)
    return parser


def _running_interpreter() -> interpreters.Interpreter:
    found = interpreters.probe(Path(sys.executable), "explicit")
    if found is None:
        raise UserError("cannot inspect the running CPython; pass --python")
    return found


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    criteria = criteria_from(args.new, args.old, args.flaky)
    console = Console(highlight=False)
    notify = lambda message: console.print(f"[yellow]note:[/] {escape(message)}")  # noqa: E731
    layout = Layout.default(cache=args.cache, results=args.results)
    limit = evict.limit_from(args.cache_limit)  # a bad value is one line, before any work
    layout.ensure()
    SUPERVISOR.harden()

    names = selection.split_list(args.scenario) or ([] if args.crate else [DEFAULT_SCENARIO])
    if len(names) > 1:
        raise UserError(
            f"bisect searches one scenario at a time, got {len(names)}: {', '.join(names)}"
        )
    picked = selection.pick_scenarios(
        names, args.crate, args.run, args.timeout, args.with_, args.extra
    )
    scenario = selection.with_companions(picked, layout, notify)[0]
    every = selection.pick_releases(args.pyo3, layout, notify, pre=args.pre, yanked=True)
    primary = selection.pick_releases(args.pyo3, layout, notify, pre=args.pre, yanked=args.yanked)
    if args.python is None:
        pythons = [_running_interpreter()]
    else:
        pythons = interpreters.select_interpreters(args.python, interpreters.discover())
    pythons = selection.drop_excluded([scenario], pythons, notify)

    options = options_from(args)
    plans = _plan(scenario, every, primary, pythons, options.build_unsupported, args.pyo3, notify)
    repo = selection.pick_repo(args.pyo3_git, layout, fetch=args.pyo3_git_fetch)
    if repo is not None and plans[0].axis != "pyo3":
        raise UserError("--pyo3-git refines a release boundary into commits: give a PyO3 range")
    if args.list:
        for plan in plans:
            _describe(plan, console)
        return EXIT_OK

    tools = toolchain.detect()
    evaluator = Evaluator(layout, tools, options, rerun=args.rerun)
    on_step = _progress(console)
    searches: list[Search] = []
    refined: dict[str, commits.CommitSearch] = {}
    for plan in plans:
        console.rule(f"{scenario.name}: {_range(plan)} on {plan.fixed}")
        search = bisection.run(plan, evaluator, criteria, on_step)
        searches.append(search)
        if repo is not None:
            found = commits.refine(
                search, repo, scenario, plan.cells[0].interp, evaluator, criteria, layout, on_step
            )
            if found is not None:
                refined[search.fixed] = found

    changelogs = changelog.texts(bisect_report.first_new_releases(searches))
    env = markdown.here(program.line("bisect", argv), layout.logs_dir())
    text = bisect_report.markdown(scenario, searches, env, layout.results, changelogs, refined)
    report = layout.bisect_report(
        scenario.name,
        _axis_name(searches),
        searches[0].labels[0],
        searches[0].labels[-1],
        _question(scenario, criteria, options, commit_level=repo is not None),
        "md",
    )
    write_atomic(report, text)
    write_atomic(
        report.with_suffix(".json"), bisect_report.as_json(scenario, searches, argv, refined)
    )
    for search in searches:
        if search.reversed:
            console.print(
                f"[yellow]note:[/] {search.fixed}: the start {search.probes[0].label} already shows an "
                "outcome --new names; searched for where it goes away"
            )
        console.print(
            f"[bold]{search.fixed}:[/] {escape(bisection.answer(search))} "
            f"[dim](searched {_range(search)})[/]"
        )
        link = bisect_report.compare_link(search)
        if link:
            console.print(f"  {link}")
        first, refinement = search.bound
        bound = f"bound without untestable candidates: {first}" + (
            f" + {refinement} inside the boundary" if refinement else ""
        )
        console.print(
            f"  {len(search.probes)} probes, {search.builds} builds for "
            f"{len(search.labels)} candidates ({bound})"
        )
        if search.fixed in refined:
            for line in bisect_report.commit_lines(refined[search.fixed]):
                console.print(f"  {escape(line)}")
    console.print(f"Report: {report}")
    evict.evict(layout, limit)
    failed = [found for found in refined.values() if found.git_error]
    if failed:  # the release answer is kept in the report; the repository is what was wrong
        raise UserError(
            f"--pyo3-git {args.pyo3_git}: {failed[0].stopped}; give a clone with those tags "
            f"(the release-level answer is in {report})"
        )
    kinds = {search.result.kind for search in searches}
    if kinds & {"boundary", "ambiguous"}:
        return EXIT_OK
    return EXIT_NO_CHANGE if kinds == {"no-change"} else EXIT_UNSEARCHABLE


def _plan(
    scenario: Reproducer,
    every: Sequence[Release],
    primary: Sequence[Release],
    pythons: Sequence[Interpreter],
    build_unsupported: bool,
    spec: str,
    notify: Callable[[str], None],
) -> list[Candidates]:
    """The searches to run: one per CPython over the releases, or one over the CPythons."""
    if len(primary) >= 2:
        wanted = {r.cargo_version for r in primary}
        plans = []
        for interp in pythons:
            found = release_candidates(scenario, every, wanted, interp, build_unsupported)
            if found is None:
                notify(
                    f"CPython {interp.version}: fewer than two releases in the range support it; skipped"
                )
                continue
            if found.excluded:
                notify(
                    f"CPython {interp.version}: not searched {', '.join(found.excluded)} "
                    "(outside their declared CPython window)"
                )
            plans.append(found)
        if not plans:
            raise UserError(
                f"no CPython among {', '.join(i.label for i in pythons)} is supported by two or more "
                f"releases in {spec!r}; choose another --python"
            )
        return plans
    if len(pythons) >= 2:
        if len(primary) != 1:
            raise UserError(
                f"--pyo3 {spec!r} matches no release; name one release to bisect CPython"
            )
        release = primary[0]
        span = window_for(release.version).span
        found = python_candidates(scenario, release, pythons, build_unsupported)
        if found is None:
            raise UserError(
                f"PyO3 {release} declares CPython {span}; fewer than two of "
                f"{', '.join(i.label for i in pythons)} are inside it; choose another --python "
                "(or --build-unsupported)"
            )
        if found.excluded:
            notify(
                f"left out CPython {', '.join(found.excluded)}: outside the window PyO3 {release} "
                f"declares ({span})"
            )
        return [found]
    raise UserError(
        "nothing to search: give a PyO3 range (--pyo3 0.19..0.21) or one release and a "
        "CPython range (--pyo3 0.20.3 --python 3.8..3.13)"
    )


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
            f"  not searched (outside their declared CPython window): {', '.join(plan.excluded)}"
        )


def _axis_name(searches: Sequence[Search]) -> str:
    """The axis and the fixed values: a search on another CPython must not overwrite it."""
    if searches[0].axis == "python":
        return "python-" + searches[0].fixed.removeprefix("PyO3 ")
    minors = [s.fixed.removeprefix("CPython ") for s in searches]
    return f"pyo3-py{minors[0]}" + (f"-{minors[-1]}" if len(minors) > 1 else "")


def _question(
    scenario: Reproducer, criteria: Criteria, options: Options, *, commit_level: bool = False
) -> str:
    """What else makes this bisect a different question: verdict options, build options and,
    for a user's crate, its run command. Empty for a scenario asked the default way."""
    parts = [f"new-{'+'.join(sorted(o.value for o in criteria.new))}"] if criteria.new else []
    parts += [f"old-{'+'.join(sorted(o.value for o in criteria.old))}"] if criteria.old else []
    parts += [f"flaky-{criteria.flaky_rule}"] if criteria.flaky_rule != "crash-wins" else []
    parts += ["commits"] if commit_level else []
    extra = [*options.as_args(), *scenario.question_args()]
    if extra:
        parts.append(hashes.digest("\0".join(extra), hashes.TAG))
    return "-".join(parts)


def _progress(console: Console) -> StepCallback:
    def show(step: Step, probe: Probe, labels: Sequence[str]) -> None:
        low, high = labels[step.window[0]], labels[step.window[1]]
        console.print(
            f"  probed {probe.label}: {probe.record.outcome.value} -> {probe.verdict.value} "
            f"({probe.how}); window {low} .. {high}"
            + (f", ~{step.remaining_steps} step(s) left" if step.remaining_steps else "")
        )

    return show


def entry(argv: Sequence[str] | None = None) -> int:
    return run_cli(main, sys.argv[1:] if argv is None else argv)
