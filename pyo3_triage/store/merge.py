"""Combine results folders from several runs (e.g. CI shards) into one and redraw the tables.

A record's file name is the hash of its inputs, so the same cell computed twice lands on the
same name. If both copies tell the same story (outcomes, signals, panic messages) one is kept;
if they disagree, that is a conflict: it is reported and the record already in the target is
left alone, never silently overwritten.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from pyo3_triage.errors import UserError
from pyo3_triage.store import records
from pyo3_triage.store.records import Record
from pyo3_triage.system.paths import Layout


@dataclass(frozen=True)
class MergeResult:
    added: int
    identical: int
    conflicts: tuple[str, ...]  # one line each


def evidence(record: Record) -> tuple[object, ...]:
    """What must agree for two records of the same inputs to count as the same result."""
    runs = tuple((r.outcome, r.signal, r.exit_status, r.panic_message) for r in record.runs)
    return (record.outcome, runs, record.note)


def merge(sources: Sequence[Path], target: Layout) -> MergeResult:
    added = identical = 0
    conflicts: list[str] = []
    for source in sources:
        if not source.is_dir():
            raise UserError(
                f"{source} is not a results folder; pass folders the matrix command wrote"
            )
        layout = Layout(cache=target.cache, results=source)
        for record in records.all_records(layout):
            existing = records.load(target, record.scenario, record.key)
            if existing is None:
                records.save(target, _copy_lock(layout, target, record))
                _copy_logs(layout, target, record)
                added += 1
            elif evidence(existing) == evidence(record):
                _copy_lock(layout, target, existing)
                identical += 1
            else:
                conflicts.append(
                    f"{record.scenario} PyO3 {record.pyo3} {record.interpreter}: "
                    f"{existing.outcome.value} here, {record.outcome.value} in {source} (kept the first)"
                )
    return MergeResult(added, identical, tuple(conflicts))


def _copy_logs(source: Layout, target: Layout, record: Record) -> None:
    """Bring the record's logs along, under the same names (reports name logs by file name,
    found in the results folder's `logs/`)."""
    names = {Path(str(p)).name for p in _log_paths(record) if p}
    for name in names:
        found = source.logs_dir() / name
        if found.is_file():
            target.logs_dir().mkdir(parents=True, exist_ok=True)
            shutil.copy2(found, target.logs_dir() / name)


def _copy_lock(source: Layout, target: Layout, record: Record) -> Record:
    """Bring along the Cargo.lock the record was built with (kept beside the records for
    rebuilding the cell), and point the record at the copy: the source folder may be a shard
    that is thrown away once merged."""
    lock = record.lock
    if lock is None or not lock.file:
        return record
    kept = target.kept_lock(lock.pyo3, lock.lock_hash)
    found = source.results / "locks" / Path(lock.file).name
    if not kept.is_file() and found.is_file():
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(found, kept)
    if not kept.is_file():
        return record  # the source kept no copy either: the record says where it was
    return replace(record, lock=replace(lock, file=str(kept)))


def _log_paths(record: Record) -> Iterable[object]:
    yield record.build.log if record.build else None
    for run in record.runs:
        yield run.log
