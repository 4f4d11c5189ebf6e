"""A command's steps run in order, each taking what the one before gave, until one gives an
exit status."""

from __future__ import annotations

import pytest

from pyo3_triage.commands import workflow


def test_steps_hand_on_their_state_until_one_gives_a_status() -> None:
    ran: list[str] = []

    def double(state: int | str) -> int | str:
        ran.append("double")
        return str(int(state) * 2)

    def stop(state: int | str) -> int | str:
        ran.append(f"stop at {state}")
        return 3

    def never(state: int | str) -> int | str:
        ran.append("never")
        return state

    assert workflow.execute("2", [double, double, stop, never]) == 3
    assert ran == ["double", "double", "stop at 8"]


def test_a_command_whose_last_step_gives_no_status_is_a_bug() -> None:
    def keep(state: str) -> str | int:
        return state

    with pytest.raises(AssertionError, match="the last step, keep, gives the exit status"):
        workflow.execute("s", [keep, keep])
