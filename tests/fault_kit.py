"""What the fault-tier tests share: one tiny Rust side, so all of their scenarios have the
same build key and the whole tier compiles one extension per (release, CPython)."""

from __future__ import annotations

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
