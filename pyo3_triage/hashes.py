"""One way to name content by its hash: every key the cache and the records depend on is made
here, with a length that says what it names.

A length is part of on-disk names and stored keys: changing one renames everything made
before (a key change), so the lengths are named constants, not numbers at each call site.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

TAG = 8  # a short tag inside a longer name: an interpreter's location, requirements, a question
CONTENT = 16  # a reproducer's content, a file tree, a lockfile
BUILD = 20  # a build key
RECORD = 24  # a record key
FULL = 64  # the whole digest


def digest(text: str | bytes, length: int = FULL) -> str:
    """The sha256 of `text` (UTF-8), as `length` hex digits."""
    return digest_chunks([text.encode() if isinstance(text, str) else text], length)


def digest_chunks(chunks: Iterable[bytes], length: int = FULL) -> str:
    """The sha256 of the chunks one after another, read as they come (a file tree's content
    need not fit in memory at once)."""
    hasher = hashlib.sha256()
    for chunk in chunks:
        hasher.update(chunk)
    return hasher.hexdigest()[:length]
