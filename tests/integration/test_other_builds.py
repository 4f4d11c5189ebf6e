"""PyPy, a debug CPython and a free-threaded CPython as columns of their own (build tier).

Each test runs when this machine has that build (`.ci/run` installs Debian's PyPy and debug
CPython; a free-threaded CPython is built from source by whoever wants it) and skips with
the reason otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import REPO

from pyo3_triage import interpreters
from pyo3_triage.commands import matrix_cli
from pyo3_triage.outcome import Outcome
from pyo3_triage.store import records
from pyo3_triage.system.paths import Layout

pytestmark = pytest.mark.build


def _column(label: str) -> str:
    found = [i for i in interpreters.discover() if i.python_label == label]
    if not found:
        pytest.skip(f"no {label} interpreter on this machine")
    return label


def _table(
    tmp_path: Path, scenario: str, pyo3: str, python: str, cache: Path
) -> dict[tuple[str, str], Outcome]:
    results = tmp_path / f"results-{scenario}"
    argv = ["--scenario", str(REPO / "scenarios" / scenario), "--pyo3", pyo3, "--python", python]
    assert matrix_cli.main([*argv, "--cache", str(cache), "--results", str(results)]) == 0
    found = records.all_records(Layout(cache, results))
    return {(r.pyo3, r.python_label): r.outcome for r in found}


def test_a_debug_build_aborts_where_the_release_build_passes(
    tmp_path: Path, build_cache: Path
) -> None:
    debug = _column("3.11d")
    table = _table(tmp_path, "gc_untracked_debug", "0.19.2,0.20.0", f"3.11,{debug}", build_cache)
    assert table == {
        ("0.19.2", "3.11d"): Outcome.ABORT,
        ("0.19.2", "3.11"): Outcome.PASS,
        ("0.20.0", "3.11d"): Outcome.PASS,
        ("0.20.0", "3.11"): Outcome.PASS,
    }


def test_pypy_is_its_own_column_with_its_own_window(tmp_path: Path, build_cache: Path) -> None:
    pypy = _column("pp3.9")
    table = _table(tmp_path, "iter_return_value_pypy", "0.19.2,0.20.0", pypy, build_cache)
    assert table == {("0.19.2", "pp3.9"): Outcome.ERROR, ("0.20.0", "pp3.9"): Outcome.PASS}
    outside = _table(tmp_path, "unsendable_gc_traverse", "0.27.2", pypy, build_cache)
    assert outside == {("0.27.2", "pp3.9"): Outcome.UNSUPPORTED}  # dropped in 0.27.0 (#5516)


def test_free_threaded_3_13_is_declared_from_0_23_to_0_28(
    tmp_path: Path, build_cache: Path
) -> None:
    free = _column("3.13t")
    table = _table(tmp_path, "unsendable_gc_traverse", "0.22.6,0.23.5,0.30.1", free, build_cache)
    assert table == {
        ("0.22.6", "3.13t"): Outcome.UNSUPPORTED,
        ("0.23.5", "3.13t"): Outcome.PASS,
        ("0.30.1", "3.13t"): Outcome.UNSUPPORTED,
    }


def test_pyo3s_own_crate_not_compiling_on_a_debug_3_11_is_pyo3_error(
    tmp_path: Path, build_cache: Path
) -> None:
    """0.26.0's `pyo3-ffi` does not compile for a debug 3.11 (fixed in 0.28.3, PyO3 #5847): an
    answer of its own that names the crate, not a `setup-error`."""
    debug = _column("3.11d")
    table = _table(tmp_path, "unsendable_gc_traverse", "0.26.0,0.28.3", debug, build_cache)
    assert table == {("0.26.0", "3.11d"): Outcome.PYO3_ERROR, ("0.28.3", "3.11d"): Outcome.PASS}
    results = tmp_path / "results-unsendable_gc_traverse"
    broken = next(
        r for r in records.all_records(Layout(build_cache, results)) if r.pyo3 == "0.26.0"
    )
    assert broken.note.startswith("PyO3's own crate `pyo3-ffi` does not compile: error[E0425]")
    assert not broken.transient
