"""The subprocess layer against real children that hang, flood, leak and fail to start."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from factories import REPO

from pyo3_triage.outcome import Outcome
from pyo3_triage.running.classify import classify_run
from pyo3_triage.system.procs import clean_env, run
from pyo3_triage.system.supervisor import disable_core_dumps


@pytest.fixture(autouse=True, scope="module")
def _no_core_dumps() -> None:
    disable_core_dumps()


def py(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def gone(pid: int, within: float = 3.0) -> bool:
    """Whether `pid` has died (a zombie nobody reaped yet counts as dead)."""
    deadline = time.monotonic() + within
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            if stat.rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                return True
        except (FileNotFoundError, IndexError):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def test_disable_core_dumps_is_inherited() -> None:
    assert resource.getrlimit(resource.RLIMIT_CORE)[0] == 0
    done = run(py("import resource; print(resource.getrlimit(resource.RLIMIT_CORE)[0])"))
    assert done.stdout_tail.strip() == "0"


def test_clean_env_drops_leaky_variables_and_applies_overrides() -> None:
    base = {
        "PATH": "/usr/bin",
        "HOME": "/home/u",
        "VIRTUAL_ENV": "/venv",
        "CONDA_PREFIX": "/conda",
        "PYTHONHOME": "/ph",
        "PYTHONPATH": "/pp",
        "PYTHONSTARTUP": "/ps",
        "__PYVENV_LAUNCHER__": "/l",
        "PYO3_PYTHON": "/usr/bin/python3.8",
        "PYO3_CROSS_LIB_DIR": "/x",
        "MATURIN_PEP517_ARGS": "--release",
        "PYTHONUNBUFFERED": "1",
    }
    env = clean_env(base, PYO3_PYTHON="/opt/py/bin/python3.12", RUST_BACKTRACE="1")
    assert env == {
        "PATH": "/usr/bin",
        "HOME": "/home/u",
        "PYTHONUNBUFFERED": "1",
        "PYO3_PYTHON": "/opt/py/bin/python3.12",
        "RUST_BACKTRACE": "1",
    }
    assert base["VIRTUAL_ENV"] == "/venv"  # the caller's mapping is untouched


def test_clean_env_defaults_to_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MATURIN_PYPI_TOKEN", "secret")
    monkeypatch.setenv("PYO3_TRIAGE_PROBE", "kept")
    monkeypatch.setenv("VIRTUAL_ENV", "/venv")
    env = clean_env()
    assert "MATURIN_PYPI_TOKEN" not in env
    assert "VIRTUAL_ENV" not in env
    assert "PYO3_TRIAGE_PROBE" not in env
    assert env["PATH"] == os.environ["PATH"]


@pytest.mark.parametrize(
    ("code", "returncode", "exit_status", "signal_name"),
    [
        ("import os; os.abort()", -signal.SIGABRT, None, "SIGABRT"),
        ("import ctypes; ctypes.string_at(0)", -signal.SIGSEGV, None, "SIGSEGV"),
        (
            "import os, signal; os.kill(os.getpid(), signal.SIGTERM)",
            -signal.SIGTERM,
            None,
            "SIGTERM",
        ),
        ("import sys; sys.exit(3)", 3, 3, None),
        ("import os; os._exit(3)", 3, 3, None),
        ("print('fine')", 0, 0, None),
    ],
)
def test_exit_and_signal_fields(
    code: str, returncode: int, exit_status: int | None, signal_name: str | None
) -> None:
    done = run(py(code), env=clean_env(), timeout=20)
    assert done.returncode == returncode
    assert done.exit_status == exit_status
    assert done.signal == signal_name
    assert not done.timed_out
    assert not done.truncated
    assert done.argv == (sys.executable, "-c", code)


def test_log_starts_with_a_pasteable_command_and_keeps_both_streams(tmp_path: Path) -> None:
    argv = py("import sys; print('to out'); print('to err', file=sys.stderr); sys.exit(4)")
    log = tmp_path / "nested" / "run.log"
    done = run(argv, log_path=log, header="# cell: pyo3 0.21.0 / cpython 3.12", cwd=tmp_path)
    text = log.read_text()
    lines = text.splitlines()
    assert lines[0] == "+ " + shlex.join(argv)
    assert shlex.split(lines[0][2:]) == argv
    assert "# cell: pyo3 0.21.0 / cpython 3.12" in lines
    assert "to out" in lines and "to err" in lines
    assert "exit status 4" in lines[-1]
    assert done.log_path == log
    assert done.stdout_tail == "to out\n"
    assert done.stderr_tail == "to err\n"


def test_append_adds_a_section_per_run(tmp_path: Path) -> None:
    log = tmp_path / "steps.log"
    first = py("print('step one')")
    second = py("print('step two')")
    run(first, log_path=log)
    run(second, log_path=log, append=True)
    lines = log.read_text().splitlines()
    assert lines[0] == "+ " + shlex.join(first)
    assert "+ " + shlex.join(second) in lines
    assert (
        lines.index("step one") < lines.index("+ " + shlex.join(second)) < lines.index("step two")
    )
    run(second, log_path=log)  # without append the log starts over
    assert log.read_text().splitlines()[0] == "+ " + shlex.join(second)
    assert "step one" not in log.read_text()


def test_stdin_is_empty() -> None:
    done = run(py("import sys; print(len(sys.stdin.read()))"), timeout=10)
    assert not done.timed_out
    assert done.stdout_tail.strip() == "0"


def test_timeout_kills_the_group_promptly(tmp_path: Path) -> None:
    log = tmp_path / "hang.log"
    done = run(
        py("import time; print('started', flush=True); time.sleep(30)"), timeout=1, log_path=log
    )
    assert done.timed_out
    assert 1.0 <= done.duration < 4.0
    assert done.returncode == -signal.SIGTERM
    assert done.signal is None  # our own kill is not the child's crash
    assert done.exit_status is None
    assert done.stdout_tail == "started\n"
    assert "timed out" in log.read_text().splitlines()[-1]
    assert classify_run(done).outcome is Outcome.TIMEOUT


def test_timeout_escalates_to_sigkill_when_sigterm_is_ignored() -> None:
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
        " print('ready', flush=True); time.sleep(30)"
    )
    done = run(py(code), timeout=0.5)
    assert done.timed_out
    assert done.returncode == -signal.SIGKILL
    assert 2.0 <= done.duration < 6.0


def test_grandchild_left_behind_is_killed_and_run_returns_promptly() -> None:
    code = (
        "import subprocess, sys;"
        " p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
        " print(p.pid, flush=True)"
    )
    done = run(py(code), timeout=30)
    assert not done.timed_out
    assert done.exit_status == 0
    assert done.duration < 5.0
    assert gone(int(done.stdout_tail))


def test_descendant_escaping_the_group_does_not_hang_the_run() -> None:
    # The grandchild starts its own session, so the group kill cannot reach it, and it
    # holds our pipes open: run must give up on the pipes shortly after the child exits.
    code = (
        "import subprocess, sys;"
        " p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'],"
        " start_new_session=True);"
        " print(p.pid, flush=True)"
    )
    done = run(py(code), timeout=30)
    pid = int(done.stdout_tail)
    try:
        assert not done.timed_out
        assert done.exit_status == 0
        assert done.duration < 5.0
    finally:
        # Already gone if this process became a subreaper (SUPERVISOR.harden) earlier in the run.
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


FLOOD = """
import sys
block = (b"x" * 1023 + b"\\n") * 1024
for _ in range(50):
    sys.stdout.buffer.write(block)
