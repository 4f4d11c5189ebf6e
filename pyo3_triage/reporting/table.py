"""Tables drawn from records: the grid (rows PyO3 releases, columns CPython versions, one
cell per record), its words, and its coloured form for the terminal (rich). The Markdown form
is `markdown`'s. With Rust toolchains chosen (`--rust`) there is one grid per toolchain, or,
when one release is asked about, one grid whose rows are the toolchains (`arrange`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from packaging.version import InvalidVersion, Version
from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from pyo3_triage.matching import MATCH_MARK, matches
from pyo3_triage.outcome import DESCRIPTIONS, Outcome
from pyo3_triage.store.records import UNCONFIRMED_MARK, Record

STYLES: dict[Outcome, str] = {
    Outcome.PASS: "bold green",
    Outcome.ABORT: "bold white on red",
    Outcome.SEGFAULT: "bold white on red",
    Outcome.SIGNAL: "bold white on red",
    Outcome.PANIC: "bold magenta",
    Outcome.ERROR: "yellow",
    Outcome.TIMEOUT: "bold yellow",
    Outcome.BUILD_ERROR: "red",
    Outcome.PYO3_ERROR: "italic red",
    Outcome.SETUP_ERROR: "dim red",
    Outcome.UNSUPPORTED: "dim",
    Outcome.INCOMPATIBLE: "dim magenta",
    Outcome.IMPORT_ERROR: "dark_orange",
}
FORCED_MARK = "†"
UNCONFIRMED_WORDS = (
    "a timeout or SIGKILL seen once: the machine's load (another build compiling, the "
    "out-of-memory killer) may explain it, so it is no verdict until a rerun sees it again "
    "(the next matrix or bisect reruns it)"
)


@dataclass(frozen=True)
class Grid:
    """One scenario's table: rows (release, yanked), columns (CPython label), records."""

    scenario: str
    description: str
    upstream: str
    rows: tuple[tuple[str, bool], ...]
    columns: tuple[str, ...]
    cells: dict[tuple[str, str], Record] = field(default_factory=dict)
    left_out: int = 0  # records of other versions of the reproducer, not drawn
    rows_are: str = "PyO3"  # or "Rust": toolchains as rows, for one release (`fixed`)
    fixed: str = ""  # what every cell shares beyond the scenario: "Rust 1.80", "PyO3 0.20.3"
    pattern: re.Pattern[str] | None = None  # --match: failing cells that hold it are marked

    @property
    def title(self) -> str:
        return f"{self.scenario} · {self.fixed}" if self.fixed else self.scenario

    @property
    def corner(self) -> str:
        """The header of the rows' column: "PyO3 \\ CPython" or "Rust \\ CPython"."""
        return f"{self.rows_are} \\ CPython"

    def describe(self, row: str) -> str:
        """`git describe` of a row that is a PyO3 commit, "" for a release."""
        if self.rows_are != "PyO3":
            return ""
        return next((r.describe for (pyo3, _), r in self.cells.items() if pyo3 == row), "")

    def records(self) -> list[Record]:
        return [self.cells[key] for key in sorted(self.cells, key=self._order)]

    def marked(self, record: Record) -> bool:
        """A failing cell whose evidence holds the --match regex (a pass never is)."""
        if self.pattern is None or record.outcome is Outcome.PASS:
            return False
        return matches(record, self.pattern)

    def words(self, record: Record, short: bool = False) -> str:
        """A cell's words in this grid: `cell_text` (or `short_text`), marked when it matches."""
        text = short_text(record) if short else cell_text(record)
        if self.marked(record):
            text += MATCH_MARK if short else f" {MATCH_MARK}"
        return text

    def _order(self, key: tuple[str, str]) -> tuple[int, int]:
        rows = [row for row, _ in self.rows]
        return rows.index(key[0]), self.columns.index(key[1])


def grid_from_records(
    scenario: str, description: str, upstream: str, found: Iterable[Record]
) -> Grid:
    """A grid whose rows and columns are exactly what the records cover, in version order
    (records of one toolchain; `grids_from_records` splits by toolchain)."""
    return grids_from_records(scenario, description, upstream, found)[0]


def grids_from_records(
    scenario: str,
    description: str,
    upstream: str,
    found: Iterable[Record],
    column: Callable[[Record], str] = lambda r: r.python_label,
) -> list[Grid]:
    """The scenario's grids (see `arrange`), rows and columns exactly what the records cover,
    in version order (`column`: a record's column, by default its CPython label)."""
    cells = {(r.pyo3, r.rust, column(r)): r for r in found}
    first = {r.pyo3: r for r in cells.values()}
    rows = tuple((v, first[v].yanked) for v in sorted(first, key=lambda v: row_order(first[v])))
    columns = tuple(sorted({key[2] for key in cells}, key=_minor_key))
    rusts = tuple(sorted({r.rust for r in cells.values()}, key=rust_order)) or ("",)
    return arrange(Grid(scenario, description, upstream, rows, columns), rusts, cells)


