"""A table's finding in one plain sentence, for the top of `matrix.md` and `report.md`:
"aborts with PyO3 0.16.6-0.20.3 on CPython 3.7-3.12 where supported; passes from PyO3 0.21.2
on every CPython each release supports (3.7-3.13); unsupported elsewhere".

Derived from the grid alone (a pure function), never written by hand, so it cannot drift from
the table under it. Each outcome's cells are described as one block of consecutive rows x
consecutive columns when they form one (cells that are not results, such as `unsupported`,
may sit inside it); one outcome that does not may be said "on the rest"; a grid more
fragmented than that gets counts per outcome and a pointer to the table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pyo3_triage.outcome import NEVER_VERDICTS, Outcome
from pyo3_triage.reporting.table import FORCED_MARK, Grid

# What a cell did, as the verb of a sentence whose subject is the reproducer. An outcome not
# named here (one added later) is said by its value: "pyo3-error with PyO3 0.26.0 ...".
VERBS: dict[Outcome, str] = {
    Outcome.PASS: "passes",
    Outcome.ABORT: "aborts",
    Outcome.SEGFAULT: "segfaults",
    Outcome.SIGNAL: "is killed by a signal",
    Outcome.PANIC: "panics",
    Outcome.ERROR: "raises an error",
    Outcome.TIMEOUT: "hangs (timeout)",
    Outcome.BUILD_ERROR: "fails to compile",
    Outcome.PYO3_ERROR: "fails to compile PyO3 itself",
    Outcome.IMPORT_ERROR: "fails to import",
}
# Cells that say nothing about the reproducer (never a verdict): named last, as "elsewhere".
ASIDES: dict[Outcome, str] = {
    Outcome.UNSUPPORTED: "unsupported",
    Outcome.SETUP_ERROR: "not set up",
    Outcome.INCOMPATIBLE: "incompatible",
}
MAX_CLAUSES = 4  # more blocks than this is not one sentence a reader can hold: counts instead

Place = tuple[int, int]  # (row index, column index) in the grid


def verb(outcome: Outcome) -> str:
    return VERBS.get(outcome) or ASIDES.get(outcome) or outcome.value


def aside(outcome: Outcome) -> str:
    return ASIDES.get(outcome, outcome.value)


@dataclass(frozen=True)
class Block:
    """Where one outcome holds: rows first..last x columns first..last (inclusive), with no
    other result inside; `holes` are what else lies inside (non-results, None: no cell)."""

    outcome: Outcome
    rows: tuple[int, int]
    columns: tuple[int, int]
    holes: frozenset[Outcome | None]


def block(outcome: Outcome, cells: Mapping[Place, Outcome]) -> Block | None:
    """The smallest block holding every cell of `outcome`, or None when another result lies
    inside it (the outcome's cells are not one block)."""
    mine = [place for place, found in cells.items() if found is outcome]
    rows = min(r for r, _ in mine), max(r for r, _ in mine)
    columns = min(c for _, c in mine), max(c for _, c in mine)
    holes: set[Outcome | None] = set()
    for r in range(rows[0], rows[1] + 1):
        for c in range(columns[0], columns[1] + 1):
            found = cells.get((r, c))
            if found is outcome:
                continue
            if found is not None and found not in NEVER_VERDICTS:
                return None
            holes.add(found)
    return Block(outcome, rows, columns, frozenset(holes))


def predicate(grid: Grid) -> str:
    """What the reproducer did over the grid, as the predicate of a sentence ("" for a grid
    without cells)."""
    rows = [row for row, _ in grid.rows]
    cells = {
        (rows.index(row), grid.columns.index(column)): record.outcome
        for (row, column), record in grid.cells.items()
    }
    if not cells:
        return ""
    said = _Words(grid.rows_are, tuple(rows), grid.columns)
    results = {place: o for place, o in cells.items() if o not in NEVER_VERDICTS}
    asides = _in_order({p: o for p, o in cells.items() if o in NEVER_VERDICTS})
    flaky = sum(1 for record in grid.cells.values() if record.flaky)
    forced = sum(1 for record in grid.cells.values() if record.forced)
    tail = [f"{_count(flaky)} flaky (see the table)"] if flaky else []
    if forced:  # outside the declared window: an ABI accident is possible, not a result alone
        tail.append(f"{_count(forced)} built outside the declared window ({FORCED_MARK})")
    if not results:
        every = " or ".join(aside(o) for o in asides)
        return f"has no result: every cell {every} ({said.span(cells)})"
    outcomes = _in_order(results)
    if len(outcomes) == 1:
        clauses = [f"{verb(outcomes[0])} on every cell tried ({said.span(results)})"]
        return "; ".join(clauses + _elsewhere(asides) + tail)
    blocks = {o: block(o, cells) for o in outcomes}
    loose = [o for o in outcomes if blocks[o] is None]
    if len(loose) > 1 or len(outcomes) > MAX_CLAUSES:
        return _mixed(cells)
    clauses = _shared([said.parts(b) for o in outcomes if (b := blocks[o]) is not None])
    if not loose:
        return "; ".join(clauses + _elsewhere(asides) + tail)
    rest = f"{verb(loose[0])} {'on the rest' if asides else 'elsewhere'}"
    return "; ".join([*clauses, rest, *(said.aside(o, cells) for o in asides), *tail])


def sentence(grid: Grid) -> str:
    """The finding of one table as a plain sentence whose subject is the reproducer (and what
    the table is fixed to): "unsendable_gc_traverse aborts ...; unsupported elsewhere."."""
    said = predicate(grid)
    if not said:
        return ""
    return f"{subject(grid)} {said}."


def subject(grid: Grid) -> str:
    """Who the sentence is about: the reproducer, and what every cell shares beyond it."""
    return grid.scenario + (f" with {grid.fixed}" if grid.fixed else "")


def _shared(parts: Sequence[tuple[str, str]]) -> list[str]:
    """Clauses, those next to each other on the same columns said together: "aborts with
    PyO3 0.20.3 and passes with PyO3 0.21.2 on every CPython tried (3.11 and 3.12)"."""
    runs: list[tuple[list[str], str]] = []
    for lead, place in parts:
        if runs and runs[-1][1] == place:
            runs[-1][0].append(lead)
        else:
            runs.append(([lead], place))
    return [f"{' and '.join(leads)} {place}" for leads, place in runs]


def _in_order(cells: Mapping[Place, Outcome]) -> list[Outcome]:
    """Outcomes in the order the table shows them first (row by row): the sentence reads
    from the oldest release on."""
    return list(dict.fromkeys(cells[place] for place in sorted(cells)))


def _elsewhere(asides: Sequence[Outcome]) -> list[str]:
    return [f"{' or '.join(aside(o) for o in asides)} elsewhere"] if asides else []


def _count(n: int) -> str:
    return f"{n} cell{'s' if n != 1 else ''}"


def _mixed(cells: Mapping[Place, Outcome]) -> str:
    """Counts per outcome, most frequent first, when no short sentence is true."""
    counts: dict[Outcome, int] = {}
    for outcome in cells.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    ranked = sorted(counts.items(), key=lambda item: -item[1])
    return (
        "shows mixed outcomes ("
        + ", ".join(f"{n} {outcome.value}" for outcome, n in ranked)
        + "); see the table"
    )


_PLAIN = re.compile(r"\d+\.\d+")  # a CPython release build's column: "3.11"


@dataclass(frozen=True)
class _Words:
    """How one grid's rows and columns are named in a sentence."""

    rows_are: str  # "PyO3" or "Rust"
    rows: tuple[str, ...]
    columns: tuple[str, ...]

    def span(self, cells: Mapping[Place, Outcome]) -> str:
        """The rows and columns `cells` cover: "PyO3 0.16.6-0.30.1 x CPython 3.7-3.13"."""
        rows = min(r for r, _ in cells), max(r for r, _ in cells)
        columns = min(c for _, c in cells), max(c for _, c in cells)
        return f"{self.rows_are} {_range(self.rows, rows)} x {self._columns(columns)}"

    def clause(self, found: Block) -> str:
        """One block as a clause: "aborts with PyO3 0.16.6-0.20.3 on CPython 3.7-3.12"."""
        lead, place = self.parts(found)
        return f"{lead} {place}"

    def parts(self, found: Block) -> tuple[str, str]:
        """A block's clause in two: what and with which rows ("aborts with PyO3 0.20.3"), and
        on which columns ("on every CPython tried (3.11 and 3.12)"), so that blocks on the
        same columns can share theirs."""
        first, last = found.rows
        if first == last:
            rows = f"with {self.rows_are} {self.rows[first]}"
        elif last == len(self.rows) - 1 and first > 0:
            rows = f"from {self.rows_are} {self.rows[first]}"  # and "on CPython ..." follows
        else:
            rows = f"with {self.rows_are} {_range(self.rows, found.rows)}"
        lead = f"{verb(found.outcome)} {rows}"
        kinds = found.holes - {None}
        kind, versions = self._versions(found.columns)
        every = found.columns == (0, len(self.columns) - 1) and len(self.columns) > 1
        if every and found.holes and kinds <= {Outcome.UNSUPPORTED} and self.rows_are == "PyO3":
            return lead, f"on every {kind} each release supports ({versions})"
        plural = "s" if kind == "interpreter" else ""
        columns = (
            f"on every {kind} tried ({versions})" if every else f"on {kind}{plural} {versions}"
        )
        if not found.holes:
            where = ""
        elif not kinds:
            where = " where tried"
        elif kinds <= {Outcome.UNSUPPORTED}:
            where = " where supported"
        else:
            where = " where built"
        return lead, columns + where

    def aside(self, outcome: Outcome, cells: Mapping[Place, Outcome]) -> str:
        """Where cells that are no result lie, when "elsewhere" would not say it: as a block
        holding nothing else ("not set up with PyO3 0.26.0-0.27.2 on CPython 3.11d"), else
        as a count ("3 cells unsupported")."""
        found = block(outcome, cells)
        if found is None or found.holes - {None}:
            return f"{_count(sum(1 for o in cells.values() if o is outcome))} {aside(outcome)}"
        return self.clause(found)

    def _columns(self, span: tuple[int, int]) -> str:
        """Columns first..last: "CPython 3.7-3.12", "CPython 3.11d and 3.11"."""
        kind, versions = self._versions(span)
        return f"{kind}{'s' if kind == 'interpreter' else ''} {versions}"

    def _versions(self, span: tuple[int, int]) -> tuple[str, str]:
        """What columns first..last are and their versions: ("CPython", "3.7-3.12"); with
        PyPy among them ("interpreter", "pp3.9, 3.11d and 3.11")."""
        chosen = self.columns[span[0] : span[1] + 1]
        if all(_PLAIN.fullmatch(label) for label in chosen):
            return "CPython", _range(self.columns, span, " and ")
        if not any(label.startswith("pp") for label in chosen):
            return "CPython", _and(chosen)  # with its other builds: "3.11d and 3.11"
        if len(chosen) == 1:
            return "PyPy", chosen[0][2:]
        return "interpreter", _and(chosen)


def _range(labels: Sequence[str], span: tuple[int, int], pair: str = "-") -> str:
    """Consecutive labels first..last: "0.16.6-0.20.3", "3.11"; two columns "3.11 and 3.12"
    (`pair`). Rows always get a dash: the releases of the table between them, not two."""
    first, last = span
    if first == last:
        return labels[first]
    return f"{labels[first]}{pair if last == first + 1 else '-'}{labels[last]}"


def _and(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"
