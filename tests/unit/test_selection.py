"""What the user typed as releases, interpreters, scenarios and git revisions, turned into
objects, with every wrong combination refused in one line; no network (the index is faked)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from factories import DATA, interp
from packaging.version import Version

from pyo3_triage import selection
from pyo3_triage.errors import UserError
from pyo3_triage.interpreters import Interpreter
from pyo3_triage.reproducers import scenarios
from pyo3_triage.system.paths import Layout
from pyo3_triage.versions import crates_index, releases
from pyo3_triage.versions.releases import Release, ReleaseIndex, unreachable_error


class Notes(list):  # type: ignore[type-arg]
    def __call__(self, message: str) -> None:
        self.append(message)


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    return Layout(cache=tmp_path / "cache", results=tmp_path / "results")


# --- plain parsing ---------------------------------------------------------------------------
def test_split_list() -> None:
    assert selection.split_list(None) == selection.split_list([]) == []
    assert selection.split_list(["a,b", "c"]) == ["a", "b", "c"]
    assert selection.split_list([" a , ,b ", ","]) == ["a", "b"]


@pytest.mark.parametrize(
    ("spec", "expect"),
    [
        ("0.20.3,git:main,0.21.0", ("0.20.3,0.21.0", ["main"])),
        ("git:v0.21.0, git: abc123 ", ("", ["v0.21.0", "abc123"])),
        ("0.19..0.21", ("0.19..0.21", [])),
    ],
)
def test_split_revisions(spec: str, expect: tuple[str, list[str]]) -> None:
    assert releases.split_revisions(spec) == expect
    with pytest.raises(UserError, match="git: needs a revision"):
        releases.split_revisions(spec + ",git: ")


@pytest.mark.parametrize("spec", ["0.21", "0.19..0.21", ">=0.20", "0.20.3.1", "a.b.c", ""])
def test_exact_only(spec: str) -> None:
    assert releases.exact_only("0.20.3") and releases.exact_only("0.20.3, 0.21.0")
    assert releases.exact_only("0.21.0-beta.0")  # an exact pre-release, as cargo spells it
    assert not releases.exact_only(spec)


# --- releases --------------------------------------------------------------------------------
def fake_index(monkeypatch: pytest.MonkeyPatch, result: ReleaseIndex | Exception) -> list[Any]:
    calls: list[Any] = []

    def load_index(crate: str, cache_file: Path) -> ReleaseIndex:
        calls.append((crate, cache_file))
        if isinstance(result, Exception):
            raise result
        return result

    monkeypatch.setattr(crates_index, "load_index", load_index)
    return calls


VERSIONS = ("0.15.2", "0.20.2", "0.20.3", "0.21.0")
INDEX = ReleaseIndex("pyo3", tuple(Release(Version(v), vers=v) for v in VERSIONS), 0.0, False)


OFFLINE = "crates.io unreachable; using the cached release list from 1970-01-01 00:00 UTC"
EXACT = "crates.io unreachable and no cached release list; using the exact versions named"
DOWN = unreachable_error("pyo3", "down")
OFFLINE_INDEX = dataclasses.replace(INDEX, from_cache_offline=True)


@pytest.mark.parametrize(
    ("index", "spec", "picked", "notes"),
    [
        (INDEX, "0.20.3..0.21.0", ["0.20.3", "0.21.0"], []),
        (OFFLINE_INDEX, "0.20", ["0.20.2", "0.20.3"], [OFFLINE]),
        (DOWN, "0.21.0,0.20.3", ["0.20.3", "0.21.0"], [EXACT]),  # exact versions need no index
    ],
)
def test_releases(
    monkeypatch: pytest.MonkeyPatch,
    layout: Layout,
    index: Any,
    spec: str,
    picked: list[str],
    notes: list[str],
) -> None:
    calls = fake_index(monkeypatch, index)
    said = Notes()
    chosen = selection.pick_releases(spec, layout, said)
    assert [r.cargo_version for r in chosen] == picked and said == notes
    assert calls == [("pyo3", layout.index_file("pyo3"))]


def test_a_release_newer_than_the_support_table_is_chosen_with_a_note(
    monkeypatch: pytest.MonkeyPatch, layout: Layout
) -> None:
    """Tomorrow's PyO3 (a synthetic 0.31.0 beside real releases) in an open-ended range: chosen,
    its CPython window the newest row's, and said; interpreters are picked by that window."""
    newer = ("0.29.3", "0.30.1", "0.31.0", "0.31.1")
    index = ReleaseIndex("pyo3", tuple(Release(Version(v), vers=v) for v in newer), 0.0, False)
    fake_index(monkeypatch, index)
    said = Notes()
    chosen = selection.pick_releases("0.30..", layout, said)
    assert [r.cargo_version for r in chosen] == ["0.30.1", "0.31.0", "0.31.1"]
    assert said == [
        "PyO3 0.31.0, 0.31.1 are newer than the CPython support table (cpython_support.toml "
        "lists releases before 0.31.0): their windows are taken from its newest row (0.30.0 on: "
        "CPython 3.9-3.15) until a row is added"
    ]
    found = [interp("3.8.18"), interp("3.12.1")]
    picked = selection.pick_interpreters(None, chosen[1:], Notes(), find=lambda: found)
    assert [i.label for i in picked] == ["3.12.1"]