sys.stdout.buffer.write(b"END-OF-STDOUT\\n")
sys.stdout.flush()
sys.stderr.write("err-" * 100 + "END-OF-STDERR\\n")
"""

HARNESS = """
import json, resource, sys
from pathlib import Path
from pyo3_triage.system.procs import run
done = run([sys.executable, "-c", sys.argv[2]], log_path=Path(sys.argv[1]),
           log_cap_bytes=100_000, tail_chars=1000, timeout=60)
# VmHWM is this process's own peak; ru_maxrss on Linux also carries the peak of the
# process that exec'd us (here: pytest).
status = Path("/proc/self/status")
if status.exists():
    hwm = next(line for line in status.read_text().splitlines() if line.startswith("VmHWM:"))
    peak = int(hwm.split()[1])
else:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(json.dumps({"peak_kib": peak,
                  "truncated": done.truncated, "stdout_tail": done.stdout_tail,
                  "stderr_tail": done.stderr_tail, "exit_status": done.exit_status}))
"""


def test_fifty_megabytes_of_output_keeps_memory_bounded(tmp_path: Path) -> None:
    # The harness runs in its own process so its peak memory excludes pytest's.
    log = tmp_path / "flood.log"
    harness = subprocess.run(
        [sys.executable, "-c", HARNESS, str(log), FLOOD],
        env=clean_env(PYTHONPATH=str(REPO)),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    report = json.loads(harness.stdout)
    assert report["exit_status"] == 0
    assert report["truncated"] is True
    assert report["peak_kib"] < 30 * 1024  # 50 MB of output never sits in memory
    assert len(report["stdout_tail"]) == 1000
    assert report["stdout_tail"].endswith("x\nEND-OF-STDOUT\n")
    assert report["stderr_tail"].endswith("err-END-OF-STDERR\n")
    text = log.read_text()
    assert text.startswith("+ ")
    assert log.stat().st_size < 100_000 + 10_000
    assert "output cut at 100000 bytes" in text
    assert text.rstrip().splitlines()[-2] == "err-" * 100 + "END-OF-STDERR"  # tail kept in log


def test_tail_keeps_the_last_characters_of_multibyte_output() -> None:
    done = run(py("print('é' * 5000 + 'ü' * 10, end='')"), tail_chars=100)
    assert done.stdout_tail == "é" * 90 + "ü" * 10
    assert not done.truncated


def test_unstartable_command_is_reported_not_raised(tmp_path: Path) -> None:
    log = tmp_path / "missing.log"
    done = run([str(tmp_path / "no-such-program"), "--flag"], log_path=log)
    assert done.returncode == 127
    assert done.exit_status == 127
    assert done.signal is None
    assert "no-such-program" in done.stderr_tail
    assert "no-such-program" in log.read_text()


def test_env_is_passed_to_the_child() -> None:
    done = run(py("import os; print(os.environ.get('PROBE'))"), env=clean_env(PROBE="yes"))
    assert done.stdout_tail.strip() == "yes"


def test_a_grandchild_that_escapes_with_setsid_is_killed_after_the_run(tmp_path: Path) -> None:
    """`harden()` makes the harness a subreaper; `run` then kills re-parented orphans."""
    script = tmp_path / "escape.py"
    pidfile = tmp_path / "pid"
    script.write_text(
        "import os, sys, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        f"    open({str(pidfile)!r}, 'w').write(str(os.getpid()))\n"
        "    time.sleep(60)\n"
        "    os._exit(0)\n"
        "time.sleep(0.5)\n"
    )
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            f"""
import sys, os, time
sys.path.insert(0, {str(REPO)!r})
from pyo3_triage.system import procs
from pyo3_triage.system.supervisor import SUPERVISOR
SUPERVISOR.harden()
procs.run([sys.executable, {str(script)!r}], timeout=10)
pid = int(open({str(pidfile)!r}).read())
time.sleep(0.2)
alive = os.path.exists(f"/proc/{{pid}}") and open(f"/proc/{{pid}}/stat").read().split(")")[1].split()[0] != "Z"
print("alive" if alive else "gone")
""",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert child.stdout.strip() == "gone", child.stderr


def test_parallel_runs_never_take_each_other_for_orphans() -> None:
    """With the subreaper on, a sweep after one run must not kill a run just started in
    another thread (each child is registered atomically with its start)."""
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            f"""
import sys
from concurrent.futures import ThreadPoolExecutor
sys.path.insert(0, {str(REPO)!r})
from pyo3_triage.system import procs
from pyo3_triage.system.supervisor import SUPERVISOR
SUPERVISOR.harden()
def one(_):
    return procs.run([sys.executable, "-c", "pass"], timeout=30).returncode
with ThreadPoolExecutor(8) as pool:
    codes = list(pool.map(one, range(160)))
print(sorted(set(codes)))
""",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.stdout.strip() == "[0]", child.stdout + child.stderr
