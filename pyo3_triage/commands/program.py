"""How the user started the tool, so that what it prints names that command back to them.

A command reaches the package three ways: a nox session of this checkout (`nox -s matrix --
...`), the checkout's `python bisect.py ...`, or the installed `pyo3-triage matrix ...`, whose
user has neither the noxfile nor `bisect.py`. Usage lines, the "resume with" hint, the
environment block of tables and reports, and advice that names another command all speak
the caller's words. The installed command says so around the subcommand it runs
(`started_as`).
"""

from __future__ import annotations

import contextlib
import shlex
from collections.abc import Iterator, Sequence

_installed: list[str] = []  # the console script's name, once `main` has said so


@contextlib.contextmanager
def started_as(script: str) -> Iterator[None]:
    """While this holds, the tool runs as the installed command `script` ("pyo3-triage")."""
    _installed[:] = [script]
    try:
        yield
    finally:
        _installed.clear()


def words(command: str) -> tuple[str, ...]:
    """The words that start `command` ("matrix", "bisect", ...) the way this process was run."""
    if _installed:
        return (_installed[0], command)
    if command == "bisect":
        return ("python", "bisect.py")
    return ("nox", "-s", command, "--")


def name(command: str) -> str:
    """`nox -s matrix`, `python bisect.py` or `pyo3-triage matrix`: for advice in messages."""
    found = words(command)
    return " ".join(found[:-1] if found[-1] == "--" else found)


def usage(command: str) -> str:
    """The `prog` of the command's parser, as its usage line starts."""
    return " ".join(words(command))


def line(command: str, argv: Sequence[str]) -> str:
    """The whole command line that runs `command` with `argv` again."""
    if not argv:
        return name(command)
    return shlex.join([*words(command), *argv])