@pytest.mark.parametrize(
    ("index", "spec", "words"),
    [
        (DOWN, "0.19..0.21", r"could not reach crates\.io"),  # a range needs the index
        (INDEX, "0.15.2,0.20.3", r"PyO3 0\.15\.2 .*; choose releases from 0\.16\.0 on"),
    ],
)
def test_releases_refused(
    monkeypatch: pytest.MonkeyPatch, layout: Layout, index: Any, spec: str, words: str
) -> None:
    fake_index(monkeypatch, index)
    with pytest.raises(UserError, match=words):
        selection.pick_releases(spec, layout, Notes())


# --- interpreters ----------------------------------------------------------------------------
OLD, NEW = Release(Version("0.20.3")), Release(Version("0.23.0"))
SKIP_313 = "skipping CPython 3.13.1: no selected PyO3 release supports it"


@pytest.mark.parametrize(
    ("spec", "releases", "picked", "notes"),
    [
        (None, [OLD], ["3.11.7"], [SKIP_313]),  # the newest 3.11, and no 3.13 for 0.20
        (None, [OLD, NEW], ["3.11.7", "3.13.1"], []),  # one supporting release is enough
        ("3.13", [OLD], ["3.13.1"], []),  # asked for by name: taken even outside the window
    ],
)
def test_interpreters(
    spec: str | None, releases: list[Release], picked: list[str], notes: list[str]
) -> None:
    found = [interp("3.11.7"), interp("3.13.1"), interp("3.11.2")]
    said = Notes()
    chosen = selection.pick_interpreters(spec, releases, said, find=lambda: found)
    assert [i.label for i in chosen] == picked and said == notes


@pytest.mark.parametrize(
    ("found", "words"),
    [([], "no CPython interpreter found"), ([interp("3.14.0")], "none of the CPython versions")],
)
def test_no_usable_interpreter(found: list[Interpreter], words: str) -> None:
    with pytest.raises(UserError, match=words):
        selection.pick_interpreters(None, [OLD], Notes(), find=lambda: found)


def picky(reasons: dict[str, str]) -> Any:
    return SimpleNamespace(excludes=lambda python: reasons.get(str(python)))


def test_an_interpreter_is_dropped_only_when_every_reproducer_rules_it_out() -> None:
    a = picky({"3.8.18": "requires-python >=3.9", "3.9.1": "abi3 floor 3.10"})
    b = picky({"3.8.18": "requires-python >=3.10"})
    notes = Notes()
    found = [interp("3.8.18"), interp("3.9.1"), interp("3.12.0")]
    kept = selection.drop_excluded([a, b], found, notes)
    assert [i.label for i in kept] == ["3.9.1", "3.12.0"]
    assert notes == ["skipping CPython 3.8.18: requires-python >=3.10; requires-python >=3.9"]
    with pytest.raises(UserError, match="ruled out by the project itself"):
        selection.drop_excluded([a], [interp("3.8.18")], Notes())


# --- scenarios -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"crate": "."}, "--crate and --run go together"),
        ({"run": "python x.py"}, "--crate and --run go together"),
        ({"specs": ["a"], "crate": ".", "run": "x"}, "--crate replaces --scenario"),
        ({"crate": ".", "run": "x", "timeout": 0.0}, "--timeout 0.0 must be a positive"),
        ({"crate": ".", "run": "x", "timeout": float("nan")}, "must be a positive number"),
        ({"crate": ".", "run": "x", "timeout": 1e6}, "must be a positive number"),
        ({"timeout": 5.0}, "--timeout goes with --crate"),
        ({"extra": "test"}, "--extra names an extra of your own project"),
        ({"no_deps": True}, "--no-deps leaves your own project's dependencies out"),
        ({"with_": ["pytest; rm -rf /"]}, "--with 'pytest; rm -rf /' is not a requirement"),
    ],
)
def test_wrong_scenario_combinations(kwargs: dict[str, Any], words: str) -> None:
    with pytest.raises(UserError, match=re.escape(words)):
        selection.pick_reproducers(kwargs.pop("specs", None), **kwargs)


def test_named_or_default_scenarios_get_the_requirements() -> None:
    chosen = selection.pick_reproducers(
        ["unsendable_gc_traverse"], with_=["numpy >= 1.0", "pytest"]
    )
    assert [s.name for s in chosen] == ["unsendable_gc_traverse"]
    assert chosen[0].requirements == chosen[0].with_ == ("numpy>=1.0", "pytest")
    names = {s.name for s in selection.pick_reproducers(None)}  # none named: the default set
    expected = {
        s for s in scenarios.available() if scenarios.resolve(s).metadata.get("default") is True
    }
    assert names == expected and names


