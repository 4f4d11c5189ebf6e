"""The bisect report: the answer, a compare link, CHANGELOG suspects, every probe, and the
environment and reproduce command in `<details>`; Markdown for the issue, JSON beside it."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pyo3_triage.bisecting import finding
from pyo3_triage.bisecting.bisection import Probe, Search, answer
from pyo3_triage.bisecting.commits import CommitSearch
from pyo3_triage.matching import said
from pyo3_triage.outcome import Outcome
from pyo3_triage.reporting.markdown import (
    Environment,
    details,
    environment,
    html_escape_outside_code,
    md_code,
    md_escape,
)
from pyo3_triage.reproducers.reproducer import Reproducer
from pyo3_triage.store.records import reproduce_command
from pyo3_triage.versions import changelog

COMPARE = "https://github.com/PyO3/pyo3/compare/v{old}...v{new}"
RUST_NOTES = "https://github.com/rust-lang/rust/releases/tag/{version}"
MAX_CHANGELOG_LINES = 120


def compare_link(search: Search) -> str | None:
    """PyO3's compare view between the answer's releases, or the release notes of the first
    Rust that behaved the new way."""
    old, new = search.label_at(search.result.last_old), search.label_at(search.result.first_new)
    if old is None or new is None:
        return None
    if search.axis == "rust":
        probe = search.probe_for(search.result.first_new)
        rustc = probe.record.toolchain.rustc.split() if probe else []
        return RUST_NOTES.format(version=rustc[1]) if len(rustc) > 1 else None
    return COMPARE.format(old=old, new=new) if search.axis == "pyo3" else None


def first_new_releases(searches: Sequence[Search]) -> list[str]:
    """The first-new release of each search over releases: whose CHANGELOG the report quotes
    (the caller reads them, `changelog.texts`)."""
    found = (s.label_at(s.result.first_new) for s in searches if s.axis == "pyo3")
    return [label for label in found if label is not None]


def _changelog(
    search: Search, scenario: Reproducer, texts: Mapping[str, str]
) -> tuple[list[changelog.Section], list[tuple[str, str]]]:
    old, new = search.label_at(search.result.last_old), search.label_at(search.result.first_new)
    if search.axis != "pyo3" or old is None or new is None or new not in texts:
        return [], []
    chosen = changelog.between(texts[new], old, new)
    said = [
        p.record.message or ""
        for p in search.probes
        if p.record.outcome is not Outcome.PASS and p.matched is not False  # not another crash
    ]
    words = changelog.keywords([scenario.source_text, scenario.description], said)
    corpus = changelog.sections(texts[new])
    return chosen, changelog.suspects(chosen, words, corpus)


def _upstream(line: str) -> str:
    """PyO3's own CHANGELOG Markdown, kept as Markdown (links work) but without raw HTML, and
    with its headings turned into bold lines so they do not outrank the report's."""
    line = html_escape_outside_code(line)
    if line.startswith("#"):
        return f"**{line.lstrip('#').strip()}**"
    return line


def markdown(
    scenario: Reproducer,
    searches: Sequence[Search],
    env: Environment,
    results: Path,
    changelogs: Mapping[str, str],
    refined: Mapping[str, CommitSearch] | None = None,
) -> str:
    """The report from data alone: `changelogs` are CHANGELOG texts by release
    (`changelog.texts`), `env` the machine's facts (`markdown.here`)."""
    parts = [f"## Bisect: `{scenario.name}`"]
    if said := finding.predicate(searches, refined):
        parts.append(f"`{scenario.name}` {md_escape(said)}.")
    if scenario.description:
        parts.append(md_escape(scenario.description))
    if len(searches) > 1:
        rows = ["| | last old | first new | answer |", "|---|---|---|---|"]
        for search in searches:
            r = search.result
            rows.append(
                f"| {md_escape(search.fixed)} | {md_escape(search.label_at(r.last_old) or '–')} | "
                f"{md_escape(search.label_at(r.first_new) or '–')} | {md_escape(answer(search))} |"
            )
        parts.append("\n".join(rows))
    for search in searches:
        parts.append(_section(scenario, search, results, changelogs))
        if refined and search.fixed in refined:
            parts.append(commit_section(refined[search.fixed], results, search.match))
    probed = [p.record for s in searches for p in s.probes]
    probed += [p.record for c in (refined or {}).values() for p in (*c.probes, *c.batch_probes)]
    parts.append(environment(probed, env))
    return "\n\n".join(parts) + "\n"


