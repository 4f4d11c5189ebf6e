"""User-facing errors: one line that says what was wrong and what to do.

Every entry point catches `UserError`, prints its message as a single line on stderr
and exits with status 2; a traceback is shown only with `--debug`.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Sequence

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class UserError(Exception):
    """Bad input or an unusable environment, explained in one line."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))

    @property
    def message(self) -> str:
        return str(self.args[0])


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def run_cli(main: Callable[[Sequence[str]], int], argv: Sequence[str]) -> int:
    """Run an entry point, turning `UserError` into one stderr line and exit status 2.

    SIGTERM is handled like Ctrl-C, so a killed run still stops its children and keeps every
    finished record instead of dying mid-write."""
    debug = "--debug" in argv
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return main(argv)
    except UserError as err:
        if debug:
            raise
        print(f"error: {err.message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        if debug:
            raise
        print("interrupted; finished results are kept", file=sys.stderr)
        return EXIT_INTERRUPTED
