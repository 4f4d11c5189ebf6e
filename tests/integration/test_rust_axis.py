"""The Rust toolchain as an axis, for real (build tier): toolchains installed through rustup
when first needed, real PyO3 releases built with each, the MSRV window, an old cargo that
cannot reach crates.io's index building from vendored sources, and a bisect over toolchains.

The library scenario `deny_warnings_non_local_impl` compiles with every toolchain up to Rust
1.82 and, for PyO3 0.19.0-0.21.1, not from 1.83 on (its README)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from factories import REPO

from pyo3_triage.commands import bisect_cli, matrix_cli
from pyo3_triage.outcome import Outcome
from pyo3_triage.store import records
from pyo3_triage.system.paths import Layout

pytestmark = [
    pytest.mark.build,
    pytest.mark.skipif(shutil.which("rustup") is None, reason="needs rustup to choose toolchains"),
]

SCENARIO = str(REPO / "scenarios" / "deny_warnings_non_local_impl")


def _matrix(results: Path, cache: Path, pyo3: str, rust: str) -> list[records.Record]:
    argv = ["--scenario", SCENARIO, "--pyo3", pyo3, "--python", "3.11", "--rust", rust]
    assert matrix_cli.main([*argv, "--cache", str(cache), "--results", str(results)]) == 0
    return list(records.all_records(Layout(cache, results)))


def test_a_matrix_over_toolchains_keeps_each_toolchain_apart(
    tmp_path: Path, build_cache: Path
) -> None:
    results = tmp_path / "results"
    found = _matrix(results, build_cache, "0.20.3,0.21.2", "1.82,1.83")
    table = {(r.pyo3, r.rust): r for r in found}
    assert {cell: r.outcome for cell, r in table.items()} == {
        ("0.20.3", "1.82"): Outcome.PASS,
        ("0.21.2", "1.82"): Outcome.PASS,
        ("0.20.3", "1.83"): Outcome.BUILD_ERROR,
        ("0.21.2", "1.83"): Outcome.PASS,
    }
    failed = table[("0.20.3", "1.83")]
    assert failed.build is not None and "non-local `impl` definition" in (failed.note or "")
    assert failed.build.denied_lint == "#![deny(warnings)]"
    assert failed.toolchain.rustc.startswith("rustc 1.83.")  # what built it, in its own words
    assert table[("0.20.3", "1.82")].toolchain.rustc.startswith("rustc 1.82.")
    assert failed.selection[-2:] == ("--rust", "1.83")
    assert "--rust 1.83" in records.reproduce_command(failed, results)
    text = (results / "matrix.md").read_text()
    assert "### `deny_warnings_non_local_impl` · Rust 1.83" in text
    assert "0.20.3/3.11/Rust 1.83" in text  # the message names the toolchain's cell
    assert text.count("- Toolchain: rustc 1.8") == 2  # both toolchains in the environment


def test_an_old_cargo_builds_from_vendored_sources_and_the_msrv_window_holds(
    tmp_path: Path, build_cache: Path
) -> None:
    """Cargo 1.65 reads crates.io's index from GitHub only: the dependencies of the lock
    resolved for it (Rust-version-aware, lock format 3) are vendored by the newer cargo.
    PyO3 0.26.0 declares Rust 1.74: its cell is not built."""
    found = _matrix(tmp_path / "results", build_cache, "0.20.3,0.26.0", "1.65")
    table = {r.pyo3: r for r in found}
    assert table["0.20.3"].outcome is Outcome.PASS, table["0.20.3"].note
    assert table["0.20.3"].toolchain.rustc.startswith("rustc 1.65.")
    assert table["0.26.0"].outcome is Outcome.UNSUPPORTED and table["0.26.0"].build is None
    assert table["0.26.0"].note == "PyO3 0.26.0 declares Rust 1.74 or newer"
    assert table["0.20.3"].lock is not None
    assert "version = 3" in Path(table["0.20.3"].lock.file).read_text()


def test_a_bisect_over_toolchains_names_the_rustc_that_broke_the_build(
    tmp_path: Path, build_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "results"
    argv = ["--scenario", SCENARIO, "--pyo3", "0.20.3", "--python", "3.11"]
    argv += ["--rust", "1.81..1.84", "--new", "build-error"]
    assert bisect_cli.main([*argv, "--cache", str(build_cache), "--results", str(results)]) == 0
    shown = capsys.readouterr().out
    assert "regressed in 1.83 (1.82: pass -> 1.83: build-error)" in " ".join(shown.split())
    (report,) = results.glob("bisect-deny_warnings_non_local_impl-rust-*.md")
    text = report.read_text()
    assert "Release notes: https://github.com/rust-lang/rust/releases/tag/1.83.0" in text
    assert "Searched 1.81 .. 1.84 (4 candidates)." in text


def test_a_users_crate_on_an_old_toolchain_and_below_its_own_floor(
    tmp_path: Path, build_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The worked `--crate` project (edition 2021, PyO3 0.19): Rust 1.55 is below its
    edition's first Rust, so it is skipped with a note; Rust 1.65 builds it from a lock
    resolved afresh for 1.65 and vendored (its cargo reads crates.io only from GitHub), and
    the founding bug shows as it does on the toolchain on PATH."""
    from factories import crate_args, make_project

    project = make_project(tmp_path / "my-ext")
    results = tmp_path / "results"
    argv = crate_args(
        project, "python repro.py", "0.19.2,0.21.2", "3.11", build_cache, results,
        "--rust", "1.55,1.65",
    )  # fmt: skip
    assert matrix_cli.main(argv) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert "skipping Rust 1.55: the project needs Rust 1.56 or newer (edition 2021)" in said
    found = {(r.pyo3, r.rust): r for r in records.all_records(Layout(build_cache, results))}
    assert {cell: r.outcome for cell, r in found.items()} == {
        ("0.19.2", "1.65"): Outcome.ABORT,
        ("0.21.2", "1.65"): Outcome.PASS,
    }
    lock = found[("0.21.2", "1.65")].lock
    assert lock is not None and "version = 3" in Path(lock.file).read_text()
