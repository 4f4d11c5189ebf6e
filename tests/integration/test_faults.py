"""Build tier: reproducers that abort, segfault, hang, flood, leave children behind or do not
even compile. The harness must turn each into the right outcome with its evidence, and survive.

All scenarios share one Rust side and module name, so they share one build per release x
CPython (cached in the persistent test cache); one matrix call runs them all.
"""

from __future__ import annotations

import resource
import time
from pathlib import Path

import pytest
from fault_kit import COMMON_META, matrix_args, write_common

from pyo3_triage.commands import matrix_cli
from pyo3_triage.outcome import Outcome
from pyo3_triage.store import records

pytestmark = pytest.mark.build


# A child that ignores SIGTERM and outlives its parent; writes its pid first.
CHILD = """\
import os, signal, subprocess, sys, time
from pathlib import Path
pidfile = Path(__file__).with_name("child.pid")
code = (
    "import os, signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(3600)"
)
subprocess.Popen([sys.executable, "-c", code, str(pidfile)])
while not pidfile.exists() or not pidfile.read_text():
    time.sleep(0.01)
print("child started", flush=True)
"""

DRIVERS: dict[str, tuple[str, float]] = {  # name -> (driver source, timeout in seconds)
    "abort": ("import os\nprint('about to abort', flush=True)\nos.abort()\n", 30),
    "segfault": ("import ctypes\nctypes.string_at(0)\n", 30),
    "exit3": ("import os\nos._exit(3)\n", 30),
    "hang": ("import time\nprint('hanging', flush=True)\ntime.sleep(3600)\n", 2),
    "orphan_hang": (CHILD + "time.sleep(3600)\n", 2),
    "orphan_exit": (CHILD + "print('parent done')\n", 30),
    "deadlock": (
        "import threading\n"
        "lock = threading.Lock()\n"
        "lock.acquire()\n"
        "worker = threading.Thread(target=lock.acquire)\n"
        "worker.start()\n"
        "worker.join()\n",
        2,
    ),
    "flood": (
        "import sys\n"
        "block = (b'x' * 1023 + b'\\n') * 1024\n"
        "for _ in range(100):\n"
        "    sys.stdout.buffer.write(block)\n"
        "    sys.stderr.buffer.write(block)\n"
        "sys.stdout.buffer.write(b'END-OF-STDOUT\\n')\n"
        "sys.stderr.buffer.write(b'END-OF-STDERR\\n')\n",
        60,
    ),
    "stdin": ("import sys\nprint(f'stdin={sys.stdin.read()!r}')\n", 30),
    "syntax": ("import faulty\ndef (:\n", 30),
    "no_module": ("import faulty\nimport no_such_module_for_triage\n", 30),
    "panic": ("import faulty\nassert faulty.ok() == 1\nfaulty.boom()\n", 30),
}
BROKEN_RUST = '#[pyfunction]\nfn ok() -> usize {\n    "not a number"\n}\n'
FLAKY = """\
import os
from pathlib import Path
counter = Path(__file__).with_name("runs.txt")
run = int(counter.read_text()) + 1 if counter.exists() else 1
counter.write_text(str(run))
print(f"run {run}", flush=True)
if run == 2:
    os.abort()
"""


def write_scenario(root: Path, name: str, driver: str, timeout: float, meta: str) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "scenario.toml").write_text(f"{meta}timeout = {timeout}\n")
    (folder / "driver.py").write_text(driver)
    return folder


def common_root(root: Path) -> Path:
    write_common(root)
    return root


def load_records(results: Path) -> dict[str, records.Record]:
    found = {}
    for path in (results / "records").glob("*/*.json"):
        record = records.Record.from_json(path.read_text(encoding="utf-8"))
        found[record.scenario] = record
    return found


