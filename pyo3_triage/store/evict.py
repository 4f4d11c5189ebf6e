"""Keep the cache under a size limit: after each run, the least recently used areas go.

The areas that grow (`areas.Kind`) are cargo target dirs, one per CPython (most of the
cache), venvs, built wheels, PyO3 commit trees, crate folders (rendered scenarios and copies
of users' projects) and drivers' work folders. Whoever uses an area holds it (`Area.in_use`)
for the whole build, install or run; eviction takes the area exclusively without waiting and
leaves alone whatever another process holds. Use is recorded by touching an area when a run
uses it, so "least recently used" is the oldest touch. Each area's size is measured once and
recorded until the area is used again (`Area.size`), so a run that added nothing walks
nothing big. Results are never part of the cache.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pyo3_triage.errors import UserError
from pyo3_triage.system.areas import Area, Kind, touch, tree_size
from pyo3_triage.system.paths import Layout

DEFAULT_LIMIT = 10 * 2**30
ENV = "PYO3_TRIAGE_CACHE_LIMIT"
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?", re.IGNORECASE)
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}

__all__ = [
    "DEFAULT_LIMIT",
    "ENV",
    "Candidate",
    "areas",
    "evict",
    "limit_from",
    "parse_size",
    "touch",
]


@dataclass(frozen=True)
class Candidate:
    """An area eviction may take: what it holds and when a run last used it."""

    area: Area
    size: int
    used: float  # the last time a run used it (mtime)

    @property
    def path(self) -> Path:
        return self.area.path


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


def areas(layout: Layout) -> Iterator[Candidate]:
    """Every evictable area now in the cache, with its size and last use."""
    for kind in Kind:
        for area in layout.areas(kind):
            try:
                used = area.path.stat().st_mtime
            except OSError:
                continue  # gone meanwhile
            yield Candidate(area, area.size(), used)


def evict(layout: Layout, limit: int) -> list[Candidate]:
    """Remove least recently used areas until the cache fits `limit`; what anyone holds is
    kept (then the cache may stay above the limit until that use is over)."""
    if not layout.tagged():
        return []  # a folder this tool did not make: never delete there
    found = list(areas(layout))
    kinds = {kind.value for kind in Kind}
    rest = [path for name, path in layout.cache_areas().items() if name not in kinds]
    total = sum(c.size for c in found) + sum(tree_size(path) for path in rest)
    removed: list[Candidate] = []
    for candidate in sorted(found, key=lambda c: c.used):
        if total <= limit:
            break
        if candidate.area.evict():
            removed.append(candidate)
            total -= candidate.size
    return removed
