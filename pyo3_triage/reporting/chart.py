"""A picture of the tables for an issue: one heat map per scenario, rows PyO3 releases, columns
CPythons, each cell coloured by its outcome with the outcome written in it; yanked releases and
PyO3 commits marked in the row labels; a legend of the outcomes shown. SVG and PNG, drawn with
matplotlib (no fonts or terminal needed to read them)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyo3_triage import hashes
from pyo3_triage.outcome import Outcome
from pyo3_triage.reporting.table import FORCED_MARK, Grid, row_label
from pyo3_triage.store.records import UNCONFIRMED_MARK

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# Colours readable on white and in print; the word in each cell carries the meaning too.
COLORS: dict[Outcome, str] = {
    Outcome.PASS: "#2da44e",
    Outcome.ABORT: "#cf222e",
    Outcome.SEGFAULT: "#a40e26",
    Outcome.SIGNAL: "#a40e26",
    Outcome.PANIC: "#8250df",
    Outcome.ERROR: "#d4a72c",
    Outcome.TIMEOUT: "#bf8700",
    Outcome.BUILD_ERROR: "#fb8f44",
    Outcome.PYO3_ERROR: "#953800",
    Outcome.SETUP_ERROR: "#8c959f",
    Outcome.UNSUPPORTED: "#eaeef2",
    Outcome.INCOMPATIBLE: "#d8ccf0",
    Outcome.IMPORT_ERROR: "#e16f24",
}
_DARK = {
    Outcome.UNSUPPORTED,
    Outcome.INCOMPATIBLE,
    Outcome.ERROR,
    Outcome.TIMEOUT,
    Outcome.BUILD_ERROR,
}


@dataclass(frozen=True)
class ChartCell:
    row: int
    column: int
    word: str  # what is written in the cell
    color: str
    text_color: str


def chart_cells(grid: Grid) -> list[ChartCell]:
    """What each cell of `grid` shows in the picture (pure: the chart's data)."""
    found = []
    for row, (pyo3, _) in enumerate(grid.rows):
        for column, minor in enumerate(grid.columns):
            record = grid.cells.get((pyo3, minor))
            if record is None:
                continue
            word = (
                record.outcome.value.replace("-", "-\n")
                if record.outcome is not Outcome.PASS
                else "pass"
            )
            if record.flaky:
                word = f"flaky\n{record.outcome.value}"
            if record.unconfirmed:
                word += UNCONFIRMED_MARK
            if record.forced:
                word += f" {FORCED_MARK}"
            if record.abi3:
                word += "\n(abi3)"
            text = "#24292f" if record.outcome in _DARK else "white"
            found.append(ChartCell(row, column, word, COLORS[record.outcome], text))
    return found


def row_labels(grid: Grid) -> list[str]:
    return [row_label(pyo3, yanked, grid.describe(pyo3)) for pyo3, yanked in grid.rows]


# Part of `shows`: a change to how the chart is drawn draws it again.
DRAWING = 1


def shows(grids: Sequence[Grid]) -> str:
    """A digest of everything the picture of `grids` shows (pure): the same digest, the
    same picture, so a caller need not draw it again."""
    seen = [(grid.title, grid.columns, row_labels(grid), chart_cells(grid)) for grid in grids]
    return hashes.digest(repr((DRAWING, seen)), hashes.CONTENT)


def draw(grids: Sequence[Grid]) -> tuple[bytes, bytes]:
    """The picture of every grid, as (SVG, PNG)."""
    _use_agg()
    import matplotlib.pyplot as plt

    heights = [max(len(g.rows), 1) * 0.42 + 1.2 for g in grids]
    width = max(max((len(g.columns) for g in grids), default=1) * 0.95 + 3.2, 6.0)
    figure, axes = plt.subplots(
        len(grids),
        1,
        figsize=(width, sum(heights) + 0.9),
        squeeze=False,
        gridspec_kw={"height_ratios": heights},
    )
    for axis, grid in zip(axes[:, 0], grids):
        _draw_grid(axis, grid)
    _legend_and_note(figure, _outcomes_shown(grids), _rows_note(grids))
    svg, png = io.BytesIO(), io.BytesIO()
    figure.savefig(svg, format="svg")
    figure.savefig(png, format="png", dpi=150)
    plt.close(figure)
    return svg.getvalue(), png.getvalue()


def _use_agg() -> None:
    """matplotlib imported only when a chart is drawn, quietly, on the file-only Agg backend."""
    import logging

    # nox logs at debug level, and matplotlib says where its data and config live while it
    # is imported: quiet it first.
    logging.getLogger("matplotlib").setLevel(logging.WARNING)
    import matplotlib

    matplotlib.use("Agg")


def _draw_grid(axis: Axes, grid: Grid) -> None:
    """One scenario's heat map: a coloured square with its word per cell, labelled axes."""
    from matplotlib.patches import Rectangle

    axis.set_xlim(0, len(grid.columns))
    axis.set_ylim(len(grid.rows), 0)
    for cell in chart_cells(grid):
        axis.add_patch(
            Rectangle(
                (cell.column, cell.row),
                1,
                1,
                facecolor=cell.color,
                edgecolor="white",
                linewidth=2,
            )
        )
        axis.text(
            cell.column + 0.5,
            cell.row + 0.5,
            cell.word,
            ha="center",
            va="center",
            fontsize=7,
            color=cell.text_color,
            fontweight="bold",
        )
    axis.set_xticks([c + 0.5 for c in range(len(grid.columns))], grid.columns)
    axis.set_yticks([r + 0.5 for r in range(len(grid.rows))], row_labels(grid))
    axis.xaxis.tick_top()
    axis.tick_params(length=0, labelsize=8)
    for side in axis.spines.values():
        side.set_visible(False)
    axis.set_title(grid.title, loc="left", fontsize=10, fontweight="bold", pad=18)


def _outcomes_shown(grids: Sequence[Grid]) -> list[Outcome]:
    """The outcomes some cell of the grids has, in the enum's order (the legend's)."""
    shown = {record.outcome for grid in grids for record in grid.cells.values()}
    return [o for o in Outcome if o in shown]


def _legend_and_note(figure: Figure, order: Sequence[Outcome], note: str) -> None:
    """The legend of the outcomes shown and a note on the row labels, under the grids."""
    from matplotlib.patches import Patch

    inches = figure.get_figheight()  # the legend and the note sit a fixed distance from the foot
    figure.legend(
        handles=[Patch(facecolor=COLORS[o], edgecolor="#d0d7de", label=o.value) for o in order],
        loc="lower center",
        bbox_to_anchor=(0.5, 0.3 / inches),
        ncol=min(len(order), 6),
        fontsize=8,
        frameon=False,
    )
    figure.text(
        0.01,
        0.08 / inches,
        note,
        fontsize=6,
        color="#57606a",
    )
    figure.tight_layout(rect=(0, 0.75 / inches, 1, 1))


def _rows_note(grids: Sequence[Grid]) -> str:
    """The footnote on what rows are: releases, or toolchains under a title naming a release."""
    if any(grid.rows_are == "Rust" for grid in grids):
        return (
            "rows: Rust toolchains where a title names a PyO3 release, else PyO3 releases; "
            "columns: CPython"
        )
    return (
        "rows: PyO3 releases ((yanked): yanked on crates.io; git:...: a PyO3 commit, not a "
        "release); columns: CPython"
    )
