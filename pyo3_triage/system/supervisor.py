"""Who the harness's children are, and whether the run was interrupted: one object.

`procs.run` starts every child through a `Supervisor`, which knows the children still
running (across the matrix's threads), can kill them all at once when the user interrupts a
parallel run, and, once `harden`ed, reaps the grandchildren a reproducer leaves behind. The
process has one (`SUPERVISOR`); a test can make its own.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shlex
import signal
import subprocess
import threading
from collections.abc import Callable

try:
    import resource
except ImportError:  # pragma: no cover - not a Unix
    resource = None  # type: ignore[assignment]

PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h


class Interrupted(Exception):
    """The run was stopped by `Supervisor.interrupt_all`; what it produced is not evidence."""


def disable_core_dumps() -> None:
    """Stop crashing reproducers from writing core files.

    Set for the harness process itself, because children inherit the limit; setting it per
    child would need `preexec_fn`, which is not safe with threads.
    """
    if resource is None:  # pragma: no cover - not a Unix
        return
    _soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (0, hard))


def kill_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


class Supervisor:
    """The children being waited for, whether orphans are ours to reap, and the interrupt."""

    def __init__(self) -> None:
        self._active: set[int] = set()  # pids of children `run` is waiting for
        self._lock = threading.Lock()
        self._subreaper = False
        self._interrupted = threading.Event()

    def harden(self) -> None:
        """Set up the harness process once (entry points call this): no core files, and become
        a child subreaper, so a reproducer's descendant that escaped its process group with
        `setsid()` is re-parented to us when its parent dies, and can be killed and reaped."""
        disable_core_dumps()
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            self._subreaper = libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0

    @property
    def interrupted(self) -> bool:
        return self._interrupted.is_set()

    def interrupt_all(self) -> None:
        """Kill every child being waited for (a parallel matrix was interrupted). Their runs
        raise `Interrupted` instead of returning, so nobody records a killed run."""
        self._interrupted.set()
        with self._lock:
            active = list(self._active)
        for pid in active:
            kill_group(pid, signal.SIGKILL)

    def clear_interrupt(self) -> None:
        """Allow runs again (after an interrupted parallel matrix has wound down)."""
        self._interrupted.clear()

    def check(self, args: tuple[str, ...]) -> None:
        """Raise `Interrupted` once the run was interrupted: no new child, no killed result."""
        if self._interrupted.is_set():
            raise Interrupted(shlex.join(args))

    def start(
        self, popen: Callable[[], subprocess.Popen[bytes]], args: tuple[str, ...] = ()
    ) -> subprocess.Popen[bytes]:
        """Start a child and know it as ours at once: a sweep in another thread must never see
        it before it is registered (it would take it for an orphan). The interrupt is checked
        under the same lock: a child started while `interrupt_all` ran would be in neither its
        list nor refused, and would run to its end after the interrupt."""
        with self._lock:
            self.check(args)
            proc = popen()
            self._active.add(proc.pid)
        return proc

    def finished(self, pid: int) -> None:
        """The child was reaped; reap what it left behind, when we are the subreaper."""
        with self._lock:
            self._active.discard(pid)
        if self._subreaper:
            self._sweep_orphans()

    def _sweep_orphans(self) -> None:
        """Kill and reap children we did not start ourselves: descendants of finished runs
        that were re-parented to us. Children of runs still going are left alone."""
        me = str(os.getpid())
        try:
            entries = os.listdir("/proc")
        except OSError:  # pragma: no cover - no procfs
            return
        for entry in entries:
            if not entry.isdigit():
                continue
            pid = int(entry)
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] != me:
                continue
            with self._lock:  # runs register under this lock: an unknown child is an orphan
                if pid in self._active:
                    continue
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, 0)


SUPERVISOR = Supervisor()
