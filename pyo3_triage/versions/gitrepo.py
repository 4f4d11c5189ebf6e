"""A PyO3 git repository, read through git and never written (`--pyo3-git PATH|URL`).

A path is the user's own clone: only reading commands run there (no worktrees, no fetches, no
config, no optional locks), so its files and refs stay byte-identical. A URL is cloned once,
bare, into the tool's cache, and fetched only when asked. A commit's source is exported with
`git archive` into the cache, one folder per tree, so every `pyo3*` crate of a commit comes
from the same tree and a rerun extracts nothing.
"""

from __future__ import annotations

import re
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path

from pyo3_triage.errors import UserError
from pyo3_triage.system import procs
from pyo3_triage.system.paths import Layout, slug

GIT_TIMEOUT = 600.0
_SHA = re.compile(r"[0-9a-f]{40}")
_GITHUB = re.compile(
    r"(?:https://|git@|ssh://git@)github\.com[/:]([\w.-]+)/([\w.-]+?)(?:\.git)?/?$"
)


@dataclass(frozen=True)
class Commit:
    sha: str
    parents: tuple[str, ...]
    subject: str
    body: str
    date: str  # committer date, ISO 8601

    @property
    def short(self) -> str:
        return self.sha[:9]


@dataclass(frozen=True)
class Repo:
    """A git directory this tool may read (and, for its own clone of a URL, fetch into)."""

    git_dir: Path
    source: str  # what the user passed: a path or a URL
    github: str  # "owner/name" when the commits came from GitHub, else ""

    def _git(self, *args: str, timeout: float = GIT_TIMEOUT) -> procs.Completed:
        env = procs.clean_env(GIT_OPTIONAL_LOCKS="0", GIT_TERMINAL_PROMPT="0", LC_ALL="C")
        return procs.run(
            ["git", "--git-dir", str(self.git_dir), *args],
            env=env,
            timeout=timeout,
            tail_chars=4_000_000,
        )

    def _out(self, *args: str) -> str:
        done = self._git(*args)
        if done.returncode != 0:
            detail = done.stderr_tail.strip().splitlines()
            raise GitError(detail[-1] if detail else f"git {args[0]} failed")
        return done.stdout_tail

    def resolve(self, rev: str) -> str:
        """The full hash of a branch, tag or hash; one clear error when there is none."""
        if rev.startswith("-"):
            raise UserError(f"{rev!r} is not a revision; name a branch, tag or commit hash")
        try:
            sha = self._out("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").strip()
        except GitError:
            sha = ""
        if not _SHA.fullmatch(sha):
            raise UserError(
                f"{self.source} has no revision {rev!r}; name a branch, tag or commit hash there"
            )
        return sha

    def tag_for(self, version: str) -> str:
        """The commit of release `version` (tag `vX.Y.Z`)."""
        return self.resolve(f"refs/tags/v{version}")

    def commit(self, sha: str) -> Commit:
        text = self._out("show", "--no-patch", "--format=%H%x00%P%x00%cI%x00%s%x00%b", sha)
        full, parents, date, subject, body = (text.split("\x00") + [""] * 5)[:5]
        return Commit(
            full.strip(), tuple(parents.split()), subject.strip(), body.strip(), date.strip()
        )

    def describe(self, sha: str) -> str:
        done = self._git("describe", "--tags", "--always", sha)
        return done.stdout_tail.strip() or sha[:9]

    def merge_base(self, a: str, b: str) -> str:
        found = self._out("merge-base", a, b).strip()
        if not _SHA.fullmatch(found):
            raise GitError(f"no common ancestor of {a[:9]} and {b[:9]}")
        return found

    def first_parent_line(self, old: str, new: str) -> list[str]:
        """Commits on the first-parent line from `old` (included) to `new` (included), oldest
        first. `old` must be a first-parent ancestor of `new`."""
        listed = self._out("rev-list", "--first-parent", "--reverse", f"{old}..{new}").split()
        return [old, *listed]

    def is_shallow_boundary(self, sha: str) -> bool:
        """True when the copy is shallow and `sha`'s history is cut there."""
        shallow = self.git_dir / "shallow"
        try:
            return sha in shallow.read_text(encoding="utf-8").split()
        except OSError:
            return False

    def tree(self, sha: str) -> str:
        return self._out("rev-parse", f"{sha}^{{tree}}").strip()

    def added_files(self, sha: str, folder: str) -> list[tuple[str, str]]:
        """Files under `folder` that `sha` added compared to its first parent, with their text
        (PyO3's `newsfragments/`)."""
        parents = self.commit(sha).parents
        if not parents:
            return []
        names = self._out(
            "diff-tree",
            "--no-commit-id",
            "--name-only",
            "-r",
            "--diff-filter=A",
            parents[0],
            sha,
            "--",
            folder,
        ).split()
        return [(name, self._out("show", f"{sha}:{name}").strip()) for name in names]

    def export(self, sha: str, layout: Layout) -> Path:
        """The commit's source tree, extracted once into the cache (keyed by its tree); a
        build that uses it later holds it in use again (it may have been evicted meanwhile)."""
        tree = self.tree(sha)
        area = layout.tree(tree)
        with area.in_use(), area.writing():  # two runs, one export
            if not (area.path / "Cargo.toml").is_file():
                self._extract(sha, area.path, area.making)
        return area.path

    def _extract(self, sha: str, folder: Path, partial: Path) -> None:
        """Into `partial` first (eviction passes it by), then moved into place."""
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        archive = partial / "source.tar"
        self._out("archive", "--format=tar", "-o", str(archive), sha)
        with tarfile.open(archive) as tar:
            if hasattr(tarfile, "data_filter"):  # refuse links and paths leaving the folder
                tar.extractall(partial / "tree", filter="data")
            else:  # pragma: no cover - Pythons before the extraction filters
                tar.extractall(partial / "tree")
        shutil.rmtree(folder, ignore_errors=True)  # a half-made folder from a killed run
        (partial / "tree").replace(folder)
        shutil.rmtree(partial, ignore_errors=True)


