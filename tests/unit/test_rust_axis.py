"""The Rust toolchain as an axis, its pure parts: `--rust` words, each release's MSRV window,
what a chosen toolchain changes in builds and locks, the tables per toolchain and the bisect's
candidates. Nothing is installed or built here (tests/integration/test_rust_axis.py does)."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from factories import TOOLS, interp, make_record
from packaging.version import Version

from pyo3_triage import toolchains
from pyo3_triage.bisecting.bisection import release_candidates, rust_candidates
from pyo3_triage.cells import Cell, Evaluator, Options
from pyo3_triage.errors import UserError
from pyo3_triage.outcome import Outcome
from pyo3_triage.reporting import markdown, table
from pyo3_triage.reproducers.scenarios import load
from pyo3_triage.system.paths import Layout, scenario_library
from pyo3_triage.toolchains import Rust, RustChoice
from pyo3_triage.versions import rust_support
from pyo3_triage.versions.crates_index import parse_index
from pyo3_triage.versions.releases import Release
from pyo3_triage.versions.revisions import rust_version

SCENARIO = load(scenario_library() / "vec_u8_return")
PY311 = interp("3.11.7")


def release(version: str, rust: str = "") -> Release:
    return Release(Version(version), vers=version, rust_version=rust)


def choice(name: str) -> RustChoice:
    (found,) = toolchains.choices([name], rustup=None)  # type: ignore[arg-type]
    return found


def test_rust_words_expand_ranges_and_keep_names() -> None:
    assert toolchains.parse("1.78..1.80") == ["1.78", "1.79", "1.80"]
    assert toolchains.parse("1.80.1, stable,1.80.1") == ["1.80.1", "stable"]
    assert toolchains.parse("nightly-2024-05-01,1.70-x86_64-unknown-linux-gnu") == [
        "nightly-2024-05-01",
        "1.70-x86_64-unknown-linux-gnu",
    ]


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("", "--rust is empty"),
        ("1.80..", "both given"),
        ("1.80.1..1.82", "from one Rust minor to another"),
        ("1.90..1.80", "runs backwards"),
        ("--frozen", "is not a toolchain name"),
        ("stable beta", "is not a toolchain name"),
        ("1.x", "is not a toolchain name rustup accepts"),
        ("1.80,my-toolchain", "'my-toolchain' is not a toolchain name"),
        ("nightly-2024-5-1", "is not a toolchain name"),
        ("stable-", "is not a toolchain name"),
        ("2024-05-01", "is not a toolchain name"),
    ],
)
def test_bad_rust_words_are_one_line(spec: str, says: str) -> None:
    with pytest.raises(UserError, match=says) as caught:
        toolchains.parse(spec)
    assert "\n" not in caught.value.message


@pytest.mark.parametrize(
    "word",
    [
        "stable",
        "beta-2024-05-01",
        "nightly-2024-05-01-x86_64-unknown-linux-gnu",
        "1.80.0-beta.2",
        "1.80.1-aarch64-apple-darwin",
        "stable-msvc",
        "1.9",
    ],
)
def test_rustups_name_grammar_is_accepted(word: str) -> None:
    assert toolchains.parse(word) == [word]


def test_a_custom_name_must_be_an_installed_toolchain(tmp_path: Path) -> None:
    (tmp_path / "toolchains" / "my-toolchain").mkdir(parents=True)
    (tmp_path / "toolchains" / "stable-x86_64-unknown-linux-gnu").mkdir()
    custom = toolchains.installed_names({"RUSTUP_HOME": str(tmp_path)})
    assert toolchains.parse("my-toolchain,1.80", custom) == ["my-toolchain", "1.80"]
    with pytest.raises(UserError, match="nor one it has installed"):
        toolchains.parse("their-toolchain", custom)


def test_a_version_name_needs_nothing_from_rustup_and_sorts_by_version() -> None:
    chosen = toolchains.choices(["1.80", "1.74.1", "1.9"], rustup=None)  # type: ignore[arg-type]
    assert [(c.name, str(c.version)) for c in chosen] == [
        ("1.9", "1.9.0"),
        ("1.74.1", "1.74.1"),
        ("1.80", "1.80.0"),
    ]


class _Rustup:
    """rustup as `choices` sees it: a channel has a version once installed."""

    def __init__(self, answer: Rust | str) -> None:
        self.answer = answer
        self.asked: list[str] = []

    def ensure(self, name: str) -> Rust | str:
        self.asked.append(name)
        return self.answer


def test_a_channel_is_installed_to_learn_its_version() -> None:
    stable = Rust("stable", "1.95.0", "rustc 1.95.0", "cargo 1.95.0", "/rust/bin")
    rustup = _Rustup(stable)
    (found,) = toolchains.choices(["stable"], rustup)  # type: ignore[arg-type]
    assert found == RustChoice(Version("1.95.0"), "stable") and rustup.asked == ["stable"]
    with pytest.raises(UserError, match="--rust nightly: rustup could not"):
        toolchains.choices(["nightly"], _Rustup("rustup could not install"))  # type: ignore[arg-type]


def test_the_msrv_comes_from_the_manifest_else_the_changelog_table() -> None:
    assert rust_support.msrv(release("0.19.2")) == Version("1.48")
    assert rust_support.msrv(release("0.26.0")) == Version("1.74")
    assert rust_support.msrv(release("0.28.0", rust="1.83")) == Version("1.83")
    assert rust_support.msrv(release("0.22.0", rust="1.70")) == Version("1.70")  # the manifest wins
    assert rust_support.msrv(release("0.15.0")) is None  # before the table: every Rust declared
    assert rust_support.declares(release("0.26.0"), Version("1.74.0"))
    assert not rust_support.declares(release("0.26.0"), Version("1.73.0"))
    assert rust_support.declares(release("0.30.1"), Version("1.85.0"))
    assert rust_support.floor_text(release("0.22.0")) == "Rust 1.63 or newer"


def test_the_index_and_a_commit_manifest_give_the_rust_version() -> None:
    lines = (
        '{"name":"pyo3","vers":"0.19.2","yanked":false}\n'
        '{"name":"pyo3","vers":"0.20.0","yanked":false,"rust_version":"1.56"}\n'
    )
    found = {r.cargo_version: r.rust_version for r in parse_index(lines, "pyo3")}
    assert found == {"0.19.2": "", "0.20.0": "1.56"}
    assert rust_version('[package]\nname = "pyo3"\nrust-version = "1.63"\n') == "1.63"
    assert rust_version('[workspace.package]\nrust-version = "1.74"\n[package]\n') == "1.74"
    assert rust_version('[package]\nname = "pyo3"\n') == "" == rust_version("not toml [")


def test_a_cell_below_the_msrv_is_unsupported_and_says_why(tmp_path: Path) -> None:
    cell = Cell(SCENARIO, release("0.26.0"), PY311, choice("1.70"))
    assert cell.python_declared and not cell.rust_declared and not cell.declared
    assert cell.outside == "declares Rust 1.74 or newer"
    assert cell.label.endswith("CPython 3.11.7 · Rust 1.70")
    keys = Evaluator(Layout(tmp_path, tmp_path), TOOLS, Options()).keys
    assert keys.unbuilt(cell) == (Outcome.UNSUPPORTED, "PyO3 0.26.0 declares Rust 1.74 or newer")
    on_path = Cell(SCENARIO, release("0.26.0"), PY311)
    assert keys.key(cell, None) != keys.key(replace(cell, rust=choice("1.69")), None)
    assert keys.unbuilt(on_path) is None and on_path.declared  # no --rust: no Rust window


def test_a_chosen_toolchain_changes_builds_and_locks_only_when_chosen() -> None:
    old = Rust("1.70", "1.70.0", "rustc 1.70.0\nrelease: 1.70.0", "cargo 1.70.0", "/r/1.70/bin")
    chosen = TOOLS.with_rust(old)
    assert TOOLS.build_env() == {} == TOOLS.resolve_env()
    assert chosen.rustc_verbose.startswith("rustc 1.70.0") and chosen.rust_name == "1.70"
    assert chosen.cargo_bin == TOOLS.cargo_bin  # the newer cargo resolves for the older Rust
    env = chosen.build_env()
    assert env["RUSTUP_TOOLCHAIN"] == "1.70" and env["PATH"].startswith("/r/1.70/bin")
    assert chosen.resolve_env() == {
        "CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS": "fallback",
        "RUSTC": "/r/1.70/bin/rustc",
    }
    lock = "# This file is automatically @generated by Cargo.\nversion = 4\n\n[[package]]\n"
    assert chosen.readable_lock(lock) == lock.replace("version = 4", "version = 3")
    assert TOOLS.readable_lock(lock) == lock
    newer = Rust("nightly", "1.99.0-nightly", "rustc 1.99.0-nightly", "cargo 1.99", "/r/n/bin")
    assert TOOLS.with_rust(newer).cargo_bin == "/r/n/bin/cargo"
    assert TOOLS.with_rust(newer).readable_lock(lock) == lock
    assert not chosen.reads_index_through_git
    assert TOOLS.with_rust(replace(old, release="1.65.0")).reads_index_through_git


def _records(rusts: list[str], pyo3s: list[str]) -> list:
    return [
        make_record(Outcome.PASS, pyo3=p, rust=r, selection=("--rust", r))
        for r in rusts
        for p in pyo3s
    ]


def test_one_table_per_toolchain_or_toolchains_as_rows_for_one_release() -> None:
    per_rust = table.grids_from_records(
        "s", "", "", _records(["1.80", "1.74"], ["0.20.3", "0.21.2"])
    )
    assert [g.title for g in per_rust] == ["s · Rust 1.74", "s · Rust 1.80"]
    assert all(g.rows_are == "PyO3" and len(g.cells) == 2 for g in per_rust)
    (rows,) = table.grids_from_records(
        "s", "", "", _records(["1.80", "1.74", "stable"], ["0.20.3"])
    )
    assert rows.rows_are == "Rust" and rows.title == "s · PyO3 0.20.3"
    assert [r for r, _ in rows.rows] == ["1.74", "1.80", "stable"]
    text = markdown.grid_table(rows)
    assert text.startswith("| Rust \\ CPython | 3.11 |") and "| 1.74 | pass |" in text
    yanked = [replace(r, yanked=True) for r in _records(["1.80", ""], ["0.23.0"])]
    (both,) = table.grids_from_records("s", "", "", yanked)
    assert both.rows == (("on PATH", False), ("1.80", False))
    assert both.title == "s · PyO3 0.23.0 (yanked)"
    (plain,) = table.grids_from_records("s", "", "", [make_record()])
    assert plain.title == "s" and plain.corner == "PyO3 \\ CPython"  # no --rust: as before


def test_a_rust_search_leaves_out_toolchains_below_the_msrv() -> None:
    rusts = [choice(n) for n in ("1.60", "1.62", "1.63", "1.70", "1.80")]
    found = rust_candidates(SCENARIO, release("0.22.0"), PY311, rusts)
    assert found is not None and found.axis == "rust"
    assert found.labels == ("1.63", "1.70", "1.80") and found.excluded == ("1.60", "1.62")
    assert found.fixed == "PyO3 0.22.0 on CPython 3.11.7"
    assert all(c.rust is not None for c in found.cells)
    assert rust_candidates(SCENARIO, release("0.26.0"), PY311, rusts[:3]) is None
    forced = rust_candidates(SCENARIO, release("0.26.0"), PY311, rusts[:3], build_unsupported=True)
    assert forced is not None and len(forced.labels) == 3


def test_a_release_search_with_one_toolchain_keeps_to_its_window() -> None:
    every = [release(v) for v in ("0.21.2", "0.22.0", "0.25.1", "0.26.0", "0.27.2")]
    found = release_candidates(
        SCENARIO, every, {r.cargo_version for r in every}, PY311, rust=choice("1.70")
    )
    assert found is not None and found.fixed == "CPython 3.11.7 with Rust 1.70"
    assert found.labels == ("0.21.2", "0.22.0", "0.25.1") and found.excluded == ("0.26.0", "0.27.2")


# A stand-in for rustup: `which --toolchain NAME rustc` answers for installed toolchains (a
# folder each, with stand-in rustc and cargo), `toolchain install NAME` makes one (and counts),
# and a name containing "nope" cannot be installed.
_RUSTUP = """#!/bin/sh
home="$(dirname "$0")/toolchains"
if [ "$1" = which ]; then
  [ -x "$home/$3/bin/rustc" ] || { echo "error: toolchain '$3' is not installed" >&2; exit 1; }
  echo "$home/$3/bin/rustc"; exit 0
