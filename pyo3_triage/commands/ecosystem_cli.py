"""The ecosystem command: a PyO3 candidate against a baseline on a list of real projects.

Its steps: read the list (a malformed one is one line, before anything is built), resolve the
two revisions, have each project's source and crate (or a row saying why not), choose the
CPython, honour `--list`, evaluate the two cells of each project, write the report."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from pyo3_triage import interpreters, selection, toolchains
from pyo3_triage.cells import Cell
from pyo3_triage.commands import invocation, workflow
from pyo3_triage.commands.invocation import Invocation
from pyo3_triage.commands.matrix_cli import evict_and_say
from pyo3_triage.ecosystem import projects, report, sources
from pyo3_triage.ecosystem import run as eco
from pyo3_triage.ecosystem.rows import EACH_LOCK, Ecosystem, Row
from pyo3_triage.ecosystem.verdicts import Verdict
from pyo3_triage.errors import EXIT_INTERRUPTED, EXIT_OK, UserError, run_cli
from pyo3_triage.interpreters import Interpreter
from pyo3_triage.matrix import describe_plan
from pyo3_triage.reproducers.usercrate import UserCrate
from pyo3_triage.system.paths import starter_list, write_atomic
from pyo3_triage.versions import gitrepo, revisions
from pyo3_triage.versions.releases import Release

# `--list` downloads nothing: what it says of a project whose sdist the run would download.
NOT_DOWNLOADED = "sdist not cached yet: the run downloads it, then builds both cells"


@dataclass(frozen=True)
class EcoState:
    inv: Invocation
    listed: tuple[projects.Project, ...] = ()
    list_folder: Path = Path()
    candidate: Release | None = None
    baseline: Release | None = None
    repo: gitrepo.Repo | None = None
    ready: tuple[eco.Ready | eco.Untried, ...] = ()
    pythons: tuple[Interpreter | None, ...] = ()
    rows: tuple[Row, ...] = ()
    interrupted: bool = False


def read_list(state: EcoState) -> EcoState:
    """The list, checked whole; this shard's slice of it."""
    args = state.inv.args
    path = args.projects or starter_list()
    if args.projects is None and not path.is_file():
        raise UserError(f"no starter list at {path}; pass --projects FILE")
    listed = projects.load(path)
    if args.shard:
        listed = tuple(eco.slice_of(listed, *args.shard))
    return replace(state, listed=listed, list_folder=path.resolve().parent)


def revisions_asked(state: EcoState) -> EcoState:
    """The candidate (and a named baseline) as releases or commits."""
    inv = state.inv
    args = inv.args
    inv.start()
    repo: gitrepo.Repo | None = None
    candidate = args.candidate
    if not candidate.startswith("git:") and Path(candidate).expanduser().is_dir():
        folder = Path(candidate).expanduser()
        if args.pyo3_git is not None:
            raise UserError("--candidate names a PyO3 checkout: leave out --pyo3-git")
        if not (folder / ".git").exists() and not (folder / "HEAD").is_file():
            raise UserError(
                f"--candidate {candidate} is a folder but not a git repository; give a PyO3 "
                "checkout, a release or git:REV with --pyo3-git"
            )
        repo = gitrepo.open_repo(str(folder.resolve()), inv.layout)
        candidate = "git:HEAD"
    needs_repo = candidate.startswith("git:") or (args.baseline or "").startswith("git:")
    if repo is None:
        repo = selection.pick_repo(
            args.pyo3_git, inv.layout, fetch=args.pyo3_git_fetch, needed=needs_repo
        )
    chosen = _revision(inv, candidate, repo, "--candidate")
    base = _revision(inv, args.baseline, repo, "--baseline") if args.baseline else None
    return replace(state, candidate=chosen, baseline=base, repo=repo)


