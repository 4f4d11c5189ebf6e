"""`results/report.md`: everything a GitHub issue needs, drawn from stored records only.

One table per scenario with a legend, the environment, a `<details>` per non-passing cell
(panic message, stderr tail, the command that reproduces that cell), the bisect answers that
asked about these reproducers, and a chart of the tables (PNG and SVG, `chart`). Sized for a
GitHub comment: long text is cut with a note of where the full log is.
"""

from __future__ import annotations

import json
import platform
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path

from . import __version__, chart, procs, records, table
from .outcome import Outcome
from .paths import Layout, matrix_command, write_atomic
from .records import Record
from .scenarios import Scenario, builtin_dir

GITHUB_COMMENT_LIMIT = 65_536  # characters GitHub accepts in one comment body
STDERR_LINES = 25


def grids_from_store(layout: Layout, known: Sequence[Scenario] = ()) -> list[table.Grid]:
    """One grid per scenario, drawn from the records of its newest version only (its newest
    record's run hash: the same Rust, driver or run command), newest record per cell; records
    of another version of a reproducer are never mixed into its table."""
    by_scenario: dict[str, list[Record]] = {}
    for record in sorted(records.all_records(layout), key=lambda r: r.created):
        by_scenario.setdefault(record.scenario, []).append(record)
    about = {s.name: s for s in known}
    grids = []
    for name in sorted(by_scenario):
        current = by_scenario[name][-1].scenario_hash
        cells = {
            (r.pyo3, r.python_label): r for r in by_scenario[name] if r.scenario_hash == current
        }
        scenario = about.get(name)
        grids.append(
            table.grid_from_records(
                name,
                scenario.description if scenario else "",
                scenario.upstream if scenario else "",
                cells.values(),
            )
        )
    return grids


def reproduce_command(record: Record, results: Path) -> str:
    """The command that rebuilds and reruns exactly this one cell, runnable from any folder."""
    selection = list(record.selection)
    if not selection:  # a record from before records kept their selection
        source = Path(record.scenario_source) if record.scenario_source else None
        scenario = record.scenario
        if source is not None and source.parent.resolve() != builtin_dir().resolve():
            scenario = str(source)
        selection = ["--scenario", scenario]
    return shlex.join(
        [
            *matrix_command(),
            *selection,
            "--pyo3",
            record.pyo3,
            "--python",
            record.executable,
            "--results",
            str(results.absolute()),
            "--rerun",
        ]
    )


def python_versions(executables: Sequence[str]) -> dict[str, str]:
    """Each interpreter's `sys.version`, asked now (the records keep the exact version): a
    fact of this machine, gathered before rendering."""
    found = {}
    for exe in sorted(set(executables)):
        done = procs.run([exe, "-c", "import sys; print(sys.version)"], timeout=20)
        answered = " ".join(done.stdout_tail.split())
        if done.returncode in (126, 127):
            found[exe] = "not found on this machine now"
        else:
            found[exe] = answered if done.returncode == 0 and answered else "did not answer"
    return found


def _excerpt(stderr: str, limit: int) -> str:
    """From the first panic on if there is one (that is the evidence), else the last lines."""
    lines = stderr.strip().splitlines()
    first = next((i for i, line in enumerate(lines) if " panicked at " in line), None)
    chosen = lines[first : first + STDERR_LINES] if first is not None else lines[-STDERR_LINES:]
    return "\n".join(chosen)[:limit].replace("```", "'''")


def _group_details(group: Sequence[Record], limit: int, results: Path) -> str:
    """One block per distinct failure: where it happens, the evidence of one cell, how to rerun."""
    record = group[0]
    run = record.runs[0] if record.runs else None
    cells = ", ".join(f"{r.pyo3}/{r.python_label}" for r in group)
    title = f"{record.scenario}: {table.cell_text(record)} on {len(group)} cell(s)"
    body = [f"Cells: {table.md_escape(cells)}"]
    if record.panic_message:
        body.append("Panic: " + table.md_code(record.panic_message))
    elif run and run.exception:
        body.append("Exception: " + table.md_code(run.exception))
    if record.note:
        body.append("Note: " + table.md_code(record.note))
    if run and run.signal:
        body.append(f"Signal: {run.signal}")
    elif run and run.exit_status is not None:
        body.append(f"Exit status: {run.exit_status}")
    if run and run.stderr_tail.strip():
        body.append(
            f"stderr of PyO3 {record.pyo3} on CPython {record.python}:\n\n"
            f"```\n{_excerpt(run.stderr_tail, limit)}\n```"
        )
    logs = [record.build.log] if record.build and record.build.log else []
    logs += [run.log for run in record.runs if run.log]
    if logs:
        body.append("Full logs (not attached): " + ", ".join(f"`{Path(p).name}`" for p in logs))
    body.append(f"Reproduce that cell: `{reproduce_command(record, results)}`")
    return (
        f"<details><summary>{table.md_escape(title)}</summary>\n\n"
        + "\n\n".join(body)
        + "\n\n</details>"
    )


