"""A user's maturin project as cargo sees it, and its manifests pointed at one PyO3 release.

A project is one crate, or a Cargo workspace with the extension as one member (found through
`[tool.maturin] manifest-path`, or as the member that is a cdylib depending on pyo3). Every
`pyo3*` dependency of every member is rewritten to the release, where the version lives: in
`[workspace.dependencies]` for members that say `workspace = true`, else in the member's own
table (features, `optional` and the rest kept). A project this cannot handle is refused while
planning, in one line; it never becomes a cell outcome.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from pyo3_triage.errors import UserError
from pyo3_triage.tomlcompat import tomllib
from pyo3_triage.versions.releases import PYO3_CRATES

_DEP_TABLES = ("dependencies", "dev-dependencies", "build-dependencies")
_SOURCE_KEYS = ("path", "git", "branch", "tag", "rev", "registry")


@dataclass(frozen=True)
class Project:
    """Where a user's project lives; paths other than `root` are relative to it."""

    root: Path  # what is copied: the workspace root, or the crate (or the pyproject above it)
    workdir: str  # the folder the user named: maturin and the run command start there
    manifest: str  # the extension crate's Cargo.toml
    lock_dir: str  # where Cargo.lock lives: the workspace root, or the crate
    manifests: tuple[str, ...]  # every Cargo.toml whose pyo3* dependencies are rewritten
    workspace: bool
    module: str  # what `import` loads
    abi3: str  # the crate's own stable-ABI feature ("abi3-py311", "abi3"), "" if none
    requires_python: str  # the project's own `requires-python`, "" if none
    dependencies: tuple[str, ...] = ()  # the project's [project] dependencies
    extras: tuple[tuple[str, tuple[str, ...]], ...] = ()  # its optional-dependencies
    groups: tuple[tuple[str, tuple[str, ...]], ...] = ()  # its PEP 735 dependency groups
    name: str = ""  # the package's name: [project] name, else the extension crate's
    # The oldest Rust the extension crate can be built with, in words and as a version: its
    # `rust-version`, or what its edition needs ("" when it says neither).
    rust_floor: str = ""
    rust_floor_why: str = ""

    def rust_excludes(self, rust: Version) -> str | None:
        """Why the project itself rules a Rust toolchain out (its rust-version, its edition),
        or None."""
        try:
            floor = Version(self.rust_floor) if self.rust_floor else None
        except InvalidVersion:
            return None
        if floor is None or Version(rust.base_version) >= floor:
            return None
        return f"the project needs Rust {self.rust_floor} or newer ({self.rust_floor_why})"

    def excludes(self, python: Version) -> str | None:
        """Why the project itself rules this CPython out (its requires-python, the floor of
        its own abi3 feature), or None."""
        if self.requires_python:
            try:
                spec = SpecifierSet(self.requires_python)
            except InvalidSpecifier:
                spec = None
            if spec is not None and not spec.contains(python, prereleases=True):
                return f"the project requires Python {self.requires_python}"
        floor = re.fullmatch(r"abi3-py(\d)(\d+)", self.abi3)
        if floor and (python.major, python.minor) < (int(floor[1]), int(floor[2])):
            return f"the project's {self.abi3} wheel needs CPython {floor[1]}.{floor[2]}+"
        return None


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"cannot read {path} ({err}); check the --crate folder") from None
    except tomllib.TOMLDecodeError as err:
        raise UserError(f"{path} is not valid TOML ({err}); fix it") from None


