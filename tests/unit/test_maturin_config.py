"""A project's own maturin configuration decides its build: the bindings crate in a subfolder
named by the root pyproject's `[tool.maturin] manifest-path`, its own packages read from
that manifest, and maturin's "no init symbol" warning a failed build, not a wheel.

The logs are real (tests/data/buildlogs/, rustc 1.95, maturin 1.16): safetensors 0.4.5 from
PyPI (bindings in `bindings/python`, `python-source`, `module-name`, `features` in the root
pyproject) on CPython 3.11, built against PyO3 0.22.6 with `--manifest-path` (as before: the
root pyproject unread) and against PyO3 0.20.3 from the project's root."""

from __future__ import annotations

from pathlib import Path

from factories import DATA, TOOLS, interp, write_files
from packaging.version import Version

from pyo3_triage.building import build
from pyo3_triage.building.build import Prepared, own_packages
from pyo3_triage.building.buildlog import first_error, missing_init_symbol
from pyo3_triage.system import procs
from pyo3_triage.versions.releases import Release

ROOT_PYPROJECT = (
    '[project]\nname = "safe"\n\n[tool.maturin]\npython-source = "py_src"\n'
    'module-name = "safe._rust"\nfeatures = ["pyo3/extension-module"]\n'
    'manifest-path = "bindings/python/Cargo.toml"\n'
)
BINDINGS = (
    '[package]\nname = "safe-python"\nversion = "0.1.0"\n\n[lib]\nname = "safe_rust"\n'
    'crate-type = ["cdylib"]\n\n[dependencies]\npyo3 = "0.22"\nsafe = { path = "../../safe" }\n'
)


def log(name: str) -> str:
    return (DATA / "buildlogs" / name).read_text(encoding="utf-8")


def bindings_project(root: Path) -> Path:
    """safetensors' shape: no Cargo.toml at the root, the core crate beside the bindings."""
    return write_files(
        root,
        {
            "pyproject.toml": ROOT_PYPROJECT,
            "bindings/python/Cargo.toml": BINDINGS + "\n[workspace]\n",  # as the copy isolates it
            "safe/Cargo.toml": '[package]\nname = "safe"\nversion = "0.1.0"\n',
        },
    )


def test_own_packages_come_from_the_manifest_maturin_builds(tmp_path: Path) -> None:
    """The bindings crate maturin builds, and the core crate beside it it uses by path."""
    root = bindings_project(tmp_path)
    found = own_packages(root / "bindings" / "python" / "Cargo.toml", root)
    assert found == {"safe-python", "safe"}


def prepared(root: Path) -> Prepared:
    return Prepared(root / "bindings" / "python" / "Cargo.toml", root)


def job(profile: str = "dev") -> build.Job:
    release = Release(Version("0.22.6"), vers="0.22.6")
    crate: build.Crate = None  # type: ignore[assignment]  # the command line does not read it
    return build.Job("safe", release, None, interp("3.11.7"), profile, None, crate, "k")


def test_maturin_runs_from_the_pyproject_that_names_the_manifest(tmp_path: Path) -> None:
    """As `maturin build` from the project's root: maturin then reads the root pyproject's
    python-source, module-name and features itself."""
    argv = build._maturin_argv(job(), TOOLS, prepared(bindings_project(tmp_path)), tmp_path)
    assert "--manifest-path" not in argv
    assert argv[-2:] == ["--profile", "dev"]  # the matrix's profile, over the project's


def test_a_crate_whose_pyproject_names_no_manifest_is_named_to_maturin(tmp_path: Path) -> None:
    root = bindings_project(tmp_path)
    (root / "pyproject.toml").write_text('[project]\nname = "safe"\n')
    argv = build._maturin_argv(job("release"), TOOLS, prepared(root), tmp_path)
    manifest = argv.index("--manifest-path") + 1
    assert argv[manifest] == str(root / "bindings" / "python" / "Cargo.toml")
    assert argv[-1] == "--release" and "--profile" not in argv
    # a pyproject naming another manifest than the one built does not stand for it
    (root / "pyproject.toml").write_text(ROOT_PYPROJECT.replace("bindings/python/", ""))
    assert not build.names_manifest(prepared(root))


def completed(returncode: int) -> procs.Completed:
    return procs.Completed(("maturin",), returncode, False, 1.0, "", "", False, None)


def test_a_library_without_its_init_symbol_is_a_failed_build_not_a_wheel() -> None:
    """Real: safetensors built with --manifest-path, its root pyproject unread; maturin
    still made a wheel, which Python could not import."""
    text = log("init-symbol-missing.log")
    said = (
        "Couldn't find the symbol `PyInit_safetensors_rust` or `PyModExport_safetensors_rust` "
        "in the native library. Python will fail to import this module. If you're using pyo3, "
        "check that `#[pymodule]` uses `safetensors_rust` as module name"
    )
    assert missing_init_symbol(text) == said
    wheel = [Path("/w/safetensors_python-0.4.5-cp311-cp311-linux_x86_64.whl")]
    info = build._judged("k", completed(0), Path("/b.log"), text, wheel, {"safetensors-python"})
    assert not info.ok and info.wheel is None and info.error == said
    assert info.compile_error and not info.transient  # the project's build-error, kept


def test_a_compile_error_in_the_bindings_crate_is_the_projects_own() -> None:
    """Real: safetensors 0.4.5 against PyO3 0.20.3, built from the project's root: its own
    code fails (build-error), not a dependency (setup-error)."""
    text = log("bindings-in-a-subfolder-type-error.log")
    assert missing_init_symbol(text) is None
    assert first_error(text) == "error[E0432]: unresolved import `pyo3::Bound` --> src/lib.rs:9:5"
    info = build._judged("k", completed(1), Path("/b.log"), text, [], {"safetensors-python"})
    assert info.compile_error and not info.ok and not info.transient
    assert info.error == first_error(text)  # no "dependency ... does not compile"


def test_a_stale_library_stays_a_failure_of_the_moment_even_without_its_init_symbol() -> None:
    """The library this build did not compile may be another reproducer's: built again."""
    text = log("init-symbol-missing.log")
    wheel = [Path("/w/safetensors_python-0.4.5-cp311-cp311-linux_x86_64.whl")]
    info = build._judged("k", completed(0), Path("/b.log"), text, wheel, {"someone-else"})
    assert not info.ok and info.transient and not info.compile_error
    assert "stale target dir" in (info.error or "")