def _revision(inv: Invocation, spec: str, repo: gitrepo.Repo | None, option: str) -> Release:
    if spec.startswith("git:"):
        assert repo is not None
        return revisions.at(repo, spec.removeprefix("git:"), inv.layout)
    found = selection.pick_releases(spec, inv.layout, inv.notify, pre=True, yanked=True)
    exact = [r for r in found if r.cargo_version == spec.strip()] or found
    if len(exact) != 1:
        raise UserError(f"{option} {spec} names {len(found)} releases; name one, e.g. 0.21.2")
    return exact[0]


def sources_had(state: EcoState) -> EcoState:
    """Each project's folder and crate, or the row that says why it cannot be tried."""
    listing = bool(state.inv.args.list)
    ready: list[eco.Ready | eco.Untried] = []
    for project in state.listed:
        ready.append(_prepare(state, project, download=not listing))
    return replace(state, ready=tuple(ready))


def _prepare(
    state: EcoState, project: projects.Project, *, download: bool
) -> eco.Ready | eco.Untried:
    inv = state.inv
    try:
        folder = eco.source_folder(inv.layout, project, download=download)
    except sources.SourceError as err:
        verdict = Verdict.SETUP_ERROR if err.transient else Verdict.NOT_TRIED
        return eco.untried(project, verdict, str(err))
    if folder is None:
        return eco.untried(project, Verdict.NOT_TRIED, NOT_DOWNLOADED)
    try:
        crate = eco.load_crate(project, folder, state.list_folder)
    except UserError as err:
        return eco.untried(project, Verdict.NOT_TRIED, err.message)
    loaded = selection.with_companions([crate], inv.layout, inv.notify)[0]
    assert isinstance(loaded, UserCrate)
    crate = loaded
    baseline = state.baseline
    if baseline is None:
        pinned = eco.pinned_pyo3(crate.project)
        if pinned is None:
            return eco.untried(
                project, Verdict.NOT_TRIED, "its Cargo.lock pins no pyo3; pass --baseline"
            )
        try:
            baseline = _revision(inv, pinned, None, "the pinned pyo3")
        except UserError as err:
            return eco.untried(project, Verdict.NOT_TRIED, err.message)
    rust = None
    if project.rust:
        names = toolchains.parse(project.rust)
        (rust,) = toolchains.choices(names, inv.rustup, install=not state.inv.args.list)
    return eco.Ready(project, crate, baseline, folder, rust)


def pythons(state: EcoState) -> EcoState:
    """One CPython per project: its own `python`, else the newest every project accepts."""
    inv = state.inv
    assert state.candidate is not None
    found = [i for i in inv.interpreters_found() if i.build == "cpython"]
    if inv.args.python is not None:
        found = interpreters.select_interpreters(inv.args.python, found, notify=inv.notify)
    chosen: list[Interpreter | None] = []
    for item in state.ready:
        if not isinstance(item, eco.Ready):
            chosen.append(None)
            continue
        own = found
        if item.project.python:
            own = interpreters.select_interpreters(item.project.python, found, notify=inv.notify)
        chosen.append(eco.pick_interpreter(item.crate, (item.baseline, state.candidate), own))
    common = _common(state, found)
    if common is not None:
        chosen = [
            common
            if c is not None and not isinstance(r, eco.Untried) and not r.project.python
            else c
            for c, r in zip(chosen, state.ready)
        ]
    return replace(state, pythons=tuple(chosen))


def _common(state: EcoState, found: Sequence[Interpreter]) -> Interpreter | None:
    """The newest CPython that every ready project (without its own `python`) accepts."""
    assert state.candidate is not None
    usable = list(found)
    for item in state.ready:
        if isinstance(item, eco.Ready) and not item.project.python:
            pick = [
                i
                for i in usable
                if eco.pick_interpreter(item.crate, (item.baseline, state.candidate), [i])
            ]
            usable = pick
    return max(usable, key=lambda i: i.version, default=None)


