"""The typed evidence a record is made of: each type's JSON form, read back exactly, the
forms older records and cached builds had, and forms with unknown fields refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pyo3_triage.evidence import BuildInfo, LockInfo, RunDetails, ToolVersions
from pyo3_triage.outcome import Outcome


def through_json(data: dict[str, object]) -> dict[str, object]:
    """What a record file holds: the dict written as JSON and read again."""
    return json.loads(json.dumps(data))


# --- RunDetails ----------------------------------------------------------------------------
def test_a_run_round_trips_through_json_with_its_outcome_as_text() -> None:
    run = RunDetails(
        outcome=Outcome.ABORT,
        exit_status=-6,
        signal="SIGABRT",
        panic_message="already borrowed",
        exception=None,
        duration=1.25,
        stdout_tail="out",
        stderr_tail="thread 'main' panicked",
        log="/r/logs/x.run.log",
        truncated=True,
    )
    data = through_json(run.as_dict())
    assert data["outcome"] == "abort" and data["signal"] == "SIGABRT"
    again = RunDetails.from_dict(data)
    assert again == run and again.outcome is Outcome.ABORT


@pytest.mark.parametrize("outcome", list(Outcome), ids=[o.value for o in Outcome])
def test_every_outcome_survives_a_run_round_trip(outcome: Outcome) -> None:
    assert RunDetails.from_dict(through_json(RunDetails(outcome).as_dict())).outcome is outcome


def test_a_run_needs_only_its_outcome() -> None:
    """The other fields have defaults, so a short form reads as a run with no evidence."""
    run = RunDetails.from_dict({"outcome": "pass"})
    assert run == RunDetails(Outcome.PASS)
    assert (run.exit_status, run.signal, run.log, run.duration) == (None, None, None, 0.0)


def test_a_run_with_an_unknown_field_or_outcome_is_refused() -> None:
    with pytest.raises(TypeError):
        RunDetails.from_dict({"outcome": "pass", "verdict": "old"})
    with pytest.raises(ValueError):
        RunDetails.from_dict({"outcome": "exploded"})


# --- LockInfo --------------------------------------------------------------------------------
LOCK = LockInfo(
    pyo3="0.17.0",
    crates=(("pyo3", "0.17.0"), ("pyo3-build-config", "0.17.3")),
    mismatched=("pyo3-build-config",),
    lock_hash="0123456789abcdef",
    file="/r/locks/0.17.0-0123456789abcdef.Cargo.lock",
)


def test_a_lock_is_written_as_a_mapping_and_a_list() -> None:
    data = LOCK.as_dict()
    assert data["crates"] == {"pyo3": "0.17.0", "pyo3-build-config": "0.17.3"}
    assert data["mismatched"] == ["pyo3-build-config"]
    assert LockInfo.from_dict(through_json(data)) == LOCK


def test_a_lock_read_back_has_its_crates_sorted_whatever_the_file_order() -> None:
    data = {**LOCK.as_dict(), "crates": {"pyo3-ffi": "0.17.0", "pyo3": "0.17.0"}}
    assert LockInfo.from_dict(data).crates == (("pyo3", "0.17.0"), ("pyo3-ffi", "0.17.0"))


def test_the_lock_form_written_before_copies_were_kept() -> None:
    """ResolvedLock.as_dict() once had no `file`; early locks not even `mismatched`."""
    older = {"pyo3": "0.20.3", "crates": {"pyo3": "0.20.3"}, "lock_hash": "abc"}
    found = LockInfo.from_dict(older)
    assert found == LockInfo("0.20.3", (("pyo3", "0.20.3"),), (), "abc", "")
    assert LockInfo.from_dict({"pyo3": "0.20.3", "crates": None}).crates == ()


def test_a_lock_with_an_unknown_field_is_refused() -> None:
    with pytest.raises(TypeError):
        LockInfo.from_dict({**LOCK.as_dict(), "checksum": "x"})


# --- BuildInfo -------------------------------------------------------------------------------
BUILD = BuildInfo(
    key="b" * 24,
    ok=False,
    wheel=None,
    duration=12.5,
    cached=False,
    log="/r/logs/x.build.log",
    error="error[E0599]: no method named `borrow`",
    compiled_pyo3=True,
    transient=False,
    compile_error=True,
)


def test_a_build_round_trips_through_json() -> None:
    assert BuildInfo.from_dict(through_json(BUILD.as_dict())) == BUILD


def test_the_build_form_that_carried_a_user_crates_lock() -> None:
    """Builds cached before LockInfo had its own place kept the lock inside the build, and
    had no `compile_error`: read as a build without it, the lock ignored."""
    older = {k: v for k, v in BUILD.as_dict().items() if k != "compile_error"}
    older["lock"] = {"pyo3": "0.20.3", "lock_hash": "abc"}
    found = BuildInfo.from_dict(older)
    assert not hasattr(found, "lock")
    assert found.compile_error is False and found.error == BUILD.error and found.key == BUILD.key


def test_a_build_with_another_unknown_field_is_refused() -> None:
    with pytest.raises(TypeError):
        BuildInfo.from_dict({**BUILD.as_dict(), "warnings": 3})


@pytest.mark.parametrize(
    ("cached", "duration", "ran"),
    [(False, 12.5, True), (True, 12.5, False), (False, 0.0, False), (True, 0.0, False)],
)
def test_a_build_ran_only_when_it_was_not_cached_and_took_time(
    cached: bool, duration: float, ran: bool
) -> None:
    build = BuildInfo("k", True, "/w.whl", duration, cached, "/b.log", None, False)
    assert build.ran is ran


# --- ToolVersions ----------------------------------------------------------------------------
def test_tool_versions_round_trip_and_older_partial_forms() -> None:
    tools = ToolVersions(
        "rustc 1.80.0", "rustc 1.80.0\nhost: x", "cargo 1.80.0", "maturin 1.7", "uv"
    )
    assert ToolVersions.from_dict(through_json(tools.as_dict())) == tools
    assert set(tools.as_dict()) == {"rustc", "rustc_verbose", "cargo", "maturin", "uv"}
    assert ToolVersions.from_dict({}) == ToolVersions()  # a record written without tools
    assert ToolVersions.from_dict({"rustc": "rustc 1.70.0"}).cargo == ""
    with pytest.raises(TypeError):
        ToolVersions.from_dict({"rustc": "r", "python": "3.12"})


def test_a_record_holding_a_refused_form_is_ignored_not_half_trusted(tmp_path: Path) -> None:
    from factories import make_record

    from pyo3_triage.store import records
    from pyo3_triage.system.paths import Layout

    layout = Layout(cache=tmp_path / "cache", results=tmp_path / "results")
    path = records.save(layout, make_record(Outcome.ABORT, key="k1"))
    assert records.load(layout, "s", "k1") is not None
    data = json.loads(path.read_text())
    data["runs"][0]["verdict"] = "old"
    path.write_text(json.dumps(data))
    assert records.load(layout, "s", "k1") is None


def test_a_crash_in_c_is_told_by_its_assertion_or_fatal_error() -> None:
    from pyo3_triage.evidence import fatal_line

    debug_gc = (
        '../Modules/gcmodule.c:442: update_refs: Assertion "gc_get_refs(gc) != 0" failed\n'
        "object refcount : 0\n"
        "Fatal Python error: _PyObject_AssertFailed: _PyObject_AssertFailed\n"
        '  File "driver.py", line 23 in <module>\n'
    )
    assert fatal_line(debug_gc) == (
        '../Modules/gcmodule.c:442: update_refs: Assertion "gc_get_refs(gc) != 0" failed'
    )
    assert fatal_line("Fatal Python error: Segmentation fault\nstack\n") == (
        "Fatal Python error: Segmentation fault"
    )
    assert fatal_line("Traceback (most recent call last):\nValueError: x\n") is None
