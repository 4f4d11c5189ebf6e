"""The one command-line parser: a subcommand per command (`matrix`, `bisect`, `report`,
`merge`, `verify`, `ecosystem`), each with its own options and the shared ones declared once.

Every entry point parses here: the installed `pyo3-triage`, the nox sessions and `bisect.py`
only put their subcommand in front of the user's words. Each usage line names the program the
user ran (`program.usage`), so the parser is built when it is used, not at import.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from pyo3_triage.bisecting.bisection import FLAKY_RULES
from pyo3_triage.commands import program
from pyo3_triage.commands.cliargs import (
    Parser,
    add_build_and_run,
    add_common,
    add_locations,
    positive_int,
    shard_spec,
)
from pyo3_triage.matching import MATCH_MARK

DEFAULT_PYO3 = "0.16.."  # to the newest release on crates.io
DEFAULT_NOTE = "newest patch of each minor"
# Two (release, CPython) groups at once when there are cores for it: measured 19 % faster on
# 2 cores; tables stay in plan order, progress lines arrive as cells finish.
DEFAULT_JOBS = 2 if (os.cpu_count() or 1) >= 2 else 1


def _matrix(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pyo3",
        metavar="SPEC",
        help="releases: 0.19..0.21, 0.20.3..0.21.0, '>=0.19,<0.22', 0.20.3,0.21.0 "
        f"(default: {DEFAULT_PYO3}, {DEFAULT_NOTE})",
    )
    parser.add_argument(
        "--python",
        metavar="SPEC",
        help="CPythons: 3.8..3.13, 3.12, 3.11,3.12, 3.12.1 or a path "
        "(default: every CPython found that a selected release supports)",
    )
    parser.add_argument(
        "--newest-patch",
        action="store_true",
        help="keep only the newest patch release of each minor series",
    )
    parser.add_argument("--list", action="store_true", help="print the planned cells and exit")
    parser.add_argument(
        "--git-bisect-exit",
        action="store_true",
        help="run exactly one cell and exit 0 (old), 1 (new) or 125 (untestable) for "
        "`git bisect run`; --new/--old choose the outcomes (default: old = pass)",
    )
    parser.add_argument(
        "--new", metavar="OUTCOMES", help="with --git-bisect-exit: outcomes that count as new"
    )
    parser.add_argument(
        "--old", metavar="OUTCOMES", help="with --git-bisect-exit: outcomes that count as old"
    )
    parser.add_argument(
        "--match",
        metavar="REGEX",
        help=f"mark ({MATCH_MARK}) cells whose panic message, exception, compile error or "
        "stderr holds REGEX; with --git-bisect-exit a cell counts as new only when it does "
        "(see bisect --help)",
    )
    _housekeeping(parser)
    parser.add_argument(
        "--jobs",
        type=positive_int,
        default=DEFAULT_JOBS,
        metavar="N",
        help="evaluate N (release, CPython) groups at once (default: 2 on 2+ cores, else 1)",
    )
    parser.add_argument(
        "--shard",
        type=shard_spec,
        metavar="K/N",
        help="run only the K-th of N balanced slices of the plan (see the merge command)",
    )
    add_common(parser)


def _housekeeping(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cache-info", action="store_true", help="print the cache's size per area and exit"
    )
    parser.add_argument(
        "--clean",
        action="store_true",
        help="delete the cache areas this tool created (results are kept) and exit",
    )


def _bisect(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pyo3",
        metavar="SPEC",
        required=True,
        help="releases to search (0.19..0.21, '>=0.19,<0.22', ...) or one release "
        "when bisecting CPython or Rust toolchains",
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
    parser.add_argument(
        "--old",
        metavar="OUTCOMES",
        help="outcomes that count as old, e.g. pass; build-error or pyo3-error (the "
        "reproducer's or PyO3's own crates do not compile) count only when named",
    )
    parser.add_argument(
        "--match",
        metavar="REGEX",
        help="the crash you mean: a cell counts as new only when its panic message, "
        "exception, compile error or stderr holds REGEX (Python re.search); one that fails "
        "without it is stepped around. Old is then pass unless --old names more; new is "
        "--new, else any other outcome of a run",
    )
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


def _report(parser: argparse.ArgumentParser) -> None:
    add_locations(parser, cache=False)
    parser.add_argument("--scenario", action="append", metavar="NAME", help="only these scenarios")


def _merge(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "sources", nargs="+", type=Path, metavar="DIR", help="results folders to merge"
    )
    add_locations(parser, cache=False)


def _verify(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", action="append", metavar="NAME", help="only these scenarios")
    add_locations(parser)
    parser.add_argument(
        "--list", action="store_true", help="print what would be verified and exit (builds nothing)"
    )


def _ecosystem(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--projects",
        type=Path,
        metavar="FILE",
        help="the list of projects (TOML, see ecosystem/README.md; default: the starter list "
        "ecosystem/projects.toml)",
    )
    parser.add_argument(
        "--candidate",
        required=True,
        metavar="REV",
        help="the PyO3 to try: a release (0.21.2), git:REV with --pyo3-git, or a local PyO3 "
        "checkout's folder (its HEAD)",
    )
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="the PyO3 to compare with: a release or git:REV (default: the release each "
        "project pins in its own Cargo.lock)",
    )
    parser.add_argument(
        "--python",
        metavar="SPEC",
        help="the CPython(s) to choose from, as in matrix (default: the newest CPython every "
        "project and both revisions accept; a project's own `python` wins)",
    )
    parser.add_argument(
        "--list",
        action="store_true",
        help="print each project's plan and what is cached, and exit (builds nothing)",
    )
    parser.add_argument(
        "--shard",
        type=shard_spec,
        metavar="K/N",
        help="try only the K-th of N slices of the list (see the merge command)",
    )
    parser.add_argument(
        "--pyo3-git",
        metavar="PATH|URL",
        help="a PyO3 git repository: enables git:REV candidates and commit-level bisect commands",
    )
    parser.add_argument(
        "--pyo3-git-fetch",
        action="store_true",
        help="fetch the tool's own clone of the --pyo3-git URL before using it",
    )
    add_build_and_run(parser, "check", "runs that disagree make the verdict flaky")
    parser.set_defaults(build_unsupported=False, abi3=False)
    add_locations(parser)


# name -> (what it does, its options); the order is the order of `pyo3-triage --help`.
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "matrix": (
        "Build and run reproducers across PyO3 releases x CPython versions (x Rust toolchains).",
        _matrix,
    ),
    "bisect": (
        "Find the PyO3 release (or CPython version, or Rust toolchain) where a reproducer's "
        "outcome changes.",
        _bisect,
    ),
    "report": (
        "Redraw results/report.md and its chart from the stored records (no rebuild).",
        _report,
    ),
    "merge": ("Combine results folders (e.g. CI shards) and redraw the tables.", _merge),
    "verify": (
        "Rerun each library scenario's recorded bisect (reusing stored records) and compare "
        "it with what its scenario.toml says.",
        _verify,
    ),
    "ecosystem": (
        "Try a PyO3 release or commit on a list of real projects against a baseline: a "
        "verdict per project, regressions grouped by cause.",
        _ecosystem,
    ),
}


def build_parser() -> Parser:
    """The parser of every command, as this process was started (see `program`)."""
    parser = Parser(prog="pyo3-triage")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for name, (description, declare) in COMMANDS.items():
        declare(commands.add_parser(name, prog=program.usage(name), description=description))
    return parser


def parse(command: str, argv: Sequence[str]) -> argparse.Namespace:
    """`argv`, the words after `command`, as that command's options."""
    return build_parser().parse_args([command, *argv])
