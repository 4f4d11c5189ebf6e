"""The CPython support table: it must cover every real PyO3 release once, and match the sources."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.version import Version

from pyo3_triage.versions import support
from pyo3_triage.versions.support import DATA_PATH, Window, load_windows, window_for

# Every PyO3 release on crates.io from 0.16.0 to 0.30.1 (repository tags, plus 0.29.3 and 0.30.1
# which were published after the snapshot; 0.30.0 was tagged but never published).
RELEASES = (
    "0.16.0",
    "0.16.1",
    "0.16.2",
    "0.16.3",
    "0.16.4",
    "0.16.5",
    "0.16.6",
    "0.17.0",
    "0.17.1",
    "0.17.2",
    "0.17.3",
    "0.18.0",
    "0.18.1",
    "0.18.2",
    "0.18.3",
    "0.19.0",
    "0.19.1",
    "0.19.2",
    "0.20.0",
    "0.20.1",
    "0.20.2",
    "0.20.3",
    "0.21.0-beta.0",
    "0.21.0",
    "0.21.1",
    "0.21.2",
    "0.22.0",
    "0.22.1",
    "0.22.2",
    "0.22.3",
    "0.22.4",
    "0.22.5",
    "0.22.6",
    "0.23.0",
    "0.23.1",
    "0.23.2",
    "0.23.3",
    "0.23.4",
    "0.23.5",
    "0.24.0",
    "0.24.1",
    "0.24.2",
    "0.25.0",
    "0.25.1",
    "0.26.0",
    "0.27.0",
    "0.27.1",
    "0.27.2",
    "0.28.0",
    "0.28.1",
    "0.28.2",
    "0.28.3",
    "0.29.0",
    "0.29.1",
    "0.29.2",
    "0.29.3",
    "0.30.1",
)

V = Version


def test_every_row_parses() -> None:
    windows = load_windows()
    assert len(windows) == 10
    for spec, window in windows:
        assert str(spec)
        assert window.note
        assert window.declared_min <= window.declared_max
        assert window.enforced_min is not None  # every release checks its minimum


def test_load_is_cached() -> None:
    assert load_windows() is load_windows()
    assert load_windows(DATA_PATH) == load_windows()


@pytest.mark.parametrize("release", RELEASES)
def test_each_release_is_in_exactly_one_window(release: str) -> None:
    base = V(V(release).base_version)
    matches = [w for spec, w in load_windows() if spec.contains(base, prereleases=True)]
    assert len(matches) == 1
    assert window_for(V(release)) is matches[0]


def test_every_row_holds_a_real_release() -> None:
    releases = [V(V(r).base_version) for r in RELEASES]
    for spec, _ in load_windows():
        assert any(spec.contains(r) for r in releases), spec


def test_windows_only_widen_or_move_up_over_releases() -> None:
    windows = [window_for(V(r)) for r in RELEASES]
    for older, newer in zip(windows, windows[1:]):
        assert older.declared_min <= newer.declared_min
        assert older.declared_max <= newer.declared_max


@pytest.mark.parametrize("release", RELEASES)
def test_build_script_accepts_everything_declared(release: str) -> None:
    window = window_for(V(release))
    minor = window.declared_min.minor
    while minor <= window.declared_max.minor:
        assert window.enforces(V(f"3.{minor}")), (release, minor)
        minor += 1


@pytest.mark.parametrize("release", ["0.14.5", "0.15.2"])
def test_releases_older_than_the_table_raise_lookup_error(release: str) -> None:
    with pytest.raises(LookupError, match=r"outside the releases .*>=0\.16\.0, <0\.31\.0"):
        window_for(V(release))
    with pytest.raises(LookupError):
        support.stand_in([V("0.30.1"), V(release)])


@pytest.mark.parametrize("release", ["0.31.0", "0.31.2", "0.32.0-beta.1", "1.0.0"])
def test_a_release_newer_than_the_table_takes_the_newest_rows_windows(release: str) -> None:
    """The day a new minor reaches crates.io, the default `--pyo3 0.16..` and every open-ended
    bisect choose it: it gets the newest row's windows, for every build, and a note, not an
    error. Only the API era (`listed`: commits, the template) refuses to guess."""
    newest = V("0.30.1")
    for build in support.BUILDS:
        assert support.build_window(V(release), build) == support.build_window(newest, build)
    assert support.declares(V(release), V("3.12")) and not support.declares(V(release), V("3.8"))
    assert support.declared_span(V(release), "pypy") == "PyPy 3.11-3.12"
    with pytest.raises(LookupError, match="outside the releases this tool knows"):
        support.listed(V(release))
    assert support.stand_in([newest]) is None
    assert support.stand_in([newest, V(release)]) == (
        f"PyO3 {V(release)} is newer than the CPython support table (cpython_support.toml "
        "lists releases before 0.31.0): its windows are taken from its newest row (0.30.0 "
        "on: CPython 3.9-3.15) until a row is added"
    )


def test_prereleases_map_to_their_series() -> None:
    assert window_for(V("0.21.0-beta.0")) is window_for(V("0.21.0"))
    assert window_for(V("0.22.0rc1")) is window_for(V("0.22.0"))
    assert window_for(V("0.30.0")) is window_for(V("0.30.1"))  # tagged, never published


def test_0_16_does_not_declare_3_11_and_has_no_max_check() -> None:
    window = window_for(V("0.16.6"))
    assert window.declares(V("3.10"))
    assert not window.declares(V("3.11"))
    assert window.enforced_max is None
    assert window.enforces(V("3.13"))  # builds anyway: an ABI accident


def test_3_11_declared_from_0_17_3() -> None:
    assert not window_for(V("0.17.2")).declares(V("3.11"))
    assert window_for(V("0.17.3")).declares(V("3.11"))
    assert window_for(V("0.19.2")).declares(V("3.11"))
    assert not window_for(V("0.19.2")).declares(V("3.12"))


def test_0_20_2_declares_3_12_without_max_check() -> None:
    window = window_for(V("0.20.2"))
    assert window_for(V("0.20.0")) is window
    assert window.declares(V("3.12"))
    assert window.enforced_max is None
    assert window.enforces(V("3.14"))


def test_0_20_3_enforces_max_3_12() -> None:
    window = window_for(V("0.20.3"))
    assert window.enforced_max == V("3.12")
    assert window.enforces(V("3.12.4"))
    assert not window.enforces(V("3.13.0"))
    assert not window_for(V("0.21.2")).enforces(V("3.13"))


def test_3_13_declared_from_0_22_0() -> None:
    assert not window_for(V("0.21.0")).declares(V("3.13"))
    assert window_for(V("0.22.0")).declares(V("3.13"))
    assert not window_for(V("0.24.2")).declares(V("3.14"))
    assert not window_for(V("0.24.2")).enforces(V("3.14"))


def test_3_14_declared_from_0_25_0() -> None:
    assert window_for(V("0.25.0")).declares(V("3.14"))
    assert window_for(V("0.27.2")).enforced_max == V("3.14")
    assert not window_for(V("0.27.2")).enforces(V("3.15"))


def test_0_28_accepts_one_minor_beyond_what_it_declares() -> None:
    window = window_for(V("0.28.3"))
    assert not window.declares(V("3.15"))
    assert window.enforces(V("3.15.0b1"))
    assert not window.enforces(V("3.16"))


def test_minimums_rise_in_0_29_and_0_30() -> None:
    assert window_for(V("0.28.3")).declares(V("3.7"))
    assert window_for(V("0.28.3")).enforces(V("3.7"))
    for release in ("0.29.0", "0.29.3"):
        window = window_for(V(release))
        assert not window.declares(V("3.7"))
        assert not window.enforces(V("3.7"))
        assert window.declares(V("3.8"))
        assert window.declares(V("3.15"))
    window = window_for(V("0.30.1"))
    assert window.enforced_min == V("3.9")
    assert not window.enforces(V("3.8"))
    assert window.declares(V("3.15")) and not window.declares(V("3.16"))
    assert window.enforces(V("3.16")) and not window.enforces(V("3.17"))


def test_every_release_refuses_3_6() -> None:
    for release in RELEASES:
        window = window_for(V(release))
        assert not window.declares(V("3.6")) and not window.enforces(V("3.6"))


@given(st.integers(0, 30), st.integers(0, 30), st.integers(0, 30), st.integers(0, 20))
def test_declares_compares_major_minor_only(lo: int, hi: int, minor: int, micro: int) -> None:
    lo, hi = min(lo, hi), max(lo, hi)
    window = Window(V(f"3.{lo}"), V(f"3.{hi}"), None, None, "")
    expected = lo <= minor <= hi
    assert window.declares(V(f"3.{minor}.{micro}")) is expected
    assert window.declares(V(f"3.{minor}.0rc1")) is expected
    assert window.enforces(V(f"3.{minor}.{micro}"))  # no checks at all


def test_malformed_table_raises_value_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[window]]\npyo3 = ">=0.1"\ndeclared_min = "3.x"\ndeclared_max = "3.10"\n'
        'enforced_min = ""\nenforced_max = ""\nnote = "n"\n'
    )
    with pytest.raises(ValueError, match="declared_min"):
        load_windows(bad)
    missing = tmp_path / "missing.toml"
    missing.write_text('[[window]]\npyo3 = ">=0.1"\n')
    with pytest.raises(ValueError, match="lacks"):
        load_windows(missing)


def test_empty_enforced_bounds_mean_no_check(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text(
        '[[window]]\npyo3 = ">=0.1,<0.2"\ndeclared_min = "3.7"\ndeclared_max = "3.10"\n'
        'enforced_min = ""\nenforced_max = ""\nnote = "n"\n'
    )
    ((spec, window),) = load_windows(path)
    assert spec.contains("0.1.5")
    assert window.enforced_min is None and window.enforced_max is None
    assert window.enforces(V("2.7")) and not window.declares(V("3.11"))


@pytest.mark.parametrize(
    ("pyo3", "python", "build", "declared"),
    [
        ("0.26.0", "3.9", "pypy", True),
        ("0.27.0", "3.9", "pypy", False),  # "Drop support for PyPy 3.9 and 3.10. #5516"
        ("0.19.0", "3.10", "pypy", False),
        ("0.19.1", "3.10", "pypy", True),  # "Support PyPy 3.10. #3289"
        ("0.23.4", "3.11", "pypy", False),
        ("0.23.5", "3.11", "pypy", True),  # "Add support for PyPy3.11 #4760"
        ("0.22.6", "3.13", "free-threaded", False),  # opt-in only from 0.22.2 (#4327)
        ("0.23.0", "3.13", "free-threaded", True),  # "Support free-threaded Python 3.13t. #4588"
        ("0.29.0", "3.13", "free-threaded", False),  # 0.29.0 dropped 3.13t
        ("0.29.0", "3.14", "free-threaded", True),
        ("0.19.2", "3.7", "debug", True),
        ("0.20.0", "3.7", "debug", False),  # "Drop support for debug builds of Python 3.7. #3387"
        ("0.20.0", "3.7", "cpython", True),
    ],
)
def test_each_build_has_its_own_window(pyo3: str, python: str, build: str, declared: bool) -> None:
    assert support.declares(Version(pyo3), Version(python), build) is declared


def test_a_build_without_a_window_says_so() -> None:
    assert support.declared_span(Version("0.22.6"), "free-threaded") == "no free-threaded"
    assert support.declared_span(Version("0.26.0"), "pypy") == "PyPy 3.9-3.11"
    assert support.declared_span(Version("0.26.0")) == "3.7-3.14"
