"""From a release boundary to the commit and the pull request (`--pyo3-git`).

After the release search answers (last old, first new), the first-parent commits from the
merge-base of the two tags to the first-new tag are searched the same way: both ends are
checked first (the merge-base must behave like the old release, the tag like the new one;
otherwise the change did not come down the main line and the answer stays at the release),
then a binary search that steps around commits that cannot be built. Commits are exported and
built only when probed. The first new commit is named with the pull request(s) it merged; for
a batch of several (a bors octopus merge), each pull request's own head is probed to say which.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from packaging.version import Version

from pyo3_triage.bisecting.bisection import Criteria, Probe, Search, built, flaky_policy, judge
from pyo3_triage.bisecting.search import SearchResult, Step, Verdict, bisect, steps_left
from pyo3_triage.cells import Cell, Evaluator
from pyo3_triage.errors import UserError
from pyo3_triage.interpreters import Interpreter
from pyo3_triage.outcome import Outcome
from pyo3_triage.reproducers.reproducer import Reproducer
from pyo3_triage.store.records import Record
from pyo3_triage.system.paths import Layout
from pyo3_triage.toolchains import RustChoice
from pyo3_triage.versions import revisions
from pyo3_triage.versions.gitrepo import Commit, GitError, Repo
from pyo3_triage.versions.pulls import PullRequest, is_batch, pull_requests

DEFAULT_GITHUB = "PyO3/pyo3"
CommitStep = Callable[[Step, Probe, list[str]], None]


@dataclass(frozen=True)
class CommitSearch:
    """The commit-level answer inside one release boundary (or why there is none)."""

    fixed: str  # "CPython 3.11.7"
    old_release: str
    new_release: str
    line: tuple[str, ...]  # full hashes, merge-base first, the first-new tag last
    result: SearchResult | None
    probes: tuple[Probe, ...]
    stopped: str = ""  # why the search ended at the release answer
    git_error: bool = False  # stopped because the repository lacks what it needs (tags, history)
    first_new: Commit | None = None
    last_old: Commit | None = None
    pulls: tuple[PullRequest, ...] = ()
    culprit: PullRequest | None = None  # which pull request of a batch, when its head told
    batch_probes: tuple[Probe, ...] = ()
    newsfragments: tuple[tuple[str, str], ...] = ()
    github: str = DEFAULT_GITHUB
    github_known: bool = False  # False: the repository names no GitHub remote (links assume PyO3's)
    eras: dict[str, str] = field(default_factory=dict)  # commit -> release whose API was used

    @property
    def builds(self) -> int:
        return sum(1 for p in (*self.probes, *self.batch_probes) if p.built)

    @property
    def bound(self) -> int:
        return steps_left(0, len(self.line) - 1) + 2

    def commit_link(self, sha: str) -> str:
        return f"https://github.com/{self.github}/commit/{sha}"

    def compare_link(self) -> str | None:
        if self.first_new is None or self.last_old is None:
            return None
        return (
            f"https://github.com/{self.github}/compare/{self.last_old.sha}...{self.first_new.sha}"
        )


@dataclass(frozen=True)
class CommitBisect:
    """What trying a commit takes: the repository to export it from, the reproducer,
    interpreter (and toolchain) to build and run it with, and the criteria that judge the
    outcome."""

    repo: Repo
    reproducer: Reproducer
    interp: Interpreter
    evaluator: Evaluator
    criteria: Criteria
    layout: Layout
    rust: RustChoice | None = None  # the toolchain the release search built with (--rust)


@dataclass(frozen=True)
class _Boundary:
    """Trying commits inside one release answer, which fixes the APIs a commit in between may
    speak (`eras`), what the start did, and whether old and new are swapped."""

    tools: CommitBisect
    eras: tuple[Version, Version]
    start: Outcome | None
    reversed: bool

    def probe(self, sha: str, label: str) -> Probe:
        """Build and run the reproducer on a commit; like the release search's probes, the
        probe keeps the verdict the user's options give (never swapped)."""
        tools = self.tools
        release = revisions.at(tools.repo, sha, tools.layout, self.eras)
        cell = Cell(tools.reproducer, release, tools.interp, tools.rust)
        record, reused = tools.evaluator.evaluate(cell)
        verdict = judge(record, self.start, tools.criteria)
        matched = tools.criteria.matched(record)
        return Probe(label, record, verdict, reused, (not reused and built(record)), matched)

    def verdict(self, record: Record) -> Verdict:
        """What the search sees: old and new swapped when the release search was reversed."""
        found = judge(record, self.start, self.tools.criteria)
        if self.reversed:
            found = {Verdict.OLD: Verdict.NEW, Verdict.NEW: Verdict.OLD}.get(found, found)
        return found


