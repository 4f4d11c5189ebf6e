"""Bisect a scenario over PyO3 releases (one search per CPython), over CPython versions, or
over Rust toolchains (`--rust 1.70..1.95` with one release: which rustc changed the build).

Cells are evaluated exactly as the matrix evaluates them (same records, same cache), so a
bisect reuses what a matrix computed and the other way round. What a cell did (`Outcome`) is
mapped to what the search needs (old / new / untestable) by `judge`, a pure function.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pyo3_triage import matching
from pyo3_triage.bisecting.search import (
    FlakyPolicy,
    SearchResult,
    Step,
    Verdict,
    bisect_with_refinement,
    steps_left,
)
from pyo3_triage.cells import Cell, Evaluate
from pyo3_triage.errors import GIT_BAD, GIT_GOOD, GIT_SKIP, UserError
from pyo3_triage.interpreters import Interpreter
from pyo3_triage.outcome import NEVER_VERDICTS, Outcome
from pyo3_triage.reproducers.reproducer import Reproducer
from pyo3_triage.store.records import Record
from pyo3_triage.toolchains import RustChoice
from pyo3_triage.versions import rust_support
from pyo3_triage.versions.releases import Release
from pyo3_triage.versions.support import declares

# How a flaky probe (runs disagree) is judged. The default: a crash seen once is a crash, so
# the cell's outcome (its first non-passing run) decides; "stop" ends the search there.
FLAKY_RULES = ("crash-wins", "stop", "skip")


StepCallback = Callable[["Step", "Probe", Sequence[str]], None]


@dataclass(frozen=True)
class Criteria:
    """Which outcomes count as old and new; empty sets mean "like the start" / "not like it".
    With `pattern` (--match), an outcome in `new` counts only when the cell's evidence holds
    the regex (`matching`); one that does not is stepped around, never taken for the change."""

    new: frozenset[Outcome] = frozenset()
    old: frozenset[Outcome] = frozenset()
    flaky_rule: str = "crash-wins"
    pattern: re.Pattern[str] | None = None

    def matched(self, record: Record) -> bool | None:
        """Whether --match found the regex in a cell whose outcome is in --new; None when
        that question does not arise (no --match, or an outcome --new does not name)."""
        if self.pattern is None or record.outcome not in self.new:
            return None
        return matching.matches(record, self.pattern)


def _outcomes(text: str | None, option: str) -> frozenset[Outcome]:
    if text is None:
        return frozenset()
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise UserError(f"{option} is empty; name outcomes such as abort,segfault")
    chosen = set()
    for name in names:
        found = next((o for o in Outcome if o.value == name), None)
        if found is None:
            known = ", ".join(o.value for o in Outcome if o not in NEVER_VERDICTS)
            raise UserError(f"unknown outcome {name!r} in {option}; known outcomes: {known}")
        if found in NEVER_VERDICTS:
            raise UserError(
                f"{option} {name}: a {name} cell says nothing about the reproducer, so it is "
                "never old or new; name outcomes such as pass, abort or build-error"
            )
        chosen.add(found)
    return frozenset(chosen)


def criteria_from(
    new: str | None, old: str | None, flaky_rule: str = "crash-wins", match: str | None = None
) -> Criteria:
    """--new/--old (comma lists of outcomes) and --match as typed, checked: one line for bad
    input.

    With --match the question is no longer relative to the start: old is `pass` unless --old
    says otherwise, and new, unless --new says otherwise, is every other outcome of a run
    (abort, segfault, error, ...); a cell in neither is stepped around."""
    criteria = Criteria(_outcomes(new, "--new"), _outcomes(old, "--old"), flaky_rule)
    both = criteria.new & criteria.old
    if both:
        names = ", ".join(sorted(o.value for o in both))
        raise UserError(f"--new and --old both name {names}; each outcome can be only one of them")
    pattern = matching.compile_match(match)
    if pattern is None:
        return criteria
    if Outcome.PASS in criteria.new:
        raise UserError(
            "--new pass cannot go with --match: a pass leaves no message to match; name "
            "failing outcomes, e.g. --new abort,segfault"
        )
    olds = criteria.old or frozenset({Outcome.PASS})
    news = criteria.new or frozenset(
        o for o in Outcome if o.testable and o is not Outcome.PASS and o not in olds
    )
    return Criteria(news, olds, flaky_rule, pattern)


def judge(record: Record, start: Outcome | None, criteria: Criteria) -> Verdict:
    """The search's view of one probed cell.

    An outcome named in --new or --old is a verdict like any other, so "pass -> build-error"
    can be bisected; an untestable outcome nobody named (`build-error`, `import-error`) is
    stepped around, and one that never says anything (`setup-error`, `unsupported`) always is,
    as is a timeout or SIGKILL no rerun confirmed (`Record.unconfirmed`). With --match, an
    outcome in --new whose evidence does not hold the regex is stepped around too: the
    reproducer failed, but not with the crash asked about."""
    outcome = record.outcome
    named = outcome in criteria.new or outcome in criteria.old
    if outcome in NEVER_VERDICTS or not (outcome.testable or named):
        return Verdict.SKIP
    if record.unconfirmed:  # a timeout or SIGKILL no rerun saw again: perhaps the load
        return Verdict.SKIP
    if criteria.matched(record) is False:
        return Verdict.SKIP
    if record.flaky and criteria.flaky_rule != "crash-wins":
        return Verdict.FLAKY
    if criteria.new and criteria.old:
        if outcome in criteria.new:
            return Verdict.NEW
        return Verdict.OLD if outcome in criteria.old else Verdict.SKIP
    if criteria.new:
        return Verdict.NEW if outcome in criteria.new else Verdict.OLD
    if criteria.old:
        return Verdict.OLD if outcome in criteria.old else Verdict.NEW
    if start is None:  # judging the start itself
        return Verdict.OLD
    return Verdict.OLD if outcome is start else Verdict.NEW


def git_bisect_status(record: Record, criteria: Criteria) -> int:
    """What `git bisect run` should hear: 0 old, 1 new, 125 untestable.

    By default "old" is `pass` and every other testable outcome is "new". A crash is reported
    as 1, never as the signal's own status (which git would take as "abort the bisect")."""
    if not criteria.new and not criteria.old:
        criteria = Criteria(old=frozenset({Outcome.PASS}), flaky_rule=criteria.flaky_rule)
    verdict = judge(record, None, criteria)
    if verdict is Verdict.OLD:
        return GIT_GOOD
    if verdict is Verdict.NEW:
        return GIT_BAD
    return GIT_SKIP


