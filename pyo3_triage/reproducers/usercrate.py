"""Bring your own reproducer: an existing maturin project plus the command that shows the bug.

`--crate PATH --run "python repro.py"` turns the project into a scenario. For each PyO3 release
the project is copied (the user's files are never modified), the `pyo3` dependency in the
copy's Cargo.toml is rewritten to the release (features kept), the copy's lockfile is pinned so
every `pyo3*` crate is at that release, and maturin builds it like any other cell.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from packaging.version import Version

from pyo3_triage import hashes, semantics
from pyo3_triage.building import locks
from pyo3_triage.building.build import Prepared
from pyo3_triage.building.locks import ResolvedLock
from pyo3_triage.building.toolchain import Toolchain
from pyo3_triage.errors import UserError
from pyo3_triage.reproducers import accepting, manifests
from pyo3_triage.reproducers.companions import Choice, Companion, choose_all
from pyo3_triage.reproducers.manifests import Project
from pyo3_triage.reproducers.reproducer import PYTHON_VALUE_OPTIONS
from pyo3_triage.reproducers.scenarios import DEFAULT_TIMEOUT, digest, installs
from pyo3_triage.system import areas
from pyo3_triage.system.areas import Area
from pyo3_triage.system.paths import Layout, ours
from pyo3_triage.versions.releases import Release

# Never content, at any depth: version control, caches, and tools' own folders.
SKIP_DIRS = {
    ".git",
    ".hg",
    ".svn",
    ".venv",
    ".nox",
    ".tox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "__pycache__",
}
# Build output and environments where tools put them (`target` beside a Cargo.toml, the
# others at the project's root); a `src/build/` module or a package's `dist/` is content.
OUTPUT_DIRS = {"target", "build", "dist", "venv"}
SKIP_SUFFIXES = (".so", ".pyd", ".whl", ".pyc")


MAX_NAMED_FILES = 5000  # a folder named by --run beyond this is refused, not fingerprinted
# Part of a user crate's build key. 2: the key no longer names the template's probe lock for
# the release (the crate pins its own lock as it is written), so no build keyed before is reused.
KEY_SCHEME = 2


@dataclass(frozen=True)
class UserCrate:
    """The user's own maturin project and the command that shows the bug (`--crate`, `--run`;
    a `reproducer.Reproducer`). Built from a copy moved to each release; run in a copy of
    its own, where its source package cannot stand in for the wheel (`run_copy`)."""

    name: str
    folder: Path  # where the command runs: the crate's start folder
    description: str
    timeout: float
    module: str
    run: tuple[str, ...]  # the command, paths outside the project made absolute
    source_hash: str  # the project's content
    run_inputs: str  # content of files the run command names outside the project
    project: Project  # where the crate lives, as cargo sees it
    # Installed beside the extension before the run (`--with`, `--extra`): part of the run's
    # key. `with_` and `install_extra` are what the user typed, for reproduce commands.
    requirements: tuple[str, ...] = ()
    with_: tuple[str, ...] = ()
    install_extra: str = ""
    no_deps: bool = False  # `--no-deps`: the project's own dependencies are left out
    # Its dependencies that depend on PyO3 themselves, with their versions on crates.io
    # (read by `selection`): each cell moves them to a version that accepts its release.
    companions: tuple[Companion, ...] = ()

    # The project's Rust (its first MAX_SOURCE_TEXT characters): words for CHANGELOG suspects.
    source_text: str = field(default="", repr=False, compare=False)

    upstream = ""

    @property
    def own_abi3(self) -> str | None:
        return self.project.abi3 or None  # the crate's own stable-ABI build: kept, labelled

    @property
    def command(self) -> str:
        return shlex.join(self.run)

    def excludes(self, python: Version) -> str | None:
        return self.project.excludes(python)  # requires-python, or the abi3 floor

    def rust_excludes(self, rust: Version) -> str | None:
        return self.project.rust_excludes(rust)  # its rust-version, or its edition

    @property
    def toolchain_file(self) -> str:
        """The rust-toolchain file rustup would follow in the project ("" if none): builds
        name their toolchain to rustup instead, so the records say what really built."""
        root = self.project.root.resolve()
        folder = self.folder
        for here in [folder, *folder.parents]:
            for name in ("rust-toolchain.toml", "rust-toolchain"):
                if (here / name).is_file():
                    return str((here / name).relative_to(root))
            if here == root:
                break
        return ""

    def companions_for(self, release: Version) -> Choice:
        return choose_all(self.companions, release)

    def selector(self) -> tuple[str, ...]:
        extra = ("--extra", self.install_extra) if self.install_extra else ()
        timeout = ("--timeout", f"{self.timeout:g}")
        return (
            "--crate",
            str(self.folder),
            "--run",
            self.command,
            *timeout,
            *extra,
            *(("--no-deps",) if self.no_deps else ()),
            *installs(self.with_),
        )

    def argv(self, python: Path) -> list[str]:
        """`python` in the command means the cell's venv interpreter."""
        first, *rest = self.run
        if _is_python(first):
            first = str(python)
        return [first, *rest]

    needs_release_lock = False  # it pins its own lock as its crate is written (`MovedCrate`)

    def crate_for(
        self, release: Release, lock: ResolvedLock | None, abi3: str | None
    ) -> MovedCrate:
        """The project moved to the release when it is written (its key follows its content;
        `lock`, the template's lock for the release, is not used: it pins its own)."""
        choice = self.companions_for(release.version)
        features = (abi3,) if abi3 else ()
        tree = release.source
        patched = tuple(accepting.to_patch(self.companions, choice, tree)) if tree else ()
        return MovedCrate(self, release.cargo_version, features, choice.versions, tree, patched)

    def run_folder(self, layout: Layout, build_key: str, record_key: str) -> tuple[Area, Path]:
        """The folder the user named, in a copy of the project of the run's own (`ready`), so
        `python repro.py` finds its script and the files beside it."""
        work = layout.work(record_key)
        return work, work.path / self.project.workdir

    def ready(self, folder: Path) -> None:
        """Copy the project for the run (`run_folder`) without its source packages'
        `__init__.py` files (`run_copy`), so the run imports the installed wheel whatever
        folder its script is in."""
        root = folder
        for _ in Path(self.project.workdir).parts:
            root = root.parent
        run_copy(self, root)

    @property
    def top_package(self) -> str:
        """The name `import` looks up first: `mypkg` of `mypkg._lib`."""
        return self.module.split(".", 1)[0]

    @property
    def packages(self) -> tuple[str, ...]:
        """The module's package, and the package named after the project (`[project] name`
        `my-pkg` is `my_pkg`), which older maturin put the extension in."""
        named = re.sub(r"[-.]+", "_", self.project.name).lower()
        return tuple(dict.fromkeys(n for n in (self.top_package, named) if n.isidentifier()))

    def registry_dependencies(self) -> Sequence[tuple[str, str, tuple[str, ...]]]:
        return manifests.registry_dependencies(self.project)

    def with_companions(self, found: tuple[Companion, ...]) -> UserCrate:
        return replace(self, companions=found)

    def question_args(self) -> tuple[str, ...]:
        return self.selector()  # the same project asked with another command is another question

    @property
    def build_hash(self) -> str:
        return digest([self.module, "", "", "", self.source_hash])

    @property
    def run_hash(self) -> str:
        parts = [self.build_hash, self.command, repr(self.timeout), self.run_inputs]
        return digest([*parts, *self.requirements])


