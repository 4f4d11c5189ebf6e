"""Build tier: two `nox -s matrix` runs at once on the same results and cache folders. Both must
finish, every record must parse, both tables must be complete, and a build both runs need is
made once: the second waits for the first (file locks) and reuses its wheel.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from fault_kit import COMMON_META, COMMON_RUST, PYO3, matrix_args, nox_matrix_command

from pyo3_triage.outcome import Outcome
from pyo3_triage.store import records

pytestmark = pytest.mark.build

DRIVER = "import time\nimport faulty\ntime.sleep(0.5)\nprint('ok', faulty.ok())\n"
COLD_DRIVER = "import coldmod\nprint('cold', coldmod.ok())\n"


def write_scenario(root: Path, name: str, meta: str, driver: str) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "scenario.toml").write_text(meta + "timeout = 60\n")
    (folder / "driver.py").write_text(driver)
    return folder


def start(folders: list[Path], results: Path, cache: Path, cwd: Path) -> subprocess.Popen[str]:
    argv, env = nox_matrix_command(matrix_args(folders, results, cache))
    return subprocess.Popen(
        argv, cwd=cwd, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def run_both(folders: list[Path], results: Path, cache: Path, cwd: Path) -> list[str]:
    """Start two identical runs at once; both must succeed. Their outputs."""
    procs = [start(folders, results, cache, cwd) for _ in range(2)]
    outputs = []
    for proc in procs:
        try:
            out, err = proc.communicate(timeout=300)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == 0, out + err
        assert "Traceback" not in out + err
        outputs.append(out)
    return outputs


def check_results(results: Path, names: list[str], outputs: list[str]) -> dict[str, records.Record]:
    """Every record parses, one per cell, and both runs' tables are complete."""
    found = {}
    for path in (results / "records").glob("*/*.json"):
        record = records.Record.from_json(path.read_text(encoding="utf-8"))
        assert record.scenario not in found, f"two records for {record.scenario}"
        found[record.scenario] = record
    assert sorted(found) == sorted(names)
    assert not list((results / "records").glob("*/.*.tmp"))  # no temp file left behind
    for out in outputs:  # each run's terminal tables show every cell
        assert f"{len(names)} cells (" in out
        assert len(re.findall(r"│ 0\.20\.3 +│ +pass +│", out)) == len(names), out
    table = (results / "matrix.md").read_text()
    assert "Interrupted" not in table
    assert table.count("| 0.20.3 | pass |") == len(names)
    return found


def build_seconds(out: str, scenario: str) -> float | None:
    """How long this run spent building the scenario's cell; None when the record was reused."""
    # Off a TTY each cell has one compact progress line: "[n/N] scenario release pyX.Y.Z: ..."
    line = next(line for line in out.splitlines() if re.match(rf"\[\d+/\d+\] {scenario} ", line))
    if line.endswith("(cached)"):
        return None
    match = re.search(r"\(build (\d+\.\d)s, run", line)
    assert match, line
    return float(match.group(1))


def test_two_runs_share_results_and_a_cached_build(tmp_path: Path, build_cache: Path) -> None:
    names = ["same1", "same2", "same3"]
    folders = [write_scenario(tmp_path, name, COMMON_META, DRIVER) for name in names]
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "lib.rs").write_text(COMMON_RUST)
    results = tmp_path / "results"
    outputs = run_both(folders, results, build_cache, tmp_path)
    found = check_results(results, names, outputs)
    for record in found.values():
        assert record.outcome is Outcome.PASS
        assert record.runs[0].stdout_tail == "ok 1\n"
        assert Path(record.runs[0].log or "").is_file()
        assert Path(record.build.log).is_file()
    assert len({record.build.key for record in found.values()}) == 1


def test_a_build_both_runs_need_is_made_once(tmp_path: Path, build_cache: Path) -> None:
    """A Rust side new to the cache (unique per test run), on an already compiled PyO3."""
    nonce = uuid.uuid4().hex
    (tmp_path / "lib.rs").write_text(f"// {nonce}\n{COMMON_RUST}")
    meta = 'rust = "../lib.rs"\nmodule = "coldmod"\nfunctions = ["ok"]\n'
    names = ["cold1", "cold2"]
    folders = [write_scenario(tmp_path, name, meta, COLD_DRIVER) for name in names]
    results = tmp_path / "results"
    key = None
    try:
        outputs = run_both(folders, results, build_cache, tmp_path)
        found = check_results(results, names, outputs)
        key = found["cold1"].build.key
        assert found["cold2"].build.key == key
        builds = [
            seconds
            for out in outputs
            for name in names
            if (seconds := build_seconds(out, name)) is not None and seconds > 0
        ]
        assert len(builds) == 1, outputs  # one maturin build in all; everyone else waited
        for record in found.values():
            assert record.outcome is Outcome.PASS
            assert record.runs[0].stdout_tail == "cold 1\n"
            assert Path(record.build.log).is_file()
    finally:
        if key is not None:  # keep the shared test cache from growing with each run
            shutil.rmtree(build_cache / "crates" / key, ignore_errors=True)
            shutil.rmtree(build_cache / "wheels" / key, ignore_errors=True)


def test_two_cold_runs_compile_pyo3_once(tmp_path: Path, build_cache: Path) -> None:
    """An empty cache (only the release list and the pinned lock, so no network is needed):
    both runs need PyO3 compiled, the venv made and the wheel installed; one does the work."""
    cache = tmp_path / "cache"
    shutil.copytree(build_cache / "index", cache / "index")
    shutil.copytree(build_cache / "locks" / PYO3, cache / "locks" / PYO3)
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "lib.rs").write_text(COMMON_RUST)
    names = ["first", "second"]
    folders = [write_scenario(tmp_path, name, COMMON_META, DRIVER) for name in names]
    results = tmp_path / "results"
    try:
        outputs = run_both(folders, results, cache, tmp_path)
        found = check_results(results, names, outputs)
        builds = [
            seconds
            for out in outputs
            for name in names
            if (seconds := build_seconds(out, name)) is not None and seconds > 0
        ]
        assert len(builds) == 1, outputs
        assert len(list((cache / "targets").iterdir())) == 1
        assert len(list((cache / "venvs").iterdir())) == 1
        assert len(list((cache / "wheels").glob("*/*.whl"))) == 1
        for record in found.values():
            assert record.outcome is Outcome.PASS
            assert "Compiling pyo3 v0.20.3" in Path(record.build.log).read_text()
    finally:
        shutil.rmtree(cache, ignore_errors=True)  # a compiled PyO3 is large; keep /tmp small
