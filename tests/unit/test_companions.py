"""Companion crates: Cargo's requirement grammar, and the version of a companion that accepts a
PyO3 release, read from real crates.io index lines (tests/data/index/, saved 2026-12-03)."""

from __future__ import annotations

import json

import pytest
from factories import DATA
from packaging.version import Version

from pyo3_triage.reproducers.companions import (
    Companion,
    choose_all,
    parse_versions,
    requirement_accepts,
)

INDEX = DATA / "index"


def companion(crate: str, features: tuple[str, ...] = ()) -> Companion:
    text = (INDEX / f"{crate}.jsonl").read_text(encoding="utf-8")
    return Companion(crate, crate, features, parse_versions(text, crate))


@pytest.mark.parametrize(
    ("requirement", "accepted", "refused"),
    [
        ("^0.26", ["0.26.0", "0.26.9"], ["0.25.1", "0.27.0"]),
        ("0.26", ["0.26.0"], ["0.27.0"]),  # a bare requirement is a caret one
        (">=0.25, <0.26", ["0.25.0", "0.25.1"], ["0.24.2", "0.26.0"]),
        (">=0.18.1, <0.20", ["0.18.1", "0.19.2"], ["0.18.0", "0.20.0"]),
        ("^0.22.2", ["0.22.2", "0.22.6"], ["0.22.1", "0.23.0"]),
        ("~0.21.1", ["0.21.1", "0.21.2"], ["0.21.0", "0.22.0"]),
        ("=0.22.2", ["0.22.2"], ["0.22.3", "0.22.1"]),
        ("=0.22", ["0.22.0", "0.22.6"], ["0.23.0"]),
        ("0.21.*", ["0.21.0", "0.21.2"], ["0.22.0", "0.20.3"]),
        ("^0.0.3", ["0.0.3"], ["0.0.4"]),
        ("^1.2", ["1.2.0", "1.9.0"], ["2.0.0", "1.1.0"]),
        (">0.25", ["0.26.0"], ["0.25.9"]),
        ("<=0.25", ["0.25.9"], ["0.26.0"]),
        (">=0.12", ["0.12.0", "0.30.1"], ["0.11.0"]),
        ("*", ["0.16.6", "0.30.1"], []),
        ("^0.9.0-alpha.1", ["0.9.2", "0.9.0a1", "0.9.0a2", "0.9.0"], ["0.10.0", "0.9.0a0"]),
        # a pre-release is its own version, and only a pre-release requirement accepts one
        ("=0.23.0-beta.3", ["0.23.0b3"], ["0.23.0", "0.23.0b2", "0.23.0b4", "0.23.1"]),
        (">=0.23.0-beta.3, <0.24", ["0.23.0b3", "0.23.0rc1", "0.23.0", "0.23.5"], ["0.24.0b1"]),
        ("^0.23", ["0.23.0", "0.23.4"], ["0.23.0b3", "0.24.0a1"]),
        (">=0.22", ["0.23.0"], ["0.23.0b3"]),
        ("=0.23-beta.3", [], ["0.23.0b3", "0.23.0"]),  # Cargo refuses a partial pre-release
        ("not a requirement", [], ["0.26.0"]),
    ],
)
def test_cargo_requirements(requirement: str, accepted: list[str], refused: list[str]) -> None:
    for version in accepted:
        assert requirement_accepts(requirement, Version(version)), (requirement, version)
    for version in refused:
        assert not requirement_accepts(requirement, Version(version)), (requirement, version)


@pytest.mark.parametrize(
    ("release", "chosen"),
    [
        ("0.30.1", "0.18.0"),
        ("0.28.0", "0.16.0"),
        ("0.26.0", "0.14.0"),
        ("0.25.1", "0.13.0"),
        ("0.24.2", "0.12.0"),  # 0.11.0 and 0.12.0 both take 0.24: the newest
        ("0.19.2", "0.7.0"),  # >=0.18.1, <0.20
        ("0.18.0", None),  # no pyo3-file accepts 0.18.0 (0.7.0 wants >=0.18.1)
        ("0.20.3", None),  # 0.7.0 stops at <0.20, 0.8.0 starts at 0.21
    ],
)
def test_pyo3_file_for_each_release(release: str, chosen: str | None) -> None:
    found = companion("pyo3-file").choose(Version(release))
    assert (found.vers if found else None) == chosen


def test_yanked_versions_are_never_chosen() -> None:
    numpy = companion("numpy")
    assert [v.vers for v in numpy.versions if v.yanked] == ["0.17.0"]
    assert numpy.choose(Version("0.17.3")).vers == "0.17.2"  # type: ignore[union-attr]


def test_a_build_dependency_counts_and_a_dev_dependency_does_not() -> None:
    numpy = {v.vers: v for v in companion("numpy").versions}
    # 0.24.0: pyo3 ^0.24 (normal), pyo3 ^0.24 (dev), pyo3-build-config ^0.24 (build)
    assert sorted(name for name, *_ in numpy["0.24.0"].needs) == ["pyo3", "pyo3-build-config"]
    assert companion("numpy").choose(Version("0.24.2")).vers == "0.24.0"  # type: ignore[union-attr]


def test_pythonize_needs_a_later_patch_than_the_series_start() -> None:
    pythonize = companion("pythonize")
    assert pythonize.choose(Version("0.22.1")) is None  # 0.22.0 wants ^0.22.2
    assert pythonize.choose(Version("0.22.6")).vers == "0.22.0"  # type: ignore[union-attr]


