"""The README is a contract: every command in its code blocks runs as printed and does what the
text next to it says.

Each command is looked up in `CONTRACT`, which says how it is checked: run as printed (cheap
ones), run with `--list` appended (those that would build: the plan is what they would do),
or checked without running (GitHub-only, the test command itself, the install line that
`.ci/run` runs). A command added to the README without an entry here fails, and so does an
entry whose command left the README. Commands run from a copy of this checkout, or from a
user's folder where the README shows one, with `HOME` pointing at a folder that holds what the
README's `~/...` paths name (the worked `--crate` example and `~/pyo3-triage`, this checkout).
Commands that need the crates.io release list (a range rather than exact versions) are marked
`network`: skipped, with the reason, when crates.io does not answer.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from factories import REPO, make_project

README = REPO / "README.md"
FIXTURE = REPO.parent / "shared" / "fixtures" / "pyo3-v0.20.0-v0.21.0.git.tar.gz"
COMMAND_WORDS = ("nox", "python", "python3", "git", "gh", "pyo3-triage")
# `where`: "checkout" (a copy of this repository), "user" (a user's git repository), "crate"
# (the user's maturin project, ~/src/my-ext).


@dataclass(frozen=True)
class Check:
    how: str  # "run", "list" (run with --list appended), "ci" (in .ci/run), "gh", "git"
    status: int = 0
    says: tuple[str, ...] = ()  # phrases the output must hold
    where: str = "checkout"  # or "user" (a user's own folder outside the checkout)
    network: bool = True  # needs the crates.io release list (False: exact versions only)


CONTRACT: dict[str, Check] = {
    "python3 -m venv .venv": Check("ci"),
    "python3 -m pip install -e '.[test]'": Check("ci"),
    "nox -s tests": Check("ci"),
    'pyo3-triage bisect --crate . --run "python repro.py" --pyo3 0.19..0.21': Check(
        "list", says=("10 candidates",), where="crate"
    ),
    'pyo3-triage matrix --crate . --run "python repro.py" --pyo3 0.19..0.21 --python 3.11': Check(
        "list", says=("byo · PyO3 0.21.2",), where="crate"
    ),
    "nox -s matrix": Check("list", says=("2 scenario(s) x 15 PyO3 release(s)",)),
    "nox -s matrix -- --pyo3 0.20..0.21 --python 3.11,3.12 --scenario unsendable_gc_traverse": Check(
        "list", says=("unsendable_gc_traverse · PyO3 0.20.0 · CPython 3.11",)
    ),
    "nox -s matrix -- --list": Check("run", says=("Plan:",)),
    "nox -s matrix -- --pyo3 '>=0.19,<0.22' --newest-patch --python 3.8..3.13": Check(
        "list", says=("(0.19.2, 0.20.3, 0.21.2)",)
    ),
    "nox -s matrix -- --pyo3 0.22.3,0.23.0": Check(
        "list", says=("PyO3 0.22.3 (yanked)", "PyO3 0.23.0 (yanked)")
    ),
    "python bisect.py --pyo3 0.19..0.21": Check("list", says=("10 candidates",)),
    "python bisect.py --pyo3 0.19..0.30 --python 3.12 --scenario unsendable_gc_traverse": Check(
        "list", says=("CPython 3.12",)
    ),
    "python bisect.py --pyo3 0.16..0.30 --python 3.8..3.13": Check(
        "list", says=("CPython 3.8", "CPython 3.13")
    ),
    "python bisect.py --python 3.8..3.13 --pyo3 0.20.3": Check(
        "list", says=("left out CPython 3.13", "PyO3 0.20.3: 5 candidates"), network=False
    ),
    "python bisect.py --pyo3 0.19..0.21 --new abort,segfault": Check("list"),
    "python bisect.py --pyo3 0.19..0.21 --new abort --match 'tp_traverse|unsendable'": Check(
        "list", says=("10 candidates",)
    ),
    "python bisect.py --pyo3 0.16..0.30 --python 3.8..3.13 --list": Check(
        "run", says=("not searched (outside their declared CPython or Rust window)",)
    ),
    'nox -s matrix -- --crate ~/src/my-ext --run "python repro.py" --pyo3 0.19..0.21 --python 3.11': Check(
        "list", says=("byo · PyO3 0.21.2",)
    ),
    'python bisect.py --crate ~/src/my-ext --run "python repro.py" --pyo3 0.19..0.21 --python 3.11': Check(
        "list", says=("10 candidates",)
    ),
    "python bisect.py --scenario pyclass_sync_required --pyo3 0.17.3..0.30.1 --python 3.11 --new build-error": Check(
        "list", says=("46 candidates", "0.23.0 (yanked)")
    ),
    'python bisect.py --crate ~/src/my-ext --run "python repro.py" --pyo3 0.21..0.30 --python 3.11 --new build-error': Check(
        "list", says=("CPython 3.11",)
    ),
    "python bisect.py --pyo3 0.19..0.21 --python 3.11 --pyo3-git ~/src/pyo3": Check(
        "list", says=("10 candidates",)
    ),
    "nox -s matrix -- --pyo3 0.20.3,git:v0.21.0,0.21.0 --pyo3-git ~/src/pyo3 --python 3.11": Check(
        "list", says=("git:d854ea054",), network=False
    ),
    "git bisect start BAD GOOD": Check("git"),
    "git bisect run nox -f ~/pyo3-triage/noxfile.py -s matrix -- --git-bisect-exit --scenario path/to/scenario --pyo3 0.21.2 --python 3.11": Check(
        "git", says=("scenario · PyO3 0.21.2 · CPython 3.11",), where="user"
    ),
    "nox -s verify": Check("list", says=("unsendable_gc_traverse: bisect",), network=False),
    "nox -s matrix -- --scenario deny_warnings_non_local_impl --pyo3 0.18.3,0.19.0,0.21.1,0.21.2 --python 3.11 --rust 1.82,1.83,1.95": Check(
        "list",
        says=(
            "x 3 Rust toolchain(s) (1.82, 1.83, 1.95) = 12 cells",
            "deny_warnings_non_local_impl · PyO3 0.19.0 · CPython 3.11",
            "· Rust 1.83:",
        ),
        network=False,
    ),
    "nox -s matrix -- --scenario deny_warnings_non_local_impl --pyo3 0.20.3 --python 3.11 --rust 1.56,1.70,1.82,1.83,1.95": Check(
        "list", says=("= 5 cells", "· Rust 1.56:"), network=False
    ),
    "python bisect.py --scenario deny_warnings_non_local_impl --rust 1.70..1.95 --pyo3 0.20.3 --python 3.11 --new build-error": Check(
        "list", says=("26 candidates", "1.70, 1.71,"), network=False
    ),
    "nox -s report": Check("run", says=("report",), network=False),
    "nox -s ecosystem -- --candidate 0.21.2 --baseline 0.20.3 --python 3.11": Check(
        "list", says=("rpds-py 0.18.1", "python-calamine 0.9.1")
    ),
    "nox -s ecosystem -- --candidate 0.30.1": Check("list", says=("rpds-py 0.18.1",)),
    "gh issue comment 1234 --body-file results/report.md": Check("gh"),
}


def readme_commands() -> list[str]:
    """Every command line in the README's unlabelled code blocks, comments stripped."""
    text = README.read_text(encoding="utf-8")
    found = []
    for block in re.finditer(r"^```(\w*)\n(.*?)^```", text, re.S | re.M):
        if block.group(1):  # ```toml and the like are file contents, not commands
            continue
        for line in block.group(2).splitlines():
            command = re.sub(r"\s+#\s.*$", "", line).strip()
            if command.split(" ", 1)[0] in COMMAND_WORDS:
                found.append(command)
    return found


