"""The pure pieces around the search (judging outcomes, wording the answer) and bisect.py as
a script: run from the checkout root and from its own folder. Bad input as a user meets it
(it needs the crates.io release list): integration/test_bisect_cli_network.py."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from factories import REPO, make_record, make_run

from pyo3_triage.bisecting.bisection import (
    Criteria,
    Probe,
    Search,
    answer,
    git_bisect_status,
    judge,
)
from pyo3_triage.bisecting.search import SearchResult, Step, Verdict
from pyo3_triage.errors import GIT_SKIP, UserError
from pyo3_triage.evidence import RunDetails
from pyo3_triage.outcome import NEVER_VERDICTS, Outcome
from pyo3_triage.store.records import Record
from pyo3_triage.system.paths import Layout


def record(outcome: Outcome, *runs: Outcome, pyo3: str = "0.20.3") -> Record:
    return make_record(outcome, *runs, key="k", pyo3=pyo3)


# --- judging -----------------------------------------------------------------------------
def test_start_is_old_and_other_outcomes_are_new_by_default() -> None:
    plain = Criteria()
    assert judge(record(Outcome.ABORT), None, plain) is Verdict.OLD
    assert judge(record(Outcome.ABORT), Outcome.ABORT, plain) is Verdict.OLD
    assert judge(record(Outcome.PASS), Outcome.ABORT, plain) is Verdict.NEW
    assert judge(record(Outcome.SEGFAULT), Outcome.ABORT, plain) is Verdict.NEW


@pytest.mark.parametrize(
    "untestable",
    [
        Outcome.BUILD_ERROR,
        Outcome.PYO3_ERROR,
        Outcome.SETUP_ERROR,
        Outcome.UNSUPPORTED,
        Outcome.IMPORT_ERROR,
    ],
)
def test_untestable_cells_are_skipped_unless_named(untestable: Outcome) -> None:
    assert judge(record(untestable), Outcome.ABORT, Criteria()) is Verdict.SKIP
    assert judge(record(untestable), None, Criteria()) is Verdict.SKIP


VERDICT_OUTCOMES = [o for o in Outcome if o not in NEVER_VERDICTS]
CRITERIA = (
    [Criteria()]
    + [Criteria(new=frozenset({o})) for o in VERDICT_OUTCOMES]
    + [Criteria(old=frozenset({o})) for o in VERDICT_OUTCOMES]
    + [
        Criteria(new=frozenset({n}), old=frozenset({o}))
        for n in VERDICT_OUTCOMES
        for o in VERDICT_OUTCOMES
        if n is not o
    ]
)


def expected(outcome: Outcome, criteria: Criteria) -> Verdict:
    """The rule as the README states it, written out case by case."""
    if outcome in (Outcome.SETUP_ERROR, Outcome.UNSUPPORTED, Outcome.INCOMPATIBLE):
        return Verdict.SKIP  # never a verdict
    if outcome in criteria.new:
        return Verdict.NEW
    if outcome in criteria.old:
        return Verdict.OLD
    if outcome in (Outcome.BUILD_ERROR, Outcome.PYO3_ERROR, Outcome.IMPORT_ERROR):
        return Verdict.SKIP  # untestable unless named
    if criteria.new and criteria.old:
        return Verdict.SKIP  # named neither
    if criteria.new:
        return Verdict.OLD
    if criteria.old:
        return Verdict.NEW
    return Verdict.OLD if outcome is Outcome.ABORT else Verdict.NEW  # like the start (abort)


@pytest.mark.parametrize("outcome", list(Outcome), ids=[o.value for o in Outcome])
def test_judge_every_outcome_under_every_new_old_combination(outcome: Outcome) -> None:
    seen_twice = dataclasses.replace(record(outcome), confirmed=True)  # a timeout: confirmed
    for criteria in CRITERIA:
        got = judge(seen_twice, Outcome.ABORT, criteria)
        assert got is expected(outcome, criteria), (outcome, criteria)


@pytest.mark.parametrize(
    "run",
    [make_run(Outcome.TIMEOUT), make_run(Outcome.SIGNAL, signal="SIGKILL", exit_status=None)],
    ids=["timeout", "SIGKILL"],
)
def test_a_load_dependent_outcome_seen_once_is_no_verdict(run: RunDetails) -> None:
    """Under --new abort every other outcome is old, so a hang seen once while another build
    compiled would move the boundary: it counts only once a rerun has seen it again."""
    once = make_record(run.outcome, key="k", runs=(run,))
    assert once.unconfirmed
    for criteria in (Criteria(), Criteria(new=frozenset({Outcome.ABORT}))):
        assert judge(once, Outcome.PASS, criteria) is Verdict.SKIP
    assert git_bisect_status(once, Criteria()) == GIT_SKIP
    twice = dataclasses.replace(once, runs=(run, run), confirmed=True)
    assert judge(twice, Outcome.PASS, Criteria(new=frozenset({Outcome.ABORT}))) is Verdict.OLD
    other_signal = make_run(Outcome.SIGNAL, signal="SIGBUS", exit_status=None)
    assert not make_record(Outcome.SIGNAL, key="k", runs=(other_signal,)).unconfirmed


def test_compile_errors_are_verdicts_only_when_asked() -> None:
    asked = Criteria(new=frozenset({Outcome.BUILD_ERROR}))
    assert judge(record(Outcome.BUILD_ERROR), None, asked) is Verdict.NEW
    assert judge(record(Outcome.PASS), None, asked) is Verdict.OLD
    assert judge(record(Outcome.SETUP_ERROR), None, asked) is Verdict.SKIP
    fixed = Criteria(old=frozenset({Outcome.BUILD_ERROR}))
    assert judge(record(Outcome.BUILD_ERROR), None, fixed) is Verdict.OLD
    assert judge(record(Outcome.PASS), None, fixed) is Verdict.NEW


def test_pyo3_not_compiling_is_a_verdict_when_named() -> None:
    """ "Which release made PyO3 build on a debug 3.11 again?": `--old pyo3-error`; a cell
    whose third-party dependency does not compile still says nothing."""
    from pyo3_triage.bisecting.bisection import criteria_from

    fixed = criteria_from(None, "pyo3-error")
    assert fixed.old == {Outcome.PYO3_ERROR}
    assert judge(record(Outcome.PYO3_ERROR), None, fixed) is Verdict.OLD
    assert judge(record(Outcome.PASS), None, fixed) is Verdict.NEW
    assert judge(record(Outcome.ABORT), None, fixed) is Verdict.NEW
    assert judge(record(Outcome.SETUP_ERROR), None, fixed) is Verdict.SKIP
    assert judge(record(Outcome.BUILD_ERROR), None, fixed) is Verdict.SKIP
    broke = criteria_from("pyo3-error", "pass")
    assert judge(record(Outcome.PYO3_ERROR), Outcome.PASS, broke) is Verdict.NEW
    assert judge(record(Outcome.PYO3_ERROR), Outcome.PASS, Criteria()) is Verdict.SKIP


@pytest.mark.parametrize(
    ("new", "old", "message"),
    [
        ("build-error", "build-error", "--new and --old both name build-error"),
        ("setup-error", None, "never old or new"),
        (None, "unsupported", "never old or new"),
        ("compile", None, "unknown outcome 'compile'"),
        (" , ", None, "--new is empty"),
    ],
)
def test_criteria_refused_in_one_line(new: str | None, old: str | None, message: str) -> None:
    from pyo3_triage.bisecting.bisection import criteria_from

    with pytest.raises(UserError, match=message):
        criteria_from(new, old)


def test_new_and_old_sets() -> None:
    crashes = Criteria(new=frozenset({Outcome.ABORT, Outcome.SEGFAULT}))
    assert judge(record(Outcome.SEGFAULT), Outcome.PASS, crashes) is Verdict.NEW
    assert judge(record(Outcome.ERROR), Outcome.PASS, crashes) is Verdict.OLD
    passing = Criteria(old=frozenset({Outcome.PASS}))
    assert judge(record(Outcome.ERROR), Outcome.PASS, passing) is Verdict.NEW
    both = Criteria(new=frozenset({Outcome.ABORT}), old=frozenset({Outcome.PASS}))
    assert judge(record(Outcome.TIMEOUT), Outcome.PASS, both) is Verdict.SKIP


def test_flaky_rules() -> None:
    mixed = record(Outcome.ABORT, Outcome.PASS, Outcome.ABORT)
    assert mixed.flaky
    # crash-wins: the cell's outcome is its first non-passing run, judged like any other.
    assert judge(mixed, Outcome.PASS, Criteria()) is Verdict.NEW
    assert judge(mixed, Outcome.PASS, Criteria(flaky_rule="stop")) is Verdict.FLAKY


# --- wording -----------------------------------------------------------------------------
def _search(
    outcomes: list[Outcome], last_old: int, first_new: int, kind: str = "boundary"
) -> Search:
    labels = [f"0.{19 + i}.0" for i in range(len(outcomes))]
    probes = tuple(
        Probe(labels[i], record(o, pyo3=labels[i]), Verdict.OLD, False, True)
        for i, o in enumerate(outcomes)
    )
    steps = tuple(Step(i, Verdict.OLD, (0, 1), 0) for i in range(len(outcomes)))
    result = SearchResult(kind, last_old, first_new, (), None, steps)  # type: ignore[arg-type]
    return Search("pyo3", "CPython 3.11.7", tuple(labels), frozenset({labels[-1]}), result, probes)


def test_answer_words_fix_regression_and_change() -> None:
    assert answer(_search([Outcome.ABORT, Outcome.PASS, Outcome.PASS], 0, 1)).startswith(
        "fixed in 0.20.0 (0.19.0: abort -> 0.20.0: pass)"
    )
    assert answer(_search([Outcome.PASS, Outcome.SEGFAULT, Outcome.PASS], 0, 1)).startswith(
        "regressed in 0.20.0"
    )
    assert answer(_search([Outcome.ABORT, Outcome.SEGFAULT, Outcome.PASS], 0, 1)).startswith(
        "changed in 0.20.0"
    )
    # The last label is yanked in these fakes.
    assert answer(_search([Outcome.ABORT, Outcome.ABORT, Outcome.PASS], 1, 2)).startswith(
        "fixed in 0.21.0 (yanked)"
    )


def test_answer_marks_a_yanked_last_old_release() -> None:
    search = _search([Outcome.PASS, Outcome.ABORT, Outcome.ABORT], 0, 1)
    search = Search(
        search.axis,
        search.fixed,
        search.labels,
        frozenset({"0.19.0"}),
        search.result,
        search.probes,
    )
    assert answer(search) == "regressed in 0.20.0 (0.19.0 (yanked): pass -> 0.20.0: abort)"


class FakeEvaluator:
    """Cells are indices into a list of outcomes; nothing is built."""

    def __init__(self, outcomes: list[Outcome]) -> None:
        self.outcomes = outcomes
        self.evaluated: list[int] = []

    def evaluate(self, cell: int) -> tuple[Record, bool]:
        self.evaluated.append(cell)
        return record(self.outcomes[cell], pyo3=f"0.{19 + cell}.0"), False


@pytest.mark.parametrize(
    ("criteria", "reversed_"),
    [
        (Criteria(new=frozenset({Outcome.ABORT})), True),  # --new abort over a fix: reversed
        (Criteria(old=frozenset({Outcome.PASS})), True),  # --old pass: the start is not old
        (Criteria(new=frozenset({Outcome.PASS})), False),  # --new pass: the fix is new
        (Criteria(), False),
    ],
)
def test_a_start_that_already_shows_new_searches_where_it_goes_away(
    criteria: Criteria, reversed_: bool
) -> None:
    from pyo3_triage.bisecting.bisection import Candidates, _run_search

    outcomes = [Outcome.ABORT] * 5 + [Outcome.PASS] * 3
    labels = [f"0.{19 + i}.0" for i in range(len(outcomes))]
    fake = FakeEvaluator(outcomes)
    every = tuple(range(len(outcomes)))
    plan = Candidates("pyo3", "CPython 3.11.7", tuple(labels), every, every, frozenset(), ())  # type: ignore[arg-type]
    result, probes, flipped = _run_search(plan, fake, criteria, None)  # type: ignore[arg-type]
    assert flipped is reversed_
    assert result.kind == "boundary"
    assert (result.last_old, result.first_new) == (4, 5)
    search = Search(
        "pyo3", "CPython 3.11.7", tuple(labels), frozenset(), result, probes, (), flipped
    )
    assert answer(search) == "fixed in 0.24.0 (0.23.0: abort -> 0.24.0: pass)"
    if criteria.new or criteria.old:  # probes keep the user's own verdicts
        first = probes[0]
        assert first.verdict is (
            Verdict.NEW if Outcome.ABORT in criteria.new or criteria.old else Verdict.OLD
        )
    assert len(set(fake.evaluated)) == len(fake.evaluated)


def test_answer_for_no_change() -> None:
    text = answer(_search([Outcome.ABORT, Outcome.ABORT], 1, None, "no-change"))  # type: ignore[arg-type]
    assert text.startswith("no change")


def test_bisect_imported_from_the_checkout_root_is_the_standard_librarys() -> None:
    """With the checkout root first on sys.path (`python -m pytest` from there), `import
    bisect` finds `bisect.py`, which then is the standard library's module."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import bisect, random; print(bisect.__file__, bisect.bisect_right([1, 2, 2, 3], 2), random.choice([7]))",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    file, position, choice = done.stdout.split()
    assert Path(file).resolve() == (REPO / "bisect.py").resolve()  # it was this file ...
    assert (position, choice) == ("3", "7")  # ... acting as the standard library's