def alive(pid: int) -> bool:
    """A process that exists and is not a zombie waiting for its reaper."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def gone_soon(pid: int, within: float = 2.0) -> bool:
    """SIGKILL is delivered asynchronously: allow the kernel a moment to finish the job."""
    deadline = time.monotonic() + within
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


class Run:
    def __init__(self, root: Path, results: Path, code: int, grew_kib: int, took: float) -> None:
        self.root = root
        self.results = results
        self.code = code
        self.grew_kib = grew_kib
        self.took = took
        self.records = load_records(results)

    def run(self, name: str) -> records.RunDetails:
        (single,) = self.records[name].runs
        return single


@pytest.fixture(scope="module")
def faults(tmp_path_factory: pytest.TempPathFactory, build_cache: Path) -> Run:
    root = common_root(tmp_path_factory.mktemp("faults"))
    folders = [
        write_scenario(root, name, driver, timeout, COMMON_META)
        for name, (driver, timeout) in DRIVERS.items()
    ]
    broken = write_scenario(
        root, "broken_rust", "import faulty\n", 30, 'module = "faulty"\nfunctions = ["ok"]\n'
    )
    (broken / "lib.rs").write_text(BROKEN_RUST)
    folders.append(broken)
    results = root / "results"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    code = matrix_cli.main(matrix_args(folders, results, build_cache))
    took = time.monotonic() - started
    grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    return Run(root, results, code, grew, took)


def test_every_fault_is_a_record_and_the_run_succeeds(faults: Run) -> None:
    assert faults.code == 0
    assert set(faults.records) == {*DRIVERS, "broken_rust"}
    table = (faults.results / "matrix.md").read_text()
    for name in (*DRIVERS, "broken_rust"):
        assert f"### `{name}`" in table
    assert "| 0.20.3 | **abort** |" in table
    assert "| 0.20.3 | **segfault** |" in table
    assert "| 0.20.3 | timeout? |" in table  # seen once: unconfirmed until a rerun sees it again
    assert "| 0.20.3 | build-error |" in table
    # Hangs are bounded by their 2 s timeouts, not by anything the drivers do.
    assert faults.took < 60


def test_abort(faults: Run) -> None:
    run = faults.run("abort")
    assert run.outcome is Outcome.ABORT
    assert (run.signal, run.exit_status) == ("SIGABRT", None)
    assert "about to abort" in run.stdout_tail


def test_segfault(faults: Run) -> None:
    run = faults.run("segfault")
    assert run.outcome is Outcome.SEGFAULT
    assert (run.signal, run.exit_status) == ("SIGSEGV", None)
    assert "Segmentation fault" in run.stderr_tail  # Python's fault handler spoke first


def test_os_exit_keeps_its_status(faults: Run) -> None:
    run = faults.run("exit3")
    assert run.outcome is Outcome.ERROR
    assert (run.exit_status, run.signal, run.exception) == (3, None, None)


@pytest.mark.parametrize("name", ["hang", "deadlock"])
def test_hang_is_a_timeout(faults: Run, name: str) -> None:
    run = faults.run(name)
    assert run.outcome is Outcome.TIMEOUT
    assert run.signal is None
    assert 2.0 <= run.duration < 6.0
    log = Path(run.log or "").read_text()
    assert "timed out after 2.0 s; process group killed" in log


@pytest.mark.parametrize("name", ["orphan_hang", "orphan_exit"])
def test_children_left_behind_are_killed(faults: Run, name: str) -> None:
    run = faults.run(name)
    pid = int((faults.root / name / "child.pid").read_text())
    assert gone_soon(pid), f"child {pid} of {name} survived the run"
    assert "child started" in run.stdout_tail
    if name == "orphan_hang":
        assert run.outcome is Outcome.TIMEOUT
    else:
        # The parent is done: the child holding its pipes must not stretch the run.
        assert run.outcome is Outcome.PASS
        assert "parent done" in run.stdout_tail
        assert run.duration < 5.0


def test_flood_is_bounded(faults: Run) -> None:
    run = faults.run("flood")
    assert run.outcome is Outcome.PASS
    assert run.truncated is True
    assert run.stdout_tail.endswith("END-OF-STDOUT\n") and len(run.stdout_tail) <= 4000
    assert run.stderr_tail.endswith("END-OF-STDERR\n") and len(run.stderr_tail) <= 8000
    log = Path(run.log or "")
    assert log.stat().st_size < 21 * 2**20  # 20 MiB cap plus the harness's own lines
    assert "output cut at" in log.read_text(errors="replace")[-50_000:]
    assert faults.grew_kib < 100 * 1024  # 200 MB went through without being held


def test_stdin_is_at_eof(faults: Run) -> None:
    run = faults.run("stdin")
    assert run.outcome is Outcome.PASS
    assert "stdin=''" in run.stdout_tail


def test_syntax_error(faults: Run) -> None:
    run = faults.run("syntax")
    assert run.outcome is Outcome.ERROR
    assert run.exit_status == 1
    assert (run.exception or "").startswith("SyntaxError")


def test_missing_module(faults: Run) -> None:
    run = faults.run("no_module")
    assert run.outcome is Outcome.ERROR
    assert run.exception == "ModuleNotFoundError: No module named 'no_such_module_for_triage'"


def test_rust_panic(faults: Run) -> None:
    record = faults.records["panic"]
    assert record.outcome is Outcome.PANIC
    assert record.panic_message == "boom from rust"
    assert (record.runs[0].exception or "").startswith("pyo3_runtime.PanicException")


def test_rust_that_does_not_compile(faults: Run) -> None:
    record = faults.records["broken_rust"]
    assert record.outcome is Outcome.BUILD_ERROR
    assert record.runs == ()
    assert record.note.startswith("error[E0308]: mismatched types"), record.note
    log = Path(record.build.log)
    assert log.is_file() and log.is_relative_to(faults.results)
    assert "error[E0308]" in log.read_text()


def test_all_faults_shared_one_build(faults: Run) -> None:
    keys = {r.build.key for name, r in faults.records.items() if name != "broken_rust"}
    assert len(keys) == 1


def test_repeat_shows_a_crash_on_the_second_run_as_flaky(tmp_path: Path, build_cache: Path) -> None:
    root = common_root(tmp_path)
    folder = write_scenario(root, "second_run_aborts", FLAKY, 30, COMMON_META)
    results = tmp_path / "results"
    assert matrix_cli.main(matrix_args([folder], results, build_cache, "--repeat", "3")) == 0
    record = load_records(results)["second_run_aborts"]
    assert record.flaky
    assert record.outcome is Outcome.ABORT
    assert [run.outcome for run in record.runs] == [Outcome.PASS, Outcome.ABORT, Outcome.PASS]
    assert [run.stdout_tail for run in record.runs] == ["run 1\n", "run 2\n", "run 3\n"]
    assert record.runs[1].signal == "SIGABRT"
    assert len({run.log for run in record.runs}) == 3  # one log per attempt
    assert "| 0.20.3 | **flaky 1/3 abort (abort, pass)** |" in (results / "matrix.md").read_text()
    assert int((folder / "runs.txt").read_text()) == 3


def test_crashes_leave_no_core_files(faults: Run, build_cache: Path) -> None:
    assert resource.getrlimit(resource.RLIMIT_CORE)[0] == 0
    for name in ("abort", "segfault", "panic"):
        work = build_cache / "work" / faults.records[name].key
        assert work.is_dir()
        assert not [p for p in work.iterdir() if p.name.startswith("core")]
