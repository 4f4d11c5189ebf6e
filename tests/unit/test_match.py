"""`--match REGEX`: which evidence it searches, how it changes what a cell counts as (judge,
--git-bisect-exit), a whole search that steps around a second, unrelated crash instead of
calling it the change, what the report and the matrix say, and bad input as a user meets it."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from factories import interp, make_record, make_run
from packaging.version import Version

from pyo3_triage.bisecting import bisect_report
from pyo3_triage.bisecting.bisection import (
    answer,
    criteria_from,
    git_bisect_status,
    judge,
    python_candidates,
    release_candidates,
    run,
)
from pyo3_triage.bisecting.search import Verdict
from pyo3_triage.commands import bisect_cli, matrix_cli
from pyo3_triage.errors import EXIT_USAGE, UserError
from pyo3_triage.evidence import BuildInfo
from pyo3_triage.matching import MATCH_MARK, evidence, matches
from pyo3_triage.outcome import Outcome
from pyo3_triage.reporting import markdown, table
from pyo3_triage.reproducers import scenarios
from pyo3_triage.store.records import Record
from pyo3_triage.versions.releases import Release

OURS = "thread 'main' panicked at src/lib.rs:12:5: tp_traverse of an unsendable pyclass"
UNRELATED = "AttributeError: module 'gc_bug' has no attribute 'Holder'"


def aborted(message: str, **overrides: object) -> Record:
    """An abort whose panic message (and stderr, as a real one) is `message`."""
    crash = make_run(Outcome.ABORT, signal="SIGABRT", panic_message=message, stderr_tail=message)
    return make_record(Outcome.ABORT, runs=(crash,), **overrides)


def errored(exception: str, **overrides: object) -> Record:
    failed = make_run(Outcome.ERROR, exit_status=1, exception=exception, stderr_tail=exception)
    return make_record(Outcome.ERROR, runs=(failed,), **overrides)


# --- what is searched --------------------------------------------------------------------
def test_the_regex_searches_panic_exception_stderr_and_compile_error() -> None:
    tp = re.compile("tp_traverse")
    assert matches(aborted(OURS), tp)
    assert not matches(aborted("already borrowed"), tp)
    # Only on stderr: a C-level crash that printed no panic message.
    crashed = make_run(Outcome.SEGFAULT, stderr_tail="Fatal Python error: in tp_traverse\n")
    assert matches(make_record(Outcome.SEGFAULT, runs=(crashed,)), tp)
    assert matches(errored("RuntimeError: tp_traverse failed"), tp)
    build = BuildInfo("b", False, None, 1.0, False, "log", "error[E0599]: no method", False)
    broken = make_record(Outcome.BUILD_ERROR, runs=(), build=build)
    assert matches(broken, re.compile(r"E0599")) and evidence(broken) == (
        "error[E0599]: no method",
    )
    assert matches(
        make_record(Outcome.BUILD_ERROR, runs=(), note="error[E0277]"), re.compile("E0277")
    )


def test_stdout_and_passing_runs_are_not_searched() -> None:
    """A driver's progress line naming the function must not make another failure match."""
    tp = re.compile("tp_traverse")
    talky = make_run(Outcome.ERROR, exception=UNRELATED, stdout_tail="calling tp_traverse\n")
    assert not matches(make_record(Outcome.ERROR, runs=(talky,)), tp)
    warned = make_run(Outcome.PASS, stderr_tail="DeprecationWarning: tp_traverse\n")
    assert not matches(make_record(Outcome.PASS, runs=(warned,)), tp)
    # A flaky cell: the failing run is searched, the passing one is not.
    flaky = make_record(Outcome.ABORT, runs=(warned, make_run(Outcome.ABORT, panic_message=OURS)))
    assert matches(flaky, tp) and evidence(flaky) == (OURS,)


# --- judging -----------------------------------------------------------------------------
def test_new_counts_only_when_the_evidence_matches() -> None:
    criteria = criteria_from("abort", None, match="tp_traverse|unsendable")
    assert judge(aborted(OURS), Outcome.PASS, criteria) is Verdict.NEW
    # An abort, but another one: stepped around, never the change.
    assert judge(aborted("already mutably borrowed"), Outcome.PASS, criteria) is Verdict.SKIP
    assert judge(make_record(Outcome.PASS), Outcome.PASS, criteria) is Verdict.OLD
    # With --match, old is pass unless --old says more: an unrelated error is no "old".
    assert judge(errored(UNRELATED), Outcome.PASS, criteria) is Verdict.SKIP
    assert judge(make_record(Outcome.BUILD_ERROR), Outcome.PASS, criteria) is Verdict.SKIP
    assert criteria.matched(aborted(OURS)) is True
    assert criteria.matched(aborted("other")) is False
    assert criteria.matched(errored(UNRELATED)) is None  # not in --new: no question of matching


