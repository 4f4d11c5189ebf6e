"""The crate template renders and compiles on every PyO3 API era (0.16 -> newest)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from packaging.version import Version

from pyo3_triage.building import locks, toolchain
from pyo3_triage.rendering import render, scenarios
from pyo3_triage.running import procs
from pyo3_triage.store.paths import write_if_changed
from pyo3_triage.versions.releases import Release

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


# One release of each API era: GIL-ref module (0.16-0.20), Bound module (0.21-0.22),
# Sync pyclasses (0.23-0.25), `attach` (0.26-0.27), `with_gil` gone (0.28+), newest.
ERA_RELEASES = ["0.16.6", "0.21.2", "0.23.5", "0.26.0", "0.28.3", "0.30.1"]


@pytest.mark.build
@pytest.mark.parametrize("version", ERA_RELEASES)
def test_template_compiles_on_each_era(version: str, build_layout, tmp_path) -> None:
    tools = toolchain.detect()
    release = Release(Version(version), vers=version)
    lock = locks.resolve(build_layout, release, tools)
    assert dict(lock.crates)["pyo3"] == version
    crate = tmp_path / "crate"
    for name, text in render.render_crate(FOUNDING, release.version, version).files:
        write_if_changed(crate / name, text)
    write_if_changed(crate / "Cargo.lock", lock.lock_text)
    env = procs.clean_env(
        PYO3_PYTHON=sys.executable,
        CARGO_TARGET_DIR=str(build_layout.cache / "test-check" / version),
    )
    done = subprocess.run(
        ["cargo", "check", "--locked", "--quiet"],
        cwd=crate,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert os.path.exists(crate / "Cargo.lock")