def _table(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    for key in keys:
        value = data.get(key, {})
        data = value if isinstance(value, dict) else {}
    return data


def _members(ws_root: Path, data: dict[str, Any]) -> list[Path]:
    """The member crates' folders of a workspace (globs expanded, excludes dropped)."""
    workspace = _table(data, "workspace")
    excluded = {(ws_root / e).resolve() for e in workspace.get("exclude", []) if isinstance(e, str)}
    found = []
    for pattern in workspace.get("members", []):
        if isinstance(pattern, str):
            for folder in sorted(ws_root.glob(pattern)):
                if (folder / "Cargo.toml").is_file() and folder.resolve() not in excluded:
                    found.append(folder.resolve())
    if _table(data, "package") and ws_root.resolve() not in found:
        found.insert(0, ws_root.resolve())
    return found


def _dependency_tables(data: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for name in _DEP_TABLES:
        yield _table(data, name)
    for target in _table(data, "target").values():
        if isinstance(target, dict):
            for name in _DEP_TABLES:
                yield _table(target, name)


def registry_dependencies(project: Project) -> list[tuple[str, str, tuple[str, ...]]]:
    """Every dependency of the project's crates that comes from crates.io (not a path, not
    git, not PyO3 itself): (the name the manifest uses, the crate's name, its features, with
    "default" unless every entry sets `default-features = false`, as Cargo unifies them)."""
    found: dict[tuple[str, str], set[str]] = {}
    for rel in project.manifests:
        data = _read(project.root / rel)
        tables = [*_dependency_tables(data), _table(data, "workspace", "dependencies")]
        for table in tables:
            for local, entry in table.items():
                spec = entry if isinstance(entry, dict) else {}
                crate = str(spec.get("package") or local)
                if crate in PYO3_CRATES or any(key in spec for key in ("path", "git", "registry")):
                    continue
                if spec.get("workspace") is True:
                    continue  # its version lives in [workspace.dependencies], read there
                features = spec.get("features", [])
                wanted = {str(f) for f in features} if isinstance(features, list) else set()
                if spec.get("default-features", spec.get("default_features")) is not False:
                    wanted.add("default")
                found.setdefault((str(local), crate), set()).update(wanted)
    return [(local, crate, tuple(sorted(f))) for (local, crate), f in sorted(found.items())]


def outside_paths(project: Project) -> tuple[Path, ...]:
    """The folders of path dependencies that live outside the project (`../core`), followed
    through their own path dependencies: the build reads them where they are, so their
    content is part of what the project builds (`UserCrate.source_hash`)."""
    root = project.root.resolve()
    found: list[Path] = []
    pending = [(project.root / rel).resolve() for rel in project.manifests]
    seen: set[Path] = set()
    while pending:
        manifest = pending.pop(0)
        if manifest in seen or not manifest.is_file():
            continue
        seen.add(manifest)
        data = _read(manifest)
        tables = [*_dependency_tables(data), _table(data, "workspace", "dependencies")]
        for table in tables:
            for entry in table.values():
                path = entry.get("path") if isinstance(entry, dict) else None
                if not isinstance(path, str):
                    continue
                folder = (manifest.parent / path).resolve()
                if not folder.is_relative_to(root) and folder not in found:
                    found.append(folder)
                pending.append(folder / "Cargo.toml")
    return tuple(sorted(found))


def _depends_on_pyo3(data: dict[str, Any]) -> bool:
    return any("pyo3" in table for table in _dependency_tables(data))


def _is_cdylib(data: dict[str, Any]) -> bool:
    kinds = _table(data, "lib").get("crate-type", [])
    return isinstance(kinds, list) and "cdylib" in kinds


def _workspace_of(crate: Path) -> Path | None:
    """The workspace root cargo would put `crate` in: the nearest folder above (or at) it
    whose Cargo.toml has [workspace] and lists it as a member."""
    for folder in [crate, *crate.parents]:
        manifest = folder / "Cargo.toml"
        if manifest.is_file():
            data = _read(manifest)
            if "workspace" in data:
                return folder if folder == crate or crate in _members(folder, data) else None
    return None


def _features(entry: Any) -> list[str]:
    if isinstance(entry, dict):
        found = entry.get("features", [])
        return [f for f in found if isinstance(f, str)] if isinstance(found, list) else []
    return []


def find(path: Path) -> Project:
    """The project at `path` (a crate, a workspace root or a member), or one clear error."""
    start = _folder(path)
    pyproject_path = start / "pyproject.toml"
    pyproject = _read(pyproject_path) if pyproject_path.is_file() else {}
    manifest_path = _manifest_path(path, start, pyproject_path, pyproject)
    data = _read(manifest_path)
    if "package" not in data and "workspace" in data:  # a virtual workspace: find the extension
        manifest_path = _extension_member(manifest_path, data) / "Cargo.toml"
        data = _read(manifest_path)
    crate = manifest_path.parent
    ws_root = _workspace_of(crate)
    ws_data = _read(ws_root / "Cargo.toml") if ws_root else {}
    if not pyproject and ws_root is not None:
        pyproject = _workspace_pyproject(ws_root, manifest_path)
    maturin = _table(pyproject, "tool", "maturin")
    pyo3 = _pyo3_entry(data, ws_data, manifest_path, ws_root)
    root = Path(os.path.commonpath([start, crate, *([ws_root] if ws_root else [])]))
    members = _members(ws_root, ws_data) if ws_root else [crate]
    abi3 = sorted(f for f in pyo3 if f == "abi3" or f.startswith("abi3-py"))
    requires = _table(pyproject, "project").get("requires-python", "")
    return Project(
        root=root,
        workdir=os.path.relpath(start, root),
        manifest=os.path.relpath(manifest_path, root),
        lock_dir=os.path.relpath(ws_root or crate, root),
        manifests=_manifests(root, ([ws_root] if ws_root else []) + members),
        workspace=ws_root is not None,
        module=_module_name(maturin, data, manifest_path),
        abi3=abi3[-1] if abi3 else "",
        requires_python=requires if isinstance(requires, str) else "",
        dependencies=_strings(_table(pyproject, "project").get("dependencies")),
        extras=tuple(
            (name, _strings(reqs))
            for name, reqs in _table(pyproject, "project", "optional-dependencies").items()
        ),
        groups=_dependency_groups(_table(pyproject, "dependency-groups")),
        name=_package_name(pyproject, data),
        **_rust_floor(data, ws_data),
    )


# The first Rust of each edition: a crate in it cannot be built by an older cargo.
_EDITIONS = {"2018": "1.31", "2021": "1.56", "2024": "1.85"}


def _rust_floor(data: dict[str, Any], ws_data: dict[str, Any]) -> dict[str, str]:
    """The extension crate's own Rust floor (`rust_floor`, `rust_floor_why`): the higher of
    its rust-version and its edition's first Rust, either inherited from the workspace."""
    package, inherited = _table(data, "package"), _table(ws_data, "workspace", "package")

    def value(key: str) -> str:
        found = package.get(key)
        if isinstance(found, dict) and found.get("workspace") is True:
            found = inherited.get(key)
        return found if isinstance(found, str) else ""

    floors = []
    if (declared := value("rust-version")) and _version_or_none(declared):
        floors.append((declared, f"its rust-version is {declared}"))
    if (edition := value("edition")) in _EDITIONS:
        floors.append((_EDITIONS[edition], f"edition {edition}"))
    if not floors:
        return {}
    floor, why = max(floors, key=lambda pair: Version(pair[0]))
    return {"rust_floor": floor, "rust_floor_why": why}


def _version_or_none(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _folder(path: Path) -> Path:
    """`--crate` resolved, refused unless it is a folder."""
    start = path.expanduser().resolve()
    if not start.is_dir():
        raise UserError(
            f"--crate {str(path)!r} is not a folder; pass the folder of a maturin project"
        )
    return start


def _manifest_path(
    path: Path, start: Path, pyproject_path: Path, pyproject: dict[str, Any]
) -> Path:
    """The Cargo.toml maturin builds from: `[tool.maturin] manifest-path`, else the folder's
    own; refused when it is not there."""
    maturin = _table(pyproject, "tool", "maturin")
    manifest_path = start / "Cargo.toml"
    if isinstance(maturin.get("manifest-path"), str):
        manifest_path = (start / maturin["manifest-path"]).resolve()
        if not manifest_path.is_file():
            raise UserError(
                f"{pyproject_path}: manifest-path {maturin['manifest-path']!r} names no Cargo.toml"
            )
    if not manifest_path.is_file():
        raise UserError(
            f"--crate {str(path)!r}: no Cargo.toml there; pass the folder of a maturin project"
        )
    return manifest_path


def _extension_member(manifest_path: Path, data: dict[str, Any]) -> Path:
    """The folder of a virtual workspace's one member that is a cdylib depending on pyo3;
    refused when there is not exactly one."""
    members = _members(manifest_path.parent, data)
    exts = [
        m
        for m in members
        if (d := _read(m / "Cargo.toml")) and _depends_on_pyo3(d) and _is_cdylib(d)
    ]
    if len(exts) != 1:
        names = ", ".join(m.name for m in exts) or "none"
        raise UserError(
            f"{manifest_path} is a workspace and {len(exts)} of its members are cdylibs "
            f"depending on pyo3 ({names}); pass --crate with the extension member's folder "
            "or set [tool.maturin] manifest-path"
        )
    return exts[0]


def _workspace_pyproject(ws_root: Path, manifest_path: Path) -> dict[str, Any]:
    """The workspace root's pyproject.toml when its manifest-path names this crate (maturin
    finds it there too), else {}."""
    if not (ws_root / "pyproject.toml").is_file():
        return {}
    above = _read(ws_root / "pyproject.toml")
    named = _table(above, "tool", "maturin").get("manifest-path")
    if isinstance(named, str) and (ws_root / named).resolve() == manifest_path.resolve():
        return above
    return {}


def _manifests(root: Path, folders: Sequence[Path]) -> tuple[str, ...]:
    """Each folder's Cargo.toml relative to `root`, once each, in order."""
    return tuple(dict.fromkeys(os.path.relpath(folder / "Cargo.toml", root) for folder in folders))


def _package_name(pyproject: dict[str, Any], data: dict[str, Any]) -> str:
    """What the project calls itself: its Python package name, else its crate's name."""
    for name in (_table(pyproject, "project").get("name"), _table(data, "package").get("name")):
        if isinstance(name, str) and name.strip():
            return name.strip()
    return ""


def _dependency_groups(table: dict[str, Any]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """PEP 735 `[dependency-groups]`, each with its `{include-group = ...}` entries expanded."""

    def expand(name: str, seen: tuple[str, ...]) -> list[str]:
        found: list[str] = []
        for item in table.get(name, []) if isinstance(table.get(name), list) else []:
            if isinstance(item, str):
                found.append(item)
            elif isinstance(item, dict) and isinstance(item.get("include-group"), str):
                included = item["include-group"]
                if included not in seen:
                    found.extend(expand(included, (*seen, included)))
        return found

    return tuple((name, tuple(expand(name, (name,)))) for name in table)


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


BASE = "dependencies"  # `--extra dependencies`: the project's own dependencies alone


def extra_requirements(project: Project, extra: str, *, own: bool = True) -> tuple[str, ...]:
    """What `--extra NAME` installs: the project's dependencies and those of NAME, an
    `[project.optional-dependencies]` entry or a PEP 735 dependency group (where many projects
    keep `test`; the extension's wheel is installed without its dependencies, so the group's
    tests need the project's too); `--extra dependencies`: the project's dependencies alone.
    Without `own` (`--no-deps`), NAME's requirements alone."""
    extras, groups = dict(project.extras), dict(project.groups)
    base = project.dependencies if own else ()
    if extra in extras:
        return base + extras[extra]
    if extra in groups:
        return base + groups[extra]
    if extra == BASE:
        return base
    known = ", ".join([*sorted(extras), *sorted(f"{g} (group)" for g in groups)]) or "none"
    raise UserError(
        f"--extra {extra!r}: the project's pyproject.toml has no such optional-dependencies "
        f"entry or dependency group (it has: {known}; `dependencies` installs its own "
        "dependencies alone)"
    )


def _pyo3_entry(
    data: dict[str, Any], ws_data: dict[str, Any], manifest: Path, ws_root: Path | None
) -> list[str]:
    """The extension's pyo3 features (from the workspace table when it inherits), checking
    that there is a version to rewrite."""
    entry = next((t["pyo3"] for t in _dependency_tables(data) if "pyo3" in t), None)
    if entry is None:
        raise UserError(f"{manifest} has no pyo3 dependency to rewrite per release")
    if isinstance(entry, dict) and entry.get("workspace") is True:
        inherited = _table(ws_data, "workspace", "dependencies").get("pyo3")
        if inherited is None:
            raise UserError(
                f"{manifest} takes pyo3 from its workspace, but "
                f"{(ws_root or manifest.parent) / 'Cargo.toml'} has no [workspace.dependencies] pyo3"
            )
        return _features(inherited) + _features(entry)
    return _features(entry)


def _module_name(maturin: dict[str, Any], data: dict[str, Any], manifest: Path) -> str:
    """What `import` loads: maturin's module-name, else the Rust library's name."""
    name = maturin.get("module-name")
    if isinstance(name, str) and name:
        return name
    name = _table(data, "lib").get("name") or _table(data, "package").get("name")
    if not isinstance(name, str):
        raise UserError(f"{manifest} names no package; is this a maturin project?")
    return name.replace("-", "_")


def rewrite(
    copy: Path,
    project: Project,
    version: str,
    features: Sequence[str] = (),
    companions: Mapping[str, str] | None = None,
    tree: Path | None = None,
) -> None:
    """Point every pyo3* dependency in the copy at `version` (or, with `tree`, a PyO3
    commit's source, by path), and every companion crate (by crate name) at exactly its
    version in `companions`; add `features` (e.g. an abi3 feature) to the extension's pyo3.
    Path dependencies leaving the project are made absolute."""
    sources = tree_crates(tree) if tree is not None else {}
    for rel in project.manifests:
        manifest = copy / rel
        document = tomlkit.parse(manifest.read_text(encoding="utf-8"))
        for table in _tomlkit_dependency_tables(document, workspace=True):
            for name in list(table.keys()):
                _rewrite_entry(table, str(name), version, manifest, copy, project.root, sources)
                _move_companion(table, str(name), companions or {})
        if rel == project.manifest:
            _add_features(document, features)
            if not project.workspace and "workspace" not in document:
                document["workspace"] = _isolating_workspace(document, manifest.parent)
        if sources and (copy / rel).parent == copy / project.lock_dir:
            _patch_crates_io(document, sources)
        manifest.write_text(tomlkit.dumps(document), encoding="utf-8")


def tree_crates(tree: Path) -> dict[str, Path]:
    """PyO3's crates in a commit's source tree (`pyo3` at its root, the others in folders
    named after them), by crate name."""
    found = {"pyo3": tree} if (tree / "Cargo.toml").is_file() else {}
    for name in sorted(PYO3_CRATES - {"pyo3"}):
        if (tree / name / "Cargo.toml").is_file():
            found[name] = tree / name
    return found


def _patch_crates_io(document: Any, sources: Mapping[str, Path]) -> None:
    """`[patch.crates-io]`: a companion crate that asks for PyO3 from crates.io gets the
    commit's crates too, where its requirement accepts their version (one PyO3 in the build:
    pyo3-ffi links the interpreter, and cargo allows one crate that does)."""
    patch = document.get("patch")
    if not _is_table(patch):
        patch = tomlkit.table(is_super_table=True)
        document["patch"] = patch
    crates_io = patch.get("crates-io")
    if not _is_table(crates_io):
        crates_io = tomlkit.table()
        patch["crates-io"] = crates_io
    for name, folder in sources.items():
        entry = tomlkit.inline_table()
        entry["path"] = str(folder)
        crates_io[name] = entry


def _isolating_workspace(document: Any, folder: Path) -> Any:
    """A `[workspace]` that keeps the copy out of any workspace above it and changes nothing
    else: cargo would make every path dependency inside the folder a member (and load its
    dev-dependencies, which an sdist may not ship), so those are excluded."""
    table = tomlkit.table()
    inside = sorted(
        {
            entry["path"]
            for deps in _tomlkit_dependency_tables(document, workspace=False)
            for entry in deps.values()
            if _is_table(entry)
            and isinstance(entry.get("path"), str)
            and (folder / entry["path"]).resolve().is_relative_to(folder.resolve())
        }
    )
    if inside:
        table["exclude"] = inside
    return table


def _is_table(value: Any) -> bool:
    """A TOML table as tomlkit gives it: a plain, inline, or out-of-order table (one whose
    sub-tables are split by others, like `[workspace]` ... `[workspace.dependencies]`)."""
    return isinstance(value, MutableMapping)


def dependency_tables(document: Any) -> Iterator[Any]:
    """Every dependency table of a tomlkit document (its own, per target; not the workspace's)."""
    return _tomlkit_dependency_tables(document, workspace=False)


def is_table(value: Any) -> bool:
    return _is_table(value)


def _tomlkit_dependency_tables(document: Any, *, workspace: bool) -> Iterator[Any]:
    for name in _DEP_TABLES:
        if _is_table(document.get(name)):
            yield document[name]
    target = document.get("target")
    if _is_table(target):
        for platform in target.values():
            for name in _DEP_TABLES:
                if _is_table(platform.get(name)):
                    yield platform[name]
    ws = document.get("workspace")
    if workspace and _is_table(ws) and _is_table(ws.get("dependencies")):
        yield ws["dependencies"]


def _rewrite_entry(
    table: Any,
    name: str,
    version: str,
    manifest: Path,
    copy: Path,
    root: Path,
    sources: Mapping[str, Path],
) -> None:
    entry = table[name]
    package = entry.get("package", name) if _is_table(entry) else name
    if package not in PYO3_CRATES:
        if _is_table(entry) and isinstance(entry.get("path"), str):
            original = (root / manifest.parent.relative_to(copy) / entry["path"]).resolve()
            if not original.is_relative_to(root.resolve()):
                entry["path"] = str(original)  # a path dependency outside the copied project
        return
    if entry.get("workspace") is True if _is_table(entry) else False:
        return  # the version lives in [workspace.dependencies]
    if package in sources:  # a PyO3 commit: its crate by path, whatever version it says
        if isinstance(entry, str):
            entry = table[name] = tomlkit.inline_table()
        for key in (*_SOURCE_KEYS, "version"):
            entry.pop(key, None)
        entry["path"] = str(sources[package])
        return
    if isinstance(entry, str):
        table[name] = version
        return
    for key in _SOURCE_KEYS:
        entry.pop(key, None)
    entry["version"] = version


def _move_companion(table: Any, name: str, companions: Mapping[str, str]) -> None:
    """A companion's entry asks for exactly the chosen version; features and the rest stay."""
    entry = table[name]
    crate = entry.get("package", name) if _is_table(entry) else name
    if crate not in companions or (_is_table(entry) and entry.get("workspace") is True):
        return
    if isinstance(entry, str):
        table[name] = f"={companions[crate]}"
    else:
        entry["version"] = f"={companions[crate]}"


def _add_features(document: Any, features: Sequence[str]) -> None:
    if not features:
        return
    for table in _tomlkit_dependency_tables(document, workspace=False):
        if "pyo3" in table:
            entry = table["pyo3"]
            if isinstance(entry, str):
                entry = tomlkit.inline_table()
                entry["version"] = table["pyo3"]
                table["pyo3"] = entry
            have = [str(f) for f in entry.get("features", [])]
            entry["features"] = have + [f for f in features if f not in have]
            return
