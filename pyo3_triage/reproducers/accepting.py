"""Companion crates made to accept a PyO3 commit, as a maintainer does by hand.

A project built against a PyO3 commit gets PyO3's crates from the commit's tree by path, and
its companions (numpy, pythonize, ...) get them through `[patch.crates-io]`; but cargo only
uses a patch that the companion's requirement accepts. A tree at `0.21.0-dev` is accepted by
no published requirement (`pyo3 = "0.20"` does not match a pre-release, nor `0.21`), so the
companion would bring a second PyO3 from crates.io and the build could not resolve. Such a
companion is copied into the project's copy with its `pyo3*` requirements pointed at the tree
(`to_patch` says which, `vendor` does it) and patched in by path.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import tarfile
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import tomlkit
from packaging.version import InvalidVersion, Version

from pyo3_triage.reproducers import manifests
from pyo3_triage.reproducers.companions import Choice, Companion, requirement_accepts
from pyo3_triage.tomlcompat import tomllib
from pyo3_triage.versions import changelog
from pyo3_triage.versions.releases import PYO3_CRATES

FOLDER = ".triage-companions"  # inside the project's copy, left out of its workspace
CRATE_URL = "https://static.crates.io/crates/{name}/{name}-{vers}.crate"


class VendorError(Exception):
    """A companion's source could not be had (the network, most likely): not a result."""


def tree_version(tree: Path) -> str:
    """The version PyO3's manifest in the tree declares, as cargo reads it ("0.21.0-dev")."""
    try:
        package = tomllib.loads((tree / "Cargo.toml").read_text(encoding="utf-8"))["package"]
        return str(package["version"])
    except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError):
        return ""


def cargo_accepts(requirement: str, version: str) -> bool:
    """Whether cargo would use a crate of `version` for `requirement`: a pre-release
    (`0.21.0-dev`) matches no requirement that does not name a pre-release itself."""
    if "-" in version and "-" not in requirement:
        return False
    try:
        return requirement_accepts(requirement, Version(version.split("-", 1)[0]))
    except InvalidVersion:
        return False


def to_patch(companions: Sequence[Companion], chosen: Choice, tree: Path) -> list[tuple[str, str]]:
    """(crate, version) of each chosen companion whose PyO3 requirement the tree's version does
    not meet; those are made to accept it (pure but for reading the tree's manifest)."""
    version = tree_version(tree)
    if not version:
        return []
    by_crate = {c.crate: c for c in companions}
    found = []
    for crate, vers in chosen.versions:
        companion = by_crate.get(crate)
        entry = next((v for v in companion.versions if v.vers == vers), None) if companion else None
        if entry is None or companion is None:
            continue
        wanted = set(companion.features)
        active = [req for _, req, optional, on in entry.needs if not optional or wanted & set(on)]
        if any(not cargo_accepts(req, version) for req in active):
            found.append((crate, vers))
    return found


def _registry_copy(crate: str, vers: str) -> Path | None:
    """The companion's source as cargo already unpacked it, if it did."""
    home = changelog.cargo_home()
    for source in sorted(home.glob("registry/src/*/")):
        if (source / f"{crate}-{vers}" / "Cargo.toml").is_file():
            return source / f"{crate}-{vers}"
    return None


def _fetch_crate(crate: str, vers: str, into: Path) -> None:
    url = CRATE_URL.format(name=crate, vers=vers)
    request = urllib.request.Request(url, headers={"User-Agent": "pyo3-triage"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            blob = response.read()
    except OSError as err:
        raise VendorError(f"cannot download {crate} {vers} from crates.io ({err})") from None
    into.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
        tar.extractall(into, filter="data")
    # A .crate holds one folder, crate-vers/: it becomes the vendored copy.
    inner = into / f"{crate}-{vers}"
    if not inner.is_dir():
        raise VendorError(f"{crate} {vers} from crates.io holds no {crate}-{vers}/ folder")
    digest = hashlib.sha256(blob).hexdigest()[:12]
    (inner / ".triage-source").write_text(f"{url} sha256:{digest}\n", encoding="utf-8")


def vendor(
    copy: Path, project: manifests.Project, patches: Sequence[tuple[str, str]], tree: Path
) -> None:
    """Copy each companion in `patches` into the project's copy, point its PyO3 requirements
    at the tree, and patch it in by path (the copy is left out of the project's workspace)."""
    if not patches:
        return
    sources = manifests.tree_crates(tree)
    folder = copy / project.lock_dir / FOLDER
    entries: dict[str, Path] = {}
    for crate, vers in patches:
        target = folder / f"{crate}-{vers}"
        shutil.rmtree(target, ignore_errors=True)
        found = _registry_copy(crate, vers)
        if found is not None:
            shutil.copytree(found, target)
        else:
            _fetch_crate(crate, vers, folder)
        manifest = target / "Cargo.toml"
        document = tomlkit.parse(manifest.read_text(encoding="utf-8"))
        for table in manifests.dependency_tables(document):
            for name in list(table.keys()):
                entry = table[name]
                package = entry.get("package", name) if manifests.is_table(entry) else name
                if package not in PYO3_CRATES or package not in sources:
                    continue
                if isinstance(entry, str):
                    entry = table[name] = tomlkit.inline_table()
                for key in ("version", "git", "branch", "tag", "rev", "registry"):
                    entry.pop(key, None)
                entry["path"] = str(sources[package])
        document.pop("dev-dependencies", None)  # a patched crate's tests are not built
        manifest.write_text(tomlkit.dumps(document), encoding="utf-8")
        entries[crate] = target
    root_manifest = copy / project.lock_dir / "Cargo.toml"
    document = tomlkit.parse(root_manifest.read_text(encoding="utf-8"))
    if not manifests.is_table(document.get("patch")):
        document["patch"] = tomlkit.table(is_super_table=True)
    patch: Any = document["patch"]
    if not manifests.is_table(patch.get("crates-io")):
        patch["crates-io"] = tomlkit.table()
    crates_io: Any = patch["crates-io"]
    for crate, target in entries.items():
        entry = tomlkit.inline_table()
        entry["path"] = str(target.relative_to(copy / project.lock_dir))
        crates_io[crate] = entry
    workspace: Any = document.get("workspace")
    if manifests.is_table(workspace):
        exclude = workspace.setdefault("exclude", tomlkit.array())
        if FOLDER not in [str(item) for item in exclude]:
            exclude.append(FOLDER)
    root_manifest.write_text(tomlkit.dumps(document), encoding="utf-8")


def commit_changelog(tree: Path, next_release: str) -> str:
    """PyO3's CHANGELOG in a commit's tree, with the news fragments not yet released
    (`newsfragments/1234.changed.md`) as a section of `next_release` on top, so suspects can
    be ranked for a commit as for a release."""
    try:
        text = (tree / "CHANGELOG.md").read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    lines = []
    for fragment in sorted((tree / "newsfragments").glob("*.md")):
        number = fragment.name.split(".", 1)[0]
        said = " ".join(fragment.read_text(encoding="utf-8", errors="replace").split())
        if said:
            lines.append(f"- {said} [#{number}]" if number.isdigit() else f"- {said}")
    if not lines or f"## [{next_release}]" in text:
        return text
    return f"## [{next_release}] - unreleased\n\n" + "\n".join(lines) + "\n\n" + text