def _section(
    scenario: Reproducer, search: Search, results: Path, changelogs: Mapping[str, str]
) -> str:
    """One search's part of the report: the answer, what was searched, the CHANGELOG, every
    probe and the evidence beside the answer."""
    out = [f"### {md_escape(search.fixed)}: {md_escape(answer(search))}", _searched(search)]
    link = compare_link(search)
    if link:
        out.append(f"{'Release notes' if search.axis == 'rust' else 'Compare'}: {link}")
    if yanked := _yanked_line(search):
        out.append(yanked)
    if moved := companions_line(search):
        out.append(moved)
    out.extend(_changelog_parts(search, scenario, changelogs))
    out.append(_probes_table(search))
    if matched := match_lines(search.match, search.probes, search.shown):
        out.append(matched)
    if search.excluded:
        out.append(
            "Not searched (outside their declared CPython or Rust window): "
            f"{', '.join(search.excluded)}."
        )
    if evidence := _evidence(search, results):
        out.append(evidence)
    return "\n\n".join(out)


def _searched(search: Search) -> str:
    """The searched range, and for a reversed search why it looked for a change away."""
    searched = f"Searched {md_escape(search.shown(search.labels[0]))} .. {md_escape(search.shown(search.labels[-1]))} ({len(search.labels)} candidates)."
    if search.reversed:
        searched += (
            f" The start {md_escape(search.probes[0].label)} already showed an outcome `--new` names, "
            "so the search looked for where it goes away."
        )
    return searched


def _yanked_line(search: Search) -> str:
    """Which side(s) of the answer are yanked releases, else ""."""
    yanked_in_answer = [
        label
        for label in (
            search.label_at(search.result.last_old),
            search.label_at(search.result.first_new),
        )
        if label in search.yanked
    ]
    if not yanked_in_answer:
        return ""
    return f"Yanked on crates.io: {', '.join(yanked_in_answer)} (built from a pinned lockfile)."


def _changelog_parts(
    search: Search, scenario: Reproducer, changelogs: Mapping[str, str]
) -> list[str]:
    """The likely suspects and the boundary's CHANGELOG (cut at MAX_CHANGELOG_LINES), when
    there are any."""
    parts = []
    chosen, suspects = _changelog(search, scenario, changelogs)
    if suspects:
        parts.append(
            "Likely suspects (CHANGELOG entries sharing words with the scenario):\n"
            + "\n".join(f"- {v}: {_upstream(e.removeprefix('- '))}" for v, e in suspects)
        )
    if chosen:
        lines: list[str] = []
        for section in chosen:
            lines.append(f"**{section.version}**")
            lines.extend(_upstream(line) for line in section.lines)
        cut = len(lines) > MAX_CHANGELOG_LINES
        body = "\n".join(lines[:MAX_CHANGELOG_LINES])
        if cut:
            body += f"\n\n(cut at {MAX_CHANGELOG_LINES} lines; the full text is in the pyo3 crate's CHANGELOG.md)"
        parts.append(details("CHANGELOG of the releases in the boundary", body))
    return parts


def _probes_table(search: Search) -> str:
    """Every probe in the order made: outcome, verdict, time and whether it was built."""
    rows = ["| # | candidate | outcome | verdict | time | how |", "|---|---|---|---|---|---|"]
    for number, probe in enumerate(search.probes, 1):
        how = probe.how
        took = (probe.record.build.duration if probe.record.build else 0.0) + sum(
            r.duration for r in probe.record.runs
        )
        rows.append(
            f"| {number} | {md_escape(search.shown(probe.label))} | {md_escape(probe.record.outcome_word)} | "
            f"{_verdict(probe)} | {took:.1f}s | {how} |"
        )
    return (
        f"Probes: {len(search.probes)} of {len(search.labels)} candidates, "
        f"{search.builds} build(s) done.\n\n" + "\n".join(rows)
    )


def _verdict(probe: Probe) -> str:
    """A probe's verdict, with whether --match found its regex when that was asked."""
    return probe.verdict.value + {True: " (matched)", False: " (no match)", None: ""}[probe.matched]


