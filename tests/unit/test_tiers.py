"""The unit tier keeps its word (tests/conftest.py): no build, no network. A unit test that
tries either fails with a message that says where such a test belongs, even when the code
under test catches the refusal."""

from __future__ import annotations

import socket
import threading
import urllib.request
from pathlib import Path

import pytest

from pyo3_triage.building import build
from pyo3_triage.versions import crates_index


def test_the_unit_tier_cannot_build(refusals: list[str]) -> None:
    """The autouse guard in conftest: a unit test that reaches a build fails loudly."""
    with pytest.raises(AssertionError, match="mark.*@pytest.mark.build"):
        build._build()  # type: ignore[call-arg]
    assert len(refusals) == 1
    refusals.clear()  # refused on purpose


@pytest.mark.parametrize(
    ("family", "address"),
    [(socket.AF_INET, ("192.0.2.1", 443)), (socket.AF_INET6, ("2001:db8::1", 443, 0, 0))],
    ids=["ipv4", "ipv6"],
)
def test_the_unit_tier_cannot_open_a_network_socket(
    family: socket.AddressFamily, address: tuple[object, ...], refusals: list[str]
) -> None:
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        with pytest.raises(AssertionError, match="mark it @pytest.mark.network"):
            sock.connect(address)
        with pytest.raises(AssertionError, match="tests/integration"):
            sock.connect_ex(address)
    assert len(refusals) == 2
    refusals.clear()


def test_the_unit_tier_cannot_reach_crates_io(refusals: list[str]) -> None:
    """The way the package itself fetches (urllib), named host and all; the refusal is not an
    OSError, so the package's own fallback for a failed fetch cannot hide it."""
    with pytest.raises(AssertionError, match="index.crates.io"):
        urllib.request.urlopen("https://index.crates.io/config.json", timeout=5)
    assert refusals
    refusals.clear()


def test_the_package_cannot_fall_back_past_a_refusal(tmp_path: Path, refusals: list[str]) -> None:
    """load_index turns a failed fetch (OSError) into the cached list or a UserError; the
    refusal is no OSError, so it reaches the test instead of a silent offline fallback."""
    with pytest.raises(AssertionError, match="over the network"):
        crates_index.load_index("pyo3", tmp_path / "pyo3.idx", max_age=0)
    assert refusals
    refusals.clear()


def test_loopback_and_unix_sockets_are_allowed() -> None:
    """Local servers (a test's own HTTP stand-in, multiprocessing) keep working."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        accepted = threading.Thread(target=lambda: server.accept()[0].close())
        accepted.start()
        with socket.create_connection(server.getsockname(), timeout=5):
            pass
        accepted.join(5)
    left, right = socket.socketpair(socket.AF_UNIX)
    with left, right:
        left.sendall(b"x")
        assert right.recv(1) == b"x"
