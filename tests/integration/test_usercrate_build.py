"""Bring your own reproducer, built (build tier): users' maturin projects (plain, a workspace,
their own abi3, a mixed layout, a companion crate) built per release, run by the user's
command and tabulated, the user's files untouched."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from factories import crate_args, fingerprint, make_project, write_files

from pyo3_triage.commands import matrix_cli
from pyo3_triage.outcome import Outcome
from pyo3_triage.store import records
from pyo3_triage.system.paths import Layout


@pytest.mark.build
def test_a_users_project_gets_the_same_table(build_cache: Path, tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    before = fingerprint(project)
    results = tmp_path / "results"
    argv = crate_args(project, "python repro.py", "0.20.3,0.21.2", "3.11", build_cache, results)
    assert matrix_cli.main(argv) == 0
    found = {r.pyo3: r for r in records.all_records(Layout(build_cache, results))}
    assert found["0.20.3"].outcome is Outcome.ABORT
    assert "is unsendable, but sent to another thread" in (found["0.20.3"].panic_message or "")
    assert found["0.21.2"].outcome is Outcome.PASS
    assert set(dict(found["0.21.2"].lock.crates).values()) == {"0.21.2"}
    assert fingerprint(project) == before
    assert "| 0.20.3 | **abort** |" in (results / "matrix.md").read_text()


@pytest.mark.build
def test_editing_a_script_outside_the_crate_changes_the_answer(
    build_cache: Path, tmp_path: Path
) -> None:
    """No stale answer: the second run sees the edited script without --rerun."""
    project = make_project(tmp_path / "proj")
    smoke = tmp_path / "smoke.py"
    smoke.write_text("import byo_ext\nassert byo_ext.Holder() is not None\n")
    results = tmp_path / "results"
    argv = crate_args(project, f"python {smoke}", "0.21.2", "3.11", build_cache, results)
    layout = Layout(build_cache, results)
    assert matrix_cli.main(argv) == 0
    (first,) = records.all_records(layout)
    assert first.outcome is Outcome.PASS
    smoke.write_text("import byo_ext\nraise AssertionError('the smoke test changed')\n")
    assert matrix_cli.main(argv) == 0
    (newest,) = [r for r in records.all_records(layout) if r.key != first.key]
    assert newest.outcome is Outcome.ERROR
    assert "the smoke test changed" in (newest.message or "")


WS_LIB = """use pyo3::prelude::*;

#[pyfunction]
fn answer() -> usize { ws_core::answer() }