def flaky_policy(criteria: Criteria) -> FlakyPolicy:
    return FlakyPolicy.AS_SKIP if criteria.flaky_rule == "skip" else FlakyPolicy.STOP


@dataclass(frozen=True)
class Probe:
    label: str  # the candidate (a PyO3 release or a CPython version)
    record: Record
    verdict: Verdict
    reused: bool  # the record came from the store: nothing built or run
    built: bool  # a build actually ran for this probe
    # With --match, for an outcome --new names: whether its evidence held the regex.
    matched: bool | None = None

    @property
    def how(self) -> str:
        """Where the probe's record came from, in words for progress lines and reports."""
        if self.reused:
            return "stored record"
        if self.built:
            return "built"
        build = self.record.build  # a build that could not start (no lock) is no cached build
        return "cached build" if build is not None and build.cached else "not built"


@dataclass(frozen=True)
class Candidates:
    """What one search will walk: the cells in order, which of them the first pass uses
    (`primary`: yanked releases are left to the refinement), and what was left out."""

    axis: str  # "pyo3", "python" or "rust"
    fixed: str  # the other axes' values, e.g. "CPython 3.12.1"
    labels: tuple[str, ...]  # every candidate, in order (yanked included)
    cells: tuple[Cell, ...]
    primary: tuple[int, ...]
    yanked: frozenset[str]
    excluded: tuple[str, ...]  # outside the declared CPython (or Rust) window: not searched

    @property
    def first_pass_bound(self) -> int:
        """Probes of the first pass without untestable candidates: both ends, then a binary
        search over the n - 1 gaps between them (ceil(log2(n - 1)) more)."""
        return steps_left(0, len(self.primary) - 1) + 2