class GitError(Exception):
    """A git command on the repository failed."""


def open_repo(source: str, layout: Layout, *, fetch: bool = False) -> Repo:
    """The repository at a path (read-only) or a URL (cloned once into the cache)."""
    if "://" in source or source.startswith("git@"):
        return _clone(source, layout, fetch=fetch)
    if fetch:
        raise UserError(
            "--pyo3-git-fetch fetches only into the tool's own clone of a URL; "
            "a local repository is never written: fetch it yourself"
        )
    path = Path(source).expanduser()
    if not path.exists():
        raise UserError(f"--pyo3-git {source!r} does not exist; pass a PyO3 clone or its URL")
    probe = procs.run(
        ["git", "-C", str(path), "rev-parse", "--absolute-git-dir"],
        env=procs.clean_env(GIT_OPTIONAL_LOCKS="0"),
        timeout=60,
    )
    git_dir = probe.stdout_tail.strip()
    if probe.returncode != 0 or not git_dir:
        raise UserError(f"--pyo3-git {source!r} is not a git repository; pass a PyO3 clone")
    repo = Repo(Path(git_dir), str(path.absolute()), "")
    return Repo(repo.git_dir, repo.source, _github_of(repo))


def _github_of(repo: Repo) -> str:
    done = repo._git("config", "--get", "remote.origin.url")
    match = _GITHUB.match(done.stdout_tail.strip())
    return f"{match[1]}/{match[2]}" if match else ""


def _clone(url: str, layout: Layout, *, fetch: bool) -> Repo:
    target = layout.git_clone(slug(url))
    match = _GITHUB.match(url)
    env = procs.clean_env(GIT_TERMINAL_PROMPT="0")
    if not (target / "HEAD").is_file():
        done = procs.run(
            ["git", "clone", "--bare", "--quiet", url, str(target)], env=env, timeout=GIT_TIMEOUT
        )
        if done.returncode != 0:
            raise UserError(f"cannot clone {url}: {_last_line(done)}")
    elif fetch:
        done = procs.run(
            [
                "git",
                "--git-dir",
                str(target),
                "fetch",
                "--quiet",
                "--tags",
                "origin",
                "+refs/heads/*:refs/heads/*",
            ],
            env=env,
            timeout=GIT_TIMEOUT,
        )
        if done.returncode != 0:
            raise UserError(f"cannot fetch {url}: {_last_line(done)}")
    return Repo(target, url, f"{match[1]}/{match[2]}" if match else "")


def _last_line(done: procs.Completed) -> str:
    lines = [line for line in done.stderr_tail.splitlines() if line.strip()]
    return lines[-1].strip() if lines else f"exit status {done.returncode}"
