"""The one sentence on top of `matrix.md` and `report.md`, derived from real tables: the
founding bug's default matrix (its shape from `--list`, its outcomes from the README), the
other-builds table and the toolchain tables of the README."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from factories import DATA, make_record

from pyo3_triage.outcome import Outcome
from pyo3_triage.reporting import finding, markdown, report
from pyo3_triage.reporting.table import Grid
from pyo3_triage.system.paths import Layout

# The default matrix of `unsendable_gc_traverse` (2026-12-04, `pyo3-triage matrix --list
# --scenario unsendable_gc_traverse`: which cells are unsupported; the README: 0.20.3 aborts on
# every CPython it declares and 0.21.0 fixed it).
DEFAULT = """
| PyO3 \\ CPython | 3.7 | 3.8 | 3.9 | 3.10 | 3.11 | 3.12 | 3.13 |
|---|:-:|:-:|:-:|:-:|:-:|:-:|:-:|
| 0.16.6 | **abort** | **abort** | **abort** | **abort** | unsupported | unsupported | unsupported |
| 0.17.3 | **abort** | **abort** | **abort** | **abort** | **abort** | unsupported | unsupported |
| 0.18.3 | **abort** | **abort** | **abort** | **abort** | **abort** | unsupported | unsupported |
| 0.19.2 | **abort** | **abort** | **abort** | **abort** | **abort** | unsupported | unsupported |
| 0.20.3 | **abort** | **abort** | **abort** | **abort** | **abort** | **abort** | unsupported |
| 0.21.2 | pass | pass | pass | pass | pass | pass | unsupported |
| 0.22.6 | pass | pass | pass | pass | pass | pass | pass |
| 0.23.5 | pass | pass | pass | pass | pass | pass | pass |
| 0.24.2 | pass | pass | pass | pass | pass | pass | pass |
| 0.25.1 | pass | pass | pass | pass | pass | pass | pass |
| 0.26.0 | pass | pass | pass | pass | pass | pass | pass |
| 0.27.2 | pass | pass | pass | pass | pass | pass | pass |
| 0.28.3 | pass | pass | pass | pass | pass | pass | pass |
| 0.29.3 | unsupported | pass | pass | pass | pass | pass | pass |
| 0.30.1 | unsupported | unsupported | pass | pass | pass | pass | pass |
"""

# README "Other builds": the founding bug on PyPy, debug and free-threaded CPython.
OTHER_BUILDS = """
| PyO3 | pp3.9 | 3.11d | 3.11 | 3.13t |
|---|:-:|:-:|:-:|:-:|
| 0.20.3 | pass | **abort** | **abort** | |
| 0.21.2 | pass | pass | pass | |
| 0.22.6 | | | | unsupported |
| 0.23.5 | | | | pass |
| 0.26.0 | pass | setup-error | pass | |
| 0.27.2 | unsupported | setup-error | pass | |
| 0.30.1 | | | | unsupported |
"""

# README "Rust toolchains": `deny_warnings_non_local_impl`, its three tables side by side.
TOOLCHAINS = """
| PyO3 \\ Rust | 1.82 | 1.83 | 1.95 |
|---|:-:|:-:|:-:|
| 0.18.3 | pass | pass | pass |
| 0.19.0 | pass | build-error | build-error |
| 0.21.1 | pass | build-error | build-error |
| 0.21.2 | pass | pass | pass |
"""


def grid_of(text: str, scenario: str = "unsendable_gc_traverse", column: str = "") -> Grid:
    """A grid from a Markdown table as the tool draws it (an empty cell: no record). With
    `column`, the table's columns are toolchains and this picks one, as a grid on 3.11."""
    lines = [line.strip().strip("|").split("|") for line in text.strip().splitlines()]
    header = [word.strip() for word in lines[0][1:]]
    rows, cells = [], {}
    for line in lines[2:]:
        row, *words = (word.strip().strip("*") for word in line)
        rows.append((row, False))
        for label, word in zip(header, words):
            if word and (not column or label == column):
                record = make_record(
                    Outcome(word), pyo3=row, python_label=column and "3.11" or label
                )
                cells[(row, "3.11" if column else label)] = record
    columns = ("3.11",) if column else tuple(header)
    fixed = f"Rust {column}" if column else ""
    return Grid(scenario, "", "", tuple(rows), columns, cells, fixed=fixed)


