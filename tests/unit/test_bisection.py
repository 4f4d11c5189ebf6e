"""Bisection around the pure search: which candidates a search walks, how a probe says where
its record came from, a whole search over fake cells, and the answer's wording for every kind."""

from __future__ import annotations

import pytest
from factories import interp, make_record, make_run
from packaging.version import Version

from pyo3_triage.bisecting.bisection import (
    Criteria,
    Probe,
    Search,
    answer,
    built,
    flaky_policy,
    python_candidates,
    release_candidates,
    run,
)
from pyo3_triage.bisecting.search import FlakyPolicy, SearchResult, Verdict
from pyo3_triage.evidence import BuildInfo
from pyo3_triage.outcome import Outcome
from pyo3_triage.reproducers import scenarios
from pyo3_triage.store.records import Record
from pyo3_triage.versions.releases import Release

SCENARIO = scenarios.resolve("unsendable_gc_traverse")


def release(vers: str, yanked: bool = False) -> Release:
    return Release(Version(vers), yanked=yanked, vers=vers)


# 0.16.6 declares 3.7-3.10, 0.17.3 3.7-3.11, 0.20.3 3.7-3.12, 0.22.x 3.7-3.13
RELEASES = [release("0.16.6"), release("0.17.3"), release("0.20.3"), release("0.22.0", True)]
RELEASES.append(release("0.22.1"))


def test_release_candidates_are_those_declaring_the_cpython() -> None:
    primary = {"0.16.6", "0.20.3", "0.22.1"}
    found = release_candidates(SCENARIO, RELEASES, primary, interp("3.12.1"))
    assert found is not None
    assert (found.axis, found.fixed) == ("pyo3", "CPython 3.12.1")
    assert found.labels == ("0.20.3", "0.22.0", "0.22.1")
    assert found.primary == (0, 2)  # the yanked 0.22.0 is left to the refinement
    assert found.yanked == frozenset({"0.22.0"}) and found.excluded == ("0.16.6", "0.17.3")
    assert [c.release.cargo_version for c in found.cells] == list(found.labels)
    assert {str(c.interp.version) for c in found.cells} == {"3.12.1"}
    assert found.first_pass_bound == 2  # two primary candidates: their two ends

    every = release_candidates(SCENARIO, RELEASES, primary, interp("3.12.1"), True)
    assert every is not None and every.excluded == () and every.primary == (0, 2, 4)
    assert release_candidates(SCENARIO, RELEASES, {"0.22.1"}, interp("3.12.1")) is None
    assert release_candidates(SCENARIO, RELEASES, primary, interp("3.14.0")) is None


def test_python_candidates_are_those_the_release_declares() -> None:
    pythons = [interp("3.9.18"), interp("3.10.13"), interp("3.12.1")]
    found = python_candidates(SCENARIO, release("0.16.6"), pythons)
    assert found is not None
    assert (found.axis, found.fixed) == ("python", "PyO3 0.16.6")
    assert found.labels == ("3.9.18", "3.10.13") and found.excluded == ("3.12.1",)
    assert found.primary == (0, 1) and found.yanked == frozenset()
    forced = python_candidates(SCENARIO, release("0.16.6"), pythons, build_unsupported=True)
    assert forced is not None and len(forced.labels) == 3 and forced.excluded == ()
    assert python_candidates(SCENARIO, release("0.16.6"), pythons[2:]) is None


def a_build(*, cached: bool = False, duration: float = 3.0) -> BuildInfo:
    return BuildInfo("b", True, "/w.whl", duration, cached, "/b.log", None, True)


def test_a_probe_says_where_its_record_came_from() -> None:
    fresh = make_record(build=a_build())
    assert built(fresh) and not built(make_record(build=a_build(cached=True)))
    assert not built(make_record())  # no build at all: unsupported, or the lock failed
    assert Probe("0.20.3", fresh, Verdict.OLD, True, False).how == "stored record"
    assert Probe("0.20.3", fresh, Verdict.OLD, False, True).how == "built"
    cached = make_record(build=a_build(cached=True, duration=0.0))
    assert Probe("0.20.3", cached, Verdict.OLD, False, False).how == "cached build"
    assert Probe("0.20.3", make_record(), Verdict.SKIP, False, False).how == "not built"
    # A user crate whose dependencies could not be resolved: a build record, nothing built.
    unresolved = BuildInfo("b", False, None, 0.0, False, "/b.log", "failed to select", False)
    no_lock = make_record(Outcome.SETUP_ERROR, build=unresolved)
    assert Probe("0.20.3", no_lock, Verdict.SKIP, False, False).how == "not built"


