"""The picture's data: each cell's colour and words come from its record; yanked releases and
PyO3 commits are marked in the row labels; the files are real SVG and PNG."""

from __future__ import annotations

import subprocess
import sys

from factories import TESTS, make_record

from pyo3_triage.outcome import Outcome
from pyo3_triage.reporting import chart, table


def grid() -> table.Grid:
    found = [
        make_record(Outcome.ABORT, key="a", pyo3="0.20.3", python_label="3.11"),
        make_record(Outcome.PASS, key="b", pyo3="0.23.0", yanked=True, python_label="3.11"),
        make_record(Outcome.UNSUPPORTED, key="c", pyo3="0.20.3", python_label="3.13"),
        make_record(
            Outcome.BUILD_ERROR,
            key="d",
            pyo3="0.23.0",
            yanked=True,
            python_label="3.13",
            forced=True,
        ),
        make_record(
            Outcome.PASS,
            key="e",
            pyo3="git:8bef6e339",
            python_label="3.11",
            revision="8bef6e3398a235c69bb52d312beab4150c615275",
            describe="v0.20.0-218-g8bef6e3",
            era="0.20.3",
        ),
        make_record(
            Outcome.ABORT,
            Outcome.ABORT,
            Outcome.PASS,
            key="f",
            pyo3="git:8bef6e339",
            python_label="3.13",
        ),
    ]
    return table.grid_from_records("demo", "", "", found)


def test_cells_carry_colour_and_words() -> None:
    shown = {(c.row, c.column): c for c in chart.chart_cells(grid())}
    labels = chart.row_labels(grid())
    # The commit sorts by `git describe`: 218 commits after v0.20.0 on the main line.
    assert labels == ["git:8bef6e339 (v0.20.0-218-g8bef6e3)", "0.20.3", "0.23.0 (yanked)"]
    abort = shown[(1, 0)]
    assert abort.word == "abort" and abort.color == chart.COLORS[Outcome.ABORT]
    assert shown[(1, 1)].word == "unsupported" and shown[(1, 1)].text_color != "white"
    assert shown[(2, 1)].word == "build-\nerror †"
    assert shown[(0, 1)].word == "flaky\nabort"
    assert len(shown) == 6


def test_the_files_are_svg_and_png() -> None:
    svg, png = chart.draw([grid(), grid()])
    assert svg.lstrip().startswith(b"<?xml") and b"<svg" in svg
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000


def test_drawing_logs_nothing_under_a_debug_root_logger() -> None:
    """nox configures logging at debug level; importing matplotlib then printed where its data
    and config live, in the middle of a run's output."""
    code = (
        "import logging; logging.basicConfig(level=logging.DEBUG)\n"
        "from pyo3_triage.reporting import chart\n"
        "from pyo3_triage.reporting.table import grid_from_records\n"
        "from factories import make_record, TESTS\n"
        "svg, png = chart.draw([grid_from_records('s', '', '', [make_record()])])\n"
        "assert svg and png\n"
    )
    here = TESTS  # for `factories`
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=here, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "matplotlib" not in done.stderr, done.stderr
