"""Bisection over an ordered candidate list, kept pure so it can be tested without builds.

The search sees only positions in a list and a probe that answers `Verdict.OLD` (behaves like
the start), `Verdict.NEW` (behaves like the end), `Verdict.SKIP` (untestable: the build failed,
the combination is unsupported, the module did not import) or `Verdict.FLAKY` (repeated runs
disagreed). Regressions and fixes look the same here: the caller maps whatever the start does
to OLD and the other behaviour to NEW.

Rules, chosen so that answers are honest and reruns hit caches:

* Both ends are checked first (index 0, then n-1). A start that is not OLD gives "bad-start",
  an untestable end gives "bad-end" and an OLD end gives "no-change".
* The midpoint is a function of the window (lo, hi) only, so one candidate list is always
  probed in the same order. Without untestable candidates at most ceil(log2 n) + 2 probes are
  made, the ends included.
* An untestable candidate is stepped around like `git bisect skip`: the other candidates of the
  window are tried alternately outward from the midpoint. When the only candidates left
  between the last OLD and the first NEW are untestable the result is "ambiguous" and lists
  them; the search never guesses which of them made the change.
* A FLAKY answer is handled by `FlakyPolicy`. The rule this tool recommends: a crash seen even
  once means the bug is present, so a caller whose repeated runs crashed at least once should
  answer with the crashing side (NEW for a regression, OLD for a fix) instead of FLAKY, and keep
  FLAKY (with the default STOP) for mixed results without a crash. This module only applies
  the policy it is given.
* Verdicts the caller already knows (`known`, e.g. from a result cache) are used instead of the
  probe, but only when the search reaches them, so they never change the probe order; they
  appear in the steps with `cached=True`. No candidate is judged twice.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal, Optional

ResultKind = Literal["boundary", "ambiguous", "no-change", "bad-start", "bad-end", "flaky-stop"]


class Verdict(str, enum.Enum):
    OLD = "old"  # behaves like the start of the list
    NEW = "new"  # behaves like the end of the list
    SKIP = "skip"  # untestable: says nothing about the behaviour
    FLAKY = "flaky"  # repeated runs disagreed


class FlakyPolicy(str, enum.Enum):
    """What a FLAKY verdict counts as; STOP ends the search and reports where."""

    STOP = "stop"
    AS_NEW = "as-new"
    AS_OLD = "as-old"
    AS_SKIP = "as-skip"


_AS_VERDICT: dict[FlakyPolicy, Verdict] = {
    FlakyPolicy.STOP: Verdict.FLAKY,
    FlakyPolicy.AS_NEW: Verdict.NEW,
    FlakyPolicy.AS_OLD: Verdict.OLD,
    FlakyPolicy.AS_SKIP: Verdict.SKIP,
}


@dataclass(frozen=True)
class Step:
    """One judged candidate; `verdict` is the answer as given, before the flaky policy."""

    index: int
    verdict: Verdict
    window: tuple[int, int]  # (last known OLD, first known NEW) after this step
    remaining_steps: int  # estimated probes still to come, for progress display
    cached: bool = False  # taken from `known`, the probe was not called


@dataclass(frozen=True)
class SearchResult:
    """Where the behaviour changes, as far as the testable candidates can tell."""

    kind: ResultKind
    last_old: int | None
    first_new: int | None
    skipped_between: tuple[int, ...]  # untestable candidates strictly between the pair
    flaky_at: int | None
    steps: tuple[Step, ...]

    @property
    def probes(self) -> int:
        """How many times the probe was actually called."""
        return sum(1 for step in self.steps if not step.cached)


# What the search calls to judge a candidate (by index): a build and a run, or a fake in tests.
Oracle = Callable[[int], Verdict]
OnStep = Optional[Callable[[Step], None]]


def steps_left(lo: int, hi: int) -> int:
    """Probes needed to shrink the window (lo, hi) to an adjacent pair: ceil(log2(hi - lo))."""
    return max(hi - lo - 1, 0).bit_length()


def _effective(verdict: Verdict, flaky: FlakyPolicy) -> Verdict:
    return _AS_VERDICT[flaky] if verdict is Verdict.FLAKY else verdict


class _Search:
    """State of one bisection over positions 0..len(index_of)-1, reported as list indices."""

    def __init__(
        self,
        index_of: Sequence[int],
        probe: Oracle,
        flaky: FlakyPolicy,
        on_step: OnStep,
        known: Mapping[int, Verdict],
        skipped: Iterable[int] = (),
    ) -> None:
        self.index_of = index_of
        self.probe = probe
        self.flaky = flaky
        self.on_step = on_step
        self.known = known
        self.lo = 0
        self.hi = len(index_of) - 1
        self.skipped: set[int] = set(skipped)  # positions judged SKIP (after the policy)
        self.steps: list[Step] = []

    def verdict_at(self, pos: int) -> tuple[Verdict, bool]:
        """The raw verdict for a position and whether it came from `known`."""
        index = self.index_of[pos]
        cached = index in self.known
        verdict = self.known[index] if cached else self.probe(index)
        if not isinstance(verdict, Verdict):
            source = "known" if cached else "probe"
            raise TypeError(f"{source} gave {verdict!r} for index {index}, expected a Verdict")
        return verdict, cached

    def record(self, pos: int, verdict: Verdict, cached: bool, remaining: int) -> None:
        window = (self.index_of[self.lo], self.index_of[self.hi])
        step = Step(self.index_of[pos], verdict, window, remaining, cached)
        self.steps.append(step)
        if self.on_step is not None:
            self.on_step(step)

    def inner_skipped(self) -> list[int]:
        return sorted(p for p in self.skipped if self.lo < p < self.hi)

    def remaining(self) -> int:
        untested = self.hi - self.lo - 1 - len(self.inner_skipped())
        return min(steps_left(self.lo, self.hi), untested)

    def next_position(self) -> int | None:
        """The untested position nearest the midpoint, trying right before left at each distance."""
        lo, hi = self.lo, self.hi
        mid = (lo + hi) // 2
        for offset in range(hi - lo):
            for pos in (mid + offset, mid - offset):
                if lo < pos < hi and pos not in self.skipped:
                    return pos
        return None

    def result(
        self,
        kind: ResultKind,
        last_old: int | None,
        first_new: int | None,
        flaky_at: int | None = None,
    ) -> SearchResult:
        between = self.inner_skipped() if last_old is not None and first_new is not None else []
        return SearchResult(
            kind=kind,
            last_old=None if last_old is None else self.index_of[last_old],
            first_new=None if first_new is None else self.index_of[first_new],
            skipped_between=tuple(self.index_of[p] for p in between),
            flaky_at=None if flaky_at is None else self.index_of[flaky_at],
            steps=tuple(self.steps),
        )

    def check_ends(self) -> SearchResult | None:
        """Judge the start then the end; a result if the search cannot go on."""
        end = self.hi
        verdict, cached = self.verdict_at(0)
        effective = _effective(verdict, self.flaky)
        if effective is Verdict.FLAKY:
            self.record(0, verdict, cached, 0)
            return self.result("flaky-stop", None, None, flaky_at=0)
        if effective is not Verdict.OLD:
            self.record(0, verdict, cached, 0)
            return self.result("bad-start", None, None)
        self.record(0, verdict, cached, 1 + self.remaining())

        verdict, cached = self.verdict_at(end)
        effective = _effective(verdict, self.flaky)
        if effective is not Verdict.NEW:
            self.record(end, verdict, cached, 0)
            if effective is Verdict.FLAKY:
                return self.result("flaky-stop", 0, None, flaky_at=end)
            if effective is Verdict.SKIP:
                return self.result("bad-end", 0, None)
            return self.result("no-change", end, None)
        self.record(end, verdict, cached, self.remaining())
        return None

    def run(self, check_ends: bool) -> SearchResult:
        if check_ends:
            stopped = self.check_ends()
            if stopped is not None:
                return stopped
        while True:
            pos = self.next_position()
            if pos is None:
                break
            verdict, cached = self.verdict_at(pos)
            effective = _effective(verdict, self.flaky)
            if effective is Verdict.FLAKY:
                self.record(pos, verdict, cached, 0)
                return self.result("flaky-stop", self.lo, self.hi, flaky_at=pos)
            if effective is Verdict.OLD:
                self.lo = pos
            elif effective is Verdict.NEW:
                self.hi = pos
            else:
                self.skipped.add(pos)
            self.record(pos, verdict, cached, self.remaining())
        kind: ResultKind = "boundary" if self.hi - self.lo == 1 else "ambiguous"
        return self.result(kind, self.lo, self.hi)


def bisect(
    n: int,
    probe: Oracle,
    *,
    flaky: FlakyPolicy = FlakyPolicy.STOP,
    on_step: OnStep = None,
    known: Mapping[int, Verdict] | None = None,
) -> SearchResult:
    """Find where candidates 0..n-1 change from OLD to NEW, probing each at most once."""
    if n < 2:
        raise ValueError(f"bisection needs at least 2 candidates, got {n}")
    known = dict(known or {})
    outside = sorted(i for i in known if not 0 <= i < n)
    if outside:
        raise ValueError(f"known verdicts for indices outside 0..{n - 1}: {outside}")
    return _Search(range(n), probe, flaky, on_step, known).run(check_ends=True)


def refine(
    result: SearchResult,
    inner: Iterable[int],
    probe: Oracle,
    *,
    flaky: FlakyPolicy = FlakyPolicy.STOP,
    on_step: OnStep = None,
    known: Mapping[int, Verdict] | None = None,
) -> SearchResult:
    """Search candidates left out of a first pass (e.g. yanked releases) inside its answer.

    `inner` are indices of the full list strictly between `result.last_old` and
    `result.first_new`; `probe` and `known` take full-list indices. The pair's ends are not
    probed again and the first pass's untestable candidates count as SKIP without a probe.
    Results other than "boundary" and "ambiguous" have nothing to refine and are returned as is.
    Use the same flaky policy as the first pass.
    """
    refinable = result.kind in ("boundary", "ambiguous")
    if not refinable or result.last_old is None or result.first_new is None:
        return result
    lo, hi = result.last_old, result.first_new
    extra = set(inner) - set(result.skipped_between)
    outside = sorted(i for i in extra if not lo < i < hi)
    if outside:
        raise ValueError(f"inner indices {outside} are not strictly between {lo} and {hi}")
    if not extra:
        return result
    index_of = [lo, *sorted(extra | set(result.skipped_between)), hi]
    skipped = [pos for pos, index in enumerate(index_of) if index in result.skipped_between]
    search = _Search(index_of, probe, flaky, on_step, dict(known or {}), skipped)
    found = search.run(check_ends=False)
    return replace(found, steps=result.steps + found.steps)


def bisect_with_refinement(
    full_n: int,
    primary: Sequence[int],
    probe: Oracle,
    *,
    flaky: FlakyPolicy = FlakyPolicy.STOP,
    on_step: OnStep = None,
    known: Mapping[int, Verdict] | None = None,
) -> SearchResult:
    """Bisect the `primary` indices of a full list first, then refine into the rest.

    All indices (probe, known, steps, result) refer to the full list of `full_n` candidates.
    """
    prim = list(primary)
    if len(prim) < 2:
        raise ValueError(f"bisection needs at least 2 primary candidates, got {len(prim)}")
    if prim != sorted(set(prim)) or prim[0] < 0 or prim[-1] >= full_n:
        raise ValueError(f"primary indices must be increasing and within 0..{full_n - 1}")
    known = dict(known or {})
    first = _Search(prim, probe, flaky, on_step, known).run(check_ends=True)
    if first.last_old is None or first.first_new is None:
        return first
    inner = range(first.last_old + 1, first.first_new)
    return refine(first, inner, probe, flaky=flaky, on_step=on_step, known=known)
