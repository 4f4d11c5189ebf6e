"""The one sentence on top of a bisect report, from searches shaped as the README's real
bisects: the founding bug fixed in 0.21.0 (and its pull request), the toolchain that broke
`deny_warnings_non_local_impl`, and a search with nothing to find."""

from __future__ import annotations

from pathlib import Path

from factories import make_record

from pyo3_triage.bisecting import bisect_report, finding
from pyo3_triage.bisecting.bisection import Probe, Search
from pyo3_triage.bisecting.commits import CommitSearch
from pyo3_triage.bisecting.search import ResultKind, SearchResult, Verdict
from pyo3_triage.outcome import Outcome
from pyo3_triage.reporting.markdown import Environment
from pyo3_triage.reproducers.scenarios import Scenario
from pyo3_triage.versions.gitrepo import Commit
from pyo3_triage.versions.pulls import PullRequest


def search(
    fixed: str,
    probed: dict[str, Outcome],
    labels: tuple[str, ...] = (),
    kind: ResultKind = "boundary",
    axis: str = "pyo3",
) -> Search:
    """A search over `labels` (default: the probed ones) that probed `probed` in that order;
    a boundary is the adjacent pair whose outcomes differ."""
    labels = labels or tuple(probed)
    probes = tuple(
        Probe(label, make_record(outcome, pyo3=label), Verdict.OLD, False, True)
        for label, outcome in probed.items()
    )
    in_order = sorted(probed, key=labels.index)
    pair = next(
        (labels.index(a), labels.index(b))
        for a, b in zip(in_order, in_order[1:])
        if probed[a] is not probed[b]
    ) if kind in ("boundary", "ambiguous") else (None, None)  # fmt: skip
    result = SearchResult(kind, pair[0], pair[1], (), None, ())
    return Search(axis, fixed, labels, frozenset(), result, probes)


RELEASES = ("0.19.0", "0.19.1", "0.19.2", "0.20.0", "0.20.1", "0.20.2", "0.20.3", "0.21.0")
FIXED = {"0.19.0": Outcome.ABORT, "0.21.0": Outcome.PASS, "0.20.3": Outcome.ABORT}


def test_a_fix_found_on_every_cpython_is_said_once() -> None:
    searches = [search(f"CPython {v}", FIXED, RELEASES) for v in ("3.11.7", "3.12.1")]
    assert finding.sentence("unsendable_gc_traverse", searches) == (
        "unsendable_gc_traverse was fixed in PyO3 0.21.0 on every CPython tried "
        "(3.11.7, 3.12.1): abort -> pass."
    )
    assert finding.predicate(searches[:1]) == (
        "was fixed in PyO3 0.21.0 on CPython 3.11.7: abort -> pass"
    )


def test_the_pull_request_the_commit_level_named() -> None:
    commit = Commit("8bef6e339" + "0" * 31, (), "Merge pull request #3689", "", "2023-12-23")
    pull = PullRequest(3689, "Turn calls of __traverse__ into no-ops")
    found = CommitSearch(
        "CPython 3.11.7", "0.20.3", "0.21.0", (), None, (), first_new=commit, pulls=(pull,)
    )
    one = search("CPython 3.11.7", FIXED, RELEASES)
    assert finding.predicate([one], {"CPython 3.11.7": found}) == (
        "was fixed in PyO3 0.21.0 on CPython 3.11.7: abort -> pass (pull request #3689)"
    )


def test_searches_that_found_different_things_are_said_in_turn() -> None:
    regressed = {"0.26.0": Outcome.PASS, "0.27.0": Outcome.ERROR}
    searches = [
        search("CPython 3.9.18", regressed),
        search("CPython 3.11.7", regressed),
        search(
            "CPython 3.12.1", {"0.26.0": Outcome.ERROR, "0.27.0": Outcome.ERROR}, kind="no-change"
        ),
    ]
    assert finding.predicate(searches) == (
        "regressed in PyO3 0.27.0 on CPython 3.9.18 and 3.11.7: pass -> error; "
        "did not change on CPython 3.12.1 (error at both ends)"
    )


def test_the_toolchain_that_broke_the_build() -> None:
    rusts = {
        "1.70": Outcome.PASS,
        "1.95": Outcome.BUILD_ERROR,
        "1.82": Outcome.PASS,
        "1.83": Outcome.BUILD_ERROR,
    }
    found = search(
        "PyO3 0.20.3 on CPython 3.11.7", rusts, ("1.70", "1.82", "1.83", "1.95"), axis="rust"
    )
    assert finding.predicate([found]) == (
        "regressed in Rust 1.83 for PyO3 0.20.3 on CPython 3.11.7: pass -> build-error"
    )


def test_nothing_to_search_and_an_untestable_end() -> None:
    alike = {"3.8.18": Outcome.ABORT, "3.12.1": Outcome.ABORT}
    assert finding.predicate([search("PyO3 0.20.3", alike, axis="python", kind="no-change")]) == (
        "did not change for PyO3 0.20.3 (abort at both ends)"
    )
    broken = {"0.16.6": Outcome.PASS, "0.30.1": Outcome.BUILD_ERROR}
    assert finding.predicate([search("CPython 3.11.7", broken, kind="bad-end")]) == (
        "could not be searched on CPython 3.11.7 (the end is build-error)"
    )
    assert finding.sentence("s", []) == ""


def test_the_report_opens_with_the_sentence(tmp_path: Path) -> None:
    scenario = Scenario(
        "gc_bug", tmp_path, "A cycle bug", "", 60.0, "ext", (), (), "", tmp_path, ""
    )
    one = search("CPython 3.11.7", FIXED, RELEASES)
    text = bisect_report.markdown(scenario, [one], Environment("now", "Linux"), tmp_path, {})
    assert text.startswith(
        "## Bisect: `gc_bug`\n\n"
        "`gc_bug` was fixed in PyO3 0.21.0 on CPython 3.11.7: abort -> pass.\n\n"
        "A cycle bug\n\n"
    )
