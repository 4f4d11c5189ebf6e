"""The ecosystem command built for real (build tier): one small maturin project (written here,
its own `#![deny(warnings)]`) with PyO3 0.20.3 as baseline and 0.21.2 as candidate, whose GIL-ref
deprecations make the build fail: a regression with its compiler error, grouped, with suspects
and the bisect command; beside it, rows for a project that cannot be tried; a second run reuses
every record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from factories import write_files

from pyo3_triage.commands import ecosystem_cli

LIB = """#![deny(warnings)]
use pyo3::prelude::*;

#[pyfunction]
fn double(x: i64) -> i64 {
    x * 2
}

#[pymodule]
fn tiny(_py: Python, m: &PyModule) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(double, m)?)?;
    Ok(())
}
"""


@pytest.mark.build
def test_a_deprecation_the_project_denies_is_a_regression(
    build_cache: Path, tmp_path: Path
) -> None:
    write_files(
        tmp_path / "list",
        {
            "tiny/Cargo.toml": '[package]\nname = "tiny"\nversion = "0.1.0"\nedition = "2021"\n'
            '[lib]\nname = "tiny"\ncrate-type = ["cdylib"]\n'
            '[dependencies]\npyo3 = { version = "0.20", features = ["extension-module"] }\n',
            "tiny/pyproject.toml": '[build-system]\nrequires = ["maturin>=1,<2"]\n'
            'build-backend = "maturin"\n[project]\nname = "tiny"\nversion = "0.1.0"\n',
            "tiny/src/lib.rs": LIB,
            "checks/check_tiny.py": "import tiny\nassert tiny.double(21) == 42\n",
            "not-maturin/README": "nothing to build\n",
            "projects.toml": '[[project]]\nname = "tiny"\npath = "tiny"\n'
            'run = "python checks/check_tiny.py"\n\n'
            '[[project]]\nname = "plain"\npath = "not-maturin"\n',
        },
    )
    results = tmp_path / "results"
    argv = [
        "--projects",
        str(tmp_path / "list" / "projects.toml"),
        "--candidate",
        "0.21.2",
        "--baseline",
        "0.20.3",
        "--python",
        "3.11",
        "--cache",
        str(build_cache),
        "--results",
        str(results),
    ]
    assert ecosystem_cli.main(argv) == 0
    data = json.loads((results / "ecosystem.json").read_text())
    tiny, plain = data["projects"]
    assert (tiny["baseline"]["outcome"], tiny["candidate"]["outcome"]) == ("pass", "build-error")
    assert tiny["verdict"] == "regressed"
    assert "deprecated" in tiny["candidate"]["message"]
    assert plain["verdict"] == "not tried" and plain["why"]
    text = (results / "ecosystem.md").read_text()
    assert "1 of 2 projects regress on 0.21.2 against 0.20.3: tiny; 1 not tried (plain)." in text
    assert "pyo3-triage bisect --crate" in text and "--pyo3 0.20.3..0.21.2" in text
    # again: every cell from its record
    assert ecosystem_cli.main(argv) == 0
    again = json.loads((results / "ecosystem.json").read_text())["projects"][0]
    assert again["baseline"]["cached"] and again["candidate"]["cached"]
