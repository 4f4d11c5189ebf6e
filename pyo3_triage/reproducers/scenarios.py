"""Scenario folders: a reproducer's Rust side, its Python driver and a little metadata.

A scenario folder holds `scenario.toml`, the Rust source (pyclasses and functions, written
once; it may use template conditionals on the PyO3 version) and the driver script. Folders can
live in the project's `scenarios/` (named by folder) or anywhere on disk (named by path).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.version import Version

from pyo3_triage import hashes
from pyo3_triage.building.build import Prepared
from pyo3_triage.building.locks import ResolvedLock, requirement
from pyo3_triage.building.template import render_crate
from pyo3_triage.building.toolchain import Toolchain
from pyo3_triage.errors import UserError
from pyo3_triage.reproducers.companions import Choice, Companion
from pyo3_triage.system.areas import Area
from pyo3_triage.system.paths import Layout, scenario_library, write_if_changed
from pyo3_triage.tomlcompat import tomllib
from pyo3_triage.versions.releases import Release

METADATA = "scenario.toml"
DEFAULT_TIMEOUT = 60.0
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")  # always used with fullmatch
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def builtin_dir() -> Path:
    """The project's own scenario library (see `paths.scenario_library`)."""
    return scenario_library()


@dataclass(frozen=True)
class Scenario:
    """A scenario folder: Rust the template renders into a crate, and a driver script
    (a `reproducer.Reproducer`)."""

    name: str
    folder: Path
    description: str
    upstream: str
    timeout: float
    module: str
    classes: tuple[str, ...]
    functions: tuple[str, ...]
    rust_source: str
    driver: Path
    driver_source: str
    # scenario.toml's keys beyond the reproducer itself: `default`, a recorded finding
    # (`changed_in` and kin, see `verify`).
    metadata: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    # Installed beside the extension before the run (`--with`): part of the run's key.
    # `with_` is what the user typed, for reproduce commands.
    requirements: tuple[str, ...] = ()
    with_: tuple[str, ...] = ()

    own_abi3 = None  # the template builds for the release's own ABI unless --abi3 asks

    @property
    def source_text(self) -> str:
        return self.rust_source

    def excludes(self, python: Version) -> str | None:
        return None  # a scenario speaks for every CPython the release declares

    def rust_excludes(self, rust: Version) -> str | None:
        return None  # the template is built as edition 2018 for a Rust before 2021's

    def companions_for(self, release: Version) -> Choice:
        return Choice()  # the template depends on PyO3 alone

    def selector(self) -> tuple[str, ...]:
        return ("--scenario", str(self.folder), *installs(self.with_))

    def argv(self, python: Path) -> list[str]:
        return [str(python), str(self.driver)]

    needs_release_lock = True  # the template's crate is built with the release's pinned lock

    def crate_for(
        self, release: Release, lock: ResolvedLock | None, abi3: str | None
    ) -> TemplateCrate:
        """The template rendered for the release (once per cell: the key and the build both
        use these files)."""
        if lock is None:
            raise ValueError(f"scenario {self.name} is built with its release's lock")
        source = release.source  # a PyO3 commit's tree, else None: the release from crates.io
        rendered = render_crate(
            self, release.version, requirement(release), abi3=abi3, pyo3_path=source
        )
        return TemplateCrate(rendered.files, lock)

    def run_folder(self, layout: Layout, build_key: str, record_key: str) -> tuple[Area, Path]:
        work = layout.work(record_key)  # the driver runs in a scratch folder of its own
        return work, work.path

    @property
    def packages(self) -> tuple[str, ...]:
        return (self.module.split(".", 1)[0],)

    def ready(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)  # an empty scratch folder

    def registry_dependencies(self) -> Sequence[tuple[str, str, tuple[str, ...]]]:
        return ()  # the template depends on PyO3 alone

    def with_companions(self, found: tuple[Companion, ...]) -> Scenario:
        return self

    def question_args(self) -> tuple[str, ...]:
        return ()  # its name says which scenario: the results folder is named by it

    @property
    def defines_module(self) -> bool:
        """Its Rust defines its own `#[pymodule]`, so the template writes none."""
        return own_module(self.rust_source) is not None

    @property
    def build_hash(self) -> str:
        parts = [self.module, ",".join(self.classes), ",".join(self.functions), self.rust_source]
        return digest([*parts, ""])

    @property
    def run_hash(self) -> str:
        parts = [self.build_hash, self.driver_source, repr(self.timeout), ""]
        return digest([*parts, *self.requirements])


