"""Build tier: real crates, real PyO3 releases from crates.io, built with maturin and run under
real interpreters found on this machine. Selected by the `build` marker; CI runs it too."""

from __future__ import annotations

import json
import math
import sys

import pytest
from packaging.version import Version

from pyo3_triage import interpreters
from pyo3_triage.building import locks, toolchain
from pyo3_triage.commands import bisect_cli, matrix_cli
from pyo3_triage.outcome import Outcome
from pyo3_triage.store import records
from pyo3_triage.versions.releases import Release

pytestmark = pytest.mark.build


@pytest.fixture(scope="module")
def cpython() -> str:
    """A CPython that PyO3 0.20.3 and 0.21.0 both declare (3.7-3.12), preferring the running one."""
    found = interpreters.discover()
    usable = [
        i for i in found if i.build == "cpython" and Version("3.7") <= i.version < Version("3.13")
    ]
    if not usable:
        pytest.skip("no CPython 3.7-3.12 on this machine")
    running = [i for i in usable if i.version == Version(".".join(map(str, sys.version_info[:3])))]
    return str((running or usable)[-1].executable)


def _records(results) -> dict[tuple[str, str], records.Record]:
    layout_records = results / "records"
    found = {}
    for path in layout_records.glob("*/*.json"):
        record = records.Record.from_json(path.read_text())
        found[(record.scenario, record.pyo3)] = record
    return found


def test_founding_scenario_aborts_on_0_20_3_and_passes_on_0_21_0(build_cache, tmp_path, cpython):
    results = tmp_path / "results"
    argv = [
        "--pyo3",
        "0.20.3,0.21.0",
        "--python",
        cpython,
        "--scenario",
        "unsendable_gc_traverse,unsendable_gc_traverse_workaround",
        "--cache",
        str(build_cache),
        "--results",
        str(results),
    ]
    assert matrix_cli.main(argv) == 0
    found = _records(results)
    broken = found[("unsendable_gc_traverse", "0.20.3")]
    assert broken.outcome is Outcome.ABORT
    assert broken.runs[0].signal == "SIGABRT"
    assert "is unsendable, but sent to another thread" in (broken.panic_message or "")
    assert found[("unsendable_gc_traverse", "0.21.0")].outcome is Outcome.PASS
    assert found[("unsendable_gc_traverse_workaround", "0.20.3")].outcome is Outcome.PASS
    assert found[("unsendable_gc_traverse_workaround", "0.21.0")].outcome is Outcome.PASS
    # Every pyo3* crate of the cell was built at the cell's release, and that is on record.
    assert set(dict(broken.lock.crates).values()) == {"0.20.3"}
    table = (results / "matrix.md").read_text()
    assert "| 0.20.3 | **abort** |" in table
    assert "| 0.21.0 | pass |" in table


def test_identical_second_run_builds_nothing(build_cache, tmp_path, cpython):
    """Fresh results folder, same cache: every build comes from the cache, PyO3 is not compiled."""
    argv = [
        "--pyo3",
        "0.20.3,0.21.0",
        "--python",
        cpython,
        "--scenario",
        "unsendable_gc_traverse",
        "--cache",
        str(build_cache),
    ]
    assert matrix_cli.main([*argv, "--results", str(tmp_path / "first")]) == 0
    assert matrix_cli.main([*argv, "--results", str(tmp_path / "second")]) == 0
    for record in _records(tmp_path / "second").values():
        assert record.build.cached is True
        assert record.build.compiled_pyo3 is False
        assert record.outcome in (Outcome.ABORT, Outcome.PASS)


def test_bisect_narrow_range_finds_the_fix(build_cache, tmp_path, cpython):
    results = tmp_path / "results"
    argv = [
        "--pyo3",
        "0.20.2..0.21.0",
        "--python",
        cpython,
        "--cache",
        str(build_cache),
        "--results",
        str(results),
    ]
    assert bisect_cli.main(argv) == 0
    report = json.loads(next(results.glob("bisect-*.json")).read_text())
    (search,) = report["searches"]
    assert search["kind"] == "boundary"
    assert (search["last_old"], search["first_new"]) == ("0.20.3", "0.21.0")
    assert search["answer"].startswith("fixed in 0.21.0 (0.20.3: abort -> 0.21.0: pass)")
    n = len(search["candidates"])
    assert len(search["probes"]) <= math.ceil(math.log2(n)) + 2
    markdown = next(results.glob("bisect-*.md")).read_text()
    assert "https://github.com/PyO3/pyo3/compare/v0.20.3...v0.21.0" in markdown


def test_sibling_crates_are_pinned_to_the_release(build_layout):
    """A fresh resolve of pyo3 0.18.0 would compile pyo3-build-config 0.18.x newest."""
    release = Release(Version("0.18.0"), vers="0.18.0")
    lock = locks.resolve(build_layout, release, toolchain.detect())
    assert dict(lock.crates)["pyo3-build-config"] == "0.18.0"
    assert lock.mismatched == ()


def test_yanked_release_builds_from_the_pinned_lockfile(build_cache, tmp_path, cpython):
    results = tmp_path / "results"
    argv = [
        "--pyo3",
        "0.23.0",
        "--python",
        cpython,
        "--scenario",
        "unsendable_gc_traverse",
        "--cache",
        str(build_cache),
        "--results",
        str(results),
    ]
    assert matrix_cli.main(argv) == 0
    (record,) = _records(results).values()
    assert record.yanked is True
    assert record.outcome is Outcome.PASS
    assert set(dict(record.lock.crates).values()) == {"0.23.0"}
    assert "0.23.0 (yanked)" in (results / "matrix.md").read_text()


def test_verify_confirms_the_founding_scenario(build_cache, tmp_path):
    """The library's regression check, on the founding scenario (its recorded range and CPython)."""
    from pyo3_triage.commands import verify_cli

    argv = [
        "--scenario",
        "unsendable_gc_traverse",
        "--cache",
        str(build_cache),
        "--results",
        str(tmp_path / "results"),
    ]
    assert verify_cli.main(argv) == 0


def test_bisect_refines_into_yanked_releases(build_cache, tmp_path, cpython):
    """`vec_u8_return` changed in 0.23.0, which crates.io yanked: the first pass sees only
    0.22.6 and 0.23.3, then refinement probes the yanked 0.23.x between them."""
    results = tmp_path / "results"
    argv = [
        "--pyo3",
        "0.22.6..0.23.3",
        "--scenario",
        "vec_u8_return",
        "--python",
        cpython,
        "--cache",
        str(build_cache),
        "--results",
        str(results),
    ]
    assert bisect_cli.main(argv) == 0
    (search,) = json.loads(next(results.glob("bisect-*.json")).read_text())["searches"]
    assert (search["last_old"], search["first_new"]) == ("0.22.6", "0.23.0")
    assert search["answer"].startswith("fixed in 0.23.0 (yanked)")
    assert "0.23.0" in search["yanked"]
    assert "Yanked on crates.io: 0.23.0" in next(results.glob("bisect-*.md")).read_text()