@dataclass(frozen=True)
class MovedCrate:
    """A user's project for one release (a `reproducer.Crate`): copied, its `pyo3*` and
    companion dependencies moved to the release, and its own lock pinned as it is written."""

    user: UserCrate
    pyo3: str  # the release, as cargo spells it
    features: tuple[str, ...]  # added to its pyo3 dependency, e.g. ("abi3-py37",)
    companions: tuple[tuple[str, str], ...]  # (crate, version) its companions move to
    tree: Path | None = None  # a PyO3 commit's source: its crates by path (`pyo3` is "git:...")
    # Companions whose requirement the commit's version does not meet, made to accept it
    # (`accepting`): copied into the project's copy and patched in by path.
    accepting: tuple[tuple[str, str], ...] = ()

    def key_parts(self) -> dict[str, object]:
        # The user's project by content, and how it is moved to the release (the rewrite, the
        # pinning, the companion crates' versions): each changes what gets built.
        moved = ",".join(f"{crate}={vers}" for crate, vers in self.companions)
        source = f"{self.user.build_hash}-rewrite{semantics.REWRITE.version}-{moved}"
        parts: dict[str, object] = {"source": source, "usercrate": KEY_SCHEME}
        if self.accepting:  # only then: every key made before stays as it was
            parts["accepting"] = ",".join(f"{crate}={vers}" for crate, vers in self.accepting)
        return parts

    def write(self, into: Path, toolchain: Toolchain, log: Path) -> Prepared:
        """Copy the project, point it at the release and pin its lock (fresh when the user's
        own Cargo.lock cannot be moved to this release, or a toolchain was chosen)."""
        try:
            prepare(
                self.user,
                self.pyo3,
                into,
                list(self.features),
                dict(self.companions),
                self.tree,
                self.accepting,
            )
        except accepting.VendorError as err:
            raise locks.ResolveError(str(err), log) from None
        log.parent.mkdir(parents=True, exist_ok=True)
        log.unlink(missing_ok=True)
        project = self.user.project
        folder = into / project.lock_dir
        names = [name for name, _ in self.companions]
        if toolchain.rust_name:
            # A toolchain chosen with --rust gets the dependency versions that fit it
            # (Rust-version-aware resolution), not the project's own lock, which may hold
            # crates newer than it can build.
            (folder / "Cargo.lock").unlink(missing_ok=True)
        if self.tree is not None:
            pinned = locks.settle(folder, self.pyo3, toolchain, log, names)
            return Prepared(into / project.manifest, into / project.workdir, pinned)
        try:
            pinned = locks.pin(folder, self.pyo3, toolchain, log, names)
        except locks.ResolveError as err:
            if err.own:  # the manifest itself asks for what the release lacks: no lock helps
                raise
            (folder / "Cargo.lock").unlink(missing_ok=True)
            pinned = locks.pin(folder, self.pyo3, toolchain, log, names)
        return Prepared(into / project.manifest, into / project.workdir, pinned)