#[pymodule]
fn ws_ext(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(answer, m)?)?;
    Ok(())
}
"""


def make_workspace(root: Path, features: str) -> Path:
    files = {
        "Cargo.toml": '[workspace]\nmembers = ["crates/*"]\nresolver = "2"\n\n'
        '[workspace.package]\nedition = "2021"\nversion = "0.1.0"\n\n'
        f'[workspace.dependencies]\npyo3 = {{ version = "0.21.0", features = {features} }}\n',
        "crates/ext/Cargo.toml": '[package]\nname = "ws-ext"\nversion.workspace = true\nedition.workspace = true\n\n'
        '[lib]\nname = "ws_ext"\ncrate-type = ["cdylib"]\n\n'
        '[dependencies]\npyo3 = { workspace = true }\nws-core = { path = "../core" }\n',
        "crates/ext/src/lib.rs": WS_LIB,
        "crates/core/Cargo.toml": '[package]\nname = "ws-core"\nversion.workspace = true\nedition.workspace = true\n',
        "crates/core/src/lib.rs": "pub fn answer() -> usize { 42 }\n",
        "pyproject.toml": '[build-system]\nrequires = ["maturin>=1,<2"]\nbuild-backend = "maturin"\n\n'
        '[project]\nname = "ws-ext"\nversion = "0.1.0"\n\n'
        '[tool.maturin]\nmanifest-path = "crates/ext/Cargo.toml"\n',
        "smoke.py": "import ws_ext\nassert ws_ext.answer() == 42\n",
    }
    return write_files(root, files)


@pytest.mark.build
def test_a_cargo_workspace_from_its_root(build_cache: Path, tmp_path: Path) -> None:
    """pyo3 in [workspace.dependencies], the extension one member, a library another."""
    project = make_workspace(tmp_path / "ws", '["extension-module"]')
    before = fingerprint(project)
    results = tmp_path / "results"
    argv = crate_args(project, "python smoke.py", "0.21.2,0.22.6", "3.11", build_cache, results)
    assert matrix_cli.main(argv) == 0
    found = {r.pyo3: r for r in records.all_records(Layout(build_cache, results))}
    assert {v: r.outcome for v, r in found.items()} == {
        "0.21.2": Outcome.PASS,
        "0.22.6": Outcome.PASS,
    }
    assert set(dict(found["0.22.6"].lock.crates).values()) == {"0.22.6"}
    assert Path(found["0.22.6"].lock.file).is_file()  # the lock the crate was built with
    assert 'name = "ws-core"' in Path(found["0.22.6"].lock.file).read_text()
    assert fingerprint(project) == before


@pytest.mark.build
def test_a_crate_with_its_own_abi3_is_built_once_and_labelled(
    build_cache: Path, tmp_path: Path
) -> None:
    from pyo3_triage import interpreters

    pythons = [i for i in interpreters.discover() if i.python_label in ("3.11", "3.12")]
    if len(pythons) < 2:
        pytest.skip("needs CPython 3.11 and 3.12")
    project = make_workspace(tmp_path / "ws", '["extension-module", "abi3-py311"]')
    results = tmp_path / "results"
    argv = crate_args(
        project, "python smoke.py", "0.22.6", "3.11,3.12", build_cache, results, "--abi3"
    )
    assert matrix_cli.main(argv) == 0
    found = list(records.all_records(Layout(build_cache, results)))
    assert len(found) == 2 and all(r.outcome is Outcome.PASS for r in found)
    assert {r.abi3 for r in found} == {"abi3-py311"}  # the crate's own floor, not the release's
    assert len({r.build.key for r in found}) == 1  # one build serves both CPythons
    assert "(abi3)" in (results / "matrix.md").read_text()
    # --rerun with both CPython groups at once: the one build is made again once, not once per
    # group, and neither group's copy of the project is remade under the other's run.
    assert matrix_cli.main([*argv, "--rerun", "--jobs", "2"]) == 0
    again = list(records.all_records(Layout(build_cache, results)))
    assert len(again) == 2 and all(r.outcome is Outcome.PASS for r in again)
    assert sorted(r.build.cached for r in again) == [False, True]


@pytest.mark.build
def test_a_run_command_that_needs_test_dependencies(build_cache: Path, tmp_path: Path) -> None:
    """`--extra test` puts the project's test extra into the cell's venv (from PyPI)."""
    project = make_project(tmp_path / "proj")
    text = (project / "pyproject.toml").read_text()
    (project / "pyproject.toml").write_text(
        text.replace(
            'version = "0.3.0"\n',
            'version = "0.3.0"\n[project.optional-dependencies]\ntest = ["pytest>=8"]\n',
            1,
        )
    )
    (project / "tests").mkdir()
    (project / "tests" / "test_ext.py").write_text(
        "import byo_ext\n\ndef test_holder():\n    assert byo_ext.Holder() is not None\n"
    )
    results = tmp_path / "results"
    argv = crate_args(
        project,
        "python -m pytest -q tests",
        "0.21.2",
        "3.11",
        build_cache,
        results,
        "--extra",
        "test",
    )
    assert matrix_cli.main(argv) == 0
    (found,) = records.all_records(Layout(build_cache, results))
    assert found.outcome is Outcome.PASS, found.message
    assert "1 passed" in found.runs[0].stdout_tail


@pytest.mark.build
def test_a_printed_reproduce_command_reproduces_its_cell(build_cache: Path, tmp_path: Path) -> None:
    """The report's "Reproduce that cell" line, pasted into a shell in another folder."""
    import re
    import subprocess

    project = make_project(tmp_path / "proj")
    results = tmp_path / "results"
    argv = crate_args(project, "python repro.py", "0.20.3", "3.11", build_cache, results)
    assert matrix_cli.main(argv) == 0
    report = (results / "report.md").read_text()
    tables = (results / "matrix.md").read_bytes()
    (command,) = re.findall(r"Reproduce that cell: `([^`]+)`", report)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = subprocess.run(
        command + f" --cache {build_cache}",
        shell=True,
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 cells (0 from stored records)" in done.stdout  # built and ran again (--rerun)
    # The same cell, the same key, in a folder of its own: the run's own tables stay in view.
    (again,) = records.all_records(Layout(build_cache, results / "reproduce"))
    (first,) = records.all_records(Layout(build_cache, results))
    assert again.key == first.key and again.outcome is Outcome.ABORT
    assert (results / "matrix.md").read_bytes() == tables
    assert "is unsendable, but sent to another thread" in (again.panic_message or "")


MIXED_LIB = """use pyo3::prelude::*;

#[pyfunction]
fn answer() -> u32 { core_calc::answer() }

#[pymodule]
fn _lib(_py: Python<'_>, m: &PyModule) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(answer, m)?)?;
    Ok(())
}
"""


def make_mixed_project(root: Path) -> Path:
    """maturin's mixed layout (the Python package `mixed/` at the project root, beside
    Cargo.toml) with a pure-Rust core crate in the project folder whose dev-dependency the
    sdist does not ship: the shape of many real projects."""
    files = {
        "Cargo.toml": '[package]\nname = "mixed"\nversion = "0.1.0"\nedition = "2021"\n\n'
        '[lib]\nname = "mixed_ext"\ncrate-type = ["cdylib"]\n\n'
        '[dependencies]\npyo3 = { version = "0.21.0", features = ["extension-module"] }\n'
        'core-calc = { path = "core" }\n',
        "src/lib.rs": MIXED_LIB,
        "core/Cargo.toml": '[package]\nname = "core-calc"\nversion = "0.1.0"\nedition = "2021"\n\n'
        '[dev-dependencies]\nbench-helpers = { path = "../bench-helpers" }\n',
        "core/src/lib.rs": "pub fn answer() -> u32 { 42 }\n",
        "pyproject.toml": '[build-system]\nrequires = ["maturin>=1,<2"]\nbuild-backend = "maturin"\n\n'
        '[project]\nname = "mixed"\nversion = "0.1.0"\n\n[tool.maturin]\nmodule-name = "mixed._lib"\n',
        "mixed/__init__.py": "from ._lib import answer\n",
        "checks/smoke.py": "import mixed\nassert mixed.answer() == 42, mixed.answer()\n",
    }
    return write_files(root, files)


@pytest.mark.build
def test_a_mixed_layout_with_a_core_crate_beside_it(build_cache: Path, tmp_path: Path) -> None:
    """The import check imports the installed wheel, not the source package at the project
    root; the core crate stays a plain path dependency (its dev-dependencies are not loaded)."""
    project = make_mixed_project(tmp_path / "mixed")
    results = tmp_path / "results"
    argv = crate_args(project, "python checks/smoke.py", "0.21.2", "3.11", build_cache, results)
    assert matrix_cli.main(argv) == 0
    (record,) = records.all_records(Layout(build_cache, results))
    assert record.outcome is Outcome.PASS, (record.outcome, record.note)


@pytest.mark.build
def test_a_script_at_the_root_of_a_mixed_layout_runs_the_wheel(
    build_cache: Path, tmp_path: Path
) -> None:
    """The README's first command in a mixed-layout project: `repro.py` beside the source
    package `mixed/` imports the installed wheel (and still reads the project's files by
    relative paths); a module file left in the script's way is a setup-error naming it."""
    project = make_mixed_project(tmp_path / "mixed")
    write_files(
        project,
        {
            "repro.py": "import mixed\nassert mixed.answer() == 42, mixed.answer()\n"
            "assert open('checks/smoke.py').read().startswith('import mixed')\n",
            "other/mixed.py": "raise ImportError('the source, not the wheel')\n",
            "other/repro.py": "import mixed\nassert mixed.answer() == 42\n",
        },
    )
    results = tmp_path / "results"
    argv = crate_args(project, "python repro.py", "0.21.2", "3.11", build_cache, results)
    assert matrix_cli.main(argv) == 0
    (record,) = records.all_records(Layout(build_cache, results))
    assert record.outcome is Outcome.PASS, (record.outcome, record.message)

    argv = crate_args(project, "python other/repro.py", "0.21.2", "3.11", build_cache, results)
    assert matrix_cli.main(argv) == 0
    (shadowed,) = [
        r for r in records.all_records(Layout(build_cache, results)) if r.key != record.key
    ]
    assert shadowed.outcome is Outcome.SETUP_ERROR
    assert "the run imports mixed from other/mixed.py" in shadowed.note


@pytest.mark.build
def test_a_projects_own_dependencies_come_with_it(build_cache: Path, tmp_path: Path) -> None:
    """The package imports its runtime dependency: installed by default (from PyPI, what it
    resolved to in the record); left out with --no-deps, the cell names the missing module
    (setup-error), never an import-error, which says the extension did not load."""
    project = make_mixed_project(tmp_path / "mixed")
    text = (project / "pyproject.toml").read_text()
    text = text.replace('version = "0.1.0"\n', 'version = "0.1.0"\ndependencies = ["sniffio"]\n')
    write_files(
        project,
        {"pyproject.toml": text, "mixed/__init__.py": "import sniffio\nfrom ._lib import answer\n"},
    )
    results = tmp_path / "results"
    layout = Layout(build_cache, results)
    argv = crate_args(project, "python checks/smoke.py", "0.21.2", "3.11", build_cache, results)
    assert matrix_cli.main(argv) == 0
    (record,) = records.all_records(layout)
    assert record.outcome is Outcome.PASS, (record.outcome, record.message)
    assert [line.split("==")[0] for line in record.installed] == ["sniffio"]

    assert matrix_cli.main([*argv, "--no-deps"]) == 0
    (bare,) = [r for r in records.all_records(layout) if r.key != record.key]
    assert bare.outcome is Outcome.SETUP_ERROR and bare.installed == ()
    assert "the project's dependency sniffio is not installed" in (bare.message or "")


COMPANION_LIB = """use pyo3::prelude::*;

#[pyfunction]
fn data(py: Python<'_>) -> PyResult<PyObject> {
    Ok(pythonize::pythonize(py, &vec![1u32, 2, 3])?.into())
}

#[pymodule]
fn pyz(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(data, m)?)?;
    Ok(())
}
"""


@pytest.mark.build
def test_a_companion_crate_moves_with_each_release(build_cache: Path, tmp_path: Path) -> None:
    """A project on pythonize 0.24 (which accepts pyo3 ^0.24 only): each cell moves pythonize
    to the version that accepts its release, names it, and a release no pythonize accepts
    (0.22.1: pythonize 0.22.0 wants ^0.22.2) is `incompatible`, not built."""
    project = tmp_path / "pyz"
    (project / "src").mkdir(parents=True)
    (project / "Cargo.toml").write_text(
        '[package]\nname = "pyz"\nversion = "0.1.0"\nedition = "2021"\n\n'
        '[lib]\ncrate-type = ["cdylib"]\n\n[dependencies]\n'
        'pyo3 = { version = "0.24.0", features = ["extension-module"] }\npythonize = "0.24"\n'
    )
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["maturin>=1,<2"]\nbuild-backend = "maturin"\n\n'
        '[project]\nname = "pyz"\nversion = "0.1.0"\n'
    )
    (project / "src" / "lib.rs").write_text(COMPANION_LIB)
    (project / "repro.py").write_text("import pyz\nassert pyz.data() == [1, 2, 3], pyz.data()\n")
    results = tmp_path / "results"
    releases = "0.22.1,0.22.6,0.23.5,0.24.2"
    argv = crate_args(project, "python repro.py", releases, "3.11", build_cache, results)
    assert matrix_cli.main(argv) == 0
    found = {r.pyo3: r for r in records.all_records(Layout(build_cache, results))}
    assert found["0.22.1"].outcome is Outcome.INCOMPATIBLE and found["0.22.1"].build is None
    assert found["0.22.1"].note == "no pythonize release accepts pyo3 0.22.1"
    used = {}
    for release in ("0.22.6", "0.23.5", "0.24.2"):
        record = found[release]
        assert record.outcome is Outcome.PASS, (release, record.outcome, record.note)
        assert record.lock is not None
        used[release] = dict(record.lock.companions)["pythonize"]
    assert used == {"0.22.6": "0.22.0", "0.23.5": "0.23.0", "0.24.2": "0.24.0"}
    table = (results / "matrix.md").read_text()
    assert "| 0.22.1 (yanked) | incompatible |" in table
    assert "Companion crates: pythonize 0.22.0 (PyO3 0.22.6); pythonize 0.23.0" in table
    assert "no pythonize release accepts pyo3 0.22.1" in table


