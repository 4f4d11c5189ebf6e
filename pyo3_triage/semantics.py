"""What a stored answer depends on beyond its inputs: the code that derives it from them.

A record key names a cell's inputs (reproducer, release, interpreter, build, options), a build
key a build's (crate, lock, interpreter, toolchain, profile). Neither can see that the code
turning those inputs into an answer changed: a classifier that reads the same crash
differently, an import check that imports something else, a build recipe that builds other
files. So each kind of stored answer carries a semantics version, declared here beside the
source files whose content decides it, and every key of that kind names the version.

`tests/unit/test_semantics.py` fingerprints those files (their code, not comments or
docstrings) against pins in `tests/data/semantics.json`, and fails when one changed while its
version stayed. Then: raise the version here (every answer of that kind made before is made
again), and re-pin with `python tests/unit/test_semantics.py --pin`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pyo3_triage import hashes

PACKAGE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Semantics:
    """One kind of stored answer: the version its keys name, and the files that decide it."""

    name: str
    version: int
    sources: tuple[str, ...]  # under pyo3_triage/

    def fingerprints(self, package: Path = PACKAGE) -> dict[str, str]:
        """Each source file's fingerprint, by its path under the package."""
        return {source: fingerprint(package / source) for source in self.sources}


# A cell's record, from its build on: how the wheel is installed and imported, how a run is
# watched and classified, and how the cell's outcome follows. 1: replaces the harness version
# ("0.2.0"), which stood still while the import check, the message taken from stdout and the
# build-error reasons changed. 2: pyo3-error; a user crate runs in a copy of its own without
# its source package's `__init__.py` files, with its own dependencies installed, a missing
# dependency or a shadowing source is a setup-error; a timeout or SIGKILL is unconfirmed until
# a rerun sees it again; --rerun installs the rebuilt wheel.
RECORD = Semantics(
    "record",
    2,
    (
        "cells.py",
        "outcome.py",
        "evidence.py",
        "running/classify.py",
        "running/runner.py",
        "building/venvs.py",
        "system/procs.py",
    ),
)

# Every build, cached in `build.json` under its build key: the recipe (maturin's command and
# environment, the toolchain's manifest changes, the release's lock) and how its log is judged
# (build-error or setup-error, cached or not). The rendered crate is in the build key itself,
# so the template is not named here. 2: the crate's own sources get the build's time before
# cargo runs (`build._fresh_sources`); a build made before may hold another reproducer's library.
# 3: maturin runs as `maturin build` would from a project whose pyproject names the manifest,
# with the matrix's --profile; a missing init symbol fails the build; PyO3's own crates not
# compiling is pyo3-error; the toolchain on PATH is named to rustup (RUSTUP_TOOLCHAIN); a
# project's own lock is brought in line with its rewritten manifest before pinning.
# 4: a path dependency inside the project is its own code (its compile error a build-error);
# a PyO3 feature the project's manifest asks for and the release lacks is a build-error.
BUILD = Semantics(
    "build",
    4,
    (
        "building/build.py",
        "building/buildlog.py",
        "building/locks.py",
        "building/toolchain.py",
    ),
)

# A user's crate moved to a release: what of the project is copied, how its manifests are
# rewritten and its own lock pinned (the project's content and the companions' versions are
# in the build key). 3: in-crate path dependencies excluded from [workspace]; 4: companions.
# 5: only build output where tools put it is left out of the copy (`mod build;` is copied);
# companions turned on by default features move; a PyO3 commit's crates by path, and a
# companion that does not accept the commit's version is copied and made to.
REWRITE = Semantics(
    "rewrite",
    5,
    ("reproducers/manifests.py", "reproducers/usercrate.py"),
)

ALL = (RECORD, BUILD, REWRITE)


def fingerprint(path: Path) -> str:
    """A Python file's code, named by content: its syntax tree without docstrings or type
    annotations, written out the same on every Python the package supports (so a comment, a
    docstring or a reformat is no change, and any change to what runs is one). Other files
    by their bytes."""
    text = path.read_bytes()
    if path.suffix != ".py":
        return hashes.digest(text, hashes.CONTENT)
    return hashes.digest("".join(_code(ast.parse(text, str(path)))), hashes.CONTENT)


_ANNOTATIONS = frozenset({"annotation", "returns", "type_comment", "type_params"})
_DOCUMENTED = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)


def _code(node: ast.AST) -> Iterator[str]:
    """The node as text: its type and fields, without positions, docstrings or annotations.
    Empty fields are left out, so a field a newer Python adds empty (`type_params`) or
    `ast.dump`'s changed defaults do not change the text."""
    yield type(node).__name__ + "("
    for name, value in ast.iter_fields(node):
        if name in _ANNOTATIONS or value is None or value == []:
            continue
        if isinstance(node, _DOCUMENTED) and name == "body":
            value = _undocumented(value)
        yield name + "="
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, ast.AST):
                yield from _code(item)
            else:
                yield repr(item)
            yield ","
    yield ")"


def _undocumented(body: list[ast.stmt]) -> list[ast.stmt]:
    first = body[0] if body else None
    docstring = (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    )
    # A body that is only a docstring (a Protocol's method) keeps its place as `...` would.
    return (body[1:] or [ast.Pass()]) if docstring else body
