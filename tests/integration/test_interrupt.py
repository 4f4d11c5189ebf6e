"""Build tier: `nox -s matrix` stopped by SIGTERM or Ctrl-C keeps what it finished, leaves no
process behind and resumes where it stopped; a half-written record is never trusted.

Uses the fault tier's shared Rust side (same source, module and functions), so the build is
already in the persistent test cache after the first run.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from fault_kit import COMMON_META, PYO3, matrix_args, nox_matrix_command, write_common

from pyo3_triage.commands import matrix_cli
from pyo3_triage.outcome import Outcome
from pyo3_triage.store import records

pytestmark = pytest.mark.build

SLOW = "import time\nimport faulty\nassert faulty.ok() == 1\ntime.sleep(3)\nprint('slept')\n"
SLOW_CELLS = 3


def scenarios(root: Path, names: list[str], driver: str) -> list[Path]:
    write_common(root)
    folders = []
    for name in names:
        folder = root / name
        folder.mkdir()
        (folder / "scenario.toml").write_text(COMMON_META + "timeout = 30\n")
        (folder / "driver.py").write_text(driver)
        folders.append(folder)
    return folders


def nox_matrix(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    argv, env = nox_matrix_command(args)
    return subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def record_files(results: Path) -> list[Path]:
    return sorted((results / "records").glob("*/*.json"))


def wait_for_records(proc: subprocess.Popen[str], results: Path, within: float = 120) -> None:
    deadline = time.monotonic() + within
    while not record_files(results):
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the run ended before finishing a cell:\n{out}\n{err}")
        if time.monotonic() > deadline:
            pytest.fail("no record appeared")
        time.sleep(0.05)


def processes_mentioning(text: str) -> list[int]:
    """Pids whose command line contains `text` (any process on the machine)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(int(entry.name))
    return found


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_interrupted_run_keeps_results_and_resumes(
    signum: signal.Signals, tmp_path: Path, build_cache: Path
) -> None:
    folders = scenarios(tmp_path, [f"slow{i}" for i in range(1, SLOW_CELLS + 1)], SLOW)
    results = tmp_path / "results"
    args = matrix_args(folders, results, build_cache)
    proc = nox_matrix(args, tmp_path)
    try:
        wait_for_records(proc, results)
        os.kill(proc.pid, signum)
        sent = time.monotonic()
        out, err = proc.communicate(timeout=30)
        stopped_in = time.monotonic() - sent
    finally:
        stop(proc)
    assert proc.returncode == 130, out + err
    assert stopped_in < 5, stopped_in
    assert "Traceback" not in out + err
    assert "Interrupted." in out and "resume with: nox -s matrix --" in out

    finished = record_files(results)
    assert 1 <= len(finished) < SLOW_CELLS
    kept = {path: records.Record.from_json(path.read_text()) for path in finished}
    assert all(record.outcome is Outcome.PASS for record in kept.values())
    table = (results / "matrix.md").read_text()
    assert f"> Interrupted after {len(finished)} of {SLOW_CELLS} cells." in table
    assert table.count("| 0.20.3 | pass |") == len(finished)
    assert table.count("| 0.20.3 | · |") == SLOW_CELLS - len(finished)
    # The report is left as it was (here: none yet), never a table of dots without a note.
    assert not (results / "report.md").exists()
    # The driver that was running when the signal came is gone, with everything it started.
    assert processes_mentioning(str(tmp_path / "slow")) == []

    if signum is not signal.SIGTERM:
        return  # resuming is the same whichever signal stopped the run
    again = nox_matrix(args, tmp_path)
    try:
        out, err = again.communicate(timeout=120)
    finally:
        stop(again)
    assert again.returncode == 0, out + err
    assert f"{SLOW_CELLS} cells ({len(finished)} from stored records)" in out
    assert len(re.findall(r": pass \(cached\)", out)) == len(finished)
    assert len(record_files(results)) == SLOW_CELLS
    for path, record in kept.items():  # reused as they were, not recomputed
        assert records.Record.from_json(path.read_text()) == record
    table = (results / "matrix.md").read_text()
    assert "Interrupted" not in table
    assert table.count("| 0.20.3 | pass |") == SLOW_CELLS


@pytest.mark.parametrize("damage", ["half", "empty", "not-a-record"])
def test_damaged_record_is_recomputed(
    damage: str, tmp_path: Path, build_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What a run killed mid-write (kill -9, power loss) could leave at a record's path."""
    folders = scenarios(tmp_path, ["quick"], "import faulty\nprint(faulty.ok())\n")
    results = tmp_path / "results"
    args = matrix_args(folders, results, build_cache)
    assert matrix_cli.main(args) == 0
    (path,) = record_files(results)
    whole = path.read_text()
    damaged = {
        "half": whole[: len(whole) // 2],
        "empty": "",
        "not-a-record": json.dumps(["a", "list"]),
    }[damage]
    path.write_text(damaged)
    (path.parent / f".{path.name}.x1y2.tmp").write_text(whole[:100])  # a temp file left behind
    capsys.readouterr()

    assert matrix_cli.main(args) == 0
    out = capsys.readouterr().out
    assert "1 cells (0 from stored records)" in out
    assert "[1/1] quick 0.20.3 py3.11" in out
    record = records.Record.from_json(path.read_text())
    assert record.outcome is Outcome.PASS
    assert record.runs[0].stdout_tail == "1\n"
    assert record_files(results) == [path]


def test_parallel_run_interrupted_records_no_killed_runs(tmp_path: Path, build_cache: Path) -> None:
    """With --jobs 2 two groups run at once; an interruption kills both children, and neither
    killed run is stored as an outcome. The resumed run finishes with every cell passing."""
    folders = scenarios(tmp_path, [f"slow{i}" for i in range(1, SLOW_CELLS + 1)], SLOW)
    results = tmp_path / "results"
    args = [*matrix_args(folders, results, build_cache), "--jobs", "2"]
    args[args.index(PYO3)] = f"{PYO3},0.21.2"
    proc = nox_matrix(args, tmp_path)
    try:
        wait_for_records(proc, results)
        os.kill(proc.pid, signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        stop(proc)
    assert proc.returncode == 130, out + err
    assert "Traceback" not in out + err
    finished = [records.Record.from_json(p.read_text()) for p in record_files(results)]
    assert 1 <= len(finished) < 2 * SLOW_CELLS
    assert all(record.outcome is Outcome.PASS for record in finished)
    assert processes_mentioning(str(tmp_path / "slow")) == []

    again = nox_matrix(args, tmp_path)
    try:
        out, err = again.communicate(timeout=300)
    finally:
        stop(again)
    assert again.returncode == 0, out + err
    table = (results / "matrix.md").read_text()
    assert table.count("| 0.20.3 | pass |") == SLOW_CELLS
    assert table.count("| 0.21.2 | pass |") == SLOW_CELLS