def test_old_given_keeps_its_outcomes_old() -> None:
    criteria = criteria_from("abort", "pass,error", match="tp_traverse")
    assert judge(errored(UNRELATED), None, criteria) is Verdict.OLD
    assert judge(aborted("other"), None, criteria) is Verdict.SKIP


def test_match_alone_means_any_failure_that_matches_is_new_and_pass_is_old() -> None:
    criteria = criteria_from(None, None, match="tp_traverse")
    assert criteria.old == frozenset({Outcome.PASS})
    assert {Outcome.ABORT, Outcome.SEGFAULT, Outcome.ERROR, Outcome.PANIC} <= criteria.new
    assert not criteria.new & {Outcome.PASS, Outcome.BUILD_ERROR, Outcome.SETUP_ERROR}
    assert judge(aborted(OURS), None, criteria) is Verdict.NEW
    assert judge(errored("RuntimeError: in tp_traverse"), None, criteria) is Verdict.NEW
    assert judge(errored(UNRELATED), None, criteria) is Verdict.SKIP
    assert judge(make_record(Outcome.PASS), None, criteria) is Verdict.OLD
    # Compile errors stay untestable unless named, and then must match too.
    asked = criteria_from("build-error", None, match="E0277")
    assert judge(make_record(Outcome.BUILD_ERROR, note="error[E0277]: `Cell`"), None, asked) is (
        Verdict.NEW
    )
    assert judge(make_record(Outcome.BUILD_ERROR, note="error[E0599]"), None, asked) is (
        Verdict.SKIP
    )


def test_a_flaky_cell_that_fails_another_way_is_stepped_around_not_stopped_at() -> None:
    criteria = criteria_from("abort", None, "stop", match="tp_traverse")
    other = make_record(
        Outcome.ABORT, runs=(make_run(Outcome.PASS), make_run(Outcome.ABORT, panic_message="x"))
    )
    assert judge(other, None, criteria) is Verdict.SKIP
    ours = make_record(
        Outcome.ABORT, runs=(make_run(Outcome.PASS), make_run(Outcome.ABORT, panic_message=OURS))
    )
    assert judge(ours, None, criteria) is Verdict.FLAKY


def test_git_bisect_exit_with_match() -> None:
    criteria = criteria_from("abort", None, match="tp_traverse")
    assert git_bisect_status(aborted(OURS), criteria) == 1
    assert git_bisect_status(aborted("another panic"), criteria) == 125
    assert git_bisect_status(errored(UNRELATED), criteria) == 125
    assert git_bisect_status(make_record(Outcome.PASS), criteria) == 0
    alone = criteria_from(None, None, match="tp_traverse")
    assert git_bisect_status(errored("RuntimeError: tp_traverse"), alone) == 1


@pytest.mark.parametrize(
    ("new", "match", "message"),
    [
        ("abort", "(", "--match '(' is not a regular expression (missing ), unterminated"),
        ("abort", "", "--match is empty"),
        ("pass", "x", "--new pass cannot go with --match"),
    ],
)
def test_bad_match_is_one_line(new: str, match: str, message: str) -> None:
    with pytest.raises(UserError) as raised:
        criteria_from(new, None, match=match)
    assert str(raised.value).startswith(message) and "\n" not in str(raised.value)


# --- a whole search ----------------------------------------------------------------------
SCENARIO = scenarios.resolve("unsendable_gc_traverse")
VERSIONS = ["0.20.0", "0.20.1", "0.20.2", "0.20.3", "0.21.0"]


class FakeEvaluator:
    """Records by release, as a store full of them would give."""

    def __init__(self, records: dict[str, Record]) -> None:
        self.records = records
        self.asked: list[str] = []

    def evaluate(self, cell) -> tuple[Record, bool]:  # type: ignore[no-untyped-def]
        self.asked.append(cell.release.cargo_version)
        return self.records[cell.release.cargo_version], True


# 0.20.2 aborts with another panic (the reproducer meeting an API that release got wrong);
# the crash asked about arrives in 0.21.0.
RECORDS = {
    "0.20.0": make_record(Outcome.PASS, pyo3="0.20.0"),
    "0.20.1": make_record(Outcome.PASS, pyo3="0.20.1"),
    "0.20.2": aborted("already mutably borrowed", pyo3="0.20.2"),
    "0.20.3": make_record(Outcome.PASS, pyo3="0.20.3"),
    "0.21.0": aborted(OURS, pyo3="0.21.0"),
}


def candidates():  # type: ignore[no-untyped-def]
    releases = [Release(Version(v), vers=v) for v in VERSIONS]
    found = release_candidates(SCENARIO, releases, set(VERSIONS), interp("3.12.1"))
    assert found is not None
    return found


