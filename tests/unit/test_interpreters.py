"""Interpreter discovery and selection: fake trees for the rules, real runs for the probe."""

from __future__ import annotations

import glob
import os
import stat
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from factories import interp
from packaging.version import Version

from pyo3_triage.errors import UserError
from pyo3_triage.interpreters import (
    Interpreter,
    candidate_paths,
    discover,
    probe,
    select_interpreters,
)

# --- helpers ------------------------------------------------------------------------------


def make_exe(path: Path, body: str = "exit 0\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def link(path: Path, target: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)
    return path


FOUND = [
    interp("3.8.18"),
    interp("3.9.18"),
    interp("3.11.2", source="PATH"),
    interp("3.11.7"),
    interp("3.12.1"),
    interp("3.12.3", source="uv"),
    interp("3.13.0"),
    interp("3.13.0", free_threaded=True),
]


def labels(selected: list[Interpreter]) -> list[str]:
    return [i.label for i in selected]


def error_for(spec: str | None, found: list[Interpreter] = FOUND) -> str:
    with pytest.raises(UserError) as caught:
        select_interpreters(spec, found)
    message = caught.value.message
    assert "\n" not in message
    return message


# --- candidate_paths ----------------------------------------------------------------------


@pytest.fixture()
def tree(tmp_path: Path) -> dict[str, Path]:
    """A pyenv root, a shims folder, a plain bin folder and a uv folder, with duplicates."""
    pyenv = tmp_path / "pyenv"
    v312 = pyenv / "versions" / "3.12.1" / "bin"
    make_exe(v312 / "python3.12")
    link(v312 / "python3", "python3.12")
    link(v312 / "python", "python3.12")  # plain `python` only counts on PATH
    make_exe(v312 / "python3.12-config")
    make_exe(v312 / "python3.12-gdb.py")
    v313 = pyenv / "versions" / "3.13.0" / "bin"
    make_exe(v313 / "python3.13")
    make_exe(v313 / "python3.13t")
    make_exe(pyenv / "versions" / "2.7.18" / "bin" / "python2.7")
    make_exe(pyenv / "shims" / "python3.12")
    make_exe(pyenv / "shims" / "python3")

    bin_dir = tmp_path / "bin"
    link(bin_dir / "python3", str(v312 / "python3.12"))  # same file as pyenv's: PATH wins
    make_exe(bin_dir / "python3.11")
    make_exe(bin_dir / "python3-config")
    (bin_dir / "python3.10").write_text("not executable")

    uv = tmp_path / "uv"
    uv_bin = uv / "cpython-3.9.18-linux-x86_64-gnu" / "bin"
    make_exe(uv_bin / "python3.9")
    link(uv_bin / "python3", "python3.9")
    make_exe(tmp_path / "relbin" / "python3")
    return {"root": tmp_path, "pyenv": pyenv, "bin": bin_dir, "uv": uv, "v312": v312}


def test_candidate_paths_walks_path_pyenv_and_uv_skipping_shims(
    tree: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tree["root"])
    env = {
        "PATH": os.pathsep.join([str(tree["pyenv"] / "shims"), str(tree["bin"]), "relbin", ""]),
        "PYENV_ROOT": str(tree["pyenv"]),
        "UV_PYTHON_INSTALL_DIR": str(tree["uv"]),
    }
    found = candidate_paths(env, home=tree["root"] / "nohome")
    rel = [(str(path.relative_to(tree["root"])), source) for path, source in found]
    assert rel == [
        ("bin/python3", "PATH"),
        ("bin/python3.11", "PATH"),
        ("pyenv/versions/3.13.0/bin/python3.13", "pyenv"),
        ("pyenv/versions/3.13.0/bin/python3.13t", "pyenv"),
        ("uv/cpython-3.9.18-linux-x86_64-gnu/bin/python3", "uv"),
    ]
    assert all(path.is_absolute() for path, _ in found)


def test_candidate_paths_defaults_to_home_folders(tree: dict[str, Path]) -> None:
    home = tree["root"] / "home"
    make_exe(home / ".pyenv" / "versions" / "3.10.13" / "bin" / "python3.10")
    make_exe(home / ".local/share/uv/python/cpython-3.8.18-linux/bin/python3.8")
    found = candidate_paths({"PATH": ""}, home=home)
    assert [(path.name, source) for path, source in found] == [
        ("python3.10", "pyenv"),
        ("python3.8", "uv"),
    ]


def test_candidate_paths_uses_xdg_data_home_for_uv(tmp_path: Path) -> None:
    exe = make_exe(tmp_path / "data" / "uv" / "python" / "cpython-3.12.1" / "bin" / "python3.12")
    found = candidate_paths({"XDG_DATA_HOME": str(tmp_path / "data")}, home=tmp_path / "h")
    assert found == [(exe, "uv")]


def test_candidate_paths_tolerates_missing_folders(tmp_path: Path) -> None:
    env = {"PATH": str(tmp_path / "nope"), "PYENV_ROOT": str(tmp_path / "nope2")}
    assert candidate_paths(env, home=tmp_path) == []


# --- probe (real subprocesses) ------------------------------------------------------------


def test_probe_running_interpreter() -> None:
    found = probe(Path(sys.executable), "explicit")
    assert found is not None
    assert (found.version.major, found.version.minor, found.version.micro) == sys.version_info[:3]
    assert found.implementation == sys.implementation.name
    assert found.soabi == (sysconfig.get_config_var("SOABI") or "")
    assert found.free_threaded == bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    if sys.prefix == sys.base_prefix:
        assert found.executable == Path(sys.executable)
    else:  # the tests' own venv: its base installation answers (see the venv tests below)
        assert not found.executable.is_relative_to(Path(sys.prefix))
    assert found.realpath == found.executable.resolve() == Path(sys.executable).resolve()
    assert found.source == "explicit"
    assert found.python_label == f"{sys.version_info[0]}.{sys.version_info[1]}" + (
        "t" if found.free_threaded else ""
    )


def test_probe_ignores_cwd_and_pythonpath_shadowing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "json.py").write_text("raise SystemExit(3)\n")
    (tmp_path / "sitecustomize.py").write_text("raise SystemExit(4)\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setenv("PYTHONSTARTUP", str(tmp_path / "json.py"))
    assert probe(Path(sys.executable), "PATH") is not None


@pytest.mark.parametrize(
    "body",
    [
        "exit 1\n",
        "echo 'Python 3.12.1'\n",
        "echo '{\"version_info\": [3, 12]}'\n",
        'echo \'{"version_info": "3.12"}\'\n',
        "",  # no output at all
    ],
    ids=["exits-1", "garbage", "short-version", "wrong-type", "silent"],
)
def test_probe_rejects_broken_executables(tmp_path: Path, body: str) -> None:
    assert probe(make_exe(tmp_path / "python3", body), "PATH") is None


def test_probe_rejects_missing_unexecutable_and_hanging(tmp_path: Path) -> None:
    assert probe(tmp_path / "absent", "PATH") is None
    plain = tmp_path / "plain"
    plain.write_text("#!/bin/sh\nexit 0\n")
    assert probe(plain, "PATH") is None
    assert probe(make_exe(tmp_path / "slow", "exec sleep 5\n"), "PATH", timeout=0.3) is None


def test_probe_parses_prerelease_and_uses_reported_executable(tmp_path: Path) -> None:
    real = make_exe(tmp_path / "real" / "python3.14")
    answer = (
        '{"version_info": [3, 14, 0, "candidate", 2], "implementation": "cpython", '
        f'"gil_disabled": true, "soabi": "cpython-314t-x86_64-linux-gnu", "executable": "{real}"}}'
    )
    wrapper = make_exe(tmp_path / "wrapper", f"echo 'noise from site'\necho '{answer}'\n")
    found = probe(wrapper, "uv")
    assert found is not None
    assert found.version == Version("3.14.0rc2")
    assert found.free_threaded and found.python_label == "3.14t" and found.label == "3.14.0rc2t"
    assert found.executable == wrapper
    assert found.realpath == real.resolve()


def make_venv(python: Path, folder: Path, *options: str) -> Path:
    """A real venv of `python` (no pip: nothing is downloaded); its python."""
    subprocess.run([str(python), "-m", "venv", "--without-pip", *options, str(folder)], check=True)
    return folder / "bin" / "python"


def running_base() -> Interpreter:
    """The running interpreter's base installation (the tests may run in a venv)."""
    found = probe(Path(sys.executable), "explicit")
    assert found is not None
    return found


@pytest.mark.parametrize("options", [(), ("--copies",)], ids=["symlinks", "copies"])
def test_a_venvs_python_is_its_base_installation(tmp_path: Path, options: tuple[str, ...]) -> None:
    base = running_base()
    python = make_venv(base.executable, tmp_path / "venv", *options)
    found = probe(python, "PATH")
    assert found is not None and found.source == "PATH"
    assert not found.executable.is_relative_to(tmp_path)  # nothing names the venv
    assert found.realpath == base.realpath and found.executable.resolve() == base.realpath
    assert (found.version, found.soabi, found.python_label) == (
        base.version,
        base.soabi,
        base.python_label,
    )


def test_a_venv_on_path_and_its_base_are_one_column(tmp_path: Path) -> None:
    base = running_base()
    venv_bin = make_venv(base.executable, tmp_path / "venv", "--copies").parent
    env = {"PATH": f"{venv_bin}{os.pathsep}{base.executable.parent}"}
    found = discover(env, home=tmp_path)
    assert [i.realpath for i in found].count(base.realpath) == 1
    assert not any(i.executable.is_relative_to(tmp_path) for i in found)


def test_a_venv_path_given_is_its_base_with_a_note(tmp_path: Path) -> None:
    base = running_base()
    python = make_venv(base.executable, tmp_path / "venv")
    heard: list[str] = []
    (chosen,) = select_interpreters(str(python), [], notify=heard.append)
    assert chosen.realpath == base.realpath and chosen.source == "explicit"
    assert len(heard) == 1 and "virtual environment" in heard[0]
    assert str(chosen.executable) in heard[0]
    select_interpreters(str(chosen.executable), [], notify=heard.append)
    assert len(heard) == 1  # a base installation given is taken as it is, silently


DEBIAN_DEBUG = Path("/usr/bin/python3.11-dbg")


@pytest.mark.skipif(not DEBIAN_DEBUG.is_file(), reason="no Debian debug CPython")
def test_a_debug_builds_venv_is_the_debug_build_not_the_release(tmp_path: Path) -> None:
    base = probe(DEBIAN_DEBUG, "PATH")
    assert base is not None and base.debug
    found = probe(make_venv(DEBIAN_DEBUG, tmp_path / "venv", "--copies"), "PATH")
    assert found is not None and found.debug and found.python_label == base.python_label
    assert found.realpath == base.realpath


PY27 = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/2.7*/bin/python2.7")))


@pytest.mark.skipif(not PY27, reason="no Python 2.7 under ~/.pyenv")
def test_probe_script_runs_under_python_27() -> None:
    found = probe(Path(PY27[0]), "pyenv")
    assert found is not None
    assert found.version.major == 2 and found.implementation == "cpython"


# --- discover -----------------------------------------------------------------------------


def test_discover_keeps_cpython3_once_per_realpath(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    names = ["python", "python3", "python3.11", "python3.12", "python3.13"]
    for name in names:
        make_exe(bin_dir / name)
    kept = interp("3.11.7", source="PATH", path=str(bin_dir / "python3"))
    wrapper = Interpreter(  # a wrapper script that started the same interpreter
        kept.version, bin_dir / "python3.11", kept.realpath, "cpython", False, kept.soabi, "PATH"
    )
    answers = {
        "python": interp("2.7.18", path=str(bin_dir / "python")),
        "python3": kept,
        "python3.11": wrapper,
        "python3.12": interp("3.12.1", implementation="graalpy"),
        "python3.13": None,
    }

    def fake_probe(executable: Path, source: str) -> Interpreter | None:
        return answers[executable.name]

    found = discover({"PATH": str(bin_dir)}, home=tmp_path, probe=fake_probe)
    assert found == [kept]


def test_discover_finds_the_running_interpreter() -> None:
    found = discover()
    assert Path(sys.executable).resolve() in {i.realpath for i in found}
    assert found == sorted(found)
    assert all(i.implementation in ("cpython", "pypy") and i.version.major == 3 for i in found)
    assert len({i.realpath for i in found}) == len(found)


# --- select_interpreters ------------------------------------------------------------------


def test_default_selects_newest_gil_patch_per_minor() -> None:
    selected = select_interpreters(None, FOUND)
    assert labels(selected) == ["3.8.18", "3.9.18", "3.11.7", "3.12.3", "3.13.0"]
    assert [i.python_label for i in selected] == ["3.8", "3.9", "3.11", "3.12", "3.13"]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("3.12", ["3.12.3"]),
        ("3.13t", ["3.13.0t"]),
        ("3.12.1", ["3.12.1"]),
        ("3.11.2", ["3.11.2"]),
        ("3.13.0t", ["3.13.0t"]),
        ("3.8..3.12", ["3.8.18", "3.9.18", "3.11.7", "3.12.3"]),  # 3.10 absent: skipped
        ("3.9..3.9", ["3.9.18"]),
        ("3.12, 3.8", ["3.8.18", "3.12.3"]),
        ("3.8..3.9,3.13,3.13t", ["3.8.18", "3.9.18", "3.13.0", "3.13.0t"]),
        ("3.8..3.11,3.9,3.11.7", ["3.8.18", "3.9.18", "3.11.7"]),  # overlaps agree
        ("3.10..3.30", ["3.11.7", "3.12.3", "3.13.0"]),
    ],
)
def test_spec_forms(spec: str, expected: list[str]) -> None:
    assert labels(select_interpreters(spec, FOUND)) == expected