def _files(root: Path, limit: int | None = None) -> list[Path]:
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if not _skipped(here / d, here == root, files))
        for name in sorted(files):
            if not name.endswith(SKIP_SUFFIXES):
                found.append(here / name)
            if limit is not None and len(found) >= limit:
                return found
    return found


def _skipped(folder: Path, at_root: bool, siblings: list[str]) -> bool:
    """Not part of a project's content: see SKIP_DIRS and OUTPUT_DIRS; also any virtual
    environment (it holds `pyvenv.cfg`) and the tool's own results and caches."""
    name = folder.name
    if name in SKIP_DIRS or name.endswith(".egg-info") or ours(folder):
        return True
    if name in OUTPUT_DIRS and (at_root or (name == "target" and "Cargo.toml" in siblings)):
        return True
    return (folder / "pyvenv.cfg").is_file()


MAX_SOURCE_TEXT = 256 * 1024


def rust_text(root: Path) -> str:
    """The project's `.rs` files, up to MAX_SOURCE_TEXT characters in all."""
    parts: list[str] = []
    size = 0
    for path in _files(root):
        if path.suffix != ".rs" or size >= MAX_SOURCE_TEXT:
            continue
        try:
            text = path.read_text(encoding="utf-8", errors="replace")[: MAX_SOURCE_TEXT - size]
        except OSError:
            continue
        parts.append(text)
        size += len(text)
    return "\n".join(parts)


