"""`results/report.md` and its chart, from stored records only: this module gathers (the
grids, the bisect answers in the results folder, each interpreter's version) and writes;
`markdown.report_document` renders.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from pyo3_triage.outcome import Outcome
from pyo3_triage.reporting import chart, markdown, table
from pyo3_triage.reporting.markdown import md_escape
from pyo3_triage.reproducers.reproducer import Reproducer
from pyo3_triage.store import records
from pyo3_triage.store.records import Record
from pyo3_triage.system import procs
from pyo3_triage.system.paths import Layout, write_atomic


def grids_from_store(
    layout: Layout, known: Sequence[Reproducer] = (), latest: Mapping[str, str] | None = None
) -> list[table.Grid]:
    """One grid per scenario (and toolchain, see `table.arrange`), drawn from the records of one
    version only (a version is a run hash: the same Rust, driver or run command): the version
    the newest matrix run asked about (`latest`, see `read_latest`), else the one of its newest
    record. Records that asked another question of a cell (`question`: another build profile,
    runs per cell, a stable-ABI build) get grids of their own, and interpreters that share a
    column label get columns of their own (`_columns`): one cell never mixes two of them.
    Records of another version are never mixed in; the grid counts them as left out."""
    by_scenario: dict[str, list[Record]] = {}
    for record in sorted(records.all_records(layout), key=lambda r: r.created):
        by_scenario.setdefault(record.scenario, []).append(record)
    about = {s.name: s for s in known}
    asked = latest if latest is not None else read_latest(layout)
    grids = []
    for name in sorted(by_scenario):
        found = by_scenario[name]
        versions = {r.scenario_hash for r in found}
        current = asked.get(name) if asked.get(name) in versions else found[-1].scenario_hash
        drawn_from = [r for r in found if r.scenario_hash == current]
        scenario = about.get(name)
        left_out = sum(r.scenario_hash != current for r in found)
        for words, asking in _by_question(drawn_from):
            column = _columns(asking)
            cells: dict[tuple[str, str, str], Record] = {}
            for record in asking:
                at = (record.pyo3, record.rust, column(record))
                if at not in cells or _answer_order(record) >= _answer_order(cells[at]):
                    cells[at] = record
            drawn = table.grids_from_records(
                name,
                scenario.description if scenario else "",
                scenario.upstream if scenario else "",
                cells.values(),
                column,
            )
            grids += [
                replace(
                    grid, left_out=left_out, fixed=" · ".join(filter(None, (grid.fixed, words)))
                )
                for grid in drawn
            ]
    return grids


def question(record: Record) -> str:
    """What a record asked of its cell beyond the cell's place (release, toolchain, CPython),
    from its key's inputs, in the options' words ("" for the default): the build profile, the
    runs per cell and a stable-ABI build. A cell outside its release's window is not built, so
    it answers every question alike ("" too, see `_by_question`)."""
    selection = record.selection
    words = ["--release"] if "--release" in selection else []
    if "--repeat" in selection[:-1]:
        words.append(f"--repeat {selection[selection.index('--repeat') + 1]}")
    if record.abi3:
        words.append("stable ABI")
    return " ".join(words)


def _not_built(record: Record) -> bool:
    return record.outcome is Outcome.UNSUPPORTED and record.build is None


def _by_question(found: Sequence[Record]) -> list[tuple[str, list[Record]]]:
    """The records grouped by `question` (default first), each group with the cells outside
    their windows (not built: the same whatever was asked)."""
    built = [r for r in found if not _not_built(r)]
    unbuilt = [r for r in found if _not_built(r)]
    asked = sorted({question(r) for r in built}) or [""]
    return [(words, [r for r in built if question(r) == words] + unbuilt) for words in asked]


def _answer_order(record: Record) -> tuple[bool, str]:
    """Which of two records of one cell and question the table shows: a PyO3 commit's answer
    over a `build-error` of the API it was tried for first (see `Release.retry_after`), else
    the newer."""
    return record.outcome is not Outcome.BUILD_ERROR or not record.revision, record.created


def _columns(found: Sequence[Record]) -> Callable[[Record], str]:
    """Each record's column: its CPython label, with its interpreter's path when two
    interpreters share the label (a pyenv 3.12 and the system's), so neither hides the other."""
    paths: dict[str, set[str]] = {}
    for record in found:
        paths.setdefault(record.python_label, set()).add(record.executable)

    def column(record: Record) -> str:
        label = record.python_label
        if len(paths.get(label, ())) > 1:
            return f"{label} ({record.executable})"
        return label

    return column


def read_latest(layout: Layout) -> dict[str, str]:
    """The run hash of each reproducer the newest matrix run asked about ({} if none)."""
    try:
        data = json.loads(layout.latest_run().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items() if isinstance(v, str)}


def write_latest(layout: Layout, reproducers: Sequence[Reproducer]) -> None:
    """Remember which version of each reproducer this matrix run asked about."""
    known = read_latest(layout)
    known.update({r.name: r.run_hash for r in reproducers})
    write_atomic(layout.latest_run(), json.dumps(known, indent=2, sort_keys=True) + "\n")


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
                    f"- `{md_escape(data['scenario'])}` on {md_escape(search['fixed'])}: "
                    f"{md_escape(search['answer'])}{link}; report `{path.with_suffix('.md').name}`"
                )
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a foreign or half-written file is not evidence
    return lines


def _draw(layout: Layout, grids: Sequence[table.Grid]) -> None:
    """The chart, drawn only when what it shows changed: drawing costs seconds (the plotting
    library's import, two files) and a warm rerun changes nothing."""
    if not grids:  # nothing to draw (a shard with no cells): the last picture stays
        return
    shown = chart.shows(grids)
    files = (layout.report_svg(), layout.report_png(), layout.chart_digest())
    try:
        if all(f.is_file() for f in files) and files[2].read_text(encoding="utf-8") == shown:
            return
    except (OSError, UnicodeDecodeError):
        pass  # unreadable: draw it again
    svg, png = chart.draw(grids)
    write_atomic(layout.report_svg(), svg)
    write_atomic(layout.report_png(), png)
    write_atomic(layout.chart_digest(), shown)


def write(layout: Layout, grids: Sequence[table.Grid], question: str = "") -> Path:
    """`report.md` and the chart (the latest), and with a `question` a copy of the report
    kept under its own name, so a later run about something else does not erase it."""
    found = [r.executable for g in grids for r in g.cells.values()]
    env = markdown.here(logs=layout.logs_dir(), pythons=python_versions(found))
    text = markdown.report_document(grids, bisect_answers(layout, grids), env, layout)
    path = layout.report_markdown()
    write_atomic(path, text)
    _draw(layout, grids)
    if question:
        write_atomic(layout.question_file("report", question), text)
    return path
