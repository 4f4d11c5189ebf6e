"""Build tier: a results folder on a full (or read-only) disk gets one clear error line and exit
status 2, not a traceback, and the records already there stay whole.

Needs root and a kernel that lets it mount a small tmpfs; skipped otherwise.
"""

from __future__ import annotations

import errno
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import snapshot
from fault_kit import COMMON_META, matrix_args, nox_matrix_command, write_common

from pyo3_triage.commands import matrix_cli
from pyo3_triage.store import records

pytestmark = pytest.mark.build


def scenario(root: Path, name: str) -> Path:
    write_common(root)
    folder = root / name
    folder.mkdir()
    (folder / "scenario.toml").write_text(COMMON_META + "timeout = 30\n")
    (folder / "driver.py").write_text("import faulty\nprint(faulty.ok())\n")
    return folder


def nox_matrix(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    argv, env = nox_matrix_command(args)
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=180, check=False
    )


def own_lines(stderr: str) -> list[str]:
    """stderr without nox's own framing lines."""
    return [line for line in stderr.splitlines() if line.strip() and not line.startswith("nox >")]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs, unmounted afterwards whatever happens."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)
        if os.path.ismount(mount):
            subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> None:
    """Write until not even one more byte fits."""
    fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        for size in (65536, 4096, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError as err:
                assert err.errno == errno.ENOSPC
    finally:
        os.close(fd)


def test_full_results_disk_is_one_error_line(
    small_disk: Path, tmp_path: Path, build_cache: Path
) -> None:
    results = small_disk / "results"
    first = scenario(tmp_path, "first")
    assert matrix_cli.main(matrix_args([first], results, build_cache)) == 0
    before = snapshot(results)
    assert any(name.startswith("records/") for name in before)
    fill(small_disk)

    second = scenario(tmp_path, "second")
    done = nox_matrix(matrix_args([first, second], results, build_cache), tmp_path)
    assert "Traceback" not in done.stdout + done.stderr
    assert done.returncode == 2, done.stdout + done.stderr
    lines = own_lines(done.stderr)
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"error: cannot write {results}/"), lines[0]
    assert "no space left on the device (the disk is full)" in lines[0]
    assert "--results DIR" in lines[0]
    # The first run's evidence is untouched and still reads; nothing half-written was left.
    after = snapshot(results)
    assert {name: after.get(name) for name in before} == before
    for name in after:
        assert not Path(name).name.endswith(".tmp"), name
        if name.startswith("records/"):
            assert records.Record.from_json(after[name].decode()).scenario == "first"


def test_full_disk_when_saving_a_record(
    small_disk: Path, tmp_path: Path, build_cache: Path
) -> None:
    """The logs fit but the record does not: the run that cannot keep its result says so."""
    results = small_disk / "results"
    first = scenario(tmp_path, "first")
    args = matrix_args([first], results, build_cache)
    assert matrix_cli.main(args) == 0
    (record,) = (results / "records").glob("*/*.json")
    record.unlink()  # frees its pages; the cell's logs stay and are rewritten in place
    keep = snapshot(results)
    fill(small_disk)
    done = nox_matrix(args, tmp_path)
    assert "Traceback" not in done.stdout + done.stderr
    assert done.returncode == 2, done.stdout + done.stderr
    lines = own_lines(done.stderr)
    assert len(lines) == 1, done.stderr
    # Records are written by paths.write_atomic, whose failures do not name the file yet.
    pattern = rf"error: cannot write ({re.escape(str(results))}/\S+|a file): no space left"
    assert re.match(pattern, lines[0]), lines[0]
    assert not list((results / "records").rglob("*.json"))
    assert not list((results / "records").rglob("*.tmp"))
    assert (results / "matrix.md").read_bytes() == keep["matrix.md"]


def test_read_only_results_disk_is_one_error_line(
    small_disk: Path, tmp_path: Path, build_cache: Path
) -> None:
    results = small_disk / "results"
    results.mkdir()
    (results / "matrix.md").write_text("# an earlier table\n")
    remount = ["mount", "-o", "remount,ro", str(small_disk)]
    if subprocess.run(remount, capture_output=True, check=False).returncode != 0:
        pytest.skip("cannot remount the tmpfs read-only")
    done = nox_matrix(matrix_args([scenario(tmp_path, "ro")], results, build_cache), tmp_path)
    assert "Traceback" not in done.stdout + done.stderr
    assert done.returncode == 2, done.stdout + done.stderr
    lines = own_lines(done.stderr)
    assert len(lines) == 1, done.stderr
    assert f"cannot write to the results folder {results}" in lines[0]
    assert "Read-only file system" in lines[0]
    assert (results / "matrix.md").read_text() == "# an earlier table\n"