def test_the_founding_bug_aborts_until_the_fix_and_passes_from_it_on() -> None:
    assert finding.predicate(grid_of(DEFAULT)) == (
        "aborts with PyO3 0.16.6-0.20.3 on CPython 3.7-3.12 where supported; "
        "passes from PyO3 0.21.2 on every CPython each release supports (3.7-3.13); "
        "unsupported elsewhere"
    )


def test_the_other_builds_name_the_abort_and_where_cells_could_not_be_set_up() -> None:
    assert finding.predicate(grid_of(OTHER_BUILDS)) == (
        "aborts with PyO3 0.20.3 on CPython 3.11d and 3.11; passes on the rest; "
        "3 cells unsupported; not set up with PyO3 0.26.0-0.27.2 on CPython 3.11d"
    )


def test_each_toolchain_table_gets_its_own_sentence() -> None:
    said = [
        finding.sentence(grid_of(TOOLCHAINS, "deny_warnings_non_local_impl", rust))
        for rust in ("1.82", "1.83", "1.95")
    ]
    assert said == [
        "deny_warnings_non_local_impl with Rust 1.82 passes on every cell tried "
        "(PyO3 0.18.3-0.21.2 x CPython 3.11).",
        "deny_warnings_non_local_impl with Rust 1.83 fails to compile with PyO3 "
        "0.19.0-0.21.1 on CPython 3.11; passes elsewhere.",
        "deny_warnings_non_local_impl with Rust 1.95 fails to compile with PyO3 "
        "0.19.0-0.21.1 on CPython 3.11; passes elsewhere.",
    ]


def test_toolchains_as_rows_for_one_release() -> None:
    rusts = {
        "1.56": "pass",
        "1.70": "pass",
        "1.82": "pass",
        "1.83": "build-error",
        "1.95": "build-error",
    }
    cells = {(rust, "3.11"): make_record(Outcome(word)) for rust, word in rusts.items()}
    grid = Grid(
        "deny_warnings_non_local_impl",
        "",
        "",
        tuple((r, False) for r in rusts),
        ("3.11",),
        cells,
        rows_are="Rust",
        fixed="PyO3 0.20.3",
    )
    assert finding.sentence(grid) == (
        "deny_warnings_non_local_impl with PyO3 0.20.3 passes with Rust 1.56-1.82 and fails "
        "to compile from Rust 1.83 on CPython 3.11."
    )


def test_one_outcome_everywhere_names_the_span_tried() -> None:
    text = DEFAULT.replace("**abort**", "pass")
    assert finding.predicate(grid_of(text)) == (
        "passes on every cell tried (PyO3 0.16.6-0.30.1 x CPython 3.7-3.13); unsupported elsewhere"
    )


def test_a_regression_from_a_release_on_reads_as_from_that_release() -> None:
    # module_reimport's shape: an error comes back from a release on, on every CPython.
    text = DEFAULT.replace("**abort**", "pass")
    for release in ("0.28.3", "0.29.3", "0.30.1"):
        head, row, tail = text.partition(f"| {release} |")
        line, newline, rest = tail.partition("\n")
        text = head + row + line.replace("pass", "error") + newline + rest
    assert finding.predicate(grid_of(text)) == (
        "passes with PyO3 0.16.6-0.27.2 and raises an error from PyO3 0.28.3 on every CPython "
        "each release supports (3.7-3.13); "
        "unsupported elsewhere"
    )


def test_a_fragmented_grid_gets_counts_and_a_pointer_to_the_table() -> None:
    checker = """
| PyO3 | 3.11 | 3.12 |
|---|:-:|:-:|
| 0.20.3 | pass | **abort** |
| 0.21.2 | **abort** | pass |
| 0.22.6 | pass | **segfault** |
| 0.23.5 | **segfault** | unsupported |
"""
    assert finding.predicate(grid_of(checker)) == (
        "shows mixed outcomes (3 pass, 2 abort, 2 segfault, 1 unsupported); see the table"
    )


