"""From a release boundary to the commit and the pull request: message parsing on real PyO3
subjects, the commit window and the era fallback on a small repository made here (real git,
fake builds), the read-only promise. The founding bisect on the fixture of PyO3's own history
(build tier): integration/test_commits_build.py."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from factories import git, make_record, snapshot
from packaging.version import Version

from pyo3_triage.bisecting import commits
from pyo3_triage.bisecting.bisection import Criteria, Probe, Search
from pyo3_triage.bisecting.search import SearchResult, Step, Verdict
from pyo3_triage.errors import UserError
from pyo3_triage.evidence import BuildInfo
from pyo3_triage.interpreters import Interpreter
from pyo3_triage.outcome import Outcome
from pyo3_triage.store.records import Record
from pyo3_triage.system.paths import Layout
from pyo3_triage.versions import gitrepo, revisions
from pyo3_triage.versions.pulls import PullRequest, is_batch, pull_requests

INTERP = Interpreter(
    version=Version("3.11.7"),
    executable=Path("/py"),
    realpath=Path("/py"),
    implementation="cpython",
    free_threaded=False,
    soabi="",
    source="explicit",
)


# --- pull requests from real PyO3 commit messages ------------------------------------------
BORS_BODY = """3168: Do not apply deferred ref count updates and prevent the GIL from being acquired inside of __traverse__ implementations. r=davidhewitt a=adamreichold

Closes #2301


3176: Prevent dropping unsendable classes on other threads. r=davidhewitt a=adamreichold

