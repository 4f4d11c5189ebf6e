"""The one place tests make their stand-ins: records with every field a real record has
(overridable by name), an interpreter, a toolchain, a resolved lock, a user's maturin project,
and the paths of this checkout. Both tiers import it (`from factories import ...`): the
conftest.py beside it puts this folder on sys.path."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from packaging.version import Version

from pyo3_triage.building.locks import ResolvedLock
from pyo3_triage.building.toolchain import Toolchain
from pyo3_triage.evidence import RunDetails
from pyo3_triage.interpreters import Interpreter
from pyo3_triage.outcome import Outcome
from pyo3_triage.reproducers.manifests import Project
from pyo3_triage.reproducers.usercrate import UserCrate
from pyo3_triage.store.records import Record

TESTS = Path(__file__).resolve().parent  # tests/: conftest.py, these helpers, data/
REPO = TESTS.parent  # the checkout
DATA = TESTS / "data"  # saved real-world inputs: build logs, index lines, cargo output

# `nox -s matrix --` through this checkout's noxfile, from any folder, with this interpreter.
NOX_MATRIX = (
    sys.executable,
    "-m",
    "nox",
    "-f",
    str(REPO / "noxfile.py"),
    "-s",
    "matrix",
    "--",
)


def make_run(outcome: Outcome = Outcome.PASS, **overrides: Any) -> RunDetails:
    return RunDetails(outcome=outcome, **overrides)


def make_record(outcome: Outcome = Outcome.PASS, *runs: Outcome, **overrides: Any) -> Record:
    """A record of `outcome` (its runs: `runs`, else one run of `outcome`)."""
    fields: dict[str, Any] = dict(
        key="0123456789abcdef01234567",
        scenario="s",
        scenario_hash="h",
        pyo3="0.20.3",
        yanked=False,
        python="3.11.7",
        python_label="3.11",
        executable="/py",
        outcome=outcome,
        runs=tuple(make_run(o) for o in (runs or (outcome,))),
    )
    fields.update(overrides)
    return Record(**fields)


def make_crate(folder: Path, run: str, **overrides: Any) -> UserCrate:
    """A user's crate at `folder` run by `run` (nothing read from disk)."""
    project = Project(folder, ".", "Cargo.toml", ".", ("Cargo.toml",), False, "ext", "", "")
    fields: dict[str, Any] = dict(
        name="ext",
        folder=folder,
        description="",
        timeout=60.0,
        module="ext",
        run=tuple(run.split()),
        source_hash="c0ffee",
        run_inputs="",
        project=project,
    )
    fields.update(overrides)
    return UserCrate(**fields)


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run git in `cwd` as a fixed test identity (`env` adds to it, e.g. fixed dates),
    untouched by the user's git config."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        **(env or {}),
    }
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (relative name -> bytes): equal before and after means that
    nothing in it was written, added or removed."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def write_files(root: Path, files: dict[str, str]) -> Path:
    """A folder holding `files` (relative name -> text), folders made as needed; `root`."""
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


# --- stand-ins for what a real run discovers or resolves -----------------------------------

# What `Toolchain.find()` reports on a machine with rustc 1.95 and maturin 1.16.
TOOLS = Toolchain(
    "rustc 1.95.0\nhost: x", "cargo 1.95.0", "maturin 1.16.0", "uv 0.13", "c", "m", "u"
)

# A resolved Cargo.lock for PyO3 0.20.3 (its text is not a real lockfile; nothing reads it).
LOCK = ResolvedLock("0.20.3", "# lock\n", (("pyo3", "0.20.3"),), ())


def interp(
    version: str,
    free_threaded: bool = False,
    source: str = "pyenv",
    path: str | None = None,
    implementation: str = "cpython",
    debug: bool = False,
) -> Interpreter:
    """An interpreter `version` as discovery would find it under `source` (nothing on disk):
    CPython unless `implementation` says "pypy"; free-threaded or debug when asked."""
    marks = ("t" if free_threaded else "") + ("d" if debug else "")
    exe = Path(path or f"/opt/{implementation}/{version}{marks}/{source}/bin/python3")
    v = Version(version)
    soabi = f"cpython-{v.major}{v.minor}{marks}-x86_64-linux-gnu"
    if implementation == "pypy":
        soabi = f"pypy{v.major}{v.minor}-pp73-x86_64-linux-gnu"
    return Interpreter(v, exe, exe, implementation, free_threaded, soabi, source, debug)


# --- a user's own maturin project (`--crate`): the founding bug as a stand-alone crate ------

CARGO = """[package]
name = "byo"
version = "0.3.0"
edition = "2021"

[lib]
name = "byo_ext"
crate-type = ["cdylib"]

[dependencies]
pyo3 = { version = "0.19.0", features = ["extension-module"] }
"""
PYPROJECT = """[build-system]
requires = ["maturin>=1,<2"]
build-backend = "maturin"

[project]
name = "byo"
version = "0.3.0"

[tool.maturin]
module-name = "byo_ext"
"""
LIB = """use pyo3::prelude::*;
use pyo3::{PyTraverseError, PyVisit};

#[pyclass(unsendable)]
struct Holder { other: Option<Py<Holder>> }

#[pymethods]
impl Holder {
    #[new]
    fn new() -> Self { Holder { other: None } }
    fn hold(&mut self, other: Py<Holder>) { self.other = Some(other); }
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        if let Some(o) = &self.other { visit.call(o)?; }
        Ok(())
    }
    fn __clear__(&mut self) { self.other = None; }
}

#[pymodule]
fn byo_ext(_py: Python<'_>, m: &PyModule) -> PyResult<()> {
    m.add_class::<Holder>()?;
    Ok(())
}
"""
REPRO = """import gc, threading
import byo_ext
gc.disable()
a, b = byo_ext.Holder(), byo_ext.Holder()
a.hold(b); b.hold(a)
del a, b
t = threading.Thread(target=gc.collect); t.start(); t.join()
"""


def make_project(root: Path) -> Path:
    """The project at `root` (made): Cargo.toml on PyO3 0.19, pyproject.toml, src/lib.rs and
    repro.py, which crashes where the founding bug does."""
    (root / "src").mkdir(parents=True)
    (root / "Cargo.toml").write_text(CARGO)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "src" / "lib.rs").write_text(LIB)
    (root / "repro.py").write_text(REPRO)
    return root


def crate_args(
    project: Path, run: str, pyo3: str, python: str, cache: Path, results: Path, *extra: str
) -> list[str]:
    """The matrix arguments of a `--crate` test: the project, its run command and the cell."""
    return [
        "--crate",
        str(project),
        "--run",
        run,
        "--pyo3",
        pyo3,
        "--python",
        python,
        *extra,
        "--cache",
        str(cache),
        "--results",
        str(results),
    ]


def fingerprint(root: Path) -> str:
    """One hash of every file under `root`: equal before and after means untouched."""
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return hashlib.sha256(b"".join(p.read_bytes() for p in files)).hexdigest()
