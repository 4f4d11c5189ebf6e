"""The ecosystem's list of projects (`--projects FILE`, TOML): read and checked whole before
anything is built, so a malformed list is one line and exit 2, never a half-run.

    [[project]]
    name = "rpds-py"                 # PyPI name
    version = "0.18.1"               # exactly one source: version | sdist | path
    run = "python checks/rpds_py.py" # optional; default: import the extension module(s)
    with = ["pytest"]                # optional requirements installed beside it
    extra = "test"                   # optional: the project's extra / dependency group
    timeout = 120                    # optional seconds
    python = "3.11"                  # optional: the CPython for this project

A relative path in `sdist`, `path` or `run` is read from the list file's folder, so a list
and its checks travel together. Pure: `parse` reads text; `load` only reads the file.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from pyo3_triage import toolchains
from pyo3_triage.errors import UserError
from pyo3_triage.tomlcompat import tomllib

SOURCES = ("version", "sdist", "path")
OPTIONAL = ("run", "with", "extra", "timeout", "python", "rust")


@dataclass(frozen=True)
class Project:
    """One project of the list, as written (paths made absolute from the list's folder)."""

    name: str
    version: str = ""  # the sdist of this version on PyPI
    sdist: Path | None = None  # a local sdist
    path: Path | None = None  # a local folder
    run: str = ""  # the check ("" = import the extension module(s) only)
    with_: tuple[str, ...] = ()
    extra: str = ""
    timeout: float | None = None
    python: str = ""
    rust: str = ""  # a Rust toolchain by rustup's name ("nightly"), "" for the one on PATH

    @property
    def source(self) -> str:
        """Where it comes from, in words: "PyPI 0.18.1", "sdist x.tar.gz", "folder x"."""
        if self.version:
            return f"PyPI {self.version}"
        if self.sdist is not None:
            return f"sdist {self.sdist.name}"
        return f"folder {self.path}"


def load(path: Path) -> tuple[Project, ...]:
    """The projects of the list file at `path`; UserError (one line) when it is malformed."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise UserError(f"cannot read the project list {path}: {err.strerror or err}") from None
    return parse(text, path.resolve().parent, str(path))


def parse(text: str, folder: Path, where: str = "the project list") -> tuple[Project, ...]:
    """The projects in `text`, a list whose relative paths are read from `folder`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise UserError(f"{where} is not valid TOML: {err}") from None
    extra_keys = sorted(set(data) - {"project"})
    if extra_keys:
        raise UserError(
            f"{where}: unknown top-level key(s) {', '.join(extra_keys)}; "
            "the list is [[project]] tables only"
        )
    entries = data.get("project")
    if not isinstance(entries, list) or not entries:
        raise UserError(f"{where} has no [[project]] table; see ecosystem/README.md")
    found: list[Project] = []
    seen: set[str] = set()
    for number, entry in enumerate(entries, 1):
        project = _project(entry, folder, f"{where}: project {number}")
        if project.name.lower() in seen:
            raise UserError(f"{where}: project {number} repeats the name {project.name!r}")
        seen.add(project.name.lower())
        found.append(project)
    return tuple(found)


def _project(entry: Any, folder: Path, where: str) -> Project:
    if not isinstance(entry, Mapping):
        raise UserError(f"{where} is not a table")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise UserError(f'{where} has no name (name = "the PyPI name")')
    where = f"{where} ({name})"
    unknown = sorted(set(entry) - {"name", *SOURCES, *OPTIONAL})
    if unknown:
        known = ", ".join(("name", *SOURCES, *OPTIONAL))
        raise UserError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {known}")
    given = [key for key in SOURCES if key in entry]
    if len(given) != 1:
        said = f"has {' and '.join(given)}" if given else "has none"
        raise UserError(f"{where} needs exactly one of version, sdist or path; it {said}")
    source = given[0]
    value = _text(entry, source, where)
    if not value:
        raise UserError(f"{where}: {source} is empty")
    run = _text(entry, "run", where)
    if run:
        try:
            words = shlex.split(run)
        except ValueError as err:
            raise UserError(
                f"{where}: run {run!r} cannot be split into a command ({err})"
            ) from None
        if not words:
            raise UserError(f"{where}: run is empty; leave it out to import the module only")
    return Project(
        name=name.strip(),
        version=value if source == "version" else "",
        sdist=_path(folder, value) if source == "sdist" else None,
        path=_path(folder, value) if source == "path" else None,
        run=run,
        with_=_requirements(entry.get("with", []), where),
        extra=_text(entry, "extra", where),
        timeout=_timeout(entry.get("timeout"), where),
        python=_text(entry, "python", where),
        rust=_rust(entry, where),
    )


def _rust(entry: Mapping[str, Any], where: str) -> str:
    """One toolchain name rustup could accept (a project that needs nightly, say)."""
    value = _text(entry, "rust", where)
    if value:
        try:
            names = toolchains.parse(value)
        except UserError as err:
            raise UserError(f"{where}: rust: {err.message}") from None
        if len(names) != 1:
            raise UserError(f"{where}: rust names one toolchain, got {value!r}")
    return value


def _text(entry: Mapping[str, Any], key: str, where: str) -> str:
    value = entry.get(key, "")
    if not isinstance(value, str):
        raise UserError(f"{where}: {key} must be a string, got {value!r}")
    return value.strip()


def _path(folder: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else folder / path


def _requirements(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list):
        raise UserError(f'{where}: with must be a list of requirements, e.g. with = ["pytest"]')
    checked = []
    for item in value:
        try:
            checked.append(str(Requirement(str(item))))
        except InvalidRequirement as err:
            raise UserError(f"{where}: with {item!r} is not a requirement ({err})") from None
    return tuple(checked)


def _timeout(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1e6:
        raise UserError(f"{where}: timeout must be a positive number of seconds, got {value!r}")
    return float(value)


def run_words(run: str, folder: Path) -> tuple[str, ...]:
    """The check command with each word that names something in the list's `folder` made
    absolute there (a check beside the list is found whatever folder it runs in, and the
    project's own source package cannot shadow it)."""
    words = []
    for word in shlex.split(run):
        candidate = folder / word
        if not Path(word).is_absolute() and not word.startswith("-") and candidate.exists():
            word = str(candidate.resolve())
        words.append(word)
    return tuple(words)
