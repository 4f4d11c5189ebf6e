"""Outcomes are evidence: which crash, which say nothing about the reproducer, and their words."""

from __future__ import annotations

import json

import pytest

from pyo3_triage.outcome import DESCRIPTIONS, NEVER_VERDICTS, Outcome

CRASHES = {Outcome.ABORT, Outcome.SEGFAULT, Outcome.SIGNAL}
UNTESTABLE = {
    Outcome.BUILD_ERROR,
    Outcome.PYO3_ERROR,
    Outcome.SETUP_ERROR,
    Outcome.UNSUPPORTED,
    Outcome.IMPORT_ERROR,
    Outcome.INCOMPATIBLE,
}


@pytest.mark.parametrize("outcome", list(Outcome))
def test_crashed_means_killed_by_a_signal(outcome: Outcome) -> None:
    assert outcome.crashed is (outcome in CRASHES)


@pytest.mark.parametrize("outcome", list(Outcome))
def test_testable_means_the_reproducer_ran(outcome: Outcome) -> None:
    assert outcome.testable is (outcome not in UNTESTABLE)


def test_a_crash_is_always_testable_and_a_panic_is_not_a_crash() -> None:
    assert all(o.testable for o in CRASHES)
    assert not Outcome.PANIC.crashed and Outcome.PANIC.testable
    assert not Outcome.TIMEOUT.crashed and Outcome.TIMEOUT.testable


def test_never_verdicts_are_untestable_but_build_errors_may_be_asked_for() -> None:
    assert set(NEVER_VERDICTS) == {Outcome.SETUP_ERROR, Outcome.UNSUPPORTED, Outcome.INCOMPATIBLE}
    assert all(not o.testable for o in NEVER_VERDICTS)
    assert Outcome.BUILD_ERROR not in NEVER_VERDICTS and not Outcome.BUILD_ERROR.testable
    assert Outcome.PYO3_ERROR not in NEVER_VERDICTS and not Outcome.PYO3_ERROR.testable


def test_every_outcome_is_described_in_words() -> None:
    assert set(DESCRIPTIONS) == set(Outcome)
    assert all(text and "\n" not in text for text in DESCRIPTIONS.values())
    assert "SIGABRT" in DESCRIPTIONS[Outcome.ABORT]
    assert "not a result" in DESCRIPTIONS[Outcome.SETUP_ERROR]
    assert "pyo3-ffi" in DESCRIPTIONS[Outcome.PYO3_ERROR]


def test_values_are_stable_kebab_case_strings() -> None:
    values = [o.value for o in Outcome]
    assert len(set(values)) == len(values)
    assert all(v == v.lower() and "_" not in v and " " not in v for v in values)
    assert Outcome("build-error") is Outcome.BUILD_ERROR
    assert Outcome("import-error") is Outcome.IMPORT_ERROR
    with pytest.raises(ValueError):
        Outcome("build_error")


def test_outcomes_are_strings_in_json() -> None:
    assert Outcome.SEGFAULT == "segfault"
    assert json.dumps({"o": Outcome.TIMEOUT}) == '{"o": "timeout"}'


def test_every_table_keyed_by_outcome_covers_every_outcome() -> None:
    """A new outcome (`incompatible` was one) must get a word, a style, a colour and a
    description everywhere an outcome is drawn, or a table raises KeyError mid-run."""
    from pyo3_triage.reporting import chart, table

    for name, keyed in {
        "DESCRIPTIONS": DESCRIPTIONS,
        "table.STYLES": table.STYLES,
        "table.SHORT": table.SHORT,
        "chart.COLORS": chart.COLORS,
    }.items():
        assert set(keyed) == set(Outcome), name
    assert all(len(word) <= 5 for word in table.SHORT.values())  # the narrow terminal's promise
