"""`pyo3-triage`: the installed command, one subcommand per entry point.

    pyo3-triage matrix --crate . --run "python repro.py" --pyo3 0.19..0.22
    pyo3-triage bisect --crate . --run "python repro.py" --pyo3 0.19..0.22
    pyo3-triage report | merge DIR... | verify

Each subcommand takes exactly the options of `nox -s <name> --` (and `python bisect.py` for
bisect); results go to ./results of the folder it runs in.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from pyo3_triage import __version__
from pyo3_triage.commands import program
from pyo3_triage.errors import EXIT_OK, EXIT_USAGE


def _commands() -> dict[str, Callable[[Sequence[str]], int]]:
    from pyo3_triage.commands import bisect_cli, cli, merge_cli, report_cli, verify_cli

    return {
        "matrix": cli.entry,
        "bisect": bisect_cli.entry,
        "report": report_cli.entry,
        "merge": merge_cli.entry,
        "verify": verify_cli.entry,
    }


USAGE = (
    "usage: pyo3-triage {matrix,bisect,report,merge,verify} [options]  "
    "(pyo3-triage COMMAND --help for its options; --version)"
)


def entry(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(__doc__.strip() if args else USAGE)
        return EXIT_OK if args else EXIT_USAGE
    if args[0] == "--version":
        print(f"pyo3-triage {__version__}")
        return EXIT_OK
    commands = _commands()
    if args[0] not in commands:
        print(f"error: unknown command {args[0]!r}; {USAGE}", file=sys.stderr)
        return EXIT_USAGE
    with program.started_as("pyo3-triage"):  # it prints `pyo3-triage matrix`, not nox's words
        return commands[args[0]](args[1:])


if __name__ == "__main__":
    sys.exit(entry())
