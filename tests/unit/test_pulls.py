"""Which pull requests a commit message names: merge commits, squash merges and bors batches,
and the messages that name none."""

from __future__ import annotations

import pytest

from pyo3_triage.versions.pulls import PullRequest, is_batch, pull_requests


def pairs(subject: str, body: str = "") -> list[tuple[int, str]]:
    return [(p.number, p.title) for p in pull_requests(subject, body)]


# --- merge commits -----------------------------------------------------------------------
def test_merge_title_is_the_first_non_blank_body_line() -> None:
    body = "\n   \n  Fix the traverse  \nmore detail\n"
    assert pairs("Merge pull request #3689 from PyO3/branch", body) == [(3689, "Fix the traverse")]


def test_merge_without_a_body_has_no_title() -> None:
    assert pairs("Merge pull request #12 from someone/fix-it") == [(12, "")]


def test_merge_subject_needs_a_branch() -> None:
    assert pairs("Merge pull request #12 from") == []
    assert pairs("Merge pull request #x from a/b") == []


def test_merge_wins_over_a_squash_suffix() -> None:
    assert pairs("Merge pull request #5 from a/b (#6)", "Title") == [(5, "Title")]


# --- squash merges -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("subject", "expect"),
    [
        ("add `Bound::as_unbound` (#3973)", [(3973, "add `Bound::as_unbound`")]),
        ("trailing space (#7)   ", [(7, "trailing space")]),
        ('Revert "add foo (#12)" (#13)', [(13, 'Revert "add foo (#12)"')]),
        ("two numbers (#1) (#2)", [(2, "two numbers (#1)")]),
        ("(#42)", [(42, "")]),
    ],
)
def test_squash_merges_take_the_last_number(subject: str, expect: list[tuple[int, str]]) -> None:
    assert pairs(subject) == expect
    assert not is_batch(subject)


@pytest.mark.parametrize(
    "subject",
    ["release: 0.21.0", "fix #12", "see (#12) for details", "(# 12)", "Merge branch 'main'", ""],
)
def test_messages_that_name_no_pull_request(subject: str) -> None:
    assert pull_requests(subject, "body (#99)\n3168: x r=a a=b") == ()
    assert not is_batch(subject)


# --- bors --------------------------------------------------------------------------------
def test_bors_titles_drop_reviewer_and_author() -> None:
    body = "1: First thing r=alice a=bob\n\n2: Second thing r=carol\n\n3: Third a=dave\n"
    assert pairs("Merge #1 #2 #3", body) == [(1, "First thing"), (2, "Second thing"), (3, "Third")]
    assert is_batch("Merge #1 #2 #3")


def test_bors_keeps_subject_order_and_tolerates_missing_titles() -> None:
    body = "20: second listed first r=a a=b\n"
    assert pairs("Merge #10 #20", body) == [(10, ""), (20, "second listed first")]


def test_bors_title_keeps_an_equals_sign_inside_it() -> None:
    body = "7: set a=b in the config r=x a=y\n"
    assert pairs("Merge #7", body) == [(7, "set a=b in the config")]


def test_bors_ignores_paragraph_lines_of_other_numbers() -> None:
    body = "3168: Real title r=a a=b\n\nCloses #2301\n2301: not a pull request of this merge\n"
    assert pairs("Merge #3168", body) == [(3168, "Real title")]
    assert not is_batch("Merge #3168")


@pytest.mark.parametrize("subject", ["Merge #1 #2 ", "Merge #1 #2\t"])
def test_bors_subject_tolerates_trailing_whitespace(subject: str) -> None:
    assert [p.number for p in pull_requests(subject)] == [1, 2]
    assert is_batch(subject)


@pytest.mark.parametrize("subject", ["Merge #1 and #2", "Merge #1,#2", "Merge"])
def test_not_quite_bors_subjects(subject: str) -> None:
    assert not is_batch(subject)
    assert pull_requests(subject) == ()


# --- the value ---------------------------------------------------------------------------
def test_pull_request_link_and_identity() -> None:
    pr = PullRequest(3689, "Fix")
    assert pr.link("PyO3/pyo3") == "https://github.com/PyO3/pyo3/pull/3689"
    assert pr.link("me/fork").endswith("/me/fork/pull/3689")
    assert pr == PullRequest(3689, "Fix") and hash(pr) == hash(PullRequest(3689, "Fix"))
    assert pr != PullRequest(3689, "")