def test_choose_all_names_what_is_missing() -> None:
    both = [companion("pyo3-file"), companion("pythonize")]
    ok = choose_all(both, Version("0.26.0"))
    assert ok.versions == (("pyo3-file", "0.14.0"), ("pythonize", "0.26.0")) and not ok.missing
    assert ok.describe() == "pyo3-file 0.14.0, pythonize 0.26.0"
    none = choose_all(both, Version("0.20.3"))
    assert none.missing == ("pyo3-file",)
    assert none.note("0.20.3") == "no pyo3-file release accepts pyo3 0.20.3"


def _line(vers: str, deps: list[dict[str, object]], features: dict[str, list[str]]) -> str:
    return json.dumps({"name": "bridge", "vers": vers, "deps": deps, "features": features})


def test_an_optional_pyo3_counts_only_when_the_project_turns_it_on() -> None:
    dep = {"name": "pyo3", "req": "^0.21", "kind": "normal", "optional": True}
    text = _line("1.0.0", [dep], {"python": ["dep:pyo3"]})
    versions = parse_versions(text, "bridge")
    assert not Companion("bridge", "bridge", (), versions).involves_pyo3()
    assert Companion("bridge", "bridge", ("python",), versions).involves_pyo3()
    assert Companion("bridge", "bridge", ("pyo3",), versions).involves_pyo3()
    assert Companion("bridge", "bridge", ("python",), versions).choose(Version("0.21.2"))
    assert Companion("bridge", "bridge", ("python",), versions).choose(Version("0.22.0")) is None


@pytest.mark.parametrize(
    ("features", "pyo3"),
    [
        ({"default": ["dep:pyo3"]}, {"name": "pyo3"}),
        ({"default": ["python"], "python": ["dep:pyo3"]}, {"name": "pyo3"}),
        ({"default": ["python"], "python": ["pyo3"]}, {"name": "pyo3"}),
        ({"default": ["python"], "python": ["pyo3/extension-module"]}, {"name": "pyo3"}),
        (
            {"default": ["a"], "a": ["b"], "b": ["c"], "c": ["dep:py"]},
            {"name": "py", "package": "pyo3"},
        ),
    ],
    ids=["default", "chain-dep", "chain-implicit", "chain-feature", "deep-renamed"],
)
def test_a_pyo3_turned_on_by_default_features_makes_a_companion(
    features: dict[str, list[str]], pyo3: dict[str, object]
) -> None:
    """A companion whose optional PyO3 its `default` feature turns on, directly or through a
    chain of features, moves with the release, unless the project sets `default-features =
    false` (then its features are the project's own: none here)."""
    dep = {**pyo3, "req": "^0.21", "kind": "normal", "optional": True}
    text = "\n".join(_line(v, [dep], features) for v in ("1.0.0", "1.1.0"))
    versions = parse_versions(text, "bridge")
    project_default = Companion("bridge", "bridge", ("default",), versions)
    assert project_default.involves_pyo3()
    assert project_default.choose(Version("0.21.2")) is versions[-1]
    assert project_default.choose(Version("0.22.0")) is None  # resolves nowhere: incompatible
    assert not Companion("bridge", "bridge", (), versions).involves_pyo3()


def test_a_weak_feature_or_another_crates_feature_turns_nothing_on() -> None:
    dep = {"name": "pyo3", "req": "^0.21", "kind": "normal", "optional": True}
    features = {"default": ["python"], "python": ["pyo3?/abi3", "numpy/pyo3", "dep:numpy"]}
    versions = parse_versions(_line("1.0.0", [dep], features), "bridge")
    assert not Companion("bridge", "bridge", ("default",), versions).involves_pyo3()


def test_a_companion_pinned_to_a_pre_release_is_not_moved_to_the_release() -> None:
    """`=0.23.0-beta.3` accepts only that pre-release: PyO3 0.23.0 gets the version that
    accepts it, not the newest one pinned to its beta (which would not resolve)."""
    pinned = {"name": "pyo3", "req": "=0.23.0-beta.3", "kind": "normal", "optional": False}
    caret = {"name": "pyo3", "req": "^0.23", "kind": "normal", "optional": False}
    text = "\n".join([_line("1.0.0", [caret], {}), _line("1.1.0", [pinned], {})])
    bridge = Companion("bridge", "bridge", ("default",), parse_versions(text, "bridge"))
    assert bridge.choose(Version("0.23.0")).vers == "1.0.0"  # type: ignore[union-attr]
    assert bridge.choose(Version("0.23.0b3")).vers == "1.1.0"  # type: ignore[union-attr]


def test_a_renamed_dependency_is_known_by_its_crate() -> None:
    dep = {"name": "py", "package": "pyo3", "req": "^0.23", "kind": "normal", "optional": False}
    (version,) = parse_versions(_line("2.0.0", [dep], {}), "bridge")
    assert version.needs[0][0] == "pyo3" and version.accepts(Version("0.23.5"))


def test_lines_that_do_not_parse_are_skipped() -> None:
    good = _line("1.0.0", [], {})
    text = "\n".join(["{", good, '{"name": "other", "vers": "1.0.0"}', '{"name": "bridge"}'])
    assert [v.vers for v in parse_versions(text, "bridge")] == ["1.0.0"]
