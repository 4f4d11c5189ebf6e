"""Sharding splits a plan without loss or overlap; conflicting records are reported, not
overwritten. That merging real shards reproduces the unsharded run, and that the workflow's
steps run as written: integration/test_shard_merge_runs.py."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from factories import make_record
from hypothesis import given
from hypothesis import strategies as st

from pyo3_triage.cells import shard
from pyo3_triage.outcome import Outcome
from pyo3_triage.store import merge, records
from pyo3_triage.store.records import Record
from pyo3_triage.system.paths import Layout


@given(st.integers(0, 200), st.integers(1, 12))
def test_every_cell_in_exactly_one_shard_sizes_within_one(total: int, count: int) -> None:
    cells = list(range(total))
    parts = [shard(cells, k, count) for k in range(1, count + 1)]  # type: ignore[arg-type]
    assert sorted(c for part in parts for c in part) == cells
    sizes = [len(part) for part in parts]
    assert max(sizes) - min(sizes) <= 1
    assert parts == [shard(cells, k, count) for k in range(1, count + 1)]  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [(0, 2), (3, 2), (1, 0)])
def test_bad_shard_index(bad: tuple[int, int]) -> None:
    with pytest.raises(ValueError):
        shard([1, 2, 3], *bad)  # type: ignore[arg-type]


def _record(key: str, outcome: Outcome) -> Record:
    return make_record(outcome, key=key, created="2026-01-01")


def test_conflicting_records_are_reported_and_not_overwritten(tmp_path: Path) -> None:
    first, second, target = (Layout(tmp_path / "c", tmp_path / n) for n in ("a", "b", "t"))
    records.save(first, _record("k1", Outcome.ABORT))
    records.save(second, _record("k1", Outcome.PASS))
    records.save(second, _record("k2", Outcome.PASS))
    result = merge.merge([first.results, second.results], target)
    assert result.added == 2
    assert len(result.conflicts) == 1 and "abort here, pass" in result.conflicts[0]
    assert records.load(target, "s", "k1").outcome is Outcome.ABORT  # type: ignore[union-attr]


def test_identical_records_merge_quietly(tmp_path: Path) -> None:
    first, second, target = (Layout(tmp_path / "c", tmp_path / n) for n in ("a", "b", "t"))
    records.save(first, _record("k1", Outcome.ABORT))
    records.save(second, dataclasses.replace(_record("k1", Outcome.ABORT), created="later"))
    result = merge.merge([first.results, second.results], target)
    assert (result.added, result.identical, result.conflicts) == (1, 1, ())