def rust_order(name: str) -> tuple[int, Version | str]:
    """Toolchains in version order (the one on PATH, "", first; channels after versions)."""
    if not name:
        return (0, "")
    try:
        return (1, Version(name))
    except InvalidVersion:
        return (2, name)


def arrange(
    shape: Grid, rusts: Sequence[str], cells: dict[tuple[str, str, str], Record]
) -> list[Grid]:
    """`shape` (rows of releases, columns) filled from `cells` keyed (release, toolchain,
    column): one grid per toolchain ("" is the one on PATH: the grid as without --rust), or,
    for one release and several toolchains, one grid with the toolchains as rows."""
    if len(shape.rows) == 1 and len(rusts) > 1:
        pyo3, yanked = shape.rows[0]
        return [
            replace(
                shape,
                rows=tuple((_rust_row(rust), False) for rust in rusts),  # the title says yanked
                cells={(_rust_row(rust), column): r for (_, rust, column), r in cells.items()},
                rows_are="Rust",
                fixed=f"PyO3 {row_label(pyo3, yanked, _describe(cells))}",
            )
        ]
    return [
        replace(
            shape,
            cells={
                (pyo3, column): r for (pyo3, r_rust, column), r in cells.items() if r_rust == rust
            },
            fixed=f"Rust {rust}" if rust else "",
        )
        for rust in rusts
    ]


def _rust_row(rust: str) -> str:
    """A toolchain as a row: its --rust name, or the toolchain on PATH (records made without
    --rust, beside others in the store)."""
    return rust or "on PATH"


def _describe(cells: dict[tuple[str, str, str], Record]) -> str:
    return next((r.describe for r in cells.values() if r.describe), "")


_DESCRIBE = re.compile(r"v?(\d+\.\d+\.\d+[^-]*)-(\d+)-g[0-9a-f]+")


def row_order(record: Record) -> tuple[Version, float]:
    """Releases in version order; a PyO3 commit after the tag `git describe` names it by
    (commits since that tag), else just after the release whose API it was rendered for."""
    if not record.revision:
        try:
            return Version(record.pyo3), 0.0
        except InvalidVersion:
            return Version("0"), 0.0  # a label that is neither a release nor a commit: first
    match = _DESCRIBE.fullmatch(record.describe)
    try:
        if match:
            return Version(match[1]), float(match[2])
        return Version(record.describe.lstrip("v")), 0.5  # exactly at a tag
    except InvalidVersion:
        return Version(record.era or "0"), 0.5


_COLUMN = re.compile(r"(pp)?(\d+)\.(\d+)([td]*)")


def _minor_key(label: str) -> tuple[int, int, int, str, str]:
    """Columns in version order; at one version CPython's release build first, then its other
    builds ("3.11d", "3.13t"), then PyPy ("pp3.11"); a label of another shape last. A label
    that names its interpreter ("3.12 (/usr/bin/python3.12)") sorts with its version."""
    found = _COLUMN.match(label)
    if found is None or label[found.end() :][:1] not in ("", " "):
        return (999, 0, 0, label, "")
    return (int(found[2]), int(found[3]), 1 if found[1] else 0, found[4], label)


def cell_text(record: Record) -> str:
    """The words for one cell, without markup: `abort`, `signal SIGBUS`, `flaky 2/3 ...`."""
    outcome = record.outcome
    word = outcome.value
    mark = UNCONFIRMED_MARK if record.unconfirmed else ""
    if outcome is Outcome.SIGNAL:
        signal = next((run.signal for run in record.runs if run.signal), None)
        word = f"signal {signal}" if signal else word
    word += mark
    if record.flaky:
        seen = [run.outcome.value for run in record.runs]
        hits = sum(1 for value in seen if value == outcome.value)
        word = f"flaky {hits}/{len(seen)} {outcome.value}{mark} ({', '.join(sorted(set(seen)))})"
    if record.forced:
        word += f" {FORCED_MARK}"
    if record.abi3:
        word += " (abi3)"
    return word


def row_label(pyo3: str, yanked: bool, describe: str = "") -> str:
    """A release (marked when yanked), or a commit with its `git describe`."""
    if describe:
        return f"{pyo3} ({describe})"
    return f"{pyo3} (yanked)" if yanked else pyo3