fi
if [ "$1" = toolchain ] && [ "$2" = install ]; then
  echo "$3 $4 $5" >> "$(dirname "$0")/installs"
  case "$3" in *nope*) echo "error: could not download nonexistent rust version '$3'" >&2; exit 1;; esac
  mkdir -p "$home/$3/bin"
  release="$3.0"; [ "$3" = stable ] && release=1.95.0
  printf '#!/bin/sh\\nprintf "rustc %s (x)\\\\nrelease: %s\\\\n"\\n' "$release" "$release" > "$home/$3/bin/rustc"
  printf '#!/bin/sh\\necho "cargo %s"\\n' "$release" > "$home/$3/bin/cargo"
  chmod +x "$home/$3/bin/rustc" "$home/$3/bin/cargo"; exit 0
fi
exit 2
"""


@pytest.fixture
def rustup(tmp_path: Path) -> tuple[toolchains.Rustup, list[str], Path]:
    script = tmp_path / "rustup"
    script.write_text(_RUSTUP)
    script.chmod(0o755)
    said: list[str] = []
    return (
        toolchains.Rustup(str(script), tmp_path / "mutex", tmp_path / "logs", said.append),
        said,
        tmp_path,
    )


def test_a_toolchain_is_installed_once_with_a_progress_line(rustup) -> None:  # type: ignore[no-untyped-def]
    found, said, root = rustup
    assert found.installed("1.80") is None  # nothing installed just by asking
    first = found.ensure("1.80")
    assert (
        isinstance(first, Rust) and first.release == "1.80.0" and first.version == Version("1.80.0")
    )
    assert first.cargo == "cargo 1.80.0" and first.rustc_verbose.startswith("rustc 1.80.0")
    assert found.ensure("1.80") is first and found.installed("1.80") is first
    assert (root / "installs").read_text().split("\n")[0] == "1.80 --profile minimal"
    assert said[0] == "installing Rust 1.80 through rustup (--profile minimal), once"
    assert said[1].startswith("installed Rust 1.80 (1.80.0) in ")
    again = toolchains.Rustup(found.binary, found.mutex, found.log_dir, said.append)
    assert again.ensure("1.80") == first and len(said) == 2  # another run: already there


def test_a_toolchain_rustup_cannot_install_is_its_error_once(rustup) -> None:  # type: ignore[no-untyped-def]
    found, said, root = rustup
    why = found.ensure("1.800nope")
    assert isinstance(why, str) and "could not download nonexistent rust version" in why
    assert found.ensure("1.800nope") == why
    assert (root / "installs").read_text().count("nope") == 1  # tried once per run
    (stable,) = toolchains.choices(["stable"], found)
    assert stable == RustChoice(Version("1.95.0"), "stable")


def test_listing_installs_nothing_and_a_missing_channel_is_of_unknown_version(rustup) -> None:  # type: ignore[no-untyped-def]
    found, said, root = rustup
    found.ensure("stable")  # installed before: its version is known without installing
    (root / "installs").unlink()
    shutil.rmtree(root / "logs")
    chosen = toolchains.choices(["beta", "1.90", "stable"], found, install=False)
    assert [(c.name, c.known) for c in chosen] == [
        ("1.90", True),
        ("stable", True),
        ("beta", False),
    ]
    assert chosen[1].version == Version("1.95.0") and chosen[2].version > Version("1.200")
    assert not (root / "installs").exists() and not (root / "logs").exists()


def test_without_rustup_rust_is_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(toolchains.shutil, "which", lambda name: None)
    with pytest.raises(UserError, match="chosen through rustup, which is not on PATH"):
        toolchains.Rustup.on_path(tmp_path / "m", tmp_path / "l", print)


def test_toolchains_are_rustups_not_the_caches(tmp_path: Path) -> None:
    (tmp_path / "toolchains" / "1.80-x86_64").mkdir(parents=True)
    folder, found = toolchains.rustup_toolchains({"RUSTUP_HOME": str(tmp_path)})
    assert folder == tmp_path / "toolchains" and [p.name for p in found] == ["1.80-x86_64"]
    assert toolchains.rustup_toolchains({"RUSTUP_HOME": str(tmp_path / "none")})[1] == []


def test_only_cargo_1_84_on_resolves_for_an_older_rust() -> None:
    from pyo3_triage.building.toolchain import resolves_for_any_rust

    assert resolves_for_any_rust("cargo 1.95.0 (f2d3ce0bd 2026-03-21)") is True
    assert resolves_for_any_rust("cargo 1.84.0 (66221abde 2024-11-19)") is True
    assert resolves_for_any_rust("cargo 1.83.0 (5ffbef321 2024-10-29)") is False
    assert resolves_for_any_rust("") is None


def _project(tmp_path: Path, package: str, workspace: str = "") -> Path:
    from factories import make_project

    root = make_project(tmp_path / "proj")
    manifest = root / "Cargo.toml"
    text = manifest.read_text().replace('edition = "2021"\n', "")
    manifest.write_text(text.replace("[package]\n", f"[package]\n{package}", 1) + workspace)
    return root


@pytest.mark.parametrize(
    ("package", "workspace", "floor", "why"),
    [
        ('edition = "2024"\n', "", "1.85", "edition 2024"),
        ('edition = "2021"\nrust-version = "1.80"\n', "", "1.80", "its rust-version is 1.80"),
        ('edition = "2024"\nrust-version = "1.80"\n', "", "1.85", "edition 2024"),
        (
            "edition.workspace = true\nrust-version.workspace = true\n",
            '\n[workspace]\n[workspace.package]\nedition = "2021"\nrust-version = "1.88"\n',
            "1.88",
            "its rust-version is 1.88",
        ),
        ("", "", "", ""),
    ],
)
def test_a_users_crate_names_its_own_rust_floor(
    tmp_path: Path, package: str, workspace: str, floor: str, why: str
) -> None:
    from pyo3_triage.reproducers import manifests

    project = manifests.find(_project(tmp_path, package, workspace))
    assert (project.rust_floor, project.rust_floor_why) == (floor, why)
    if floor:
        below = Version(floor).release[1] - 1
        said = project.rust_excludes(Version(f"1.{below}.0"))
        assert said == f"the project needs Rust {floor} or newer ({why})"
        assert project.rust_excludes(Version(f"{floor}.0")) is None
    else:
        assert project.rust_excludes(Version("1.40.0")) is None


def test_toolchains_below_a_crates_own_floor_are_skipped_and_named() -> None:
    from pyo3_triage import selection

    class Crate:
        def rust_excludes(self, rust: Version) -> str | None:
            return "needs 1.85" if rust < Version("1.85") else None

    said: list[str] = []
    chosen = [choice("1.80"), choice("1.85"), choice("1.95")]
    kept = selection.drop_rust_excluded([Crate()], chosen, said.append)  # type: ignore[list-item]
    assert [r.name for r in kept] == ["1.85", "1.95"] and said == ["skipping Rust 1.80: needs 1.85"]
    with pytest.raises(UserError, match="ruled out by the project itself"):
        selection.drop_rust_excluded([Crate()], chosen[:1], said.append)  # type: ignore[list-item]
    scenario_kept = selection.drop_rust_excluded([SCENARIO], chosen, said.append)
    assert scenario_kept == tuple(chosen)  # a scenario rules nothing out


# --- `--list` with --rust, through the command line (a stand-in rustup on PATH) ------------


@pytest.fixture
def listing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[list[str], Path]]:
    """matrix's options for an offline --list (a fresh release list in the cache), with a
    stand-in rustup first on PATH that logs every call; its log."""
    import json
    import signal
    import time

    from pyo3_triage.system.supervisor import SUPERVISOR

    tools = tmp_path / "tools"
    tools.mkdir()
    calls = tmp_path / "rustup-calls"
    script = tools / "rustup"
    script.write_text(_RUSTUP.replace("\n", f'\necho "$@" >> {calls}\n', 1))
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("COLUMNS", "300")
    monkeypatch.setattr(SUPERVISOR, "harden", lambda: None)
    layout = Layout(cache=tmp_path / "cache", results=tmp_path / "results")
    index = layout.index_file("pyo3")
    index.parent.mkdir(parents=True)
    lines = [{"name": "pyo3", "vers": v} for v in ("0.21.2", "0.26.0")]
    index.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    os.utime(index, (time.time() - 10, time.time() - 10))
    before = signal.getsignal(signal.SIGTERM)
    yield (
        [
            "--list",
            "--scenario",
            "vec_u8_return",
            "--pyo3",
            "0.21.2,0.26.0",
            "--python",
            sys.executable,
            "--cache",
            str(layout.cache),
            "--results",
            str(layout.results),
        ],
        calls,
    )
    signal.signal(signal.SIGTERM, before)


def test_list_installs_no_toolchain_and_writes_no_results(
    listing: tuple[list[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pyo3_triage import interpreters
    from pyo3_triage.commands import matrix_cli

    argv, calls = listing
    assert matrix_cli.main([*argv, "--rust", "1.70,beta"]) == 0
    out = capsys.readouterr().out
    assert "Rust beta not installed" in out and "its window is unknown" in out
    assert "unsupported (declares Rust 1.74 or newer)" in out  # 1.70's window, from its name
    base = interpreters.probe(Path(sys.executable), "explicit")
    assert base is not None and f"{base.name}: {base.executable}\n" in out  # the column's file
    asked = calls.read_text().splitlines()
    assert asked and not [line for line in asked if line.startswith("toolchain")]
    assert not (tmp_path / "results").exists()  # no logs/, nothing at all


def test_a_word_rustup_cannot_accept_is_refused_before_rustup_runs(
    listing: tuple[list[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pyo3_triage.commands import matrix_cli

    argv, calls = listing
    assert matrix_cli.entry([*argv, "--rust", "1.x"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --rust '1.x' is not a toolchain name") and "\n" not in err
    assert not calls.exists() and not (tmp_path / "results").exists()