@dataclass(frozen=True)
class Search:
    axis: str  # "pyo3", "python" or "rust"
    fixed: str  # the other axes' values, e.g. "CPython 3.12.1"
    labels: tuple[str, ...]  # every candidate, in order (full list, yanked included)
    yanked: frozenset[str]
    result: SearchResult
    probes: tuple[Probe, ...]
    excluded: tuple[str, ...] = field(default=())  # candidates outside the declared window
    # The start already showed what --new names, so the search looked for where it goes away.
    reversed: bool = False
    primary: tuple[int, ...] = ()  # indices of the first pass (default: every candidate)
    match: str = ""  # the --match regex the probes were judged with, as typed

    def shown(self, label: str) -> str:
        """A candidate as answers print it: yanked releases marked."""
        return f"{label} (yanked)" if label in self.yanked else label

    def label_at(self, index: int | None) -> str | None:
        return None if index is None else self.labels[index]

    def probe_for(self, index: int | None) -> Probe | None:
        label = self.label_at(index)
        return next((p for p in self.probes if p.label == label), None)

    @property
    def builds(self) -> int:
        return sum(1 for probe in self.probes if probe.built)

    @property
    def bound(self) -> tuple[int, int]:
        """Most probes without untestable candidates: (first pass, refinement into the
        candidates the first pass left out between its answer's pair)."""
        primary = self.primary or tuple(range(len(self.labels)))
        first = steps_left(0, len(primary) - 1) + 2
        lo, hi = self.result.last_old, self.result.first_new
        if lo is None or hi is None:
            return first, 0
        outer_lo = max((i for i in primary if i <= lo), default=lo)
        outer_hi = min((i for i in primary if i >= hi), default=hi)
        inner = sum(1 for i in range(outer_lo + 1, outer_hi) if i not in primary)
        return first, steps_left(0, inner + 1)


def _run_search(
    candidates: Candidates,
    evaluator: Evaluate,
    criteria: Criteria,
    on_step: StepCallback | None,
) -> tuple[SearchResult, tuple[Probe, ...], bool]:
    """The search over the candidates, its probes, and whether it ran reversed.

    With --new/--old the start may already show a "new" outcome (`--new abort` over a range
    where the abort gets fixed). That start is not untestable: the search then looks for where
    the new outcome goes away, flipping old and new for the search only; probes keep the
    verdicts the user's options give."""
    labels, cells = candidates.labels, candidates.cells
    probes: dict[int, Probe] = {}
    start: list[Outcome] = []
    flipped: list[bool] = []
    swap = {Verdict.OLD: Verdict.NEW, Verdict.NEW: Verdict.OLD}

    def probe(index: int) -> Verdict:
        record, reused = evaluator.evaluate(cells[index])
        was_built = not reused and built(record)
        verdict = judge(record, start[0] if start else None, criteria)
        if not start and verdict is not Verdict.SKIP:
            start.append(record.outcome)
            flipped.append(verdict is Verdict.NEW and bool(criteria.new or criteria.old))
        matched = criteria.matched(record)
        probes[index] = Probe(labels[index], record, verdict, reused, was_built, matched)
        return swap.get(verdict, verdict) if flipped and flipped[0] else verdict

    def step(done: Step) -> None:
        if on_step is not None and done.index in probes:
            on_step(done, probes[done.index], labels)

    result = bisect_with_refinement(
        len(cells), candidates.primary, probe, flaky=flaky_policy(criteria), on_step=step
    )
    ordered = tuple(probes[s.index] for s in result.steps if s.index in probes)
    return result, ordered, bool(flipped and flipped[0])


