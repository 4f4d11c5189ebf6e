"""The one place that runs child processes.

Reproducers are meant to crash: they abort, segfault, hang, flood their output and leave
grandchildren behind. `run` survives all of that, never raises on a failing child and keeps
the evidence: a bounded tail of each stream in memory and a capped log on disk that starts
with a command you can paste into a shell.
"""

from __future__ import annotations

import os
import selectors
import shlex
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from pyo3_triage.system.capture import Log, Tail
from pyo3_triage.system.supervisor import SUPERVISOR, Interrupted, Supervisor, kill_group

__all__ = ["Completed", "Interrupted", "clean_env", "run", "signal_name"]

KILL_GRACE = 2.0  # seconds between SIGTERM and SIGKILL of a timed-out process group
PIPE_GRACE = 0.5  # seconds to keep reading pipes an escaped descendant still holds open
_READ_SIZE = 65536
_POLL_MIN, _POLL_MAX = 0.001, 0.05

_LEAKY_VARIABLES = frozenset(
    {
        "VIRTUAL_ENV",
        "CONDA_PREFIX",
        "PYTHONHOME",
        "PYTHONPATH",
        "PYTHONSTARTUP",
        "__PYVENV_LAUNCHER__",
    }
)
_LEAKY_PREFIXES = ("PYO3_", "MATURIN_")


@dataclass(frozen=True)
class Completed:
    """Everything a finished child left behind; the raw material for classification."""

    argv: tuple[str, ...]
    returncode: int | None  # raw Popen returncode (negative = killed by that signal)
    timed_out: bool
    duration: float  # seconds, monotonic
    stdout_tail: str  # the last `tail_chars` characters, decoded as UTF-8 with replacement
    stderr_tail: str
    truncated: bool  # output passed the log cap and the rest was dropped (tails still kept)
    log_path: Path | None

    @property
    def exit_status(self) -> int | None:
        """The status the child exited with; None when a signal ended it."""
        return self.returncode if self.returncode is not None and self.returncode >= 0 else None

    @property
    def signal(self) -> str | None:
        """The signal that ended the child ("SIGABRT"); None for an exit, and for our own kill
        at a timeout (the timeout is the finding, not the signal that enforced it)."""
        if self.timed_out or self.returncode is None:
            return None
        return signal_name(self.returncode)


def signal_name(returncode: int) -> str | None:
    """Name the signal behind a negative Popen returncode ("SIGABRT"); None for an exit."""
    if returncode >= 0:
        return None
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def clean_env(base: Mapping[str, str] | None = None, **overrides: str) -> dict[str, str]:
    """A copy of the environment without variables that leak from users' shells into builds.

    An active virtualenv, a PYTHONPATH or a stray PYO3_PYTHON / MATURIN_* silently changes
    which interpreter a build targets; the caller passes back only what it means to set.
    """
    source = os.environ if base is None else base
    env = {
        key: value
        for key, value in source.items()
        if key not in _LEAKY_VARIABLES and not key.startswith(_LEAKY_PREFIXES)
    }
    env.update(overrides)
    return env


def _has_exited(proc: subprocess.Popen[bytes]) -> bool:
    """Whether the child has exited, without reaping it.

    Leaving it a zombie keeps its pid (our process group id) from being reused while we
    kill the rest of its group.
    """
    waitid = getattr(os, "waitid", None)
    if waitid is None:  # pragma: no cover - platforms without waitid
        return proc.poll() is not None
    try:
        return waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:  # already reaped
        return True


def _header(argv: tuple[str, ...], cwd: Path | None, header: str | None) -> str:
    lines = [f"+ {shlex.join(argv)}"]
    if cwd is not None:
        lines.append(f"# cwd: {cwd}")
    if header:
        lines.append(header.rstrip("\n"))
    return "\n".join(lines) + "\n"


def _footer(completed: Completed, timeout: float | None) -> str:
    if completed.timed_out:
        what = (
            f"timed out after {timeout} s; process group killed (returncode {completed.returncode})"
        )
    elif completed.signal is not None:
        what = f"killed by {completed.signal}"
    else:
        what = f"exit status {completed.exit_status}"
    return f"[pyo3-triage: {what}; ran {completed.duration:.2f} s]\n"


def run(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    log_path: Path | None = None,
    tail_chars: int = 20_000,
    log_cap_bytes: int = 20 * 2**20,
    header: str | None = None,
    append: bool = False,
    supervisor: Supervisor = SUPERVISOR,
) -> Completed:
    """Run a command to completion (or timeout) and return what it left; never raises on failure.

    With `append`, the log gets this run added after earlier ones (each run's section starts
    with its own `+ command` line) so one log can tell a multi-step story. The child is
    started and reaped through `supervisor` (see `supervisor.Supervisor`).
    A command that cannot be started at all comes back as exit status 127 (not found) or
    126 (not runnable), as a shell would report it, with the reason in `stderr_tail`.
    """
    args = tuple(os.fspath(arg) for arg in argv)
    if not args:
        raise ValueError("run() needs a command to run")
    job = _Job(args, cwd, env, timeout, log_path, tail_chars, log_cap_bytes, header)
    if log_path is None:
        return _run(job, supervisor)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(log_path, "ab" if append else "wb") as handle:
            if handle.tell() > 0:
                handle.write(b"\n")  # a blank line between runs sharing the log
            return _run(job, supervisor, handle)
    except OSError as err:
        # A full disk fails a write or flush of the log with an error that names no file;
        # name it, so the user is told which disk to free. (The child is already stopped.)
        if err.filename is not None:
            raise
        raise OSError(err.errno, err.strerror, str(log_path)) from err


