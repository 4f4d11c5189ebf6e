"""A PyO3 commit as a candidate beside releases: which API era(s) it speaks, from its tag and
its Cargo.toml, and the `Release` it becomes (on a small repository made here with real git)."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import git
from packaging.version import Version

from pyo3_triage.errors import UserError
from pyo3_triage.outcome import Outcome
from pyo3_triage.system.paths import Layout
from pyo3_triage.versions import revisions
from pyo3_triage.versions.gitrepo import Repo, open_repo
from pyo3_triage.versions.releases import Release

MANIFEST = '[package]\nname = "pyo3"\nversion = "{}"\n'


def commit(repo: Path, version: str, message: str = "work") -> str:
    (repo / "Cargo.toml").write_text(MANIFEST.format(version))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def eras(describe: str, manifest: str) -> tuple[str, str]:
    older, newer = revisions._eras(describe, manifest)
    return str(older), str(newer)


# --- eras from `git describe` and the manifest ---------------------------------------------
@pytest.mark.parametrize(
    ("describe", "version", "expect"),
    [
        ("v0.20.3-5-g1234567", "0.21.0-dev", ("0.20.3", "0.21.0")),
        ("v0.20.3-5-g1234567", "0.21.0", ("0.20.3", "0.21.0")),
        ("v0.21.0", "0.21.0", ("0.21.0", "0.21.0")),
        ("v0.22.0-1-gabcdef0", "0.21.0", ("0.22.0", "0.22.0")),  # never older than the tag
        ("v0.22.0-beta.0-3-gabcdef0", "0.23.0-dev", ("0.23.0", "0.23.0")),  # not a release tag
        ("1234567", "0.23.0-alpha.1", ("0.23.0", "0.23.0")),  # no tag behind the commit
        ("deadbee", "0.23.0", ("0.23.0", "0.23.0")),
    ],
)
def test_eras(describe: str, version: str, expect: tuple[str, str]) -> None:
    assert eras(describe, MANIFEST.format(version)) == expect


@pytest.mark.parametrize(
    "manifest",
    [
        "not = [valid toml",
        '[package]\nname = "pyo3"\n',
        "[package]\nversion.workspace = true\n",
        '[package]\nversion = "not a version"\n',
        "",
    ],
)
def test_a_tag_alone_gives_both_eras(manifest: str) -> None:
    assert eras("v0.20.3-7-g1234567", manifest) == ("0.20.3", "0.20.3")


def test_neither_tag_nor_manifest_is_one_user_error() -> None:
    with pytest.raises(UserError) as caught:
        revisions._eras("1234567", "[workspace]\n")
    assert caught.value.message == (
        "cannot tell which PyO3 API commit 1234567 speaks; tag the repository"
    )


# --- commits as releases ---------------------------------------------------------------------
@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    return Layout(cache=tmp_path / "cache", results=tmp_path / "results")


def made(tmp_path: Path, *versions: str, tag_first: str | None = None) -> tuple[Path, list[str]]:
    path = tmp_path / "pyo3"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    shas = []
    for n, version in enumerate(versions):
        shas.append(commit(path, version, f"commit {n}"))
        if n == 0 and tag_first:
            git(path, "tag", tag_first)
    return path, shas


def test_a_commit_between_releases_speaks_two_eras(tmp_path: Path, layout: Layout) -> None:
    path, (tagged, later) = made(tmp_path, "0.20.3", "0.21.0-dev", tag_first="v0.20.3")
    repo = open_repo(str(path), layout)
    release = revisions.at(repo, "main", layout)
    assert release.version == Version("0.20.3") and release.next_era == Version("0.21.0")
    assert release.revision == later and release.vers == f"git:{later[:9]}"
    assert release.cargo_version == f"git:{later[:9]}" == str(release)
    assert release.describe == f"v0.20.3-1-g{later[:7]}"
    assert release.repo == repo.source == str(path)
    assert release.source is not None
    assert (release.source / "Cargo.toml").read_text() == MANIFEST.format("0.21.0-dev")
    newer = release.other_era()
    assert newer is not None and newer.version == Version("0.21.0") and newer.next_era is None
    assert (newer.revision, newer.source, newer.vers) == (later, release.source, release.vers)
    assert newer.other_era() is None
    assert release.retry_after(Outcome.BUILD_ERROR) == newer
    assert release.retry_after(Outcome.ABORT) is None  # only a compile error tries the other API
    assert newer.retry_after(Outcome.BUILD_ERROR) is None


def test_a_tagged_commit_speaks_one_era(tmp_path: Path, layout: Layout) -> None:
    path, (tagged,) = made(tmp_path, "0.20.3", tag_first="v0.20.3")
    release = revisions.at(open_repo(str(path), layout), "v0.20.3", layout)
    assert release.version == Version("0.20.3") and release.next_era is None
    assert release.describe == "v0.20.3" and release.revision == tagged
    assert release.other_era() is None and release.retry_after(Outcome.BUILD_ERROR) is None


def test_explicit_eras_win_over_tag_and_manifest(tmp_path: Path, layout: Layout) -> None:
    path, (sha,) = made(tmp_path, "0.21.0-dev")
    repo = open_repo(str(path), layout)
    release = revisions.at(repo, sha[:12], layout, eras=(Version("0.20.3"), Version("0.20.3")))
    assert release.version == Version("0.20.3") and release.next_era is None
    assert release.revision == sha


def test_a_commit_older_than_the_support_table_is_refused(tmp_path: Path, layout: Layout) -> None:
    path, _ = made(tmp_path, "0.15.0")
    with pytest.raises(UserError) as caught:
        revisions.at(open_repo(str(path), layout), "main", layout)
    message = caught.value.message
    assert message.startswith("main: PyO3 0.15.0 is outside the releases this tool knows")
    assert message.endswith("choose a commit of a release it knows")


def test_a_commit_newer_than_the_support_table_is_refused(tmp_path: Path, layout: Layout) -> None:
    path, _ = made(tmp_path, "99.0.0-dev")
    with pytest.raises(
        UserError, match="main: PyO3 99.0.0 is outside the releases this tool knows"
    ):
        revisions.at(open_repo(str(path), layout), "main", layout)


def test_a_commit_past_the_newest_known_release_speaks_its_tags_era(
    tmp_path: Path, layout: Layout
) -> None:
    """main after the last tag carries the next version in its manifest, which no table knows
    yet: the commit is still tried, with the API of the release it was tagged after."""
    path, (_, later) = made(tmp_path, "0.20.3", "99.0.0-dev", tag_first="v0.20.3")
    release = revisions.at(open_repo(str(path), layout), "main", layout)
    assert release.version == Version("0.20.3") and release.next_era is None
    assert release.revision == later


def test_an_unknown_revision_is_the_repositorys_one_line(tmp_path: Path, layout: Layout) -> None:
    path, _ = made(tmp_path, "0.21.0")
    repo: Repo = open_repo(str(path), layout)
    with pytest.raises(UserError, match="has no revision 'v0.21.0'"):
        revisions.at(repo, "v0.21.0", layout)


def test_a_published_release_is_never_retried() -> None:
    assert Release(Version("0.21.0")).retry_after(Outcome.BUILD_ERROR) is None