def test_flaky_and_forced_cells_are_counted_and_no_cell_is_no_sentence() -> None:
    grid = grid_of(TOOLCHAINS, "s", "1.82")
    record = grid.cells[("0.19.0", "3.11")]
    flaky = dataclasses.replace(record, runs=(*record.runs, *make_record(Outcome.ABORT).runs))
    shaky = dataclasses.replace(grid, cells={**grid.cells, ("0.19.0", "3.11"): flaky})
    assert flaky.flaky
    assert finding.predicate(shaky).endswith("; 1 cell flaky (see the table)")
    assert finding.sentence(dataclasses.replace(grid, cells={})) == ""
    forced = dataclasses.replace(record, forced=True)
    outside = dataclasses.replace(grid, cells={**grid.cells, ("0.19.0", "3.11"): forced})
    assert finding.predicate(outside).endswith("; 1 cell built outside the declared window (†)")


def test_nothing_but_cells_that_are_no_result() -> None:
    grid = grid_of(OTHER_BUILDS.replace("pass", "unsupported").replace("**abort**", "unsupported"))
    assert finding.predicate(grid) == (
        "has no result: every cell unsupported or not set up (PyO3 0.20.3-0.30.1 x "
        "interpreters pp3.9, 3.11d, 3.11 and 3.13t)"
    )


def test_every_outcome_has_words_and_one_without_is_said_by_its_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for outcome in Outcome:
        assert finding.verb(outcome) and finding.aside(outcome)
    monkeypatch.delitem(finding.VERBS, Outcome.PANIC)
    grid = grid_of(TOOLCHAINS.replace("build-error", "panic"), "s", "1.83")
    assert finding.predicate(grid) == (
        "panic with PyO3 0.19.0-0.21.1 on CPython 3.11; passes elsewhere"
    )


def test_matrix_md_and_report_md_open_with_the_sentence(tmp_path: Path) -> None:
    env = markdown.Environment("2026-12-04 05:00 UTC", "Linux-test")
    layout = Layout(tmp_path / "cache", tmp_path / "results")
    grid = grid_of(DEFAULT)
    said = (
        "`unsendable_gc_traverse` aborts with PyO3 0.16.6-0.20.3 on CPython 3.7-3.12 where "
        "supported; passes from PyO3 0.21.2 on every CPython each release supports (3.7-3.13); "
        "unsupported elsewhere."
    )
    matrix_md = markdown.matrix_document([grid], env)
    assert matrix_md.startswith(f"## PyO3 × CPython matrix\n\n{said}\n\n### ")
    report_md = markdown.report_document([grid], [], env, layout)
    assert report_md.startswith(f"## PyO3 × CPython report\n\n{said}\n\n### ")


def test_several_tables_get_one_line_each_in_table_order() -> None:
    grids = [grid_of(TOOLCHAINS, "deny_warnings_non_local_impl", r) for r in ("1.82", "1.83")]
    head = markdown.matrix_document(grids, markdown.Environment("now", "Linux")).split("\n\n")
    assert head[1].splitlines() == [
        "- `deny_warnings_non_local_impl` with Rust 1.82 passes on every cell tried "
        "(PyO3 0.18.3-0.21.2 x CPython 3.11).",
        "- `deny_warnings_non_local_impl` with Rust 1.83 fails to compile with PyO3 "
        "0.19.0-0.21.1 on CPython 3.11; passes elsewhere.",
    ]
    assert markdown.findings([]) == ""


def test_real_records_of_a_two_by_two_matrix() -> None:
    # tests/data/results-2x2: the records of `pyo3-triage matrix --scenario
    # unsendable_gc_traverse --pyo3 0.20.3,0.21.2 --python 3.11,3.12` (2026-12-04), read as
    # `pyo3-triage report` reads them.
    grids = report.grids_from_store(Layout(Path("/nonexistent"), DATA / "results-2x2"))
    assert [finding.sentence(grid) for grid in grids] == [
        "unsendable_gc_traverse aborts with PyO3 0.20.3 and passes with PyO3 0.21.2 on every "
        "CPython tried (3.11 and 3.12)."
    ]
