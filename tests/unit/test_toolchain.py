"""The toolchain a record keeps: its own words for each tool, and finding the tools, with
stand-in scripts for cargo, rustc, maturin and uv (nothing real is run but Python)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyo3_triage.building import toolchain
from pyo3_triage.building.toolchain import Toolchain
from pyo3_triage.errors import UserError
from pyo3_triage.evidence import ToolVersions

VERBOSE = "rustc 1.80.1 (3f5fd8dd4 2024-08-06)\nbinary: rustc\nhost: x86_64-unknown-linux-gnu\n"


def test_rustc_is_the_first_line_of_rustc_vv() -> None:
    tools = Toolchain(VERBOSE, "cargo 1.80.1", "maturin 1.7.0", "uv 0.4.0", "/c", "/m", "/u")
    assert tools.rustc == "rustc 1.80.1 (3f5fd8dd4 2024-08-06)"
    assert Toolchain("", "", "", "", "", "", "").rustc == ""


def test_a_record_keeps_the_versions_not_the_paths() -> None:
    tools = Toolchain(VERBOSE, "cargo 1.80.1", "maturin 1.7.0", "uv 0.4.0", "/c", "/m", "/u")
    assert tools.versions == ToolVersions(
        "rustc 1.80.1 (3f5fd8dd4 2024-08-06)", VERBOSE, "cargo 1.80.1", "maturin 1.7.0", "uv 0.4.0"
    )
    moved = Toolchain(VERBOSE, "cargo 1.80.1", "maturin 1.7.0", "uv 0.4.0", "/x", "/y", "/z")
    assert moved.versions == tools.versions


def test_a_version_is_what_the_tool_prints_or_nothing(tmp_path: Path) -> None:
    assert toolchain._version([sys.executable, "--version"]).startswith("Python 3.")
    assert toolchain._version([sys.executable, "-c", "import sys; sys.exit(3)"]) == ""
    assert toolchain._version([str(tmp_path / "missing-tool"), "--version"]) == ""


def test_tools_beside_the_interpreter_win_over_path(monkeypatch: pytest.MonkeyPatch) -> None:
    beside = Path(sys.executable)
    assert toolchain._beside_python(beside.name) == str(beside.parent / beside.name)
    monkeypatch.setattr(shutil, "which", lambda name: f"/on/path/{name}")
    assert toolchain._beside_python("no-such-tool-here") == "/on/path/no-such-tool-here"


def test_uv_falls_back_to_path_without_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uv", None)  # `import uv` raises ImportError
    monkeypatch.setattr(shutil, "which", lambda name: f"/on/path/{name}")
    assert toolchain._uv_bin() == "/on/path/uv"


@pytest.fixture
def fresh_detect() -> Iterator[None]:
    """`detect` is cached for the process: never leave a stand-in toolchain behind."""
    toolchain.detect.cache_clear()
    yield
    toolchain.detect.cache_clear()


def stand_in(folder: Path, name: str, says: str) -> str:
    script = folder / name
    script.write_text(f"#!/bin/sh\nprintf '%s\\n' '{says}'\n")
    script.chmod(0o755)
    return str(script)


@pytest.fixture
def tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_detect: None) -> dict[str, str]:
    found = {
        "cargo": stand_in(tmp_path, "cargo", "cargo 1.80.1"),
        "rustc": stand_in(tmp_path, "rustc", "rustc 1.80.1"),
        "maturin": stand_in(tmp_path, "maturin", "maturin 1.7.0"),
        "uv": stand_in(tmp_path, "uv", "uv 0.4.0"),
    }
    monkeypatch.setattr(shutil, "which", lambda name: found.get(name))
    monkeypatch.setattr(toolchain, "_beside_python", lambda name: found.get(name))
    monkeypatch.setattr(toolchain, "_uv_bin", lambda: found.get("uv"))
    monkeypatch.setattr(toolchain, "_cargo_configs", lambda: [])
    monkeypatch.delenv("RUSTFLAGS", raising=False)
    return found


def test_detect_asks_each_tool_its_version(tools: dict[str, str]) -> None:
    found = toolchain.detect()
    assert found == Toolchain(
        "rustc 1.80.1", "cargo 1.80.1", "maturin 1.7.0", "uv 0.4.0",
        tools["cargo"], tools["maturin"], tools["uv"],
    )  # fmt: skip
    assert toolchain.detect() is found  # asked once per process


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("cargo", "cargo/rustc not found on PATH"),
        ("rustc", "cargo/rustc not found on PATH"),
        ("maturin", "maturin not found"),
        ("uv", "uv not found"),
    ],
)
def test_a_missing_tool_is_one_clear_error(
    tools: dict[str, str], missing: str, message: str
) -> None:
    del tools[missing]
    with pytest.raises(UserError, match=message):
        toolchain.detect()


def test_build_settings_are_the_environment_and_cargo_config_that_change_a_wheel(
    tmp_path: Path,
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[build]\nrustflags = ["-C", "target-cpu=native"]\n')
    environ = {
        "RUSTFLAGS": "--cfg fast",
        "CARGO_PROFILE_DEV_OPT_LEVEL": "2",
        "CARGO_TARGET_DIR": "/mine",  # the build sets its own
        "PATH": "/bin",
        "HOME": "/root",
    }
    found = dict(toolchain.build_settings(environ, [config, tmp_path / "absent.toml"]))
    assert set(found) == {"RUSTFLAGS", "CARGO_PROFILE_DEV_OPT_LEVEL", f"cargo config {config}"}
    assert found["RUSTFLAGS"] == "--cfg fast"
    before = found[f"cargo config {config}"]
    config.write_text("[build]\n")
    assert dict(toolchain.build_settings({}, [config]))[f"cargo config {config}"] != before
    assert toolchain.build_settings({"PATH": "/bin"}, []) == ()


def test_the_toolchain_on_path_is_named_to_rustup_so_a_project_cannot_swap_it(
    tmp_path: Path,
) -> None:
    """A project's rust-toolchain.toml would make rustup's proxies pick another compiler than
    the one detected and recorded: builds and resolves name the one on PATH."""
    sysroot = tmp_path / "rustup" / "toolchains" / "stable-x86_64-unknown-linux-gnu"
    rustc = stand_in(tmp_path, "rustc", str(sysroot))
    assert toolchain._rustup_name(rustc) == "stable-x86_64-unknown-linux-gnu"
    assert toolchain._rustup_name(stand_in(tmp_path, "other", "/usr/lib/rust")) == ""
    tools = Toolchain(VERBOSE, "c", "m", "u", "/c", "/m", "/u", rustup_name="stable-x")
    assert tools.build_env() == tools.resolve_env() == {"RUSTUP_TOOLCHAIN": "stable-x"}
    assert Toolchain(VERBOSE, "c", "m", "u", "/c", "/m", "/u").build_env() == {}
