"""Tests for the PyO3 release list and `--pyo3` selection, on saved and faked index lines (the
real index: integration/test_releases_network.py)."""

from __future__ import annotations

import json
import os
import socket
import urllib.error
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from pyo3_triage.errors import UserError
from pyo3_triage.system import paths
from pyo3_triage.versions import crates_index
from pyo3_triage.versions.crates_index import index_path, load_index, offline_notice, parse_index
from pyo3_triage.versions.releases import Release, ReleaseIndex, select_releases


def _dep(name: str, req: str, kind: str = "normal", **extra: object) -> dict[str, object]:
    dep = {
        "name": name,
        "req": req,
        "features": [],
        "optional": False,
        "default_features": True,
        "target": None,
        "kind": kind,
    }
    dep.update(extra)
    return dep


def _line(vers: str, *, yanked: bool = False, rust_version: str | None = "1.63") -> str:
    """One index line shaped like the real crates.io sparse index entries for pyo3."""
    entry: dict[str, object] = {
        "name": "pyo3",
        "vers": vers,
        "deps": [
            _dep("libc", "^0.2.62"),
            _dep("pyo3-build-config", f"={vers}", kind="build"),
            _dep("pyo3-ffi", f"={vers}"),
            _dep("pyo3-macros", f"={vers}", optional=True),
            _dep("trybuild", ">=1.0.70", kind="dev"),
        ],
        "cksum": "0" * 64,
        "features": {"macros": ["pyo3-macros"]},
        "yanked": yanked,
        "links": "python",
    }
    if rust_version is not None:
        entry["rust_version"] = rust_version
    return json.dumps(entry)


# Real format, deliberately out of order (crates.io appends in publication order, and 0.15.2
# was published after 0.16.3), with yanked releases, a pre-release and junk lines.
INDEX_TEXT = "\n".join(
    [
        '{"name":"pyo3","vers":"0.16.6","deps":[{"name":"pyo3-build-config","req":"^0.16.6",'
        '"features":["resolve-config"],"optional":false,"default_features":true,"target":null,'
        '"kind":"build"},{"name":"pyo3-ffi","req":"=0.16.6","features":[],"optional":false,'
        '"default_features":true,"target":null,"kind":"normal"}],"cksum":"ab","features":{},'
        '"yanked":false,"links":null}',
        _line("0.17.0", rust_version=None),
        _line("0.17.3", rust_version=None),
        _line("0.19.0", rust_version=None),
        _line("0.19.2", rust_version=None),
        _line("0.20.0", rust_version="1.56"),
        _line("0.20.1", rust_version="1.56"),
        _line("0.20.3", rust_version="1.56"),
        _line("0.20.2", rust_version="1.56"),
        '{"name": "pyo3", "vers": "0.20.4", "deps": [',  # truncated
        "this is not json",
        "",
        '["pyo3", "0.20.5"]',
        '{"name": "pyo3", "vers": "banana", "yanked": false, "deps": []}',
        '{"name": "pyo3", "vers": 21, "yanked": false, "deps": []}',
        '{"name": "not-pyo3", "vers": "9.9.9", "yanked": false, "deps": []}',
        _line("0.21.0-beta.0", rust_version="1.56"),
        _line("0.21.0", rust_version="1.56"),
        _line("0.21.2", rust_version="1.56"),
        _line("0.22.0", yanked=True),
        _line("0.22.6"),
        _line("0.23.0", yanked=True),
        _line("0.23.5"),
        _line("0.24.0"),
    ]
)


def _versions(selected: list[Release]) -> list[str]:
    return [r.cargo_version for r in selected]


@pytest.fixture
def index() -> ReleaseIndex:
    return ReleaseIndex("pyo3", parse_index(INDEX_TEXT, "pyo3"), 1000.0, False)


# --- index paths and parsing ------------------------------------------------------------


