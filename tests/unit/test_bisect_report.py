"""The bisect report from constructed searches: its Markdown (answer, compare link, CHANGELOG
suspects, probes, evidence, commit level) and the JSON written beside it."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from factories import make_record, make_run

from pyo3_triage.bisecting import bisect_report
from pyo3_triage.bisecting.bisection import Probe, Search
from pyo3_triage.bisecting.commits import CommitSearch
from pyo3_triage.bisecting.search import SearchResult, Step, Verdict
from pyo3_triage.evidence import BuildInfo, LockInfo
from pyo3_triage.outcome import Outcome
from pyo3_triage.reporting.markdown import Environment
from pyo3_triage.reproducers.scenarios import Scenario
from pyo3_triage.versions.gitrepo import Commit
from pyo3_triage.versions.pulls import PullRequest

ENV = Environment("2026-11-29 12:00 UTC", "Linux-x86_64")
RESULTS = Path("/work/results")
RUST = "#[pyclass(unsendable)]\nstruct Holder;\nfn __traverse__() {}\n"
CHANGES = """# Changelog
## [Unreleased]
- Something later.
## [0.21.0] - 2024-03-25
### Fixed
- Fix `__traverse__` of unsendable classes aborting. [#3689]
- Raw <b>html</b> is kept out.
## [0.20.3] - 2024-02-23
- Older entry about unsendable things.
"""


def scenario(tmp_path: Path) -> Scenario:
    return Scenario(
        "gc_bug", tmp_path, "A *cycle* bug", "", 60.0, "ext", (), (), RUST, tmp_path, ""
    )


def probe(label: str, outcome: Outcome, verdict: Verdict, built: bool = True) -> Probe:
    run = make_run(outcome, duration=0.5)
    if outcome is Outcome.ABORT:
        run = dataclasses.replace(run, panic_message="already mutably borrowed", signal="SIGABRT")
    build = BuildInfo("b", True, "/w.whl", 1.0, not built, "/b.log", None, True)
    record = make_record(outcome, key=f"k-{label}", pyo3=label, runs=(run,), build=build)
    return Probe(label, record, verdict, False, built)


def release_search(**change: object) -> Search:
    labels = ("0.19.0", "0.20.3", "0.21.0")
    probes = (
        probe("0.19.0", Outcome.ABORT, Verdict.OLD),
        probe("0.21.0", Outcome.PASS, Verdict.NEW, built=False),
        probe("0.20.3", Outcome.ABORT, Verdict.OLD),
    )
    steps = tuple(Step(i, Verdict.OLD, (0, 2), 0) for i in (0, 2, 1))
    result = SearchResult("boundary", 1, 2, (), None, steps)
    fields: dict[str, object] = dict(axis="pyo3", fixed="CPython 3.11.7", labels=labels)
    fields.update(yanked=frozenset(), result=result, probes=probes, excluded=("0.16.6",))
    fields.update(change)
    return Search(**fields)  # type: ignore[arg-type]


def test_compare_links_only_for_release_boundaries() -> None:
    assert bisect_report.compare_link(release_search()) == (
        "https://github.com/PyO3/pyo3/compare/v0.20.3...v0.21.0"
    )
    assert bisect_report.compare_link(release_search(axis="python")) is None
    no_change = SearchResult("no-change", 2, None, (), None, ())
    assert bisect_report.compare_link(release_search(result=no_change)) is None


def test_the_report_of_one_search(tmp_path: Path) -> None:
    text = bisect_report.markdown(scenario(tmp_path), [release_search()], ENV, RESULTS, {})
    assert text.startswith(
        "## Bisect: `gc_bug`\n\n`gc_bug` was fixed in PyO3 0.21.0 on CPython 3.11.7: abort -> "
        "pass.\n\nA \\*cycle\\* bug\n\n"
    )
    assert "| | last old |" not in text  # the summary table is for several searches
    assert "### CPython 3.11.7: fixed in 0.21.0 (0.20.3: abort -> 0.21.0: pass)" in text
    assert "Searched 0.19.0 .. 0.21.0 (3 candidates)." in text
    assert "Compare: https://github.com/PyO3/pyo3/compare/v0.20.3...v0.21.0" in text
    assert "Probes: 3 of 3 candidates, 2 build(s) done." in text
    assert "| 1 | 0.19.0 | abort | old | 1.5s | built |" in text
    assert "| 2 | 0.21.0 | pass | new | 1.5s | cached build |" in text
    assert "Not searched (outside their declared CPython or Rust window): 0.16.6." in text
    # the evidence is the failing side of the boundary: 0.20.3, the last old (a fix)
    assert "Panic / crash on 0.20.3 (abort):\n\n` already mutably borrowed `" in text
    assert "Reproduce that cell: `" in text and "--pyo3 0.20.3" in text
    assert "CHANGELOG" not in text  # no texts given
    assert "<details><summary>Environment</summary>" in text and text.endswith("</details>\n")


def test_yanked_reversed_and_several_searches(tmp_path: Path) -> None:
    one = release_search(yanked=frozenset({"0.21.0"}), reversed=True)
    other = release_search(fixed="CPython 3.12.1", excluded=())
    text = bisect_report.markdown(scenario(tmp_path), [one, other], ENV, RESULTS, {})
    assert "| CPython 3.11.7 | 0.20.3 | 0.21.0 | fixed in 0.21.0 (yanked) (0.20.3: abort" in text
    assert "| CPython 3.12.1 | 0.20.3 | 0.21.0 | fixed in 0.21.0 (0.20.3" in text
    assert "Yanked on crates.io: 0.21.0 (built from a pinned lockfile)." in text
    assert "The start 0.19.0 already showed an outcome `--new` names" in text
    assert text.count("Not searched") == 1


def test_changelog_suspects_and_sections_in_the_boundary(tmp_path: Path) -> None:
    text = bisect_report.markdown(
        scenario(tmp_path), [release_search()], ENV, RESULTS, {"0.21.0": CHANGES}
    )
    suspects = text.split("Likely suspects (CHANGELOG entries sharing words with the scenario):\n")
    assert suspects[1].startswith("- 0.21.0: Fix `__traverse__` of unsendable classes aborting.")
    assert "Older entry" not in text and "Something later" not in text  # outside (0.20.3, 0.21.0]
    assert "<details><summary>CHANGELOG of the releases in the boundary</summary>" in text
    assert "**0.21.0**\n**Fixed**" in text  # headings become bold lines
    assert "Raw &lt;b>html&lt;/b> is kept out." in text and "<b>" not in text


def test_a_long_changelog_is_cut(tmp_path: Path) -> None:
    long = "## [0.21.0]\n" + "".join(f"- entry {i}\n" for i in range(300))
    text = bisect_report.markdown(
        scenario(tmp_path), [release_search()], ENV, RESULTS, {"0.21.0": long}
    )
    assert f"(cut at {bisect_report.MAX_CHANGELOG_LINES} lines;" in text
    assert "- entry 118" in text and "- entry 119" not in text  # the version line counts


def test_the_changelogs_to_read_are_the_first_new_releases() -> None:
    no_change = SearchResult("no-change", 2, None, (), None, ())
    searches = [release_search(), release_search(axis="python"), release_search(result=no_change)]
    assert bisect_report.first_new_releases(searches) == ["0.21.0"]
    assert bisect_report.first_new_releases([]) == []


COMMITS = [Commit(c * 40, (), f"subject {c}", "", "2024-03-01T10:00:00+00:00") for c in "ab"]


def commit_search() -> CommitSearch:
    pull, other = PullRequest(3689, "Make traverse a no-op"), PullRequest(3690, "Docs")
    old = make_record(Outcome.ABORT, revision="a" * 40, era="0.20.3")
    new = make_record(Outcome.PASS, revision="b" * 40, era="0.21.0")
    probes = (
        Probe("a" * 9, old, Verdict.OLD, False, True),
        Probe("b" * 9, new, Verdict.NEW, True, False),
    )
    result = SearchResult("boundary", 0, 1, (), None, ())
    return CommitSearch(
        "CPython 3.11.7", "0.20.3", "0.21.0", ("a" * 40, "b" * 40), result, probes,
        first_new=COMMITS[1], last_old=COMMITS[0], pulls=(pull, other), culprit=pull,
        newsfragments=(("newsfragments/3689.fixed.md", "Fix <traverse>."),),
    )  # fmt: skip


def test_the_commit_level_in_lines_markdown_and_json(tmp_path: Path) -> None:
    found = commit_search()
    lines = bisect_report.commit_lines(found)
    assert lines[0] == "commits v0.20.3 .. v0.21.0: 2 on the first-parent line"
    assert lines[1] == "first new commit: bbbbbbbbb 'subject b' (2024-03-01)"
    assert lines[2] == f"https://github.com/PyO3/pyo3/commit/{'b' * 40}"
    assert lines[3].endswith("https://github.com/PyO3/pyo3/pull/3689 <- this one")
    assert "<- this one" not in lines[4]
    assert lines[-1] == "2 commit probes, 1 commit builds (bound without untestable commits: 2)"

    section = bisect_report.commit_section(found, RESULTS)
    assert "First new commit: [`bbbbbbbbb`](https://github.com/PyO3/pyo3/commit/" in section
    assert "(the one: its own head behaves like the new release)" in section
    assert "> Fix &lt;traverse>." in section and "(Links assume github.com/PyO3/pyo3" in section
    assert "| 1 | `aaaaaaaaa` | 0.20.3 | abort | old | built |" in section

    stopped = dataclasses.replace(found, stopped="the merge-base already passes")
    assert bisect_report.commit_lines(stopped)[1] == (
        "stopped at the release answer: the merge-base already passes"
    )

    search = release_search()
    text = bisect_report.markdown(
        scenario(tmp_path), [search], ENV, RESULTS, {}, {search.fixed: found}
    )
    assert "#### Commit level: v0.20.3 .. v0.21.0 (2 first-parent commits)" in text
    data = json.loads(
        bisect_report.as_json(
            scenario(tmp_path), [search], ["--pyo3", "0.19..0.21"], {search.fixed: found}
        )
    )
    level = data["searches"][0]["commit_level"]
    assert level["first_new"] == "b" * 40 and level["culprit"] == 3689
    assert level["window"] == ["a" * 40, "b" * 40] and level["commits"] == 2
    assert [p["era"] for p in level["probes"]] == ["0.20.3", "0.21.0"]


def test_the_json_beside_the_report(tmp_path: Path) -> None:
    reproducer = scenario(tmp_path)
    search = release_search(yanked=frozenset({"0.19.0"}))
    data = json.loads(bisect_report.as_json(reproducer, [search], ["--pyo3", "0.19..0.21"]))
    assert (data["scenario"], data["scenario_hash"]) == ("gc_bug", reproducer.run_hash)
    assert data["argv"] == ["--pyo3", "0.19..0.21"]
    (one,) = data["searches"]
    assert (one["kind"], one["last_old"], one["first_new"]) == ("boundary", "0.20.3", "0.21.0")
    assert one["answer"] == "fixed in 0.21.0 (0.20.3: abort -> 0.21.0: pass)"
    assert one["compare"].endswith("v0.20.3...v0.21.0") and one["commit_level"] is None
    assert one["candidates"] == ["0.19.0", "0.20.3", "0.21.0"] and one["yanked"] == ["0.19.0"]
    assert one["excluded"] == ["0.16.6"] and one["builds"] == 2 and one["reversed"] is False
    assert [p["candidate"] for p in one["probes"]] == ["0.19.0", "0.21.0", "0.20.3"]
    assert one["probes"][1] == {
        "candidate": "0.21.0",
        "outcome": "pass",
        "verdict": "new",
        "record": "k-0.21.0",
        "reused": False,
        "built": False,
    }


def test_a_boundary_where_companions_moved_says_so() -> None:
    """The two sides of the answer were built with other companion versions: the reader can
    tell a PyO3 change from a companion's."""
    search = release_search()
    assert bisect_report.companions_line(search) == ""  # no companions: nothing to say

    def with_companions(p: Probe, numpy: str) -> Probe:
        lock = LockInfo(p.label, companions=(("numpy", numpy), ("pythonize", "0.21.1")))
        return dataclasses.replace(p, record=dataclasses.replace(p.record, lock=lock))

    old, new, mid = search.probes
    moved = release_search(
        probes=(
            with_companions(old, "0.19.0"),
            with_companions(new, "0.21.0"),
            with_companions(mid, "0.20.0"),
        )
    )
    assert bisect_report.companions_line(moved) == (
        "Companion crates moved with the release: numpy 0.20.0 -> 0.21.0. The change may be "
        "theirs, not PyO3's."
    )
