"""Which pull request(s) a commit on PyO3's main line brought, from its message alone.

Three shapes appear in PyO3's history: a merge commit ("Merge pull request #3689 from
PyO3/unsendable-threadsafe-traverse"), a squash merge from GitHub's merge queue ("add
`Bound::as_unbound` (#3973)"), and a bors batch ("Merge #3168 #3176", one octopus merge whose
body has a "3168: title r=... a=..." paragraph per pull request).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MERGE = re.compile(r"^Merge pull request #(\d+) from \S+")
_BORS = re.compile(r"^Merge((?: #\d+)+)\s*$")
_SQUASH = re.compile(r"\(#(\d+)\)\s*$")
_BORS_TITLE = re.compile(r"^(\d+): (.*?)(?: r=\S+)?(?: a=\S+)?\s*$", re.MULTILINE)


@dataclass(frozen=True)
class PullRequest:
    number: int
    title: str  # from the commit message; "" when it does not say

    def link(self, github: str) -> str:
        return f"https://github.com/{github}/pull/{self.number}"


def pull_requests(subject: str, body: str = "") -> tuple[PullRequest, ...]:
    """The pull requests a commit message names, in the order it names them."""
    if match := _MERGE.match(subject):
        title = next((line.strip() for line in body.splitlines() if line.strip()), "")
        return (PullRequest(int(match[1]), title),)
    if match := _BORS.match(subject):
        titles = {int(n): t.strip() for n, t in _BORS_TITLE.findall(body)}
        numbers = [int(n) for n in re.findall(r"#(\d+)", match[1])]
        return tuple(PullRequest(n, titles.get(n, "")) for n in numbers)
    if match := _SQUASH.search(subject):
        return (PullRequest(int(match[1]), _SQUASH.sub("", subject).strip()),)
    return ()


def is_batch(subject: str) -> bool:
    """A bors batch merged several pull requests in one commit."""
    match = _BORS.match(subject)
    return bool(match) and match is not None and match[1].count("#") > 1
