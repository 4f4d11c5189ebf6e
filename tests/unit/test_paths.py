"""The on-disk layout: unusable roots are one-line user errors, writes are atomic, unchanged
content keeps its mtime (cargo rebuilds on mtimes), and file names cannot carry separators."""

from __future__ import annotations

import os
import re
import stat
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyo3_triage.errors import UserError
from pyo3_triage.system.paths import CACHEDIR_TAG, Layout, slug, write_atomic, write_if_changed


def one_line(err: UserError) -> str:
    assert "\n" not in err.message
    return err.message


# --- Layout.ensure ------------------------------------------------------------------------
def test_ensure_creates_the_cache_and_only_checks_the_results(tmp_path: Path) -> None:
    """The results folder is made by the first record stored: `--list` or bad input leaves
    no empty `./results` behind."""
    layout = Layout(cache=tmp_path / "c" / "d", results=tmp_path / "r")
    layout.ensure()
    assert layout.cache.is_dir() and not layout.results.exists()
    assert (layout.cache / "CACHEDIR.TAG").read_text() == CACHEDIR_TAG
    assert sorted(p.name for p in layout.cache.iterdir()) == ["CACHEDIR.TAG"]
    layout.results.mkdir()
    layout.ensure()  # idempotent, and an existing results folder is checked by writing
    assert sorted(p.name for p in layout.results.iterdir()) == []  # no write-test leftovers


@pytest.mark.parametrize("which", ["results", "cache"])
def test_root_that_is_a_file(tmp_path: Path, which: str) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("keep me")
    roots = {"cache": tmp_path / "cache", "results": tmp_path / "results", which: blocker}
    with pytest.raises(UserError) as caught:
        Layout(**roots).ensure()
    message = one_line(caught.value)
    assert f"the {which} folder" in message and "is a file" in message
    assert f"--{which} DIR" in message
    assert blocker.read_text() == "keep me"


@pytest.mark.parametrize("which", ["results", "cache"])
def test_root_below_a_file(tmp_path: Path, which: str) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("keep me")
    roots = {"cache": tmp_path / "cache", "results": tmp_path / "results", which: blocker / "sub"}
    with pytest.raises(UserError) as caught:
        Layout(**roots).ensure()
    message = one_line(caught.value)
    verb = "create" if which == "results" else "write to"
    assert f"cannot {verb} the {which} folder" in message and f"--{which} DIR" in message


@pytest.mark.parametrize("which", ["results", "cache"])
def test_read_only_root(tmp_path: Path, which: str) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("this user can write to read-only folders (root)")
        roots = {"cache": tmp_path / "cache", "results": tmp_path / "results", which: locked}
        with pytest.raises(UserError) as caught:
            Layout(**roots).ensure()
        message = one_line(caught.value)
        assert f"cannot write to the {which} folder" in message and "writable" in message
    finally:
        locked.chmod(stat.S_IRWXU)