def match_lines(match: str, probes: Sequence[Probe], shown: Callable[[str], str] = str) -> str:
    """With --match: which probes matched and which failed otherwise and were stepped around
    (never taken for the change), each with what it said; else ""."""
    if not match:
        return ""
    hits = [shown(p.label) for p in probes if p.matched]
    missed = [
        f"{shown(p.label)} ({p.record.outcome.value}: {said(p.record) or 'no message'})"
        for p in probes
        if p.matched is False
    ]
    lines = [
        f"Matched --match {md_escape(repr(match))} (in the panic message, exception, compile error or "
        f"stderr): {md_escape(', '.join(hits)) if hits else 'none'}."
    ]
    if missed:
        lines.append(
            f"Stepped around (an outcome --new names, but it did not match): "
            f"{md_escape('; '.join(missed))}."
        )
    return "\n\n".join(lines)


def _evidence(search: Search, results: Path) -> str:
    """The message of the probe whose evidence belongs next to the answer and the command
    that reproduces its cell, else ""."""
    evidence = _evidence_probe(search)
    if evidence is None:
        return ""
    record = evidence.record
    kind = {True: "Panic / crash", False: "Evidence"}[
        record.outcome.crashed or bool(record.panic_message)
    ]
    if record.outcome in (Outcome.BUILD_ERROR, Outcome.PYO3_ERROR):
        kind = "Compile error"
    said = [f"{kind} on {md_escape(search.shown(evidence.label))} ({record.outcome.value}):"]
    if record.message:
        said.append(md_code(record.message))
    said.append(f"Reproduce that cell: `{reproduce_command(record, results)}`")
    return "\n\n".join(said)


def companions_line(search: Search) -> str:
    """When the two sides of the answer were built with other versions of the project's
    companion crates, say which: the change may be the companion's, not PyO3's."""
    sides = [search.probe_for(search.result.last_old), search.probe_for(search.result.first_new)]
    used = [dict(p.record.lock.companions) if p and p.record.lock else {} for p in sides]
    old, new = used
    moved = sorted(name for name in {*old, *new} if old.get(name) != new.get(name))
    if not moved or None in sides:
        return ""
    pairs = ", ".join(f"{name} {old.get(name, '-')} -> {new.get(name, '-')}" for name in moved)
    return (
        f"Companion crates moved with the release: {md_escape(pairs)}. The change may be "
        "theirs, not PyO3's."
    )


def _evidence_probe(search: Search) -> Probe | None:
    """The probe whose evidence belongs next to the answer: the non-passing side of the
    boundary (first new for a regression, last old for a fix), a crash before anything else."""
    boundary = [search.probe_for(search.result.first_new), search.probe_for(search.result.last_old)]
    sides = [p for p in boundary if p is not None and p.record.outcome is not Outcome.PASS]
    crashing = [
        p
        for p in search.probes
        if (p.record.outcome.crashed or p.record.panic_message) and p.matched is not False
    ]
    near = [p for p in sides if p in crashing] or sides or crashing
    return near[0] if near else None


def as_json(
    scenario: Reproducer,
    searches: Sequence[Search],
    argv: Sequence[str],
    refined: Mapping[str, CommitSearch] | None = None,
) -> str:
    """The report's data as JSON, enough to render it again without rerunning."""
    data = {
        "scenario": scenario.name,
        "scenario_hash": scenario.run_hash,  # which version of the reproducer was asked about
        "argv": list(argv),
        "searches": [_search_json(s, (refined or {}).get(s.fixed)) for s in searches],
    }
    return json.dumps(data, indent=2) + "\n"


def _search_json(search: Search, found: CommitSearch | None) -> dict[str, Any]:
    """One search and, when it went on to commits, the commit-level answer."""
    r = search.result
    return {
        "axis": search.axis,
        "fixed": search.fixed,
        "kind": r.kind,
        "answer": answer(search),
        "last_old": search.label_at(r.last_old),
        "first_new": search.label_at(r.first_new),
        "skipped_between": [search.labels[i] for i in r.skipped_between],
        "compare": compare_link(search),
        "candidates": list(search.labels),
        "yanked": sorted(search.yanked),
        "excluded": list(search.excluded),
        "reversed": search.reversed,
        "match": search.match or None,
        "builds": search.builds,
        "commit_level": None if found is None else _commits_json(found),
        "probes": [
            {
                "candidate": p.label,
                "outcome": p.record.outcome.value,
                "verdict": p.verdict.value,
                **({"matched": p.matched} if p.matched is not None else {}),
                "record": p.record.key,
                "reused": p.reused,
                "built": p.built,
            }
            for p in search.probes
        ],
    }


