"""Shared fixtures and what each test tier promises.

tests/unit: no build, no network, no nox session. In-process, an attempt to compile a crate,
resolve a lockfile or make a venv fails the test, and so does a connection to anything but
this machine (AF_INET/AF_INET6 to a non-loopback address; loopback and AF_UNIX are allowed).
Child processes (uv, cargo, git, rustup, a Python child) are held offline too, by their own
switches: cargo, uv and pip offline, git's file protocol only, rustup's servers and every
HTTP(S) proxy a dead loopback port, and `rustup` (install, update), `curl` and `wget`
refused on PATH (`OFFLINE_CHILDREN`, `offline_launchers`).

tests/integration: builds (marker `build`, with a persistent cache so a rerun is warm), nox
runs, crates.io. Tests that need crates.io are marked `network`; crates.io's sparse index is
probed once per session, and when it does not answer they are skipped with one reason. Build
tests need crates.io too (for a cold cache) but are never skipped for it: the build tier must
not pass by not running.

Everywhere, a test not marked `build` cannot build in-process.
"""

from __future__ import annotations

import functools
import http.client
import ipaddress
import os
import shutil
import socket
import urllib.request
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest

from pyo3_triage.system.paths import Layout

REPO = Path(__file__).resolve().parent.parent
UNIT = Path(__file__).resolve().parent / "unit"
CRATES_IO_PROBE = "https://index.crates.io/config.json"
PROBE_TIMEOUT = 5.0  # seconds