def test_default_layout_is_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYO3_TRIAGE_CACHE", "relative-cache")
    layout = Layout.default()
    assert layout.cache == tmp_path / "relative-cache"
    assert layout.results == tmp_path / "results"
    monkeypatch.delenv("PYO3_TRIAGE_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert Layout.default().cache == tmp_path / "xdg" / "pyo3-triage"


def test_record_file_stays_under_records(tmp_path: Path) -> None:
    layout = Layout(cache=tmp_path / "c", results=tmp_path / "r")
    for scenario in ("../../etc", "/abs/path", "a;rm -rf ~", "name with spaces"):
        path = layout.record_file(scenario, "k")
        assert path.parent.parent == layout.records_dir()
        assert ".." not in path.relative_to(layout.records_dir()).parts


# --- write_atomic -------------------------------------------------------------------------
def test_write_atomic_creates_parents_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "out.txt"
    write_atomic(target, "hello\n")
    assert target.read_text() == "hello\n"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


def test_write_atomic_replaces_rather_than_rewrites(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    write_atomic(target, "old\n")
    before = target.stat().st_ino
    with target.open() as reader:  # a reader that opened the old file keeps seeing all of it
        write_atomic(target, "new\n")
        assert reader.read() == "old\n"
    assert target.read_text() == "new\n"
    assert target.stat().st_ino != before
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_failed_write_keeps_the_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    write_atomic(target, "old\n")
    with pytest.raises(UnicodeEncodeError):
        write_atomic(target, "half \ud800 unencodable")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_concurrent_readers_never_see_a_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    texts = ["a" * 200_000, "b" * 300_000]
    write_atomic(target, texts[0])
    seen: set[str] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            seen.add(target.read_text())

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for index in range(30):
            write_atomic(target, texts[index % 2])
    finally:
        stop.set()
        reader.join()
    assert seen <= set(texts)
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_write_atomic_gives_the_mode_a_plain_write_would(tmp_path: Path) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    atomic = tmp_path / "atomic.txt"
    write_atomic(atomic, "x")
    assert stat.S_IMODE(atomic.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)


# --- write_if_changed ---------------------------------------------------------------------
def test_write_if_changed_keeps_mtime_for_identical_content(tmp_path: Path) -> None:
    target = tmp_path / "Cargo.toml"
    assert write_if_changed(target, "[package]\n") is True
    os.utime(target, ns=(1_000_000_000, 1_000_000_000))
    inode = target.stat().st_ino
    assert write_if_changed(target, "[package]\n") is False
    assert target.stat().st_mtime_ns == 1_000_000_000
    assert target.stat().st_ino == inode


def test_write_if_changed_writes_new_content(tmp_path: Path) -> None:
    target = tmp_path / "lib.rs"
    write_if_changed(target, "a")
    os.utime(target, ns=(1_000_000_000, 1_000_000_000))
    assert write_if_changed(target, "b") is True
    assert target.read_text() == "b"
    assert target.stat().st_mtime_ns != 1_000_000_000


def test_write_if_changed_replaces_undecodable_file(tmp_path: Path) -> None:
    target = tmp_path / "x.txt"
    target.write_bytes(b"\xff\xfe")
    assert write_if_changed(target, "text") is True
    assert target.read_text() == "text"


# --- slug ---------------------------------------------------------------------------------
SAFE = re.compile(r"^[A-Za-z0-9._+-]+$")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.20.3", "0.20.3"),
        ("0.21.0-beta.0", "0.21.0-beta.0"),
        ("3.13t", "3.13t"),
        ("1.0.0+local", "1.0.0+local"),
        ("a/b", "a_b"),
        ("a\\b", "a_b"),
        ("../../etc/passwd", ".._.._etc_passwd"),
        ("a;rm -rf ~", "a_rm_-rf__"),
        ("$(x)`y`|z&", "__x__y__z_"),
        ("new\nline", "new_line"),
        ("", "_"),
    ],
)
def test_slug(text: str, expected: str) -> None:
    assert slug(text) == expected


@given(st.text())
def test_slug_is_always_one_safe_component(text: str) -> None:
    result = slug(text)
    assert SAFE.match(result)
    assert os.sep not in result and "/" not in result
    # Same length, but a name of dots only ("", ".", "..") gets a "_" in front.
    assert len(result) == len(text) + (1 if text.strip(".") == "" else 0)


@pytest.mark.parametrize("text", ["..", "."])
def test_slug_is_never_a_relative_dir(text: str) -> None:
    assert slug(text) not in {".", ".."}


def test_clean_removes_only_the_tools_areas(tmp_path: Path) -> None:
    layout = Layout(cache=tmp_path / "cache", results=tmp_path / "results")
    layout.ensure()
    for area in ("targets", "wheels", "venvs"):
        (layout.cache_areas()[area] / "x").mkdir(parents=True)
        (layout.cache_areas()[area] / "x" / "f").write_bytes(b"1234")
    mine = layout.cache / "user-notes.txt"
    mine.write_text("not ours")
    layout.results.mkdir()
    (layout.results / "matrix.md").write_text("kept")
    assert layout.cache_usage()["targets"] == 4
    assert layout.clean_cache().freed == 12
    gone = [path for name, path in layout.cache_areas().items() if name != "locks.d"]
    assert not any(path.exists() for path in gone)
    assert mine.read_text() == "not ours"
    assert (layout.results / "matrix.md").read_text() == "kept"


def test_clean_refuses_an_untagged_folder(tmp_path: Path) -> None:
    layout = Layout(cache=tmp_path / "somewhere", results=tmp_path / "results")
    (layout.cache / "targets").mkdir(parents=True)
    with pytest.raises(UserError, match="CACHEDIR.TAG"):
        layout.clean_cache()
    assert (layout.cache / "targets").exists()
