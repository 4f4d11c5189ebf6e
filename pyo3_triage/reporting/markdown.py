"""Every Markdown the tool writes: the matrix document, the report and the pieces the bisect
report is made of (tables, legend, messages, the environment block), from data alone.

Nothing here runs a process or reads a file: facts about the machine come in an
`Environment` gathered by the caller. Text from records never breaks a table or injects
markup: it goes through `md_escape` or `md_code`.
"""

from __future__ import annotations

import datetime
import platform
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.version import InvalidVersion, Version

from pyo3_triage import __version__
from pyo3_triage.matching import MATCH_MARK
from pyo3_triage.outcome import DESCRIPTIONS, Outcome
from pyo3_triage.reporting import finding
from pyo3_triage.reporting.table import (
    FORCED_MARK,
    UNCONFIRMED_WORDS,
    Grid,
    cell_text,
    match_legend,
    outcomes_in,
    row_label,
)
from pyo3_triage.store.records import UNCONFIRMED_MARK, Record, reproduce_command
from pyo3_triage.system.paths import Layout

GITHUB_COMMENT_LIMIT = 65_536  # characters GitHub accepts in one comment body
STDERR_LINES = 25
_SAFE_URL = re.compile(r"https://[A-Za-z0-9._~:/?#@!$&'*+,;=%-]+")


_MD_ESCAPES = str.maketrans(
    {
        "\\": "\\\\",
        "|": "\\|",
        "`": "\\`",
        "*": "\\*",
        "_": "\\_",
        "[": "\\[",
        "]": "\\]",
        "~": "\\~",
        "&": "&amp;",
        "<": "&lt;",
    }
)