def test_every_readme_command_is_in_the_contract() -> None:
    commands = readme_commands()
    assert sorted(set(commands)) == sorted(CONTRACT), (
        "README commands and tests/integration/test_readme.py disagree: "
        f"untested {sorted(set(commands) - set(CONTRACT))}, gone {sorted(set(CONTRACT) - set(commands))}"
    )


def test_ci_runs_the_readme_install_and_test_commands() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    for command, check in CONTRACT.items():
        if check.how == "ci":
            assert command in ci.splitlines(), f".ci/run does not run {command!r} as printed"
    # ... in the environment the README makes, not in whatever python3 the machine has.
    assert ". .venv/bin/activate" in README.read_text(encoding="utf-8").splitlines()
    assert ". .venv/bin/activate" in ci.splitlines()


@dataclass(frozen=True)
class World:
    checkout: Path  # a copy of this checkout, where the README's plain commands run
    user: Path  # a user's own folder (a git repository), outside the checkout
    home: Path  # $HOME: ~/src/my-ext (the worked --crate example), ~/src/pyo3, ~/pyo3-triage
    env: dict[str, str]
    cache: Path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("readme")
    checkout = root / "checkout"
    shutil.copytree(
        REPO,
        checkout,
        ignore=shutil.ignore_patterns(
            ".git", ".nox", ".venv", "results", "__pycache__", "*.egg-info"
        ),
    )
    (checkout / "results").mkdir()
    home = root / "home"
    make_project(home / "src" / "my-ext")
    if FIXTURE.is_file():  # ~/src/pyo3: the offline slice of PyO3's history, as a clone
        with tarfile.open(FIXTURE) as tar:
            tar.extractall(home / "src", filter="data")
        (home / "src" / "pyo3.git").rename(home / "src" / "pyo3")
    (home / "pyo3-triage").symlink_to(REPO)
    user = root / "user-repo"
    folder = user / "path" / "to" / "scenario"
    folder.mkdir(parents=True)
    (folder / "scenario.toml").write_text('module = "gbx"\nfunctions = ["answer"]\n')
    (folder / "lib.rs").write_text("#[pyfunction]\nfn answer() -> usize { 42 }\n")
    (folder / "driver.py").write_text("import gbx\nassert gbx.answer() == 42\n")
    real_home = Path.home()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYO3_TRIAGE_")}
    env.update(
        HOME=str(home),
        CARGO_HOME=os.environ.get("CARGO_HOME", str(real_home / ".cargo")),
        RUSTUP_HOME=os.environ.get("RUSTUP_HOME", str(real_home / ".rustup")),
        PYENV_ROOT=os.environ.get("PYENV_ROOT", str(real_home / ".pyenv")),
        PYO3_TRIAGE_CACHE=str(root / "cache"),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        COLUMNS="200",
        NO_COLOR="1",
    )
    world = World(checkout, user, home, env, root / "cache")
    # Something for `nox -s report` to draw: a real record that needs no build (CPython 3.11+
    # is outside the window PyO3 0.16.6 declares, so the cell is `unsupported`).
    seeded = run(world, f"nox -s matrix -- --pyo3 0.16.6 --python {sys.executable}", checkout)
    assert seeded.returncode == 0 and "unsupported" in seeded.stdout, seeded.stdout + seeded.stderr
    return world