def test_the_flaky_rule_becomes_the_search_policy() -> None:
    assert flaky_policy(Criteria(flaky_rule="skip")) is FlakyPolicy.AS_SKIP
    assert flaky_policy(Criteria(flaky_rule="stop")) is FlakyPolicy.STOP
    assert flaky_policy(Criteria()) is FlakyPolicy.STOP


class FakeEvaluator:
    def __init__(self, outcomes: dict[str, Outcome]) -> None:
        self.outcomes = outcomes
        self.asked: list[str] = []

    def evaluate(self, cell) -> tuple[Record, bool]:  # type: ignore[no-untyped-def]
        label = cell.release.cargo_version
        self.asked.append(label)
        record = make_record(self.outcomes[label], pyo3=label, build=a_build())
        return record, label == "0.16.6"  # one of them from the store


def test_a_search_over_releases_refines_into_the_yanked_one() -> None:
    versions = ["0.20.0", "0.20.1", "0.20.2", "0.20.3", "0.21.0"]
    releases = [release(v, yanked=v == "0.20.2") for v in versions]
    outcomes = dict(zip(versions, [Outcome.ABORT] * 2 + [Outcome.PASS] * 3))
    primary = set(versions) - {"0.20.2"}
    found = release_candidates(SCENARIO, releases, primary, interp("3.12.1"))
    assert found is not None
    fake = FakeEvaluator(outcomes)
    search = run(found, fake, Criteria())  # type: ignore[arg-type]
    assert (search.result.kind, search.result.last_old, search.result.first_new) == (
        "boundary",
        1,
        2,
    )
    assert answer(search) == "fixed in 0.20.2 (yanked) (0.20.1: abort -> 0.20.2 (yanked): pass)"
    assert [p.label for p in search.probes] == fake.asked and len(set(fake.asked)) == len(
        fake.asked
    )
    assert search.probes[0].label == "0.20.0" and search.probes[1].label == "0.21.0"
    assert search.builds == len(search.probes) and search.primary == found.primary
    assert not search.reversed


def search(kind: str, outcomes: list[Record], **result: object) -> Search:
    labels = tuple(f"0.{19 + i}.0" for i in range(max(len(outcomes), 2)))
    probes = tuple(Probe(labels[i], r, Verdict.OLD, True, False) for i, r in enumerate(outcomes))
    fields: dict[str, object] = dict(
        last_old=None, first_new=None, skipped_between=(), flaky_at=None
    )
    fields.update(result)
    found = SearchResult(kind, steps=(), **fields)  # type: ignore[arg-type]
    return Search("pyo3", "CPython 3.12.1", labels, frozenset({labels[-1]}), found, probes)


MISSING = "python: can't open file '/p/reproo.py': [Errno 2] No such file or directory"