BUILD_MODULE_LIB = """use pyo3::prelude::*;
mod build;

#[pyfunction]
fn answer() -> usize { build::answer() }

#[pymodule]
fn byo_ext(_py: Python<'_>, m: &PyModule) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(answer, m)?)?;
    Ok(())
}
"""


@pytest.mark.build
def test_build_output_names_and_a_toolchain_file_leave_the_build_as_it_is(
    build_cache: Path, tmp_path: Path
) -> None:
    """`mod build;` (src/build/) is the project's code, copied and compiled; a path dependency
    outside the project is part of the key (editing it builds again); a rust-toolchain.toml
    asking for a toolchain that is not installed does not swap the compiler the record names."""
    project = make_project(tmp_path / "proj")
    write_files(
        tmp_path,
        {
            "core/Cargo.toml": '[package]\nname = "answer_core"\nversion = "0.1.0"\nedition = "2021"\n',
            "core/src/lib.rs": "pub fn answer() -> usize { 42 }\n",
        },
    )
    write_files(
        project,
        {
            "src/build/mod.rs": "pub fn answer() -> usize { answer_core::answer() }\n",
            "src/lib.rs": BUILD_MODULE_LIB,
            "rust-toolchain.toml": '[toolchain]\nchannel = "1.60.0"\n',
            "smoke.py": "import byo_ext\nassert byo_ext.answer() == 42, byo_ext.answer()\n",
        },
    )
    manifest = project / "Cargo.toml"
    manifest.write_text(
        manifest.read_text().replace(
            "[dependencies]\n", '[dependencies]\nanswer_core = { path = "../core" }\n'
        )
    )
    results = tmp_path / "results"
    argv = crate_args(project, "python smoke.py", "0.21.2", "3.11", build_cache, results)
    layout = Layout(build_cache, results)
    assert matrix_cli.main(argv) == 0
    (first,) = records.all_records(layout)
    assert first.outcome is Outcome.PASS, first.message
    assert "1.60" not in first.toolchain.rustc
    (tmp_path / "core" / "src" / "lib.rs").write_text("pub fn answer() -> usize { 41 }\n")
    assert matrix_cli.main(argv) == 0
    (second,) = [r for r in records.all_records(layout) if r.key != first.key]
    assert second.outcome is Outcome.ERROR and "41" in (second.message or "")