def test_without_match_the_other_crash_is_taken_for_the_change() -> None:
    """What --match is for: --new abort alone names the wrong release."""
    search = run(candidates(), FakeEvaluator(RECORDS), criteria_from("abort", None))  # type: ignore[arg-type]
    assert answer(search).startswith("regressed in 0.20.2 ")


def test_with_match_the_other_crash_is_stepped_around(tmp_path: Path) -> None:
    fake = FakeEvaluator(RECORDS)
    criteria = criteria_from("abort", None, match="tp_traverse|unsendable")
    search = run(candidates(), fake, criteria)  # type: ignore[arg-type]
    assert answer(search) == "regressed in 0.21.0 (0.20.3: pass -> 0.21.0: abort)"
    assert search.match == "tp_traverse|unsendable"
    by_label = {p.label: p for p in search.probes}
    assert by_label["0.20.2"].verdict is Verdict.SKIP and by_label["0.20.2"].matched is False
    assert by_label["0.21.0"].matched is True and by_label["0.20.0"].matched is None
    assert len(fake.asked) == len(set(fake.asked))  # nothing probed twice

    section = bisect_report._section(SCENARIO, search, tmp_path, {})
    assert "| skip (no match) |" in section and "| new (matched) |" in section
    assert "Panic / crash on 0.21.0 (abort):" in section  # the crash asked about, not the other
    assert "Matched --match 'tp\\_traverse\\|unsendable' (in the panic message" in section
    assert ": 0.21.0." in section
    assert (
        "Stepped around (an outcome --new names, but it did not match): 0.20.2 (abort: already "
        "mutably borrowed)." in section
    )
    data = bisect_report._search_json(search, None)
    assert data["match"] == "tp_traverse|unsendable"
    assert {p["candidate"]: p.get("matched") for p in data["probes"]}["0.20.2"] is False


def test_an_end_that_fails_another_way_says_so() -> None:
    records = {**RECORDS, "0.21.0": errored(UNRELATED, pyo3="0.21.0")}
    criteria = criteria_from("abort,error", None, match="tp_traverse")
    search = run(candidates(), FakeEvaluator(records), criteria)  # type: ignore[arg-type]
    assert answer(search) == (
        f"cannot search: the end 0.21.0 is untestable (error: {UNRELATED}; did not match "
        "--match 'tp_traverse')"
    )
    other = {**RECORDS, "0.21.0": errored(UNRELATED, pyo3="0.21.0")}
    search = run(candidates(), FakeEvaluator(other), criteria_from("abort", None, match="tp_"))  # type: ignore[arg-type]
    assert answer(search) == (
        f"cannot search: the end 0.21.0 is untestable (error: {UNRELATED}; neither --new nor "
        "--old names it)"
    )


def test_the_question_names_the_regex() -> None:
    from pyo3_triage.cells import Options

    plain = bisect_cli._question(SCENARIO, criteria_from("abort", None), Options())
    one = bisect_cli._question(SCENARIO, criteria_from("abort", None, match="a"), Options())
    two = bisect_cli._question(SCENARIO, criteria_from("abort", None, match="b"), Options())
    assert len({plain, one, two}) == 3 and "match-" in one


# --- the matrix --------------------------------------------------------------------------
def test_the_matrix_marks_failing_cells_whose_evidence_matches() -> None:
    cells = {
        ("0.20.0", "3.12"): make_record(Outcome.PASS, pyo3="0.20.0", python_label="3.12"),
        ("0.20.2", "3.12"): aborted("already mutably borrowed", pyo3="0.20.2"),
        ("0.21.0", "3.12"): aborted(OURS, pyo3="0.21.0"),
    }
    rows = (("0.20.0", False), ("0.20.2", False), ("0.21.0", False))
    grid = table.Grid("s", "", "", rows, ("3.12",), cells, pattern=re.compile("tp_traverse"))
    drawn = markdown.grid_table(grid)
    assert f"| 0.21.0 | **abort {MATCH_MARK}** |" in drawn
    assert "| 0.20.2 | **abort** |" in drawn and "| 0.20.0 | pass |" in drawn
    assert f"{MATCH_MARK}: the cell's panic message, exception, compile error or stderr " in (
        markdown.legend([grid])
    )
    assert f"{MATCH_MARK}  matches --match 'tp_traverse'" in table.rich_legend([grid]).plain
    assert grid.words(cells[("0.21.0", "3.12")], short=True) == f"ABRT{MATCH_MARK}"
    unmarked = table.Grid("s", "", "", rows, ("3.12",), cells)
    assert MATCH_MARK not in markdown.grid_table(unmarked) + markdown.legend([unmarked])


