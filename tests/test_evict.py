"""The bounded cache: sizes as users write them, least recently used areas evicted first,
and nothing evicted that another process holds (its lock) or that the tool did not make."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from filelock import FileLock

from pyo3_triage.errors import UserError
from pyo3_triage.store import evict
from pyo3_triage.store.paths import Layout


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("10G", 10 * 2**30),
        ("500M", 500 * 2**20),
        ("1.5GiB", int(1.5 * 2**30)),
        ("0", 0),
        ("64k", 65536),
    ],
)
def test_sizes(text: str, size: int) -> None:
    assert evict.parse_size(text) == size


@pytest.mark.parametrize("text", ["ten", "10X", "-1G", ""])
def test_bad_sizes_are_one_line(text: str) -> None:
    with pytest.raises(UserError, match="is not a size"):
        evict.parse_size(text)


def test_limit_from_option_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(evict.ENV, raising=False)
    assert evict.limit_from(None) == evict.DEFAULT_LIMIT == 10 * 2**30
    monkeypatch.setenv(evict.ENV, "2G")
    assert evict.limit_from(None) == 2 * 2**30
    assert evict.limit_from("1M") == 2**20


def area(layout: Layout, kind: str, name: str, size: int, used: float) -> Path:
    folder = layout.cache_areas()[kind] / name
    folder.mkdir(parents=True)
    (folder / "blob").write_bytes(b"x" * size)
    os.utime(folder, (used, used))
    return folder


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    made = Layout(cache=tmp_path / "cache", results=tmp_path / "results")
    made.ensure()  # a fresh folder: tagged as this tool's
    return made


def test_least_recently_used_go_first_until_under_the_limit(layout: Layout) -> None:
    old = area(layout, "targets", "0.20.3-a", 4000, used=1000)
    mid = area(layout, "venvs", "k1-a", 3000, used=2000)
    new = area(layout, "targets", "0.21.2-a", 4000, used=3000)
    removed = evict.evict(layout, limit=7000)
    assert [a.path for a in removed] == [old]
    assert mid.exists() and new.exists()
    evict.touch(mid)  # used again now: newest
    removed = evict.evict(layout, limit=3500)
    assert [a.path for a in removed] == [new]
    assert mid.exists()


def test_an_area_another_process_holds_is_kept(layout: Layout) -> None:
    held = area(layout, "targets", "0.20.3-a", 4000, used=1000)
    other = area(layout, "targets", "0.21.2-a", 4000, used=2000)
    with FileLock(str(layout.mutex("target-0.20.3-a"))):
        removed = evict.evict(layout, limit=0)
    assert held.exists() and not other.exists()
    assert [a.path for a in removed] == [other]


def test_a_wheel_whose_venv_is_being_filled_is_kept(layout: Layout) -> None:
    wheel = area(layout, "wheels", "abc123", 4000, used=1000)
    area(layout, "venvs", "abc123-3.11.7-x", 10, used=5000)
    with FileLock(str(layout.mutex("venv-abc123-3.11.7-x"))):
        evict.evict(layout, limit=0)
    assert wheel.exists()


def test_results_and_foreign_folders_are_never_touched(layout: Layout, tmp_path: Path) -> None:
    (layout.results / "records").mkdir(parents=True)
    (layout.results / "records" / "r.json").write_text("{}")
    area(layout, "targets", "0.20.3-a", 4000, used=1000)
    evict.evict(layout, limit=0)
    assert (layout.results / "records" / "r.json").read_text() == "{}"
    foreign = Layout(cache=tmp_path / "someone-elses", results=tmp_path / "r2")
    folder = area(foreign, "targets", "keep", 4000, used=1)  # no CACHEDIR.TAG of ours
    assert evict.evict(foreign, limit=0) == [] and folder.exists()