def test_a_crate_keeps_its_own_requirements_first(monkeypatch: pytest.MonkeyPatch) -> None:
    base = scenarios.resolve("unsendable_gc_traverse")
    seen: list[tuple[Any, ...]] = []

    def load(
        crate: str, run: str, timeout: float, extra: str | None, no_deps: bool
    ) -> scenarios.Scenario:
        seen.append((crate, run, timeout, extra, no_deps))
        return dataclasses.replace(base, requirements=("own-dep",))

    monkeypatch.setattr(selection.usercrate, "load", load)
    (chosen,) = selection.pick_reproducers(
        None, crate="proj", run="python r.py", with_=["pytest"], extra="test"
    )
    assert seen == [("proj", "python r.py", scenarios.DEFAULT_TIMEOUT, "test", False)]
    assert chosen.requirements == ("own-dep", "pytest") and chosen.with_ == ("pytest",)


# --- the git repository ----------------------------------------------------------------------
def test_pick_repo_without_a_source(layout: Layout) -> None:
    assert selection.pick_repo(None, layout) is None
    with pytest.raises(UserError, match=re.escape("pass --pyo3-git PATH|URL too")):
        selection.pick_repo(None, layout, needed=True)
    with pytest.raises(UserError, match="--pyo3-git-fetch goes with --pyo3-git URL"):
        selection.pick_repo(None, layout, fetch=True)
    with pytest.raises(UserError, match="does not exist"):
        selection.pick_repo(str(layout.cache / "nowhere"), layout)


def test_a_users_crate_gets_its_companions_from_the_cached_index(tmp_path: Path) -> None:
    """Each crates.io dependency's index (fresh in the cache here, so nothing is fetched) says
    whether it depends on PyO3: pyo3-file does, `plain` does not."""
    from factories import make_project

    from pyo3_triage.reproducers import usercrate

    project = make_project(tmp_path / "proj")
    cargo = project / "Cargo.toml"
    cargo.write_text(cargo.read_text() + 'pyo3-file = "0.18"\nplain = "1"\n')
    layout = Layout(tmp_path / "cache", tmp_path / "results")
    saved = DATA / "index" / "pyo3-file.jsonl"
    layout.index_file("pyo3-file").parent.mkdir(parents=True)
    layout.index_file("pyo3-file").write_text(saved.read_text())
    layout.index_file("plain").write_text('{"name": "plain", "vers": "1.0.0", "deps": []}\n')
    notes: list[str] = []
    (crate,) = selection.with_companions(
        [usercrate.load(str(project), "python repro.py")], layout, notes.append
    )
    assert [c.crate for c in crate.companions] == ["pyo3-file"]  # type: ignore[attr-defined]
    assert notes == ["companion crates of byo move with each release: pyo3-file"]
    assert crate.companions_for(Version("0.26.0")).versions == (("pyo3-file", "0.14.0"),)
    (scenario,) = selection.with_companions(
        [scenarios.resolve("vec_u8_return")], layout, notes.append
    )
    assert scenario.companions_for(Version("0.26.0")).versions == ()


def test_a_companion_whose_default_features_turn_pyo3_on_moves_with_the_release(
    tmp_path: Path,
) -> None:
    """`bridge` makes PyO3 optional and turns it on by default through a feature: as the
    project leaves default features on, it is a companion; `quiet`, the same crate asked with
    `default-features = false`, is not."""
    import json

    from factories import make_project

    from pyo3_triage.reproducers import usercrate

    project = make_project(tmp_path / "proj")
    cargo = project / "Cargo.toml"
    cargo.write_text(
        cargo.read_text() + 'bridge = "1"\nquiet = { version = "1", default-features = false }\n'
    )
    layout = Layout(tmp_path / "cache", tmp_path / "results")
    layout.index_file("bridge").parent.mkdir(parents=True)
    for name in ("bridge", "quiet"):
        lines = [
            {
                "name": name,
                "vers": vers,
                "deps": [{"name": "pyo3", "req": req, "kind": "normal", "optional": True}],
                "features": {"default": ["python"], "python": ["dep:pyo3"]},
            }
            for vers, req in (("1.0.0", "^0.25"), ("1.1.0", "^0.26"))
        ]
        layout.index_file(name).write_text("".join(json.dumps(line) + "\n" for line in lines))
    notes: list[str] = []
    (crate,) = selection.with_companions(
        [usercrate.load(str(project), "python repro.py")], layout, notes.append
    )
    assert notes == ["companion crates of byo move with each release: bridge"]
    assert crate.companions_for(Version("0.25.1")).versions == (("bridge", "1.0.0"),)
    assert crate.companions_for(Version("0.26.0")).versions == (("bridge", "1.1.0"),)