def honour_list(state: EcoState) -> EcoState | int:
    """`--list`: each project's source, revisions, CPython and what each cell would do."""
    if not state.inv.args.list:
        return state
    console = state.inv.console
    assert state.candidate is not None
    for item, interp in zip(state.ready, state.pythons):
        if isinstance(item, eco.Untried):
            said = (
                item.row.why
                if item.row.why == NOT_DOWNLOADED
                else (f"{item.row.verdict.value}: {item.row.why}")
            )
            console.print(f"{item.row.name} {item.row.version}: {said}")
            continue
        head = f"{item.project.name} {item.project.version or item.project.source} ({item.folder})"
        if interp is None:
            console.print(f"{head}: no CPython accepted by the project and both revisions")
            continue
        console.print(f"{head}: on {interp.name}")
        cells = [
            Cell(item.crate, release, interp, item.rust)
            for release in (item.baseline, state.candidate)
        ]
        for line in describe_plan(cells, state.inv.evaluator):
            console.print(f"  {line}", highlight=False, soft_wrap=True)
    return EXIT_OK


def evaluate(state: EcoState) -> EcoState:
    inv = state.inv
    assert state.candidate is not None
    rows: list[Row] = []
    texts: dict[str, str] = {}
    total = len(state.ready)
    interrupted = False
    try:
        for index, (item, interp) in enumerate(zip(state.ready, state.pythons), 1):
            if isinstance(item, eco.Untried):
                row = item.row
            elif interp is None:
                row = eco.untried(
                    item.project,
                    Verdict.NOT_TRIED,
                    "no CPython here that the project and both revisions accept",
                ).row
            else:
                inv.console.print(
                    f"[{index}/{total}] {item.project.name}: PyO3 {item.baseline.cargo_version} "
                    f"and {state.candidate.cargo_version} on {interp.name} ...",
                    highlight=False,
                    soft_wrap=True,
                )
                row = eco.evaluate(item, state.candidate, interp, inv.evaluator, texts)
            rows.append(row)
            inv.console.print(
                report.progress_line(index, total, row), highlight=False, soft_wrap=True
            )
    except KeyboardInterrupt:
        interrupted = True
    return replace(state, rows=tuple(rows), interrupted=interrupted)


def write(state: EcoState) -> EcoState:
    inv = state.inv
    assert state.candidate is not None
    args = inv.args
    found = Ecosystem(
        candidate=state.candidate.cargo_version,
        baseline=state.baseline.cargo_version if state.baseline else EACH_LOCK,
        rows=state.rows,
        repo=state.repo.source if state.repo is not None else "",
        shards=(f"{args.shard[0]}/{args.shard[1]}",) if args.shard else (),
    )
    write_atomic(inv.layout.ecosystem_report("json"), found.to_json())
    write_atomic(inv.layout.ecosystem_report("md"), report.markdown(found, inv.line))
    inv.console.print(report.headline(found), highlight=False, soft_wrap=True)
    inv.console.print(
        f"report written to {inv.layout.ecosystem_report('md')} and "
        f"{inv.layout.ecosystem_report('json').name}",
        highlight=False,
    )
    return state


def evict_unused(state: EcoState) -> EcoState:
    """Keep the cache under --cache-limit, as the matrix does (not after an interrupt)."""
    if not state.interrupted:
        evict_and_say(state.inv.layout, state.inv.cache_limit, state.inv.console)
    return state


def exit_status(state: EcoState) -> int:
    if state.interrupted:
        state.inv.console.print(
            f"Interrupted. Finished cells are kept; resume with: {state.inv.line}"
        )
        return EXIT_INTERRUPTED
    return EXIT_OK


STEPS = (
    read_list,
    revisions_asked,
    sources_had,
    pythons,
    honour_list,
    evaluate,
    write,
    evict_unused,
    exit_status,
)


def main(argv: Sequence[str]) -> int:
    return workflow.execute(EcoState(invocation.resolve("ecosystem", argv)), STEPS)


def entry(argv: Sequence[str] | None = None) -> int:
    return run_cli(main, sys.argv[1:] if argv is None else argv)
