"""Sharding splits a plan without loss or overlap; merging shard results reproduces the
unsharded run (records and table); conflicting records are reported, not overwritten."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from factories import make_record
from hypothesis import given
from hypothesis import strategies as st

from pyo3_triage import cli, merge, merge_cli, records
from pyo3_triage.cells import shard
from pyo3_triage.outcome import Outcome
from pyo3_triage.paths import Layout
from pyo3_triage.records import Record


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


def _table_part(markdown: str) -> str:
    """The tables and messages, without the environment block (it holds the command and time)."""
    return re.split(r"<details><summary>Environment", markdown)[0]


@pytest.mark.build
def test_sharded_runs_merge_into_the_unsharded_result(build_cache: Path, tmp_path: Path) -> None:
    base = [
        "--pyo3",
        "0.20.3,0.21.0",
        "--python",
        "3.11",
        "--scenario",
        "unsendable_gc_traverse,unsendable_gc_traverse_workaround",
        "--cache",
        str(build_cache),
    ]
    assert cli.main([*base, "--results", str(tmp_path / "whole")]) == 0
    for k in (1, 2, 3):
        assert cli.main([*base, "--shard", f"{k}/3", "--results", str(tmp_path / f"s{k}")]) == 0
    merged = tmp_path / "merged"
    sources = [str(tmp_path / f"s{k}") for k in (1, 2, 3)]
    assert merge_cli.main([*sources, "--results", str(merged)]) == 0

    def evidence(folder: Path) -> dict[str, tuple[object, ...]]:
        layout = Layout(build_cache, folder)
        return {r.key: merge.evidence(r) for r in records.all_records(layout)}

    assert evidence(merged) == evidence(tmp_path / "whole")
    assert len(evidence(merged)) == 4
    whole = (tmp_path / "whole" / "matrix.md").read_text()
    assert _table_part((merged / "matrix.md").read_text()) == _table_part(whole)
