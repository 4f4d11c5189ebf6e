"""Scenario folders: the two shipped ones load as documented, bad names and bad metadata are
one-line user errors, and the hashes separate "rebuild" from "only rerun"."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import REPO

from pyo3_triage.errors import UserError
from pyo3_triage.reproducers import scenarios
from pyo3_triage.reproducers.scenarios import DEFAULT_TIMEOUT, Scenario, available, load, resolve

LIBRARY = REPO / "scenarios"
FOUNDING = "unsendable_gc_traverse"
WORKAROUND = "unsendable_gc_traverse_workaround"

RUST = "#[pyclass]\nstruct Thing {}\n"
DRIVER = "import my_scenario\nprint('ok')\n"


def one_line_error(spec: str, root: Path = LIBRARY) -> str:
    with pytest.raises(UserError) as caught:
        resolve(spec, root)
    message = caught.value.message
    assert message and "\n" not in message and "Traceback" not in message
    return message


def make_folder(
    parent: Path,
    name: str = "my_scenario",
    toml: str = 'description = "mine"\nclasses = ["Thing"]\n',
    rust: str | None = RUST,
    driver: str | None = DRIVER,
) -> Path:
    folder = parent / name
    folder.mkdir(parents=True)
    (folder / "scenario.toml").write_text(toml)
    if rust is not None:
        (folder / "lib.rs").write_text(rust)
    if driver is not None:
        (folder / "driver.py").write_text(driver)
    return folder


# --- the shipped scenarios ----------------------------------------------------------------
def test_library_lists_both_scenarios() -> None:
    assert {FOUNDING, WORKAROUND} <= set(available(LIBRARY))


def test_founding_scenario() -> None:
    scenario = resolve(FOUNDING, LIBRARY)
    assert scenario.name == FOUNDING
    assert scenario.module == FOUNDING
    assert scenario.classes == ("Node",)
    assert scenario.functions == ()
    assert scenario.timeout == 60.0
    assert scenario.upstream == "https://github.com/PyO3/pyo3/issues/3688"
    assert "#[pyclass(unsendable)]" in scenario.rust_source
    assert scenario.driver == (LIBRARY / FOUNDING / "driver.py").resolve()
    assert "threading.Thread(target=gc.collect)" in scenario.driver_source
    assert scenario.metadata["changed_in"] == "0.21.0"
    assert scenario.metadata["default"] is True


def test_workaround_shares_the_rust_side() -> None:
    founding = resolve(FOUNDING, LIBRARY)
    workaround = resolve(WORKAROUND, LIBRARY)
    assert workaround.name == WORKAROUND
    assert workaround.module == FOUNDING  # imports the same extension module
    assert workaround.classes == founding.classes == ("Node",)
    assert workaround.rust_source == founding.rust_source
    assert workaround.driver_source != founding.driver_source
    assert workaround.driver.parent.name == WORKAROUND


def test_workaround_hashes_build_once_run_twice() -> None:
    founding = resolve(FOUNDING, LIBRARY)
    workaround = resolve(WORKAROUND, LIBRARY)
    assert workaround.build_hash == founding.build_hash
    assert workaround.run_hash != founding.run_hash


def test_resolve_many_keeps_order_and_rejects_duplicates() -> None:
    chosen = scenarios.resolve_many([WORKAROUND, FOUNDING], LIBRARY)
    assert [s.name for s in chosen] == [WORKAROUND, FOUNDING]
    with pytest.raises(UserError, match="distinct"):
        scenarios.resolve_many([FOUNDING, str(LIBRARY / FOUNDING)], LIBRARY)


# --- resolve errors -----------------------------------------------------------------------
def test_unknown_name_lists_the_known_ones() -> None:
    message = one_line_error("no_such_scenario")
    assert "unknown scenario 'no_such_scenario'" in message
    assert FOUNDING in message and WORKAROUND in message


@pytest.mark.parametrize(
    "spec",
    [
        "a;rm -rf ~",
        "$(x)",
        "`x`",
        "a b",
        "name\n",
        "-rf",
        "",
        "x" * 65,
    ],
    ids=["semicolon", "subshell", "backticks", "space", "newline", "dash", "empty", "too-long"],
)
def test_names_with_metacharacters_are_refused(spec: str) -> None:
    message = one_line_error(spec)
    assert "scenario" in message


@pytest.mark.parametrize(
    "spec",
    [
        "..",
        "/..",
        "../..",
        f"{FOUNDING}/..",
        f"./{FOUNDING}/../..",
        "~/definitely-not-a-scenario-folder",
    ],
)
def test_traversal_specs_never_load_anything(
    spec: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    message = one_line_error(spec)
    assert "scenario" in message


def test_missing_folder_path(tmp_path: Path) -> None:
    message = one_line_error(str(tmp_path / "nowhere"))
    assert "does not exist" in message and "nowhere" in message


def test_folder_without_metadata(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    message = one_line_error(str(tmp_path / "empty"))
    assert "scenario.toml" in message


def test_invalid_toml(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, toml='description = "unterminated\nclasses = [\n')
    message = one_line_error(str(folder))
    assert "not valid TOML" in message


@pytest.mark.parametrize("value", ["0", "-1", '"x"', "true", "-0.5", "[60]"])
def test_bad_timeout(tmp_path: Path, value: str) -> None:
    folder = make_folder(tmp_path, toml=f"timeout = {value}\n")
    assert "timeout" in one_line_error(str(folder))


def test_nan_timeout_is_refused(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, toml="timeout = nan\n")
    assert "timeout" in one_line_error(str(folder))


def test_default_and_fractional_timeout(tmp_path: Path) -> None:
    assert resolve(str(make_folder(tmp_path / "a", toml=""))).timeout == DEFAULT_TIMEOUT
    assert resolve(str(make_folder(tmp_path / "b", toml="timeout = 2.5\n"))).timeout == 2.5


@pytest.mark.parametrize(
    "value",
    ['["1Node"]', '["Node-x"]', '["Node; drop"]', '"Node"', "[1]", '[""]', '["a b"]'],
)
@pytest.mark.parametrize("key", ["classes", "functions"])
def test_classes_and_functions_must_be_identifiers(tmp_path: Path, key: str, value: str) -> None:
    folder = make_folder(tmp_path, toml=f"{key} = {value}\n")
    message = one_line_error(str(folder))
    assert key in message and "identifiers" in message


def test_rust_file_missing(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, rust=None)
    assert "'lib.rs' not found" in one_line_error(str(folder))


def test_named_rust_file_missing(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, toml='rust = "../elsewhere/lib.rs"\n')
    assert "'../elsewhere/lib.rs' not found" in one_line_error(str(folder))


def test_driver_missing(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, driver=None)
    assert "'driver.py' not found" in one_line_error(str(folder))


@pytest.mark.parametrize("module", ["my-mod", "1abc", "a.b", "a b", ""])
def test_module_must_be_an_identifier(tmp_path: Path, module: str) -> None:
    folder = make_folder(tmp_path, toml=f'module = "{module}"\n')
    assert "module name" in one_line_error(str(folder))


@pytest.mark.parametrize(
    "toml", ['module = "ext\\n"\n', 'classes = ["Node\\n"]\n'], ids=["module", "classes"]
)
def test_trailing_newline_is_not_an_identifier(tmp_path: Path, toml: str) -> None:
    folder = make_folder(tmp_path, toml=toml)
    one_line_error(str(folder))


def test_folder_name_with_dash_gives_module_with_underscore(tmp_path: Path) -> None:
    scenario = resolve(str(make_folder(tmp_path, name="my-scenario", toml="")))
    assert scenario.name == "my-scenario"
    assert scenario.module == "my_scenario"


def test_load_directly_without_metadata_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="has no scenario.toml"):
        load(tmp_path)


def test_non_string_text_fields_are_user_errors(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, toml="description = 3\n")
    assert "description must be a string" in one_line_error(str(folder))


# --- folders anywhere on disk -------------------------------------------------------------
def test_folder_anywhere_on_disk_by_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = make_folder(tmp_path / "deep" / "er")
    scenario = resolve(str(folder))
    assert scenario.name == "my_scenario"
    assert scenario.module == "my_scenario"
    assert scenario.classes == ("Thing",)
    assert scenario.description == "mine"
    assert scenario.rust_source == RUST
    assert scenario.driver_source == DRIVER
    assert scenario.folder == folder.resolve()
    monkeypatch.chdir(tmp_path / "deep")
    assert resolve("./er/my_scenario") == scenario


def test_library_root_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_folder(tmp_path, name="elsewhere", toml="")
    monkeypatch.setenv("PYO3_TRIAGE_SCENARIOS", str(tmp_path))
    assert available() == ["elsewhere"]
    assert resolve("elsewhere").name == "elsewhere"
    with pytest.raises(UserError, match="known scenarios: elsewhere"):
        resolve(FOUNDING)


def _reload(folder: Path) -> Scenario:
    return resolve(str(folder))


def test_editing_the_driver_changes_only_run_hash(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    before = _reload(folder)
    (folder / "driver.py").write_text(DRIVER + "print('more')\n")
    after = _reload(folder)
    assert after.build_hash == before.build_hash
    assert after.run_hash != before.run_hash


def test_editing_the_timeout_changes_only_run_hash(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, toml="timeout = 10\n")
    before = _reload(folder)
    (folder / "scenario.toml").write_text("timeout = 11\n")
    after = _reload(folder)
    assert after.build_hash == before.build_hash
    assert after.run_hash != before.run_hash


def test_editing_the_rust_changes_both_hashes(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    before = _reload(folder)
    (folder / "lib.rs").write_text(RUST + "// a comment is a change too\n")
    after = _reload(folder)
    assert after.build_hash != before.build_hash
    assert after.run_hash != before.run_hash


def test_editing_classes_changes_both_hashes(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    before = _reload(folder)
    (folder / "scenario.toml").write_text('classes = ["Thing", "Other"]\n')
    after = _reload(folder)
    assert after.build_hash != before.build_hash
    assert after.run_hash != before.run_hash


def test_description_does_not_change_hashes(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    before = _reload(folder)
    (folder / "scenario.toml").write_text('description = "reworded"\nclasses = ["Thing"]\n')
    after = _reload(folder)
    assert (after.build_hash, after.run_hash) == (before.build_hash, before.run_hash)


def test_hashes_are_stable_across_loads() -> None:
    first, second = resolve(FOUNDING, LIBRARY), resolve(FOUNDING, LIBRARY)
    assert (first.build_hash, first.run_hash) == (second.build_hash, second.run_hash)


# --- a lib.rs that brings its own #[pymodule] ----------------------------------------------
OWN_MODULE = """#[pyfunction]
fn answer() -> usize { 42 }