# --- the command line --------------------------------------------------------------------
@pytest.mark.parametrize("entry", [bisect_cli.entry, matrix_cli.entry])
def test_a_bad_regex_is_one_line_and_exit_2(
    entry: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--pyo3", "0.19..0.21", "--match", "tp_(", "--results", str(tmp_path / "r")]
    assert entry(argv + ["--cache", str(tmp_path / "c")]) == EXIT_USAGE  # type: ignore[operator]
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--match 'tp_(' is not a regular expression" in err
    assert "Traceback" not in err and not (tmp_path / "r").exists()


# --- the commit level --------------------------------------------------------------------
class CommitEvaluator:
    """Records by commit, with the messages a real run would leave; nothing is built."""

    def __init__(self, record_of: dict[str, Record]) -> None:
        self.record_of = record_of

    def evaluate(self, cell) -> tuple[Record, bool]:  # type: ignore[no-untyped-def]
        release = cell.release
        found = self.record_of[release.revision]
        return replace(found, revision=release.revision, era=str(release.version)), False


@pytest.mark.parametrize("match", [None, "tp_traverse"])
def test_the_commit_search_steps_around_a_commit_that_crashes_otherwise(
    tmp_path: Path, match: str | None
) -> None:
    """0.20.3 aborts in tp_traverse, 0.21.0 passes; on main the merge fixes it, but a commit
    after it aborts for another reason (a bug of its own, fixed before the release)."""
    from test_commits import INTERP, make_history

    from pyo3_triage.bisecting import commits
    from pyo3_triage.system.paths import Layout
    from pyo3_triage.versions import gitrepo

    history = make_history(tmp_path)
    layout = Layout(cache=tmp_path / "cache", results=tmp_path / "results")
    at = history.line.index(history.culprit)
    record_of = {
        sha: aborted(OURS) if i < at else make_record(Outcome.PASS)
        for i, sha in enumerate(history.line)
    }
    record_of[history.line[at + 1]] = aborted("already mutably borrowed")
    criteria = criteria_from("abort", None, match=match)
    versions = ["0.20.3", "0.21.0"]
    releases = {
        "0.20.3": aborted(OURS, pyo3="0.20.3"),
        "0.21.0": make_record(Outcome.PASS, pyo3="0.21.0"),
    }
    found = release_candidates(
        SCENARIO, [Release(Version(v), vers=v) for v in versions], set(versions), interp("3.12.1")
    )
    assert found is not None
    search = run(found, FakeEvaluator(releases), criteria)  # type: ignore[arg-type]
    assert search.reversed and search.result.kind == "boundary"
    tools = commits.CommitBisect(
        gitrepo.open_repo(str(history.path), layout),
        SCENARIO,
        INTERP,
        CommitEvaluator(record_of),  # type: ignore[arg-type]
        criteria,
        layout,
    )
    refined = commits.refine_commits(search, tools)
    assert refined is not None and refined.first_new is not None
    if match is None:  # the other abort is taken for the old behaviour: the wrong commit
        assert refined.first_new.sha == history.line[at + 2]
        return
    assert refined.first_new.sha == history.culprit
    skipped = [p for p in refined.probes if p.matched is False]
    assert [p.record.revision for p in skipped] == [history.line[at + 1]]
    assert skipped[0].verdict is Verdict.SKIP
    section = bisect_report.commit_section(refined, tmp_path, search.match)
    assert "| skip (no match) |" in section
    assert "Stepped around (an outcome --new names, but it did not match): " in section


def test_the_cpython_axis_steps_around_the_same_way() -> None:
    """Every axis is judged by `judge`: here CPythons for one release."""

    class ByPython:
        def __init__(self, records: dict[str, Record]) -> None:
            self.records = records

        def evaluate(self, cell) -> tuple[Record, bool]:  # type: ignore[no-untyped-def]
            return self.records[str(cell.interp.version)], True

    pythons = ["3.8.18", "3.9.18", "3.10.13", "3.11.7", "3.12.1"]
    records = {
        "3.8.18": make_record(Outcome.PASS),
        "3.9.18": make_record(Outcome.PASS),
        "3.10.13": errored(UNRELATED),
        "3.11.7": make_record(Outcome.PASS),
        "3.12.1": aborted(OURS),
    }
    found = python_candidates(
        SCENARIO, Release(Version("0.20.3"), vers="0.20.3"), [interp(v) for v in pythons]
    )
    assert found is not None and found.labels == tuple(pythons)
    plain = run(found, ByPython(records), criteria_from("abort,error", None))  # type: ignore[arg-type]
    assert answer(plain).startswith("regressed in 3.10.13 ")
    matched = run(found, ByPython(records), criteria_from(None, None, match="tp_traverse"))  # type: ignore[arg-type]
    assert answer(matched) == "regressed in 3.12.1 (3.11.7: pass -> 3.12.1: abort)"
