"""Bring your own reproducer: a user's maturin project, its pyo3 dependency rewritten per
release in a copy (the user's files untouched), built, run by the user's command, tabulated."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import CARGO, crate_args, fingerprint, make_project, make_record, write_files

from pyo3_triage.commands import cli
from pyo3_triage.errors import UserError
from pyo3_triage.outcome import Outcome
from pyo3_triage.rendering import usercrate
from pyo3_triage.store import records
from pyo3_triage.store.paths import Layout


def test_load_reads_module_and_command(tmp_path: Path) -> None:
    scenario = usercrate.load(str(make_project(tmp_path / "proj")), "python repro.py --fast")
    assert scenario.module == "byo_ext"
    assert scenario.run == ("python", "repro.py", "--fast")
    assert scenario.folder == (tmp_path / "proj").resolve()


def test_prepare_rewrites_only_the_copy(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    before = fingerprint(project)
    scenario = usercrate.load(str(project), "python repro.py")
    usercrate.prepare(scenario, "0.21.2", tmp_path / "copy")
    copied = (tmp_path / "copy" / "Cargo.toml").read_text()
    assert 'version = "0.21.2"' in copied and '"extension-module"' in copied
    assert fingerprint(project) == before


def test_a_whole_copy_is_kept_and_a_half_made_one_replaced(tmp_path: Path) -> None:
    """A run may be using the copy (its command runs there): a whole one is never remade."""
    scenario = usercrate.load(str(make_project(tmp_path / "proj")), "python repro.py")
    copy = tmp_path / "copy"
    usercrate.prepare(scenario, "0.21.2", copy)
    (copy / "written-by-a-run").write_text("kept")
    usercrate.prepare(scenario, "0.21.2", copy)
    assert (copy / "written-by-a-run").is_file()
    half = tmp_path / "half"
    (half / "src").mkdir(parents=True)  # a copy from a killed run: no marker
    (half / "src" / "stale.rs").write_text("")
    usercrate.prepare(scenario, "0.21.2", half)
    assert not (half / "src" / "stale.rs").exists() and (half / "Cargo.toml").is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


@pytest.mark.parametrize(
    ("files", "run", "expect"),
    [
        ({}, "python repro.py", "no Cargo.toml"),
        ({"Cargo.toml": "[package]\nname='x'\n"}, "python repro.py", "has no pyo3 dependency"),
        ({"Cargo.toml": CARGO}, "", "--run is empty"),
        ({"Cargo.toml": CARGO}, "python 'unclosed", "cannot be split"),
        ({"Cargo.toml": CARGO}, "python reproo.py", "--run names reproo.py, which is not in"),
        ({"Cargo.toml": CARGO}, "python -X dev -u ./gone.py --fast", "--run names ./gone.py"),
        ({"Cargo.toml": CARGO}, "python -m pytest -x tests/test_gc.py::test_a", "tests/test_gc.py"),
    ],
)
def test_bad_projects_are_one_line_errors(
    tmp_path: Path, files: dict[str, str], run: str, expect: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(UserError, match=expect):
        usercrate.load(str(tmp_path), run)


@pytest.mark.parametrize(
    "run",
    [
        "python repro.py",
        "python3 -u repro.py --flag missing.py",  # the script's own arguments are its business
        'python -c "import byo_ext"',
        "python -m byo_check",
        "python -m pytest -x -q -k 'gc and not slow'",
        "python -m pytest --junitxml out/report.xml",  # a file pytest will make
        "./run-me.sh",
    ],
)
def test_commands_whose_files_are_there_are_taken(tmp_path: Path, run: str) -> None:
    project = make_project(tmp_path / "proj")
    assert usercrate.load(str(project), run).command


@pytest.mark.build
def test_a_users_project_gets_the_same_table(build_cache: Path, tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    before = fingerprint(project)
    results = tmp_path / "results"
    argv = crate_args(project, "python repro.py", "0.20.3,0.21.2", "3.11", build_cache, results)
    assert cli.main(argv) == 0
    found = {r.pyo3: r for r in records.all_records(Layout(build_cache, results))}
    assert found["0.20.3"].outcome is Outcome.ABORT
    assert "is unsendable, but sent to another thread" in (found["0.20.3"].panic_message or "")
    assert found["0.21.2"].outcome is Outcome.PASS
    assert set(dict(found["0.21.2"].lock.crates).values()) == {"0.21.2"}
    assert fingerprint(project) == before
    assert "| 0.20.3 | **abort** |" in (results / "matrix.md").read_text()


# --- what the run command names is part of the key ----------------------------------------
def test_a_script_outside_the_crate_is_part_of_the_key(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    smoke = tmp_path / "checks" / "smoke.py"
    smoke.parent.mkdir()
    smoke.write_text("import byo_ext\n")
    first = usercrate.load(str(project), "python ../checks/smoke.py -v")
    assert first.run == ("python", str(smoke.resolve()), "-v")  # runs from the copy too
    assert first.run_inputs
    smoke.write_text("import byo_ext\nraise AssertionError('edited')\n")
    edited = usercrate.load(str(project), "python ../checks/smoke.py -v")
    assert edited.run_hash != first.run_hash
    assert edited.build_hash == first.build_hash  # the extension itself need not rebuild


def test_a_test_folder_outside_the_crate_and_option_values_count_too(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    tests = tmp_path / "suite"
    tests.mkdir()
    (tests / "test_a.py").write_text("def test_a(): pass\n")
    config = tmp_path / "pytest.ini"
    config.write_text("[pytest]\n")
    run = f"python -m pytest {tests} -c={config}"
    first = usercrate.load(str(project), run)
    (tests / "test_a.py").write_text("def test_a(): assert False\n")
    second = usercrate.load(str(project), run)
    config.write_text("[pytest]\naddopts = -x\n")
    third = usercrate.load(str(project), run)
    assert len({first.run_hash, second.run_hash, third.run_hash}) == 3
    assert f"-c={config.resolve()}" in first.run


def test_files_inside_the_crate_and_plain_words_are_not_run_inputs(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    scenario = usercrate.load(str(project), "python repro.py --count 3")
    assert scenario.run == ("python", "repro.py", "--count", "3")
    assert scenario.run_inputs == ""


def test_a_huge_folder_named_by_run_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project(tmp_path / "proj")
    big = tmp_path / "big"
    big.mkdir()
    for number in range(4):
        (big / f"f{number}.py").write_text("")
    monkeypatch.setattr(usercrate, "MAX_NAMED_FILES", 3)
    with pytest.raises(UserError, match="more than 3 files"):
        usercrate.load(str(project), f"python -m pytest {big}")


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
    assert cli.main(argv) == 0
    (first,) = records.all_records(layout)
    assert first.outcome is Outcome.PASS
    smoke.write_text("import byo_ext\nraise AssertionError('the smoke test changed')\n")
    assert cli.main(argv) == 0
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
    assert cli.main(argv) == 0
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

    pythons = [i for i in interpreters.discover() if i.minor in ("3.11", "3.12")]
    if len(pythons) < 2:
        pytest.skip("needs CPython 3.11 and 3.12")
    project = make_workspace(tmp_path / "ws", '["extension-module", "abi3-py311"]')
    results = tmp_path / "results"
    argv = crate_args(
        project, "python smoke.py", "0.22.6", "3.11,3.12", build_cache, results, "--abi3"
    )
    assert cli.main(argv) == 0
    found = list(records.all_records(Layout(build_cache, results)))
    assert len(found) == 2 and all(r.outcome is Outcome.PASS for r in found)
    assert {r.abi3 for r in found} == {"abi3-py311"}  # the crate's own floor, not the release's
    assert len({r.build.key for r in found}) == 1  # one build serves both CPythons
    assert "(abi3)" in (results / "matrix.md").read_text()
    # --rerun with both CPython groups at once: the one build is made again once, not once per
    # group, and neither group's copy of the project is remade under the other's run.
    assert cli.main([*argv, "--rerun", "--jobs", "2"]) == 0
    again = list(records.all_records(Layout(build_cache, results)))
    assert len(again) == 2 and all(r.outcome is Outcome.PASS for r in again)
    assert sorted(r.build.cached for r in again) == [False, True]


def test_extra_installs_the_projects_own_extra(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    text = (project / "pyproject.toml").read_text()
    text = text.replace(
        'version = "0.3.0"\n',
        'version = "0.3.0"\ndependencies = ["attrs"]\n'
        '[project.optional-dependencies]\ntest = ["pytest>=8"]\n',
        1,
    )
    (project / "pyproject.toml").write_text(text)
    scenario = usercrate.load(str(project), "python -m pytest", extra="test")
    assert scenario.requirements == ("attrs", "pytest>=8")
    with pytest.raises(UserError, match="no such optional-dependencies entry or dependency group"):
        usercrate.load(str(project), "python -m pytest", extra="docs")
    alone = usercrate.load(str(project), "python -m pytest", extra="dependencies")
    assert alone.requirements == ("attrs",)


def test_extra_names_a_dependency_group_too(tmp_path: Path) -> None:
    """PEP 735 groups, where many projects keep `test`, with their included groups."""
    project = make_project(tmp_path / "proj")
    text = (project / "pyproject.toml").read_text()
    text = text.replace('version = "0.3.0"\n', 'version = "0.3.0"\ndependencies = ["attrs"]\n', 1)
    text += (
        '\n[dependency-groups]\nlint = ["ruff"]\ntest = ["pytest>=8", {include-group = "lint"}]\n'
    )
    (project / "pyproject.toml").write_text(text)
    scenario = usercrate.load(str(project), "python -m pytest", extra="test")
    assert scenario.requirements == ("attrs", "pytest>=8", "ruff")
    with pytest.raises(UserError, match=r"it has: lint \(group\), test \(group\)"):
        usercrate.load(str(project), "python -m pytest", extra="docs")


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
    assert cli.main(argv) == 0
    (found,) = records.all_records(Layout(build_cache, results))
    assert found.outcome is Outcome.PASS, found.message
    assert "1 passed" in found.runs[0].stdout_tail


def test_results_inside_the_crate_are_not_its_content(tmp_path: Path) -> None:
    """`pyo3-triage matrix --crate .` writes ./results inside the crate: never part of its key."""
    project = make_project(tmp_path / "proj")
    layout = Layout(cache=tmp_path / "cache", results=project / "results")
    first = usercrate.load(str(project), "python repro.py").build_hash
    records.save(layout, make_record(key="k" * 24))
    (project / "results" / "matrix.md").write_text("a table\n")
    assert usercrate.load(str(project), "python repro.py").build_hash == first


@pytest.mark.build
def test_a_printed_reproduce_command_reproduces_its_cell(build_cache: Path, tmp_path: Path) -> None:
    """The report's "Reproduce that cell" line, pasted into a shell in another folder."""
    import re
    import subprocess

    project = make_project(tmp_path / "proj")
    results = tmp_path / "results"
    argv = crate_args(project, "python repro.py", "0.20.3", "3.11", build_cache, results)
    assert cli.main(argv) == 0
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
    assert cli.main(argv) == 0
    (record,) = records.all_records(Layout(build_cache, results))
    assert record.outcome is Outcome.PASS, (record.outcome, record.note)


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
    assert cli.main(argv) == 0
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


def test_a_crate_is_named_as_its_package_not_its_folder(tmp_path: Path) -> None:
    """An sdist's folder carries the version (blake3-1.0.11); tables are titled `byo`, and the
    description holds no Markdown the report would show literally."""
    crate = usercrate.load(str(make_project(tmp_path / "byo-0.3.0")), "python repro.py")
    assert crate.name == "byo"
    assert crate.description == "byo, run with: python repro.py" and "`" not in crate.description
