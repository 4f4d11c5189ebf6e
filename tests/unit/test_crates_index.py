"""The crates.io sparse index, offline: line parsing, cache age and fallbacks, error wording and
the request `fetch_url` makes (urlopen is faked; nothing leaves the machine)."""

from __future__ import annotations

import http.client
import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from pyo3_triage.errors import UserError
from pyo3_triage.versions import crates_index
from pyo3_triage.versions.crates_index import index_path, index_url, load_index, parse_index
from pyo3_triage.versions.releases import ReleaseIndex


def line(vers: object, name: str = "pyo3", **extra: object) -> str:
    return json.dumps({"name": name, "vers": vers, "deps": [], **extra})


TEXT = "\n".join(line(v) for v in ("0.20.3", "0.21.0", "0.20.2")) + "\n"


class Fetch:
    def __init__(self, text: str = TEXT, error: BaseException | None = None) -> None:
        self.text, self.error, self.calls = text, error, 0

    def __call__(self, url: str, timeout: float) -> str:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return self.text


def versions(index: ReleaseIndex) -> list[str]:
    return [r.cargo_version for r in index.releases]


# --- paths ---------------------------------------------------------------------------------
def test_urls_and_name_limits() -> None:
    assert index_url("pyo3-ffi") == "https://index.crates.io/py/o3/pyo3-ffi"
    assert index_path("Ab") == "2/ab" and index_path("XyZ") == "3/x/xyz"
    assert index_path("a" * 64).startswith("aa/aa/")
    with pytest.raises(UserError, match="not a valid crate name"):
        index_path("a" * 65)


def test_a_trailing_newline_is_not_a_crate_name() -> None:
    with pytest.raises(UserError, match="not a valid crate name"):
        index_path("pyo3\n")  # would put a newline into the index URL


# --- parsing -------------------------------------------------------------------------------
def test_lines_of_other_crates_and_odd_shapes_are_skipped() -> None:
    text = "\n".join(
        [
            line("0.20.0"),
            line("0.20.1", name="PyO3"),  # names compare without case
            line("9.9.9", name="pyo3-ffi"),
            line(21),
            line("not.a.version"),
            json.dumps(["pyo3", "0.1.0"]),
            json.dumps({"name": "pyo3"}),
            "",
            "   ",
            "{broken",
        ]
    )
    assert versions(ReleaseIndex("pyo3", parse_index(text, "pyo3"), 0, False)) == [
        "0.20.0",
        "0.20.1",
    ]


def test_only_a_true_yanked_flag_counts() -> None:
    text = "\n".join(
        [line("0.1.0", yanked=True), line("0.2.0", yanked="true"), line("0.3.0", yanked=1)]
    )
    assert [r.yanked for r in parse_index(text, "pyo3")] == [True, False, False]


def test_versions_sort_numerically_and_keep_cargos_spelling() -> None:
    text = "\n".join(line(v) for v in ("0.10.0", "0.9.0", "0.21.0-beta.0", "0.21.0", "0.2.0"))
    parsed = parse_index(text, "pyo3")
    assert [r.vers for r in parsed] == ["0.2.0", "0.9.0", "0.10.0", "0.21.0-beta.0", "0.21.0"]


def test_windows_line_endings_parse() -> None:
    assert len(parse_index(TEXT.replace("\n", "\r\n"), "pyo3")) == 3


# --- the cache -----------------------------------------------------------------------------
def test_a_cache_from_the_future_is_refetched(tmp_path: Path) -> None:
    cache = tmp_path / "pyo3.jsonl"
    cache.write_text(line("0.1.0"))
    os.utime(cache, (10_000.0, 10_000.0))
    fetch = Fetch()
    loaded = load_index("pyo3", cache, fetch=fetch, now=lambda: 5_000.0)
    assert fetch.calls == 1 and versions(loaded) == ["0.20.2", "0.20.3", "0.21.0"]
    assert cache.stat().st_mtime == 5_000.0