STALE_LOCK_LIB = """use pyo3::prelude::*;

#[pyfunction]
fn answer() -> usize { 42 }

#[pymodule]
fn stale(m: &Bound<'_, PyModule>) -> PyResult<()> {
    pyo3_log::init();
    m.add_function(wrap_pyfunction!(answer, m)?)?;
    Ok(())
}
"""


@pytest.mark.build
def test_a_project_lock_behind_its_manifest_is_brought_in_line(
    build_cache: Path, tmp_path: Path
) -> None:
    """What maturin sdists on PyPI ship (jiter, rustbpe): a lock holding an older companion
    than the cell moves to (pyo3-log 0.13.2, moved to the newest 0.13 that accepts 0.27.2), and
    entries of a workspace member the sdist left out. The build passes --locked: both were a
    setup-error ("cannot update the lock file") before the lock was updated first."""
    project = tmp_path / "stale"
    write_files(
        project,
        {
            "Cargo.toml": '[workspace]\nmembers = ["bindings", "fuzz"]\nresolver = "2"\n',
            "bindings/Cargo.toml": (
                '[package]\nname = "stale"\nversion = "0.1.0"\nedition = "2021"\n\n'
                '[lib]\ncrate-type = ["cdylib"]\n\n[dependencies]\n'
                'pyo3 = { version = "0.27.2", features = ["extension-module"] }\n'
                'pyo3-log = "0.13"\n'
            ),
            "bindings/src/lib.rs": STALE_LOCK_LIB,
            "fuzz/Cargo.toml": (
                '[package]\nname = "fuzz"\nversion = "0.1.0"\nedition = "2021"\n\n'
                '[dependencies]\nitoa = "1"\n'
            ),
            "fuzz/src/lib.rs": "",
            "pyproject.toml": (
                '[build-system]\nrequires = ["maturin>=1,<2"]\nbuild-backend = "maturin"\n\n'
                '[project]\nname = "stale"\nversion = "0.1.0"\n\n'
                '[tool.maturin]\nmanifest-path = "bindings/Cargo.toml"\n'
            ),
            "checks/smoke.py": "import stale\nassert stale.answer() == 42\n",
        },
    )
    cargo = ["cargo", "update", "--manifest-path", str(project / "Cargo.toml")]
    subprocess.run([*cargo, "-p", "pyo3-log", "--precise", "0.13.2"], check=True)
    # As maturin's sdist does: the member is gone, its entries stay in the lock.
    (project / "Cargo.toml").write_text('[workspace]\nmembers = ["bindings"]\nresolver = "2"\n')
    shutil.rmtree(project / "fuzz")
    assert 'name = "fuzz"' in (project / "Cargo.lock").read_text()
    results = tmp_path / "results"
    argv = crate_args(project, "python checks/smoke.py", "0.27.2", "3.11", build_cache, results)
    assert matrix_cli.main(argv) == 0
    (record,) = records.all_records(Layout(build_cache, results))
    assert record.outcome is Outcome.PASS, (record.outcome, record.note)
    assert record.lock is not None
    assert dict(record.lock.companions)["pyo3-log"] != "0.13.2"
    assert 'version = "0.13.2"' in (project / "Cargo.lock").read_text()  # the user's, untouched
