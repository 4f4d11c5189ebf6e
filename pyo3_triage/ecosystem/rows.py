"""An ecosystem run as data (pure): a row per project, the two revisions asked about, the
regressions grouped by cause; kept as `results/ecosystem.json`, read back by `merge`.

Shards of one run merge into one; shards that asked about other revisions are refused, since a
table mixing two candidates (or baselines) would answer no question.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from pyo3_triage.ecosystem.verdicts import Verdict
from pyo3_triage.errors import UserError

SCHEMA = 1
EACH_LOCK = "each project's lock"  # the baseline when none is named: the release it pins


@dataclass(frozen=True)
class SideResult:
    """One revision's cell for a project: its outcome and the evidence a reader needs."""

    pyo3: str  # as cargo spells it, or git:abc1234
    outcome: str  # the Outcome's value
    message: str = ""  # the compiler's first error, the exception, the panic message
    log: str = ""  # the build log (or the run log) behind it, by file name
    companions: tuple[tuple[str, str], ...] = ()  # (crate, version) in its build
    cached: bool = False  # taken from a stored record

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SideResult:
        pairs = tuple(tuple(pair) for pair in data.get("companions", ()))
        return cls(**{**data, "companions": pairs})


@dataclass(frozen=True)
class Row:
    """One project of the list and what the candidate did to it."""

    name: str
    version: str  # the project's version (or where it came from)
    verdict: Verdict
    why: str = ""  # in words, for a verdict that needs them (blocked, not tried, ...)
    baseline: SideResult | None = None
    candidate: SideResult | None = None
    accepted: tuple[str, ...] = ()  # companions made to accept a git candidate: "numpy 0.20.0"
    python: str = ""  # the CPython both cells ran on
    # The bisect's options that ask about it again (--crate, --run, --pyo3 BASE..CAND, ...)
    bisect: tuple[str, ...] = ()
    suspects: tuple[tuple[str, str], ...] = ()  # (release, CHANGELOG entry), best first

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["verdict"] = self.verdict.value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Row:
        sides = {
            name: SideResult.from_dict(data[name]) if data.get(name) else None
            for name in ("baseline", "candidate")
        }
        return cls(
            **{
                **data,
                **sides,
                "verdict": Verdict(data["verdict"]),
                "accepted": tuple(data.get("accepted", ())),
                "bisect": tuple(data.get("bisect", ())),
                "suspects": tuple(tuple(pair) for pair in data.get("suspects", ())),
            }
        )

    @property
    def companions(self) -> str:
        """The companion crates of its candidate build (else its baseline's), in words."""
        side = self.candidate or self.baseline
        held = [f"{crate} {vers}" for crate, vers in side.companions] if side else []
        made = " (made to accept the candidate)"
        return ", ".join(f"{c}{made if c in self.accepted else ''}" for c in held)