def run(world: World, command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env=world.env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def built_anything(world: World) -> bool:
    return any((world.cache / area).exists() for area in ("targets", "wheels", "venvs"))


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(c, marks=[pytest.mark.network] * check.network)
        for c, check in CONTRACT.items()
        if check.how in ("run", "list")
    ],
)
def test_readme_command_runs_as_printed(command: str, world: World) -> None:
    check = CONTRACT[command]
    if "~/src/pyo3" in command and not FIXTURE.is_file():
        pytest.skip(f"needs the offline slice of PyO3's history ({FIXTURE})")
    shown = command + (" --list" if check.how == "list" else "")
    if check.how == "list" and command.startswith("nox -s matrix") and " -- " not in command:
        shown = command + " -- --list"
    if check.how == "list" and command == "nox -s verify":
        shown = "nox -s verify -- --list"
    cwd = {"user": world.user, "crate": world.home / "src" / "my-ext"}.get(
        check.where, world.checkout
    )
    done = run(world, shown, cwd)
    output = done.stdout + done.stderr
    assert done.returncode == check.status, f"{shown}\n{output}"
    assert "Traceback" not in output
    for phrase in check.says:
        assert phrase in output, f"{shown}: {phrase!r} not in\n{output}"
    assert not built_anything(world), f"{shown} built something"


@pytest.mark.network
def test_default_matrix_numbers_match_the_plan(world: World) -> None:
    """The README's count of the default matrix: 210 cells, 182 built and run, 28 unsupported."""
    done = run(world, "nox -s matrix -- --list", world.checkout)
    assert done.returncode == 0, done.stderr
    planned = [line for line in done.stdout.splitlines() if " · PyO3 " in line]
    columns = {line.split(" · CPython ")[1].split(":")[0].rsplit(".", 1)[0] for line in planned}
    if columns != {f"3.{minor}" for minor in range(7, 14)}:
        pytest.skip(f"the README counts CPython 3.7-3.13; this machine has {sorted(columns)}")
    text = README.read_text(encoding="utf-8")
    unsupported = sum(1 for line in planned if ": unsupported" in line)
    assert len(planned) == 210 and "210 cells" in text
    assert (len(planned) - unsupported, unsupported) == (182, 28)
    assert "182 are built and run and 28 are `unsupported`" in " ".join(text.split())


def test_gh_command_posts_a_file_the_report_command_writes(world: World) -> None:
    """GitHub is out of reach: check the command's syntax and that its file is what
    `nox -s report` writes."""
    (command,) = [c for c, check in CONTRACT.items() if check.how == "gh"]
    argv = shlex.split(command)
    assert argv[:3] == ["gh", "issue", "comment"] and argv[4] == "--body-file"
    done = run(world, "nox -s report", world.checkout)
    assert done.returncode == 0, done.stderr
    assert (world.checkout / argv[5]).is_file()


def test_git_bisect_example_runs_from_the_users_repository(world: World) -> None:
    """`git bisect run CMD` runs CMD in the user's repository: the nox part must find the
    noxfile through ~/pyo3-triage and the scenario through the relative path."""
    (command,) = [c for c in CONTRACT if c.startswith("git bisect run ")]
    nox_part = command.removeprefix("git bisect run ")
    assert "--git-bisect-exit" in nox_part
    listed = nox_part.replace("--git-bisect-exit ", "") + " --list"
    done = run(world, listed, world.user)
    assert done.returncode == 0, done.stdout + done.stderr
    for phrase in CONTRACT[command].says:
        assert phrase in done.stdout, done.stdout
    start = shlex.split("git bisect start BAD GOOD")
    assert start[:3] == ["git", "bisect", "start"]