def failure_groups(found: Sequence[Record]) -> list[list[Record]]:
    """Failing cells grouped by what they show (scenario, outcome, message), in table order."""
    groups: dict[tuple[str, str, str], list[Record]] = {}
    for record in found:
        if record.outcome in (Outcome.PASS, Outcome.UNSUPPORTED):
            continue
        message = record.message
        groups.setdefault((record.scenario, table.cell_text(record), message or ""), []).append(
            record
        )
    return list(groups.values())


def bisect_answers(layout: Layout, grids: Sequence[table.Grid]) -> list[str]:
    """The bisects in the results folder that asked about the reproducers in these tables
    (the same version of each: the same run hash), never those of another run command."""
    shown = {r.scenario_hash for g in grids for r in g.cells.values()}
    lines = []
    for path in sorted(layout.results.glob("bisect-*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("scenario_hash") not in shown:
                continue
            for search in data["searches"]:
                link = f" ({search['compare']})" if search.get("compare") else ""
                lines.append(
                    f"- `{table.md_escape(data['scenario'])}` on {table.md_escape(search['fixed'])}: "
                    f"{table.md_escape(search['answer'])}{link}; report `{path.with_suffix('.md').name}`"
                )
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a foreign or half-written file is not evidence
    return lines


def environment(found: Sequence[Record], pythons: Mapping[str, str]) -> str:
    """The environment block: what the records say they were made with, and `pythons` (each
    interpreter's `sys.version`, gathered by the caller)."""
    tools = {r.toolchain.rustc_verbose: r.toolchain for r in found if r.toolchain.rustc_verbose}
    lines = [
        f"- pyo3-triage {__version__}; report made on {table.md_escape(platform.platform())}",
        "- Records made on: "
        + "; ".join(sorted({table.md_escape(r.platform) for r in found if r.platform})),
    ]
    for info in tools.values():
        lines.append(f"- {table.md_escape(info.maturin)}; {table.md_escape(info.cargo)}")
    for exe, version in pythons.items():
        lines.append(f"- `{exe}`: {table.md_escape(version)}")
    for verbose in tools:
        lines += ["", "```", verbose.replace("```", "'''"), "```"]
    return "<details><summary>Environment</summary>\n\n" + "\n".join(lines) + "\n\n</details>"


def render(
    grids: Sequence[table.Grid],
    answers: Sequence[str],
    pythons: Mapping[str, str],
    layout: Layout,
    limit: int = GITHUB_COMMENT_LIMIT,
) -> str:
    """The report text from data alone (`answers`: bisect lines, `pythons`: interpreter
    versions; nothing is read or run here), kept under `limit` characters by cutting per-cell
    details first. `layout` only names where files are."""
    found = [r for g in grids for r in g.cells.values()]
    head = ["## PyO3 × CPython report"]
    head.extend(table.markdown_section(grid) for grid in grids)
    head.append(table.markdown_legend(grids))
    if answers:
        head.append("### Bisect\n\n" + "\n".join(answers))
    tail = [
        environment(found, pythons),
        f"Picture of the tables (attach it to the issue): `{layout.report_png()}` "
        f"(and `{layout.report_svg()}`).",
    ]
    groups = failure_groups(found)
    budget = limit - len("\n\n".join(head + tail)) - 400
    details: list[str] = []
    for group in groups:
        block = _group_details(group, 2500, layout.results)
        if budget - len(block) < 0:
            details.append(
                f"({len(groups) - len(details)} more failures not shown to stay within a GitHub "
                "comment; see `results/records/` and `results/logs/`)"
            )
            break
        budget -= len(block) + 2
        details.append(block)
    body = ["### Failures\n\n" + "\n\n".join(details)] if details else []
    return "\n\n".join(head + body + tail) + "\n"


def write(
    layout: Layout, grids: Sequence[table.Grid], question: str = "", *, pictures: bool = True
) -> Path:
    """`report.md` and the chart (the latest), and with a `question` a copy of the report
    kept under its own name, so a later run about something else does not erase it. An
    interrupted run skips the chart (`pictures`): stopping fast matters more then."""
    found = [r.executable for g in grids for r in g.cells.values()]
    text = render(grids, bisect_answers(layout, grids), python_versions(found), layout)
    path = layout.report_markdown()
    write_atomic(path, text)
    if pictures:
        svg, png = chart.draw(grids)
        write_atomic(layout.report_svg(), svg)
        write_atomic(layout.report_png(), png)
    if question:
        write_atomic(layout.question_file("report", question), text)
    return path