# --- terminal ----------------------------------------------------------------------------
# Words of at most five letters, for a terminal too narrow for the full ones (nox: 80 columns):
# seven CPython columns then fit, and the legend says what each word means.
SHORT: dict[Outcome, str] = {
    Outcome.PASS: "pass",
    Outcome.ABORT: "ABRT",
    Outcome.SEGFAULT: "SEGV",
    Outcome.SIGNAL: "SIG",
    Outcome.PANIC: "panic",
    Outcome.ERROR: "err",
    Outcome.TIMEOUT: "t/o",
    Outcome.BUILD_ERROR: "build",
    Outcome.PYO3_ERROR: "pyo3",
    Outcome.SETUP_ERROR: "setup",
    Outcome.UNSUPPORTED: "-",
    Outcome.INCOMPATIBLE: "incmp",
    Outcome.IMPORT_ERROR: "imprt",
}


def short_text(record: Record) -> str:
    """A cell in at most seven characters: the short word, `~` when flaky, `*` when forced."""
    word = SHORT[record.outcome] + (UNCONFIRMED_MARK if record.unconfirmed else "")
    return word + ("~" if record.flaky else "") + ("*" if record.forced or record.abi3 else "")


def needs_short(grids: Sequence[Grid], width: int) -> bool:
    """True when the full words would not fit `width` columns."""
    for grid in grids:
        label = max((len(row_label(p, y, grid.describe(p))) for p, y in grid.rows), default=0)
        cells = [
            max([len(c), *(len(grid.words(r)) for (_, col), r in grid.cells.items() if col == c)])
            for c in grid.columns
        ]
        if max(label, 14) + sum(w + 3 for w in cells) + 4 > width:
            return True
    return False


def rich_table(grid: Grid, short: bool = False) -> Group:
    """The grid for the terminal, with its description below at the console's full width (a
    caption would wrap at the table's, splitting a run command across lines)."""
    table = Table(
        title=None if grid.fixed else grid.title,
        show_lines=False,
        box=box.SIMPLE_HEAD if short else box.HEAVY_HEAD,
        padding=(0, 1),
    )
    table.add_column(grid.corner, style="bold", no_wrap=True)
    for column in grid.columns:
        table.add_column(column, justify="center", no_wrap=True)
    for pyo3, yanked in grid.rows:
        label = row_label(pyo3, yanked, grid.describe(pyo3))
        if short and grid.describe(pyo3):
            label = pyo3
        cells: list[Text | str] = [label]
        for column in grid.columns:
            record = grid.cells.get((pyo3, column))
            if record is None:
                cells.append(Text("·", style="dim"))
            else:
                style = STYLES[record.outcome]
                words = grid.words(record, short)
                cells.append(Text(words, style=f"{style} reverse" if record.flaky else style))
        table.add_row(*cells)
    # What the grid is fixed to goes above, unwrapped (a title wraps at the table's width).
    above = [Text(grid.title, style="bold italic")] if grid.fixed else []
    if not grid.description:
        return Group(*above, table)
    return Group(*above, table, Text(grid.description, style="dim"))


def rich_legend(grids: Sequence[Grid], short: bool = False) -> Text:
    text = Text()
    for outcome in outcomes_in(grids):
        text.append(f" {SHORT[outcome] if short else outcome.value} ", style=STYLES[outcome])
        named = f"{outcome.value}: " if short else ""
        text.append(f" {named}{DESCRIPTIONS[outcome]}\n")
    if short:
        text.append(" ~ flaky (runs disagreed)  * built outside the window or for abi3\n")
    if any(r.forced for g in grids for r in g.cells.values()):
        text.append(
            f" {FORCED_MARK}  built outside the declared CPython or Rust window (ABI accident "
            "possible)\n"
        )
    if any(r.revision for g in grids for r in g.cells.values()):
        text.append(" git:...  PyO3 commits built from source, not releases\n")
    if regex := match_legend(grids):
        text.append(f" {MATCH_MARK}  matches --match {regex!r}\n")
    if any(r.unconfirmed for g in grids for r in g.cells.values()):
        text.append(f" {UNCONFIRMED_MARK}  {UNCONFIRMED_WORDS}\n")
    return text


def match_legend(grids: Sequence[Grid]) -> str:
    """The --match regex the mark stands for, when a cell of `grids` carries it, else ""."""
    for grid in grids:
        if grid.pattern is not None and any(grid.marked(r) for r in grid.cells.values()):
            return grid.pattern.pattern
    return ""


def outcomes_in(grids: Sequence[Grid]) -> list[Outcome]:
    present = {record.outcome for grid in grids for record in grid.cells.values()}
    return [outcome for outcome in Outcome if outcome in present]