#[pymodule]
fn pasted_ext(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(answer, m)?)?;
    Ok(())
}
"""


def test_own_pymodule_names_the_module_and_the_template_writes_none(tmp_path: Path) -> None:
    from packaging.version import Version

    from pyo3_triage.building.template import render_crate

    scenario = load(make_folder(tmp_path, "bug", toml="", rust=OWN_MODULE))
    assert scenario.module == "pasted_ext"
    lib = render_crate(scenario, Version("0.23.5"), "=0.23.5").text("src/lib.rs")
    assert lib.count("#[pymodule]") == 1 and "fn pasted_ext(" in lib
    assert 'name = "pasted_ext"' in render_crate(scenario, Version("0.23.5"), "=0.23.5").text(
        "Cargo.toml"
    )


@pytest.mark.parametrize(
    ("rust", "name"),
    [
        ("#[pymodule]\npub fn a(m: &Bound<'_, PyModule>) -> PyResult<()> { Ok(()) }", "a"),
        ('#[pyo3::pymodule]\n#[pyo3(name = "b")]\nfn inner(_py: Python, m: &PyModule) {}', "b"),
        ("#[pymodule(gil_used = false)]\nmod c {\n}\n", "c"),
        ("// #[pyclass] only\n#[pyfunction]\nfn f() {}", None),
    ],
)
def test_own_module_detection(rust: str, name: str | None) -> None:
    assert scenarios.own_module(rust) == name


def test_own_pymodule_with_another_module_name_is_refused(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, "bug", toml='module = "other"\n', rust=OWN_MODULE)
    with pytest.raises(UserError, match='set module = "pasted_ext"'):
        load(folder)


def test_own_pymodule_with_template_classes_is_refused(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, "bug", toml='functions = ["answer"]\n', rust=OWN_MODULE)
    with pytest.raises(UserError, match="template writes none"):
        load(folder)


def test_template_renders_the_same_crate_for_scenarios_without_their_own_module() -> None:
    """Build keys hash the rendered crate: the own-module switch must not change old renders."""
    from packaging.version import Version

    from pyo3_triage.building.template import render_crate

    lib = render_crate(resolve("vec_u8_return"), Version("0.23.5"), "=0.23.5").text("src/lib.rs")
    assert (
        "fn payload() -> Vec<u8> {\n    vec![1, 2, 3, 255]\n}\n\n\n#[pymodule]\nfn vec_u8_return("
        in lib
    )
    assert lib.endswith("    Ok(())\n}\n")
