"""PyO3 commits as candidates beside releases: `--pyo3 git:REV` rows and the commit steps of a
bisect. A commit is a `Commit`, a `Release` whose `source` is its tree (every `pyo3*` crate by path) and
whose `version` is the release whose API the reproducer is rendered for: a commit between two
releases may speak either, so the older is tried first and the newer when that does not
compile (`Commit.retry_after`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from packaging.version import InvalidVersion, Version

from pyo3_triage.errors import UserError
from pyo3_triage.outcome import Outcome
from pyo3_triage.system.paths import Layout
from pyo3_triage.tomlcompat import tomllib
from pyo3_triage.versions.gitrepo import Repo
from pyo3_triage.versions.releases import Release
from pyo3_triage.versions.support import listed

_TAG = re.compile(r"v(\d+\.\d+\.\d+)(?:-\d+-g[0-9a-f]+)?$")


# eq=False: compared and ordered as `Release` compares, by the version it is rendered for.
@dataclass(frozen=True, eq=False)
class Commit(Release):
    """A PyO3 commit as a candidate. `version` is the older API it may speak, `next_era` the
    newer one (None when it speaks one only)."""

    next_era: Version | None = None

    def other_era(self) -> Commit | None:
        """The same commit rendered for its newer candidate API, if it has one."""
        if self.next_era is None:
            return None
        return replace(self, version=self.next_era, next_era=None)

    def retry_after(self, outcome: Outcome) -> Release | None:
        """A reproducer that does not compile for the older API is tried with the newer one
        (the record says which, `era`)."""
        return self.other_era() if outcome is Outcome.BUILD_ERROR else None


def at(repo: Repo, rev: str, layout: Layout, eras: tuple[Version, Version] | None = None) -> Commit:
    """The commit `rev` names, exported into the cache, rendered first for the older of
    `eras` (default: the tag `git describe` names and the version in its Cargo.toml)."""
    sha = repo.resolve(rev)
    tree = repo.export(sha, layout)
    describe = repo.describe(sha)
    manifest = tree.joinpath("Cargo.toml").read_text(encoding="utf-8")
    older, newer = eras or _eras(describe, manifest)
    known = [era for era in dict.fromkeys((older, newer)) if _known(era)]
    if not known:
        try:
            listed(older)
        except LookupError as err:
            raise UserError(f"{rev}: {err}; choose a commit of a release it knows") from None
    # A commit past the newest release the tool knows (main after the last tag, its manifest
    # at the next version) still speaks its tag's API: it is tried with the era that is known.
    older, newer = known[0], known[-1]
    return Commit(
        version=older,
        vers=f"git:{sha[:9]}",
        revision=sha,
        describe=describe,
        source=tree,
        next_era=newer if newer != older else None,
        repo=repo.source,
        rust_version=rust_version(manifest),
    )


def rust_version(manifest: str) -> str:
    """The `rust-version` a PyO3 manifest declares (its own, or its workspace's), or ""."""
    try:
        data = tomllib.loads(manifest)
    except tomllib.TOMLDecodeError:
        return ""
    package, workspace = data.get("package", {}), data.get("workspace", {})
    found = package.get("rust-version") if isinstance(package, dict) else None
    if isinstance(workspace, dict) and isinstance(workspace.get("package"), dict):
        found = found if isinstance(found, str) else workspace["package"].get("rust-version")
    return found if isinstance(found, str) else ""


def _known(era: Version) -> bool:
    try:
        listed(era)
    except LookupError:
        return False
    return True


def _eras(describe: str, manifest: str) -> tuple[Version, Version]:
    # `git describe --tags --always`: "v0.20.0-218-g8bef6e3", "v0.21.0", or a bare hash
    # (no tag behind the commit, which may even be all digits) that names no release.
    match = _TAG.match(describe)
    try:
        older = Version(match[1]) if match else None
    except InvalidVersion:
        older = None
    try:
        package = tomllib.loads(manifest).get("package", {})
        newer = Version(Version(str(package.get("version", ""))).base_version)
    except (InvalidVersion, tomllib.TOMLDecodeError):
        newer = None
    if older is None and newer is None:
        raise UserError(f"cannot tell which PyO3 API commit {describe} speaks; tag the repository")
    older = older or newer
    newer = newer if newer is not None and older is not None and newer > older else older
    assert older is not None and newer is not None
    return older, newer