def content_hash(root: Path) -> str:
    """A file or a folder's files (names and bytes), named by content."""

    def chunks() -> Iterator[bytes]:
        for path in _files(root) if root.is_dir() else [root]:
            name = str(path.relative_to(root)) if root.is_dir() else root.name
            yield name.encode() + b"\0" + path.read_bytes() + b"\0"

    return hashes.digest_chunks(chunks(), hashes.CONTENT)


def project_hash(project: Project) -> str:
    """The project's content and that of path dependencies it reads from outside itself
    (`core = { path = "../core" }`): editing either builds again."""
    parts = [content_hash(project.root)]
    parts += [f"{folder}\0{content_hash(folder)}" for folder in manifests.outside_paths(project)]
    return parts[0] if len(parts) == 1 else hashes.digest("\0".join(parts), hashes.CONTENT)


def outside_inputs(argv: tuple[str, ...], root: Path) -> tuple[tuple[str, ...], str]:
    """The run command with paths outside the project made absolute (it runs in a copy of the
    project, where `../smoke.py` would point elsewhere), and a hash of what those paths hold.

    A result must follow its inputs: a script or test folder the command names outside the
    project is part of the record key, so editing it reruns the cell without --rerun."""
    words: list[str] = []
    named: list[bytes] = []
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
            named.append(str(path).encode() + b"\0" + content_hash(path).encode() + b"\0")
            word = f"{prefix}={path}" if prefix else str(path)
        words.append(word)
    return tuple(words), hashes.digest_chunks(named, hashes.CONTENT) if named else ""


def named_files(argv: tuple[str, ...]) -> list[str]:
    """The files a run command needs before it starts: `python SCRIPT`'s script, and the test
    files `python -m pytest` is given (a node id's `::test` part dropped)."""
    first, *rest = argv
    if not _is_python(first):
        return []
    words = iter(rest)
    for word in words:
        if word in PYTHON_VALUE_OPTIONS:
            next(words, None)
        elif word == "-m":
            module = next(words, "")
            args = list(words)
            if module != "pytest":
                return []
            return [a.split("::", 1)[0] for a in args if not a.startswith("-") and _pathlike(a)]
        elif word == "-c" or word == "-":
            return []
        elif not word.startswith("-"):
            return [word]
    return []


def _pathlike(word: str) -> bool:
    """A test file named to pytest (not any word with a slash: `--junitxml out/r.xml` names a
    file pytest will make)."""
    return word.split("::", 1)[0].endswith(".py")


def _is_python(word: str) -> bool:
    """The command's first word names Python (then it runs as the cell's venv interpreter)."""
    return word in ("python", "python3") or word.startswith("python3.")


def _check_named_files(argv: tuple[str, ...], start: Path) -> None:
    """A script the command runs that is not there would make every cell an `error` and a
    bisect a confident "no change": refuse it before anything is built."""
    for name in named_files(argv):
        path = Path(name).expanduser()
        if not (path if path.is_absolute() else start / path).exists():
            raise UserError(
                f"--run names {name}, which is not in {start} (the folder the command runs "
                "from); check the name"
            )


