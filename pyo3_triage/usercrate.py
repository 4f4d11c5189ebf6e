"""Bring your own reproducer: an existing maturin project plus the command that shows the bug.

`--crate PATH --run "python repro.py"` turns the project into a scenario. For each PyO3 release
the project is copied (the user's files are never modified), the `pyo3` dependency in the
copy's Cargo.toml is rewritten to the release (features kept), the copy's lockfile is pinned so
every `pyo3*` crate is at that release, and maturin builds it like any other cell.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
from pathlib import Path

import tomlkit

from .errors import UserError
from .scenarios import DEFAULT_TIMEOUT, Scenario
from .tomlcompat import tomllib

SKIP_DIRS = {
    "target",
    ".git",
    ".hg",
    ".venv",
    "venv",
    ".nox",
    ".tox",
    "__pycache__",
    "build",
    "dist",
}
SKIP_SUFFIXES = (".so", ".pyd", ".whl", ".pyc")


MAX_NAMED_FILES = 5000  # a folder named by --run beyond this is refused, not fingerprinted


def _files(root: Path, limit: int | None = None) -> list[Path]:
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info"))
        for name in sorted(files):
            if not name.endswith(SKIP_SUFFIXES):
                found.append(Path(folder) / name)
            if limit is not None and len(found) >= limit:
                return found
    return found


def content_hash(root: Path) -> str:
    hasher = hashlib.sha256()
    for path in _files(root) if root.is_dir() else [root]:
        name = str(path.relative_to(root)) if root.is_dir() else root.name
        hasher.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return hasher.hexdigest()[:16]


def outside_inputs(argv: tuple[str, ...], root: Path) -> tuple[tuple[str, ...], str]:
    """The run command with paths outside the project made absolute (it runs in a copy of the
    project, where `../smoke.py` would point elsewhere), and a hash of what those paths hold.

    A result must follow its inputs: a script or test folder the command names outside the
    project is part of the record key, so editing it reruns the cell without --rerun."""
    words, hasher, named = [], hashlib.sha256(), False
    for word in argv:
        prefix, _, value = word.rpartition("=") if word.startswith("-") else ("", "", word)
        candidate = Path(value).expanduser()
        path = candidate if candidate.is_absolute() else root / candidate
        if value and not value.startswith("-") and path.exists() and not _inside(path, root):
            path = path.resolve()
            if path.is_dir() and len(_files(path, limit=MAX_NAMED_FILES + 1)) > MAX_NAMED_FILES:
                raise UserError(
                    f"--run names {path}, a folder of more than {MAX_NAMED_FILES} files, which "
                    "cannot be part of the record key; name the script or test folder itself"
                )
            hasher.update(str(path).encode() + b"\0" + content_hash(path).encode() + b"\0")
            named = True
            word = f"{prefix}={path}" if prefix else str(path)
        words.append(word)
    return tuple(words), hasher.hexdigest()[:16] if named else ""


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def _module_name(root: Path, manifest: dict[str, object]) -> str:
    """What `import` loads: maturin's module-name, else the Rust library's name."""
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as err:
            raise UserError(f"{pyproject} is not valid TOML ({err}); fix it") from None
        name = data.get("tool", {}).get("maturin", {}).get("module-name")
        if isinstance(name, str) and name:
            return name
    lib = manifest.get("lib", {})
    package = manifest.get("package", {})
    name = (lib.get("name") if isinstance(lib, dict) else None) or (
        package.get("name") if isinstance(package, dict) else None
    )
    if not isinstance(name, str):
        raise UserError(f"{root / 'Cargo.toml'} names no package; is this a maturin project?")
    return name.replace("-", "_")


def load(path: str, run: str, timeout: float = DEFAULT_TIMEOUT) -> Scenario:
    root = Path(path).expanduser().resolve()
    manifest_path = root / "Cargo.toml"
    if not manifest_path.is_file():
        raise UserError(
            f"--crate {path!r}: no Cargo.toml there; pass the folder of a maturin project"
        )
    try:
        manifest = tomllib.loads(manifest_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise UserError(f"{manifest_path} is not valid TOML ({err}); fix it") from None
    if "pyo3" not in manifest.get("dependencies", {}):
        raise UserError(f"{manifest_path} has no [dependencies] pyo3 entry to rewrite per release")
    try:
        argv = tuple(shlex.split(run))
    except ValueError as err:
        raise UserError(
            f"--run {run!r} cannot be split into a command ({err}); check its quotes"
        ) from None
    if not argv:
        raise UserError(
            '--run is empty; give the command that shows the bug, e.g. --run "python repro.py"'
        )
    argv, run_inputs = outside_inputs(argv, root)
    name = re.sub(r"[^A-Za-z0-9_-]", "_", root.name) or "crate"
    return Scenario(
        name=name,
        folder=root,
        description=f"{root.name}: `{shlex.join(argv)}`",
        upstream="",
        timeout=timeout,
        module=_module_name(root, manifest),
        classes=(),
        functions=(),
        rust_source="",
        driver=root,
        driver_source=shlex.join(argv),
        crate=root,
        run=argv,
        source_hash=content_hash(root),
        run_inputs=run_inputs,
    )


def prepare(
    scenario: Scenario, pyo3_version: str, into: Path, extra_features: list[str] | None = None
) -> None:
    """Copy the project into `into` and point its pyo3 dependency at one release."""
    assert scenario.crate is not None
    if into.exists():
        shutil.rmtree(into)
    for path in _files(scenario.crate):
        target = into / path.relative_to(scenario.crate)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    manifest = into / "Cargo.toml"
    document = tomlkit.parse(manifest.read_text(encoding="utf-8"))
    dependency = document["dependencies"]["pyo3"]  # type: ignore[index]
    if isinstance(dependency, str):
        dependency = tomlkit.inline_table()
        dependency["version"] = pyo3_version
        document["dependencies"]["pyo3"] = dependency  # type: ignore[index]
    else:
        for key in ("path", "git", "branch", "tag", "rev"):
            dependency.pop(key, None)  # type: ignore[union-attr]
        dependency["version"] = pyo3_version  # type: ignore[index]
    if extra_features:
        features = list(dependency.get("features", []))  # type: ignore[union-attr]
        dependency["features"] = features + [f for f in extra_features if f not in features]  # type: ignore[index]
    # Keep the copy out of any workspace above it.
    if "workspace" not in document:
        document["workspace"] = tomlkit.table()
    manifest.write_text(tomlkit.dumps(document), encoding="utf-8")