@dataclass(frozen=True)
class Ecosystem:
    """What was asked (the two revisions) and a row per project."""

    candidate: str  # git:abc1234, 0.21.2
    baseline: str  # a release, or EACH_LOCK
    rows: tuple[Row, ...] = ()
    repo: str = ""  # the --pyo3-git repository, for commit-level bisect commands
    shards: tuple[str, ...] = ()  # "1/3", ... this holds (empty: the whole list)
    schema: int = SCHEMA

    def to_json(self) -> str:
        data = {
            "schema": self.schema,
            "candidate": self.candidate,
            "baseline": self.baseline,
            "repo": self.repo,
            "shards": list(self.shards),
            "projects": [row.as_dict() for row in self.rows],
            "groups": [asdict(found) for found in groups(self)],
        }
        return json.dumps(data, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, where: str) -> Ecosystem:
        try:
            data = json.loads(text)
            if data.get("schema") != SCHEMA:
                raise ValueError(f"schema {data.get('schema')!r}")
            rows = tuple(Row.from_dict(row) for row in data["projects"])
            return cls(
                candidate=str(data["candidate"]),
                baseline=str(data["baseline"]),
                rows=rows,
                repo=str(data.get("repo", "")),
                shards=tuple(data.get("shards", ())),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise UserError(f"{where} is not an ecosystem report this tool wrote ({err})") from None


@dataclass(frozen=True)
class Group:
    """Projects that regress for one cause: the same first compiler error (or check message),
    or the same companion crate; with what a reader needs to chase it."""

    cause: str  # the normalised error, or "numpy 0.20.0"
    projects: tuple[str, ...]
    message: str  # the first project's error or check message, as it was
    suspects: tuple[tuple[str, str], ...] = ()  # (release, CHANGELOG entry), best first
    release_bisect: tuple[str, ...] = ()  # the bisect command per project, release level
    commit_bisect: tuple[str, ...] = ()  # and commit level, when a repository was given


def groups(found: Ecosystem, program: str = "pyo3-triage", limit: int = 8) -> list[Group]:
    """The regressions grouped by cause (see `group`), each with its evidence and commands."""
    result = []
    for cause, members in group(found.rows):
        first = members[0]
        side = first.candidate
        message = first.why if first.verdict is Verdict.BLOCKED else (side.message if side else "")
        suspects = tuple(dict.fromkeys(s for row in members for s in row.suspects))[:limit]
        release = tuple(
            shlex.join([program, "bisect", *row.bisect]) for row in members if row.bisect
        )
        commit = (
            tuple(
                shlex.join([program, "bisect", *row.bisect, "--pyo3-git", found.repo])
                for row in members
                if row.bisect
            )
            if found.repo
            else ()
        )
        names = tuple(row.name for row in members)
        result.append(Group(cause, names, message, suspects, release, commit))
    return result


_LOCATION = re.compile(r"\s*-->\s*\S+:\d+:\d+")
_NUMBERS = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")


def cause_of(row: Row) -> str:
    """What a regressed or blocked row is grouped by: its companion crate, else its
    candidate's first error with locations and numbers taken out (two projects meeting the
    same API change read alike)."""
    if row.verdict is Verdict.BLOCKED:
        words = row.why.split()
        return " ".join(words[:2]) if len(words) >= 2 else row.why
    message = row.candidate.message if row.candidate else ""
    text = _LOCATION.sub("", message)
    for name in {row.name, row.name.replace("-", "_"), row.name.replace("_", "-")}:
        text = text.replace(f"`{name}`", "`the project`")  # "`nh3` asks pyo3 for feature ..."
    text = _NUMBERS.sub("N", text)
    return _SPACES.sub(" ", text).strip() or (row.candidate.outcome if row.candidate else "")


def regressions(rows: Iterable[Row]) -> list[Row]:
    return [row for row in rows if row.verdict in (Verdict.REGRESSED, Verdict.BLOCKED)]


def group(rows: Sequence[Row]) -> list[tuple[str, list[Row]]]:
    """Regressed and blocked rows by cause, the largest group first (then by first name)."""
    found: dict[str, list[Row]] = {}
    for row in regressions(rows):
        found.setdefault(cause_of(row), []).append(row)
    return sorted(found.items(), key=lambda item: (-len(item[1]), item[1][0].name))


def merge(parts: Sequence[tuple[str, Ecosystem]]) -> Ecosystem:
    """Shards of one run as one; shards of different questions are refused in one line."""
    if not parts:
        raise UserError("no ecosystem.json to merge")
    where, first = parts[0]
    for other_where, other in parts[1:]:
        for what in ("candidate", "baseline"):
            mine, theirs = getattr(first, what), getattr(other, what)
            if mine != theirs:
                raise UserError(
                    f"{other_where} asks about {what} {theirs}, {where} about {mine}: "
                    "merge the shards of one ecosystem run only"
                )
    rows: dict[str, Row] = {}
    for _, part in parts:
        for row in part.rows:
            if row.name not in rows or rows[row.name].verdict is Verdict.SETUP_ERROR:
                rows[row.name] = row
    shards = tuple(sorted({s for _, part in parts for s in part.shards}))
    repo = next((part.repo for _, part in parts if part.repo), "")
    return replace(first, rows=tuple(rows.values()), repo=repo, shards=shards)
