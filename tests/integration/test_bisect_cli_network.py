"""bisect.py's bad input as a user meets it: one line, exit 2, nothing touched. The cases
need the crates.io release list."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from factories import REPO

from pyo3_triage.system.paths import Layout
from pyo3_triage.versions import crates_index


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bisect-cache")
    crates_index.load_index("pyo3", Layout(cache=folder, results=folder).index_file("pyo3"))
    return folder


CASES = {
    "reversed-range": (["--pyo3", "0.21..0.19"], "reversed"),
    "one-candidate": (["--pyo3", "0.20.3", "--python", "3.11"], "nothing to search"),
    "unknown-scenario": (["--pyo3", "0.19..0.21", "--scenario", "nope"], "unknown scenario"),
    "two-scenarios": (
        [
            "--pyo3",
            "0.19..0.21",
            "--scenario",
            "unsendable_gc_traverse,unsendable_gc_traverse_workaround",
        ],
        "one scenario",
    ),
    "unknown-outcome": (["--pyo3", "0.19..0.21", "--new", "kaboom"], "unknown outcome"),
    "build-error-both-sides": (
        ["--pyo3", "0.19..0.21", "--new", "build-error", "--old", "build-error"],
        "both name build-error",
    ),
    "setup-error-as-verdict": (
        ["--pyo3", "0.19..0.21", "--new", "setup-error"],
        "never old or new",
    ),
    "same-outcome-both-sides": (
        ["--pyo3", "0.19..0.21", "--new", "abort", "--old", "abort"],
        "both name abort",
    ),
    "no-supported-cpython": (
        ["--pyo3", "0.19..0.19.2", "--python", "3.13"],
        "supported by two or more",
    ),
    "missing-pyo3": (["--python", "3.11"], "--pyo3"),
    "bad-flaky-rule": (["--pyo3", "0.19..0.21", "--flaky", "maybe"], "--flaky"),
}


@pytest.mark.network
@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_input_is_one_line_exit_2(case: str, cache: Path, tmp_path: Path) -> None:
    args, expect = CASES[case]
    results = tmp_path / "results"
    (results / "records").mkdir(parents=True)
    keep = results / "records" / "keep.json"
    keep.write_text("{}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYO3_TRIAGE_")}
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "bisect.py"),
            *args,
            "--cache",
            str(cache),
            "--results",
            str(results),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), done.stderr
    assert expect in lines[0]
    assert "Traceback" not in done.stdout + done.stderr
    assert keep.read_text() == "{}"
    assert not (cache / "targets").exists()
