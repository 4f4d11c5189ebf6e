"""A command as a tuple of named steps run in order, each taking what the one before gave.

A step returns the state the next step works on, or an exit status that ends the command
there (`--list`, `--cache-info`, the last step). The command's `main` is then the list of its
steps: what it does reads in one place, and each step is short and named for its job.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar, Union

State = TypeVar("State")
Step = Callable[[State], Union[State, int]]


def execute(state: State, steps: Sequence[Step[State]]) -> int:
    """Run `steps` from `state` until one returns an exit status."""
    for step in steps:
        result = step(state)
        if isinstance(result, int):
            return result
        state = result
    raise AssertionError(f"the last step, {steps[-1].__name__}, gives the exit status")