def test_same_version_prefers_source_priority() -> None:
    found = [
        interp("3.12.1", source="uv"),
        interp("3.12.1", source="PATH"),
        interp("3.12.1", source="pyenv"),
    ]
    assert [i.source for i in select_interpreters("3.12", found)] == ["PATH"]
    assert [i.source for i in select_interpreters("3.12.1", found)] == ["PATH"]
    assert [i.source for i in select_interpreters(None, found)] == ["PATH"]


@pytest.mark.parametrize(
    "spec", ["", "3", "3.x", "2.7", "3.12,", " , ", "3.8..", "py3.12", "3.13t..3.14", "3.8-3.9"]
)
def test_malformed_spec(spec: str) -> None:
    message = error_for(spec)
    assert repr(spec) in message
    assert "3.8..3.13" in message and "path" in message


def test_reversed_range() -> None:
    assert "reversed" in error_for("3.13..3.8")


@pytest.mark.parametrize("spec", ["3.14", "3.12t", "3.12.9", "3.14..3.15", "3.11,3.7"])
def test_nothing_matches_lists_what_was_found(spec: str) -> None:
    message = error_for(spec)
    assert "found 3.8.18, 3.9.18, 3.11.2, 3.11.7, 3.12.1, 3.12.3, 3.13.0, 3.13.0t" in message


