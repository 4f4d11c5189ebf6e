"""Turn what the user typed (`--pyo3`, `--python`, `--scenario`) into releases, interpreters and
scenarios. Shared by the matrix and bisect entry points so both read selections the same way."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

from packaging.requirements import InvalidRequirement, Requirement

from pyo3_triage import interpreters
from pyo3_triage.errors import UserError
from pyo3_triage.interpreters import Interpreter
from pyo3_triage.reproducers import scenarios, usercrate
from pyo3_triage.reproducers.companions import Companion, parse_versions
from pyo3_triage.reproducers.reproducer import Reproducer
from pyo3_triage.reproducers.scenarios import Scenario
from pyo3_triage.system.paths import Layout
from pyo3_triage.toolchains import RustChoice
from pyo3_triage.versions import crates_index, gitrepo, releases
from pyo3_triage.versions.releases import Release
from pyo3_triage.versions.support import declares, stand_in

Notify = Callable[[str], None]


def split_list(values: Sequence[str] | None) -> list[str]:
    """`--scenario a,b --scenario c` -> [a, b, c]."""
    items: list[str] = []
    for value in values or ():
        items.extend(part.strip() for part in value.split(",") if part.strip())
    return items


def pick_reproducers(
    specs: Sequence[str] | None,
    crate: str | None = None,
    run: str | None = None,
    timeout: float | None = None,
    with_: Sequence[str] = (),
    extra: str | None = None,
    no_deps: bool = False,
) -> list[Reproducer]:
    """Named or path scenarios, or a user's crate; with none named, the library's default set.
    `with_` are requirements to install beside the extension; `extra` a crate's own extra."""
    requirements = _requirements(with_)
    if crate is not None or run is not None:
        if crate is None or run is None:
            raise UserError('--crate and --run go together: --crate PATH --run "python repro.py"')
        if specs:
            raise UserError("--crate replaces --scenario; pass one or the other")
        if timeout is not None and not 0 < timeout < 1e6:
            raise UserError(f"--timeout {timeout} must be a positive number of seconds")
        loaded = usercrate.load(crate, run, timeout or scenarios.DEFAULT_TIMEOUT, extra, no_deps)
        return [
            replace(loaded, requirements=loaded.requirements + requirements, with_=requirements)
        ]
    if timeout is not None:
        raise UserError("--timeout goes with --crate; a scenario sets its own in scenario.toml")
    if extra is not None:
        raise UserError("--extra names an extra of your own project: it goes with --crate")
    if no_deps:
        raise UserError(
            "--no-deps leaves your own project's dependencies out: it goes with --crate"
        )
    names = split_list(specs)
    chosen = scenarios.resolve_many(names) if names else _library_default()
    return [replace(s, requirements=requirements, with_=requirements) for s in chosen]


def with_companions(
    reproducers: Sequence[Reproducer], layout: Layout, notify: Notify
) -> list[Reproducer]:
    """Each reproducer with its companion crates (a user's crate's dependencies that depend on
    PyO3) and every version crates.io has of each, so each cell can move them with the release."""
    return [_with_companions(r, layout, notify) for r in reproducers]


def _with_companions(crate: Reproducer, layout: Layout, notify: Notify) -> Reproducer:
    wanted = crate.registry_dependencies()
    if not wanted:
        return crate.with_companions(())

    def load(dependency: tuple[str, str, tuple[str, ...]]) -> Companion | tuple[str, str]:
        local, name, features = dependency
        try:
            return _load_companion(name, layout.index_file(name), local, features)
        except UserError as err:
            return name, err.message

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:  # a fetch is I/O
        loaded = list(pool.map(load, wanted))
    for item in loaded:
        if isinstance(item, tuple):
            name, why = item
            notify(f"cannot tell whether {name} depends on PyO3 ({why}); left as the project asks")
    found = tuple(c for c in loaded if isinstance(c, Companion) and c.involves_pyo3())
    if found:
        names = ", ".join(c.crate for c in found)
        notify(f"companion crates of {crate.name} move with each release: {names}")
    return crate.with_companions(found)


def _load_companion(
    crate: str, cache_file: Path, local: str, features: tuple[str, ...]
) -> Companion:
    """A dependency of the project with every version crates.io has (see `companions`)."""
    found = crates_index.load_text(
        crate, cache_file, readable=lambda text: bool(parse_versions(text, crate))
    )
    return Companion(local, crate, features, parse_versions(found.text, crate))


def _library_default() -> list[Scenario]:
    library = scenarios.library()
    if not library:
        raise UserError(f"no scenarios in {scenarios.builtin_dir()}; pass --scenario PATH")
    defaults = [s for s in library if s.metadata.get("default") is True]
    return defaults or library