def _commits_json(found: CommitSearch) -> dict[str, Any]:
    """The commit-level answer: the window, the first new commit and its pull requests, and
    every commit probe (batch heads last)."""
    return {
        "window": [found.line[0], found.line[-1]] if found.line else [],
        "commits": len(found.line),
        "stopped": found.stopped,
        "first_new": found.first_new.sha if found.first_new else None,
        "last_old": found.last_old.sha if found.last_old else None,
        "subject": found.first_new.subject if found.first_new else None,
        "date": found.first_new.date if found.first_new else None,
        "pulls": [{"number": p.number, "title": p.title} for p in found.pulls],
        "culprit": found.culprit.number if found.culprit else None,
        "compare": found.compare_link(),
        "builds": found.builds,
        "bound": found.bound,
        "probes": [
            {
                "commit": p.record.revision,
                "outcome": p.record.outcome.value,
                "verdict": p.verdict.value,
                **({"matched": p.matched} if p.matched is not None else {}),
                "era": p.record.era,
                "record": p.record.key,
                "reused": p.reused,
                "built": p.built,
            }
            for p in (*found.probes, *found.batch_probes)
        ],
    }


def commit_lines(found: CommitSearch) -> list[str]:
    """The commit-level answer in a few plain lines (terminal)."""
    head = f"commits v{found.old_release} .. v{found.new_release}: {len(found.line)} on the first-parent line"
    if found.stopped:
        return [head, f"stopped at the release answer: {found.stopped}"]
    result = found.result
    if found.first_new is None or result is None:
        kind = result.kind if result else "no search"
        return [head, f"no single commit ({kind}); see the report"]
    commit = found.first_new
    lines = [
        head,
        f"first new commit: {commit.short} {commit.subject!r} ({commit.date[:10]})",
        found.commit_link(commit.sha),
    ]
    for pull in found.pulls:
        mark = " <- this one" if found.culprit == pull else ""
        lines.append(f"pull request #{pull.number}: {pull.title} {pull.link(found.github)}{mark}")
    heads = f" + {len(found.batch_probes)} batch heads" if found.batch_probes else ""
    lines.append(
        f"{len(found.probes)} commit probes{heads}, {found.builds} commit builds (bound without "
        f"untestable commits: {found.bound})"
    )
    return lines


def commit_section(found: CommitSearch, results: Path, match: str = "") -> str:
    """The commit-level answer for the report: commit, pull request(s), links, newsfragment,
    every commit probe (and with --match, which matched)."""
    out = [
        f"#### Commit level: v{md_escape(found.old_release)} .. v{md_escape(found.new_release)} "
        f"({len(found.line)} first-parent commits)"
    ]
    if found.stopped:
        out.append(f"Stopped at the release answer: {md_escape(found.stopped)}.")
    elif found.first_new is not None:
        commit = found.first_new
        out.append(
            f"First new commit: [`{commit.short}`]({found.commit_link(commit.sha)}) "
            f"{md_code(commit.subject)} ({md_escape(commit.date[:10])})"
        )
        for pull in found.pulls:
            mark = (
                " (the one: its own head behaves like the new release)"
                if found.culprit == pull
                else ""
            )
            out.append(
                f"- Pull request [#{pull.number}]({pull.link(found.github)}): {md_escape(pull.title)}{mark}"
            )
        if len(found.pulls) > 1 and found.culprit is None:
            out.append("The batch's own heads did not single one out; all are listed.")
        link = found.compare_link()
        if link:
            out.append(f"Compare: {link}")
        for name, text in found.newsfragments:
            quoted = "\n".join(f"> {html_escape_outside_code(line)}" for line in text.splitlines())
            out.append(f"Changelog fragment `{md_escape(name)}`:\n\n{quoted}")
        if not found.github_known:
            out.append(
                f"(Links assume github.com/{found.github}: the repository names no GitHub remote.)"
            )
    rows = ["| # | commit | era | outcome | verdict | how |", "|---|---|---|---|---|---|"]
    for number, probe in enumerate((*found.probes, *found.batch_probes), 1):
        rows.append(
            f"| {number} | `{md_escape(probe.label)}` | {md_escape(probe.record.era)} | "
            f"{md_escape(probe.record.outcome_word)} | {_verdict(probe)} | {probe.how} |"
        )
    heads = f" + {len(found.batch_probes)} batch heads" if found.batch_probes else ""
    out.append(
        f"Commit probes: {len(found.probes)}{heads}, {found.builds} build(s) "
        f"(bound without untestable commits: {found.bound}).\n\n" + "\n".join(rows)
    )
    if matched := match_lines(match, (*found.probes, *found.batch_probes)):
        out.append(matched)
    return "\n\n".join(out)
