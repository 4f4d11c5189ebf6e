"""Keep the cache under a size limit: after each run, the least recently used build areas go.

The areas that grow are per-(release, CPython) cargo target dirs (most of the cache), the
venvs, the built wheels and PyO3 commit trees. Each is used under a file lock while a build or
an install runs; eviction takes the same lock without waiting and leaves alone whatever another
process holds. Use is recorded by touching an area when a run uses it, so "least recently
used" is the oldest touch. Results are never part of the cache and never touched.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from pyo3_triage.errors import UserError
from pyo3_triage.store.paths import Layout, tree_size

DEFAULT_LIMIT = 10 * 2**30
ENV = "PYO3_TRIAGE_CACHE_LIMIT"
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?", re.IGNORECASE)
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


@dataclass(frozen=True)
class Area:
    path: Path
    size: int
    used: float  # the last time a run used it (mtime)
    locks: tuple[str, ...]  # the lock names whose holder is using it


def parse_size(text: str, what: str = "--cache-limit") -> int:
    """`10G`, `500M`, `1.5GiB`, `0` (no cache kept between runs)."""
    match = _SIZE.fullmatch(text.strip())
    if not match:
        raise UserError(f"{what} {text!r} is not a size; write e.g. 10G, 500M or 0")
    return int(float(match[1]) * _UNITS[match[2].upper()])


def limit_from(option: str | None) -> int:
    """The limit: --cache-limit, else $PYO3_TRIAGE_CACHE_LIMIT, else 10 GiB."""
    if option is not None:
        return parse_size(option)
    if env := os.environ.get(ENV):
        return parse_size(env, f"${ENV}")
    return DEFAULT_LIMIT


def touch(path: Path) -> None:
    """Record that a run used this area (its mtime orders eviction)."""
    with contextlib.suppress(OSError):  # gone: then there is nothing to keep either
        os.utime(path)


def areas(layout: Layout) -> Iterator[Area]:
    """Every evictable area with what it holds and which locks guard it."""
    cache = layout.cache_areas()
    for folder in _children(cache["targets"]):
        yield _area(folder, (f"target-{folder.name}",))
    for folder in _children(cache["venvs"]):
        yield _area(folder, (f"venv-{folder.name}",))
    venvs = [v.name for v in _children(cache["venvs"])]
    for folder in _children(cache["wheels"]):
        users = tuple(f"venv-{name}" for name in venvs if name.startswith(folder.name))
        yield _area(folder, users)
    for folder in _children(cache["git-trees"]):
        yield _area(folder, ())


def evict(layout: Layout, limit: int) -> list[Area]:
    """Remove least recently used areas until the cache fits `limit`; what another process
    holds is kept (then the cache may stay above the limit until that process is done)."""
    if not layout.tagged():
        return []  # a folder this tool did not make: never delete there
    total = sum(layout.cache_usage().values())
    removed: list[Area] = []
    for area in sorted(areas(layout), key=lambda a: a.used):
        if total <= limit:
            break
        if _remove_unless_held(layout, area):
            removed.append(area)
            total -= area.size
    return removed


def _remove_unless_held(layout: Layout, area: Area) -> bool:
    held = []
    try:
        for name in area.locks:
            lock = FileLock(str(layout.mutex(name)))
            lock.acquire(timeout=0)
            held.append(lock)
        shutil.rmtree(area.path, ignore_errors=True)
        return not area.path.exists()
    except Timeout:
        return False
    finally:
        for lock in held:
            lock.release()


def _children(folder: Path) -> list[Path]:
    try:
        return [p for p in folder.iterdir() if p.is_dir()]
    except OSError:
        return []


def _area(path: Path, locks: tuple[str, ...]) -> Area:
    try:
        used = path.stat().st_mtime
    except OSError:
        used = 0.0
    return Area(path, tree_size(path), used, locks)
