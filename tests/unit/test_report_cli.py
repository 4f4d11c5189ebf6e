"""`nox -s report`: the report and its pictures redrawn from the records in a results folder,
chosen by scenario, and a folder without records refused in one line."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest
from factories import make_record

from pyo3_triage.commands import report_cli
from pyo3_triage.errors import EXIT_OK, EXIT_USAGE, UserError
from pyo3_triage.outcome import Outcome
from pyo3_triage.reproducers import scenarios
from pyo3_triage.store import records
from pyo3_triage.system.paths import Layout

LIBRARY = "unsendable_gc_traverse"


@pytest.fixture
def results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A results folder with records of a library scenario and of a user's crate."""
    monkeypatch.setenv("PYO3_TRIAGE_CACHE", str(tmp_path / "cache"))
    layout = Layout(tmp_path / "cache", tmp_path / "results")
    made = dict(executable=sys.executable, created="2026-11-29T10:00:00+00:00")
    for key, scenario, pyo3, outcome in (
        ("k1", LIBRARY, "0.20.3", Outcome.ABORT),
        ("k2", LIBRARY, "0.21.0", Outcome.PASS),
        ("k3", "my_crate", "0.22.0", Outcome.SEGFAULT),
    ):
        records.save(layout, make_record(outcome, key=key, scenario=scenario, pyo3=pyo3, **made))
    return layout.results


def test_the_report_is_drawn_from_every_scenarios_records(
    results: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert report_cli.main(["--results", str(results)]) == EXIT_OK
    report = (results / "report.md").read_text()
    assert report.startswith("## PyO3 × CPython report")
    assert f"### `{LIBRARY}`" in report and "### `my_crate`" in report
    assert scenarios.resolve(LIBRARY).description in report  # the library names its scenarios
    assert "| 0.20.3 |" in report and "| 0.22.0 |" in report
    assert (results / "matrix.png").stat().st_size > 0
    assert (results / "matrix.svg").read_text().lstrip().startswith("<?xml")
    out = capsys.readouterr().out
    size = (results / "report.md").stat().st_size
    assert out.startswith(f"report written to {results / 'report.md'} ({size} bytes)")
    assert f"pictures to {results / 'matrix.png'} and {results / 'matrix.svg'}" in out


@pytest.mark.parametrize(
    "chosen", [["--scenario", "my_crate"], ["--scenario", "my_crate,nothing_else"]]
)
def test_only_the_chosen_scenarios(results: Path, chosen: list[str]) -> None:
    assert report_cli.main(["--results", str(results), *chosen]) == EXIT_OK
    report = (results / "report.md").read_text()
    assert "### `my_crate`" in report and LIBRARY not in report


def test_scenarios_can_be_repeated(results: Path) -> None:
    argv = ["--results", str(results), "--scenario", "my_crate", "--scenario", LIBRARY]
    assert report_cli.main(argv) == EXIT_OK
    report = (results / "report.md").read_text()
    assert "### `my_crate`" in report and f"### `{LIBRARY}`" in report


@pytest.mark.parametrize("spelled", [f"my_crate, {LIBRARY}", f" my_crate ,{LIBRARY},"])
def test_a_comma_list_with_spaces_names_every_scenario(results: Path, spelled: str) -> None:
    """As in every other command: `--scenario "a, b"` is a and b."""
    assert report_cli.main(["--results", str(results), "--scenario", spelled]) == EXIT_OK
    report = (results / "report.md").read_text()
    assert "### `my_crate`" in report and f"### `{LIBRARY}`" in report


def test_a_scenario_without_records_is_refused(results: Path) -> None:
    with pytest.raises(UserError, match=r"no records for a, b in "):
        report_cli.main(["--results", str(results), "--scenario", "b,a"])
    assert not (results / "report.md").exists()


def test_a_folder_without_records_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="run nox -s matrix first"):
        report_cli.main(["--results", str(tmp_path / "empty")])
    assert not (tmp_path / "empty").exists()  # nothing created on the way


def test_the_entry_point_says_it_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(signal, "signal", lambda *args: None)  # run_cli's SIGTERM handler
    assert report_cli.entry(["--results", str(tmp_path / "empty")]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("error: no records in ") and err.count("\n") == 1
    assert report_cli.entry(["--nonsense"]) == EXIT_USAGE
    assert "unrecognized arguments: --nonsense; see --help" in capsys.readouterr().err
