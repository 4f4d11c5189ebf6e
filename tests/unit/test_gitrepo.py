"""Reading a PyO3-like git repository made here with real git: revisions, commits, describe,
the first-parent line, added files, shallow boundaries, exports, and where it came from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import factories
import pytest

from pyo3_triage.errors import UserError
from pyo3_triage.system.paths import Layout
from pyo3_triage.versions import gitrepo
from pyo3_triage.versions.gitrepo import GitError, Repo, open_repo

DATE = "2024-01-02T03:04:05+02:00"  # not UTC: newer git writes UTC as Z
IDENTITY = {
    f"GIT_{who}_{what}": value
    for who in ("AUTHOR", "COMMITTER")
    for what, value in (("NAME", "t"), ("EMAIL", "t@t"), ("DATE", DATE))
}


def git(cwd: Path, *args: str) -> str:
    return factories.git(cwd, *args, env=IDENTITY)


def commit(repo: Path, *message: str, files: dict[str, str] | None = None) -> str:
    for name, text in (files or {}).items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", *(a for m in message for a in ("-m", m)))
    return git(repo, "rev-parse", "HEAD")


@dataclass
class Made:
    path: Path
    root: str  # tagged v0.1.0 (annotated)
    second: str  # adds newsfragments/1.added.md and other/x.txt, changes src/a.rs
    side: str  # the pull request's own commit
    merge: str  # "Merge pull request #5 from me/feature"
    empty: str  # no change: the same tree as `merge`


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Made:
    repo = tmp_path_factory.mktemp("gitrepo") / "pyo3"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    root = commit(repo, "root", files={"Cargo.toml": "[package]\n", "src/a.rs": "// one\n"})
    git(repo, "tag", "-a", "v0.1.0", "-m", "release 0.1.0")
    files = {"newsfragments/1.added.md": "  Added one.\n", "other/x.txt": "x", "src/a.rs": "// 2\n"}
    second = commit(repo, "second (#1)", "body line", files=files)
    git(repo, "checkout", "-qb", "feature")
    side = commit(repo, "feature work", files={"newsfragments/5.fixed.md": "Fixed five."})
    git(repo, "checkout", "-q", "main")
    subject = "Merge pull request #5 from me/feature"
    git(repo, "merge", "-q", "--no-ff", "-m", subject, "-m", "Five", "feature")
    merge = git(repo, "rev-parse", "HEAD")
    empty = commit(repo, "nothing changes")
    return Made(repo, root, second, side, merge, empty)


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    return Layout(cache=tmp_path / "cache", results=tmp_path / "results")


@pytest.fixture
def repo(made: Made, layout: Layout) -> Repo:
    return open_repo(str(made.path), layout)


# --- revisions ---------------------------------------------------------------------------
def test_names_resolve_to_full_hashes(repo: Repo, made: Made) -> None:
    assert repo.resolve("main") == made.empty
    assert repo.resolve("feature") == made.side
    assert repo.resolve(made.merge[:9]) == made.merge
    assert repo.resolve("main~1") == made.merge
    assert repo.tag_for("0.1.0") == made.root  # an annotated tag is peeled to its commit


@pytest.mark.parametrize("rev", ["nope", "v9.9.9", "main:src/a.rs", "0" * 40])
def test_unknown_revisions_are_one_user_error(repo: Repo, rev: str) -> None:
    with pytest.raises(UserError, match=f"has no revision {rev!r}; name a branch, tag or commit"):
        repo.resolve(rev)


def test_an_option_is_never_passed_to_git_as_a_revision(repo: Repo) -> None:
    with pytest.raises(UserError, match="'--all' is not a revision"):
        repo.resolve("--all")


# --- commits -----------------------------------------------------------------------------
def test_commit_fields(repo: Repo, made: Made) -> None:
    second = repo.commit(made.second)
    assert (second.sha, second.parents) == (made.second, (made.root,))
    assert (second.subject, second.body) == ("second (#1)", "body line")
    assert second.date == DATE and second.short == made.second[:9]
    assert repo.commit(made.root).parents == ()
    merge = repo.commit(made.merge)
    assert merge.parents == (made.second, made.side) and merge.body == "Five"


def test_describe_names_the_tag_and_distance(repo: Repo, made: Made) -> None:
    assert repo.describe(made.root) == "v0.1.0"
    assert repo.describe(made.second) == f"v0.1.0-1-g{made.second[:7]}"


def test_describe_without_a_tag_is_a_short_hash(tmp_path: Path, layout: Layout) -> None:
    path = tmp_path / "untagged"
    path.mkdir()
    git(path, "init", "-q")
    sha = commit(path, "only")
    described = open_repo(str(path), layout).describe(sha)
    assert sha.startswith(described) and len(described) >= 7


def test_merge_base_and_the_first_parent_line(repo: Repo, made: Made) -> None:
    assert repo.merge_base(made.side, made.empty) == made.side
    assert repo.merge_base(made.root, made.empty) == made.root
    line = repo.first_parent_line(made.root, made.empty)
    assert line == [made.root, made.second, made.merge, made.empty]  # not the side commit
    assert repo.first_parent_line(made.empty, made.empty) == [made.empty]


def test_unrelated_histories_have_no_merge_base(tmp_path: Path, made: Made, layout: Layout) -> None:
    path = tmp_path / "two-roots"
    git(tmp_path, "clone", "-q", str(made.path), str(path))
    git(path, "checkout", "-q", "--orphan", "other")
    orphan = commit(path, "unrelated root")
    repo = open_repo(str(path), layout)
    with pytest.raises(GitError):
        repo.merge_base(orphan, made.root)


def test_tree_is_the_commits_tree(repo: Repo, made: Made) -> None:
    assert repo.tree(made.merge) == git(made.path, "rev-parse", f"{made.merge}^{{tree}}")
    assert repo.tree(made.merge) == repo.tree(made.empty) != repo.tree(made.second)


def test_added_files_under_a_folder(repo: Repo, made: Made) -> None:
    assert repo.added_files(made.second, "newsfragments") == [
        ("newsfragments/1.added.md", "Added one.")
    ]
    assert repo.added_files(made.second, "src") == []  # changed, not added
    assert repo.added_files(made.merge, "newsfragments") == [
        ("newsfragments/5.fixed.md", "Fixed five.")
    ]
    assert repo.added_files(made.root, "src") == []  # no parent to compare with
    assert repo.added_files(made.empty, "newsfragments") == []


def test_shallow_boundaries(tmp_path: Path, made: Made, layout: Layout, repo: Repo) -> None:
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", "--no-local", f"file://{made.path}", str(shallow))
    cut = open_repo(str(shallow), layout)
    assert cut.is_shallow_boundary(made.empty)
    assert not cut.is_shallow_boundary(made.merge)
    assert not repo.is_shallow_boundary(made.root)  # a full clone has no boundary at all


# --- exports -----------------------------------------------------------------------------
def test_export_extracts_a_tree_once(repo: Repo, made: Made, layout: Layout) -> None:
    folder = repo.export(made.merge, layout)
    assert (folder / "newsfragments" / "5.fixed.md").read_text() == "Fixed five."
    assert (folder / "src" / "a.rs").read_text() == "// 2\n" and not (folder / ".git").exists()
    (folder / "marker").write_text("kept")
    assert repo.export(made.empty, layout) == folder  # same tree, same folder, not extracted again
    assert (folder / "marker").is_file()
    old = repo.export(made.root, layout)
    assert old != folder and (old / "src" / "a.rs").read_text() == "// one\n"
    leftovers = [p.name for p in old.parent.iterdir() if p.name.endswith((".tar", ".partial"))]
    assert leftovers == []


def test_export_replaces_a_half_made_folder(repo: Repo, made: Made, layout: Layout) -> None:
    folder = layout.tree(repo.tree(made.second)).path
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "stale.rs").write_text("from a killed run")  # no Cargo.toml: unfinished
    assert repo.export(made.second, layout) == folder
    assert (folder / "Cargo.toml").is_file() and not (folder / "src" / "stale.rs").exists()


# --- where a repository comes from ---------------------------------------------------------
def test_a_subfolder_of_a_work_tree_opens_its_repository(made: Made, layout: Layout) -> None:
    repo = open_repo(str(made.path / "src"), layout)
    assert repo.git_dir == made.path / ".git"
    assert repo.source == str(made.path / "src") and repo.github == ""


@pytest.mark.parametrize(
    ("url", "github"),
    [
        ("https://github.com/PyO3/pyo3", "PyO3/pyo3"),
        ("https://github.com/PyO3/pyo3.git", "PyO3/pyo3"),
        ("https://github.com/PyO3/pyo3/", "PyO3/pyo3"),
        ("git@github.com:me/pyo3.fork.git", "me/pyo3.fork"),
        ("ssh://git@github.com/me/pyo3", "me/pyo3"),
        ("https://gitlab.com/PyO3/pyo3", ""),
        ("https://github.com/PyO3", ""),
    ],
)
def test_the_github_name_comes_from_origin(
    tmp_path: Path, made: Made, layout: Layout, url: str, github: str
) -> None:
    path = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--bare", str(made.path), str(path))
    git(path, "remote", "set-url", "origin", url)
    repo = open_repo(str(path), layout)
    assert repo.github == github and repo.git_dir == path


def test_a_url_that_cannot_be_cloned_is_one_line(tmp_path: Path, layout: Layout) -> None:
    with pytest.raises(UserError) as caught:
        open_repo(f"file://{tmp_path}/missing.git", layout)
    assert caught.value.message.startswith(f"cannot clone file://{tmp_path}/missing.git: ")
    assert not (layout.git_clone(gitrepo.slug(f"file://{tmp_path}/missing.git")) / "HEAD").exists()


def test_a_cloned_url_names_no_github_unless_it_is_one(made: Made, layout: Layout) -> None:
    repo = open_repo(f"file://{made.path}", layout)
    assert repo.github == "" and repo.source == f"file://{made.path}"
    assert repo.git_dir.parent == layout.cache / "git-clones"
    assert repo.resolve("v0.1.0") == made.root