@pytest.mark.parametrize(
    ("crate", "path"),
    [
        ("a", "1/a"),
        ("ab", "2/ab"),
        ("abc", "3/a/abc"),
        ("pyo3", "py/o3/pyo3"),
        ("pyo3-ffi", "py/o3/pyo3-ffi"),
        ("pyo3-macros-backend", "py/o3/pyo3-macros-backend"),
        ("Serde_JSON", "se/rd/serde_json"),
    ],
)
def test_index_path(crate: str, path: str) -> None:
    assert index_path(crate) == path


@pytest.mark.parametrize("crate", ["", "../etc", "py o3", "-pyo3", "a/b"])
def test_index_path_rejects_bad_crate_names(crate: str) -> None:
    with pytest.raises(UserError, match="not a valid crate name"):
        index_path(crate)


def test_parse_index_keeps_good_lines_sorted_and_skips_junk(index: ReleaseIndex) -> None:
    assert _versions(list(index.releases)) == [
        "0.16.6",
        "0.17.0",
        "0.17.3",
        "0.19.0",
        "0.19.2",
        "0.20.0",
        "0.20.1",
        "0.20.2",
        "0.20.3",
        "0.21.0-beta.0",
        "0.21.0",
        "0.21.2",
        "0.22.0",
        "0.22.6",
        "0.23.0",
        "0.23.5",
        "0.24.0",
    ]
    assert [r.version for r in index.releases] == sorted(r.version for r in index.releases)


def test_parse_index_fields(index: ReleaseIndex) -> None:
    old, new, yanked = index.get("0.16.6"), index.get("0.20.3"), index.get("0.23.0")
    assert old is not None and new is not None and yanked is not None
    assert not old.yanked and not new.yanked and yanked.yanked
    assert (old.cargo_version, new.cargo_version) == ("0.16.6", "0.20.3")


def test_prerelease_keeps_cargo_spelling(index: ReleaseIndex) -> None:
    beta = index.get("0.21.0-beta.0")
    assert beta is not None
    assert str(beta.version) == "0.21.0b0"  # what packaging makes of it
    assert beta.cargo_version == "0.21.0-beta.0" == str(beta)  # what Cargo needs
    assert index.get(Version("0.21.0b0")) is beta


def test_later_duplicate_line_wins() -> None:
    text = _line("0.22.0") + "\n" + _line("0.22.0", yanked=True)
    (release,) = parse_index(text, "pyo3")
    assert release.yanked


def test_semver_spelling_without_index_spelling() -> None:
    assert Release(Version("1.0.0rc1")).cargo_version == "1.0.0-rc.1"
    assert Release(Version("0.5.0a2")).cargo_version == "0.5.0-alpha.2"
    assert Release(Version("0.20.3")).cargo_version == "0.20.3"


def test_release_identity_is_the_version() -> None:
    assert Release(Version("0.20.3")) == Release(Version("0.20.3"), yanked=True, vers="0.20.3")
    assert sorted([Release(Version("0.21.0")), Release(Version("0.9.0"))])[0].cargo_version == (
        "0.9.0"
    )


def test_get_and_newest(index: ReleaseIndex) -> None:
    assert index.get("0.99.0") is None
    assert index.get("not a version") is None
    assert index.newest is not None and index.newest.cargo_version == "0.24.0"


