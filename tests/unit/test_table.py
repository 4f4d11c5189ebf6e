"""Tables must read well without colour and must not let text from a record (a crafted panic
message, a signal name, a description) break the Markdown table or inject markup."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest
from factories import make_record
from rich.console import Console

from pyo3_triage.evidence import RunDetails
from pyo3_triage.outcome import DESCRIPTIONS, Outcome
from pyo3_triage.reporting import markdown, table
from pyo3_triage.reporting.markdown import md_code, md_escape
from pyo3_triage.reporting.table import FORCED_MARK, Grid, cell_text, rich_legend, rich_table
from pyo3_triage.store.records import Record

markdown_it = pytest.importorskip("markdown_it")  # ships with rich

NASTY = "boom | `tick` *star* _under_ <script>alert(1)</script> [x](http://evil)\n# head\r\n|"


def render(text: str) -> str:
    """HTML as a CommonMark renderer with GFM tables sees the Markdown."""
    return markdown_it.MarkdownIt("commonmark").enable("table").render(text)


def unescaped_pipes(line: str) -> int:
    """Pipes GitHub splits table cells on (a backslash before a pipe escapes it)."""
    return len(re.findall(r"(?<!\\)\|", line))


def run(outcome: Outcome, **extra: Any) -> RunDetails:
    return RunDetails(outcome=outcome, **extra)


def rec(pyo3: str, minor: str, outcome: Outcome, **extra: Any) -> Record:
    fields: dict[str, Any] = dict(
        key=f"{pyo3}-{minor}",
        scenario="demo",
        pyo3=pyo3,
        python=f"{minor}.1",
        python_label=minor,
        executable=f"/usr/bin/python{minor}",
        runs=(run(outcome),),
    )
    fields.update(extra)
    return make_record(outcome, **fields)


def grid_of(*found: Record, rows: Any = None, description: str = "a demo") -> Grid:
    if rows is None:
        rows = tuple(dict.fromkeys((r.pyo3, r.yanked) for r in found))
    columns = tuple(dict.fromkeys(r.python_label for r in found))
    cells = {(r.pyo3, r.python_label): r for r in found}
    return Grid("demo", description, "https://example.org/issue/1", rows, columns, cells)


# --- md_escape ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "forbidden"),
    [
        ("a | b", None),
        ("use `x` here", "<code>"),
        ("*bold* and **strong**", "<em>"),
        ("**strong**", "<strong>"),
        ("_under_ and __double__", "<em>"),
        ("<script>alert(1)</script>", "<script>"),
        ("<b>bold</b>", "<b>"),
        ("[x](http://evil)", "<a "),
        ("![img](http://evil/x.png)", "<img"),
        ("# heading", "<h1>"),
        ("## heading", "<h2>"),
        ("- item", "<li>"),
        ("+ item", "<li>"),
        ("> quoted", "<blockquote>"),
        ("~~strike~~", "<s>"),
        ("&lt;", "&lt;"),  # an entity must stay text, not become "<"
    ],
)
def test_md_escape_neutralises_markup(text: str, forbidden: str | None) -> None:
    escaped = md_escape(text)
    html = render(escaped)
    if forbidden == "&lt;":
        assert "&amp;lt;" in html
    elif forbidden is not None:
        assert forbidden not in html
    assert html.startswith("<p>") and html.count("<p>") == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a|b", r"a\|b"),
        ("`x`", r"\`x\`"),
        ("*x*", r"\*x\*"),
        ("_x_", r"\_x\_"),
        ("<script>", "&lt;script>"),
        ("[x](y)", r"\[x\](y)"),
        ("# title", r"\# title"),
        ("a\\|b", r"a\\\|b"),  # a backslash cannot un-escape the pipe after it
    ],
)
def test_md_escape_exact(text: str, expected: str) -> None:
    assert md_escape(text) == expected


def test_md_escape_is_one_line() -> None:
    assert md_escape("a\nb\r\nc\t d") == "a b c d"
    assert "\n" not in md_escape(NASTY)


def test_md_escape_in_a_table_cell_keeps_the_text() -> None:
    escaped = md_escape(NASTY)
    html = render(f"| h |\n|---|\n| {escaped} |")
    assert html.count("<td>") == 1
    for tag in ("<code>", "<em>", "<script>", "<a ", "<h1>"):
        assert tag not in html
    assert "&lt;script&gt;" in html and "[x](http://evil)" in html


def test_md_escape_neutralises_ordered_list_marker() -> None:
    assert "<ol>" not in render(md_escape("1. foo"))


# --- md_code ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "message",
    [
        "plain",
        "one ` tick",
        "double `` ticks",
        "``` triple and ` single",
        "`starts with a tick",
        "ends with a tick`",
        "pipes | inside | code",
        "mix `|` and ``|``\nand a newline",
        "backslash \\| before a pipe",
    ],
)
def test_md_code_cannot_close_early(message: str) -> None:
    code = md_code(message)
    longest = max((len(run) for run in re.findall(r"`+", message)), default=0)
    fence = re.match(r"`+", code)
    assert fence is not None
    assert len(fence.group()) == longest + 1
    assert code.endswith(" " + fence.group())
    assert "\n" not in code
    assert unescaped_pipes(code) == 0
    inner = code[len(fence.group()) : -len(fence.group())]
    assert all(len(run) != len(fence.group()) for run in re.findall(r"`+", inner))
    # rendered inside a table cell: one cell, one code span holding the whole message
    html = render(f"| h |\n|---|\n| {code} |")
    assert html.count("<td>") == 1
    assert html.count("<code>") == 1
    body = re.search(r"<code>(.*)</code>", html, re.S)
    assert body is not None
    shown = body.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert shown == " ".join(message.split())


def test_md_code_keeps_html_inert() -> None:
    html = render(md_code("<script>alert(1)</script>"))
    assert "<script>" not in html and "&lt;script&gt;" in html


# --- cell text ----------------------------------------------------------------------------
def test_flaky_cell_text() -> None:
    record = rec(
        "0.20.3",
        "3.12",
        Outcome.ABORT,
        runs=(run(Outcome.ABORT), run(Outcome.PASS), run(Outcome.ABORT)),
    )
    assert cell_text(record) == "flaky 2/3 abort (abort, pass)"


def test_signal_cell_names_the_signal() -> None:
    record = rec("0.20.3", "3.12", Outcome.SIGNAL, runs=(run(Outcome.SIGNAL, signal="SIGBUS"),))
    assert cell_text(record) == "signal SIGBUS"


def test_forced_cell_is_marked() -> None:
    assert cell_text(rec("0.16.0", "3.12", Outcome.PASS, forced=True)) == f"pass {FORCED_MARK}"
    assert FORCED_MARK not in cell_text(rec("0.16.0", "3.12", Outcome.PASS))


# --- markdown table -----------------------------------------------------------------------
def nasty_grid() -> Grid:
    nasty_run = run(Outcome.ABORT, panic_message=NASTY, signal="SIG|X\nY")
    return grid_of(
        rec("0.19.2", "3.11", Outcome.ABORT, runs=(nasty_run,)),
        rec("0.19.2", "3.12", Outcome.SIGNAL, runs=(run(Outcome.SIGNAL, signal="SIG|X\n# Y"),)),
        rec(
            "0.20.0",
            "3.11",
            Outcome.PANIC,
            yanked=True,
            runs=(run(Outcome.PANIC, panic_message=NASTY),),
        ),
        rec("0.20.0", "3.12", Outcome.SEGFAULT, yanked=True),
        rec("0.21.0", "3.11", Outcome.PASS),
        rec("0.21.0", "3.12", Outcome.ERROR, runs=(run(Outcome.ERROR, exception=NASTY),)),
        description=NASTY,
    )


def test_markdown_table_shape_survives_nasty_text() -> None:
    grid = nasty_grid()
    lines = markdown.grid_table(grid).splitlines()
    assert len(lines) == 2 + len(grid.rows)
    for line in lines:
        assert line.startswith("|") and line.endswith("|")
        assert unescaped_pipes(line) == len(grid.columns) + 2, line
    rows = [line.split(" | ")[0].lstrip("| ") for line in lines[2:]]
    assert rows == ["0.19.2", "0.20.0 (yanked)", "0.21.0"]


def test_markdown_section_table_is_intact_and_inert() -> None:
    grid = nasty_grid()
    section = markdown.section(grid)
    table_lines = [line for line in section.splitlines() if line.startswith("|")]
    assert len(table_lines) == 2 + len(grid.rows)
    assert all(unescaped_pipes(line) == len(grid.columns) + 2 for line in table_lines)
    html = render(section)
    assert html.count("<table>") == 1
    assert html.count("<tr>") == 1 + len(grid.rows)
    assert html.count("<td") == len(grid.rows) * (len(grid.columns) + 1)
    for tag in ("<script>", "<em>", "<h1>", 'href="http://evil"'):
        assert tag not in html


def test_markdown_evidence_lists_each_message_on_one_line() -> None:
    section = markdown.section(nasty_grid())
    evidence = section.split("Messages:", 1)[1].strip().splitlines()
    assert len(evidence) == 3  # abort, panic, error: one line each despite the newlines
    assert all(line.startswith("- ") for line in evidence)
    assert any("0.19.2/3.11" in line for line in evidence)


def test_crashed_cells_are_bold_and_others_are_not() -> None:
    grid = grid_of(
        rec("0.20.0", "3.10", Outcome.ABORT),
        rec("0.20.0", "3.11", Outcome.SEGFAULT),
        rec("0.20.0", "3.12", Outcome.SIGNAL, runs=(run(Outcome.SIGNAL, signal="SIGBUS"),)),
        rec("0.20.0", "3.13", Outcome.PANIC),
        rec("0.20.0", "3.9", Outcome.PASS),
        rec("0.20.0", "3.8", Outcome.BUILD_ERROR),
    )
    row = markdown.grid_table(grid).splitlines()[2]
    cells = [cell.strip() for cell in row.strip("|").split("|")][1:]
    assert cells == [
        "**abort**",
        "**segfault**",
        "**signal SIGBUS**",
        "panic",
        "pass",
        "build-error",
    ]


def test_flaky_forced_and_yanked_in_markdown() -> None:
    flaky = rec(
        "0.20.1",
        "3.12",
        Outcome.ABORT,
        yanked=True,
        runs=(run(Outcome.ABORT), run(Outcome.PASS), run(Outcome.ABORT)),
    )
    forced = rec("0.20.1", "3.13", Outcome.PASS, yanked=True, forced=True)
    lines = markdown.grid_table(grid_of(flaky, forced)).splitlines()
    assert (
        lines[2] == f"| 0.20.1 (yanked) | **flaky 2/3 abort (abort, pass)** | pass {FORCED_MARK} |"
    )


def test_missing_cell_shows_a_dot() -> None:
    grid = Grid(
        "demo",
        "",
        "",
        (("0.20.0", False), ("0.21.0", False)),
        ("3.12",),
        {("0.20.0", "3.12"): rec("0.20.0", "3.12", Outcome.PASS)},
    )
    assert markdown.grid_table(grid).splitlines()[3] == "| 0.21.0 | · |"


def test_legend_lists_only_outcomes_present() -> None:
    grid = grid_of(rec("0.20.0", "3.11", Outcome.ABORT), rec("0.20.0", "3.12", Outcome.PASS))
    legend = markdown.legend([grid])
    assert "`abort`" in legend and "`pass`" in legend
    assert DESCRIPTIONS[Outcome.ABORT] in legend
    for absent in set(Outcome) - {Outcome.ABORT, Outcome.PASS}:
        assert f"`{absent.value}`" not in legend
    assert FORCED_MARK not in legend
    assert legend.index("`pass`") < legend.index("`abort`")  # enum order


def test_pyo3_not_compiling_is_drawn_named_and_explained() -> None:
    """3.11d with PyO3 0.26.0: its own outcome in the table, the legend, the short table and
    the messages, with the crate and the first error (not a `setup-error`)."""
    note = "PyO3's own crate `pyo3-ffi` does not compile: error[E0425]: cannot find type `c_int`"
    broken = rec("0.26.0", "3.11d", Outcome.PYO3_ERROR, runs=(), note=note)
    grid = grid_of(broken, rec("0.26.0", "3.11", Outcome.PASS))
    assert markdown.grid_table(grid).splitlines()[2] == "| 0.26.0 | pyo3-error | pass |"
    legend = markdown.legend([grid])
    assert "`pyo3-error`: PyO3's own crates (pyo3-ffi, pyo3-macros-backend, ...)" in legend
    assert "`setup-error`" not in legend
    assert f"- **pyo3-error**: {md_code(note)} (0.26.0/3.11d)" in markdown.messages(grid)
    console = Console(width=60, record=True, color_system=None)
    console.print(rich_table(grid, short=True), rich_legend([grid], short=True))
    shown = console.export_text()
    assert " pyo3 " in shown and "pyo3-error: PyO3's own crates" in shown


def test_legend_explains_forced_mark_only_when_used() -> None:
    grid = grid_of(rec("0.16.0", "3.12", Outcome.PASS, forced=True))
    assert FORCED_MARK in markdown.legend([grid])
    assert FORCED_MARK in rich_legend([grid]).plain


# --- rich ---------------------------------------------------------------------------------
def test_rich_table_renders_outcome_words() -> None:
    grid = grid_of(
        rec("0.20.0", "3.11", Outcome.ABORT),
        rec("0.20.0", "3.12", Outcome.SEGFAULT),
        rec("0.21.0", "3.11", Outcome.PASS, yanked=True),
        rec("0.21.0", "3.12", Outcome.TIMEOUT, runs=(run(Outcome.TIMEOUT), run(Outcome.PASS))),
    )
    console = Console(record=True, width=200)
    console.print(rich_table(grid))
    console.print(rich_legend([grid]))
    text = console.export_text()
    for word in ("abort", "segfault", "pass", "flaky 1/2 timeout? (pass, timeout)"):
        assert word in text
    assert table.UNCONFIRMED_WORDS[:40] in text  # a timeout no rerun confirmed: the legend says
    assert "0.21.0 (yanked)" in text
    assert "3.11" in text and "3.12" in text and "demo" in text
    assert DESCRIPTIONS[Outcome.SEGFAULT] in text
    assert DESCRIPTIONS[Outcome.BUILD_ERROR] not in text


def test_rich_table_has_a_style_for_every_outcome() -> None:
    assert set(table.STYLES) == set(Outcome)


def test_a_long_description_is_not_wrapped_at_the_tables_width() -> None:
    """One narrow column, a run command in the description: it stays whole on one line."""
    grid = grid_of(rec("0.20.0", "3.11", Outcome.PASS))
    long = "my-project, run with: python -m pytest -x -q tests/test_something_long.py"
    grid = dataclasses.replace(grid, description=long)
    console = Console(record=True, width=200)
    console.print(rich_table(grid))
    assert long in console.export_text()


def test_columns_of_other_builds_sort_by_version_then_build() -> None:
    labels = ["pp3.9", "3.11d", "3.13t", "3.9", "3.11", "3.10"]
    records = [make_record(python_label=label, key=label) for label in labels]
    grid = table.grid_from_records("s", "", "", records)
    assert grid.columns == ("3.9", "pp3.9", "3.10", "3.11", "3.11d", "3.13t")