BUILD_REFUSED = (
    "a unit test tried to build or resolve a crate: give it a fake, or make it a build test "
    "(tests/integration, marked @pytest.mark.build)"
)
NETWORK_REFUSED = (
    "a unit test tried to reach {address} over the network: give it a fake, or move it to "
    "tests/integration and mark it @pytest.mark.network"
)
CHILD_REFUSED = "network refused in the unit tier (tests/conftest.py)"
DEAD_PORT = "http://127.0.0.1:9"  # discard: nothing listens, a connection is refused at once
OFFLINE_CHILDREN = {
    "CARGO_NET_OFFLINE": "true",
    "UV_OFFLINE": "1",
    "PIP_NO_INDEX": "1",
    "GIT_ALLOW_PROTOCOL": "file",  # local paths and file:// only: no https, ssh or git://
    "RUSTUP_DIST_SERVER": DEAD_PORT,
    "RUSTUP_UPDATE_ROOT": DEAD_PORT,
    "RUSTUP_AUTO_INSTALL": "0",
    # Every HTTP client these tools use (curl, reqwest, libcurl, urllib) honours these.
    **{name: DEAD_PORT for name in ("http_proxy", "https_proxy", "all_proxy")},
    **{name: DEAD_PORT for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")},
    **{name: "localhost,127.0.0.1,::1" for name in ("no_proxy", "NO_PROXY")},
}
# Launchers put first on PATH: what can only download is refused with one line; rustup's
# other commands (which, toolchain list, --version) go on to the real one.
_REFUSING = f"""#!/bin/sh
echo "$(basename "$0"): {CHILD_REFUSED}" >&2
exit 1
"""
_RUSTUP = f"""#!/bin/sh
for word in "$@"; do
    case "$word" in
        install|update|check|self|add|default|set)
            echo "rustup $*: {CHILD_REFUSED}" >&2
            exit 1;;
    esac
done
here=$(cd "$(dirname "$0")" && pwd)
IFS=:
for folder in $PATH; do
    if [ "$folder" != "$here" ] && [ -x "$folder/rustup" ]; then
        exec "$folder/rustup" "$@"
    fi
done
echo "rustup: not found" >&2
exit 127
"""
_REFUSALS = pytest.StashKey[list[str]]()
_CALL_FAILED = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def build_cache() -> Path:
    """Cargo target dirs, wheels and locks for build-tier tests, kept between test runs."""
    root = os.environ.get("PYO3_TRIAGE_TEST_CACHE")
    path = Path(root) if root else Path.home() / ".cache" / "pyo3-triage-tests"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def build_layout(build_cache: Path, tmp_path: Path) -> Layout:
    """Warm cache, fresh results folder."""
    layout = Layout(cache=build_cache, results=tmp_path / "results")
    layout.ensure()
    return layout


# --- tiers ------------------------------------------------------------------------------------


def in_unit_tier(item: pytest.Item) -> bool:
    """By folder (resolved, so a checkout reached through a symlink is held all the same)."""
    return item.path.resolve().is_relative_to(UNIT)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A unit test marked `build` or `network` is in the wrong folder: say so before running."""
    wrong = [
        f"{item.nodeid} is marked {marker}"
        for item in items
        if in_unit_tier(item)
        for marker in ("build", "network")
        if item.get_closest_marker(marker) is not None
    ]
    if wrong:
        raise pytest.UsageError(
            "tests/unit runs no build and needs no network; move these to tests/integration:\n  "
            + "\n  ".join(wrong)
        )


@functools.cache
def crates_io_unreachable() -> str:
    """'' when crates.io's sparse index answers, else why not: the one reason every `network`
    test is skipped with. Asked once per session, and only if a `network` test is to run."""
    try:
        with urllib.request.urlopen(CRATES_IO_PROBE, timeout=PROBE_TIMEOUT) as response:
            response.read()
    except (OSError, http.client.HTTPException, ValueError) as err:
        return f"crates.io unreachable ({CRATES_IO_PROBE}: {err})"
    return ""


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("network") is not None:
        reason = crates_io_unreachable()
        if reason:
            pytest.skip(reason)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remembers whether the test itself failed, for `tier_guard`'s teardown."""
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


def _refuser(refusals: list[str], message: str) -> Callable[..., object]:
    def refuse(*args: object, **kwargs: object) -> object:
        refusals.append(message)
        raise AssertionError(message)

    return refuse


def _is_this_machine(address: object) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    if not isinstance(host, str):
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _refuse_network(monkeypatch: pytest.MonkeyPatch, refusals: list[str]) -> None:
    """Connections (and name lookups) to anything but loopback fail; AF_UNIX is untouched."""

    def guard(original: Callable[[socket.socket, object], object]) -> Callable[..., object]:
        def connect(self: socket.socket, address: object) -> object:
            if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_this_machine(address):
                message = NETWORK_REFUSED.format(address=address)
                refusals.append(message)
                raise AssertionError(message)
            return original(self, address)

        return connect

    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        if host is not None and not _is_this_machine(
            host.decode() if isinstance(host, bytes) else host
        ):
            message = NETWORK_REFUSED.format(address=host)
            refusals.append(message)
            raise AssertionError(message)
        return real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guard(socket.socket.connect))
    monkeypatch.setattr(socket.socket, "connect_ex", guard(socket.socket.connect_ex))
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture(scope="session")
def offline_launchers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of refusing `curl` and `wget`, and of a `rustup` that refuses what downloads
    (only where rustup is installed, so a machine without it still has none)."""
    folder = tmp_path_factory.mktemp("offline-bin")
    launchers = {"curl": _REFUSING, "wget": _REFUSING}
    if shutil.which("rustup"):
        launchers["rustup"] = _RUSTUP
    for name, text in launchers.items():
        (folder / name).write_text(text, encoding="utf-8")
        (folder / name).chmod(0o755)
    return folder


def _offline_children(monkeypatch: pytest.MonkeyPatch, launchers: Path) -> None:
    """Children inherit the offline switches and the launchers. In this process the socket
    guard judges every connection itself, so urllib here ignores the proxy variables (else it
    would reach the dead port on loopback instead of the refusal)."""
    for name, value in OFFLINE_CHILDREN.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PATH", os.pathsep.join([str(launchers), os.environ.get("PATH", "")]))
    monkeypatch.setattr(urllib.request, "getproxies", dict)


@pytest.fixture
def refusals(request: pytest.FixtureRequest) -> list[str]:
    """What the tier guard refused in this test so far; a test that provokes a refusal on
    purpose clears it (else the test fails at teardown)."""
    return request.node.stash.setdefault(_REFUSALS, [])


@pytest.fixture(autouse=True)
def tier_guard(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, refusals: list[str]
) -> Iterator[None]:
    """Holds each test to its tier's promise (see the module docstring). A refusal raises
    AssertionError at once; if the code under test caught it (a broad `except` that turns any
    failure into an exit status, say), the test still fails, at teardown."""
    if request.node.get_closest_marker("build") is None:
        from pyo3_triage.building import build, locks, venvs

        for module, name in (
            (build, "_build"),
            (locks, "pin"),
            (locks, "_resolve_fresh"),
            (venvs, "ensure"),
        ):
            monkeypatch.setattr(module, name, _refuser(refusals, BUILD_REFUSED))
    if in_unit_tier(request.node):
        _refuse_network(monkeypatch, refusals)
        _offline_children(monkeypatch, request.getfixturevalue("offline_launchers"))
    yield
    if refusals and not request.node.stash.get(_CALL_FAILED, False):
        pytest.fail(f"{refusals[0]} (the code under test caught the refusal)", pytrace=False)