# --- selection forms --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            "0.19..0.21",
            ["0.19.0", "0.19.2", "0.20.0", "0.20.1", "0.20.2", "0.20.3", "0.21.0", "0.21.2"],
        ),
        ("0.20.3..0.21.0", ["0.20.3", "0.21.0"]),
        (" 0.20.3 .. 0.21.0 ", ["0.20.3", "0.21.0"]),
        ("0.19..0.20.1", ["0.19.0", "0.19.2", "0.20.0", "0.20.1"]),
        ("0.20.2..0.21", ["0.20.2", "0.20.3", "0.21.0", "0.21.2"]),
        ("0.21.2..0.21", ["0.21.2"]),
        ("0.23..", ["0.23.5", "0.24.0"]),
        ("..0.17", ["0.16.6", "0.17.0", "0.17.3"]),
        (">=0.19,<0.21", ["0.19.0", "0.19.2", "0.20.0", "0.20.1", "0.20.2", "0.20.3"]),
        ("~=0.20.0", ["0.20.0", "0.20.1", "0.20.2", "0.20.3"]),
        ("~=0.20.1", ["0.20.1", "0.20.2", "0.20.3"]),
        ("==0.20.*", ["0.20.0", "0.20.1", "0.20.2", "0.20.3"]),
        ("!=0.20.1, >=0.20, <0.21", ["0.20.0", "0.20.2", "0.20.3"]),
        ("0.20.3,0.21.0", ["0.20.3", "0.21.0"]),
        ("0.21.0, 0.20.3, 0.20.3", ["0.20.3", "0.21.0"]),
        ("0.21", ["0.21.0", "0.21.2"]),
        ("0.21,0.16..0.17", ["0.16.6", "0.17.0", "0.17.3", "0.21.0", "0.21.2"]),
        ("0.20.3, 0.20", ["0.20.0", "0.20.1", "0.20.2", "0.20.3"]),
        ("v0.24.0", ["0.24.0"]),
    ],
)
def test_selection_forms(index: ReleaseIndex, spec: str, expected: list[str]) -> None:
    assert _versions(select_releases(spec, index)) == expected


def test_prereleases_only_when_asked(index: ReleaseIndex) -> None:
    assert "0.21.0-beta.0" not in _versions(select_releases("0.21", index))
    assert "0.21.0-beta.0" not in _versions(select_releases(">=0.21", index))
    assert _versions(select_releases("0.21", index, pre=True)) == [
        "0.21.0-beta.0",
        "0.21.0",
        "0.21.2",
    ]
    assert "0.21.0-beta.0" in _versions(select_releases("0.20..0.21", index, pre=True))
    assert "0.21.0-beta.0" in _versions(select_releases(">=0.20", index, pre=True))
    # PEP 440: 0.21.0-beta.0 sorts before 0.21.0, and `<0.21.0` excludes 0.21.0's pre-releases
    assert "0.21.0-beta.0" not in _versions(select_releases(">=0.21", index, pre=True))
    with pytest.raises(UserError, match="matches none"):
        select_releases("==0.21.*,<0.21.0", index, pre=True)


def test_no_match_hint_names_the_flag_that_would_help() -> None:
    text = INDEX_TEXT + "\n" + _line("0.26.0-alpha.1")
    index = ReleaseIndex("pyo3", parse_index(text, "pyo3"), 0.0, False)
    with pytest.raises(UserError, match=r"only excluded releases match, add --pre$"):
        select_releases("0.26", index)
    assert _versions(select_releases("0.26", index, pre=True)) == ["0.26.0-alpha.1"]


def test_prerelease_named_exactly_is_selected(index: ReleaseIndex) -> None:
    for spec in ("0.21.0-beta.0", "0.21.0b0", "==0.21.0-beta.0"):
        assert _versions(select_releases(spec, index)) == ["0.21.0-beta.0"]
    # a pre-release bound admits pre-releases, as a PEP 440 specifier naming one would
    assert _versions(select_releases("0.21.0-beta.0..0.21.0", index)) == [
        "0.21.0-beta.0",
        "0.21.0",
    ]


def test_yanked_skipped_by_ranges_unless_asked(index: ReleaseIndex) -> None:
    assert _versions(select_releases("0.22..0.23", index)) == ["0.22.6", "0.23.5"]
    assert _versions(select_releases(">=0.22,<0.24", index)) == ["0.22.6", "0.23.5"]
    assert _versions(select_releases("0.22..0.23", index, yanked=True)) == [
        "0.22.0",
        "0.22.6",
        "0.23.0",
        "0.23.5",
    ]
    assert _versions(select_releases("==0.22.*", index, yanked=True)) == ["0.22.0", "0.22.6"]


