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
# Tiers of a word to look for: what a word says of the change, most first.
QUOTED, SAID, CODE = 3, 2, 1
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


def keywords(code: Iterable[str], said: Iterable[str] = ()) -> dict[str, int]:
    """What to look for, each word with its tier: identifiers an error quotes (`detach`,
    `PyAnyMethods::downcast`) are QUOTED, other words of what the cells said (errors, panic
    messages) SAID, words of the reproducer's code and description CODE."""
    words: dict[str, int] = {}

    def add(word: str, tier: int, shortest: int) -> None:
        lowered = word.lower().strip("_")
        if len(lowered) >= shortest and lowered not in _COMMON:
            words[lowered] = max(words.get(lowered, 0), tier)

    for text in code:
        for word in _WORD.findall(text):
            add(word, CODE, 4)
    for text in said:
        for word in _WORD.findall(text):
            add(word, SAID, 4)
        for inside in _QUOTED.findall(text):
            for word in _IDENT.findall(inside):
                add(word, QUOTED, 3)
    return words


def _entry_words(entry: str) -> set[str]:
    return {w.lower().strip("_") for w in _IDENT.findall(entry)}


def suspects(
    chosen: Iterable[Section],
    words: Mapping[str, int],
    corpus: Iterable[Section] = (),
    limit: int = 8,
) -> list[tuple[str, str]]:
    """(release, entry) pairs of the boundary's releases that share telling words with what
    the cells said, best first. Entries are ordered by the words of the highest tier they
    share (an identifier the compiler quotes before a word of a message, before a word of the
    code, however many of those), then by how rare the shared words are in the whole
    CHANGELOG (`corpus`): `detach` in one entry of hundreds outranks `python`."""
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
            if not hits:
                continue
            score = tuple(
                sum(math.log((1 + total) / (1 + seen[w])) + 0.01 for w in hits if words[w] == tier)
                for tier in (QUOTED, SAID, CODE)
            )
            scored.append((tuple(-x for x in score), order, section.version, entry))
    scored.sort(key=lambda item: item[:2])
    return [(version, entry) for _, _, version, entry in scored[:limit]]
