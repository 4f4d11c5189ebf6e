"""Render `crate_template/` and a scenario's Rust side into a crate for one PyO3 release.

The API differences between releases live as data in `crate_template/eras.toml`; this module
only looks values up for a release and hands them to Jinja2. Scenario sources are templates too,
so one source can cover every release (`{% if since("0.23.0") %}`, `{{ era.attach }}`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import jinja2
from packaging.version import Version

from pyo3_triage.errors import UserError
from pyo3_triage.system.paths import template_dir
from pyo3_triage.tomlcompat import tomllib


class Source(Protocol):
    """What the template needs of a scenario's Rust side (`scenarios.Scenario` is one)."""

    @property
    def name(self) -> str: ...
    @property
    def module(self) -> str: ...
    @property
    def classes(self) -> tuple[str, ...]: ...
    @property
    def functions(self) -> tuple[str, ...]: ...
    @property
    def defines_module(self) -> bool: ...
    @property
    def rust_source(self) -> str: ...


TEMPLATE_DIR = template_dir()
ERAS_FILE = "eras.toml"
TEMPLATE_FILES = ("Cargo.toml", "pyproject.toml", "src/lib.rs")


@functools.cache
def load_eras(template_dir: Path = TEMPLATE_DIR) -> dict[str, tuple[tuple[Version, Any], ...]]:
    """Each item's values keyed by the first release they hold for, ascending."""
    raw = tomllib.loads((template_dir / ERAS_FILE).read_text(encoding="utf-8"))
    return {
        item: tuple(sorted((Version(since), value) for since, value in values.items()))
        for item, values in raw.items()
    }


def era_for(pyo3: Version, template_dir: Path = TEMPLATE_DIR) -> dict[str, Any]:
    """The value of every era item for one release (pre-releases count as their release)."""
    release = Version(pyo3.base_version)
    era: dict[str, Any] = {}
    for item, values in load_eras(template_dir).items():
        holding = [value for since, value in values if since <= release]
        if not holding:
            raise UserError(f"PyO3 {pyo3} is older than the template supports (0.16.0 and newer)")
        era[item] = holding[-1]
    return era


@dataclass(frozen=True)
class RenderedCrate:
    files: tuple[tuple[str, str], ...]  # (relative path, text)

    def text(self, name: str) -> str:
        return dict(self.files)[name]


@functools.cache
def _environment(template_dir: Path) -> jinja2.Environment:
    """One per template folder, so each template is compiled once per process (Jinja keeps
    the compiled templates; a matrix renders the same four for every cell)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


def _context(
    pyo3: Version,
    requirement: str,
    module: str,
    debug_info: bool,
    template_dir: Path,
    abi3: str | None = None,
    pyo3_path: Path | None = None,
) -> dict[str, Any]:
    release = Version(pyo3.base_version)
    era = era_for(pyo3, template_dir)
    return {
        "pyo3_version": str(pyo3),
        "pyo3_requirement": requirement,
        "pyo3_path": str(pyo3_path) if pyo3_path else "",
        "era": era,
        "features": [*era["features"], *([abi3] if abi3 else [])],
        "since": lambda version: release >= Version(version),
        "module": module,
        "debug_info": debug_info,
    }


def render_manifest(
    pyo3: Version,
    pyo3_requirement: str,
    module: str,
    template_dir: Path = TEMPLATE_DIR,
    pyo3_path: Path | None = None,
) -> str:
    """Only Cargo.toml: what resolving a release's lockfile needs (the lock ignores `module`)."""
    context = _context(pyo3, pyo3_requirement, module, False, template_dir, pyo3_path=pyo3_path)
    return _environment(template_dir).get_template("Cargo.toml").render(context)


@functools.lru_cache(maxsize=256)
def _source(template_dir: Path, text: str) -> jinja2.Template:
    """A scenario's Rust side, compiled once per process."""
    return _environment(template_dir).from_string(text)


def crate_attributes(rust: str) -> tuple[str, str]:
    """A scenario's own crate-level attributes (`#![deny(warnings)]`, `//!` docs at its top)
    and the rest of its Rust: lib.rs puts them first, the only place Rust accepts them."""
    lines = rust.splitlines(keepends=True)
    taken, depth = 0, 0
    for line in lines:
        text = line.strip()
        if depth == 0 and not (text.startswith(("#![", "//!")) or text in ("",)):
            break
        if depth or text.startswith("#!["):
            depth += text.count("[") - text.count("]")
        taken += 1
    head = "".join(lines[:taken])
    if "#![" not in head and "//!" not in head:
        return "", rust
    return head.strip() + "\n", "".join(lines[taken:])


def render_crate(
    scenario: Source,
    pyo3: Version,
    pyo3_requirement: str,
    *,
    debug_info: bool = False,
    template_dir: Path = TEMPLATE_DIR,
    abi3: str | None = None,
    pyo3_path: Path | None = None,
) -> RenderedCrate:
    """Render the crate for `scenario` against one PyO3 release.

    `pyo3_requirement` is what Cargo.toml asks for; the exact release is pinned by the
    lockfile, which is how yanked releases stay buildable. With `pyo3_path` (a PyO3 commit's
    source) the crate depends on that tree instead, rendered for the API of `pyo3`.
    """
    env = _environment(template_dir)
    context = _context(
        pyo3, pyo3_requirement, scenario.module, debug_info, template_dir, abi3, pyo3_path
    )
    context.update(
        scenario=scenario.name,
        classes=scenario.classes,
        functions=scenario.functions,
        own_module=scenario.defines_module,
    )
    try:
        rust = _source(template_dir, scenario.rust_source).render(context)
        context["crate_attributes"], context["scenario_rust"] = crate_attributes(rust)
        files = tuple((name, env.get_template(name).render(context)) for name in TEMPLATE_FILES)
    except (jinja2.TemplateError, TypeError) as err:  # TypeError: an undefined value in a filter
        raise UserError(
            f"scenario {scenario.name}: its Rust template does not render ({err})"
        ) from None
    return RenderedCrate(files=files)
