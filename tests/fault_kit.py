"""What the fault-tier tests share: one tiny Rust side, so all of their scenarios have the
same build key and the whole tier compiles one extension per (release, CPython)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NOXFILE = REPO / "noxfile.py"
PYO3 = "0.20.3"
COMMON_RUST = """\
#[pyfunction]
fn ok() -> usize {
    1
}

#[pyfunction]
fn boom() {
    panic!("boom from rust");
}
"""
COMMON_META = 'rust = "../common/lib.rs"\nmodule = "faulty"\nfunctions = ["ok", "boom"]\n'


def write_common(root: Path) -> None:
    """The shared Rust side, at `root/common/lib.rs` (what COMMON_META points to)."""
    (root / "common").mkdir(parents=True, exist_ok=True)
    (root / "common" / "lib.rs").write_text(COMMON_RUST)


def matrix_args(folders: list[Path], results: Path, cache: Path, *extra: str) -> list[str]:
    """`nox -s matrix` options for these scenarios on PYO3 and the CPython 3.11 on PATH."""
    return [
        "--pyo3",
        PYO3,
        "--python",
        "3.11",
        "--scenario",
        ",".join(map(str, folders)),
        "--results",
        str(results),
        "--cache",
        str(cache),
        *extra,
    ]


def nox_matrix_command(args: list[str]) -> tuple[list[str], dict[str, str]]:
    """The argv and environment to run `nox -s matrix -- args` as a user would (no leaked
    PYO3_TRIAGE_* settings, wide plain output)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYO3_TRIAGE_")}
    env.update(COLUMNS="200", NO_COLOR="1")
    return [sys.executable, "-m", "nox", "-f", str(NOXFILE), "-s", "matrix", "--", *args], env
