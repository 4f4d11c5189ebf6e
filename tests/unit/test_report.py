"""Reproduce commands: what the report prints must be a command the CLI itself accepts, with
every path absolute so it runs from any folder."""

from __future__ import annotations

import dataclasses
import shlex
from pathlib import Path

import pytest
from factories import make_record

from pyo3_triage.commands import parser
from pyo3_triage.outcome import Outcome
from pyo3_triage.reporting import markdown, report
from pyo3_triage.reproducers import scenarios
from pyo3_triage.store import records
from pyo3_triage.store.records import Record, reproduce_command
from pyo3_triage.system.paths import Layout, noxfile

SCENARIO_A = scenarios.resolve("unsendable_gc_traverse")


def record(selection: tuple[str, ...], **extra: object) -> Record:
    return make_record(
        Outcome.ABORT, key="k", executable="/opt/py/bin/python3.11", selection=selection, **extra
    )


@pytest.mark.parametrize(
    "selection",
    [
        ("--scenario", "/somewhere/my_bug"),
        (
            "--crate",
            "/home/u/my ext",
            "--run",
            "python -m pytest -x 'tests/a b.py'",
            "--timeout",
            "90",
        ),
        ("--scenario", "/s", "--release", "--repeat", "3", "--abi3", "--build-unsupported"),
        (
            "--crate",
            "/c",
            "--run",
            "python -m pytest",
            "--timeout",
            "60",
            "--extra",
            "test",
            "--with",
            "hypothesis>=6",
        ),
    ],
)
def test_reproduce_command_parses_back(selection: tuple[str, ...], tmp_path: Path) -> None:
    command = reproduce_command(record(selection), tmp_path / "res")
    argv = shlex.split(command)
    assert argv[:6] == ["nox", "-f", str(noxfile()), "-s", "matrix", "--"]
    args = parser.parse("matrix", argv[6:])
    assert args.pyo3 == "0.20.3"
    assert args.python == "/opt/py/bin/python3.11"
    # Its own folder beside the run's tables, which stay in view.
    assert args.results == tmp_path / "res" / "reproduce" and args.results.is_absolute()
    assert args.rerun
    if "--crate" in selection:
        at = selection.index
        assert args.crate == selection[at("--crate") + 1]
        assert args.run == selection[at("--run") + 1]
        assert args.timeout == float(selection[at("--timeout") + 1])
        assert args.extra == ("test" if "--extra" in selection else None)
        assert args.with_ == (["hypothesis>=6"] if "--with" in selection else [])
    else:
        assert args.scenario == [selection[1]]
    assert args.release is ("--release" in selection)
    assert args.abi3 is ("--abi3" in selection)
    assert args.build_unsupported is ("--build-unsupported" in selection)
    assert args.repeat == (3 if "--repeat" in selection else 1)


def test_a_record_from_before_selections_names_its_folder(tmp_path: Path) -> None:
    old = record((), scenario_source="/elsewhere/bug")
    args = parser.parse("matrix", shlex.split(reproduce_command(old, tmp_path))[6:])
    assert args.scenario == ["/elsewhere/bug"]


def test_reports_show_only_records_and_bisects_of_one_version_of_a_reproducer(
    tmp_path: Path,
) -> None:
    """Two run commands for the same crate (two versions of one reproducer): the report draws
    the newest one only and lists only the bisects that asked about it."""
    import json

    from pyo3_triage.reporting.markdown import Environment, report_document
    from pyo3_triage.reporting.report import bisect_answers, grids_from_store
    from pyo3_triage.store import records
    from pyo3_triage.system.paths import Layout

    layout = Layout(cache=tmp_path / "cache", results=tmp_path / "results")
    older = dict(scenario="ext", scenario_hash="run-a", created="2026-11-29T10:00:00+00:00")
    newer = dict(scenario="ext", scenario_hash="run-b", created="2026-11-29T11:00:00+00:00")
    for key, pyo3, extra, outcome in (
        ("k1", "0.20.3", older, Outcome.ABORT),
        ("k2", "0.21.2", older, Outcome.PASS),
        ("k3", "0.20.3", newer, Outcome.ERROR),
    ):
        fields = {**extra, "key": key, "pyo3": pyo3, "outcome": outcome}
        base = record(())
        records.save(layout, Record(**{**base.__dict__, **fields}))  # type: ignore[arg-type]
    (grid,) = grids_from_store(layout)
    assert {(r.pyo3, r.scenario_hash) for r in grid.cells.values()} == {("0.20.3", "run-b")}
    for name, run_hash in (("a", "run-a"), ("b", "run-b")):
        answer = {"fixed": "CPython 3.11.7", "answer": f"answer of {name}"}
        payload = {"scenario": "ext", "scenario_hash": run_hash, "searches": [answer]}
        (layout.results / f"bisect-ext-{name}.json").write_text(json.dumps(payload))
    env = Environment("2026-11-29 12:00 UTC", "Linux")
    text = report_document([grid], bisect_answers(layout, [grid]), env, layout)
    assert "answer of b" in text and "answer of a" not in text


def _stored(layout: Layout, pyo3: str, run_hash: str, created: str) -> None:
    key = f"{pyo3}-{run_hash}".ljust(24, "0")
    records.save(layout, make_record(key=key, pyo3=pyo3, scenario_hash=run_hash, created=created))


