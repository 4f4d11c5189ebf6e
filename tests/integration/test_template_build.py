"""The crate template compiles against a release of each era it covers (build tier)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from packaging.version import Version

from pyo3_triage.building import locks, toolchain
from pyo3_triage.building import template as render
from pyo3_triage.reproducers import scenarios
from pyo3_triage.system import procs
from pyo3_triage.system.paths import write_if_changed
from pyo3_triage.versions.releases import Release

FOUNDING = scenarios.resolve("unsendable_gc_traverse")
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
