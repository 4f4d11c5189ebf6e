"""The command-line layer every entry point shares: a parser whose errors are one line, the
options matrix and bisect have in common, where results and caches live, and what the build
options mean as `Options`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import NoReturn

from pyo3_triage.cells import Options
from pyo3_triage.errors import UserError


class Parser(argparse.ArgumentParser):
    """argparse that reports bad input as one `UserError` line instead of usage + exit."""

    def error(self, message: str) -> NoReturn:
        raise UserError(f"{message}; see --help")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, got {text!r}")
    return value


def shard_spec(text: str) -> tuple[int, int]:
    index, _, count = text.partition("/")
    try:
        k, n = int(index), int(count)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected K/N such as 2/4, got {text!r}") from None
    if not 1 <= k <= n:
        raise argparse.ArgumentTypeError(f"expected 1 <= K <= N in K/N, got {text!r}")
    return k, n


def add_common(parser: argparse.ArgumentParser) -> None:
    """Options the matrix and bisect share: what to run, which releases, how to build."""
    _add_reproducer(parser)
    _add_sources(parser)
    _add_build(parser)
    add_locations(parser)


def _add_reproducer(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scenario",
        action="append",
        metavar="NAME|PATH",
        help="scenario name or folder (repeat or comma-separate)",
    )
    parser.add_argument(
        "--crate",
        metavar="PATH",
        help="your own maturin project instead of a scenario (with --run)",
    )
    parser.add_argument(
        "--run",
        metavar="COMMAND",
        help='with --crate: the command that shows the bug, e.g. "python repro.py" '
        "(run in a copy of the project; python is the cell's venv)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="with --crate: kill the run after this long (default 60)",
    )
    parser.add_argument(
        "--with",
        dest="with_",
        action="append",
        default=[],
        metavar="REQ",
        help="install this requirement beside the extension before running "
        "(repeat; e.g. --with pytest)",
    )
    parser.add_argument(
        "--extra",
        metavar="NAME",
        help="with --crate: install your project's dependencies and its "
        "optional-dependencies NAME (e.g. test) before running",
    )
    parser.add_argument(
        "--no-deps",
        action="store_true",
        help="with --crate: leave your project's own [project] dependencies out of the run's "
        "venv (they are installed by default, as installing its wheel would)",
    )


def _add_sources(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pre", action="store_true", help="include pre-releases in ranges")
    parser.add_argument("--yanked", action="store_true", help="include yanked releases in ranges")
    parser.add_argument(
        "--pyo3-git",
        metavar="PATH|URL",
        help="a PyO3 git repository: a path is only read, a URL is cloned once into the cache; "
        "enables git:REV in --pyo3 and the commit-level bisect",
    )
    parser.add_argument(
        "--pyo3-git-fetch",
        action="store_true",
        help="fetch the tool's own clone of the --pyo3-git URL before using it",
    )


def _add_build(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--build-unsupported",
        action="store_true",
        help="build cells outside a release's declared CPython (or Rust) window (marked †)",
    )
    add_build_and_run(parser, "driver", "mixed results show as flaky k/N")
    parser.add_argument(
        "--abi3",
        action="store_true",
        help="build each release once for the stable ABI and run it on every CPython "
        "(fast; cells are labelled abi3: a different build from the default)",
    )
    parser.add_argument(
        "--rust",
        metavar="SPEC",
        help="Rust toolchains to build with, through rustup: 1.80, 1.74..1.95, stable, "
        "nightly-2024-05-01, an installed toolchain's name, or a comma list (default: the "
        "toolchain on PATH); a missing one is installed (--profile minimal) when first needed",
    )


def add_build_and_run(parser: argparse.ArgumentParser, runs: str, disagree: str) -> None:
    """--release, --isolated-builds, --rerun and --repeat: how cells are built and run, the
    same for the matrix, the bisect and the ecosystem (`runs`: what --repeat repeats)."""
    parser.add_argument("--release", action="store_true", help="build with --release")
    parser.add_argument(
        "--isolated-builds",
        action="store_true",
        help="one cargo target dir per (release, CPython), compiling everything for each; by "
        "default every release built for a CPython shares one, so what they need alike "
        "(syn, your project's dependency tree) is compiled once (the wheels are the same)",
    )
    parser.add_argument(
        "--rerun", action="store_true", help="ignore stored records; build and run again"
    )
    parser.add_argument(
        "--repeat",
        type=positive_int,
        default=1,
        metavar="N",
        help=f"run each {runs} N times ({disagree})",
    )


def add_locations(parser: argparse.ArgumentParser, *, cache: bool = True) -> None:
    """--results, --cache and --debug: declared once for every entry point."""
    parser.add_argument(
        "--results", type=Path, metavar="DIR", help="results folder (default ./results)"
    )
    if cache:
        parser.add_argument(
            "--cache",
            type=Path,
            metavar="DIR",
            help="cache folder (default $PYO3_TRIAGE_CACHE or ~/.cache/pyo3-triage)",
        )
    if cache:
        parser.add_argument(
            "--cache-limit",
            metavar="SIZE",
            help="keep the cache under SIZE (e.g. 10G, 500M), evicting the least recently used "
            "areas nobody is using after the run (default $PYO3_TRIAGE_CACHE_LIMIT or 10G)",
        )
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")


def options_from(args: argparse.Namespace) -> Options:
    """The build and run options that change what a cell means."""
    return Options(
        build_unsupported=args.build_unsupported,
        profile="release" if args.release else "dev",
        repeat=args.repeat,
        abi3=args.abi3,
    )