def test_nothing_found_at_all() -> None:
    assert "found none" in error_for("3.12", [])
    assert "no CPython 3 interpreter found" in error_for(None, [])


def test_two_interpreters_for_one_minor() -> None:
    message = error_for("3.12,3.12.1")
    assert "3.12 twice" in message and "3.12.1" in message and "3.12.3" in message


def test_explicit_path_is_probed(tmp_path: Path) -> None:
    selected = select_interpreters(sys.executable, [])
    assert len(selected) == 1
    assert selected[0].source == "explicit"
    assert selected[0].realpath == Path(sys.executable).resolve()
    assert selected[0].version.release[:3] == sys.version_info[:3]


def test_relative_path_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_exe(tmp_path / "venv" / "bin" / "python")
    monkeypatch.chdir(tmp_path)
    calls: list[tuple[Path, str]] = []

    def fake_probe(executable: Path, source: str) -> Interpreter | None:
        calls.append((executable, source))
        return interp("3.12.1", source=source, path=str(executable))

    selected = select_interpreters("venv/bin/python,3.9", FOUND, probe=fake_probe)
    assert calls == [(tmp_path / "venv" / "bin" / "python", "explicit")]
    assert labels(selected) == ["3.9.18", "3.12.1"]


def test_explicit_path_errors(tmp_path: Path) -> None:
    assert "does not exist" in error_for(str(tmp_path / "missing" / "python"))
    assert "is not a file" in error_for(str(tmp_path))
    broken = make_exe(tmp_path / "python3", "echo garbage\n")
    assert "did not run as a Python interpreter" in error_for(str(broken))

    def graalpy(executable: Path, source: str) -> Interpreter | None:
        return interp("3.10.14", implementation="graalpy", path=str(executable))

    def py2(executable: Path, source: str) -> Interpreter | None:
        return interp("2.7.18", path=str(executable))

    for fake, words in ((graalpy, "graalpy 3.10.14"), (py2, "cpython 2.7.18")):
        with pytest.raises(UserError, match=f"{words}, not CPython 3"):
            select_interpreters(str(broken), [], probe=fake)


