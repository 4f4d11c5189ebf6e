"""A verdict per project from its two outcomes (pure): what the candidate did to it.

`regressed` (the baseline passes, the candidate does not), `fixed` (the other way),
`still failing`, `unchanged`; `blocked by companion` when a companion crate has no version for
the candidate or does not compile against it (the project's own code was never reached);
`pyo3-error` when PyO3's own crates do not compile here (about PyO3, not the project);
`flaky` when repeated runs disagree; `not comparable` when the baseline itself could not be
built or a side is outside the window PyO3 declares. `setup-error` is no verdict: the cell
could not be set up (download, resolve, toolchain) and is tried again next run.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from pyo3_triage.outcome import Outcome


class Verdict(str, enum.Enum):
    REGRESSED = "regressed"
    FIXED = "fixed"
    STILL_FAILING = "still failing"
    UNCHANGED = "unchanged"
    BLOCKED = "blocked by companion"
    PYO3_ERROR = "pyo3-error"
    FLAKY = "flaky"
    NOT_COMPARABLE = "not comparable"
    SETUP_ERROR = "setup-error"  # never a verdict: retried next run
    NOT_TRIED = "not tried"  # the project could not be tried at all (no sdist, not maturin)

    @property
    def changed(self) -> bool:
        return self in (Verdict.REGRESSED, Verdict.FIXED)


@dataclass(frozen=True)
class Side:
    """One PyO3 revision's result for a project, as the verdict needs it."""

    outcome: Outcome
    flaky: bool = False
    note: str = ""  # the record's note: why it was not built, the compiler's first error
    companions: tuple[tuple[str, str], ...] = ()  # (crate, version) in its build


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    why: str = ""  # for blocked, pyo3-error, not comparable, setup-error: in words


_NOT_COMPILED = re.compile(r"dependency `([^`]+)` does not compile")
# Outcomes that say the project was built and run (or failed to build or import on its own).
_RESULTS = frozenset(
    {
        Outcome.PASS,
        Outcome.ABORT,
        Outcome.SEGFAULT,
        Outcome.SIGNAL,
        Outcome.PANIC,
        Outcome.ERROR,
        Outcome.TIMEOUT,
        Outcome.BUILD_ERROR,
        Outcome.IMPORT_ERROR,
    }
)


def failed_companion(side: Side) -> str | None:
    """`numpy 0.20.0` when the side's build failed in a companion crate, else None."""
    if side.outcome is not Outcome.SETUP_ERROR:
        return None
    match = _NOT_COMPILED.search(side.note)
    if match is None:
        return None
    held = dict(side.companions)
    crate = match.group(1)
    if crate not in held:
        return None
    return f"{crate} {held[crate]}"


def judge(baseline: Side, candidate: Side) -> Judgement:
    """The verdict for one project (see the module's docstring for each)."""
    if (companion := failed_companion(candidate)) is not None:
        return Judgement(Verdict.BLOCKED, f"{companion} does not compile against the candidate")
    if candidate.outcome is Outcome.INCOMPATIBLE:
        return Judgement(Verdict.BLOCKED, candidate.note)
    for name, side in (("baseline", baseline), ("candidate", candidate)):
        if side.outcome is Outcome.SETUP_ERROR:
            return Judgement(Verdict.SETUP_ERROR, f"{name}: {side.note or 'could not be set up'}")
    if candidate.outcome is Outcome.PYO3_ERROR:
        return Judgement(
            Verdict.PYO3_ERROR,
            f"the candidate's own crates do not compile here: {candidate.note}",
        )
    for name, side in (("baseline", baseline), ("candidate", candidate)):
        if side.outcome not in _RESULTS:
            why = side.note or side.outcome.value
            return Judgement(Verdict.NOT_COMPARABLE, f"{name} {side.outcome.value}: {why}")
    if baseline.flaky or candidate.flaky:
        return Judgement(Verdict.FLAKY)
    base_ok, cand_ok = baseline.outcome is Outcome.PASS, candidate.outcome is Outcome.PASS
    if base_ok and cand_ok:
        return Judgement(Verdict.UNCHANGED)
    if base_ok:
        return Judgement(Verdict.REGRESSED)
    if cand_ok:
        return Judgement(Verdict.FIXED)
    return Judgement(Verdict.STILL_FAILING)