@pytest.mark.parametrize(
    ("kind", "records", "expect"),
    [
        (
            "bad-start",
            [make_record(Outcome.BUILD_ERROR, note="error[E0599]: no method")],
            "cannot search: the start 0.19.0 is untestable (build-error: error[E0599]: no "
            "method; to bisect a compile-time change, add --old build-error)",
        ),
        (
            "bad-start",
            [make_record(Outcome.PYO3_ERROR, note="PyO3's own crate `pyo3-ffi` does not compile")],
            "cannot search: the start 0.19.0 is untestable (pyo3-error: PyO3's own crate "
            "`pyo3-ffi` does not compile; to bisect where PyO3's own crates stop or start "
            "compiling, add --old pyo3-error)",
        ),
        (
            "bad-end",
            [make_record(Outcome.ABORT), make_record(Outcome.IMPORT_ERROR)],
            "cannot search: the end 0.20.0 (yanked) is untestable (import-error; to bisect a "
            "change to import-error, add --new import-error)",
        ),
        (
            "bad-end",
            [make_record(Outcome.ABORT), make_record(Outcome.SETUP_ERROR, note="no network")],
            "cannot search: the end 0.20.0 (yanked) is untestable (setup-error: no network)",
        ),
        ("bad-start", [], "cannot search: the start is untestable"),
        (
            "no-change",
            [make_record(Outcome.ABORT), make_record(Outcome.ABORT)],
            "no change: both ends behave alike (0.19.0: abort and 0.20.0 (yanked): abort); a change "
            "undone inside the range does not show this way: bisect narrower ranges",
        ),
        (
            "no-change",
            [
                make_record(Outcome.ERROR, runs=(make_run(Outcome.ERROR, exception=MISSING),)),
                make_record(Outcome.ERROR, runs=(make_run(Outcome.ERROR, exception=MISSING),)),
            ],
            "no change: both ends behave alike (0.19.0: error and 0.20.0 (yanked): error), both "
            f"with: {MISSING}; if that is the reproducer failing, fix it first",
        ),
    ],
)
def test_searches_that_cannot_answer_say_why(kind: str, records: list[Record], expect: str) -> None:
    assert answer(search(kind, records)) == expect


def test_a_flaky_stop_names_the_candidate_and_its_runs() -> None:
    flaky = make_record(Outcome.ABORT, Outcome.ABORT, Outcome.PASS)
    found = search("flaky-stop", [make_record(Outcome.PASS), flaky], flaky_at=1)
    assert answer(found) == (
        "stopped: 0.20.0 (yanked) is flaky (abort, pass); rerun with --repeat or --flaky"
    )


def test_an_ambiguous_answer_lists_the_untestable_candidates_between() -> None:
    records = [make_record(Outcome.ABORT), make_record(Outcome.BUILD_ERROR)]
    records += [make_record(Outcome.BUILD_ERROR), make_record(Outcome.PASS), make_record()]
    found = search("ambiguous", records, last_old=0, first_new=3, skipped_between=(1, 2))
    assert answer(found) == (
        "changed between 0.19.0 and 0.22.0; untestable in between: 0.20.0, 0.21.0 "
        "(0.19.0: abort -> 0.22.0: pass)"
    )


def test_a_flaky_side_of_the_answer_says_how_often() -> None:
    flaky = make_record(Outcome.ABORT, Outcome.ABORT, Outcome.PASS, Outcome.ABORT, Outcome.ABORT)
    found = search("boundary", [make_record(Outcome.PASS), flaky, flaky], last_old=0, first_new=1)
    assert answer(found) == "regressed in 0.20.0 (0.19.0: pass -> 0.20.0: abort (flaky 3/4))"


def test_search_lookups() -> None:
    found = search("boundary", [make_record(), make_record(Outcome.ABORT)], last_old=0, first_new=1)
    assert found.label_at(None) is None and found.label_at(1) == "0.20.0"
    assert found.shown("0.20.0") == "0.20.0 (yanked)" and found.shown("0.19.0") == "0.19.0"
    probe = found.probe_for(1)
    assert probe is not None and probe.record.outcome is Outcome.ABORT
    assert found.probe_for(None) is None and found.builds == 0


def test_an_answer_says_when_the_compile_error_is_a_warning_the_crate_denies() -> None:
    denied = BuildInfo(
        "b",
        False,
        None,
        1.0,
        False,
        "/b.log",
        "error: use of deprecated",
        False,
        compile_error=True,
        denied_lint="#![deny(warnings)]",
    )
    records = [make_record(), make_record(Outcome.BUILD_ERROR, build=denied)]
    found = search("boundary", records, last_old=0, first_new=1)
    assert answer(found) == (
        "regressed in 0.20.0 (yanked) (0.19.0: pass -> 0.20.0 (yanked): build-error); the "
        "compile error is a warning the crate turns into an error (#![deny(warnings)])"
    )