def test_an_interpreter_is_probed_again_only_when_its_file_changed(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    make_exe(bin_dir / "python3.11")
    make_exe(bin_dir / "python3.12")
    answers = {
        "python3.11": interp("3.11.7", source="PATH", path=str(bin_dir / "python3.11")),
        "python3.12": None,  # broken now: asked again next time
    }
    asked: list[str] = []

    def fake_probe(executable: Path, source: str) -> Interpreter | None:
        asked.append(executable.name)
        return answers[executable.name]

    memo = tmp_path / "cache" / "interpreters.json"
    env = {"PATH": str(bin_dir)}
    first = discover(env, home=tmp_path, probe=fake_probe, memo=memo)
    assert sorted(asked) == ["python3.11", "python3.12"] and memo.is_file()
    again = discover(env, home=tmp_path, probe=fake_probe, memo=memo)
    assert again == first and sorted(asked) == ["python3.11", "python3.12", "python3.12"]
    (bin_dir / "python3.11").write_text("#!/bin/sh\n# reinstalled\n")  # another file now
    discover(env, home=tmp_path, probe=fake_probe, memo=memo)
    assert asked.count("python3.11") == 2


def test_the_memo_keeps_a_venvs_base_and_asks_again_when_the_base_is_gone(
    tmp_path: Path,
) -> None:
    venv_python = make_exe(tmp_path / "venv" / "bin" / "python3.12")
    base = make_exe(tmp_path / "base" / "bin" / "python3.12")
    asked: list[str] = []

    def fake_probe(executable: Path, source: str) -> Interpreter | None:
        asked.append(executable.name)
        return interp("3.12.1", source=source, path=str(base))

    memo = tmp_path / "cache" / "interpreters.json"
    env = {"PATH": str(venv_python.parent)}
    first = discover(env, home=tmp_path, probe=fake_probe, memo=memo)
    assert [i.executable for i in first] == [base]
    assert discover(env, home=tmp_path, probe=fake_probe, memo=memo) == first
    assert len(asked) == 1
    base.unlink()
    discover(env, home=tmp_path, probe=fake_probe, memo=memo)
    assert len(asked) == 2


OTHER_BUILDS = [
    interp("3.11.7"),
    interp("3.11.2", debug=True, source="PATH"),
    interp("3.9.16", implementation="pypy", source="PATH"),
    interp("3.13.5", free_threaded=True),
]


def test_each_build_is_its_own_column() -> None:
    release, debug, pypy, free = OTHER_BUILDS
    assert [i.python_label for i in OTHER_BUILDS] == ["3.11", "3.11d", "pp3.9", "3.13t"]
    assert [i.label for i in OTHER_BUILDS] == ["3.11.7", "3.11.2d", "pp3.9.16", "3.13.5t"]
    assert [i.build for i in OTHER_BUILDS] == ["cpython", "debug", "pypy", "free-threaded"]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("3.11", ["3.11.7"]),
        ("3.11d", ["3.11.2d"]),
        ("pp3.9", ["pp3.9.16"]),
        ("pypy3.9", ["pp3.9.16"]),
        ("pp3.9.16", ["pp3.9.16"]),
        ("3.11,3.11d,pp3.9", ["pp3.9.16", "3.11.2d", "3.11.7"]),
        (None, ["3.11.7"]),  # the default: CPython's release builds only
    ],
)
def test_other_builds_are_named_never_stand_ins(spec: str | None, expected: list[str]) -> None:
    chosen = select_interpreters(spec, OTHER_BUILDS)
    assert sorted(i.label for i in chosen) == sorted(expected)


def test_a_debug_or_pypy_build_does_not_answer_for_cpython() -> None:
    only_others = OTHER_BUILDS[1:3]
    with pytest.raises(UserError, match="no interpreter matches '3.11'"):
        select_interpreters("3.11", only_others)
    with pytest.raises(UserError, match="no interpreter matches '3.9'"):
        select_interpreters("3.9", only_others)


def test_discover_keeps_pypy_and_debug_builds(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    for name in ("pypy3", "python3.11-dbg", "python3.11d"):
        make_exe(bin_dir / name)
    answers = {
        "pypy3": interp(
            "3.9.16", implementation="pypy", source="PATH", path=str(bin_dir / "pypy3")
        ),
        "python3.11-dbg": interp("3.11.2", debug=True, source="PATH", path=str(bin_dir / "x")),
        "python3.11d": None,
    }
    found = discover(
        {"PATH": str(bin_dir)}, home=tmp_path, probe=lambda exe, source: answers[exe.name]
    )
    assert sorted(i.python_label for i in found) == ["3.11d", "pp3.9"]
