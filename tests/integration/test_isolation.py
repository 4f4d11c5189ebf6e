"""Every wheel holds its own reproducer's code (build tier).

All reproducers of a (release, interpreter) share one cargo target dir, so PyO3 is compiled once;
cargo knows the reproducer's own package there by name, not by folder. Two reproducers with the
same module (two scenario folders) or the same package (two users' crates) must still never get
each other's library, also when one is built again after the other (its wheel evicted, its
crate folder kept from before)."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from factories import PYPROJECT, crate_args

from pyo3_triage.commands import matrix_cli
from pyo3_triage.outcome import Outcome
from pyo3_triage.store import records
from pyo3_triage.system.paths import Layout

pytestmark = pytest.mark.build

PYO3 = "0.20.3"


def _scenario(folder: Path, value: int) -> Path:
    folder.mkdir(parents=True)
    (folder / "scenario.toml").write_text('module = "collide_x"\nfunctions = ["f"]\ntimeout = 60\n')
    (folder / "lib.rs").write_text(f"#[pyfunction]\nfn f() -> u32 {{ {value} }}\n")
    (folder / "driver.py").write_text(
        f"import collide_x\nassert collide_x.f() == {value}, collide_x.f()\n"
    )
    return folder


def _crate(folder: Path, value: int) -> Path:
    """A user's project; both get the same package and module name, only `f` differs."""
    (folder / "src").mkdir(parents=True)
    (folder / "Cargo.toml").write_text(
        '[package]\nname = "byo"\nversion = "0.3.0"\nedition = "2021"\n\n'
        '[lib]\nname = "byo_ext"\ncrate-type = ["cdylib"]\n\n'
        '[dependencies]\npyo3 = { version = "0.20.0", features = ["extension-module"] }\n'
    )
    (folder / "pyproject.toml").write_text(PYPROJECT)
    (folder / "src" / "lib.rs").write_text(
        "use pyo3::prelude::*;\n\n"
        f"#[pyfunction]\nfn f() -> u32 {{ {value} }}\n\n"
        "#[pymodule]\nfn byo_ext(_py: Python<'_>, m: &PyModule) -> PyResult<()> {\n"
        "    m.add_function(wrap_pyfunction!(f, m)?)?;\n    Ok(())\n}\n"
    )
    (folder / "repro.py").write_text(
        f"import byo_ext\nassert byo_ext.f() == {value}, byo_ext.f()\n"
    )
    return folder


def _only_record(layout: Layout) -> records.Record:
    (record,) = records.all_records(layout)
    return record


def _library(wheel: str) -> bytes:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".so")]
        return archive.read(name)


def _sequence(cache: Path, tmp_path: Path, argv_for: dict[str, list[str]]) -> None:
    """Build A, build B, drop A's wheel and venv (as eviction does), build A again; every cell
    passes only when its wheel holds its own `f`."""
    built: dict[str, records.Record] = {}
    for step, name in enumerate(("A", "B", "A")):
        layout = Layout(cache, tmp_path / f"results-{step}")
        assert matrix_cli.main([*argv_for[name], "--results", str(layout.results)]) == 0
        record = _only_record(layout)
        assert record.outcome is Outcome.PASS, (name, step, record.note, record.runs)
        assert record.build is not None and record.build.wheel is not None
        if step == 2:  # the rebuild compiled A's own code, not only packaged what was there
            log = Path(record.build.log).read_text(encoding="utf-8")
            assert "Compiling " in log and not record.build.cached
        built[name] = record
        if step == 1:
            key = built["A"].build.key  # type: ignore[union-attr]
            shutil.rmtree(cache / "wheels" / key)
            for venv in (cache / "venvs").glob(f"{key}*"):
                shutil.rmtree(venv)
    assert built["A"].build.key != built["B"].build.key  # type: ignore[union-attr]
    assert _library(built["A"].build.wheel) != _library(built["B"].build.wheel)  # type: ignore[union-attr, arg-type]


def test_two_scenarios_with_one_module_name_never_share_a_library(
    build_cache: Path, tmp_path: Path
) -> None:
    folders = {"A": _scenario(tmp_path / "A", 1), "B": _scenario(tmp_path / "B", 2)}
    argv = {
        name: [
            "--scenario",
            str(folder),
            "--pyo3",
            PYO3,
            "--python",
            "3.11",
            "--cache",
            str(build_cache),
        ]
        for name, folder in folders.items()
    }
    _sequence(build_cache, tmp_path, argv)


def test_two_user_crates_with_one_package_name_never_share_a_library(
    build_cache: Path, tmp_path: Path
) -> None:
    crates = {"A": _crate(tmp_path / "a" / "ext", 1), "B": _crate(tmp_path / "b" / "ext", 2)}
    argv = {
        name: crate_args(folder, "python repro.py", PYO3, "3.11", build_cache, tmp_path / "unused")[
            :-2
        ]
        for name, folder in crates.items()
    }
    _sequence(build_cache, tmp_path, argv)