def test_the_report_draws_the_version_the_newest_run_asked_about(tmp_path: Path) -> None:
    """A matrix of version A, three cells of an edited version B, then A again with every cell
    from stored records: the report draws A (the newest question), not B (the newest
    records), and says that B's records are left out."""
    layout = Layout(tmp_path / "cache", tmp_path / "results")
    for pyo3 in ("0.20.3", "0.21.2", "0.22.6"):
        _stored(layout, pyo3, "A", "2026-12-01T10:00:00+00:00")
    _stored(layout, "0.20.3", "B", "2026-12-02T10:00:00+00:00")
    (grid,) = report.grids_from_store(layout)
    assert {r.scenario_hash for r in grid.cells.values()} == {"B"}  # no run said otherwise
    asked = dataclasses.replace(SCENARIO_A, name="s")
    report.write_latest(layout, [asked])
    assert report.read_latest(layout) == {"s": asked.run_hash}
    (grid,) = report.grids_from_store(layout, latest={"s": "A"})
    assert len(grid.cells) == 3 and grid.left_out == 1
    assert "Left out: 1 record(s) of other versions" in markdown.section(grid)


def test_the_chart_is_drawn_again_only_when_what_it_shows_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pyo3_triage.reporting import chart, table

    drawn: list[int] = []
    monkeypatch.setattr(chart, "draw", lambda grids: drawn.append(1) or (b"<svg/>", b"png"))
    monkeypatch.setattr(report, "python_versions", lambda executables: {})
    layout = Layout(tmp_path / "cache", tmp_path / "results")
    layout.results.mkdir()
    one = [table.grid_from_records("s", "", "", [make_record(Outcome.ABORT)])]
    report.write(layout, one)
    report.write(layout, one)  # nothing changed: the files stay as they are
    assert len(drawn) == 1 and layout.report_png().read_bytes() == b"png"
    report.write(layout, [table.grid_from_records("s", "", "", [make_record(Outcome.PASS)])])
    assert len(drawn) == 2  # a cell changed
    layout.report_svg().unlink()
    report.write(layout, [table.grid_from_records("s", "", "", [make_record(Outcome.PASS)])])
    assert len(drawn) == 3 and layout.report_svg().is_file()  # a file was missing


# --- one cell, one question ------------------------------------------------------------------
SAME_SECOND = "2026-12-01T10:00:00+00:00"


def _save(layout: Layout, key: str, outcome: Outcome, **fields: object) -> Record:
    made = make_record(outcome, key=key.ljust(24, "0"), created=SAME_SECOND, **fields)
    records.save(layout, made)
    return made


def test_records_asking_other_questions_of_a_cell_get_tables_of_their_own(
    tmp_path: Path,
) -> None:
    """The default build, a stable-ABI build, a release build and three runs per cell, all of
    PyO3 0.20.3 on 3.11 and stored in the same second: four tables, none overwriting another;
    a cell outside the window (not built) answers them all."""
    layout = Layout(tmp_path / "cache", tmp_path / "results")
    base = ("--scenario", "s")
    _save(layout, "plain", Outcome.ABORT, selection=base)
    _save(layout, "abi3", Outcome.PASS, selection=(*base, "--abi3"), abi3="abi3-py37")
    _save(layout, "release", Outcome.SEGFAULT, selection=(*base, "--release"))
    _save(layout, "repeat", Outcome.ERROR, selection=(*base, "--repeat", "3"))
    _save(layout, "window", Outcome.UNSUPPORTED, python="3.13.0", python_label="3.13")
    grids = report.grids_from_store(layout)
    shown = {grid.title: grid.cells[("0.20.3", "3.11")].outcome for grid in grids}
    assert shown == {
        "s": Outcome.ABORT,
        "s · stable ABI": Outcome.PASS,
        "s · --release": Outcome.SEGFAULT,
        "s · --repeat 3": Outcome.ERROR,
    }
    assert all(g.cells[("0.20.3", "3.13")].outcome is Outcome.UNSUPPORTED for g in grids)


def test_two_interpreters_with_one_label_get_a_column_each(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "cache", tmp_path / "results")
    _save(layout, "pyenv", Outcome.ABORT, executable="/pyenv/bin/python3.11")
    _save(layout, "system", Outcome.PASS, executable="/usr/bin/python3.11", python="3.11.2")
    _save(layout, "other", Outcome.PASS, python="3.12.1", python_label="3.12")
    (grid,) = report.grids_from_store(layout)
    assert grid.columns == ("3.11 (/pyenv/bin/python3.11)", "3.11 (/usr/bin/python3.11)", "3.12")
    assert grid.cells[("0.20.3", "3.11 (/pyenv/bin/python3.11)")].outcome is Outcome.ABORT
    assert grid.cells[("0.20.3", "3.11 (/usr/bin/python3.11)")].outcome is Outcome.PASS


@pytest.mark.parametrize(("older", "newer"), [("a", "b"), ("b", "a")])
def test_a_commits_answer_wins_over_the_build_error_of_the_api_tried_first(
    tmp_path: Path, older: str, newer: str
) -> None:
    """Stored within one second, whichever record file sorts first: the table shows the answer
    `evaluate` gave (the newer API's), not the older API's build-error that led to it."""
    layout = Layout(tmp_path / "cache", tmp_path / "results")
    commit = dict(pyo3="git:abc1234", revision="abc1234" * 5, describe="v0.21.0-3-gabc1234")
    _save(layout, older, Outcome.BUILD_ERROR, era="0.21.0", **commit)
    _save(layout, newer, Outcome.ABORT, era="0.22.0", **commit)
    (grid,) = report.grids_from_store(layout)
    assert grid.cells[("git:abc1234", "3.11")].outcome is Outcome.ABORT