def _clean_venv(tmp_path: Path) -> Path:
    """A venv whose start-up imports nothing (no .pth hooks, no sitecustomize) and sees the
    packages of the environment running the tests through a plain path entry."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(site, "tools.pth").write_text("\n".join(sorted(ours)) + "\n")
    return python


@pytest.mark.parametrize("tool", ["pytest", "mypy", "nox", "ruff"])
def test_python_m_tools_work_from_the_checkout_root_in_a_clean_venv(
    tmp_path: Path, tool: str
) -> None:
    python = _clean_venv(tmp_path)
    startup = subprocess.run(
        [str(python), "-c", "import sys; print('bisect' in sys.modules)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert startup.stdout.strip() == "False"  # nothing imported the real `bisect` early
    done = subprocess.run(
        [str(python), "-m", tool, "--version"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def test_bisect_py_runs_as_a_script_from_its_own_folder() -> None:
    done = subprocess.run(
        [sys.executable, "bisect.py", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and "--pyo3" in done.stdout, done.stderr


def test_the_bound_counts_the_refinement_into_yanked_releases() -> None:
    labels = tuple(f"0.{i}.0" for i in range(10))
    steps = (Step(0, Verdict.OLD, (0, 9), 0),)
    result = SearchResult("boundary", 6, 7, (), None, steps)
    search = Search(
        "pyo3",
        "CPython 3.11.7",
        labels,
        frozenset(labels[5:8]),
        result,
        (),
        primary=(0, 1, 2, 3, 4, 8, 9),
    )
    assert search.bound == (5, 2)  # ceil(log2 7) + 2, then ceil(log2 4) among 3 yanked
    plain = Search("pyo3", "CPython 3.11.7", labels, frozenset(), result, ())
    assert plain.bound == (6, 0)  # every candidate in the first pass: nothing to refine


def test_report_names_tell_questions_apart(tmp_path: Path) -> None:
    from factories import make_crate

    from pyo3_triage.cells import Options
    from pyo3_triage.commands.bisect_cli import _question
    from pyo3_triage.reproducers.scenarios import Scenario
    from pyo3_triage.reproducers.usercrate import UserCrate

    def crate(run: str) -> UserCrate:
        return make_crate(tmp_path, run)

    scenario = Scenario("s", tmp_path, "", "", 60.0, "s", (), (), "", tmp_path, "")
    default = _question(scenario, Criteria(), Options())
    assert default == ""  # the default question keeps the plain name
    names = {
        default,
        _question(scenario, Criteria(new=frozenset({Outcome.BUILD_ERROR})), Options()),
        _question(scenario, Criteria(old=frozenset({Outcome.BUILD_ERROR})), Options()),
        _question(scenario, Criteria(flaky_rule="stop"), Options()),
        _question(scenario, Criteria(), Options(profile="release")),
        _question(crate("python a.py"), Criteria(), Options()),
        _question(crate("python b.py"), Criteria(), Options()),
    }
    assert len(names) == 7
    assert _question(scenario, Criteria(new=frozenset({Outcome.BUILD_ERROR})), Options()) == (
        "new-build-error"
    )
    layout = Layout(cache=tmp_path, results=tmp_path / "r")
    path = layout.bisect_report("s", "pyo3-py3.11.7", "0.19.0", "0.21.2", "new-build-error", "md")
    assert path.name == "bisect-s-pyo3-py3.11.7-0.19.0-0.21.2-new-build-error.md"
