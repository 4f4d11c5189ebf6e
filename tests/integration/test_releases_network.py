"""The real crates.io index for pyo3: known releases, a yanked one, a selection on it."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.version import Version

from pyo3_triage.versions.crates_index import load_index
from pyo3_triage.versions.releases import select_releases


@pytest.mark.network
def test_real_index(tmp_path: Path) -> None:
    loaded = load_index("pyo3", tmp_path / "pyo3.idx", max_age=0)
    assert not loaded.from_cache_offline
    for version in ("0.20.3", "0.21.0"):
        release = loaded.get(version)
        assert release is not None and not release.yanked
    yanked = loaded.get("0.23.0")
    assert yanked is not None and yanked.yanked
    assert loaded.releases[-1].version >= Version("0.30.1")
    assert [r.cargo_version for r in select_releases("0.20.3..0.21.0", loaded)] == [
        "0.20.3",
        "0.21.0",
    ]