def test_a_cache_that_is_not_text_is_ignored(tmp_path: Path) -> None:
    cache = tmp_path / "pyo3.jsonl"
    cache.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(UserError, match="could not reach crates.io"):
        load_index("pyo3", cache, fetch=Fetch(error=OSError("down")), now=lambda: 0.0)


def test_an_unwritable_cache_still_gives_the_list(tmp_path: Path) -> None:
    cache = tmp_path / "pyo3.jsonl"
    cache.mkdir()  # a folder where the file should be: neither readable nor replaceable
    loaded = load_index("pyo3", cache, fetch=Fetch(), now=lambda: 0.0)
    assert versions(loaded) == ["0.20.2", "0.20.3", "0.21.0"] and cache.is_dir()


def test_a_fresh_cache_serves_even_when_the_fetcher_would_fail(tmp_path: Path) -> None:
    cache = tmp_path / "pyo3.jsonl"
    load_index("pyo3", cache, fetch=Fetch(), now=lambda: 100.0)
    fetch = Fetch(error=AssertionError("must not fetch"))
    loaded = load_index("pyo3", cache, max_age=60, fetch=fetch, now=lambda: 159.0)
    assert fetch.calls == 0 and loaded.fetched_at == 100.0 and not loaded.from_cache_offline


# --- failures ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (urllib.error.HTTPError("u", 500, "oops", {}, None), "(HTTP 500)"),  # type: ignore[arg-type]
        (urllib.error.URLError(ConnectionRefusedError("refused")), "(refused)"),
        (http.client.IncompleteRead(b"ab"), "(IncompleteRead(2 bytes read))"),
        (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), "invalid start byte"),
        (OSError(), "(OSError)"),
    ],
    ids=["http-500", "url-error", "incomplete-read", "not-utf8", "bare-oserror"],
)
def test_failures_without_a_cache_name_the_reason(
    tmp_path: Path, error: BaseException, reason: str
) -> None:
    with pytest.raises(UserError) as caught:
        load_index("pyo3", tmp_path / "c.jsonl", fetch=Fetch(error=error), now=lambda: 0.0)
    assert reason in caught.value.message
    assert caught.value.message.startswith("could not reach crates.io for the pyo3 release list")


def test_an_answer_of_another_crate_is_no_answer(tmp_path: Path) -> None:
    fetch = Fetch(text=line("1.0.0", name="serde"))
    with pytest.raises(
        UserError, match="no readable releases at https://index.crates.io/py/o3/pyo3"
    ):
        load_index("pyo3", tmp_path / "c.jsonl", fetch=fetch, now=lambda: 0.0)


def test_programming_errors_are_not_taken_for_an_outage(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError):
        load_index(
            "pyo3", tmp_path / "c.jsonl", fetch=Fetch(error=RuntimeError("bug")), now=lambda: 0.0
        )


def test_the_offline_notice_is_in_utc() -> None:
    index = ReleaseIndex("pyo3", (), 86_400.0 + 3_661.0, True)
    assert crates_index.offline_notice(index).endswith("from 1970-01-02 01:01 UTC")


# --- the request ---------------------------------------------------------------------------
class FakeResponse:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def read(self) -> bytes:
        return self.body

    def __enter__(self) -> FakeResponse:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def test_fetch_url_identifies_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def urlopen(request: urllib.request.Request, timeout: float) -> FakeResponse:
        seen.update(url=request.full_url, agent=request.get_header("User-agent"), timeout=timeout)
        return FakeResponse('{"vers": "0.1.0"} é'.encode())

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    text = crates_index.fetch_url("https://index.crates.io/py/o3/pyo3", 7.0)
    assert text == '{"vers": "0.1.0"} é'
    assert seen == {
        "url": "https://index.crates.io/py/o3/pyo3",
        "agent": crates_index.USER_AGENT,
        "timeout": 7.0,
    }
