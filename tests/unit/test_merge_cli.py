"""`nox -s merge -- DIR...`: records of several results folders land in one, the table and the
report are redrawn from all of them, and a disagreement is a finding (exit 1), not an overwrite."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest
from factories import make_record

from pyo3_triage.commands import merge_cli, parser
from pyo3_triage.errors import EXIT_FINDING, EXIT_OK, UserError
from pyo3_triage.outcome import Outcome
from pyo3_triage.store import records
from pyo3_triage.store.records import Record
from pyo3_triage.system.paths import Layout

CACHE = "cache"


@pytest.fixture(autouse=True)
def own_cache_and_wide_console(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The merge's default cache in tmp (it is created), and one line per console message."""
    monkeypatch.setenv("PYO3_TRIAGE_CACHE", str(tmp_path / CACHE))
    monkeypatch.setenv("COLUMNS", "400")


def record(key: str, outcome: Outcome, pyo3: str = "0.20.3", **extra: object) -> Record:
    fields: dict[str, object] = dict(executable=sys.executable, created="2026-11-29T10:00:00+00:00")
    fields.update(extra)
    return make_record(outcome, key=key, pyo3=pyo3, **fields)


def folder(tmp_path: Path, name: str, *found: Record) -> Path:
    layout = Layout(tmp_path / CACHE, tmp_path / name)
    for one in found:
        records.save(layout, one)
    return layout.results


def test_shards_merge_into_one_table_and_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = folder(
        tmp_path, "shard-1", record("k1", Outcome.ABORT), record("k2", Outcome.PASS, "0.21.0")
    )
    second = folder(tmp_path, "shard-2", record("k3", Outcome.PASS, "0.22.0", scenario="other"))
    target = tmp_path / "merged"
    argv = [str(first), str(second), "--results", str(target)]
    assert merge_cli.main(argv) == EXIT_OK
    merged = Layout(tmp_path / CACHE, target)
    assert sorted(r.key for r in records.all_records(merged)) == ["k1", "k2", "k3"]
    table = (target / "matrix.md").read_text()
    assert table.startswith("## PyO3 × CPython matrix")
    assert "### `s`" in table and "### `other`" in table
    assert "| 0.20.3 |" in table and "| 0.21.0 |" in table and "| 0.22.0 |" in table
    assert shlex.join(["nox", "-s", "merge", "--", *argv]) in table  # how it was made
    assert (target / "report.md").read_text().startswith("## PyO3 × CPython report")
    out = capsys.readouterr().out
    assert (
        f"merged 3 new record(s), 0 identical, 0 conflict(s); table written to {target / 'matrix.md'}"
        in out
    )
    assert "conflict:" not in out


def test_merging_again_finds_everything_identical(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = folder(tmp_path, "shard-1", record("k1", Outcome.ABORT))
    target = tmp_path / "merged"
    assert merge_cli.main([str(source), "--results", str(target)]) == EXIT_OK
    capsys.readouterr()
    assert merge_cli.main([str(source), "--results", str(target)]) == EXIT_OK
    assert "merged 0 new record(s), 1 identical, 0 conflict(s)" in capsys.readouterr().out


def test_a_conflict_is_a_finding_and_the_first_record_stays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = folder(tmp_path, "shard-1", record("k1", Outcome.ABORT))
    second = folder(tmp_path, "shard-2", record("k1", Outcome.PASS))
    target = tmp_path / "merged"
    assert merge_cli.main([str(first), str(second), "--results", str(target)]) == EXIT_FINDING
    out = capsys.readouterr().out
    assert "conflict: s PyO3 0.20.3 CPython 3.11.7: abort here, pass in" in out
    assert "merged 1 new record(s), 0 identical, 1 conflict(s)" in out
    kept = records.load(Layout(tmp_path / CACHE, target), "s", "k1")
    assert kept is not None and kept.outcome is Outcome.ABORT
    assert "| 0.20.3 | **abort** |" in (target / "matrix.md").read_text()


def test_the_target_cannot_be_one_of_the_sources(tmp_path: Path) -> None:
    source = folder(tmp_path, "shard-1", record("k1", Outcome.ABORT))
    with pytest.raises(UserError, match="is the merge target; pass other folders as sources"):
        merge_cli.main([str(source), "--results", str(source)])
    assert not (source / "matrix.md").exists()


def test_a_source_that_is_not_a_results_folder(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="is not a results folder"):
        merge_cli.main([str(tmp_path / "missing"), "--results", str(tmp_path / "merged")])


def test_sources_are_required(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="the following arguments are required: DIR"):
        merge_cli.main(["--results", str(tmp_path / "merged")])
    args = parser.parse("merge", ["a", "b", "--results", "r"])
    assert args.sources == [Path("a"), Path("b")] and args.results == Path("r")


def test_merging_folders_without_records_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    empty = tmp_path / "shard-1"
    (empty / "records").mkdir(parents=True)
    with pytest.raises(UserError, match="no records in .*shard-1"):
        merge_cli.main([str(empty), "--results", str(tmp_path / "merged")])


def test_merging_creates_no_cache(tmp_path: Path) -> None:
    """merge uses no cache, so it must not create (and tag) the default one."""
    source = folder(tmp_path, "shard-1", record("k1", Outcome.PASS))
    merge_cli.main([str(source), "--results", str(tmp_path / "merged")])
    assert not (tmp_path / CACHE).exists()
