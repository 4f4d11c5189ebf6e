"""An ecosystem run: each project of the list, its source had and its two cells (baseline and
candidate) evaluated by the one `cells.Evaluator` the matrix and bisect use, then a row.

Baseline cells are records like any other, so a second candidate against the same baseline
reuses them; a project that cannot be tried is a row that says why and never stops the others.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from packaging.version import InvalidVersion, Version

from pyo3_triage.building import locks
from pyo3_triage.cells import Cell, Evaluate
from pyo3_triage.ecosystem import sources
from pyo3_triage.ecosystem.projects import Project, run_words
from pyo3_triage.ecosystem.rows import Row, SideResult
from pyo3_triage.ecosystem.verdicts import Judgement, Side, Verdict, judge
from pyo3_triage.errors import UserError
from pyo3_triage.interpreters import Interpreter
from pyo3_triage.outcome import Outcome
from pyo3_triage.reproducers import accepting, manifests, usercrate
from pyo3_triage.reproducers.reproducer import Reproducer
from pyo3_triage.reproducers.scenarios import DEFAULT_TIMEOUT
from pyo3_triage.reproducers.usercrate import UserCrate
from pyo3_triage.store.records import Record
from pyo3_triage.system.paths import Layout
from pyo3_triage.toolchains import RustChoice
from pyo3_triage.versions import changelog, support
from pyo3_triage.versions.releases import Release
from pyo3_triage.versions.revisions import Commit

Notify = Callable[[str], None]


@dataclass(frozen=True)
class Ready:
    """A project with its crate loaded and its baseline known, ready for its two cells."""

    project: Project
    crate: UserCrate
    baseline: Release
    folder: Path  # the project's (unpacked) folder
    rust: RustChoice | None = None  # the project's own `rust`, else the toolchain on PATH


@dataclass(frozen=True)
class Untried:
    """A project that cannot be tried: the row that says why."""

    row: Row


def slice_of(items: Sequence[Project], index: int, count: int) -> list[Project]:
    """Shard `index` (1-based) of `count`: contiguous, sizes within one (as `cells.shard`)."""
    start = (index - 1) * len(items) // count
    return list(items[start : index * len(items) // count])


def source_folder(layout: Layout, project: Project, *, download: bool = True) -> Path | None:
    """The project's folder: its own, or its sdist unpacked (downloaded from PyPI first when
    `download`; else None when the sdist is not cached). `sources.SourceError` says why not."""
    if project.path is not None:
        if not project.path.is_dir():
            raise sources.SourceError(f"folder {project.path} does not exist")
        return project.path
    if project.sdist is not None:
        if not project.sdist.is_file():
            raise sources.SourceError(f"sdist {project.sdist} does not exist")
        return sources.unpack(layout, project.sdist)
    archive = sources.cached_sdist(layout, project.name, project.version)
    if archive is None:
        if not download:
            return None
        archive = sources.download(layout, project.name, project.version)
    return sources.unpack(layout, archive)


def check_command(project: Project, folder: Path, list_folder: Path) -> str:
    """The project's check with its paths read from the list's folder; by default the import
    of its extension module. UserError when a script it names does not exist."""
    if not project.run:
        module = manifests.find(folder).module
        return shlex.join(["python", "-c", f"import {module}"])
    words = run_words(project.run, list_folder)
    for name in usercrate.named_files(words):
        if not Path(name).is_absolute():
            raise UserError(f"the check {name} does not exist in {list_folder}")
    return shlex.join(words)


def load_crate(project: Project, folder: Path, list_folder: Path) -> UserCrate:
    """The project as a user crate; UserError (a row) when it is not a maturin project or its
    check does not exist."""
    run = check_command(project, folder, list_folder)
    crate = usercrate.load(
        str(folder), run, project.timeout or DEFAULT_TIMEOUT, project.extra or None
    )
    return replace(crate, requirements=crate.requirements + project.with_, with_=project.with_)


def pinned_pyo3(project: manifests.Project) -> str | None:
    """The pyo3 release the project's own Cargo.lock holds, or None."""
    lock = project.root / project.lock_dir / "Cargo.lock"
    try:
        held = locks.pyo3_crates(lock.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    found = held.get("pyo3", "").split(",")[0]
    return found or None


def pick_interpreter(
    crate: Reproducer, releases: Sequence[Release], found: Sequence[Interpreter]
) -> Interpreter | None:
    """The newest CPython (a release build) that both releases declare and the project
    accepts, from `found` (already narrowed by --python or the project's own `python`)."""
    usable = [
        interp
        for interp in found
        if interp.build == "cpython"
        and crate.excludes(interp.version) is None
        and all(support.declares(r.version, interp.version) for r in releases)
    ]
    return max(usable, key=lambda i: i.version, default=None)


def side(record: Record, crate: UserCrate, release: Release, cached: bool) -> SideResult:
    companions = record.lock.companions if record.lock and record.lock.companions else ()
    if not companions:
        companions = crate.companions_for(release.version).versions
    built = record.outcome in (Outcome.BUILD_ERROR, Outcome.PYO3_ERROR, Outcome.SETUP_ERROR)
    log = record.build.log if record.build and built else ""
    failed = next((run for run in record.runs if run.outcome.value != "pass"), None)
    log = log or (failed.log or "" if failed is not None else "")
    return SideResult(
        pyo3=record.pyo3,
        outcome=record.outcome.value,
        message=record.message or "",
        log=Path(log).name if log else "",
        companions=tuple(companions),
        cached=cached,
    )


def judged(base: Record, cand: Record, base_side: SideResult, cand_side: SideResult) -> Judgement:
    return judge(
        Side(base.outcome, base.flaky, base.note, base_side.companions),
        Side(cand.outcome, cand.flaky, cand.note, cand_side.companions),
    )


def bisect_end(candidate: Release) -> str:
    """The release a bisect's range ends at: the candidate, or for a commit the release
    whose API it speaks last (its next tag)."""
    if isinstance(candidate, Commit):
        return str(candidate.next_era or candidate.version)
    return candidate.cargo_version


def bisect_args(
    crate: UserCrate, baseline: Release, candidate: Release, python: str, rust: str = ""
) -> tuple[str, ...]:
    low, high = baseline.cargo_version, bisect_end(candidate)
    try:
        if Version(low) >= Version(high):
            low, high = high, low  # a fix bisects the other way round
    except InvalidVersion:
        pass
    toolchain = ("--rust", rust) if rust else ()
    return (*crate.selector(), "--pyo3", f"{low}..{high}", "--python", python, *toolchain)


def suspects_for(
    text: str, low: str, high: str, crate: UserCrate, said: Sequence[str]
) -> tuple[tuple[str, str], ...]:
    """CHANGELOG entries of the releases in (low, high] ranked as the bisect ranks them."""
    chosen = changelog.between(text, low, high)
    if not chosen:
        return ()
    words = changelog.keywords([crate.source_text, crate.description], said)
    return tuple(changelog.suspects(chosen, words, changelog.sections(text)))


def changelog_text(candidate: Release) -> str:
    """PyO3's CHANGELOG for the candidate: the released crate's (cargo downloaded it to build),
    or a commit's own, with its unreleased news fragments as a section of the next release."""
    if isinstance(candidate, Commit) and candidate.source is not None:
        return accepting.commit_changelog(candidate.source, bisect_end(candidate))
    return changelog.texts([candidate.cargo_version]).get(candidate.cargo_version, "")


def evaluate(
    ready: Ready,
    candidate: Release,
    interp: Interpreter,
    evaluator: Evaluate,
    texts: dict[str, str],
) -> Row:
    """The project's two cells and its row."""
    crate = ready.crate
    records = []
    for release in (ready.baseline, candidate):
        record, cached = evaluator.evaluate(Cell(crate, release, interp, ready.rust))
        records.append((record, cached, release))
    (base, base_cached, _), (cand, cand_cached, cand_release) = records
    base_side = side(base, crate, ready.baseline, base_cached)
    cand_side = side(cand, crate, cand_release, cand_cached)
    verdict = judged(base, cand, base_side, cand_side)
    accepted: tuple[str, ...] = ()
    if isinstance(cand_release, Commit) and cand_release.source is not None:
        chosen = crate.companions_for(cand_release.version)
        accepted = tuple(
            f"{name} {vers}"
            for name, vers in accepting.to_patch(crate.companions, chosen, cand_release.source)
        )
    python = str(interp.version)
    found = Row(
        name=ready.project.name,
        version=ready.project.version or ready.project.source,
        verdict=verdict.verdict,
        why=verdict.why,
        baseline=base_side,
        candidate=cand_side,
        accepted=accepted,
        python=python,
        bisect=bisect_args(crate, ready.baseline, candidate, python, ready.project.rust),
    )
    if verdict.verdict in (Verdict.REGRESSED, Verdict.BLOCKED):
        key = candidate.cargo_version
        if key not in texts:
            texts[key] = changelog_text(candidate)
        said = [cand_side.message, verdict.why]
        low = ready.baseline.cargo_version
        found = replace(
            found, suspects=suspects_for(texts[key], low, bisect_end(candidate), crate, said)
        )
    return found


def untried(project: Project, verdict: Verdict, why: str) -> Untried:
    return Untried(Row(project.name, project.version or project.source, verdict, why))