@dataclass(frozen=True)
class TemplateCrate:
    """A scenario's crate for one release: the rendered template and the release's pinned
    lock (a `reproducer.Crate`)."""

    files: tuple[tuple[str, str], ...]  # (relative path, text)
    lock: ResolvedLock

    def key_parts(self) -> dict[str, object]:
        # The rendered crate itself: a template change that renders the same files keeps the key.
        return {"source": hashes.digest(json.dumps(self.files)), "lock": self.lock.lock_hash}

    def write(self, into: Path, toolchain: Toolchain, log: Path) -> Prepared:
        for name, text in self.files:
            # The build key names the toolchain too, so this stays a function of the key.
            text = toolchain.template_manifest(text) if name == "Cargo.toml" else text
            write_if_changed(into / name, text)
        write_if_changed(into / "Cargo.lock", self.lock.lock_text)
        return Prepared(into / "Cargo.toml", into)


def installs(with_: Sequence[str]) -> tuple[str, ...]:
    """`--with` options again, for a reproducer's selector."""
    return tuple(a for r in with_ for a in ("--with", r))


def digest(parts: Sequence[str]) -> str:
    """A reproducer's parts, each ended by a NUL, named by content."""
    return hashes.digest_chunks((part.encode() + b"\0" for part in parts), hashes.CONTENT)


def available(root: Path | None = None) -> list[str]:
    root = root or builtin_dir()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / METADATA).is_file())


def library(root: Path | None = None) -> list[Scenario]:
    """Every scenario of the library, loaded (one clear error for a broken one)."""
    return [resolve(name, root) for name in available(root)]


def known(root: Path | None = None) -> list[Scenario]:
    """The library for descriptions and links in tables: empty when it cannot be read, which
    must never stop drawing a report or merging results."""
    try:
        return library(root)
    except UserError:
        return []


def resolve(spec: str, root: Path | None = None) -> Scenario:
    """A scenario from a folder path, a folder in the current directory, or its name in the
    library; one clear error otherwise."""
    root = root or builtin_dir()
    looks_like_path = "/" in spec or spec.startswith(".") or spec.startswith("~")
    if looks_like_path:
        folder = Path(spec).expanduser()
        if not folder.is_dir():
            raise UserError(
                f"scenario folder {spec!r} does not exist; pass a folder holding {METADATA}"
            )
        return load(folder.resolve())
    if not _NAME.fullmatch(spec):
        raise UserError(
            f"{spec!r} is not a scenario name (letters, digits, '_' and '-'); "
            f"known scenarios: {', '.join(available(root)) or 'none'}"
        )
    if (Path(spec) / METADATA).is_file():  # a scenario folder right here wins over the library
        return load(Path(spec).resolve())
    folder = root / spec
    if not (folder / METADATA).is_file():
        raise UserError(
            f"unknown scenario {spec!r}; known scenarios: {', '.join(available(root)) or 'none'} "
            "(or pass a folder path)"
        )
    return load(folder)


def resolve_many(specs: Sequence[str], root: Path | None = None) -> list[Scenario]:
    chosen = [resolve(spec, root) for spec in specs] if specs else []
    names = [s.name for s in chosen]
    if len(set(names)) != len(names):
        raise UserError(f"scenario names must be distinct, got {', '.join(names)}")
    return chosen