Continuing the discussed from https://github.com/PyO3/pyo3/pull/3169
"""


@pytest.mark.parametrize(
    ("subject", "body", "expect"),
    [
        (  # a merge commit (8bef6e339)
            "Merge pull request #3689 from PyO3/unsendable-threadsafe-traverse",
            "Turn calls of __traverse__ into no-ops for unsendable pyclass if on the wrong thread",
            [
                (
                    3689,
                    "Turn calls of __traverse__ into no-ops for unsendable pyclass if on the wrong thread",
                )
            ],
        ),
        ("add `Bound::as_unbound` (#3973)", "", [(3973, "add `Bound::as_unbound`")]),  # squash
        ("Merge #3211", "3211: Fix a thing r=a a=b\n", [(3211, "Fix a thing")]),  # bors, one
        (  # a bors batch (32c335e07): an octopus merge of two pull requests
            "Merge #3168 #3176",
            BORS_BODY,
            [
                (
                    3168,
                    "Do not apply deferred ref count updates and prevent the GIL from being "
                    "acquired inside of __traverse__ implementations.",
                ),
                (3176, "Prevent dropping unsendable classes on other threads."),
            ],
        ),
        ("release: 0.21.0", "", []),
        ("Fix (#12) in the middle of a title", "", []),
    ],
)
def test_pull_requests_from_real_subjects(
    subject: str, body: str, expect: list[tuple[int, str]]
) -> None:
    assert [(p.number, p.title) for p in pull_requests(subject, body)] == expect
    assert is_batch(subject) is (len(expect) > 1)


def test_pull_request_links() -> None:
    assert PullRequest(3689, "").link("PyO3/pyo3") == "https://github.com/PyO3/pyo3/pull/3689"


# --- a small PyO3-like history ---------------------------------------------------------------


def commit(repo: Path, message: str, version: str, files: dict[str, str] | None = None) -> str:
    (repo / "Cargo.toml").write_text(f'[package]\nname = "pyo3"\nversion = "{version}"\n')
    for name, text in (files or {}).items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@dataclass
class History:
    path: Path
    line: list[str]  # main's first-parent commits from the merge-base to v0.21.0, oldest first
    culprit: str  # the merge that brought the change
    heads: list[str]  # pull request heads of the batch, when there is one


def make_history(root: Path, *, batch: bool = False) -> History:
    """main: base -> 3 squashes -> the culprit merge (a PR, or a batch of two) -> 2 more -> v0.21.0;
    release branch: base -> v0.20.3."""
    repo = root / "pyo3"
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    base = commit(repo, "start of 0.21 (#1)", "0.21.0-dev")
    git(repo, "checkout", "-qb", "release-0.20")
    commit(repo, "release: 0.20.3", "0.20.3")
    git(repo, "tag", "v0.20.3")
    git(repo, "checkout", "-q", "main")
    line = [base] + [commit(repo, f"work {n} (#{n + 10})", "0.21.0-dev") for n in range(3)]
    heads = []
    for number in (20, 21) if batch else (20,):
        git(repo, "checkout", "-qb", f"pr{number}", line[1])
        heads.append(
            commit(
                repo,
                f"pr {number} change",
                "0.21.0-dev",
                {f"newsfragments/{number}.fixed.md": f"Fix number {number}."},
            )
        )
        git(repo, "checkout", "-q", "main")
    branches = [f"pr{n}" for n in ((20, 21) if batch else (20,))]
    subject = "Merge #20 #21" if batch else "Merge pull request #20 from someone/fix"
    body = "20: first r=a a=b\n\n21: second r=a a=b" if batch else "Fix the thing"
    git(repo, "merge", "-q", "--no-ff", "-m", subject, "-m", body, *branches)
    culprit = git(repo, "rev-parse", "HEAD")
    line.append(culprit)
    line += [commit(repo, f"after {n} (#{n + 30})", "0.21.0-dev") for n in range(2)]
    line.append(commit(repo, "release: 0.21.0", "0.21.0"))
    git(repo, "tag", "v0.21.0")
    return History(repo, line, culprit, heads)


def test_window_eras_and_export_on_a_made_history(tmp_path: Path) -> None:
    history = make_history(tmp_path)
    layout = Layout(cache=tmp_path / "cache", results=tmp_path / "results")
    repo = gitrepo.open_repo(str(history.path), layout)
    old, new = repo.tag_for("0.20.3"), repo.tag_for("0.21.0")
    assert repo.first_parent_line(repo.merge_base(old, new), new) == history.line
    culprit = repo.commit(history.culprit)
    assert [p.number for p in pull_requests(culprit.subject, culprit.body)] == [20]
    assert repo.added_files(history.culprit, "newsfragments") == [
        ("newsfragments/20.fixed.md", "Fix number 20.")
    ]
    # No tag is an ancestor of main here, so both eras come from the Cargo.toml's 0.21.0-dev.
    release = revisions.at(repo, history.line[2], layout)
    assert str(release.version) == "0.21.0" and release.next_era is None
    assert (
        release.cargo_version == f"git:{history.line[2][:9]}"
        and release.revision == history.line[2]
    )
    assert release.source is not None and (release.source / "Cargo.toml").is_file()
    newer = revisions.at(repo, history.line[2], layout, eras=_eras()).other_era()
    assert newer is not None and str(newer.version) == "0.21.0" and newer.next_era is None
    with pytest.raises(UserError, match="has no revision 'nope'"):
        repo.resolve("nope")


def _eras() -> tuple:  # type: ignore[type-arg]
    from packaging.version import Version

    return Version("0.20.3"), Version("0.21.0")


class FakeEvaluator:
    """Outcomes by commit; records like the real ones (revision, era); nothing is built."""

    def __init__(
        self,
        outcome_of: dict[str, Outcome],
        fails_old_era: set[str] = frozenset(),  # type: ignore[assignment]
        flaky: set[str] = frozenset(),  # type: ignore[assignment]
    ) -> None:
        self.outcome_of = outcome_of
        self.fails_old_era = fails_old_era
        self.flaky = flaky  # commits whose repeated runs disagree (pass, then abort)
        self.calls: list[tuple[str, str]] = []

    def evaluate(self, cell) -> tuple[Record, bool]:  # type: ignore[no-untyped-def]
        release = cell.release
        self.calls.append((release.revision, str(release.version)))
        outcome = self.outcome_of[release.revision]
        if release.revision in self.fails_old_era and release.next_era is not None:
            newer = release.retry_after(Outcome.BUILD_ERROR)
            assert newer is not None
            self.calls.append((release.revision, str(newer.version)))
            outcome, release = self.outcome_of[release.revision], newer
        runs = (Outcome.PASS, Outcome.ABORT) if release.revision in self.flaky else ()
        return make_record(
            outcome,
            *runs,
            pyo3=release.cargo_version,
            revision=release.revision,
            era=str(release.version),
            build=BuildInfo("k", True, "/w.whl", 1.0, False, "/b.log", None, True),
        ), False


def release_search(old: Outcome, new: Outcome) -> Search:
    labels = ("0.20.3", "0.21.0")
    probes = (
        Probe("0.20.3", make_record(old, pyo3="0.20.3"), Verdict.OLD, True, False),
        Probe("0.21.0", make_record(new, pyo3="0.21.0"), Verdict.NEW, True, False),
    )
    steps = (Step(0, Verdict.OLD, (0, 1), 0), Step(1, Verdict.NEW, (0, 1), 0))
    return Search(
        "pyo3",
        "CPython 3.11.7",
        labels,
        frozenset(),
        SearchResult("boundary", 0, 1, (), None, steps),
        probes,
    )


def refine(
    repo: gitrepo.Repo, fake: FakeEvaluator, layout: Layout, criteria: Criteria | None = None
) -> commits.CommitSearch | None:
    """The commit search inside the release answer "0.20.3: abort -> 0.21.0: pass"."""
    tools = commits.CommitBisect(
        repo,
        None,  # type: ignore[arg-type]
        INTERP,
        fake,  # type: ignore[arg-type]
        criteria or Criteria(),
        layout,
    )
    return commits.refine_commits(release_search(Outcome.ABORT, Outcome.PASS), tools)


@pytest.mark.parametrize("batch", [False, True])
def test_the_commit_search_names_the_merge_and_its_pull_request(
    tmp_path: Path, batch: bool
) -> None:
    history = make_history(tmp_path, batch=batch)
    layout = Layout(cache=tmp_path / "cache", results=tmp_path / "results")
    before = snapshot(history.path)
    repo = gitrepo.open_repo(str(history.path), layout)
    at = history.line.index(history.culprit)
    outcome_of = {
        sha: (Outcome.ABORT if i < at else Outcome.PASS) for i, sha in enumerate(history.line)
    }
    outcome_of.update({history.heads[0]: Outcome.ABORT})  # the first PR alone still aborts
    outcome_of.update({head: Outcome.PASS for head in history.heads[1:]})
    if not batch:
        outcome_of[history.heads[0]] = Outcome.PASS
    fake = FakeEvaluator(outcome_of, fails_old_era={history.line[1]})
    found = refine(repo, fake, layout)
    assert found is not None and not found.stopped
    assert found.first_new is not None and found.first_new.sha == history.culprit
    assert found.last_old is not None and found.last_old.sha == history.line[at - 1]
    probed = [sha for sha, _ in fake.calls]
    assert len(set(probed)) == len(
        [c for c in fake.calls if c[1] == "0.20.3"]
    )  # each commit once per era
    assert len(found.probes) <= found.bound
    if batch:
        assert [p.number for p in found.pulls] == [20, 21]
        assert found.culprit is not None and found.culprit.number == 21  # its own head passes
    else:
        assert [p.number for p in found.pulls] == [20] and found.culprit is None
        assert found.newsfragments == (("newsfragments/20.fixed.md", "Fix number 20."),)
    assert snapshot(history.path) == before  # the user's repository: files and refs untouched


@pytest.mark.parametrize(("rule", "found_culprit"), [("skip", True), ("stop", False)])
def test_the_commit_search_judges_flaky_commits_by_the_flaky_option(
    tmp_path: Path, rule: str, found_culprit: bool
) -> None:
    """--flaky means the same at commit level as at release level: `skip` steps around a
    commit whose runs disagree, `stop` stops there."""
    history = make_history(tmp_path)
    layout = Layout(cache=tmp_path / "cache", results=tmp_path / "results")
    repo = gitrepo.open_repo(str(history.path), layout)
    at = history.line.index(history.culprit)
    outcome_of = {
        sha: (Outcome.ABORT if i < at else Outcome.PASS) for i, sha in enumerate(history.line)
    }
    flaky = set(history.line[at + 1 : -1])  # after the culprit, before the release tag
    fake = FakeEvaluator(outcome_of, flaky=flaky)
    found = refine(repo, fake, layout, Criteria(flaky_rule=rule))
    assert found is not None
    assert any(p.record.flaky for p in found.probes)  # a flaky commit was probed
    if found_culprit:
        assert found.first_new is not None and found.first_new.sha == history.culprit
    else:
        assert found.first_new is None and found.result is not None
        assert found.result.kind == "flaky-stop"


def test_ends_that_do_not_match_the_releases_stop_at_the_release_answer(tmp_path: Path) -> None:
    history = make_history(tmp_path)
    layout = Layout(cache=tmp_path / "cache", results=tmp_path / "results")
    repo = gitrepo.open_repo(str(history.path), layout)
    fake = FakeEvaluator({sha: Outcome.PASS for sha in history.line})  # the merge-base passes
    found = refine(repo, fake, layout)
    assert found is not None and found.first_new is None
    assert "did not come down the main line" in found.stopped and not found.git_error


def test_a_repository_without_the_tags_is_a_git_error(tmp_path: Path) -> None:
    history = make_history(tmp_path)
    git(history.path, "tag", "-d", "v0.20.3")
    layout = Layout(cache=tmp_path / "cache", results=tmp_path / "results")
    repo = gitrepo.open_repo(str(history.path), layout)
    found = refine(repo, FakeEvaluator({}), layout)
    assert found is not None and found.git_error and "v0.20.3" in found.stopped


@pytest.mark.parametrize(
    ("source", "message"),
    [("missing", "does not exist"), ("plain", "is not a git repository")],
)
def test_bad_repositories_are_one_line(tmp_path: Path, source: str, message: str) -> None:
    (tmp_path / "plain").mkdir()
    layout = Layout(cache=tmp_path / "cache", results=tmp_path / "results")
    with pytest.raises(UserError, match=message):
        gitrepo.open_repo(str(tmp_path / source), layout)


def test_a_url_is_cloned_once_into_the_cache_and_fetched_only_when_asked(tmp_path: Path) -> None:
    history = make_history(tmp_path)
    layout = Layout(cache=tmp_path / "cache", results=tmp_path / "results")
    url = f"file://{history.path}"
    repo = gitrepo.open_repo(url, layout)
    assert repo.git_dir.is_relative_to(layout.cache) and repo.resolve("v0.21.0") == history.line[-1]
    newer = commit(history.path, "later (#99)", "0.21.1")
    again = gitrepo.open_repo(url, layout)  # no fetch: the clone still ends at v0.21.0
    with pytest.raises(UserError, match="has no revision"):
        again.resolve(newer)
    fetched = gitrepo.open_repo(url, layout, fetch=True)
    assert fetched.resolve(newer) == newer
    with pytest.raises(UserError, match="never written"):
        gitrepo.open_repo(str(history.path), layout, fetch=True)


@pytest.mark.parametrize(
    ("describe", "expect"),
    [
        ("v0.20.0-218-g8bef6e3", ("0.20.0", "0.21.0")),
        ("v0.21.0", ("0.21.0", "0.21.0")),
        ("4260818", ("0.21.0", "0.21.0")),  # no tag behind it: a short hash of digits only
        ("8bef6e3", ("0.21.0", "0.21.0")),
    ],
)
def test_eras_come_from_a_tag_and_the_manifest(describe: str, expect: tuple[str, str]) -> None:
    older, newer = revisions._eras(describe, '[package]\nname = "pyo3"\nversion = "0.21.0-dev"\n')
    assert (str(older), str(newer)) == expect
