"""A project's source: its sdist from PyPI (never a wheel), a local sdist, or a folder.

The only module of the ecosystem that reaches the network: PyPI's JSON API names the sdist of
a version and its sha256; the file is downloaded once, checked against that hash and filed by
it in the cache (`Layout.sdist_file`), and unpacked once with tarfile's "data" filter (no
absolute paths, no links out of the folder, no devices). What PyPI said is kept too, so a
second run needs no network at all.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pyo3_triage.system import areas
from pyo3_triage.system.paths import Layout, write_atomic

PYPI_JSON = "https://pypi.org/pypi/{name}/json"  # every version's files, by version
FETCH_TIMEOUT = 60.0
USER_AGENT = "pyo3-triage (ecosystem: sdists of PyO3 projects)"

Fetch = Callable[[str], bytes]  # GET a URL's bytes; urllib.error.HTTPError for a 404


class SourceError(Exception):
    """Why a project's source cannot be had. `transient`: the network, try again next run
    (a setup-error row); otherwise a fact about the project (a row that says why)."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class Sdist:
    """What PyPI names as a version's sdist."""

    filename: str
    url: str
    sha256: str


def fetch_url(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:
        return bytes(response.read())


def sdist_of(payload: bytes, name: str, version: str) -> Sdist:
    """The sdist of `version` in PyPI's JSON answer for the project (or for the version
    alone: its `urls`); pure."""
    try:
        data = json.loads(payload)
        releases = data.get("releases")
        files = releases.get(version) if isinstance(releases, dict) else data.get("urls", [])
    except (ValueError, AttributeError):
        raise SourceError(
            f"PyPI's answer for {name} {version} is not JSON", transient=True
        ) from None
    if files is None:
        raise SourceError(f"{name} has no version {version} on PyPI")
    for item in files if isinstance(files, list) else []:
        if isinstance(item, dict) and item.get("packagetype") == "sdist":
            digests = item.get("digests") or {}
            sha = str(digests.get("sha256", "")) if isinstance(digests, dict) else ""
            if item.get("filename") and item.get("url") and sha:
                return Sdist(str(item["filename"]), str(item["url"]), sha)
    raise SourceError("no sdist on PyPI")


def cached_sdist(layout: Layout, name: str, version: str) -> Path | None:
    """The sdist already in the cache for this version, or None (no network)."""
    try:
        known = json.loads(layout.sdist_named(name, version).read_text(encoding="utf-8"))
        sdist = Sdist(known["filename"], known["url"], known["sha256"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    path = layout.sdist_file(sdist.sha256, sdist.filename)
    return path if path.is_file() else None


def download(layout: Layout, name: str, version: str, fetch: Fetch = fetch_url) -> Path:
    """The sdist of `name` `version` from PyPI, from the cache when it is there."""
    if (found := cached_sdist(layout, name, version)) is not None:
        return found
    url = PYPI_JSON.format(name=name)
    try:
        sdist = sdist_of(fetch(url), name, version)
    except urllib.error.HTTPError as err:
        if err.code == 404:
            raise SourceError(f"{name} is not on PyPI") from None
        raise SourceError(f"PyPI answered HTTP {err.code} for {url}", transient=True) from None
    except (urllib.error.URLError, OSError) as err:
        raise SourceError(f"cannot reach PyPI ({err})", transient=True) from None
    try:
        # A mirror may name the file relative to its answer: read it from there.
        blob = fetch(urllib.parse.urljoin(url, sdist.url))
    except (urllib.error.URLError, OSError, ValueError) as err:
        raise SourceError(f"cannot download {sdist.filename} ({err})", transient=True) from None
    got = hashlib.sha256(blob).hexdigest()
    if got != sdist.sha256:
        raise SourceError(
            f"{sdist.filename} does not match the sha256 PyPI gives ({got} != {sdist.sha256})",
            transient=True,
        )
    path = layout.sdist_file(sdist.sha256, sdist.filename)
    write_atomic(path, blob)
    named = {"filename": sdist.filename, "url": sdist.url, "sha256": sdist.sha256}
    write_atomic(layout.sdist_named(name, version), json.dumps(named, indent=2) + "\n")
    return path


def unpack(layout: Layout, archive: Path) -> Path:
    """The project folder inside an sdist (`.tar.gz` or `.zip`), unpacked once into the cache
    under the archive's hash; a half-unpacked folder is never seen."""
    try:
        sha = hashlib.sha256(archive.read_bytes()).hexdigest()
    except OSError as err:
        raise SourceError(f"cannot read {archive}: {err.strerror or err}") from None
    into = layout.sdist_unpacked(sha)
    if not into.is_dir():
        making = areas.making(into)
        shutil.rmtree(making, ignore_errors=True)
        making.mkdir(parents=True)
        try:
            _extract(archive, making)
        except (tarfile.TarError, zipfile.BadZipFile, OSError, ValueError) as err:
            shutil.rmtree(making, ignore_errors=True)
            raise SourceError(f"cannot unpack {archive.name}: {err}") from None
        try:
            making.replace(into)
        except OSError:  # another run unpacked it first: theirs is as good
            shutil.rmtree(making, ignore_errors=True)
    inside = [p for p in into.iterdir() if p.is_dir()]
    return inside[0] if len(inside) == 1 and not (into / "pyproject.toml").exists() else into


def _extract(archive: Path, into: Path) -> None:
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zipped:
            for member in zipped.namelist():
                parts = PurePosixPath(member).parts
                if member.startswith("/") or ".." in parts:
                    raise ValueError(f"{member!r} would land outside the folder")
            zipped.extractall(into)
        return
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
