"""Bring your own reproducer: a user's maturin project, its pyo3 dependency rewritten per
release in a copy (the user's files untouched), built, run by the user's command, tabulated."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from pyo3_triage import cli, records, usercrate
from pyo3_triage.errors import UserError
from pyo3_triage.outcome import Outcome
from pyo3_triage.paths import Layout

CARGO = """[package]
name = "byo"
version = "0.3.0"
edition = "2021"

[lib]
name = "byo_ext"
crate-type = ["cdylib"]

[dependencies]
pyo3 = { version = "0.19.0", features = ["extension-module"] }
"""
PYPROJECT = """[build-system]
requires = ["maturin>=1,<2"]
build-backend = "maturin"

[project]
name = "byo"
version = "0.3.0"

[tool.maturin]
module-name = "byo_ext"
"""
LIB = """use pyo3::prelude::*;
use pyo3::{PyTraverseError, PyVisit};

#[pyclass(unsendable)]
struct Holder { other: Option<Py<Holder>> }

#[pymethods]
impl Holder {
    #[new]
    fn new() -> Self { Holder { other: None } }
    fn hold(&mut self, other: Py<Holder>) { self.other = Some(other); }
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        if let Some(o) = &self.other { visit.call(o)?; }
        Ok(())
    }
    fn __clear__(&mut self) { self.other = None; }
}

#[pymodule]
fn byo_ext(_py: Python<'_>, m: &PyModule) -> PyResult<()> {
    m.add_class::<Holder>()?;
    Ok(())
}
"""
REPRO = """import gc, threading
import byo_ext
gc.disable()
a, b = byo_ext.Holder(), byo_ext.Holder()
a.hold(b); b.hold(a)
del a, b
t = threading.Thread(target=gc.collect); t.start(); t.join()
"""


def make_project(root: Path) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "Cargo.toml").write_text(CARGO)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "src" / "lib.rs").write_text(LIB)
    (root / "repro.py").write_text(REPRO)
    return root


def fingerprint(root: Path) -> str:
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return hashlib.sha256(b"".join(p.read_bytes() for p in files)).hexdigest()


def test_load_reads_module_and_command(tmp_path: Path) -> None:
    scenario = usercrate.load(str(make_project(tmp_path / "proj")), "python repro.py --fast")
    assert scenario.module == "byo_ext"
    assert scenario.run == ("python", "repro.py", "--fast")
    assert scenario.crate == (tmp_path / "proj").resolve()


def test_prepare_rewrites_only_the_copy(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    before = fingerprint(project)
    scenario = usercrate.load(str(project), "python repro.py")
    usercrate.prepare(scenario, "0.21.2", tmp_path / "copy")
    copied = (tmp_path / "copy" / "Cargo.toml").read_text()
    assert 'version = "0.21.2"' in copied and '"extension-module"' in copied
    assert fingerprint(project) == before


@pytest.mark.parametrize(
    ("files", "run", "expect"),
    [({}, "python repro.py", "no Cargo.toml"),
     ({"Cargo.toml": "[package]\nname='x'\n"}, "python repro.py", "no \\[dependencies\\] pyo3"),
     ({"Cargo.toml": CARGO}, "", "--run is empty"),
     ({"Cargo.toml": CARGO}, "python 'unclosed", "cannot be split")],
)  # fmt: skip
def test_bad_projects_are_one_line_errors(
    tmp_path: Path, files: dict[str, str], run: str, expect: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(UserError, match=expect):
        usercrate.load(str(tmp_path), run)


@pytest.mark.build
def test_a_users_project_gets_the_same_table(build_cache: Path, tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    before = fingerprint(project)
    results = tmp_path / "results"
    argv = ["--crate", str(project), "--run", "python repro.py", "--pyo3", "0.20.3,0.21.2",
            "--python", "3.11", "--cache", str(build_cache), "--results", str(results)]  # fmt: skip
    assert cli.main(argv) == 0
    found = {r.pyo3: r for r in records.all_records(Layout(build_cache, results))}
    assert found["0.20.3"].outcome is Outcome.ABORT
    assert "is unsendable, but sent to another thread" in (found["0.20.3"].panic_message or "")
    assert found["0.21.2"].outcome is Outcome.PASS
    assert set(found["0.21.2"].lock["crates"].values()) == {"0.21.2"}
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
    argv = ["--crate", str(project), "--run", f"python {smoke}", "--pyo3", "0.21.2",
            "--python", "3.11", "--cache", str(build_cache), "--results", str(results)]  # fmt: skip
    layout = Layout(build_cache, results)
    assert cli.main(argv) == 0
    (first,) = records.all_records(layout)
    assert first.outcome is Outcome.PASS
    smoke.write_text("import byo_ext\nraise AssertionError('the smoke test changed')\n")
    assert cli.main(argv) == 0
    (newest,) = [r for r in records.all_records(layout) if r.key != first.key]
    assert newest.outcome is Outcome.ERROR
    assert "the smoke test changed" in (newest.message or "")