def clip(text: str, limit: int) -> str:
    """`text` in about `limit` characters, cut at a line (else a word) boundary and marked as
    cut, so that a shortened message or excerpt never passes for the whole of it."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    cut = head.rfind("\n")
    if cut <= 0:
        cut = head.rfind(" ")
    if cut <= 0:
        cut = limit
    return f"{text[:cut].rstrip()} … ({len(text) - cut} more characters)"


def md_escape(text: str) -> str:
    """Plain text safe inside a Markdown table cell or list item: no markup, no HTML, one line."""
    text = " ".join(text.split()).translate(_MD_ESCAPES)
    if text.startswith(("#", "+", "-", "=", ">")):
        return "\\" + text
    # "1. foo" or "1) foo" at the start of a block would become a numbered list.
    return re.sub(r"^(\d+)([.)])(?=\s|$)", r"\1\\\2", text)


def md_code(text: str) -> str:
    """Text as an inline code span that nothing inside can close or break out of.

    The fence is one backtick longer than any run inside; `|` is escaped because GitHub splits
    table cells on it even inside code spans."""
    text = " ".join(text.split()).replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    return f"{fence} {text} {fence}"


_CODE_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)", re.DOTALL)


def html_escape_outside_code(markdown: str) -> str:
    """Markdown from elsewhere (PyO3's CHANGELOG) made safe to embed: `<` outside code spans
    becomes `&lt;` so no raw HTML gets through, while code spans are kept as they are (inside
    them GitHub prints `&lt;` literally, so `Bound<T>` must stay `Bound<T>`)."""
    out, last = [], 0
    for span in _CODE_SPAN.finditer(markdown):
        out.append(markdown[last : span.start()].replace("<", "&lt;"))
        out.append(span.group(0))
        last = span.end()
    out.append(markdown[last:].replace("<", "&lt;"))
    return "".join(out)


def _cell(grid: Grid, record: Record | None) -> str:
    if record is None:
        return "·"
    text = md_escape(grid.words(record))
    return f"**{text}**" if record.outcome.crashed else text


def grid_table(grid: Grid) -> str:
    header = f"| {grid.corner} | " + " | ".join(grid.columns) + " |"
    rule = "|---|" + "|".join(":-:" for _ in grid.columns) + "|"
    lines = [header, rule]
    for pyo3, yanked in grid.rows:
        cells = [_cell(grid, grid.cells.get((pyo3, column))) for column in grid.columns]
        label = row_label(pyo3, yanked, grid.describe(pyo3))
        lines.append(f"| {md_escape(label)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def legend(grids: Sequence[Grid]) -> str:
    parts = [f"`{o.value}`: {DESCRIPTIONS[o]}" for o in outcomes_in(grids)]
    if any(r.forced for g in grids for r in g.cells.values()):
        parts.append(
            f"{FORCED_MARK}: built outside the declared CPython or Rust window (ABI accident "
            "possible)"
        )
    if any(r.revision for g in grids for r in g.cells.values()):
        parts.append(
            "`git:...` rows: PyO3 commits built from source, not releases (with `git describe`)"
        )
    if regex := match_legend(grids):
        parts.append(
            f"{MATCH_MARK}: the cell's panic message, exception, compile error or stderr "
            f"matches --match {md_escape(repr(regex))}"
        )
    if any(r.unconfirmed for g in grids for r in g.cells.values()):
        mark = UNCONFIRMED_MARK
        parts.append(f"`timeout{mark}`, `signal SIGKILL{mark}`: {UNCONFIRMED_WORDS}")
    return "**Legend**: " + "; ".join(parts) + "."


def messages(grid: Grid, limit: int = 400) -> str:
    """One line per distinct panic message / exception / build error, with the cells showing it."""
    seen: dict[tuple[str, str], list[str]] = {}
    for record in grid.records():
        if record.outcome in (Outcome.PASS, Outcome.UNSUPPORTED):
            continue  # unsupported cells say so in the table and the legend
        message = record.message
        if not message:
            continue
        cell = record.cell_name
        seen.setdefault((record.outcome.value, clip(message, limit)), []).append(cell)
    if not seen:
        return ""
    lines = ["Messages:"]
    for (outcome, message), where in seen.items():
        shown = ", ".join(where[:6]) + (f" and {len(where) - 6} more" if len(where) > 6 else "")
        lines.append(f"- **{outcome}**: {md_code(message)} ({md_escape(shown)})")
    return "\n".join(lines)


def pinning(grid: Grid) -> str:
    """Say so when a release's sibling crates could not all be pinned to the release itself."""
    notes = {}
    for record in grid.records():
        crates = dict(record.lock.crates) if record.lock else {}
        for name in record.lock.mismatched if record.lock else ():
            notes[(record.pyo3, name)] = crates.get(name, "?")
    if not notes:
        return ""
    return "Sibling crates not at their release: " + "; ".join(
        f"PyO3 {md_escape(pyo3)} built {md_escape(name)} {md_escape(version)}"
        for (pyo3, name), version in sorted(notes.items())
    )


def companions(grid: Grid) -> str:
    """Which versions of the project's companion crates (dependencies that depend on PyO3)
    the releases were built with: a boundary may be a companion's change, not PyO3's."""
    used: dict[str, list[str]] = {}  # "pyo3-file 0.13.0" -> the releases built with it
    for record in grid.records():  # in row order
        if record.lock is not None and record.lock.companions:
            moved = ", ".join(f"{name} {version}" for name, version in record.lock.companions)
            if record.pyo3 not in used.setdefault(moved, []):
                used[moved].append(record.pyo3)
    if not used:
        return ""
    return "Companion crates: " + "; ".join(
        f"{md_escape(moved)} (PyO3 {md_escape(', '.join(releases))})"
        for moved, releases in used.items()
    )


def left_out(grid: Grid) -> str:
    """One line when records of other versions of the reproducer exist and are not drawn."""
    if not grid.left_out:
        return ""
    return (
        f"Left out: {grid.left_out} record(s) of other versions of this reproducer (another "
        "driver, Rust side or run command); this table is the version the newest run asked about."
    )


def _name(scenario: str) -> str:
    return f"`{scenario}`" if "`" not in scenario else md_escape(scenario)


def section(grid: Grid) -> str:
    title = f"### {_name(grid.scenario)}" + (f" · {md_escape(grid.fixed)}" if grid.fixed else "")
    parts = [title]
    intro = md_escape(grid.description)
    if _SAFE_URL.fullmatch(grid.upstream):
        intro += f" ([upstream]({grid.upstream}))"
    if intro:
        parts.append(intro)
    parts.append(grid_table(grid))
    for extra in (pinning(grid), companions(grid), messages(grid), left_out(grid)):
        if extra:
            parts.append(extra)
    return "\n\n".join(parts)


def findings(grids: Sequence[Grid]) -> str:
    """What the tables show, one sentence each (`finding`): the line a reader of the issue
    needs first. One table: one sentence; several: one list item per table."""
    said = []
    for grid in grids:
        if text := finding.predicate(grid):
            fixed = f" with {md_escape(grid.fixed)}" if grid.fixed else ""
            said.append(f"{_name(grid.scenario)}{fixed} {md_escape(text)}.")
    if len(said) == 1:
        return said[0]
    return "\n".join(f"- {line}" for line in said)


def details(summary: str, body: str) -> str:
    """A folded block: `summary` is shown, `body` (Markdown) opens on a click."""
    return f"<details><summary>{summary}</summary>\n\n{body}\n\n</details>"


# --- the environment block ---------------------------------------------------------------
@dataclass(frozen=True)
class Environment:
    """Where and when a document is made, gathered at the edge (`here`), so renderers take the
    machine's facts as data."""

    made: str  # "2026-11-29 15:00 UTC"
    platform: str  # the machine making the document
    command: str = ""  # the command that made it, and the folder it ran in
    folder: str = ""
    logs: str = ""  # where the full logs are
    pythons: Mapping[str, str] = field(default_factory=dict)  # executable -> sys.version now


def here(
    command: str = "", logs: Path | None = None, pythons: Mapping[str, str] | None = None
) -> Environment:
    """This machine, now."""
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return Environment(
        made=now,
        platform=platform.platform(),
        command=command,
        folder=str(Path.cwd()) if command else "",
        logs=str(logs) if logs else "",
        pythons=dict(pythons or {}),
    )


def _version_key(text: str) -> tuple[int, Version | str]:
    try:
        return (0, Version(text))
    except InvalidVersion:
        return (1, text)


def environment(found: Sequence[Record], env: Environment) -> str:
    """The one environment block of every document: how and where it was made, and what the
    records say they were made with (platform, toolchain, each CPython)."""
    lines = []
    if env.command:
        lines.append(f"- Command: `{env.command.replace('`', '')}` (in `{env.folder}`)")
    lines.append(f"- Made {env.made} by pyo3-triage {__version__} on {md_escape(env.platform)}")
    platforms = sorted({r.platform for r in found if r.platform})
    if platforms:
        lines.append("- Records made on: " + "; ".join(md_escape(p) for p in platforms))
    tools = {r.toolchain.rustc_verbose: r.toolchain for r in found if r.toolchain.rustc_verbose}
    for tool in tools.values():
        named = (tool.rustc, tool.cargo, tool.maturin, tool.uv)
        lines.append("- Toolchain: " + "; ".join(md_escape(n) for n in named if n))
    for settings in sorted({r.toolchain.settings for r in found if r.toolchain.settings}):
        lines.append(f"- Build settings from the environment: {md_escape(settings)}")
    pythons = sorted(
        {(r.python, r.interpreter, r.executable) for r in found}, key=lambda p: _version_key(p[0])
    )
    for _, name, exe in pythons:
        asked = env.pythons.get(exe)
        lines.append(f"- {md_escape(name)}: `{exe}`" + (f" ({md_escape(asked)})" if asked else ""))
    if env.logs:
        lines.append(f"- Full logs: `{env.logs}` (one build and one run log per cell)")
    for verbose in tools:
        lines += ["", "```", verbose.replace("```", "'''"), "```"]
    return details("Environment", "\n".join(lines))


# --- the matrix and the report -----------------------------------------------------------
def matrix_document(grids: Sequence[Grid], env: Environment, note: str = "") -> str:
    """The whole `matrix.md`: tables, legend, and the environment the records were made in."""
    parts = ["## PyO3 × CPython matrix"]
    if note:
        parts.append(f"> {md_escape(note)}")
    if said := findings(grids):
        parts.append(said)
    parts.extend(section(grid) for grid in grids)
    parts.append(legend(grids) if grids else "No cells: this selection (or shard) holds none.")
    parts.append(environment([r for g in grids for r in g.cells.values()], env))
    return "\n\n".join(parts) + "\n"


def _excerpt(stderr: str, limit: int) -> str:
    """From the first panic on if there is one (that is the evidence), else the last lines."""
    lines = stderr.strip().splitlines()
    first = next((i for i, line in enumerate(lines) if " panicked at " in line), None)
    chosen = lines[first : first + STDERR_LINES] if first is not None else lines[-STDERR_LINES:]
    return clip("\n".join(chosen), limit).replace("```", "'''")


def _group_details(group: Sequence[Record], limit: int, results: Path) -> str:
    """One block per distinct failure: where it happens, the evidence of one cell, how to rerun."""
    record = group[0]
    run = record.runs[0] if record.runs else None
    cells = ", ".join(r.cell_name for r in group)
    title = f"{record.scenario}: {cell_text(record)} on {len(group)} cell(s)"
    body = [f"Cells: {md_escape(cells)}"]
    if record.panic_message:
        body.append("Panic: " + md_code(record.panic_message))
    elif run and run.exception:
        body.append("Exception: " + md_code(run.exception))
    if record.note:
        body.append("Note: " + md_code(record.note))
    if run and run.signal:
        body.append(f"Signal: {run.signal}")
    elif run and run.exit_status is not None:
        body.append(f"Exit status: {run.exit_status}")
    if run and run.stderr_tail.strip():
        body.append(
            f"stderr of PyO3 {record.pyo3} on {record.interpreter}:\n\n"
            f"```\n{_excerpt(run.stderr_tail, limit)}\n```"
        )
    logs = [record.build.log] if record.build and record.build.log else []
    logs += [run.log for run in record.runs if run.log]
    if logs:
        body.append("Full logs (not attached): " + ", ".join(f"`{Path(p).name}`" for p in logs))
    body.append(f"Reproduce that cell: `{reproduce_command(record, results)}`")
    return details(md_escape(title), "\n\n".join(body))


def failure_groups(found: Sequence[Record]) -> list[list[Record]]:
    """Failing cells grouped by what they show (scenario, outcome, message), in table order."""
    groups: dict[tuple[str, str, str], list[Record]] = {}
    for record in found:
        if record.outcome in (Outcome.PASS, Outcome.UNSUPPORTED, Outcome.INCOMPATIBLE):
            continue  # not built: the table's notes say why
        message = record.message
        groups.setdefault((record.scenario, cell_text(record), message or ""), []).append(record)
    return list(groups.values())


def report_document(
    grids: Sequence[Grid],
    answers: Sequence[str],
    env: Environment,
    layout: Layout,
    limit: int = GITHUB_COMMENT_LIMIT,
) -> str:
    """`report.md` from data alone (`answers`: bisect lines), kept under `limit` characters by
    cutting per-cell details first. `layout` only names where files are."""
    found = [r for g in grids for r in g.cells.values()]
    head = ["## PyO3 × CPython report"]
    if said := findings(grids):
        head.append(said)
    head.extend(section(grid) for grid in grids)
    head.append(legend(grids))
    if answers:
        head.append("### Bisect\n\n" + "\n".join(answers))
    tail = [
        environment(found, env),
        f"Picture of the tables (attach it to the issue): `{layout.report_png()}` "
        f"(and `{layout.report_svg()}`).",
    ]
    groups = failure_groups(found)
    budget = limit - len("\n\n".join(head + tail)) - 400
    shown: list[str] = []
    for group in groups:
        block = _group_details(group, 2500, layout.results)
        if budget - len(block) < 0:
            shown.append(
                f"({len(groups) - len(shown)} more failures not shown to stay within a GitHub "
                "comment; see `results/records/` and `results/logs/`)"
            )
            break
        budget -= len(block) + 2
        shown.append(block)
    body = ["### Failures\n\n" + "\n\n".join(shown)] if shown else []
    return "\n\n".join(head + body + tail) + "\n"
