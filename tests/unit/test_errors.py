"""One-line user errors, disk failures in words, and the exit statuses `run_cli` turns them into."""

from __future__ import annotations

import errno
import os
import signal
from collections.abc import Iterator, Sequence

import pytest

from pyo3_triage import errors
from pyo3_triage.errors import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    UserError,
    disk_message,
    run_cli,
)


@pytest.fixture(autouse=True)
def keep_sigterm_handler() -> Iterator[None]:
    """`run_cli` installs a SIGTERM handler; give the test process its own back."""
    before = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, before)


def test_user_error_collapses_whitespace_into_one_line() -> None:
    err = UserError("  first part\n   second\tpart  \n")
    assert err.message == "first part second part" == str(err)
    assert "\n" not in err.message


def test_exit_statuses_are_distinct() -> None:
    statuses = [
        errors.EXIT_OK,
        errors.EXIT_FINDING,
        errors.EXIT_USAGE,
        errors.EXIT_NO_CHANGE,
        errors.EXIT_UNSEARCHABLE,
        errors.EXIT_INTERRUPTED,
    ]
    assert len(set(statuses)) == len(statuses)
    assert (EXIT_OK, EXIT_USAGE, EXIT_INTERRUPTED) == (0, 2, 130)


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (errno.ENOSPC, "cannot write /r/x.json: no space left on the device"),
        (errno.EDQUOT, "cannot write /r/x.json: disk quota exceeded"),
        (errno.EFBIG, "cannot write /r/x.json: file too large"),
        (errno.EROFS, "cannot write /r/x.json: read-only file system"),
        (errno.EACCES, "cannot access /r/x.json: permission denied"),
        (errno.EPERM, "cannot access /r/x.json: operation not permitted"),
    ],
)
def test_disk_errors_name_the_file_and_the_way_out(code: int, words: str) -> None:
    message = disk_message(OSError(code, os.strerror(code), "/r/x.json"))
    assert message is not None and message.startswith(words)
    assert message.endswith("or pass --results DIR / --cache DIR on another disk")


def test_disk_error_without_a_file_name() -> None:
    message = disk_message(OSError(errno.ENOSPC, "No space left on device"))
    assert message is not None and message.startswith("cannot write a file: no space left")


@pytest.mark.parametrize("code", [errno.ENOENT, errno.EISDIR, None])
def test_other_os_errors_are_not_disk_errors(code: int | None) -> None:
    err = OSError(code, "x") if code is not None else OSError("no errno")
    assert disk_message(err) is None


def test_run_cli_passes_the_entry_points_status_and_argv() -> None:
    seen: list[Sequence[str]] = []

    def main(argv: Sequence[str]) -> int:
        seen.append(argv)
        return 3

    assert run_cli(main, ["--x", "y"]) == 3
    assert seen == [["--x", "y"]]


def _raising(exc: BaseException):  # type: ignore[no-untyped-def]
    def main(argv: Sequence[str]) -> int:
        raise exc

    return main


def test_user_error_is_one_stderr_line_and_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(_raising(UserError("bad\n  input")), []) == EXIT_USAGE
    out, err = capsys.readouterr()
    assert out == "" and err == "error: bad input\n"


def test_debug_shows_the_user_error_itself() -> None:
    with pytest.raises(UserError, match="bad input"):
        run_cli(_raising(UserError("bad input")), ["--debug"])


def test_full_disk_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    full = OSError(errno.ENOSPC, "No space left on device", "/results/records/a.json")
    assert run_cli(_raising(full), []) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("error: cannot write /results/records/a.json: no space left")
    assert err.count("\n") == 1


def test_other_os_errors_keep_their_traceback() -> None:
    missing = FileNotFoundError(errno.ENOENT, "gone", "/x")
    with pytest.raises(FileNotFoundError):
        run_cli(_raising(missing), [])
    with pytest.raises(OSError):
        run_cli(_raising(OSError(errno.ENOSPC, "full", "/x")), ["--debug"])


def test_ctrl_c_keeps_results_and_exits_130(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(_raising(KeyboardInterrupt()), []) == EXIT_INTERRUPTED
    assert capsys.readouterr().err == "interrupted; finished results are kept\n"
    with pytest.raises(KeyboardInterrupt):
        run_cli(_raising(KeyboardInterrupt()), ["--debug"])


def test_sigterm_is_handled_like_ctrl_c(capsys: pytest.CaptureFixture[str]) -> None:
    reached: list[str] = []

    def main(argv: Sequence[str]) -> int:
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(1000):  # the handler runs at the next bytecode boundary
            pass
        reached.append("after")
        return EXIT_OK

    assert run_cli(main, []) == EXIT_INTERRUPTED
    assert reached == []
    assert "interrupted" in capsys.readouterr().err


def test_the_interrupt_names_the_signal() -> None:
    with pytest.raises(KeyboardInterrupt, match="SIGTERM"):
        errors._interrupt(signal.SIGTERM, None)
