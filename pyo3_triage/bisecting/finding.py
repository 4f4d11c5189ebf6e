"""A bisect's finding in one plain sentence, for the top of its report: "was fixed in PyO3
0.21.0 on every CPython tried (3.11.7, 3.12.1): abort -> pass (pull request #3689)".

Derived from the searches alone (a pure function): searches that found the same thing are
said once, with where they ran; the others follow in the order they were made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pyo3_triage.bisecting.bisection import Search
from pyo3_triage.bisecting.commits import CommitSearch
from pyo3_triage.outcome import Outcome
from pyo3_triage.store.records import Record

AXES = {"pyo3": "PyO3", "python": "CPython", "rust": "Rust"}  # what a search's labels are


def predicate(searches: Sequence[Search], refined: Mapping[str, CommitSearch] | None = None) -> str:
    """What the searches found, as the predicate of a sentence about the reproducer ("" when
    there was no search)."""
    groups: dict[tuple[str, str], list[Search]] = {}
    for search in searches:
        groups.setdefault(_found(search, (refined or {}).get(search.fixed)), []).append(search)
    return "; ".join(
        f"{head}{_where(group, len(searches))}{tail}" for (head, tail), group in groups.items()
    )


def sentence(
    name: str, searches: Sequence[Search], refined: Mapping[str, CommitSearch] | None = None
) -> str:
    """The finding as a plain sentence whose subject is the reproducer."""
    said = predicate(searches, refined)
    return f"{name} {said}." if said else ""


def _found(search: Search, commits: CommitSearch | None) -> tuple[str, str]:
    """What one search found, split around where it ran: ("was fixed in PyO3 0.21.0",
    ": abort -> pass (pull request #3689)")."""
    result, noun = search.result, AXES.get(search.axis, search.axis)
    old, new = search.probe_for(result.last_old), search.probe_for(result.first_new)
    ends = [p for p in (search.probes[:1] + search.probes[-1:]) if p] if search.probes else []
    if result.kind == "no-change":
        words = list(dict.fromkeys(_word(p.record) for p in ends)) or ["?"]
        alike = f"{words[0]} at both ends" if len(words) == 1 else " and ".join(words)
        return "did not change", f" ({alike})"
    if result.kind in ("bad-start", "bad-end"):
        end = "start" if result.kind == "bad-start" else "end"
        at = ends[0] if end == "start" and ends else ends[-1] if ends else None
        return "could not be searched", f" (the {end} is {at.record.outcome.value})" if at else ""
    if result.kind == "flaky-stop" or old is None or new is None:
        return "stopped at a flaky probe", ""
    change = f": {_word(old.record)} -> {_word(new.record)}"
    if result.kind == "ambiguous":
        head = f"changed between {noun} {search.shown(old.label)} and {search.shown(new.label)}"
        return head, f"{change} (untestable in between)"
    verb = "changed"
    if old.record.outcome is Outcome.PASS and new.record.outcome is not Outcome.PASS:
        verb = "regressed"
    elif old.record.outcome is not Outcome.PASS and new.record.outcome is Outcome.PASS:
        verb = "was fixed"
    return f"{verb} in {noun} {search.shown(new.label)}", change + _culprit(commits)


def _word(record: Record) -> str:
    return record.outcome.value + (" (flaky)" if record.flaky else "")


def _culprit(found: CommitSearch | None) -> str:
    """The pull request (or commit) the commit-level search named, when it named one."""
    if found is None or found.first_new is None:
        return ""
    pulls = (found.culprit,) if found.culprit else found.pulls
    if not pulls:
        return f" (commit {found.first_new.short})"
    numbers = ", ".join(f"#{pull.number}" for pull in pulls)
    return f" (pull request{'s' if len(pulls) > 1 else ''} {numbers})"


def _where(group: Sequence[Search], total: int) -> str:
    """Where a finding holds: " on CPython 3.11.7", " on every CPython tried (3.11.7,
    3.12.1)", " for PyO3 0.20.3" (the other axes fix a release)."""
    fixed = [search.fixed for search in group]
    on = " on" if group[0].axis == "pyo3" else " for"
    if len(fixed) == 1 and total == 1:
        return f"{on} {fixed[0]}"
    kinds = {label.split(" ", 1)[0] for label in fixed}
    kind = kinds.pop() if len(kinds) == 1 and all(" " in f for f in fixed) else ""
    versions = [label.split(" ", 1)[1] for label in fixed] if kind else fixed
    if len(group) == total:
        every = {"PyO3": "PyO3 release", "": "interpreter"}.get(kind, kind)
        return f"{on} every {every} tried ({', '.join(versions)})"
    listed = ", ".join(versions[:-1]) + f" and {versions[-1]}" if len(versions) > 1 else versions[0]
    return f"{on} {kind} {listed}" if kind else f"{on} {listed}"