def test_yanked_named_exactly_is_selected(index: ReleaseIndex) -> None:
    for spec in ("0.23.0", "==0.23.0", "0.23.0,0.24.0"):
        selected = select_releases(spec, index)
        assert selected[0].cargo_version == "0.23.0" and selected[0].yanked


def test_newest_patch(index: ReleaseIndex) -> None:
    assert _versions(select_releases("0.19..0.22", index, newest_patch=True)) == [
        "0.19.2",
        "0.20.3",
        "0.21.2",
        "0.22.6",
    ]
    assert _versions(select_releases("0.20.0,0.20.1", index, newest_patch=True)) == ["0.20.1"]
    assert _versions(select_releases("0.21", index, pre=True, newest_patch=True)) == ["0.21.2"]


def test_selected_releases_carry_index_metadata(index: ReleaseIndex) -> None:
    (release,) = select_releases("0.20.3", index)
    assert release.vers == "0.20.3" and not release.yanked


@given(
    st.integers(min_value=15, max_value=25),
    st.integers(min_value=0, max_value=6),
)
def test_minor_range_equals_the_equivalent_specifier(low: int, width: int) -> None:
    index = ReleaseIndex("pyo3", parse_index(INDEX_TEXT, "pyo3"), 0.0, False)
    high = low + width
    expected = [
        r.cargo_version
        for r in index.releases
        if SpecifierSet(f">=0.{low}.0,<0.{high + 1}.0").contains(r.version)
        and not r.yanked
        and not r.version.is_prerelease
    ]
    try:
        assert _versions(select_releases(f"0.{low}..0.{high}", index)) == expected
    except UserError:
        assert expected == []


# --- without an index ---------------------------------------------------------------------


def test_exact_versions_work_without_index() -> None:
    selected = select_releases(" 0.21.0, 0.20.3,0.21.0-beta.0 ", None)
    assert _versions(selected) == ["0.20.3", "0.21.0-beta.0", "0.21.0"]
    assert not any(r.yanked for r in selected)
    assert _versions(select_releases("0.20.3,0.20.1", None, newest_patch=True)) == ["0.20.3"]


@pytest.mark.parametrize("spec", ["0.21", "0.19..0.21", ">=0.19,<0.22", "0.20.3,0.21", "0.25.."])
def test_other_forms_need_the_index(spec: str) -> None:
    with pytest.raises(UserError, match=r"could not reach crates\.io.*--pyo3 0\.20\.3,0\.21\.0"):
        select_releases(spec, None)


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("0.20; rm -rf ~", "cannot read '0.20; rm -rf ~'"),
        ("0.20 && rm -rf ~", "cannot read '0.20 && rm -rf ~'"),
        ("$(reboot)", "cannot read '$(reboot)'"),
        ("latest", "cannot read 'latest'"),
        ("0.21..0.19", "write 0.19..0.21"),
        ("0.21.0..0.20.9", "write 0.20.9..0.21.0"),
        ("0.21.0..0.20", "write 0.20..0.21.0"),
        ("0.20.4", "nearest: 0.20.3, 0.21.0"),
        ("0.99.0", "nearest: 0.24.0"),
        ("0.0.1", "nearest: 0.16.6"),
        ("0.20.3,0.20.9", "0.20.9 (in --pyo3 '0.20.3,0.20.9') is not a pyo3 release"),
        ("0.31..", "matches none of the 17 pyo3 releases on crates.io (newest: 0.24.0)"),
        ("0.18", "matches none"),
        ("0.22.0..0.22.0", "add --yanked"),
        # A range end named to the patch must be a release: refused, never clamped.
        ("0.22.0..0.22.5", "0.22.5 (an end of --pyo3 '0.22.0..0.22.5') is not a pyo3 release"),
        ("0.20.9..0.21", "the 0.20 series has 0.20.0, 0.20.1, 0.20.2, 0.20.3 (a bare"),
        ("0.19..0.24.9", "the 0.24 series has 0.24.0 (a bare 0.24 means the whole series)"),
        ("0.18.1..0.20", "there is no 0.18 series"),
        ("..", "has no ends"),
        ("0", "too broad"),
        ("0.20.3,,0.21.0", "empty item"),
        ("0.20.3,", "empty item"),
        ("0.20.3,>=0.21", "do not mix"),
        (">=banana", "as a version specifier"),
        ("0.19...0.21", "cannot read"),
        ("0.19..0.20..0.21", "cannot read"),
    ],
)
def test_bad_selections_are_one_line_user_errors(
    index: ReleaseIndex, spec: str, fragment: str
) -> None:
    with pytest.raises(UserError) as caught:
        select_releases(spec, index)
    assert fragment in caught.value.message
    assert "\n" not in caught.value.message


