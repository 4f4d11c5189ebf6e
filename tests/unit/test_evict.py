"""The bounded cache: sizes as users write them, least recently used areas evicted first,
and nothing evicted that another process holds (its lock) or that the tool did not make."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyo3_triage.errors import UserError
from pyo3_triage.store import evict
from pyo3_triage.system.areas import Area, Kind
from pyo3_triage.system.paths import Layout


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
    # Sizes well above the few KiB of lock files the cache also counts.
    old = area(layout, "targets", "0.20.3-a", 400_000, used=1000)
    mid = area(layout, "venvs", "k1-a", 300_000, used=2000)
    new = area(layout, "targets", "0.21.2-a", 400_000, used=3000)
    removed = evict.evict(layout, limit=750_000)
    assert [a.path for a in removed] == [old]
    assert mid.exists() and new.exists()
    evict.touch(mid)  # used again now: newest
    removed = evict.evict(layout, limit=350_000)
    assert [a.path for a in removed] == [new]
    assert mid.exists()


HOLDER = """
import sys, time
from pathlib import Path
from pyo3_triage.system.areas import Area, Kind
kind, path, mutex, hold = sys.argv[1:]
with Area(Kind(kind), Path(path), Path(mutex), Path(hold)).in_use():
    print("held", flush=True)
    sys.stdin.read()
"""


@contextlib.contextmanager
def held_by_another_process(area: Area) -> Iterator[None]:
    """`area` in use by another process (as a run of another matrix would hold it)."""
    args = [area.kind.value, str(area.path), str(area.mutex), str(area.hold)]
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "held\n"
        yield
    finally:
        child.communicate("")


def test_an_area_another_process_holds_is_kept(layout: Layout) -> None:
    held = area(layout, "targets", "0.20.3-a", 4000, used=1000)
    other = area(layout, "targets", "0.21.2-a", 4000, used=2000)
    with held_by_another_process(layout.area(Kind.TARGET, "0.20.3-a")):
        removed = evict.evict(layout, limit=0)
    assert held.exists() and not other.exists()
    assert [a.path for a in removed] == [other]
    assert [a.path for a in evict.evict(layout, limit=0)] == [held]  # released: it goes


@pytest.mark.parametrize("kind", list(Kind))
def test_every_kind_of_area_in_use_here_is_kept(layout: Layout, kind: Kind) -> None:
    folder = area(layout, kind.value, "k1", 4000, used=1000)
    with layout.area(kind, "k1").in_use():
        assert evict.evict(layout, limit=0) == []
    assert folder.exists()
    assert [a.path for a in evict.evict(layout, limit=0)] == [folder]


def test_crates_and_work_folders_are_evicted_too(layout: Layout) -> None:
    """Crate copies and work folders can be most of the cache: the limit still holds."""
    area(layout, "targets", "0.20.3-a", 1000, used=5000)
    for n in range(4):
        area(layout, "crates", f"key{n}", 3000, used=1000 + n)
        area(layout, "work", f"rec{n}", 2000, used=1000 + n)
    evict.evict(layout, limit=6000)
    assert sum(layout.cache_usage().values()) <= 6000
    assert (layout.cache / "targets" / "0.20.3-a").exists()  # the newest stays


def test_a_folder_being_made_is_passed_by(layout: Layout) -> None:
    partial = area(layout, "crates", "key1.partial", 4000, used=1000)
    evict.evict(layout, limit=0)
    assert partial.exists()


def test_results_and_foreign_folders_are_never_touched(layout: Layout, tmp_path: Path) -> None:
    (layout.results / "records").mkdir(parents=True)
    (layout.results / "records" / "r.json").write_text("{}")
    area(layout, "targets", "0.20.3-a", 4000, used=1000)
    evict.evict(layout, limit=0)
    assert (layout.results / "records" / "r.json").read_text() == "{}"
    foreign = Layout(cache=tmp_path / "someone-elses", results=tmp_path / "r2")
    folder = area(foreign, "targets", "keep", 4000, used=1)  # no CACHEDIR.TAG of ours
    assert evict.evict(foreign, limit=0) == [] and folder.exists()


def test_an_area_is_walked_once_until_it_is_used_again(
    layout: Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A warm run adds nothing: eviction then reads recorded sizes instead of walking."""
    from pyo3_triage.system import areas as areas_module

    folder = area(layout, "targets", "0.20.3-a", 1000, used=1000)
    (target,) = layout.areas(Kind.TARGET)
    walked: list[Path] = []
    real = areas_module.tree_size
    monkeypatch.setattr(areas_module, "tree_size", lambda p: walked.append(p) or real(p))
    assert target.size() == 1000 and target.size() == 1000 and walked == [folder]
    with target.in_use():  # a build may add files: the recorded size is forgotten
        (folder / "more").write_bytes(b"y" * 500)
    assert target.size() == 1500 and walked == [folder, folder]
    target.measured.unlink()
    with held_by_another_process(target):  # still growing there: measured, not recorded
        assert target.size() == 1500 and not target.measured.exists()


# --- --clean: the same holds as eviction ---------------------------------------------------
def test_clean_leaves_what_another_process_holds_and_names_it(layout: Layout) -> None:
    held = area(layout, "venvs", "k1-a", 4000, used=1000)
    other = area(layout, "targets", "0.21.2-a", 4000, used=2000)
    half = area(layout, "crates", "key1.partial", 4000, used=1000)  # a killed run's leftover
    with held_by_another_process(layout.area(Kind.VENV, "k1-a")):
        cleaned = layout.clean_cache()
    assert held.exists() and not other.exists() and not half.exists()
    assert cleaned.kept == (held,) and cleaned.freed == 8000
    assert layout.clean_cache().kept == () and not held.exists()  # released: it goes


def test_clean_never_deletes_lock_files(layout: Layout) -> None:
    target = layout.area(Kind.TARGET, "0.20.3-a")
    with target.in_use(), target.writing():
        target.path.mkdir(parents=True)
    mutex, hold = target.mutex, target.hold
    assert mutex.exists() and hold.exists()
    layout.clean_cache()
    assert mutex.exists() and hold.exists()  # another process may have them open
    assert not target.path.exists()


def test_clean_leaves_the_folders_no_area_covers_while_a_run_holds_the_cache(
    layout: Layout,
) -> None:
    index = layout.cache / "index" / "pyo3.jsonl"
    index.parent.mkdir(parents=True)
    index.write_text("{}")
    script = "import sys; from pathlib import Path; from pyo3_triage.system import areas\n"
    script += "areas.hold_for_life(Path(sys.argv[1])); print('held', flush=True); input()"
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(layout.cache_hold())],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "held\n"
        assert layout.clean_cache().kept == (index.parent,)
        assert index.read_text() == "{}"
    finally:
        child.communicate("\n")
    assert layout.clean_cache().kept == () and not index.exists()
