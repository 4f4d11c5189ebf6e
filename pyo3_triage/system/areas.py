"""Cache areas: the folders a cell builds into, installs into and runs from, with their locks.

Each area (a cargo target dir, a venv, a wheel folder, a PyO3 commit's tree, a crate folder,
a driver's work folder) has two locks, named by `Layout.area` and nowhere else:
- its mutex, held by whoever makes or fills it (a build, a venv being made), one at a time;
- its "in use" hold, shared: taken before a step looks at the area and kept until the step is
  done (a build, an install, every run of the reproducer). Eviction takes it exclusively,
  without waiting, and leaves alone whatever anyone holds, so no run ever loses its venv,
  wheel or folder halfway, in this process or another.
"""

from __future__ import annotations

import contextlib
import enum
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, ReadWriteLock, Timeout

# `NAME.partial` is an area being made beside its place, moved there when whole. Its maker
# holds NAME, so eviction passes it by; a leftover of a killed run goes when NAME is made again.
PARTIAL = ".partial"


class Kind(enum.Enum):
    """What an area holds; the value is its folder under the cache root."""

    TARGET = "targets"
    VENV = "venvs"
    WHEEL = "wheels"
    GIT_TREE = "git-trees"
    CRATE = "crates"
    WORK = "work"

    @property
    def prefix(self) -> str:
        """The first word of its lock files' names."""
        return _PREFIX[self]


_PREFIX = {
    Kind.TARGET: "target",
    Kind.VENV: "venv",
    Kind.WHEEL: "wheel",
    Kind.GIT_TREE: "tree",
    Kind.CRATE: "crate",
    Kind.WORK: "work",
}


@dataclass(frozen=True)
class Area:
    """One folder of the cache and its two locks (made by `Layout`, which knows the paths)."""

    kind: Kind
    path: Path
    mutex: Path  # a FileLock's file: who makes or fills the area
    hold: Path  # a ReadWriteLock's file: who is using it (shared) or evicting it (exclusive)

    @property
    def making(self) -> Path:
        """Where the area is made before it is moved into place."""
        return making(self.path)

    def writing(self) -> FileLock:
        """The mutex, for making or filling the area (take `in_use` first)."""
        self.mutex.parent.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.mutex))

    @property
    def measured(self) -> Path:
        """What the area held when eviction last measured it (see `size`)."""
        return self.hold.with_suffix(".size")

    @contextlib.contextmanager
    def in_use(self) -> Iterator[Path]:
        """Hold the area for a step: eviction leaves it alone until the step is done. Taken
        before the step checks that the area exists, so it never sees one being deleted.
        A step may make the area grow, so its measured size is forgotten when it ends."""
        self.hold.parent.mkdir(parents=True, exist_ok=True)
        with ReadWriteLock(str(self.hold), is_singleton=False).read_lock():
            touch(self.path)
            try:
                yield self.path
            finally:
                self.measured.unlink(missing_ok=True)

    def size(self) -> int:
        """Bytes the area holds. Measured once and recorded, so an area nobody used since is
        not walked again; measured under the eviction hold (never waiting), and only recorded
        when nobody was using it meanwhile."""
        with contextlib.suppress(OSError, ValueError):
            return int(self.measured.read_text(encoding="utf-8"))
        self.hold.parent.mkdir(parents=True, exist_ok=True)
        try:
            with ReadWriteLock(str(self.hold), is_singleton=False, blocking=False).write_lock():
                size = tree_size(self.path)
                with contextlib.suppress(OSError):
                    self.measured.write_text(str(size), encoding="utf-8")
                return size
        except Timeout:
            return tree_size(self.path)  # in use: it may still grow, so not recorded

    def evict(self) -> bool:
        """Delete the area, and a leftover of it half made (its maker holds it too), unless
        someone holds it (never waits); True when it is gone. The lock files stay: deleting
        one while another process opens it would split the lock."""
        self.hold.parent.mkdir(parents=True, exist_ok=True)
        try:
            with ReadWriteLock(str(self.hold), is_singleton=False, blocking=False).write_lock():
                shutil.rmtree(self.path, ignore_errors=True)
                shutil.rmtree(self.making, ignore_errors=True)
        except Timeout:
            return False
        return not self.path.exists()


_HELD_FOR_LIFE: list[ReadWriteLock] = []


def hold_for_life(hold: Path) -> None:
    """Hold `hold` shared until this process ends (the system lets go of it then): a run
    holds the whole cache this way, so `--clean` leaves alone what no area's hold covers."""
    hold.parent.mkdir(parents=True, exist_ok=True)
    lock = ReadWriteLock(str(hold), is_singleton=False)
    lock.acquire_read()
    _HELD_FOR_LIFE.append(lock)


def taken_alone(hold: Path) -> contextlib.AbstractContextManager[object]:
    """`hold` taken exclusively without waiting (raises `Timeout` when anyone holds it)."""
    hold.parent.mkdir(parents=True, exist_ok=True)
    return ReadWriteLock(str(hold), is_singleton=False, blocking=False).write_lock()


def tree_size(path: Path) -> int:
    """Bytes of the files under `path` (0 when it is gone)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


def touch(path: Path) -> None:
    """Record that a run used this folder now (its mtime orders eviction)."""
    with contextlib.suppress(OSError):  # gone: then there is nothing to keep either
        os.utime(path)


def making(path: Path) -> Path:
    """The `.partial` sibling a folder is made in before it is moved into place."""
    return path.with_name(path.name + PARTIAL)
