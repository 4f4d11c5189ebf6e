"""What a command was asked, resolved once: where results and caches live, the build and
verdict options, and (after its `select` step) the reproducers, releases and interpreters.

Every command builds its `Invocation` here from its arguments, and its steps read it: none of
them parses an option or sets up the session again.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from pyo3_triage import interpreters, selection, toolchains
from pyo3_triage.bisecting.bisection import Criteria, criteria_from
from pyo3_triage.building import toolchain
from pyo3_triage.cells import Evaluator, Options
from pyo3_triage.commands import parser, program
from pyo3_triage.commands.cliargs import options_from
from pyo3_triage.errors import UserError
from pyo3_triage.interpreters import Interpreter
from pyo3_triage.reproducers.reproducer import Reproducer
from pyo3_triage.reproducers.usercrate import UserCrate
from pyo3_triage.store import evict
from pyo3_triage.system import areas
from pyo3_triage.system.paths import Layout
from pyo3_triage.system.supervisor import SUPERVISOR
from pyo3_triage.toolchains import RustChoice
from pyo3_triage.versions import gitrepo, releases, revisions
from pyo3_triage.versions.releases import Release


@dataclass(frozen=True)
class Invocation:
    """One command as asked. `releases` are the ones asked about; a bisect's `every` adds the
    yanked ones its search may step on."""

    command: str
    argv: tuple[str, ...]
    args: argparse.Namespace
    layout: Layout
    cache_limit: int
    console: Console
    options: Options = Options()
    criteria: Criteria = Criteria()
    reproducers: tuple[Reproducer, ...] = ()
    releases: tuple[Release, ...] = ()
    every: tuple[Release, ...] = ()
    interpreters: tuple[Interpreter, ...] = ()
    repo: gitrepo.Repo | None = None
    rusts: tuple[RustChoice, ...] = ()  # chosen with --rust; none: the toolchain on PATH

    @property
    def rust_axis(self) -> tuple[RustChoice | None, ...]:
        """The toolchains cells are built with (None: the one on PATH)."""
        return self.rusts or (None,)

    def notify(self, message: str) -> None:
        self.console.print(f"[yellow]note:[/] {escape(message)}")

    @property
    def line(self) -> str:
        """The command line that asks this again, in the words the user ran."""
        return program.line(self.command, self.argv)

    @cached_property
    def evaluator(self) -> Evaluator:
        """Made on first use: `--list` of a bisect and `--cache-info` never detect the toolchain."""
        rerun = bool(getattr(self.args, "rerun", False))
        shared = not getattr(self.args, "isolated_builds", False)
        # Commands that turn outcomes into verdicts confirm a timeout or SIGKILL at once.
        verdicts = self.command != "matrix" or bool(getattr(self.args, "git_bisect_exit", False))
        return Evaluator(
            self.layout,
            toolchain.detect(),
            self.options,
            rerun=rerun,
            shared=shared,
            rustup=lambda: self.rustup,  # found only when a cell names a Rust toolchain
            confirm=verdicts,
        )

    @cached_property
    def rustup(self) -> toolchains.Rustup:
        """rustup, for --rust (or a scenario's verify_rust): refused in one line when it is
        not on PATH."""
        return toolchains.Rustup.on_path(
            self.layout.mutex("rustup-install"), self.layout.logs_dir(), self.notify
        )

    def pick_rusts(self, reproducers: Sequence[Reproducer]) -> Invocation:
        """The toolchains --rust asks for that the reproducers accept (a channel's version is
        learnt now, installing it if need be; a version is installed when a cell first needs
        it). `--list` installs nothing: a channel rustup lacks is listed, its version unknown."""
        spec = getattr(self.args, "rust", None)
        if spec is None:
            return self
        listing = bool(getattr(self.args, "list", False))
        names = toolchains.parse(spec, toolchains.installed_names())
        chosen = toolchains.choices(names, self.rustup, install=not listing)
        if unknown := [rust.name for rust in chosen if not rust.known]:
            self.notify(
                f"Rust {', '.join(unknown)} not installed: its version, and so which releases' "
                "Rust window it is in, is unknown until a run installs it (--list installs "
                "nothing); its cells are listed as inside every window"
            )
        cargo = toolchain.detect().cargo
        if toolchain.resolves_for_any_rust(cargo) is False:
            self.notify(
                f"{cargo} on PATH predates Rust-version-aware resolution (cargo 1.84): locks for "
                "older toolchains may hold crates too new for them (their cells say which)"
            )
        kept = selection.drop_rust_excluded(reproducers, chosen, self.notify)
        return dataclasses.replace(self, rusts=kept)

    def interpreters_found(self) -> list[Interpreter]:
        """The interpreters on this machine (probed once and remembered in the cache)."""
        return interpreters.discover(memo=self.layout.interpreter_memo())

    def start(self) -> None:
        """Create the results and cache folders, hold the cache for as long as this run lives
        (`--clean` meanwhile leaves what it uses) and take charge of child processes."""
        self.layout.ensure()
        areas.hold_for_life(self.layout.cache_hold())
        SUPERVISOR.harden()


def resolve(command: str, argv: Sequence[str]) -> Invocation:
    """Parse `argv` as `command`'s options; bad values are one line here, before any work."""
    args = parser.parse(command, argv)
    if getattr(args, "rust", None) is not None:  # a word rustup could never accept: one line now
        toolchains.parse(args.rust, toolchains.installed_names())
    layout = Layout.default(cache=getattr(args, "cache", None), results=args.results)
    found = Invocation(
        command=command,
        argv=tuple(argv),
        args=args,
        layout=layout,
        cache_limit=evict.limit_from(getattr(args, "cache_limit", None)),
        console=Console(highlight=False),
    )
    if command == "matrix":
        return dataclasses.replace(found, options=options_from(args), criteria=_git_bisect(args))
    if command == "ecosystem":
        return dataclasses.replace(found, options=options_from(args))
    if command == "bisect":
        criteria = criteria_from(args.new, args.old, args.flaky, args.match)
        return dataclasses.replace(found, options=options_from(args), criteria=criteria)
    return found


def _git_bisect(args: argparse.Namespace) -> Criteria:
    if (args.new is not None or args.old is not None) and not args.git_bisect_exit:
        raise UserError(
            "--new/--old choose what --git-bisect-exit reports as new or old; the matrix shows "
            f"every outcome as it is (use {program.name('bisect')} to search with them)"
        )
    return criteria_from(args.new, args.old, match=args.match)


def _reproducers(inv: Invocation, names: Sequence[str]) -> tuple[Reproducer, ...]:
    args = inv.args
    picked = selection.pick_reproducers(
        names, args.crate, args.run, args.timeout, args.with_, args.extra, args.no_deps
    )
    for reproducer in picked:
        pinned = reproducer.toolchain_file if isinstance(reproducer, UserCrate) else ""
        if pinned and getattr(args, "rust", None) is None:
            inv.notify(
                f"the project's {pinned} is not followed: cells build with the Rust toolchain on "
                "PATH (the records name it); choose others with --rust"
            )
    return tuple(selection.with_companions(picked, inv.layout, inv.notify))


def select_matrix(inv: Invocation) -> Invocation:
    """The matrix's reproducers, releases (and PyO3 commits) and CPythons."""
    args = inv.args
    reproducers = _reproducers(inv, selection.split_list(args.scenario))
    spec = parser.DEFAULT_PYO3 if args.pyo3 is None else args.pyo3
    spec, revs = releases.split_revisions(spec)
    repo = selection.pick_repo(
        args.pyo3_git, inv.layout, fetch=args.pyo3_git_fetch, needed=bool(revs)
    )
    if repo is not None and not revs:
        raise UserError(
            "--pyo3-git gives the commits that git:REV items in --pyo3 name, e.g. "
            "--pyo3 0.20.3,git:main; the matrix has none"
        )
    chosen: list[Release] = []
    if spec or not revs:
        newest_patch = args.newest_patch or args.pyo3 is None
        chosen = selection.pick_releases(
            spec,
            inv.layout,
            inv.notify,
            pre=args.pre,
            yanked=args.yanked,
            newest_patch=newest_patch,
        )
    if repo is not None:
        chosen += [revisions.at(repo, rev, inv.layout) for rev in revs]
    found = selection.pick_interpreters(
        args.python, chosen, inv.notify, find=inv.interpreters_found
    )
    kept = selection.drop_excluded(reproducers, found, inv.notify)
    _no_stable_abi(inv, kept)
    return dataclasses.replace(
        inv.pick_rusts(reproducers),
        reproducers=reproducers,
        releases=tuple(chosen),
        interpreters=tuple(kept),
        repo=repo,
    )


def select_bisect(inv: Invocation) -> Invocation:
    """The bisect's one reproducer (by default the first of the library's default set), the
    releases of its range (`every` with the yanked ones) and its CPythons."""
    args = inv.args
    names = selection.split_list(args.scenario)
    if len(names) > 1:
        raise UserError(
            f"bisect searches one scenario at a time, got {len(names)}: {', '.join(names)}"
        )
    reproducers = _reproducers(inv, names)[:1]
    every = selection.pick_releases(args.pyo3, inv.layout, inv.notify, pre=args.pre, yanked=True)
    primary = selection.pick_releases(  # among `every`, whose notes were said already
        args.pyo3, inv.layout, lambda said_already: None, pre=args.pre, yanked=args.yanked
    )
    if args.python is None:
        pythons = [_running_interpreter()]
    else:
        pythons = interpreters.select_interpreters(
            args.python, inv.interpreters_found(), notify=inv.notify
        )
    kept = selection.drop_excluded(reproducers, pythons, inv.notify)
    _no_stable_abi(inv, kept)
    repo = selection.pick_repo(args.pyo3_git, inv.layout, fetch=args.pyo3_git_fetch)
    return dataclasses.replace(
        inv.pick_rusts(reproducers),
        reproducers=reproducers,
        releases=tuple(primary),
        every=tuple(every),
        interpreters=tuple(kept),
        repo=repo,
    )


def _no_stable_abi(inv: Invocation, chosen: Sequence[Interpreter]) -> None:
    """Say so when `--abi3` meets PyPy, which has no stable ABI."""
    pypy = [i.python_label for i in chosen if i.implementation == "pypy"]
    if pypy and inv.options.abi3:
        inv.notify(
            f"PyPy has no stable ABI: {', '.join(pypy)} cells are built for PyPy itself, "
            "not for abi3"
        )


def _running_interpreter() -> Interpreter:
    found = interpreters.probe(Path(sys.executable), "explicit")
    if found is None:
        raise UserError("cannot inspect the running CPython; pass --python")
    return found