def test_shell_text_is_rejected_even_without_index() -> None:
    with pytest.raises(UserError, match="cannot read"):
        select_releases("0.20.3; rm -rf ~", None)


# --- loading and caching ------------------------------------------------------------------


class FakeFetcher:
    """Stands in for crates.io: returns `text`, or raises `error`, and records each call."""

    def __init__(self, text: str = INDEX_TEXT, error: BaseException | None = None) -> None:
        self.text, self.error, self.calls = text, error, []

    def __call__(self, url: str, timeout: float) -> str:
        self.calls.append((url, timeout))
        if self.error is not None:
            raise self.error
        return self.text


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_first_load_fetches_and_writes_cache(tmp_path: Path) -> None:
    cache, fetch = tmp_path / "cache" / "pyo3.idx", FakeFetcher()
    loaded = load_index("pyo3", cache, fetch=fetch, now=FakeClock(5000.0))
    assert fetch.calls == [("https://index.crates.io/py/o3/pyo3", crates_index.FETCH_TIMEOUT)]
    assert loaded.crate == "pyo3" and len(loaded.releases) == 17
    assert loaded.fetched_at == 5000.0 and not loaded.from_cache_offline
    assert cache.read_text(encoding="utf-8") == INDEX_TEXT
    assert cache.stat().st_mtime == 5000.0
    assert os.listdir(cache.parent) == ["pyo3.idx"]  # the temp file was renamed into place


def test_fresh_cache_is_not_refetched(tmp_path: Path) -> None:
    cache, clock = tmp_path / "pyo3.idx", FakeClock(5000.0)
    load_index("pyo3", cache, fetch=FakeFetcher(), now=clock)
    clock.now += 3599
    fetch = FakeFetcher(error=AssertionError("must not fetch"))
    loaded = load_index("pyo3", cache, fetch=fetch, now=clock)
    assert fetch.calls == [] and loaded.fetched_at == 5000.0 and not loaded.from_cache_offline


def test_stale_cache_is_refetched_and_replaced(tmp_path: Path) -> None:
    cache, clock = tmp_path / "pyo3.idx", FakeClock(5000.0)
    load_index("pyo3", cache, fetch=FakeFetcher(), now=clock)
    clock.now += 3601
    newer = INDEX_TEXT + "\n" + _line("0.25.0")
    loaded = load_index("pyo3", cache, fetch=FakeFetcher(newer), now=clock)
    assert loaded.fetched_at == 8601.0 and loaded.get("0.25.0") is not None
    assert cache.read_text(encoding="utf-8") == newer
    assert sorted(os.listdir(tmp_path)) == ["pyo3.idx"]


def test_max_age_zero_always_fetches(tmp_path: Path) -> None:
    cache, fetch = tmp_path / "pyo3.idx", FakeFetcher()
    for _ in range(2):
        load_index("pyo3", cache, max_age=0, fetch=fetch, now=FakeClock(5000.0))
    assert len(fetch.calls) == 2


