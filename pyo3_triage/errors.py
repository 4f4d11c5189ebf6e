"""User-facing errors: one line that says what was wrong and what to do.

Every entry point catches `UserError`, prints its message as a single line on stderr
and exits with status 2; a traceback is shown only with `--debug`.
"""

from __future__ import annotations

import errno
import signal
import sys
from collections.abc import Callable, Sequence

# Every exit status the tool's entry points use, in one place (see the README's tables).
EXIT_OK = 0
EXIT_FINDING = 1  # verify found a mismatch; merge found conflicting records
EXIT_USAGE = 2  # bad input, explained in one line
EXIT_NO_CHANGE = 3  # bisect: both ends behave alike
EXIT_UNSEARCHABLE = 4  # bisect: an end is untestable, or a flaky probe stopped the search
EXIT_INTERRUPTED = 130  # SIGINT / SIGTERM: finished results kept
# `--git-bisect-exit`: what `git bisect run` reads as good (old), bad (new) and skip.
GIT_GOOD, GIT_BAD, GIT_SKIP = 0, 1, 125

# Failures that say something about the disk rather than about this tool: (what, advice).
_DISK_ERRORS: dict[int, tuple[str, str]] = {
    errno.ENOSPC: (
        "cannot write",
        "no space left on the device (the disk is full); free some space",
    ),
    errno.EDQUOT: ("cannot write", "disk quota exceeded; free some space"),
    errno.EFBIG: ("cannot write", "file too large for this file system"),
    errno.EROFS: ("cannot write", "read-only file system"),
    errno.EACCES: ("cannot access", "permission denied; fix its permissions"),
    errno.EPERM: ("cannot access", "operation not permitted; fix its permissions"),
}


class UserError(Exception):
    """Bad input or an unusable environment, explained in one line."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))

    @property
    def message(self) -> str:
        return str(self.args[0])


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def disk_message(err: OSError) -> str | None:
    """One line for a full, read-only or forbidden disk (naming the file when known)."""
    if err.errno not in _DISK_ERRORS:
        return None
    verb, problem = _DISK_ERRORS[err.errno]
    where = f"{verb} {err.filename}" if err.filename is not None else f"{verb} a file"
    return f"{where}: {problem}, or pass --results DIR / --cache DIR on another disk"


def run_cli(main: Callable[[Sequence[str]], int], argv: Sequence[str]) -> int:
    """Run an entry point, turning `UserError` into one stderr line and exit status 2.

    SIGTERM is handled like Ctrl-C, so a killed run still stops its children and keeps every
    finished record instead of dying mid-write. A full or read-only disk is reported in one
    line too (records already written stay whole: every write is atomic)."""
    debug = "--debug" in argv
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return main(argv)
    except UserError as err:
        if debug:
            raise
        print(f"error: {err.message}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as err:
        message = disk_message(err)
        if debug or message is None:
            raise
        print(f"error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        if debug:
            raise
        print("interrupted; finished results are kept", file=sys.stderr)
        return EXIT_INTERRUPTED
