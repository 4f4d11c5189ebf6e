"""Build tier: eviction by another run never takes what a running cell uses.

One `nox -s matrix` runs a driver that, once started, waits and only then imports its
extension from the cell's venv; meanwhile a second run on the same cache finishes with
`--cache-limit 0`, evicting everything it may. The first cell must come out as it would alone.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
from fault_kit import COMMON_META, PYO3, matrix_args, nox_matrix_command, write_common

from pyo3_triage.outcome import Outcome
from pyo3_triage.store import records
from pyo3_triage.system.paths import Layout

pytestmark = pytest.mark.build

DRIVER = """\
import pathlib, time
pathlib.Path({started!r}).write_text("started")
deadline = time.monotonic() + 120
while not pathlib.Path({go!r}).exists() and time.monotonic() < deadline:
    time.sleep(0.05)
import faulty
print("late import", faulty.ok())
"""


def _private_cache(build_cache: Path, cache: Path) -> None:
    """A cache of this test's own (limit 0 empties it), with the release list and the pinned
    lock copied from the shared one when present, so no network is needed. Made by the tool
    first, so it is tagged as the tool's (eviction never deletes in a folder it did not make)."""
    Layout(cache, cache.parent / "unused").ensure()
    for part in ("index", f"locks/{PYO3}"):
        if (build_cache / part).is_dir():
            shutil.copytree(build_cache / part, cache / part)


def test_eviction_by_another_run_keeps_what_a_running_cell_uses(
    tmp_path: Path, build_cache: Path
) -> None:
    cache = tmp_path / "cache"
    _private_cache(build_cache, cache)
    write_common(tmp_path)
    started, go = tmp_path / "started", tmp_path / "go"
    late = tmp_path / "late"
    late.mkdir()
    (late / "scenario.toml").write_text(COMMON_META + "timeout = 240\n")
    (late / "driver.py").write_text(DRIVER.format(started=str(started), go=str(go)))
    other = tmp_path / "other"
    other.mkdir()
    (other / "scenario.toml").write_text(COMMON_META + "timeout = 60\n")
    (other / "driver.py").write_text("import faulty\n")

    argv, env = nox_matrix_command(matrix_args([late], tmp_path / "results-1", cache))
    first = subprocess.Popen(
        argv, cwd=tmp_path, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 600
        while not started.exists():
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the first run never started its driver"
            time.sleep(0.1)
        # The second run: another cell (its own results), then eviction down to nothing.
        argv2, _ = nox_matrix_command(
            matrix_args([other], tmp_path / "results-2", cache, "--cache-limit", "0")
        )
        second = subprocess.run(
            argv2, cwd=tmp_path, env=env, text=True, capture_output=True, timeout=600
        )
        assert second.returncode == 0, second.stdout + second.stderr
        go.write_text("go")
        out, err = first.communicate(timeout=300)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 0, out + err
    (record,) = records.all_records(Layout(cache, tmp_path / "results-1"))
    assert record.outcome is Outcome.PASS, (record.note, record.runs)
    assert record.runs[0].stdout_tail == "late import 1\n"
    assert not record.transient
    assert "evicted" in second.stdout  # the second run did evict what it could


def test_a_run_that_loses_its_venv_is_no_answer(tmp_path: Path, build_cache: Path) -> None:
    """Whatever deletes the venv under a running driver (here the driver itself), the failure
    that follows is `setup-error`, retried next run, never an answer stored for good."""
    write_common(tmp_path)
    # A Rust side of its own (a comment), so the venv deleted is this test's alone.
    rust = (tmp_path / "common" / "lib.rs").read_text()
    (tmp_path / "common" / "lib.rs").write_text(f"// {tmp_path.name}\n{rust}")
    folder = tmp_path / "loses_venv"
    folder.mkdir()
    (folder / "scenario.toml").write_text(COMMON_META + "timeout = 60\n")
    (folder / "driver.py").write_text(
        "import shutil, sys\nshutil.rmtree(sys.prefix)\nsys.exit(1)\n"
    )
    results = tmp_path / "results"
    argv, env = nox_matrix_command(matrix_args([folder], results, build_cache))
    try:
        done = subprocess.run(argv, cwd=tmp_path, env=env, text=True, capture_output=True)
        assert done.returncode == 0, done.stdout + done.stderr
        (record,) = records.all_records(Layout(build_cache, results))
        assert record.outcome is Outcome.SETUP_ERROR, (record.outcome, record.note)
        assert record.transient and "the venv" in record.note and "vanished" in record.note
        assert record.runs[0].exit_status == 1  # the evidence of the run is kept
    finally:
        if record_key := _build_key(results):
            shutil.rmtree(build_cache / "wheels" / record_key, ignore_errors=True)
            shutil.rmtree(build_cache / "crates" / record_key, ignore_errors=True)


def _build_key(results: Path) -> str | None:
    for path in (results / "records").glob("*/*.json"):
        record = records.Record.from_json(path.read_text(encoding="utf-8"))
        return record.build.key if record.build else None
    return None
