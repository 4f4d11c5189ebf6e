"""Records are the evidence tables are drawn from: they must round-trip exactly, be keyed by
every input, and a damaged or foreign file must be ignored rather than trusted."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import factories
import pytest

from pyo3_triage.evidence import BuildInfo, LockInfo, RunDetails, ToolVersions
from pyo3_triage.outcome import Outcome
from pyo3_triage.store import records
from pyo3_triage.store.records import SCHEMA, Record, record_key
from pyo3_triage.system.paths import Layout


def make_run(outcome: Outcome = Outcome.PASS, **overrides: Any) -> RunDetails:
    return RunDetails(outcome=outcome, **overrides)


def make_record(**overrides: Any) -> Record:
    fields: dict[str, Any] = dict(
        key="0123456789abcdef01234567",
        scenario="unsendable_gc_traverse",
        scenario_hash="feedfacefeedface",
        python="3.12.1",
        python_label="3.12",
        executable="/usr/bin/python3.12",
        runs=(make_run(),),
    )
    fields.update(overrides)
    return factories.make_record(**fields)


def full_record() -> Record:
    """Every field set to something other than its default."""
    abort = RunDetails(
        outcome=Outcome.ABORT,
        exit_status=-6,
        signal="SIGABRT",
        panic_message="assertion failed: thread == owner | `x`\nsecond line",
        exception="PanicException: boom",
        duration=1.25,
        stdout_tail="out\n",
        stderr_tail="thread '<unnamed>' panicked\n",
        log="/tmp/results/logs/x.run.log",
        truncated=True,
    )
    return make_record(
        yanked=True,
        outcome=Outcome.ABORT,
        runs=(abort, make_run(Outcome.PASS, exit_status=0, duration=0.5)),
        forced=True,
        note="built outside the window",
        build=BuildInfo(
            key="b1",
            ok=True,
            wheel="/cache/wheels/x.whl",
            duration=12.5,
            cached=False,
            log="/tmp/results/logs/x.build.log",
            error=None,
            compiled_pyo3=True,
        ),
        lock=LockInfo("0.20.3", (("pyo3", "0.20.3"), ("pyo3-ffi", "0.20.3")), (), "abc", "/l"),
        toolchain=ToolVersions(rustc="rustc 1.79.0", maturin="maturin 1.5.1"),
        transient=True,
        platform="Linux-6.1-x86_64",
        created="2024-05-01T12:00:00+00:00",
        harness="0.1.0",
    )


# --- JSON round trip ----------------------------------------------------------------------
def test_round_trip_keeps_every_field() -> None:
    record = full_record()
    again = Record.from_json(record.to_json())
    assert again == record
    for field in dataclasses.fields(Record):
        assert getattr(again, field.name) == getattr(record, field.name), field.name


def test_round_trip_restores_enums_and_tuples() -> None:
    again = Record.from_json(full_record().to_json())
    assert again.outcome is Outcome.ABORT
    assert isinstance(again.runs, tuple)
    assert [run.outcome for run in again.runs] == [Outcome.ABORT, Outcome.PASS]
    assert all(isinstance(run.outcome, Outcome) for run in again.runs)
    assert again.runs[0].truncated is True
    assert again.runs[1].signal is None


@pytest.mark.parametrize("outcome", list(Outcome), ids=lambda o: o.value)
def test_every_outcome_round_trips(outcome: Outcome) -> None:
    record = make_record(outcome=outcome, runs=(make_run(outcome),))
    again = Record.from_json(record.to_json())
    assert again.outcome is outcome
    assert again.runs[0].outcome is outcome


def test_json_is_plain_values_with_outcome_spelled_as_text() -> None:
    data = json.loads(full_record().to_json())
    assert data["outcome"] == "abort"
    assert data["runs"][0]["outcome"] == "abort"
    assert data["schema"] == SCHEMA
    assert set(data) == {field.name for field in dataclasses.fields(Record)}


def test_reads_the_form_older_versions_wrote() -> None:
    """Records stored before the column label, the retry flag and the lock had their own
    fields are still read, not rebuilt."""
    data = json.loads(full_record().to_json())
    data["python_minor"] = data.pop("python_label")
    del data["transient"]
    data["build"] = {**data["build"], "transient": True, "lock": {"pyo3": "0.20.3"}}
    again = Record.from_json(json.dumps(data))
    assert again.python_label == "3.12"
    assert again.transient is True
    assert again.build is not None and again.build.key == "b1" and again.build.transient


def test_a_timeout_stored_before_confirmation_existed_is_unconfirmed() -> None:
    """No record from before was ever confirmed: the next run reruns it, never reuses it."""
    data = json.loads(factories.make_record(Outcome.TIMEOUT).to_json())
    del data["confirmed"]
    older = Record.from_json(json.dumps(data))
    assert older.unconfirmed and not older.confirmed
    confirmed = Record.from_json(factories.make_record(Outcome.TIMEOUT, confirmed=True).to_json())
    assert confirmed.confirmed and not confirmed.unconfirmed


def test_run_details_round_trip() -> None:
    run = full_record().runs[0]
    assert RunDetails.from_dict(run.as_dict()) == run
    assert RunDetails.from_dict(json.loads(json.dumps(run.as_dict()))) == run


def test_from_json_rejects_other_schema() -> None:
    data = json.loads(make_record().to_json())
    data["schema"] = SCHEMA + 1
    with pytest.raises(ValueError, match="schema"):
        Record.from_json(json.dumps(data))


# --- record_key ---------------------------------------------------------------------------
BASE_INPUTS: dict[str, Any] = {
    "scenario": "a1b2c3",
    "template": "t1",
    "pyo3": "0.20.3",
    "python": "3.12.1",
    "python_path": "/usr/bin/python3.12",
    "soabi": "cpython-312-x86_64-linux-gnu",
    "build": "b1",
    "forced": False,
    "repeat": 1,
    "harness": "0.1.0",
}


def test_record_key_is_stable() -> None:
    assert record_key(BASE_INPUTS) == record_key(dict(BASE_INPUTS))
    assert len(record_key(BASE_INPUTS)) == 24
    int(record_key(BASE_INPUTS), 16)  # hexadecimal


def test_record_key_ignores_dict_order() -> None:
    reversed_inputs = dict(reversed(list(BASE_INPUTS.items())))
    assert list(reversed_inputs) != list(BASE_INPUTS)
    assert record_key(reversed_inputs) == record_key(BASE_INPUTS)
    nested_a = {**BASE_INPUTS, "extra": {"x": 1, "y": 2}}
    nested_b = {**BASE_INPUTS, "extra": {"y": 2, "x": 1}}
    assert record_key(nested_a) == record_key(nested_b)


CHANGED_VALUES = {
    "scenario": "a1b2c4",
    "template": "t2",
    "pyo3": "0.21.0",
    "python": "3.12.2",
    "python_path": "/opt/python3.12",
    "soabi": "cpython-312t-x86_64-linux-gnu",
    "build": "b2",
    "forced": True,
    "repeat": 3,
    "harness": "0.2.0",
}


@pytest.mark.parametrize("name", sorted(CHANGED_VALUES))
def test_record_key_changes_with_each_input(name: str) -> None:
    assert record_key({**BASE_INPUTS, name: CHANGED_VALUES[name]}) != record_key(BASE_INPUTS)


def test_record_key_changes_when_an_input_is_added_or_removed() -> None:
    base = record_key(BASE_INPUTS)
    assert record_key({**BASE_INPUTS, "unsupported": "3.7-3.12"}) != base
    fewer = {k: v for k, v in BASE_INPUTS.items() if k != "build"}
    assert record_key(fewer) != base


def test_record_key_tells_types_apart() -> None:
    assert record_key({**BASE_INPUTS, "repeat": 1}) != record_key({**BASE_INPUTS, "repeat": "1"})
    assert record_key({**BASE_INPUTS, "forced": False}) != record_key(
        {**BASE_INPUTS, "forced": None}
    )


# --- save / load --------------------------------------------------------------------------
@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    layout = Layout(cache=tmp_path / "cache", results=tmp_path / "results")
    layout.ensure()
    return layout


def test_save_then_load(layout: Layout) -> None:
    record = full_record()
    path = records.save(layout, record)
    assert path == layout.record_file(record.scenario, record.key)
    assert path.is_file()
    assert path.is_relative_to(layout.records_dir())
    assert records.load(layout, record.scenario, record.key) == record
    assert list(records.all_records(layout)) == [record]
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temp files left


def test_save_overwrites_same_key(layout: Layout) -> None:
    records.save(layout, make_record(outcome=Outcome.ABORT))
    records.save(layout, make_record(outcome=Outcome.PASS))
    found = records.load(layout, "unsendable_gc_traverse", make_record().key)
    assert found is not None and found.outcome is Outcome.PASS
    assert len(list(records.all_records(layout))) == 1


def test_load_missing_is_none(layout: Layout) -> None:
    assert records.load(layout, "unsendable_gc_traverse", "nothing-here") is None
    assert list(records.all_records(layout)) == []


def test_all_records_without_results_folder(tmp_path: Path) -> None:
    layout = Layout(cache=tmp_path / "c", results=tmp_path / "never-made")
    assert list(records.all_records(layout)) == []


def test_all_records_spans_scenarios(layout: Layout) -> None:
    one = make_record(key="k1", scenario="alpha")
    two = make_record(key="k2", scenario="beta", outcome=Outcome.SEGFAULT)
    records.save(layout, two)
    records.save(layout, one)
    assert sorted(r.key for r in records.all_records(layout)) == ["k1", "k2"]


def _valid_text() -> str:
    return make_record(key="bad").to_json()


def _with(**changes: Any) -> str:
    data = json.loads(_valid_text())
    data.update(changes)
    return json.dumps(data)


DAMAGED = {
    "empty": "",
    "half-written": _valid_text()[: len(_valid_text()) // 2],
    "garbage": "\x00\x01 not json at all {{{",
    "other-schema": _with(schema=SCHEMA + 1),
    "no-schema": json.dumps({k: v for k, v in json.loads(_valid_text()).items() if k != "schema"}),
    "unknown-outcome": _with(outcome="exploded"),
    "unknown-field": _with(surprise=True),
    "missing-field": json.dumps(
        {k: v for k, v in json.loads(_valid_text()).items() if k != "pyo3"}
    ),
    "runs-not-a-list": _with(runs=5),
    "run-not-an-object": _with(runs=["abort"]),
    "run-unknown-field": _with(runs=[{"outcome": "pass", "bogus": 1}]),
    "run-without-outcome": _with(runs=[{"exit_status": 0}]),
}


DAMAGED_BYTES = {name: text.encode() for name, text in DAMAGED.items()}
DAMAGED_BYTES["not-utf8"] = b"\xff\xfe\x80{}"


@pytest.mark.parametrize("data", list(DAMAGED_BYTES.values()), ids=list(DAMAGED_BYTES))
def test_damaged_record_is_ignored(layout: Layout, data: bytes) -> None:
    good = make_record(key="good")
    records.save(layout, good)
    bad_path = layout.record_file(good.scenario, "bad")
    bad_path.write_bytes(data)
    assert records.load(layout, good.scenario, "bad") is None
    assert list(records.all_records(layout)) == [good]


@pytest.mark.parametrize("text", ["[]", "null", "1", '"x"'])
def test_json_that_is_not_an_object_is_ignored(layout: Layout, text: str) -> None:
    path = layout.record_file("s", "bad")
    path.parent.mkdir(parents=True)
    path.write_text(text)
    assert records.load(layout, "s", "bad") is None
    assert list(records.all_records(layout)) == []


def test_folder_named_like_a_record_is_ignored(layout: Layout) -> None:
    layout.record_file("s", "dir").mkdir(parents=True)
    assert records.load(layout, "s", "dir") is None
    assert list(records.all_records(layout)) == []


def test_temp_files_are_not_records(layout: Layout) -> None:
    record = make_record()
    path = records.save(layout, record)
    (path.parent / f".{path.name}.abc123.tmp").write_text(record.to_json()[:10])
    assert list(records.all_records(layout)) == [record]


# --- flaky --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("outcomes", "flaky"),
    [
        ((), False),
        ((Outcome.PASS,), False),
        ((Outcome.ABORT, Outcome.ABORT, Outcome.ABORT), False),
        ((Outcome.ABORT, Outcome.PASS, Outcome.ABORT), True),
        ((Outcome.PASS, Outcome.SEGFAULT), True),
        ((Outcome.TIMEOUT, Outcome.ABORT), True),
    ],
)
def test_flaky(outcomes: tuple[Outcome, ...], flaky: bool) -> None:
    record = make_record(runs=tuple(make_run(o) for o in outcomes))
    assert record.flaky is flaky


def test_flaky_survives_round_trip() -> None:
    record = make_record(runs=(make_run(Outcome.ABORT), make_run(Outcome.PASS)))
    assert Record.from_json(record.to_json()).flaky


def test_panic_message_is_the_first_one_seen() -> None:
    record = make_record(
        runs=(
            make_run(Outcome.PASS),
            make_run(Outcome.ABORT, panic_message="first"),
            make_run(Outcome.ABORT, panic_message="second"),
        )
    )
    assert record.panic_message == "first"
    assert make_record().panic_message is None


def test_a_record_names_its_interpreter_build() -> None:
    named = {
        ("3.12.1", "3.12"): "CPython 3.12.1",
        ("3.13.5", "3.13t"): "CPython 3.13.5t",
        ("3.11.2", "3.11d"): "CPython 3.11.2d",
        ("3.9.16", "pp3.9"): "PyPy 3.9.16",
    }
    for (python, label), words in named.items():
        assert make_record(python=python, python_label=label).interpreter == words