def run(
    candidates: Candidates,
    evaluator: Evaluate,
    criteria: Criteria,
    on_step: StepCallback | None = None,
) -> Search:
    result, probes, flipped = _run_search(candidates, evaluator, criteria, on_step)
    return Search(
        candidates.axis,
        candidates.fixed,
        candidates.labels,
        candidates.yanked,
        result,
        probes,
        candidates.excluded,
        flipped,
        candidates.primary,
        criteria.pattern.pattern if criteria.pattern else "",
    )


def _on(rust: RustChoice | None) -> str:
    return f" with Rust {rust.name}" if rust else ""


def release_candidates(
    scenario: Reproducer,
    releases: Sequence[Release],
    primary: set[str],
    interp: Interpreter,
    build_unsupported: bool = False,
    rust: RustChoice | None = None,
) -> Candidates | None:
    """The releases to search on one CPython (and toolchain): those whose declared windows
    hold it (all with `build_unsupported`); None when fewer than two of `primary` remain."""
    usable = [r for r in releases if build_unsupported or Cell(scenario, r, interp, rust).declared]
    chosen = tuple(i for i, r in enumerate(usable) if r.cargo_version in primary)
    if len(chosen) < 2:
        return None
    cells = tuple(Cell(scenario, r, interp, rust) for r in usable)
    return Candidates(
        "pyo3",
        interp.name + _on(rust),
        tuple(r.cargo_version for r in usable),
        cells,
        chosen,
        frozenset(r.cargo_version for r in usable if r.yanked),
        tuple(r.cargo_version for r in releases if r not in usable),
    )


def python_candidates(
    scenario: Reproducer,
    release: Release,
    interpreters: Sequence[Interpreter],
    build_unsupported: bool = False,
    rust: RustChoice | None = None,
) -> Candidates | None:
    """The CPythons to search for one release: those inside its declared window (all with
    `build_unsupported`), like releases outside a CPython's window; None when fewer than two."""
    usable = [
        i
        for i in interpreters
        if build_unsupported or declares(release.version, i.version, i.build)
    ]
    if len(usable) < 2:
        return None
    cells = tuple(Cell(scenario, release, i, rust) for i in usable)
    return Candidates(
        "python",
        f"PyO3 {release.cargo_version}" + _on(rust),
        tuple(str(i.version) for i in usable),
        cells,
        tuple(range(len(usable))),
        frozenset(),
        tuple(str(i.version) for i in interpreters if i not in usable),
    )


def rust_candidates(
    scenario: Reproducer,
    release: Release,
    interp: Interpreter,
    rusts: Sequence[RustChoice],
    build_unsupported: bool = False,
) -> Candidates | None:
    """The toolchains to search for one release on one CPython: those at or above the Rust
    the release declares (all with `build_unsupported`); None when fewer than two."""
    usable = [r for r in rusts if build_unsupported or rust_support.declares(release, r.version)]
    if len(usable) < 2:
        return None
    cells = tuple(Cell(scenario, release, interp, r) for r in usable)
    return Candidates(
        "rust",
        f"PyO3 {release.cargo_version} on {interp.name}",
        tuple(r.name for r in usable),
        cells,
        tuple(range(len(usable))),
        frozenset(),
        tuple(r.name for r in rusts if r not in usable),
    )


def over_releases(
    scenario: Reproducer,
    releases: Sequence[Release],
    primary: set[str],
    interp: Interpreter,
    evaluator: Evaluate,
    criteria: Criteria,
    on_step: StepCallback | None = None,
    rust: RustChoice | None = None,
) -> Search | None:
    """One search over PyO3 releases for one CPython (and toolchain); None when nothing to
    search."""
    found = release_candidates(
        scenario, releases, primary, interp, evaluator.options.build_unsupported, rust
    )
    return None if found is None else run(found, evaluator, criteria, on_step)


def built(record: Record) -> bool:
    """A build ran for this record (not a cached wheel, not a lock that failed to resolve)."""
    return record.build is not None and record.build.ran


