"""Where a user's run command runs: a copy of the project in which maturin's mixed layout
(the source package beside Cargo.toml) cannot stand in for the installed wheel, on every
CPython found here; a script named like its module refused; a shadowing source that is left
found. Real interpreters, a stand-in for the wheel (a `site-packages` folder on PYTHONPATH,
which comes after the script's folder on sys.path, as a venv's does); nothing built."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from factories import write_files

from pyo3_triage.errors import UserError
from pyo3_triage.reproducers import usercrate
from pyo3_triage.running import runner

CARGO = (
    '[package]\nname = "mypkg"\nversion = "0.1.0"\nedition = "2021"\n\n'
    '[lib]\nname = "mypkg_ext"\ncrate-type = ["cdylib"]\n\n'
    '[dependencies]\npyo3 = { version = "0.21.0", features = ["extension-module"] }\n'
)
PYPROJECT = (
    '[build-system]\nrequires = ["maturin>=1,<2"]\nbuild-backend = "maturin"\n\n'
    '[project]\nname = "mypkg"\nversion = "0.1.0"\n\n'
    '[tool.maturin]\nmodule-name = "mypkg._lib"\n'
)
# Reads a data file by a relative path, and a file inside the source package too.
REPRO = (
    "import mypkg\n"
    "assert mypkg.answer() == 42\n"
    "assert open('data/input.txt').read() == 'in'\n"
    "assert open('mypkg/table.csv').read() == 'a,b'\n"
    "print('ok')\n"
)


def mixed_project(root: Path, package: str = "mypkg") -> Path:
    """maturin's mixed layout: `mypkg/` (no compiled module in it) beside Cargo.toml, with a
    subpackage, and `repro.py` at the root."""
    return write_files(
        root,
        {
            "Cargo.toml": CARGO,
            "pyproject.toml": PYPROJECT,
            "src/lib.rs": "// the extension\n",
            f"{package}/__init__.py": "from ._lib import answer\n",
            f"{package}/sub/__init__.py": "from .._lib import answer\n",
            f"{package}/table.csv": "a,b",
            "data/input.txt": "in",
            "repro.py": REPRO,
            "checks/sub_check.py": "import mypkg.sub\nassert mypkg.sub.answer() == 42\n",
        },
    )


def wheel(root: Path) -> Path:
    """What the wheel installs: the package with its compiled module (a Python stand-in)."""
    return write_files(
        root,
        {
            "mypkg/__init__.py": "from ._lib import answer\n",
            "mypkg/_lib.py": "def answer():\n    return 42\n",
            "mypkg/sub/__init__.py": "from .._lib import answer\n",
        },
    )


def cpythons() -> list[Path]:
    """Every CPython 3.7-3.13 pyenv has here, else this one."""
    base = Path.home() / ".pyenv" / "versions"
    found = sorted(
        base / f"{v}" / "bin" / "python3" for v in os.listdir(base) if v.startswith("3.")
    )
    chosen = [p for p in found if p.is_file() and not p.parent.parent.name.startswith("3.6")]
    return chosen or [Path(sys.executable)]


def run(python: Path, argv: list[str], cwd: Path, site: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [str(python), *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("python", cpythons(), ids=lambda p: p.parent.parent.name)
def test_a_root_level_script_imports_the_wheel_not_the_source_package(
    tmp_path: Path, python: Path
) -> None:
    project = mixed_project(tmp_path / "proj")
    site = wheel(tmp_path / "site-packages")
    crate = usercrate.load(str(project), "python repro.py")
    # The trap itself: from the project's own folder the source package wins.
    trapped = run(python, ["repro.py"], project, site)
    assert "No module named 'mypkg._lib'" in trapped.stderr
    copy = tmp_path / "run"
    crate.ready(copy)
    for argv in (["repro.py"], ["checks/sub_check.py"], ["-c", "import mypkg.sub"]):
        done = run(python, argv, copy, site)
        assert done.returncode == 0, (argv, done.stderr)
    assert (copy / "mypkg" / "table.csv").is_file()  # the package's other files stay
    assert not (copy / "mypkg" / "sub" / "__init__.py").exists()
    assert (project / "mypkg" / "__init__.py").is_file()  # the user's own files untouched


def test_the_run_copy_is_made_in_the_folder_named_and_kept(tmp_path: Path) -> None:
    project = mixed_project(tmp_path / "proj" / "py")
    crate = usercrate.load(str(project), "python repro.py")
    work = tmp_path / "work"
    folder = work / crate.project.workdir
    crate.ready(folder)
    assert (folder / "repro.py").is_file()
    (folder / "written-by-a-run").write_text("x")
    crate.ready(folder)  # a whole copy is kept: a run may be using it
    assert (folder / "written-by-a-run").is_file()


@pytest.mark.parametrize(
    "command",
    ["python mypkg.py", "python checks/mypkg.py --fast", "python -m pytest -q mypkg.py"],
)
def test_a_script_named_like_its_module_is_refused(tmp_path: Path, command: str) -> None:
    project = mixed_project(tmp_path / "proj")
    write_files(project, {"mypkg.py": "import mypkg\n", "checks/mypkg.py": "import mypkg\n"})
    with pytest.raises(UserError, match=r"mypkg\.py, which is named like the module it tests"):
        usercrate.load(str(project), command)


def test_a_source_left_in_the_scripts_way_is_found(tmp_path: Path) -> None:
    """What the copy cannot keep out of the way (a module file beside the script) is named,
    so a failed run is not taken for the project's behaviour; and whether the venv holds the
    name at all (`json` it does, `mypkg` it does not)."""
    folder = write_files(
        tmp_path / "checks", {"mypkg.py": "raise ImportError('source')\n", "json.py": ""}
    )
    log = tmp_path / "log"
    python = Path(sys.executable)
    found = runner.shadowing(python, "mypkg._lib", ("mypkg",), folder, tmp_path, log)
    assert found == runner.Shadow("mypkg", str(folder / "mypkg.py"), in_wheel=False)
    found = runner.shadowing(python, "mypkg._lib", ("mypkg", "json"), folder, tmp_path, log)
    assert found is not None and found.name == "mypkg"
    found = runner.shadowing(python, "json", ("json",), folder, tmp_path, log)
    assert found == runner.Shadow("json", str(folder / "json.py"), in_wheel=True)
    assert runner.shadowing(python, "mypkg._lib", ("mypkg",), tmp_path, tmp_path, log) is None


def test_a_package_named_after_the_project_counts_as_its_own(tmp_path: Path) -> None:
    """Older maturin put the extension into the package named after the project (`rtoml/`
    holding `_rtoml`): a run importing that source is checked as the module's own."""
    project = mixed_project(tmp_path / "proj")
    text = (project / "pyproject.toml").read_text()
    (project / "pyproject.toml").write_text(
        text.replace('name = "mypkg"', 'name = "My-Pkg.Tools"').replace(
            'module-name = "mypkg._lib"', 'module-name = "_lib"'
        )
    )
    assert usercrate.load(str(project), "python repro.py").packages == ("_lib", "my_pkg_tools")


def test_the_first_folder_on_sys_path_is_the_scripts(tmp_path: Path) -> None:
    python = tmp_path / "venv" / "bin" / "python"
    first = runner.first_on_path
    assert (
        first([str(python), "-X", "dev", "checks/r.py", "-v"], python, tmp_path)
        == (tmp_path / "checks").resolve()
    )
    assert first([str(python), "-m", "pytest", "tests/t.py"], python, tmp_path) == tmp_path
    assert first(["bash", "run.sh"], python, tmp_path) == tmp_path