def refine_commits(
    search: Search, tools: CommitBisect, on_step: CommitStep | None = None
) -> CommitSearch | None:
    """The commit-level search inside `search`'s release boundary; None when the release
    search found no boundary (nothing to refine)."""
    old, new = search.label_at(search.result.last_old), search.label_at(search.result.first_new)
    if search.axis != "pyo3" or search.result.kind != "boundary" or old is None or new is None:
        return None
    repo = tools.repo
    start = search.probes[0].record.outcome if search.probes else None
    github = repo.github or DEFAULT_GITHUB
    base = CommitSearch(
        search.fixed, old, new, (), None, (), github=github, github_known=bool(repo.github)
    )
    try:
        line = _main_line(repo, old, new)
    except (GitError, UserError) as err:
        why = f"the repository cannot give the commits between v{old} and v{new} ({err})"
        return _with(base, stopped=why, git_error=True)
    eras = (Version(old), Version(new))  # the APIs a commit in between may speak
    boundary = _Boundary(tools, eras, start, search.reversed)
    return _name_the_change(_search_line(_with(base, line=line), boundary, on_step), boundary)


def _main_line(repo: Repo, old: str, new: str) -> tuple[str, ...]:
    """The first-parent commits from the merge-base of the two release tags to the new tag."""
    old_tag, new_tag = repo.tag_for(old), repo.tag_for(new)
    merge_base = repo.merge_base(old_tag, new_tag)
    return tuple(repo.first_parent_line(merge_base, new_tag))


def _search_line(
    found: CommitSearch, boundary: _Boundary, on_step: CommitStep | None
) -> CommitSearch:
    """Check both ends of the line, then bisect it; each commit is built only when probed."""
    line = found.line
    last = len(line) - 1
    probes: dict[int, Probe] = {}
    era_used: dict[str, str] = {}

    def probe(index: int) -> Verdict:
        probes[index] = boundary.probe(line[index], f"{line[index][:9]}")
        era_used[line[index]] = probes[index].record.era
        return boundary.verdict(probes[index].record)

    def step(done: Step) -> None:
        if on_step is not None and done.index in probes:
            on_step(done, probes[done.index], [sha[:9] for sha in line])

    ends = {0: probe(0), last: probe(last)}
    if ends[0] is not Verdict.OLD or ends[last] is not Verdict.NEW:
        found = _with(found, probes=tuple(probes[i] for i in sorted(probes)), eras=era_used)
        return _off_main_line(found, probes[0].record, probes[last].record)
    flaky = flaky_policy(boundary.tools.criteria)
    result = bisect(len(line), probe, known=ends, on_step=step, flaky=flaky)
    ordered = tuple(probes[s.index] for s in result.steps if s.index in probes)
    return _with(found, result=result, probes=ordered, eras=era_used)


def _off_main_line(found: CommitSearch, first: Record, last: Record) -> CommitSearch:
    """Stop at the release answer: the line's ends do not behave like the two releases."""
    return _stop(
        found,
        f"the merge-base {found.line[0][:9]} gives {_word(first)} and v{found.new_release} "
        f"gives {_word(last)}, not like {found.old_release} and {found.new_release}: "
        "the change did not come down the main line",
    )


def _name_the_change(found: CommitSearch, boundary: _Boundary) -> CommitSearch:
    """The first new commit and the pull request(s) it merged, when the search found one;
    a batch merge goes on to ask which of its pull requests it was."""
    result = found.result
    if result is None or result.kind != "boundary":
        return found
    if result.first_new is None or result.last_old is None:
        return found
    repo = boundary.tools.repo
    first_new = repo.commit(found.line[result.first_new])
    pulls = pull_requests(first_new.subject, first_new.body)
    found = _with(
        found,
        first_new=first_new,
        last_old=repo.commit(found.line[result.last_old]),
        pulls=pulls,
        newsfragments=tuple(repo.added_files(first_new.sha, "newsfragments")),
    )
    if len(first_new.parents) > 2 or is_batch(first_new.subject):
        found = _into_batch(found, first_new, boundary)
    return found


def _into_batch(found: CommitSearch, merge: Commit, boundary: _Boundary) -> CommitSearch:
    """A batch merged several pull requests at once: probe each one's head on its own; the
    culprit is the one head that behaves like the new release, if exactly one does."""
    heads = merge.parents[1:]
    probes = []
    new_heads = []
    for number, head in enumerate(heads):
        pull = found.pulls[number] if number < len(found.pulls) else None
        label = f"{head[:9]}" + (f" (#{pull.number})" if pull else "")
        probe = boundary.probe(head, label)
        probes.append(probe)
        if boundary.verdict(probe.record) is Verdict.NEW and pull is not None:
            new_heads.append(pull)
    culprit = new_heads[0] if len(new_heads) == 1 else None
    return _with(found, batch_probes=tuple(probes), culprit=culprit)


def _word(record: Record) -> str:
    return record.outcome.value


def _with(search: CommitSearch, **changes: object) -> CommitSearch:
    return replace(search, **changes)  # type: ignore[arg-type]


def _stop(search: CommitSearch, why: str) -> CommitSearch:
    return _with(search, stopped=why)