def _requirements(values: Sequence[str]) -> tuple[str, ...]:
    """`--with` values as PEP 508 requirements (checked here: never handed to a shell)."""
    checked = []
    for value in values:
        try:
            checked.append(str(Requirement(value)))
        except InvalidRequirement as err:
            raise UserError(
                f"--with {value!r} is not a requirement ({err}); e.g. --with pytest"
            ) from None
    return tuple(checked)


def pick_releases(
    spec: str,
    layout: Layout,
    notify: Notify,
    *,
    pre: bool = False,
    yanked: bool = False,
    newest_patch: bool = False,
) -> list[Release]:
    index = None
    try:
        index = crates_index.load_index("pyo3", layout.index_file("pyo3"))
    except UserError:
        if not releases.exact_only(spec):
            raise
        notify("crates.io unreachable and no cached release list; using the exact versions named")
    if index is not None and index.from_cache_offline:
        notify(crates_index.offline_notice(index))
    chosen = releases.select_releases(
        spec, index, pre=pre, yanked=yanked, newest_patch=newest_patch
    )
    try:
        guessed = stand_in([release.version for release in chosen])
    except LookupError as err:
        raise UserError(f"{err}; choose releases from 0.16.0 on") from None
    if guessed is not None:
        notify(guessed)
    return chosen


def pick_interpreters(
    spec: str | None,
    chosen_releases: Sequence[Release],
    notify: Notify,
    *,
    find: Callable[[], list[Interpreter]] = interpreters.discover,
) -> list[Interpreter]:
    """With no spec: every CPython found that at least one chosen release declares support for."""
    found = find()
    if not found:
        raise UserError(
            "no CPython interpreter found on PATH, under pyenv or uv; pass --python PATH"
        )
    picked = interpreters.select_interpreters(spec, found, notify=notify)
    if spec is not None:
        return picked
    useful = [
        i for i in picked if any(declares(r.version, i.version, i.build) for r in chosen_releases)
    ]
    skipped = [i.label for i in picked if i not in useful]
    if skipped:
        notify(f"skipping CPython {', '.join(skipped)}: no selected PyO3 release supports it")
    if not useful:
        raise UserError(
            "none of the CPython versions found is supported by the selected PyO3 releases; "
            "pass --python to choose anyway"
        )
    return useful


def drop_excluded(
    chosen: Sequence[Reproducer], found: Sequence[Interpreter], notify: Notify
) -> list[Interpreter]:
    """Interpreters the reproducers themselves accept (a user crate's requires-python or abi3
    floor); the dropped ones are named, and none left is an error."""
    return _accepted(
        found,
        lambda reproducer, interp: reproducer.excludes(interp.version),
        lambda interp: interp.name,
        chosen,
        notify,
        "every CPython selected is ruled out by the project itself (see the notes above); "
        "choose another --python",
    )


def drop_rust_excluded(
    chosen: Sequence[Reproducer], rusts: Sequence[RustChoice], notify: Notify
) -> tuple[RustChoice, ...]:
    """Toolchains the reproducers themselves accept (a user crate's rust-version or
    edition); the dropped ones are named, and none left of those asked is an error."""
    if not rusts:
        return ()
    kept = _accepted(
        rusts,
        lambda reproducer, rust: reproducer.rust_excludes(rust.version),
        lambda rust: f"Rust {rust.name}",
        chosen,
        notify,
        "every Rust toolchain selected is ruled out by the project itself (see the notes "
        "above); choose newer ones in --rust",
    )
    return tuple(kept)


_Item = TypeVar("_Item")


def _accepted(
    items: Sequence[_Item],
    excludes: Callable[[Reproducer, _Item], str | None],
    name: Callable[[_Item], str],
    chosen: Sequence[Reproducer],
    notify: Notify,
    none_left: str,
) -> list[_Item]:
    """The items some reproducer accepts; each one all of them rule out is named with their
    reasons, and none left is `none_left` as a one-line error."""
    kept = []
    for item in items:
        reasons = {r for reproducer in chosen if (r := excludes(reproducer, item))}
        if reasons and len(reasons) == len(chosen):
            notify(f"skipping {name(item)}: {'; '.join(sorted(reasons))}")
        else:
            kept.append(item)
    if not kept:
        raise UserError(none_left)
    return kept


def pick_repo(
    source: str | None, layout: Layout, *, fetch: bool = False, needed: bool = False
) -> gitrepo.Repo | None:
    """The `--pyo3-git` repository, or None; git:REV without one is refused."""
    if source is None:
        if needed:
            raise UserError("git:REV in --pyo3 names a PyO3 commit: pass --pyo3-git PATH|URL too")
        if fetch:
            raise UserError("--pyo3-git-fetch goes with --pyo3-git URL")
        return None
    return gitrepo.open_repo(source, layout, fetch=fetch)
