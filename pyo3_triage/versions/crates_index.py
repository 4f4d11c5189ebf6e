"""The crates.io sparse index: the release list of a crate, fetched, parsed and cached.

One JSON object per published version, with its yanked flag. This module is the only one that
talks to crates.io; the cache file is replaced atomically and its mtime records the fetch.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from pyo3_triage.errors import UserError
from pyo3_triage.system.paths import write_atomic
from pyo3_triage.versions.releases import Release, ReleaseIndex, unreachable_error

INDEX_URL = "https://index.crates.io/"
FETCH_TIMEOUT = 20.0
USER_AGENT = "pyo3-triage (release list for PyO3 regression triage)"

Fetcher = Callable[[str, float], str]
_CRATE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")  # always used with fullmatch


def index_path(crate: str) -> str:
    """The sparse-index path of a crate: `1/a`, `2/ab`, `3/a/abc`, `py/o3/pyo3`."""
    if not _CRATE_NAME.fullmatch(crate):
        raise UserError(f"{crate!r} is not a valid crate name; use letters, digits, - and _")
    name = crate.lower()
    if len(name) <= 2:
        return f"{len(name)}/{name}"
    if len(name) == 3:
        return f"3/{name[0]}/{name}"
    return f"{name[:2]}/{name[2:4]}/{name}"


def index_url(crate: str) -> str:
    return INDEX_URL + index_path(crate)


def index_entries(text: str, crate: str) -> Iterator[dict[str, Any]]:
    """The JSON objects of a sparse-index file that describe `crate` (one per published
    version); lines that do not parse are skipped."""
    for line in text.splitlines():
        try:
            entry = json.loads(line) if line.strip() else None
        except ValueError:
            continue
        if isinstance(entry, dict) and str(entry.get("name", "")).lower() == crate.lower():
            yield entry


def parse_index(text: str, crate: str) -> tuple[Release, ...]:
    """Releases in a sparse-index file, ascending; lines that do not parse are skipped."""
    by_version: dict[Version, Release] = {}
    for entry in index_entries(text, crate):
        vers = entry.get("vers")
        if not isinstance(vers, str):
            continue
        try:
            version = Version(vers)
        except InvalidVersion:
            continue
        # a later line for a version wins
        rust = entry.get("rust_version")
        by_version[version] = Release(
            version=version,
            yanked=entry.get("yanked") is True,
            vers=vers,
            rust_version=rust if isinstance(rust, str) else "",
        )
    return tuple(sorted(by_version.values()))


def fetch_url(url: str, timeout: float) -> str:
    """GET a URL as text; crates.io asks clients to identify themselves."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return str(response.read().decode("utf-8"))


def offline_notice(index: ReleaseIndex) -> str:
    """The line to print when `index.from_cache_offline` is set."""
    when = datetime.datetime.fromtimestamp(index.fetched_at, datetime.timezone.utc)
    return f"crates.io unreachable; using the cached release list from {when:%Y-%m-%d %H:%M} UTC"


def _read_cache(cache_file: Path) -> tuple[str, float] | None:
    try:
        return cache_file.read_text(encoding="utf-8"), cache_file.stat().st_mtime
    except (OSError, UnicodeDecodeError):
        return None


def _write_cache(cache_file: Path, text: str, fetched_at: float) -> None:
    """Replace the cache atomically; its mtime records the fetch time. Failure is not fatal."""
    try:
        write_atomic(cache_file, text)
        os.utime(cache_file, (fetched_at, fetched_at))
    except OSError:
        pass  # the list is still in hand; the next run fetches again


def _describe(err: BaseException) -> str:
    if isinstance(err, urllib.error.HTTPError):
        return f"HTTP {err.code}"
    if isinstance(err, urllib.error.URLError):
        return str(err.reason)
    return str(err) or type(err).__name__


@dataclass(frozen=True)
class IndexText:
    """A crate's sparse-index file as read: the text, when it was fetched, and whether the
    network failed so a cached copy stands in."""

    text: str
    fetched_at: float
    from_cache_offline: bool


def load_text(
    crate: str,
    cache_file: Path,
    *,
    max_age: float = 3600,
    fetch: Fetcher = fetch_url,
    now: Callable[[], float] = time.time,
    readable: Callable[[str], bool] = bool,
) -> IndexText:
    """A crate's index file: a cache younger than `max_age` s, else crates.io, else any
    cache. `readable` says whether a text holds what the caller needs."""
    cache_file = Path(cache_file)
    url = index_url(crate)
    cached = _read_cache(cache_file)
    usable = cached if cached and readable(cached[0]) else None
    current = now()
    if usable and 0 <= current - usable[1] < max_age:
        return IndexText(usable[0], usable[1], from_cache_offline=False)
    try:
        text = fetch(url, FETCH_TIMEOUT)
        if not readable(text):
            raise ValueError(f"no readable releases at {url}")
    except (OSError, HTTPException, ValueError) as err:
        if usable:
            return IndexText(usable[0], usable[1], from_cache_offline=True)
        raise unreachable_error(crate, _describe(err)) from err
    _write_cache(cache_file, text, current)
    return IndexText(text, current, from_cache_offline=False)


def load_index(
    crate: str,
    cache_file: Path,
    *,
    max_age: float = 3600,
    fetch: Fetcher = fetch_url,
    now: Callable[[], float] = time.time,
) -> ReleaseIndex:
    """The release list: a cache younger than `max_age` s, else crates.io, else any cache."""
    found = load_text(
        crate,
        cache_file,
        max_age=max_age,
        fetch=fetch,
        now=now,
        readable=lambda text: bool(parse_index(text, crate)),
    )
    releases = parse_index(found.text, crate)
    return ReleaseIndex(crate, releases, found.fetched_at, found.from_cache_offline)
