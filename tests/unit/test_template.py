"""The crate template renders for every PyO3 API era (0.16 -> newest); that it compiles on each:
integration/test_template_build.py."""

from __future__ import annotations

import pytest
from packaging.version import Version

from pyo3_triage.building import template as render
from pyo3_triage.reproducers import scenarios

FOUNDING = scenarios.resolve("unsendable_gc_traverse")


def test_era_values_switch_at_their_release() -> None:
    assert render.era_for(Version("0.20.3"))["module_signature"].endswith("&PyModule")
    assert "Bound" in render.era_for(Version("0.21.0"))["module_signature"]
    assert render.era_for(Version("0.25.1"))["attach"] == "Python::with_gil"
    assert render.era_for(Version("0.26.0"))["attach"] == "Python::attach"
    # A pre-release counts as its release: 0.21.0-beta.0 already had the Bound API.
    assert "Bound" in render.era_for(Version("0.21.0b0"))["module_signature"]


def test_too_old_release_is_a_user_error() -> None:
    with pytest.raises(Exception, match="0.16.0 and newer"):
        render.era_for(Version("0.15.2"))


def test_rendered_crate_holds_scenario_and_module() -> None:
    crate = render.render_crate(FOUNDING, Version("0.20.3"), "0.20.3")
    lib = crate.text("src/lib.rs")
    assert "fn unsendable_gc_traverse(_py: Python<'_>, m: &PyModule)" in lib
    assert "m.add_class::<Node>()?;" in lib
    assert "fn __traverse__" in lib
    manifest = crate.text("Cargo.toml")
    assert 'pyo3 = { version = "0.20.3", features = ["extension-module"] }' in manifest
    assert 'name = "unsendable_gc_traverse"' in manifest
    assert 'module-name = "unsendable_gc_traverse"' in crate.text("pyproject.toml")


def test_manifest_is_the_same_for_every_scenario_but_the_lib_name() -> None:
    """One resolved Cargo.lock per release fits every scenario only if this holds."""
    a = render.render_manifest(Version("0.21.0"), "0.21.0", "first")
    b = render.render_manifest(Version("0.21.0"), "0.21.0", "second")
    assert a.replace("first", "second") == b
    assert 'name = "repro"' in a


def test_scenario_source_can_use_era_and_since(tmp_path) -> None:
    folder = tmp_path / "eraful"
    folder.mkdir()
    (folder / "scenario.toml").write_text('functions = ["f"]\n')
    (folder / "driver.py").write_text("import eraful\n")
    (folder / "lib.rs").write_text(
        '{% if since("0.23.0") %}// new{% else %}// old{% endif %}\n'
        "#[pyfunction]\nfn f() -> usize { {{ era.attach }}(|_py| 1) }\n"
    )
    scenario = scenarios.load(folder)
    old = render.render_crate(scenario, Version("0.22.6"), "0.22.6").text("src/lib.rs")
    new = render.render_crate(scenario, Version("0.26.0"), "0.26.0").text("src/lib.rs")
    assert "// old" in old and "Python::with_gil(" in old
    assert "// new" in new and "Python::attach(" in new
    assert "m.add_function(wrap_pyfunction!(f, m)?)?;" in new
