"""The bisection search, driven by fake oracles built from lists of verdicts."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyo3_triage.bisecting.search import (
    FlakyPolicy,
    SearchResult,
    Step,
    Verdict,
    bisect,
    bisect_with_refinement,
    refine,
    steps_left,
)

OLD, NEW, SKIP, FLAKY = Verdict.OLD, Verdict.NEW, Verdict.SKIP, Verdict.FLAKY


class Oracle:
    """Answers from a fixed list and fails the test if any index is asked twice."""

    def __init__(self, verdicts: Sequence[Verdict]) -> None:
        self.verdicts = list(verdicts)
        self.calls: list[int] = []

    def __call__(self, index: int) -> Verdict:
        assert index not in self.calls, f"index {index} probed twice"
        self.calls.append(index)
        return self.verdicts[index]


def line(n: int, boundary: int, skips: Sequence[int] = ()) -> list[Verdict]:
    """OLD before `boundary`, NEW from it on, SKIP at `skips`."""
    return [SKIP if i in skips else (OLD if i < boundary else NEW) for i in range(n)]


def bound(n: int) -> int:
    return math.ceil(math.log2(n)) + 2


def run(verdicts: Sequence[Verdict], **kwargs: object) -> tuple[SearchResult, Oracle]:
    oracle = Oracle(verdicts)
    return bisect(len(verdicts), oracle, **kwargs), oracle  # type: ignore[arg-type]


def pair(result: SearchResult) -> tuple[int | None, int | None, tuple[int, ...]]:
    return result.last_old, result.first_new, result.skipped_between


def test_steps_left() -> None:
    assert [steps_left(0, d) for d in range(0, 10)] == [0, 0, 1, 2, 2, 3, 3, 3, 3, 4]
    assert steps_left(5, 6) == 0
    assert steps_left(10, 74) == 6


@pytest.mark.parametrize("n", [-1, 0, 1])
def test_fewer_than_two_candidates_is_an_error(n: int) -> None:
    with pytest.raises(ValueError, match="at least 2"):
        bisect(n, Oracle([OLD]))


@pytest.mark.parametrize("n", range(2, 41))
def test_every_boundary_position(n: int) -> None:
    for boundary in range(1, n):
        result, oracle = run(line(n, boundary))
        assert result.kind == "boundary"
        assert pair(result) == (boundary - 1, boundary, ())
        assert result.flaky_at is None
        assert oracle.calls[:2] == [0, n - 1]
        assert [step.index for step in result.steps] == oracle.calls
        assert len(oracle.calls) <= bound(n)
        assert result.probes == len(oracle.calls)


def test_probe_bound_holds_for_every_boundary_up_to_300() -> None:
    for n in range(2, 301):
        worst = 0
        for boundary in range(1, n):
            result, oracle = run(line(n, boundary))
            assert pair(result) == (boundary - 1, boundary, ())
            worst = max(worst, len(oracle.calls))
        assert worst <= bound(n), n
        assert worst == 2 + steps_left(0, n - 1), n


def test_remaining_steps_never_underestimates_without_skips() -> None:
    for n in (2, 3, 7, 16, 33, 100):
        for boundary in range(1, n):
            result, _ = run(line(n, boundary))
            for position, step in enumerate(result.steps):
                assert step.remaining_steps >= len(result.steps) - position - 1
            assert result.steps[-1].remaining_steps == 0
            assert result.steps[-1].window == (boundary - 1, boundary)


def test_regression_and_fix_search_the_same_way() -> None:
    """The caller maps "like the start" to OLD, so both directions give identical searches."""

    def as_verdicts(outcomes: Sequence[str]) -> list[Verdict]:
        return [OLD if outcome == outcomes[0] else NEW for outcome in outcomes]

    regression = ["pass"] * 9 + ["crash"] * 8
    fix = ["crash"] * 9 + ["pass"] * 8
    first, first_oracle = run(as_verdicts(regression))
    second, second_oracle = run(as_verdicts(fix))
    assert first == second
    assert first_oracle.calls == second_oracle.calls
    assert pair(first) == (8, 9, ())


def test_skip_away_from_the_boundary_is_stepped_around() -> None:
    # n=17: the first midpoint is 8; it is untestable, so 9 is tried next.
    result, oracle = run(line(17, 12, skips=[8]))
    assert oracle.calls[:4] == [0, 16, 8, 9]
    assert result.kind == "boundary"
    assert pair(result) == (11, 12, ())


def test_skip_between_old_and_new_is_ambiguous() -> None:
    verdicts = [OLD, OLD, OLD, OLD, SKIP, NEW, NEW, NEW]
    result, _ = run(verdicts)
    assert result.kind == "ambiguous"
    assert pair(result) == (3, 5, (4,))


def test_skip_at_the_true_boundary_is_ambiguous() -> None:
    # The change happens at 5, but 5 cannot be tested: the answer must not claim 5 or 6.
    result, _ = run(line(12, 5, skips=[5]))
    assert result.kind == "ambiguous"
    assert pair(result) == (4, 6, (5,))


def test_skips_on_both_sides_of_the_boundary() -> None:
    result, _ = run(line(20, 10, skips=[8, 9, 10, 11]))
    assert result.kind == "ambiguous"
    assert pair(result) == (7, 12, (8, 9, 10, 11))


def test_all_inner_candidates_skipped() -> None:
    verdicts = [OLD] + [SKIP] * 8 + [NEW]
    result, oracle = run(verdicts)
    assert result.kind == "ambiguous"
    assert pair(result) == (0, 9, tuple(range(1, 9)))
    assert sorted(oracle.calls) == list(range(10))
    assert result.steps[-1].remaining_steps == 0


def test_no_change() -> None:
    result, oracle = run([OLD] * 10)
    assert result.kind == "no-change"
    assert oracle.calls == [0, 9]
    assert (result.last_old, result.first_new) == (9, None)


@pytest.mark.parametrize("start", [SKIP, NEW])
def test_bad_start_does_not_probe_the_end(start: Verdict) -> None:
    result, oracle = run([start, OLD, NEW, NEW])
    assert result.kind == "bad-start"
    assert oracle.calls == [0]
    assert (result.last_old, result.first_new) == (None, None)
    assert result.steps[0].verdict is start


def test_bad_end() -> None:
    result, oracle = run([OLD, OLD, NEW, SKIP])
    assert result.kind == "bad-end"
    assert oracle.calls == [0, 3]
    assert (result.last_old, result.first_new) == (0, None)


# n=16, change at 9; the first inner probe is the midpoint 7, which is flaky.
FLAKY_MID = line(16, 9)
FLAKY_MID[7] = FLAKY


def test_flaky_stop_reports_what_is_known() -> None:
    result, oracle = run(FLAKY_MID)
    assert oracle.calls == [0, 15, 7]
    assert result.kind == "flaky-stop"
    assert result.flaky_at == 7
    assert (result.last_old, result.first_new) == (0, 15)
    assert result.steps[-1].verdict is FLAKY
    assert result.steps[-1].remaining_steps == 0


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (FlakyPolicy.AS_OLD, ("boundary", 8, 9, ())),
        (FlakyPolicy.AS_NEW, ("boundary", 6, 7, ())),
        (FlakyPolicy.AS_SKIP, ("boundary", 8, 9, ())),
    ],
)
def test_flaky_policies(policy: FlakyPolicy, expected: tuple[object, ...]) -> None:
    result, oracle = run(FLAKY_MID, flaky=policy)
    assert (result.kind, *pair(result)) == expected
    assert result.flaky_at is None
    assert oracle.calls[2] == 7
    assert result.steps[2].verdict is FLAKY  # recorded as answered, treated per the policy


def test_flaky_as_skip_next_to_the_change_is_ambiguous() -> None:
    verdicts = line(16, 9)
    verdicts[8] = FLAKY
    result, _ = run(verdicts, flaky=FlakyPolicy.AS_SKIP)
    assert result.kind == "ambiguous"
    assert pair(result) == (7, 9, (8,))


def test_flaky_at_the_ends() -> None:
    result, oracle = run([FLAKY, OLD, NEW])
    assert (result.kind, result.flaky_at, oracle.calls) == ("flaky-stop", 0, [0])
    result, oracle = run([OLD, OLD, FLAKY])
    assert (result.kind, result.flaky_at, result.last_old) == ("flaky-stop", 2, 0)
    result, _ = run([FLAKY, OLD, NEW], flaky=FlakyPolicy.AS_NEW)
    assert result.kind == "bad-start"
    result, _ = run([OLD, OLD, FLAKY], flaky=FlakyPolicy.AS_OLD)
    assert result.kind == "no-change"
    result, _ = run([OLD, OLD, FLAKY], flaky=FlakyPolicy.AS_SKIP)
    assert result.kind == "bad-end"


def test_known_verdicts_replace_probes_without_changing_the_order() -> None:
    verdicts = line(33, 21)
    plain, plain_oracle = run(verdicts)
    path = plain_oracle.calls
    known = {path[0]: OLD, path[3]: verdicts[path[3]], 2: OLD}  # 2 is not on the path
    cached, oracle = run(verdicts, known=known)
    assert [step.index for step in cached.steps] == path
    assert pair(cached) == pair(plain)
    assert not set(oracle.calls) & set(known)
    assert [step.index for step in cached.steps if step.cached] == [path[0], path[3]]
    assert cached.probes == len(path) - 2


def test_known_that_contradicts_the_probe_is_trusted() -> None:
    result, oracle = run(line(10, 5), known={9: SKIP})
    assert result.kind == "bad-end"
    assert oracle.calls == [0]


def test_known_outside_the_list_is_rejected() -> None:
    with pytest.raises(ValueError, match="outside"):
        bisect(4, Oracle(line(4, 2)), known={4: OLD})


def test_probe_must_answer_with_a_verdict() -> None:
    with pytest.raises(TypeError, match="expected a Verdict"):
        bisect(3, lambda index: "old")  # type: ignore[arg-type,return-value]


def test_same_list_probes_the_same_sequence() -> None:
    verdicts = line(57, 23, skips=[28, 29, 14, 22])
    first, first_oracle = run(verdicts)
    second, second_oracle = run(verdicts)
    assert first_oracle.calls == second_oracle.calls
    assert first == second


def test_on_step_sees_every_step_in_order() -> None:
    seen: list[Step] = []
    result, _ = run(line(40, 13, skips=[19]), on_step=seen.append)
    assert tuple(seen) == result.steps


# Refinement: a full list of 20 where 6, 7, 8 and 15 are "yanked" (left out of the first pass).
YANKED = (6, 7, 8, 15)
PRIMARY = [i for i in range(20) if i not in YANKED]


def test_refinement_moves_the_boundary_inside_the_yanked_candidates() -> None:
    oracle = Oracle(line(20, 7))
    result = bisect_with_refinement(20, PRIMARY, oracle)
    assert result.kind == "boundary"
    assert pair(result) == (6, 7, ())
    first_pass = [i for i in oracle.calls if i not in YANKED]
    assert first_pass == oracle.calls[: len(first_pass)]  # yanked ones only in the second phase
    assert sorted(set(oracle.calls) & set(YANKED)) == [6, 7]
    assert [step.index for step in result.steps] == oracle.calls


def test_refinement_into_yanked_candidates_all_old() -> None:
    result = bisect_with_refinement(20, PRIMARY, Oracle(line(20, 9)))
    assert pair(result) == (8, 9, ())


def test_refinement_keeps_the_outer_pair_when_nothing_is_yanked_inside() -> None:
    oracle = Oracle(line(20, 12))
    result = bisect_with_refinement(20, PRIMARY, oracle)
    assert result.kind == "boundary"
    assert pair(result) == (11, 12, ())
    assert not set(oracle.calls) & set(YANKED)


def test_refinement_keeps_the_outer_pair_when_yanked_inside_are_untestable() -> None:
    oracle = Oracle(line(20, 7, skips=[6, 7, 8]))
    result = bisect_with_refinement(20, PRIMARY, oracle)
    assert result.kind == "ambiguous"
    assert pair(result) == (5, 9, (6, 7, 8))


def test_refine_does_not_reprobe_ends_or_first_pass_skips() -> None:
    full = line(12, 6, skips=[5])
    primary = [0, 1, 2, 3, 4, 5, 8, 9, 10, 11]  # 6 and 7 are yanked
    first_oracle = Oracle([full[i] for i in primary])
    first = bisect(len(primary), first_oracle)
    assert first.kind == "ambiguous"
    full_first = SearchResult(
        first.kind,
        primary[first.last_old],  # type: ignore[index]
        primary[first.first_new],  # type: ignore[index]
        tuple(primary[i] for i in first.skipped_between),
        None,
        (),
    )
    assert pair(full_first) == (4, 8, (5,))
    oracle = Oracle(full)
    refined = refine(full_first, [6, 7], oracle)
    assert oracle.calls == [6]  # 7 is beyond the first NEW; 4, 5 and 8 are known
    assert refined.kind == "ambiguous"
    assert pair(refined) == (4, 6, (5,))
    assert [step.index for step in refined.steps] == oracle.calls


def test_refine_leaves_results_without_a_pair_alone() -> None:
    result, _ = run([OLD] * 5)
    assert refine(result, [1, 2], Oracle([OLD] * 5)) is result


def test_refine_rejects_inner_indices_outside_the_pair() -> None:
    result, _ = run(line(5, 2))
    with pytest.raises(ValueError, match="strictly between"):
        refine(result, [3], Oracle(line(5, 2)))


def test_refinement_uses_known_with_full_list_indices() -> None:
    oracle = Oracle(line(20, 7))
    result = bisect_with_refinement(20, PRIMARY, oracle, known={0: OLD, 7: NEW})
    assert pair(result) == (6, 7, ())
    assert 0 not in oracle.calls and 7 not in oracle.calls
    assert {step.index for step in result.steps if step.cached} == {0, 7}


@pytest.mark.parametrize("primary", [[3], [2, 1, 5], [0, 20]])
def test_bad_primary_lists_are_rejected(primary: list[int]) -> None:
    with pytest.raises(ValueError):
        bisect_with_refinement(20, primary, Oracle([OLD] * 20))


def check_against_truth(
    result: SearchResult, n: int, boundary: int, skips: set[int], primary: Sequence[int]
) -> None:
    """Compare a result with a linear scan over the testable candidates."""
    first, last = primary[0], primary[-1]
    if first in skips:
        assert result.kind == "bad-start"
        return
    if last in skips:
        assert result.kind == "bad-end"
        return
    if boundary > last:
        assert result.kind == "no-change"
        return
    assert result.kind in ("boundary", "ambiguous")
    testable = [i for i in range(first, last + 1) if i not in skips]
    first_new = next(i for i in testable if i >= boundary)
    last_old = max(i for i in testable if i < first_new)
    assert result.last_old is not None and result.first_new is not None
    if result.kind == "boundary":
        assert (result.last_old, result.first_new) == (last_old, first_new)
        assert result.first_new == result.last_old + 1
        assert result.skipped_between == ()
    else:
        assert result.last_old < boundary <= result.first_new
        between = tuple(range(result.last_old + 1, result.first_new))
        assert between and result.skipped_between == between
        assert set(between) <= skips


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[int, int, set[int]]:
    n = draw(st.integers(2, 300))
    boundary = draw(st.integers(1, n))  # n means nothing changes
    skips = draw(st.sets(st.integers(0, n - 1), max_size=n // 2))
    return n, boundary, skips


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_matches_a_linear_scan(scenario: tuple[int, int, set[int]]) -> None:
    n, boundary, skips = scenario
    result, oracle = run(line(n, boundary, sorted(skips)))
    check_against_truth(result, n, boundary, skips, range(n))
    assert [step.index for step in result.steps] == oracle.calls
    if not skips:
        assert len(oracle.calls) <= bound(n)


@settings(max_examples=150, deadline=None)
@given(scenarios(), st.data())
def test_refinement_matches_a_linear_scan(
    scenario: tuple[int, int, set[int]], data: st.DataObject
) -> None:
    n, boundary, skips = scenario
    yanked = data.draw(st.sets(st.integers(1, n - 2), max_size=n // 3)) if n > 2 else set()
    primary = [i for i in range(n) if i not in yanked]
    oracle = Oracle(line(n, boundary, sorted(skips)))
    result = bisect_with_refinement(n, primary, oracle)
    check_against_truth(result, n, boundary, skips, primary)
    assert [step.index for step in result.steps] == oracle.calls