def answer(search: Search) -> str:
    """One sentence: "fixed in 0.21.0 (0.20.3: abort -> 0.21.0: pass)" and its kin."""
    result = search.result
    old, new = search.probe_for(result.last_old), search.probe_for(result.first_new)
    first = search.probes[0] if search.probes else None
    if result.kind == "no-change":
        ends = [p for p in (first, search.probes[-1] if search.probes else None) if p]
        shown = " and ".join(f"{search.shown(p.label)}: {p.record.outcome.value}" for p in ends)
        said = {p.record.message for p in ends if p.record.outcome is Outcome.ERROR}
        if len(ends) == 2 and len(said) == 1 and (message := said.pop()):
            # A reproducer that fails the same way everywhere may be broken itself: quote it.
            return (
                f"no change: both ends behave alike ({shown}), both with: "
                f"{message.splitlines()[0]}; if that is the reproducer failing, fix it first"
            )
        return (
            f"no change: both ends behave alike ({shown}); a change undone inside the range "
            "does not show this way: bisect narrower ranges"
        )
    if result.kind in ("bad-start", "bad-end"):
        end = "start" if result.kind == "bad-start" else "end"
        at = first if end == "start" else (search.probes[-1] if search.probes else None)
        if at is None:
            return f"cannot search: the {end} is untestable"
        return f"cannot search: the {end} {search.shown(at.label)} is untestable ({_why(at, end, search.match)})"
    if result.kind == "flaky-stop":
        at = search.probe_for(result.flaky_at)
        runs = ", ".join(r.outcome.value for r in at.record.runs) if at else "?"
        return f"stopped: {search.shown(at.label) if at else '?'} is flaky ({runs}); rerun with --repeat or --flaky"
    assert old is not None and new is not None
    pair = f"{search.shown(old.label)}: {_word(old.record)} -> {search.shown(new.label)}: {_word(new.record)}"
    if result.kind == "ambiguous":
        between = ", ".join(search.shown(search.labels[i]) for i in result.skipped_between)
        return (
            f"changed between {search.shown(old.label)} and {search.shown(new.label)}; "
            f"untestable in between: {between} ({pair})"
        )
    verb = "changed"
    if old.record.outcome is Outcome.PASS and new.record.outcome is not Outcome.PASS:
        verb = "regressed"
    elif old.record.outcome is not Outcome.PASS and new.record.outcome is Outcome.PASS:
        verb = "fixed"
    return f"{verb} in {search.shown(new.label)} ({pair}){_lint(old.record, new.record)}"


def _lint(*sides: Record) -> str:
    """Say so when the compile error of the answer is a warning the crate itself denies."""
    lints = {r.build.denied_lint for r in sides if r.build and r.build.denied_lint}
    if not lints:
        return ""
    return f"; the compile error is a warning the crate turns into an error ({', '.join(sorted(lints))})"


def _why(probe: Probe, end: str, match: str = "") -> str:
    """An untestable end's outcome, its first error line, and how to ask for it as a verdict
    (or, with --match, that it failed some other way)."""
    record = probe.record
    outcome = record.outcome
    if probe.matched is False:
        return f"{outcome.value}: {matching.said(record)}; did not match --match {match!r}"
    if match and outcome.testable:  # --match made old `pass` unless --old named more
        return f"{outcome.value}: {matching.said(record)}; neither --new nor --old names it"
    why = outcome.value + (f": {record.note}" if record.note else "")
    if outcome in NEVER_VERDICTS or outcome.testable:
        return why
    option = "--new" if end == "end" else "--old"
    what = {
        Outcome.BUILD_ERROR: "a compile-time change",
        Outcome.PYO3_ERROR: "where PyO3's own crates stop or start compiling",
    }.get(outcome, f"a change to {outcome.value}")
    return f"{why}; to bisect {what}, add {option} {outcome.value}"


def _word(record: Record) -> str:
    if record.flaky:
        seen = [run.outcome.value for run in record.runs]
        return f"{record.outcome.value} (flaky {seen.count(record.outcome.value)}/{len(seen)})"
    return record.outcome.value
