"""Combining results folders: what counts as the same result, conflicts reported and never
overwritten, logs brought along, and bad sources refused."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from factories import make_record, make_run

from pyo3_triage.errors import UserError
from pyo3_triage.evidence import BuildInfo, LockInfo
from pyo3_triage.outcome import Outcome
from pyo3_triage.store import records
from pyo3_triage.store.merge import MergeResult, evidence, merge
from pyo3_triage.store.records import Record
from pyo3_triage.system.paths import Layout


def folder(tmp_path: Path, name: str, *saved: Record) -> Layout:
    layout = Layout(cache=tmp_path / "cache", results=tmp_path / name)
    layout.results.mkdir(parents=True, exist_ok=True)
    for record in saved:
        records.save(layout, record)
    return layout


def abort(outcome: Outcome = Outcome.ABORT, **overrides: Any) -> Record:
    run = make_run(Outcome.ABORT, signal="SIGABRT", exit_status=None, panic_message="boom")
    return make_record(outcome, **{"runs": (run,), **overrides})


def build_info(log: str, duration: float = 1.0) -> BuildInfo:
    return BuildInfo(
        key="b",
        ok=True,
        wheel=None,
        duration=duration,
        cached=False,
        log=log,
        error=None,
        compiled_pyo3=True,
    )


# --- evidence ------------------------------------------------------------------------------
def test_incidental_fields_are_not_evidence() -> None:
    first = abort(created="2026-01-01", harness="0.1.0", platform="a")
    again = dataclasses.replace(
        first,
        created="2026-02-02",
        harness="0.2.0",
        platform="b",
        build=build_info("/elsewhere/x.build.log", duration=9.0),
        runs=(dataclasses.replace(first.runs[0], duration=3.0, stdout_tail="x", log="/l"),),
    )
    assert evidence(first) == evidence(again)


@pytest.mark.parametrize(
    "change",
    [
        {"note": "built outside the window"},
        {"outcome": Outcome.SEGFAULT},
        {"runs": (make_run(Outcome.ABORT, signal="SIGSEGV", panic_message="boom"),)},
        {"runs": (make_run(Outcome.ABORT, signal="SIGABRT", panic_message="other"),)},
        {
            "runs": (
                make_run(Outcome.ABORT, signal="SIGABRT", exit_status=134, panic_message="boom"),
            )
        },
        {"runs": (make_run(Outcome.ABORT, signal="SIGABRT", panic_message="boom"),) * 2},
    ],
)
def test_what_must_agree(change: dict[str, Any]) -> None:
    assert evidence(abort()) != evidence(abort(**change))


# --- merging -------------------------------------------------------------------------------
def test_records_from_every_source_land_in_the_target(tmp_path: Path) -> None:
    a = folder(tmp_path, "a", abort(key="k1"), make_record(key="k2"))
    b = folder(tmp_path, "b", make_record(key="k3", scenario="other"))
    target = folder(tmp_path, "t")
    result = merge([a.results, b.results], target)
    assert result == MergeResult(added=3, identical=0, conflicts=())
    assert {(r.scenario, r.key) for r in records.all_records(target)} == {
        ("s", "k1"),
        ("s", "k2"),
        ("other", "k3"),
    }
    assert records.load(target, "s", "k1") == abort(key="k1")


def test_the_same_result_twice_is_kept_once(tmp_path: Path) -> None:
    a = folder(tmp_path, "a", abort(key="k", created="first"))
    b = folder(tmp_path, "b", abort(key="k", created="second"))
    c = folder(tmp_path, "c", abort(key="k", created="third"))
    target = folder(tmp_path, "t")
    assert merge([a.results, b.results, c.results], target) == MergeResult(1, 2, ())
    kept = records.load(target, "s", "k")
    assert kept is not None and kept.created == "first"


def test_a_conflict_is_named_and_the_first_record_kept(tmp_path: Path) -> None:
    target = folder(tmp_path, "t", abort(key="k", pyo3="0.20.3", python="3.11.7"))
    other = folder(
        tmp_path, "b", make_record(Outcome.PASS, key="k", pyo3="0.20.3", python="3.11.7")
    )
    result = merge([other.results], target)
    assert (result.added, result.identical) == (0, 0)
    assert result.conflicts == (
        f"s PyO3 0.20.3 CPython 3.11.7: abort here, pass in {other.results} (kept the first)",
    )
    kept = records.load(target, "s", "k")
    assert kept is not None and kept.outcome is Outcome.ABORT


def test_merging_a_folder_into_itself_changes_nothing(tmp_path: Path) -> None:
    target = folder(tmp_path, "t", abort(key="k1"), make_record(key="k2"))
    before = sorted(p.read_bytes() for p in target.records_dir().rglob("*.json"))
    assert merge([target.results], target) == MergeResult(0, 2, ())
    assert sorted(p.read_bytes() for p in target.records_dir().rglob("*.json")) == before


def test_damaged_records_in_a_source_are_skipped(tmp_path: Path) -> None:
    a = folder(tmp_path, "a", make_record(key="good"))
    (a.records_dir() / "s" / "bad.json").write_text("{half a rec")
    (a.records_dir() / "s" / "old.json").write_text('{"schema": 0}')
    target = folder(tmp_path, "t")
    assert merge([a.results], target) == MergeResult(1, 0, ())


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_a_source_that_is_not_a_folder_is_refused(tmp_path: Path, kind: str) -> None:
    source = tmp_path / "src"
    if kind == "file":
        source.write_text("not a folder")
    with pytest.raises(UserError) as caught:
        merge([source], folder(tmp_path, "t"))
    assert caught.value.message == (
        f"{source} is not a results folder; pass folders the matrix command wrote"
    )


def test_an_empty_folder_merges_nothing(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert merge([empty], folder(tmp_path, "t")) == MergeResult(0, 0, ())


# --- logs ----------------------------------------------------------------------------------
def test_logs_of_added_records_come_along(tmp_path: Path) -> None:
    a = folder(tmp_path, "a")
    logs = a.results / "logs"
    logs.mkdir()
    (logs / "x.build.log").write_text("compiling")
    (logs / "x.run.log").write_text("panicked")
    (logs / "unrelated.log").write_text("not this one")
    run = make_run(Outcome.ABORT, log=str(logs / "x.run.log"))
    gone = make_run(Outcome.ABORT, log=str(logs / "deleted.run.log"))
    record = make_record(
        Outcome.ABORT, key="k", runs=(run, gone), build=build_info(str(logs / "x.build.log"))
    )
    records.save(a, record)
    target = folder(tmp_path, "t")
    assert merge([a.results], target).added == 1
    copied = sorted(p.name for p in (target.results / "logs").iterdir())
    assert copied == ["x.build.log", "x.run.log"]
    assert (target.results / "logs" / "x.run.log").read_text() == "panicked"


def test_logs_of_kept_records_are_not_replaced(tmp_path: Path) -> None:
    target = folder(tmp_path, "t", abort(key="k"))
    (target.results / "logs").mkdir()
    (target.results / "logs" / "x.run.log").write_text("ours")
    b = folder(tmp_path, "b")
    (b.results / "logs").mkdir()
    (b.results / "logs" / "x.run.log").write_text("theirs")
    run = make_run(Outcome.PASS, log=str(b.results / "logs" / "x.run.log"))
    records.save(b, make_record(Outcome.PASS, key="k", runs=(run,)))
    assert len(merge([b.results], target).conflicts) == 1
    assert (target.results / "logs" / "x.run.log").read_text() == "ours"


# --- kept Cargo.locks ----------------------------------------------------------------------
def test_the_kept_lock_a_record_was_built_with_comes_along(tmp_path: Path) -> None:
    shard = folder(tmp_path, "shard")
    kept = shard.kept_lock("0.20.3", "abc123")
    kept.parent.mkdir(parents=True)
    kept.write_text("# the lock")
    lock = LockInfo("0.20.3", (("pyo3", "0.20.3"),), lock_hash="abc123", file=str(kept))
    records.save(shard, make_record(Outcome.PASS, key="k", lock=lock))
    target = folder(tmp_path, "t")
    assert merge([shard.results], target).added == 1
    copied = target.kept_lock("0.20.3", "abc123")
    assert copied.read_text() == "# the lock"
    merged = records.load(target, "s", "k")
    assert merged is not None and merged.lock is not None
    assert merged.lock.file == str(copied)  # not the shard folder, which CI throws away
    assert evidence(merged) == evidence(make_record(Outcome.PASS, key="k", lock=lock))


def test_a_kept_lock_missing_beside_a_record_already_merged_is_brought_too(
    tmp_path: Path,
) -> None:
    lock = LockInfo("0.20.3", lock_hash="abc123", file="/gone/locks/0.20.3-abc123.Cargo.lock")
    target = folder(tmp_path, "t", make_record(Outcome.PASS, key="k", lock=lock))
    shard = folder(tmp_path, "shard", make_record(Outcome.PASS, key="k", lock=lock))
    shard.kept_lock("0.20.3", "abc123").parent.mkdir(parents=True)
    shard.kept_lock("0.20.3", "abc123").write_text("# the lock")
    assert merge([shard.results], target).identical == 1
    assert target.kept_lock("0.20.3", "abc123").read_text() == "# the lock"
