"""`pyo3-triage`: the installed command, one subcommand per entry point.

    pyo3-triage matrix --crate . --run "python repro.py" --pyo3 0.19..0.22
    pyo3-triage bisect --crate . --run "python repro.py" --pyo3 0.19..0.22
    pyo3-triage report | merge DIR... | verify
    pyo3-triage ecosystem --candidate 0.21.2 --baseline 0.20.3

Each subcommand takes exactly the options of `nox -s <name> --` (and `python bisect.py` for
bisect): all three put their subcommand in front of the user's words and parse with the one
parser (`commands.parser`). Results go to ./results of the folder it runs in.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from pyo3_triage import __version__
from pyo3_triage.commands import program
from pyo3_triage.commands.parser import COMMANDS
from pyo3_triage.errors import EXIT_OK, EXIT_USAGE


def _commands() -> dict[str, Callable[[Sequence[str]], int]]:
    from pyo3_triage.commands import (
        bisect_cli,
        ecosystem_cli,
        matrix_cli,
        merge_cli,
        report_cli,
        verify_cli,
    )

    found: dict[str, Callable[[Sequence[str]], int]] = {
        "matrix": matrix_cli.entry,
        "bisect": bisect_cli.entry,
        "report": report_cli.entry,
        "merge": merge_cli.entry,
        "verify": verify_cli.entry,
        "ecosystem": ecosystem_cli.entry,
    }
    assert list(found) == list(COMMANDS)
    return found


USAGE = (
    f"usage: pyo3-triage {{{','.join(COMMANDS)}}} [options]  "
    "(pyo3-triage COMMAND --help for its options; --version)"
)


def run(argv: Sequence[str]) -> int:
    """Run `argv`, a command's name and then its options: where every entry point ends."""
    commands = _commands()
    if not argv or argv[0] not in commands:
        print(f"error: unknown command {argv[0] if argv else ''!r}; {USAGE}", file=sys.stderr)
        return EXIT_USAGE
    return commands[argv[0]](argv[1:])


def entry(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(__doc__.strip() if args else USAGE)
        return EXIT_OK if args else EXIT_USAGE
    if args[0] == "--version":
        print(f"pyo3-triage {__version__}")
        return EXIT_OK
    with program.started_as("pyo3-triage"):  # it prints `pyo3-triage matrix`, not nox's words
        return run(args)


if __name__ == "__main__":
    sys.exit(entry())