def _check_self_import(argv: tuple[str, ...], top: str) -> None:
    """A check script named like the module it tests (`mypkg.py` doing `import mypkg`)
    imports itself, in every cell: refuse it before anything is built."""
    for name in named_files(argv):
        path = Path(name)
        if path.suffix == ".py" and path.stem == top:
            raise UserError(
                f"--run names {name}, which is named like the module it tests: `import {top}` "
                f"in it imports the script itself, not the extension; rename it (e.g. "
                f"repro_{top}.py)"
            )


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def load(
    path: str,
    run: str,
    timeout: float = DEFAULT_TIMEOUT,
    extra: str | None = None,
    no_deps: bool = False,
) -> UserCrate:
    """The user's project as a scenario; anything that could not be built is refused here,
    in one line, before a cell is planned. Its `[project] dependencies` are installed beside
    the wheel, as installing the wheel would (unless `no_deps`), with `extra`'s."""
    project = manifests.find(Path(path))
    start = (project.root / project.workdir).resolve()
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
    _check_named_files(argv, start)
    _check_self_import(argv, project.module.split(".", 1)[0])
    argv, run_inputs = outside_inputs(argv, start)
    # Named as the project names itself (an sdist's folder carries its version: blake3-1.0.11)
    name = re.sub(r"[^A-Za-z0-9_-]", "_", project.name or start.name) or "crate"
    return UserCrate(
        name=name,
        folder=start,
        description=f"{project.name or start.name}, run with: {shlex.join(argv)}",
        timeout=timeout,
        module=project.module,
        run=argv,
        source_hash=project_hash(project),
        run_inputs=run_inputs,
        project=project,
        requirements=manifests.extra_requirements(
            project, extra or manifests.BASE, own=not no_deps
        ),
        source_text=rust_text(project.root),
        install_extra=extra or "",
        no_deps=no_deps,
    )


PREPARED = ".pyo3-triage-prepared"  # written last: the copy in the folder is whole


def prepare(
    crate: UserCrate,
    pyo3_version: str,
    into: Path,
    extra_features: list[str] | None = None,
    companions: Mapping[str, str] | None = None,
    tree: Path | None = None,
    patched: Sequence[tuple[str, str]] = (),
) -> None:
    """Copy the project into `into` and point its pyo3* dependencies at one release (with
    `patched`, companions made to accept a commit's tree: see `accepting`).

    The folder's content follows from its build key, and a run may be using it (the run
    command runs there), so a whole copy is kept as it is; a new one is made beside it and
    moved into place, so a half-made copy is never seen."""
    if (into / PREPARED).is_file():
        return
    project = crate.project
    making = areas.making(into)
    shutil.rmtree(making, ignore_errors=True)
    for path in _files(project.root):
        target = making / path.relative_to(project.root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    manifests.rewrite(making, project, pyo3_version, extra_features or [], companions, tree)
    if tree is not None and patched:
        accepting.vendor(making, project, patched, tree)
    (making / PREPARED).write_text(f"{crate.name} for pyo3 {pyo3_version}\n", encoding="utf-8")
    shutil.rmtree(into, ignore_errors=True)  # a copy from before this marker existed
    making.replace(into)


def run_copy(crate: UserCrate, into: Path) -> None:
    """Copy the project into `into` for a run, leaving out the `__init__.py` files in every
    folder named like the package the wheel installs (`mypkg/` beside Cargo.toml, or under
    maturin's python-source) and in the folders below it.

    Python puts a script's folder (for `-c`, `-m` and pytest's rootdir, the current one)
    first on `sys.path`, so a source `mypkg/` beside `repro.py` would be imported instead of
    the wheel, which holds its Python files and the compiled module. Without `__init__.py`
    the source folder is at most a namespace portion, which any regular package found later
    on `sys.path` (the wheel's) takes precedence over (PEP 420, every Python 3). Its other
    files stay where they were, so paths the script reads keep working."""
    if (into / PREPARED).is_file():
        return
    making = areas.making(into)
    shutil.rmtree(making, ignore_errors=True)
    top = crate.top_package
    for path in _files(crate.project.root):
        relative = path.relative_to(crate.project.root)
        if path.name == "__init__.py" and top in relative.parent.parts:
            continue
        target = making / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    (making / PREPARED).write_text(f"{crate.name}: the run's copy\n", encoding="utf-8")
    shutil.rmtree(into, ignore_errors=True)
    making.replace(into)