@pytest.mark.parametrize(
    "error",
    [
        urllib.error.URLError("Name or service not known"),
        urllib.error.HTTPError("u", 503, "busy", {}, None),  # type: ignore[arg-type]
        socket.timeout("timed out"),
        TimeoutError("timed out"),
        ConnectionResetError("reset"),
    ],
    # Explicit ids: on Python 3.9 an HTTPError without a body breaks pytest's id guessing.
    ids=["url-error", "http-503", "socket-timeout", "timeout", "reset"],
)
def test_network_failure_uses_cache_and_flags_offline(tmp_path: Path, error: BaseException) -> None:
    cache, clock = tmp_path / "pyo3.idx", FakeClock(1_700_000_000.0)
    load_index("pyo3", cache, fetch=FakeFetcher(), now=clock)
    clock.now += 10 * 86400
    fetch = FakeFetcher(error=error)
    loaded = load_index("pyo3", cache, fetch=fetch, now=clock)
    assert len(fetch.calls) == 1
    assert loaded.from_cache_offline and loaded.fetched_at == 1_700_000_000.0
    assert len(loaded.releases) == 17
    assert offline_notice(loaded) == (
        "crates.io unreachable; using the cached release list from 2023-11-14 22:13 UTC"
    )
    assert cache.read_text(encoding="utf-8") == INDEX_TEXT


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (urllib.error.URLError("Name or service not known"), "Name or service not known"),
        (urllib.error.HTTPError("u", 404, "Not Found", {}, None), "HTTP 404"),  # type: ignore[arg-type]
        (socket.timeout("timed out"), "timed out"),
    ],
    ids=["url-error", "http-404", "socket-timeout"],
)
def test_network_failure_without_cache_is_a_user_error(
    tmp_path: Path, error: BaseException, reason: str
) -> None:
    cache = tmp_path / "pyo3.idx"
    with pytest.raises(UserError) as caught:
        load_index("pyo3", cache, fetch=FakeFetcher(error=error), now=FakeClock(0.0))
    message = caught.value.message
    assert "could not reach crates.io" in message and reason in message
    assert "--pyo3 0.20.3,0.21.0" in message and "\n" not in message
    assert not cache.exists()


def test_unreadable_answer_falls_back_like_a_failure(tmp_path: Path) -> None:
    cache = tmp_path / "pyo3.idx"
    with pytest.raises(UserError, match="no readable releases"):
        load_index("pyo3", cache, fetch=FakeFetcher("<html>maintenance</html>"), now=FakeClock(0))
    assert not cache.exists()
    load_index("pyo3", cache, fetch=FakeFetcher(), now=FakeClock(0))
    loaded = load_index(
        "pyo3", cache, fetch=FakeFetcher("<html>maintenance</html>"), now=FakeClock(99999)
    )
    assert loaded.from_cache_offline and cache.read_text(encoding="utf-8") == INDEX_TEXT


def test_corrupt_fresh_cache_is_refetched(tmp_path: Path) -> None:
    cache = tmp_path / "pyo3.idx"
    cache.write_text("garbage\n", encoding="utf-8")
    os.utime(cache, (100.0, 100.0))
    fetch = FakeFetcher()
    loaded = load_index("pyo3", cache, fetch=fetch, now=FakeClock(101.0))
    assert len(fetch.calls) == 1 and not loaded.from_cache_offline
    assert cache.read_text(encoding="utf-8") == INDEX_TEXT


def test_failed_cache_write_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(src: str, dst: str) -> None:
        raise PermissionError("read-only")

    monkeypatch.setattr(paths.os, "replace", refuse)
    cache = tmp_path / "pyo3.idx"
    loaded = load_index("pyo3", cache, fetch=FakeFetcher(), now=FakeClock(0.0))
    assert len(loaded.releases) == 17  # the fetched data is still used
    assert os.listdir(tmp_path) == []


def test_offline_index_feeds_selection(tmp_path: Path) -> None:
    cache, clock = tmp_path / "pyo3.idx", FakeClock(0.0)
    load_index("pyo3", cache, fetch=FakeFetcher(), now=clock)
    clock.now = 1e6
    offline = load_index("pyo3", cache, fetch=FakeFetcher(error=OSError("down")), now=clock)
    assert _versions(select_releases("0.20.3..0.21.0", offline)) == ["0.20.3", "0.21.0"]
