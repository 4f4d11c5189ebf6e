"""The one module that knows the on-disk layout: cache and results.

Everything the tool writes lives under two roots. The cache (rebuildable: index copies,
resolved lockfiles, rendered crates, cargo target dirs, wheels, venvs) defaults to
`$PYO3_TRIAGE_CACHE`, else `$XDG_CACHE_HOME/pyo3-triage`, else `~/.cache/pyo3-triage`. The
results (evidence: records, logs, tables) default to `./results`. No other module builds a path
string; writes go through `write_atomic` so a crash never leaves half a file behind.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from filelock import Timeout

from pyo3_triage.errors import UserError
from pyo3_triage.system.areas import PARTIAL, Area, Kind, taken_alone, tree_size

CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This folder is a cache made by pyo3-triage; it can be deleted at any time.\n"
)
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]")


def slug(text: str) -> str:
    """A file-name-safe form of a version or name (no separators, no shell metacharacters)."""
    safe = _UNSAFE.sub("_", text)
    return "_" + safe if safe.strip(".") == "" else safe


def default_cache_root() -> Path:
    if env := os.environ.get("PYO3_TRIAGE_CACHE"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "pyo3-triage"


# Where the project's own files live: the checkout this package runs from, or (installed from a
# wheel) the package itself, which then carries the template and the library.
PACKAGE = Path(__file__).resolve().parent.parent
CHECKOUT = PACKAGE.parent


def _own(name: str, packaged: str = "") -> Path:
    """A folder of the checkout, or its copy in the package (named `packaged` there when the
    checkout's name is taken by a module)."""
    inside = PACKAGE / (packaged or name)
    return inside if inside.is_dir() else CHECKOUT / name


def noxfile() -> Path | None:
    """This checkout's noxfile (printed commands name it, so they run from any folder); None
    when the tool was installed from a wheel."""
    found = CHECKOUT / "noxfile.py"
    return found if found.is_file() and (CHECKOUT / "pyo3_triage").is_dir() else None


def template_dir() -> Path:
    """The crate template every scenario is rendered into."""
    return _own("crate_template")


def starter_list() -> Path:
    """The ecosystem command's starter list of real projects and its checks."""
    return _own("ecosystem", "starter") / "projects.toml"


def scenario_library() -> Path:
    """The project's own scenario library (override with $PYO3_TRIAGE_SCENARIOS)."""
    if env := os.environ.get("PYO3_TRIAGE_SCENARIOS"):
        return Path(env)
    return _own("scenarios")


def matrix_command() -> list[str]:
    """How printed commands start a matrix: the checkout's nox session, or the console script."""
    found = noxfile()
    return ["nox", "-f", str(found), "-s", "matrix", "--"] if found else ["pyo3-triage", "matrix"]


@dataclass(frozen=True)
class Cleaned:
    """What `--clean` did: bytes freed, and the folders it left because a run holds them."""

    freed: int
    kept: tuple[Path, ...]


@dataclass(frozen=True)
class Layout:
    """Where everything lives; construct once per run from the CLI's --cache / --results."""

    cache: Path
    results: Path

    @classmethod
    def default(cls, cache: Path | None = None, results: Path | None = None) -> Layout:
        return cls(
            cache=Path(os.path.abspath(cache or default_cache_root())),
            results=Path(os.path.abspath(results or "results")),
        )

    # --- cache ---------------------------------------------------------------------------
    def index_file(self, crate: str) -> Path:
        return self.cache / "index" / f"{slug(crate)}.jsonl"

    def resolve_dir(self, pyo3: str) -> Path:
        """A throwaway crate used to resolve (and pin) the lockfile of one PyO3 release."""
        return self.cache / "resolve" / slug(pyo3)

    # "lock" is a Cargo.lock here; an inter-process lock is a "mutex".
    def pinned_lock(self, pyo3: str) -> Path:
        """The Cargo.lock resolved (and pinned) once for a PyO3 release."""
        return self.cache / "locks" / slug(pyo3) / "Cargo.lock"

    def pinned_lock_info(self, pyo3: str) -> Path:
        return self.cache / "locks" / slug(pyo3) / "resolved.json"

    def python_pins(self, name: str) -> Path:
        """The versions one set of Python requirements resolved to for one interpreter, the
        first time (`venvs.install_requirements`): later venvs get the same."""
        return self.cache / "locks" / "python" / f"{slug(name)}.txt"

    # --- areas: the folders eviction may take, each with its locks (see system/areas.py) ----
    def area(self, kind: Kind, name: str) -> Area:
        """The area `name` of a kind; its lock files are named after it, here only."""
        name = slug(name)
        return Area(
            kind,
            self.cache / kind.value / name,
            mutex=self.mutex(f"{kind.prefix}-{name}"),
            hold=self.cache / "locks.d" / f"use-{kind.prefix}-{name}.db",
        )

    def crate(self, build_key: str) -> Area:
        """The crate a build compiles: a scenario rendered, or a copy of a user's project."""
        return self.area(Kind.CRATE, build_key)

    def vendored(self, build_key: str) -> tuple[Path, Path]:
        """For a cargo that cannot reach crates.io here (`build._vendored`): the build's
        dependencies copied beside its crate, and the cargo home whose config points there
        (both inside the crate's area, evicted with it)."""
        crate = self.crate(build_key).path
        return crate / ".triage-vendor", crate / ".triage-cargo-home"

    def target(self, series: str, interpreter_tag: str) -> Area:
        """A cargo target dir for an interpreter: "shared" by every release (the default),
        "git" for PyO3 commits, or one PyO3 release's own (`--isolated-builds`)."""
        return self.area(Kind.TARGET, f"{slug(series)}-{slug(interpreter_tag)}")

    def wheels(self, build_key: str) -> Area:
        """A build's wheel, with its log, info and (a user's crate) pinned lock."""
        return self.area(Kind.WHEEL, build_key)

    def venv(self, venv_name: str, interpreter_tag: str) -> Area:
        """One venv per build and interpreter: concurrent runs never reinstall under each other."""
        return self.area(Kind.VENV, f"{slug(venv_name)}-{slug(interpreter_tag)}")

    def tree(self, tree: str) -> Area:
        """A PyO3 commit's source, extracted once per tree hash (`--pyo3-git`)."""
        return self.area(Kind.GIT_TREE, tree)

    def work(self, record_key: str) -> Area:
        """A scenario driver's current directory, one per record key."""
        return self.area(Kind.WORK, record_key)

    def areas(self, kind: Kind) -> list[Area]:
        """Every area of a kind now in the cache."""
        try:
            found = sorted(p.name for p in (self.cache / kind.value).iterdir() if p.is_dir())
        except OSError:
            return []
        return [self.area(kind, name) for name in found if not name.endswith(PARTIAL)]

    def build_info(self, build_key: str) -> Path:
        return self.wheels(build_key).path / "build.json"

    def cached_build_log(self, build_key: str) -> Path:
        """The cache's copy of a build's log: the results folder that first held it may be gone."""
        return self.wheels(build_key).path / "build.log"

    def cached_build_lock(self, build_key: str) -> Path:
        """The Cargo.lock a user crate's build was pinned to, kept with the cached build."""
        return self.wheels(build_key).path / "Cargo.lock"

    def mutex(self, name: str) -> Path:
        """An inter-process lock's file (an area's mutex, or a lockfile being resolved)."""
        return self.cache / "locks.d" / f"{slug(name)}.lock"

    def git_clone(self, name: str) -> Path:
        """This tool's own bare clone of a `--pyo3-git` URL."""
        return self.cache / "git-clones" / slug(name)

    def toolchain_file(self) -> Path:
        return self.cache / "toolchain.json"

    def sdist_file(self, sha256: str, filename: str) -> Path:
        """A project's sdist from PyPI (`ecosystem`), filed by its hash: downloaded once."""
        return self.cache / "sdists" / slug(sha256) / slug(filename)

    def sdist_named(self, name: str, version: str) -> Path:
        """Which sdist PyPI gives for a project's version (its file name, url and sha256), so
        a second run needs no network."""
        return self.cache / "sdists" / "by-name" / f"{slug(name)}-{slug(version)}.json"

    def sdist_unpacked(self, sha256: str) -> Path:
        """An sdist unpacked once (the project it holds is copied for each build)."""
        return self.cache / "sdists" / "unpacked" / slug(sha256)

    # --- results -------------------------------------------------------------------------
    def records_dir(self) -> Path:
        return self.results / "records"

    def record_file(self, scenario: str, key: str) -> Path:
        return self.records_dir() / slug(scenario) / f"{key}.json"

    def record_mutex(self, key: str) -> Path:
        """Held while a cell is computed, so two runs on one cache never compute the same
        record at once (in the cache: the results folder holds evidence only)."""
        return self.mutex(f"record-{key}")

    def logs_dir(self) -> Path:
        return self.results / "logs"

    def build_log(self, scenario: str, pyo3: str, python: str, build_key: str) -> Path:
        name = f"{slug(scenario)}-pyo3-{slug(pyo3)}-py{slug(python)}-{build_key[:12]}.build.log"
        return self.logs_dir() / name

    def run_log(self, scenario: str, pyo3: str, python: str, key: str, attempt: int = 1) -> Path:
        suffix = "" if attempt == 1 else f".{attempt}"
        name = f"{slug(scenario)}-pyo3-{slug(pyo3)}-py{slug(python)}-{key[:12]}{suffix}.run.log"
        return self.logs_dir() / name

    def kept_lock(self, pyo3: str, lock_hash: str) -> Path:
        """The full Cargo.lock a cell was built with, kept beside the records for rebuilding."""
        return self.results / "locks" / f"{slug(pyo3)}-{slug(lock_hash)}.Cargo.lock"

    def matrix_markdown(self) -> Path:
        return self.results / "matrix.md"

    def report_markdown(self) -> Path:
        return self.results / "report.md"

    def question_file(self, kind: str, question: str) -> Path:
        """`matrix-<question>.md` / `report-<question>.md`: one kept file per question asked."""
        return self.results / f"{kind}-{slug(question)}.md"

    def latest_run(self) -> Path:
        """Which version (run hash) of each reproducer the newest matrix run asked about: the
        report draws that one, even when every cell of that run came from stored records."""
        return self.results / "latest-run.json"

    def report_png(self) -> Path:
        return self.results / "matrix.png"

    def report_svg(self) -> Path:
        return self.results / "matrix.svg"

    def interpreter_memo(self) -> Path:
        """What each interpreter found said of itself, kept while its file is unchanged."""
        return self.cache / "index" / "interpreters.json"

    def chart_digest(self) -> Path:
        """What the chart files show (`chart.shows`), so an unchanged chart is not drawn again."""
        return self.results / ".matrix.digest"

    def ecosystem_report(self, suffix: str) -> Path:
        """`ecosystem.md` / `ecosystem.json`: the last ecosystem run's (or merge's) report."""
        return self.results / f"ecosystem.{suffix}"

    def bisect_report(
        self, scenario: str, axis: str, low: str, high: str, question: str, suffix: str
    ) -> Path:
        """`bisect-<scenario>-<axis>-<from>-<to>[-<question>].<suffix>`: one file per question
        asked (the question names the verdict and build options that differ from the default)."""
        tail = f"-{slug(question)}" if question else ""
        name = f"bisect-{slug(scenario)}-{slug(axis)}-{slug(low)}-{slug(high)}{tail}.{suffix}"
        return self.results / name

    # --- housekeeping ----------------------------------------------------------------------
    def mark_results(self) -> None:
        """Mark the results folder as this tool's once something is stored in it, so a copy of
        a user's crate that holds it (`--crate .` with `./results`) leaves it out."""
        mark = self.results / RESULTS_MARK
        if not mark.exists():
            write_atomic(mark, "Results of pyo3-triage: records, logs, tables and reports.\n")

    def cache_areas(self) -> dict[str, Path]:
        """Every folder the tool creates under the cache root, by what it holds."""
        names = (
            "index",
            "resolve",
            "locks",
            *(kind.value for kind in Kind),
            "locks.d",
            "git-clones",
            "sdists",
        )
        return {name: self.cache / name for name in names}

    def cache_usage(self) -> dict[str, int]:
        """Bytes used per cache area (what `--cache-info` prints)."""
        return {name: tree_size(path) for name, path in self.cache_areas().items()}

    def tagged(self) -> bool:
        """The cache root holds the tag this tool wrote (not another program's, not none)."""
        try:
            return (self.cache / "CACHEDIR.TAG").read_text(encoding="utf-8") == CACHEDIR_TAG
        except (OSError, UnicodeDecodeError):
            return False

    def cache_hold(self) -> Path:
        """The whole cache's "in use" hold: every run holds it (shared) while it lives."""
        return self.cache / "locks.d" / "use-cache.db"

    def clean_cache(self) -> Cleaned:
        """Delete the tool's cache areas, and nothing else; only in a folder it tagged. Like
        eviction, it takes each area's hold and leaves alone what another run holds; the
        folders no area's hold covers (the crates index, resolved locks, clones) only when no
        run holds the cache; lock files never (another process may have one open)."""
        if not self.tagged():
            raise UserError(
                f"{self.cache} is not a cache this tool made (no CACHEDIR.TAG of pyo3-triage); "
                "nothing deleted; pass the --cache DIR the tool used"
            )
        freed, kept = 0, []
        for kind in Kind:
            folder = self.cache / kind.value
            try:
                names = sorted({p.name.removesuffix(PARTIAL) for p in folder.iterdir()})
            except OSError:
                continue
            for name in names:
                area = self.area(kind, name)
                size = tree_size(area.path) + tree_size(area.making)
                if area.evict():
                    freed += size
                else:
                    kept.append(area.path)
            with contextlib.suppress(OSError):
                folder.rmdir()  # empty now, unless an area was kept
        shared = [self.cache / name for name in ("index", "resolve", "locks", "git-clones")]
        try:
            with taken_alone(self.cache_hold()):
                for path in shared:
                    freed += tree_size(path)
                    shutil.rmtree(path, ignore_errors=True)
        except Timeout:
            kept += [path for path in shared if path.exists()]
        return Cleaned(freed, tuple(kept))

    # --- checks --------------------------------------------------------------------------
    def ensure(self, *, cache: bool = True) -> None:
        """Create the cache (only with `cache`: a command that uses no cache must not create
        one) and check that the results folder can be written, or fail with one clear line
        (e.g. a root that is a file). The results folder is made by the first thing stored in
        it, so `--list` or bad input leaves no empty folder behind."""
        if cache:
            _check_writable(self.cache, "cache", create=True)
        _check_writable(self.results, "results", create=False)
        # Tag only a folder that is ours to tag: one with nothing else in it. A user who passes
        # --cache ~ must never make `--clean` think their home folder is a cache.
        tag = self.cache / "CACHEDIR.TAG"
        if cache and not tag.exists() and not any(self.cache.iterdir()):
            write_atomic(tag, CACHEDIR_TAG)


def _check_writable(root: Path, what: str, *, create: bool) -> None:
    """`root` is (or, made, would be) a folder this process can write to; else one line."""
    if root.exists() and not root.is_dir():
        raise UserError(f"the {what} folder {root} is a file; pass --{what} DIR")
    if not create and not root.exists():
        above = next((p for p in root.parents if p.exists()), None)
        if above is None or not above.is_dir() or not os.access(above, os.W_OK | os.X_OK):
            raise UserError(
                f"cannot create the {what} folder {root} ({above} is not a writable folder); "
                f"pass --{what} DIR with a writable folder"
            )
        return
    try:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=root, prefix=".write-test-"):
            pass
    except OSError as err:
        raise UserError(
            f"cannot write to the {what} folder {root} ({err.strerror}); "
            f"pass --{what} DIR with a writable folder"
        ) from None


def reproduce_folder(results: Path) -> Path:
    """Where a printed "reproduce that cell" command keeps its results: beside, not over, the
    tables of the run that printed it."""
    return results / "reproduce"


RESULTS_MARK = ".pyo3-triage-results"


def ours(folder: Path) -> bool:
    """A results folder or cache this tool made (e.g. `./results` inside the user's crate): never
    part of a project's content, never copied."""
    return (folder / RESULTS_MARK).is_file() or (folder / "CACHEDIR.TAG").is_file()


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Read once, at import, before any thread starts: reading it means setting it, and a process-wide
# umask of 0 while --jobs threads create files would give their files the wrong mode.
_UMASK = _read_umask()


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write text (or bytes) so that readers see the old file or the whole new one, never a part."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600; results are meant to be shared
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        if err.filename is None:  # a full disk fails in write() with no name: say which file
            raise OSError(err.errno, err.strerror, str(path)) from err
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_if_changed(path: Path, text: str) -> bool:
    """Write only when the content differs: cargo decides what to rebuild from mtimes."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    write_atomic(path, text)
    return True