def load(folder: Path) -> Scenario:
    meta_path = folder / METADATA
    if not meta_path.is_file():
        raise UserError(f"scenario folder {folder} has no {METADATA}; add one (see README)")
    try:
        meta = tomllib.loads(meta_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise UserError(f"{meta_path} is not valid TOML ({err}); fix it") from None
    name = folder.name
    rust_path = _inside(folder, _text(meta, "rust", meta_path, default="lib.rs"), meta_path)
    rust_source = rust_path.read_text(encoding="utf-8")
    own = own_module(rust_source)
    module = _text(meta, "module", meta_path, default=own or name.replace("-", "_"))
    if not _IDENT.fullmatch(module):
        raise UserError(
            f"{meta_path}: module name {module!r} is not a Python identifier; set module"
        )
    classes = _idents(meta, "classes", meta_path)
    functions = _idents(meta, "functions", meta_path)
    if own is not None and own != module:
        raise UserError(
            f"{rust_path} defines #[pymodule] {own} but the module is {module!r}; "
            f'set module = "{own}" in {METADATA} or rename the function'
        )
    if own is not None and (classes or functions):
        raise UserError(
            f"{rust_path} defines its own #[pymodule] {own}, so the template writes none: add "
            f"the classes and functions there and drop classes/functions from {METADATA}"
        )
    driver_path = _inside(folder, _text(meta, "driver", meta_path, default="driver.py"), meta_path)
    timeout = meta.get("timeout", DEFAULT_TIMEOUT)
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not 0 < timeout < 1e6:
        raise UserError(f"{meta_path}: timeout must be a positive number of seconds")
    known = {
        "description",
        "upstream",
        "timeout",
        "module",
        "rust",
        "driver",
        "classes",
        "functions",
    }
    return Scenario(
        name=name,
        folder=folder,
        description=_text(meta, "description", meta_path, default=""),
        upstream=_text(meta, "upstream", meta_path, default=""),
        timeout=float(timeout),
        module=module,
        classes=classes,
        functions=functions,
        rust_source=rust_source,
        driver=driver_path,
        driver_source=driver_path.read_text(encoding="utf-8"),
        metadata={k: v for k, v in meta.items() if k not in known},
    )


_PYMODULE = re.compile(
    r"#\[\s*(?:pyo3::)?pymodule\b[^\]]*\]"  # the attribute
    r"(?P<attrs>(?:\s*#\[[^\]]*\])*)"  # more attributes, e.g. #[pyo3(name = "...")]
    r"\s*(?:pub(?:\([^)]*\))?\s+)?(?:fn|mod)\s+(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
)
_NAME_ATTR = re.compile(r"name\s*=\s*\"([A-Za-z_][A-Za-z0-9_]*)\"")


def own_module(rust_source: str) -> str | None:
    """The Python name of a `#[pymodule]` the scenario's Rust defines itself (what people paste
    from an existing crate); None when the template is to write the module function."""
    found = _PYMODULE.search(rust_source)
    if found is None:
        return None
    renamed = _NAME_ATTR.search(found.group(0))
    return renamed.group(1) if renamed else found.group("name")


def _text(meta: dict[str, Any], key: str, where: Path, *, default: str) -> str:
    value = meta.get(key, default)
    if not isinstance(value, str):
        raise UserError(f"{where}: {key} must be a string")
    return value


def _idents(meta: dict[str, Any], key: str, where: Path) -> tuple[str, ...]:
    value = meta.get(key, [])
    if not isinstance(value, list) or not all(
        isinstance(v, str) and _IDENT.fullmatch(v) for v in value
    ):
        raise UserError(f"{where}: {key} must be a list of Rust identifiers")
    return tuple(value)


def _inside(folder: Path, relative: str, where: Path) -> Path:
    """A file named by the metadata; may point to a sibling scenario to share its Rust side."""
    path = (folder / relative).resolve()
    if not path.is_file():
        raise UserError(f"{where}: file {relative!r} not found; add it or fix the name")
    return path
