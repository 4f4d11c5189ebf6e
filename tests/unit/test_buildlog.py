"""Telling the reproducer's compile errors from cells that could not be set up, on real logs
that maturin and cargo wrote here (tests/data/buildlogs/, made with rustc 1.95, maturin 1.16):
the template crate (`repro`) with a syntax error and with a type error against PyO3 0.21.2,
PyO3 0.20.3's build script refusing CPython 3.13 (a --build-unsupported cell), and PyO3
0.26.0's own `pyo3-ffi` not compiling for Debian's debug CPython 3.11."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from factories import DATA, write_files

from pyo3_triage.building import build
from pyo3_triage.building.build import own_packages
from pyo3_triage.building.buildlog import (
    compiled,
    denied_lint,
    failed_dependency,
    failed_pyo3_crate,
    first_error,
    not_compiled,
    own_code_failed,
    worth_caching,
)
from pyo3_triage.system import procs
from pyo3_triage.system.paths import Layout

LOGS = DATA / "buildlogs"


def log(name: str) -> str:
    return (LOGS / name).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "own", "error"),
    [
        (
            "own-syntax-error.log",
            True,
            "error: this file contains an unclosed delimiter --> src/lib.rs:16:3",
        ),
        ("own-type-error.log", True, "error[E0308]: mismatched types --> src/lib.rs:9:24"),
        (
            "pyo3-refuses-interpreter.log",
            False,
            "build script of pyo3-ffi v0.20.3 failed: the configured Python interpreter version "
            "(3.13) is newer than PyO3's maximum supported version (3.12)",
        ),
    ],
)
def test_real_failures_are_told_apart(name: str, own: bool, error: str) -> None:
    text = log(name)
    assert own_code_failed(text, {"repro"}) is own
    assert first_error(text) == error
    assert worth_caching(False, first_error(text), timed_out=False)  # the same inputs fail again


def test_a_dependency_that_does_not_compile_is_not_the_reproducers_fault() -> None:
    text = log("own-type-error.log").replace(
        "could not compile `repro`", "could not compile `pyo3`"
    )
    assert not own_code_failed(text, {"repro"})


def test_a_dependency_too_new_for_an_old_rust_is_named() -> None:
    """Real: PyO3 0.16.6's lock resolved for Rust 1.48 holds parking_lot_core 0.9.8, which
    declares no rust-version and needs a newer std (built from vendored sources)."""
    text = log("dependency-too-new-for-rust-1.48.log")
    assert not own_code_failed(text, {"repro"})
    assert failed_dependency(text, {"repro"}) == "parking_lot_core"
    assert first_error(text).startswith("error[E0658]: use of unstable library feature")
    assert failed_dependency(log("own-type-error.log"), {"repro"}) is None


PYO3_FFI_ERROR = (
    "error[E0425]: cannot find type `c_int` in this scope --> /root/.cargo/registry/src/"
    "index.crates.io-1949cf8c6b5b557f/pyo3-ffi-0.26.0/src/refcount.rs:150:62"
)


def test_pyo3s_own_crate_that_does_not_compile_is_named() -> None:
    """Real: PyO3 0.26.0 with python3.11-dbg (rustc 1.95): `pyo3-ffi` uses `c_int` imported
    only for 3.12 (fixed in 0.28.3, PyO3 #5847). PyO3's failure, not the reproducer's and not
    a third-party dependency's."""
    text = log("pyo3-ffi-on-debug-3.11.log")
    assert not own_code_failed(text, {"repro"})
    assert failed_pyo3_crate(text, {"repro"}) == "pyo3-ffi"
    assert first_error(text) == PYO3_FFI_ERROR
    note = not_compiled("pyo3-ffi", PYO3_FFI_ERROR)
    assert note == f"PyO3's own crate `pyo3-ffi` does not compile: {PYO3_FFI_ERROR}"
    assert worth_caching(False, note, timed_out=False)  # the same inputs fail again
    # A third-party dependency, the reproducer's own code, a build script: not PyO3's failure.
    assert failed_pyo3_crate(log("dependency-too-new-for-rust-1.48.log"), {"repro"}) is None
    assert not_compiled("parking_lot_core", "e").startswith("dependency `parking_lot_core`")
    assert failed_pyo3_crate(log("own-type-error.log"), {"repro"}) is None
    assert failed_pyo3_crate(log("pyo3-refuses-interpreter.log"), {"repro"}) is None
    both = text + "error: could not compile `repro` (lib) due to 1 previous error\n"
    assert failed_pyo3_crate(both, {"repro"}) is None  # the reproducer's error is the answer


@pytest.mark.parametrize(
    "crate", ["pyo3", "pyo3-ffi", "pyo3-build-config", "pyo3-macros", "pyo3-macros-backend"]
)
def test_every_crate_of_pyo3_counts_as_its_own(crate: str) -> None:
    """From crates.io or from a commit's tree (`git:REV`, same names): PyO3's own either way."""
    text = log("pyo3-ffi-on-debug-3.11.log").replace("`pyo3-ffi` (lib)", f"`{crate}` (lib)")
    assert failed_pyo3_crate(text, {"repro"}) == crate
    assert failed_pyo3_crate(text.replace(f"`{crate}`", "`pyo3-log`"), {"repro"}) is None


def _completed(returncode: int, log_path: Path) -> procs.Completed:
    return procs.Completed(("maturin",), returncode, False, 7.0, "", "", False, log_path)


def test_a_build_where_pyo3_does_not_compile_is_judged_a_cacheable_answer(tmp_path: Path) -> None:
    text = log("pyo3-ffi-on-debug-3.11.log")
    info = build._judged(
        "k", _completed(1, tmp_path / "b.log"), tmp_path / "b.log", text, [], {"repro"}
    )
    assert not info.ok and not info.compile_error and not info.transient
    assert info.pyo3_failed == "pyo3-ffi"
    assert info.error == f"PyO3's own crate `pyo3-ffi` does not compile: {PYO3_FFI_ERROR}"
    third = log("dependency-too-new-for-rust-1.48.log")
    other = build._judged(
        "k", _completed(1, tmp_path / "b.log"), tmp_path / "b.log", third, [], {"repro"}
    )
    assert other.pyo3_failed == "" and not other.compile_error
    assert (other.error or "").startswith("dependency `parking_lot_core` does not compile: ")


def test_a_build_cached_before_pyo3s_failures_were_told_is_read_again(tmp_path: Path) -> None:
    """A build cached as a setup failure ("dependency `pyo3-ffi` does not compile") is read
    back as PyO3's own failure from its log: no rebuild needed."""
    layout = Layout(tmp_path / "cache", tmp_path / "results")
    layout.ensure()
    text = log("pyo3-ffi-on-debug-3.11.log")
    done = _completed(1, tmp_path / "b.log")
    info = build._judged("k", done, tmp_path / "b.log", text, [], {"repro"})
    older = {name: value for name, value in info.as_dict().items() if name != "pyo3_failed"}
    older["error"] = f"dependency `pyo3-ffi` does not compile: {PYO3_FFI_ERROR}"
    layout.build_info("k").parent.mkdir(parents=True, exist_ok=True)
    layout.build_info("k").write_text(json.dumps({**older, "lock": None}))
    layout.cached_build_log("k").write_text(text)
    cached = build._cached(layout, "k", tmp_path / "results" / "b.log")
    assert cached is not None and cached.info.cached
    assert cached.info.pyo3_failed == "pyo3-ffi"
    assert cached.info.error == f"PyO3's own crate `pyo3-ffi` does not compile: {PYO3_FFI_ERROR}"


def test_packages_too_new_for_the_rustc_are_listed() -> None:
    """Real: python-calamine 0.9.1's own lock built with Rust 1.85 (cargo refuses before
    compiling; the packages are listed on the lines below the error)."""
    error = first_error(log("lock-too-new-for-rust-1.85.log"))
    assert error == (
        "error: rustc 1.85.1 is not supported by the following packages: calamine@0.37.0 "
        "requires rustc 1.88, encoding_rs@0.8.44 requires rustc 1.88, quick-xml@0.42.0 "
        "requires rustc 1.86, zip@9.2.2 requires rustc 1.88, zopfli@0.8.4 requires rustc 1.88.0"
    )


@pytest.mark.parametrize(
    ("name", "why"),
    [
        (
            "edition-2024-on-rust-1.74.log",
            "this version of Cargo is older than the `2024` edition, and only supports `2015`, "
            "`2018`, and `2021` editions.",
        ),
        ("edition-2024-on-rust-1.80.log", "feature `edition2024` is required"),
    ],
)
def test_a_manifest_an_old_cargo_cannot_read_says_why(name: str, why: str) -> None:
    """Real: blake3 1.0.11 from PyPI (edition 2024) built with Rust 1.74 and 1.80: cargo's
    reason is under "Caused by:", not on its error line."""
    error = first_error(log(name))
    assert error is not None and error.startswith("error: failed to parse manifest at")
    assert error.endswith(f"Cargo.toml`: {why}")


def test_a_users_package_name_counts_as_own() -> None:
    text = log("own-type-error.log").replace("`repro`", "`my-ext`")
    assert own_code_failed(text, {"my-ext", "my-core"})
    assert not own_code_failed(text, {"repro"})


def test_no_log_is_not_a_compile_error() -> None:
    assert not own_code_failed("", {"repro"})
    assert first_error("") is None


@pytest.mark.parametrize(
    "error",
    [
        "error: failed to download `pyo3 v0.21.2`",
        "💥 maturin failed Caused by: Couldn't find any python interpreters",
    ],
)
def test_failures_of_the_moment_are_not_cached(error: str) -> None:
    assert not worth_caching(False, error, timed_out=False)


def test_own_packages_of_a_workspace(tmp_path: Path) -> None:
    (tmp_path / "Cargo.toml").write_text(
        '[workspace]\nmembers = ["crates/*"]\n[workspace.dependencies]\npyo3 = "0.21"\n'
    )
    for member in ("ext", "core"):
        (tmp_path / "crates" / member).mkdir(parents=True)
        (tmp_path / "crates" / member / "Cargo.toml").write_text(
            f'[package]\nname = "my-{member}"\nversion = "0.1.0"\n'
        )
    assert own_packages(tmp_path / "Cargo.toml", tmp_path) == {"my-ext", "my-core"}
    ext = tmp_path / "crates" / "ext" / "Cargo.toml"
    assert own_packages(ext, tmp_path) == {"my-ext", "my-core"}  # a member's workspace, as cargo's
    assert own_packages(ext, tmp_path / "crates") == {"my-ext"}  # no workspace inside `top`
    assert own_packages(tmp_path / "missing" / "Cargo.toml", tmp_path) == set()


@pytest.mark.parametrize(
    ("log", "lint"),
    [
        ("deny-warnings-attribute.log", "#![deny(warnings)]"),
        ("deny-warnings-flag.log", "-D warnings"),
        ("own-type-error.log", None),
    ],
)
def test_a_warning_the_crate_denies_is_told(log: str, lint: str | None) -> None:
    """A deprecation turned into an error by the crate itself (real rustc 1.95 output)."""
    assert denied_lint((LOGS / log).read_text()) == lint


def test_what_cargo_compiled_is_read_by_package_name() -> None:
    log = (LOGS / "deny-warnings-attribute.log").read_text()
    assert compiled(log, {"lintdeny"}) and compiled(log, {"other", "lintdeny"})
    assert not compiled(log, {"lint"}) and not compiled(log, set())  # a whole name only
    assert not compiled("   Compiling pyo3-ffi v0.23.5\n", {"pyo3"})
    assert compiled("   Compiling pyo3 v0.23.5\n", {"pyo3"})


def test_a_path_dependency_inside_the_project_is_its_own_code(tmp_path: Path) -> None:
    """jiter's sdist: the workspace lists only the bindings crate, which uses the parser crate
    beside it by path; that crate's compile error is the project meeting PyO3's API (a
    build-error), not a dependency's (a setup-error). One outside the project is not its own."""
    write_files(
        tmp_path,
        {
            "proj/Cargo.toml": '[workspace]\nmembers = ["crates/jiter-python"]\n',
            "proj/crates/jiter-python/Cargo.toml": '[package]\nname = "jiter-python"\n\n'
            '[dependencies]\njiter = { path = "../jiter", features = ["python"] }\n'
            'elsewhere = { path = "../../../elsewhere" }\n',
            "proj/crates/jiter/Cargo.toml": '[package]\nname = "jiter"\n\n'
            "[target.'cfg(unix)'.dependencies]\nhelper = { path = \"../helper\" }\n",
            "proj/crates/helper/Cargo.toml": '[package]\nname = "helper"\n',
            "elsewhere/Cargo.toml": '[package]\nname = "elsewhere"\n',
        },
    )
    project = tmp_path / "proj"
    manifest = project / "crates" / "jiter-python" / "Cargo.toml"
    assert own_packages(manifest, project) == {"jiter-python", "jiter", "helper"}
