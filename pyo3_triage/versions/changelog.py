"""CHANGELOG entries of the releases inside a bisect boundary, read offline.

Every published pyo3 crate ships its CHANGELOG.md, and after a build cargo keeps the crate
source under `$CARGO_HOME/registry/src/<index>/pyo3-X/`, so the text for every release up to
X is on disk without any network. Entries that share telling words with what the cells said
(the compiler's error, the driver's error, the panic message) and with the reproducer's code
are listed first as likely suspects.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

_HEADING = re.compile(r"^## \[(?P<version>[^\]]+)\]")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{3,}")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_QUOTED = re.compile(r"`([^`\n]+)`")
QUOTED_WEIGHT = 3.0  # an identifier an error quotes says more than a word of the code
_COMMON = {
    "self",
    "pyo3",
    "python",
    "fn",
    "impl",
    "struct",
    "none",
    "some",
    "with",
    "from",
    "this",
    "that",
    "when",
    "into",
    "true",
    "false",
    "return",
    "pyresult",
    "result",
    "error",
    "thread",
    "panicked",
    "failed",
    "assertion",
    "left",
    "right",
    "other",
    "call",
    "calls",
    "pymethods",
    "pyclass",
    "pymodule",
    "new",
    "use",
}


@dataclass(frozen=True)
class Section:
    version: str
    lines: tuple[str, ...]


def cargo_home() -> Path:
    return Path(os.environ.get("CARGO_HOME") or Path.home() / ".cargo")


def find(version: str, home: Path | None = None) -> Path | None:
    """The CHANGELOG.md of the downloaded pyo3 crate `version`, if cargo has it."""
    for source in sorted((home or cargo_home()).glob("registry/src/*/")):
        candidate = source / f"pyo3-{version}" / "CHANGELOG.md"
        if candidate.is_file():
            return candidate
    return None


def texts(versions: Iterable[str], home: Path | None = None) -> dict[str, str]:
    """PyO3's CHANGELOG as shipped in each of `versions` that cargo downloaded, by version."""
    found = {}
    for version in versions:
        if (path := find(version, home)) is not None:
            found[version] = path.read_text(encoding="utf-8", errors="replace")
    return found


def sections(text: str) -> list[Section]:
    found: list[Section] = []
    current: str | None = None
    lines: list[str] = []
    for line in text.splitlines():
        match = _HEADING.match(line)
        if match:
            if current is not None:
                found.append(Section(current, tuple(lines)))
            current, lines = match["version"], []
        elif current is not None:
            lines.append(line)
    if current is not None:
        found.append(Section(current, tuple(lines)))
    return found


def between(text: str, last_old: str, first_new: str) -> list[Section]:
    """Sections of releases in (last_old, first_new], newest first as in the file."""
    try:
        low, high = Version(last_old), Version(first_new)
    except InvalidVersion:
        return []
    chosen = []
    for section in sections(text):
        try:
            version = Version(section.version)
        except InvalidVersion:
            continue  # "Unreleased"
        if low < version <= high:
            chosen.append(section)
    return chosen


def keywords(texts: Iterable[str], quoted: Iterable[str] = ()) -> dict[str, float]:
    """What the cells and the reproducer said, as words to look for, each with a weight: the
    identifiers an error quotes (`detach`, `PyAnyMethods::downcast`) weigh most, then every
    other word of a message or of the reproducer's code."""
    words: dict[str, float] = {}
    for text in texts:
        for word in _WORD.findall(text):
            lowered = word.lower().strip("_")
            if len(lowered) > 3 and lowered not in _COMMON:
                words[lowered] = max(words.get(lowered, 0.0), 1.0)
    for text in quoted:
        for inside in _QUOTED.findall(text):
            for word in _IDENT.findall(inside):
                lowered = word.lower().strip("_")
                if len(lowered) >= 3 and lowered not in _COMMON:
                    words[lowered] = QUOTED_WEIGHT
    return words


def _entry_words(entry: str) -> set[str]:
    return {w.lower().strip("_") for w in _IDENT.findall(entry)}


def suspects(
    chosen: Iterable[Section],
    words: Mapping[str, float],
    corpus: Iterable[Section] = (),
    limit: int = 8,
) -> list[tuple[str, str]]:
    """(release, entry) pairs of the boundary's releases that share the most telling words
    with what the cells said, best first. A word counts by its weight and by how rare it is
    in the whole CHANGELOG (`corpus`): `detach` in one entry of hundreds outranks `python`."""
    entries = [line.strip() for s in corpus for line in s.lines if line.strip().startswith("- ")]
    seen: Counter[str] = Counter(w for e in entries for w in _entry_words(e))
    total = max(len(entries), 1)
    scored = []
    for order, section in enumerate(chosen):
        for line in section.lines:
            entry = line.strip()
            if not entry.startswith("- "):
                continue
            hits = _entry_words(entry) & set(words)
            score = sum(words[w] * math.log((1 + total) / (1 + seen[w])) + 0.01 for w in hits)
            if hits:
                scored.append((-score, order, section.version, entry))
    scored.sort(key=lambda item: item[:2])
    return [(version, entry) for _, _, version, entry in scored[:limit]]
