"""Process supervision as an object: each Supervisor knows its own children and interrupt."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from pyo3_triage.system.procs import clean_env, run
from pyo3_triage.system.supervisor import Interrupted, Supervisor

SLEEP = [sys.executable, "-c", "import time; time.sleep(30)"]


def test_interrupting_kills_the_running_child_and_the_run_raises() -> None:
    """A killed run is not evidence: it raises instead of returning a SIGKILL outcome."""
    supervisor = Supervisor()
    failures: list[BaseException] = []

    def waiting() -> None:
        try:
            run(SLEEP, env=clean_env(), timeout=60, supervisor=supervisor)
        except BaseException as err:  # noqa: BLE001 - the thread hands it back
            failures.append(err)

    thread = threading.Thread(target=waiting)
    started = time.monotonic()
    thread.start()
    time.sleep(0.5)
    supervisor.interrupt_all()
    thread.join(20)
    assert not thread.is_alive() and time.monotonic() - started < 20
    assert len(failures) == 1 and isinstance(failures[0], Interrupted)
    assert supervisor.interrupted


def test_an_interrupted_supervisor_starts_nothing_until_cleared() -> None:
    supervisor = Supervisor()
    supervisor.interrupt_all()
    with pytest.raises(Interrupted, match="print"):
        run([sys.executable, "-c", "print(1)"], env=clean_env(), supervisor=supervisor)
    supervisor.clear_interrupt()
    assert run([sys.executable, "-c", "print(1)"], supervisor=supervisor).returncode == 0


def test_supervisors_do_not_share_state() -> None:
    """Interrupting one run's supervisor leaves another's runs alone (no process globals)."""
    stopped, other = Supervisor(), Supervisor()
    stopped.interrupt_all()
    done = run([sys.executable, "-c", "print('still runs')"], env=clean_env(), supervisor=other)
    assert done.returncode == 0 and "still runs" in done.stdout_tail
    assert not other.interrupted


def test_no_child_starts_once_the_interrupt_is_set() -> None:
    """`check` then `start` is not atomic: an interrupt between them would let a child start
    that `interrupt_all` never saw, and it would run to its end. `start` refuses it."""
    supervisor = Supervisor()
    supervisor.interrupt_all()
    started: list[str] = []

    def popen() -> subprocess.Popen[bytes]:
        started.append("popen")
        raise AssertionError("a child was started after the interrupt")

    with pytest.raises(Interrupted):
        supervisor.start(popen, ("python", "driver.py"))
    assert started == []
