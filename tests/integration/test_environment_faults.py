"""The world changing under a run: crates.io going away, an interpreter vanishing between the
plan and the build. Each cell ends as a `setup-error` record (never a verdict) that says why; the run goes on."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from packaging.version import Version

from pyo3_triage import interpreters
from pyo3_triage.building import toolchain
from pyo3_triage.cells import Cell, Evaluator, Options
from pyo3_triage.outcome import Outcome
from pyo3_triage.reproducers import scenarios
from pyo3_triage.system.paths import Layout
from pyo3_triage.versions.releases import Release

pytestmark = pytest.mark.build
FOUNDING = scenarios.resolve("unsendable_gc_traverse")


def running_interpreter() -> interpreters.Interpreter:
    found = interpreters.probe(Path(sys.executable), "explicit")
    assert found is not None
    return found


def test_crates_io_unreachable_mid_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A release whose lockfile is not resolved yet, with every network request refused."""
    layout = Layout(tmp_path / "cache", tmp_path / "results")
    layout.ensure()
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens on the discard port
    monkeypatch.setenv("CARGO_HOME", str(tmp_path / "cargo-home"))  # no cached index either
    monkeypatch.setenv("CARGO_NET_RETRY", "0")
    interp = running_interpreter()
    evaluator = Evaluator(layout, toolchain.detect(), Options())
    release = Release(Version("0.21.2"), vers="0.21.2")
    cell = Cell(FOUNDING, release, interp)
    record, reused = evaluator.evaluate(cell)
    assert not reused
    assert record.outcome is Outcome.SETUP_ERROR
    assert "cannot resolve pyo3 0.21.2" in record.note
    # The failure is evidence for this run, never a stored answer for the next one.
    assert evaluator.keys.cached_record(cell) is None


def test_interpreter_disappears_between_plan_and_build(tmp_path: Path, build_cache: Path) -> None:
    link = tmp_path / "bin" / "python3"
    link.parent.mkdir()
    os.symlink(sys.executable, link)
    found = interpreters.probe(link, "explicit")
    assert found is not None
    planned = Cell(
        FOUNDING,
        Release(Version("0.21.2"), vers="0.21.2"),
        found.__class__(**{**found.__dict__, "realpath": link}),
    )
    link.unlink()  # gone after the plan was made
    layout = Layout(build_cache, tmp_path / "results")
    layout.ensure()
    record, _ = Evaluator(layout, toolchain.detect(), Options()).evaluate(planned)
    assert record.outcome is Outcome.SETUP_ERROR
    assert "Couldn't find any python interpreters" in record.note
    # Not a property of the inputs: neither the build nor the record is reused next time.
    assert record.transient is True and record.build.transient is True
    assert not layout.build_info(record.build.key).exists()
