"""A project's own maturin configuration decides its build (build tier): the bindings crate in
`bindings/python`, named by the root pyproject's `[tool.maturin] manifest-path` beside
`python-source`, `module-name` and `features`, as safetensors and others ship it."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import crate_args, write_files

from pyo3_triage.commands import matrix_cli
from pyo3_triage.outcome import Outcome
from pyo3_triage.store import records
from pyo3_triage.system.paths import Layout

BINDINGS_LIB = """use pyo3::prelude::*;

#[pyfunction]
fn answer() -> u32 { sub_core::answer() }

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(answer, m)?)?;
    Ok(())
}
"""


def make_bindings_project(root: Path, module: str = "subpkg._native") -> Path:
    """No Cargo.toml at the root; the library's name (`subpkg_native`) is not the module's
    (`_native`), so only the root pyproject's module-name makes an importable wheel."""
    files = {
        "pyproject.toml": '[build-system]\nrequires = ["maturin>=1,<2"]\nbuild-backend = "maturin"\n\n'
        '[project]\nname = "subpkg"\nversion = "0.1.0"\n\n[tool.maturin]\n'
        'manifest-path = "bindings/python/Cargo.toml"\npython-source = "python"\n'
        f'module-name = "{module}"\nfeatures = ["pyo3/extension-module"]\n',
        "bindings/python/Cargo.toml": '[package]\nname = "subpkg-python"\nversion = "0.1.0"\n'
        'edition = "2021"\n\n[lib]\nname = "subpkg_native"\ncrate-type = ["cdylib"]\n\n'
        '[dependencies]\npyo3 = "0.21"\nsub-core = { path = "../../core" }\n',
        "bindings/python/src/lib.rs": BINDINGS_LIB,
        "core/Cargo.toml": '[package]\nname = "sub-core"\nversion = "0.1.0"\nedition = "2021"\n',
        "core/src/lib.rs": "pub fn answer() -> u32 { 42 }\n",
        "python/subpkg/__init__.py": "from ._native import answer\n\n"
        "def pure() -> str:\n    return 'python'\n",
        "repro.py": "import subpkg\nassert (subpkg.answer(), subpkg.pure()) == (42, 'python')\n",
    }
    return write_files(root, files)


@pytest.mark.build
def test_the_root_pyprojects_maturin_settings_decide_the_build(
    build_cache: Path, tmp_path: Path
) -> None:
    """0.21.2 builds the Python package with its extension and passes; on 0.20.3 (no `Bound`)
    the bindings crate's own code fails: build-error, not a dependency's setup-error."""
    project = make_bindings_project(tmp_path / "proj")
    results = tmp_path / "results"
    argv = crate_args(project, "python repro.py", "0.20.3,0.21.2", "3.11", build_cache, results)
    assert matrix_cli.main(argv) == 0
    found = {r.pyo3: r for r in records.all_records(Layout(build_cache, results))}
    assert found["0.21.2"].outcome is Outcome.PASS, (found["0.21.2"].outcome, found["0.21.2"].note)
    assert found["0.21.2"].build is not None and found["0.21.2"].build.wheel is not None
    assert Path(found["0.21.2"].build.wheel).name.startswith("subpkg-0.1.0-")
    old = found["0.20.3"]
    assert old.outcome is Outcome.BUILD_ERROR, (old.outcome, old.build and old.build.error)
    assert old.build is not None and "cannot find type `Bound`" in (old.build.error or "")
    assert "could not compile `subpkg-python`" in Path(old.build.log).read_text()


@pytest.mark.build
def test_a_module_name_its_pymodule_does_not_make_is_a_build_error(
    build_cache: Path, tmp_path: Path
) -> None:
    """maturin packs the library with only a warning; the cell says why, not import-error."""
    project = make_bindings_project(tmp_path / "proj", module="subpkg._other")
    results = tmp_path / "results"
    argv = crate_args(project, "python repro.py", "0.21.2", "3.11", build_cache, results)
    assert matrix_cli.main(argv) == 0
    (record,) = records.all_records(Layout(build_cache, results))
    assert record.outcome is Outcome.BUILD_ERROR and record.build is not None
    assert (record.build.error or "").startswith("Couldn't find the symbol `PyInit__other`")
    assert record.build.wheel is None