@dataclass(frozen=True)
class _Job:
    """One command as `run` was asked to run it."""

    args: tuple[str, ...]
    cwd: Path | None
    env: Mapping[str, str] | None
    timeout: float | None
    log_path: Path | None
    tail_chars: int
    log_cap_bytes: int
    header: str | None


def _run(job: _Job, supervisor: Supervisor, handle: IO[bytes] | None = None) -> Completed:
    """Start the child, read its pipes until it is gone, reap it, and tell the story in the
    log: the `+ command` header, the output, the tails if the log was cut, the footer."""
    log = Log(handle, job.log_cap_bytes)
    log.note(_header(job.args, job.cwd, job.header))
    tails = {"stdout": Tail(job.tail_chars), "stderr": Tail(job.tail_chars)}
    start = time.monotonic()
    supervisor.check(job.args)
    try:
        proc = supervisor.start(lambda: _popen(job), job.args)
    except OSError as err:
        return _not_started(job, err, start, log, tails["stderr"])
    timed_out = _pump_then_reap(proc, start, job.timeout, log, tails, supervisor)
    supervisor.check(job.args)
    duration = time.monotonic() - start
    returncode = proc.returncode
    for stream in tails:
        log.finish_stream(stream)
    completed = Completed(
        argv=job.args,
        returncode=returncode,
        timed_out=timed_out,
        duration=duration,
        stdout_tail=tails["stdout"].text(),
        stderr_tail=tails["stderr"].text(),
        truncated=log.truncated,
        log_path=job.log_path,
    )
    if log.truncated:
        _note_tails(log, completed)
    log.note(_footer(completed, job.timeout))
    return completed


def _popen(job: _Job) -> subprocess.Popen[bytes]:
    """The child in a session (and process group) of its own, so a timeout or an interruption
    can stop everything it started; no stdin, both output streams piped to us."""
    return subprocess.Popen(
        job.args,
        cwd=job.cwd,
        env=None if job.env is None else dict(job.env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def _not_started(job: _Job, err: OSError, start: float, log: Log, stderr: Tail) -> Completed:
    """A command that could not be started, reported as a shell would: 127 not found, 126
    not runnable, with the reason as its stderr."""
    status = 127 if isinstance(err, FileNotFoundError) else 126
    message = f"pyo3-triage: cannot run {job.args[0]!r}: {err}\n"
    log.feed("stderr", message.encode())
    log.finish_stream("stderr")
    stderr.add(message.encode())
    return Completed(
        argv=job.args,
        returncode=status,
        timed_out=False,
        duration=time.monotonic() - start,
        stdout_tail="",
        stderr_tail=stderr.text(),
        truncated=False,
        log_path=job.log_path,
    )


def _pump_then_reap(
    proc: subprocess.Popen[bytes],
    start: float,
    timeout: float | None,
    log: Log,
    tails: dict[str, Tail],
    supervisor: Supervisor,
) -> bool:
    """`_pump`, then reap the child whatever happened; True if it timed out."""
    try:
        return _pump(proc, start, timeout, log, tails)
    finally:
        # Normally only the unreaped child is left in its group; after an interruption
        # (e.g. Ctrl-C) this is what stops the whole group.
        kill_group(proc.pid, signal.SIGKILL)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        proc.wait()
        supervisor.finished(proc.pid)


def _note_tails(log: Log, completed: Completed) -> None:
    """The log was cut at its cap: end it with the tails kept in memory, so its end is there."""
    for stream in ("stdout", "stderr"):
        text = getattr(completed, f"{stream}_tail")
        ending = "" if text.endswith("\n") else "\n"
        log.note(f"[pyo3-triage: last {len(text)} characters of {stream}]\n{text}{ending}")


def _pump(
    proc: subprocess.Popen[bytes],
    start: float,
    timeout: float | None,
    log: Log,
    tails: dict[str, Tail],
) -> bool:
    """Read both pipes until the child is gone, enforcing the timeout; True if it timed out.

    Once the child exits, the rest of its process group is killed, and pipes still held
    open by descendants that escaped the group are abandoned after `PIPE_GRACE`.
    """
    selector = selectors.DefaultSelector()
    for stream, pipe in (("stdout", proc.stdout), ("stderr", proc.stderr)):
        if pipe is not None:
            selector.register(pipe, selectors.EVENT_READ, stream)
    deadline = None if timeout is None else start + timeout
    timed_out = False
    term_sent_at: float | None = None
    killed = False
    drain_until: float | None = None
    pause = _POLL_MIN
    try:
        while True:
            now = time.monotonic()
            if drain_until is None and _has_exited(proc):
                kill_group(proc.pid, signal.SIGKILL)  # leftovers must not outlive the run
                drain_until = now + PIPE_GRACE
            elif drain_until is None and deadline is not None and now >= deadline:
                if term_sent_at is None:
                    timed_out = True
                    kill_group(proc.pid, signal.SIGTERM)
                    term_sent_at = now
                elif not killed and now >= term_sent_at + KILL_GRACE:
                    kill_group(proc.pid, signal.SIGKILL)
                    killed = True
            open_pipes = bool(selector.get_map())
            if drain_until is not None and (not open_pipes or now >= drain_until):
                return timed_out
            if not open_pipes:
                time.sleep(pause)
                pause = min(pause * 2, _POLL_MAX)
                continue
            events = selector.select(pause)
            for key, _mask in events:
                chunk = os.read(key.fd, _READ_SIZE)
                if chunk:
                    tails[key.data].add(chunk)
                    log.feed(key.data, chunk)
                else:
                    selector.unregister(key.fileobj)
                    log.finish_stream(key.data)
            pause = _POLL_MIN if events else min(pause * 2, _POLL_MAX)
    finally:
        selector.close()
