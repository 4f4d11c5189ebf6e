"""`results/ecosystem.md`, ready to paste into a PyO3 release issue: one sentence on top, the
table, then the regressions grouped by cause with their evidence, suspects and the commands
that bisect them. Renderers take an `Ecosystem` and return text; they run nothing.
"""

from __future__ import annotations

import re
from collections import Counter

from pyo3_triage.ecosystem.rows import EACH_LOCK, Ecosystem, Row, groups
from pyo3_triage.ecosystem.verdicts import Verdict
from pyo3_triage.reporting.markdown import clip, md_escape

MAX_SHOWN = 6  # names in the headline before "and N more"


def _against(found: Ecosystem) -> str:
    return "the release each project pins" if found.baseline == EACH_LOCK else found.baseline


def _names(rows: list[Row]) -> str:
    names = [row.name for row in rows]
    shown = ", ".join(names[:MAX_SHOWN])
    return shown + (f" and {len(names) - MAX_SHOWN} more" if len(names) > MAX_SHOWN else "")


def headline(found: Ecosystem) -> str:
    """ "3 of 14 projects regress on git:abc1234 against 0.30.1: a, b, c", and what else the
    reader must know at once (blocked, fixed, not tried, to be retried)."""
    rows = list(found.rows)
    by = {verdict: [r for r in rows if r.verdict is verdict] for verdict in Verdict}
    regressed = by[Verdict.REGRESSED]
    noun = "project" if len(rows) == 1 else "projects"
    verb = "regresses" if len(rows) == 1 else "regress"
    text = (
        f"{len(regressed)} of {len(rows)} {noun} {verb} on {found.candidate} "
        f"against {_against(found)}"
    )
    text += f": {_names(regressed)}" if regressed else ""
    extra = []
    for verdict, words in (
        (Verdict.BLOCKED, "blocked by a companion crate"),
        (Verdict.PYO3_ERROR, "where the candidate's PyO3 itself does not compile"),
        (Verdict.FIXED, "fixed"),
        (Verdict.FLAKY, "flaky"),
        (Verdict.NOT_TRIED, "not tried"),
        (Verdict.SETUP_ERROR, "not set up (tried again next run)"),
    ):
        if by[verdict]:
            extra.append(f"{len(by[verdict])} {words} ({_names(by[verdict])})")
    return text + ("; " + "; ".join(extra) if extra else "") + "."


def _outcome(row: Row, side: str) -> str:
    found = getattr(row, side)
    if found is None:
        return "–"
    return f"{found.outcome} ({found.pyo3})"


def table(found: Ecosystem) -> str:
    lines = [
        "| project | version | baseline | candidate | verdict | companions |",
        "|---|---|---|---|---|---|",
    ]
    for row in found.rows:
        verdict = row.verdict.value + (f": {row.why}" if row.why else "")
        cells = (
            row.name,
            row.version,
            _outcome(row, "baseline"),
            _outcome(row, "candidate"),
            verdict,
            row.companions or "–",
        )
        lines.append("| " + " | ".join(md_escape(clip(c, 300)) for c in cells) + " |")
    return "\n".join(lines)


def markdown(found: Ecosystem, command: str = "") -> str:
    """The whole report."""
    parts = [
        f"# Ecosystem: {found.candidate} against {_against(found)}",
        headline(found),
        table(found),
    ]
    counts = Counter(row.verdict.value for row in found.rows)
    parts.append("Verdicts: " + ", ".join(f"{n} {v}" for v, n in sorted(counts.items())) + ".")
    found_groups = groups(found)
    if found_groups:
        parts.append("## Regressions by cause")
    for number, cause in enumerate(found_groups, 1):
        section = [f"### {number}. {', '.join(cause.projects)}"]
        if cause.message:
            section.append(_fenced(clip(cause.message.strip(), 2000)))
        if cause.suspects:
            section.append(
                "Likely suspects (CHANGELOG entries sharing words with the projects and the "
                "error):\n" + "\n".join(f"- {v}: {e.removeprefix('- ')}" for v, e in cause.suspects)
            )
        if cause.release_bisect:
            section.append(
                "Bisect it (release level):\n" + _fenced("\n".join(cause.release_bisect))
            )
        if cause.commit_bisect:
            section.append(
                "Down to the pull request (commit level):\n"
                + _fenced("\n".join(cause.commit_bisect))
            )
        parts.append("\n\n".join(section))
    if found.shards:
        parts.append(f"Merged from shards {', '.join(found.shards)}.")
    if command:
        parts.append(f"Asked with: `{command}`")
    return "\n\n".join(parts) + "\n"


def progress_line(index: int, total: int, row: Row) -> str:
    """One terminal line per project as it finishes."""
    sides = " -> ".join(
        _outcome(row, side) for side in ("baseline", "candidate") if getattr(row, side)
    )
    why = f" ({row.why})" if row.why else ""
    return f"[{index}/{total}] {row.name} {row.version}: {sides + ': ' if sides else ''}{row.verdict.value}{why}"


def _fenced(text: str) -> str:
    """A code block nothing inside can close: its fence is longer than any backtick run."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{text}\n{fence}"
