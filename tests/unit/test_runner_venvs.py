"""Running a reproducer and filling its venv, on real processes that need no build: the
interpreter running these tests stands in for a cell's venv python; a stand-in `uv` records
what it was asked to install."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from factories import interp, make_crate

from pyo3_triage.building import venvs
from pyo3_triage.outcome import Outcome
from pyo3_triage.reproducers.scenarios import Scenario
from pyo3_triage.running import runner
from pyo3_triage.system.paths import Layout

PY = Path(sys.executable)


def scenario(tmp_path: Path, driver: str = "") -> Scenario:
    path = tmp_path / "driver.py"
    path.write_text(driver)
    return Scenario("s", tmp_path, "", "", 30.0, "json", (), (), "", path, driver)


def test_each_kind_runs_with_the_venv_python(tmp_path: Path) -> None:
    assert scenario(tmp_path).argv(PY) == [str(PY), str(tmp_path / "driver.py")]
    assert make_crate(tmp_path, "python -m pytest -x").argv(PY) == [str(PY), "-m", "pytest", "-x"]
    assert make_crate(tmp_path, "python3.11 a.py").argv(PY)[0] == str(PY)
    assert make_crate(tmp_path, "bash repro.sh").argv(PY) == ["bash", "repro.sh"]


def test_import_check(tmp_path: Path) -> None:
    assert runner.check_import(PY, "json", tmp_path, tmp_path / "log") is None
    failed = runner.check_import(PY, "no_such_module_here", tmp_path, tmp_path / "log")
    assert failed is not None and failed.outcome is Outcome.IMPORT_ERROR
    assert "ModuleNotFoundError" in (failed.exception or "")


@pytest.mark.parametrize(
    ("driver", "outcome", "evidence"),
    [
        ("print('fine')\n", Outcome.PASS, ""),
        ("import os\nos.abort()\n", Outcome.ABORT, "SIGABRT"),
        ("def broken(:\n", Outcome.ERROR, "SyntaxError"),
        ("raise ValueError('the reason')\n", Outcome.ERROR, "ValueError: the reason"),
    ],
)
def test_run_driver_keeps_the_evidence(
    tmp_path: Path, driver: str, outcome: Outcome, evidence: str
) -> None:
    found = runner.run_driver(PY, scenario(tmp_path, driver), tmp_path, tmp_path / "run.log")
    assert found.outcome is outcome
    assert evidence in f"{found.signal} {found.exception}"
    assert found.log == str(tmp_path / "run.log") and (tmp_path / "run.log").is_file()


FREEZE = "anyio==4.6.0\nmy-pkg==0.1.0\nlocal @ file:///tmp/local\nidna==3.10\n"


def fake_uv(tmp_path: Path, exit_status: int = 0) -> tuple[str, Path]:
    """A `uv` that records its arguments; `uv pip freeze` lists what FREEZE says."""
    calls = tmp_path / "calls.txt"
    script = tmp_path / "uv"
    script.write_text(
        f'#!/bin/sh\necho "$@" >> {calls}\n'
        f'if [ "$2" = freeze ]; then printf "{FREEZE}"; fi\nexit {exit_status}\n'
    )
    script.chmod(0o755)
    return str(script), calls


def test_requirements_are_installed_once_per_venv(tmp_path: Path) -> None:
    layout = Layout(cache=tmp_path / "cache", results=tmp_path / "results")
    venv = layout.venv("key", "3.11")
    venv.path.mkdir(parents=True)
    uv, calls = fake_uv(tmp_path)
    pins = tmp_path / "pins.txt"
    venvs.install_requirements(uv, venv, ["pytest>=8", "attrs"], tmp_path / "log", pins)
    venvs.install_requirements(uv, venv, ["pytest>=8", "attrs"], tmp_path / "log", pins)
    assert calls.read_text().count("pip install") == 1 and "pytest>=8 attrs" in calls.read_text()
    venvs.install_requirements(uv, venv, ["pytest>=8"], tmp_path / "log", pins)  # changed
    assert calls.read_text().count("pip install") == 2
    tags = {venvs.requirements_tag(r) for r in (["a"], ["b"], ["a", "b"])}
    assert len(tags) == 3 and venvs.requirements_tag(["a"]) == venvs.requirements_tag(["a"])


def test_a_failed_install_is_an_environment_error(tmp_path: Path) -> None:
    layout = Layout(cache=tmp_path / "cache", results=tmp_path / "results")
    venv = layout.venv("key", "3.11")
    venv.path.mkdir(parents=True)
    uv, _ = fake_uv(tmp_path, exit_status=1)
    with pytest.raises(venvs.EnvironmentError_, match="could not install pytest"):
        venvs.install_requirements(uv, venv, ["pytest"], tmp_path / "log", tmp_path / "pins")
    assert not (venv.path / ".pyo3-triage-requirements").exists()  # tried again next time


# `venvs.ensure` as written, not the tier guard's refusal: the stand-in uv below makes no real
# venv and reaches no network.
ENSURE = venvs.ensure

FAKE_UV_VENV = """#!/bin/sh
for last; do :; done
mkdir -p "$last/bin"
echo "VIRTUAL_ENV='$last'" > "$last/bin/activate"
touch "$last/bin/python"
exit {status}
"""


def stand_in_uv(tmp_path: Path, status: int) -> str:
    script = tmp_path / f"uv-{status}"
    script.write_text(FAKE_UV_VENV.format(status=status))
    script.chmod(0o755)
    return str(script)


def test_a_venv_uv_left_halfway_is_never_taken_for_a_whole_one(tmp_path: Path) -> None:
    layout = Layout(cache=tmp_path / "cache", results=tmp_path / "results")
    venv = layout.venv("key", "3.11")
    killed = stand_in_uv(tmp_path, 137)  # bin/python is there, but uv did not finish
    with pytest.raises(venvs.EnvironmentError_, match="could not create a venv"):
        ENSURE(killed, venv, interp("3.11.7"), tmp_path / "log")
    assert not venv.path.exists() and not venv.making.exists()
    python = ENSURE(stand_in_uv(tmp_path, 0), venv, interp("3.11.7"), tmp_path / "log")
    assert python == venv.path / "bin" / "python" and python.exists()
    assert not venv.making.exists()
    assert (venv.path / "bin" / "activate").read_text() == f"VIRTUAL_ENV='{venv.path}'\n"


def test_what_requirements_resolved_to_is_kept_and_held_to(tmp_path: Path) -> None:
    """The first resolve is the record's `installed` and the pins every later venv for the
    same requirements and interpreter is held to: a venv made again holds the same."""
    layout = Layout(cache=tmp_path / "cache", results=tmp_path / "results")
    uv, calls = fake_uv(tmp_path)
    pins = layout.python_pins("r-abc-cp311")
    first = layout.venv("one", "3.11")
    first.path.mkdir(parents=True)
    wheel = "/w/my_pkg-0.1.0-cp311-cp311-linux_x86_64.whl"
    found = venvs.install_requirements(uv, first, ["anyio"], tmp_path / "log", pins, wheel)
    # The extension's own distribution and what came from a path are not requirements.
    assert found == ("anyio==4.6.0", "idna==3.10")
    assert pins.read_text().split() == list(found)
    assert "--constraint" not in calls.read_text()
    again = layout.venv("two", "3.11")
    again.path.mkdir(parents=True)
    assert venvs.install_requirements(uv, again, ["anyio"], tmp_path / "log", pins, wheel) == found
    assert f"anyio --constraint {pins}" in calls.read_text().splitlines()[-2]
