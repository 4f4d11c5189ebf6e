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


# --- children are held offline too -------------------------------------------------------------
FETCH = "import urllib.request; urllib.request.urlopen('https://crates.io/api/v1/crates/pyo3', timeout=10)"


def test_a_child_process_cannot_reach_the_network() -> None:
    """A Python child (the way the package's own children are run, `procs.run` with
    `clean_env`) reaches only the dead proxy: refused, on loopback, at once."""
    import sys

    from pyo3_triage.system import procs

    done = procs.run([sys.executable, "-c", FETCH], env=procs.clean_env(), timeout=60)
    assert done.returncode == 1, done.stderr_tail
    assert "Connection refused" in done.stderr_tail and not done.timed_out


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["git", "ls-remote", "https://github.com/PyO3/pyo3"], "transport 'https' not allowed"),
        (["curl", "-sS", "https://index.crates.io/config.json"], "network refused in the unit"),
        (["wget", "-q", "https://index.crates.io/config.json"], "network refused in the unit"),
        (["cargo", "search", "pyo3", "--limit", "1"], "--offline was specified"),
    ],
    ids=["git", "curl", "wget", "cargo"],
)
def test_network_tools_in_children_are_refused(argv: list[str], says: str) -> None:
    import shutil

    from pyo3_triage.system import procs

    if shutil.which(argv[0]) is None:
        pytest.skip(f"{argv[0]} is not on this machine")
    done = procs.run(argv, env=procs.clean_env(), timeout=60)
    assert done.returncode not in (0, None) and says in done.stderr_tail, done.stderr_tail


def test_uv_is_offline_in_children(tmp_path: Path) -> None:
    """`uv pip install` from PyPI (`venvs.install_requirements`) finds nothing to download."""
    import sys

    from pyo3_triage.building import toolchain
    from pyo3_triage.system import procs

    uv = toolchain._uv_bin()
    assert uv is not None
    requirements = tmp_path / "requirements.in"
    requirements.write_text("a-package-not-in-any-cache-4f1c\n")
    done = procs.run(
        [uv, "pip", "compile", str(requirements), "--python", sys.executable, "--no-cache"],
        env=procs.clean_env(),
        timeout=60,
    )
    assert done.returncode != 0 and "network was disabled" in done.stderr_tail, done.stderr_tail


def test_rustup_refuses_downloads_and_answers_the_rest() -> None:
    import shutil

    from pyo3_triage.system import procs

    if shutil.which("rustup") is None:
        pytest.skip("rustup is not on this machine: nothing to hold")
    install = procs.run(["rustup", "toolchain", "install", "1.80"], timeout=60)
    assert install.returncode == 1
    assert "rustup toolchain install 1.80: network refused" in install.stderr_tail
    version = procs.run(["rustup", "--version"], timeout=60)
    assert version.returncode == 0 and "rustup" in version.stdout_tail + version.stderr_tail
