"""Bring your own reproducer, without a build: a user's maturin project loaded, its pyo3
dependency rewritten per release in a copy (the user's files untouched), its run command's
files and option values part of the key, bad projects refused in one line. Built and run:
integration/test_usercrate_build.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import CARGO, fingerprint, make_project, make_record

from pyo3_triage.errors import UserError
from pyo3_triage.reproducers import usercrate
from pyo3_triage.store import records
from pyo3_triage.system.paths import Layout


def test_load_reads_module_and_command(tmp_path: Path) -> None:
    scenario = usercrate.load(str(make_project(tmp_path / "proj")), "python repro.py --fast")
    assert scenario.module == "byo_ext"
    assert scenario.run == ("python", "repro.py", "--fast")
    assert scenario.folder == (tmp_path / "proj").resolve()


def test_prepare_rewrites_only_the_copy(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    before = fingerprint(project)
    scenario = usercrate.load(str(project), "python repro.py")
    usercrate.prepare(scenario, "0.21.2", tmp_path / "copy")
    copied = (tmp_path / "copy" / "Cargo.toml").read_text()
    assert 'version = "0.21.2"' in copied and '"extension-module"' in copied
    assert fingerprint(project) == before


def test_a_whole_copy_is_kept_and_a_half_made_one_replaced(tmp_path: Path) -> None:
    """A run may be using the copy (its command runs there): a whole one is never remade."""
    scenario = usercrate.load(str(make_project(tmp_path / "proj")), "python repro.py")
    copy = tmp_path / "copy"
    usercrate.prepare(scenario, "0.21.2", copy)
    (copy / "written-by-a-run").write_text("kept")
    usercrate.prepare(scenario, "0.21.2", copy)
    assert (copy / "written-by-a-run").is_file()
    half = tmp_path / "half"
    (half / "src").mkdir(parents=True)  # a copy from a killed run: no marker
    (half / "src" / "stale.rs").write_text("")
    usercrate.prepare(scenario, "0.21.2", half)
    assert not (half / "src" / "stale.rs").exists() and (half / "Cargo.toml").is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


@pytest.mark.parametrize(
    ("files", "run", "expect"),
    [
        ({}, "python repro.py", "no Cargo.toml"),
        ({"Cargo.toml": "[package]\nname='x'\n"}, "python repro.py", "has no pyo3 dependency"),
        ({"Cargo.toml": CARGO}, "", "--run is empty"),
        ({"Cargo.toml": CARGO}, "python 'unclosed", "cannot be split"),
        ({"Cargo.toml": CARGO}, "python reproo.py", "--run names reproo.py, which is not in"),
        ({"Cargo.toml": CARGO}, "python -X dev -u ./gone.py --fast", "--run names ./gone.py"),
        ({"Cargo.toml": CARGO}, "python -m pytest -x tests/test_gc.py::test_a", "tests/test_gc.py"),
    ],
)
def test_bad_projects_are_one_line_errors(
    tmp_path: Path, files: dict[str, str], run: str, expect: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(UserError, match=expect):
        usercrate.load(str(tmp_path), run)


@pytest.mark.parametrize(
    "run",
    [
        "python repro.py",
        "python3 -u repro.py --flag missing.py",  # the script's own arguments are its business
        'python -c "import byo_ext"',
        "python -m byo_check",
        "python -m pytest -x -q -k 'gc and not slow'",
        "python -m pytest --junitxml out/report.xml",  # a file pytest will make
        "./run-me.sh",
    ],
)
def test_commands_whose_files_are_there_are_taken(tmp_path: Path, run: str) -> None:
    project = make_project(tmp_path / "proj")
    assert usercrate.load(str(project), run).command


# --- what the run command names is part of the key ----------------------------------------
def test_a_script_outside_the_crate_is_part_of_the_key(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    smoke = tmp_path / "checks" / "smoke.py"
    smoke.parent.mkdir()
    smoke.write_text("import byo_ext\n")
    first = usercrate.load(str(project), "python ../checks/smoke.py -v")
    assert first.run == ("python", str(smoke.resolve()), "-v")  # runs from the copy too
    assert first.run_inputs
    smoke.write_text("import byo_ext\nraise AssertionError('edited')\n")
    edited = usercrate.load(str(project), "python ../checks/smoke.py -v")
    assert edited.run_hash != first.run_hash
    assert edited.build_hash == first.build_hash  # the extension itself need not rebuild


def test_a_test_folder_outside_the_crate_and_option_values_count_too(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    tests = tmp_path / "suite"
    tests.mkdir()
    (tests / "test_a.py").write_text("def test_a(): pass\n")
    config = tmp_path / "pytest.ini"
    config.write_text("[pytest]\n")
    run = f"python -m pytest {tests} -c={config}"
    first = usercrate.load(str(project), run)
    (tests / "test_a.py").write_text("def test_a(): assert False\n")
    second = usercrate.load(str(project), run)
    config.write_text("[pytest]\naddopts = -x\n")
    third = usercrate.load(str(project), run)
    assert len({first.run_hash, second.run_hash, third.run_hash}) == 3
    assert f"-c={config.resolve()}" in first.run


def test_files_inside_the_crate_and_plain_words_are_not_run_inputs(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    scenario = usercrate.load(str(project), "python repro.py --count 3")
    assert scenario.run == ("python", "repro.py", "--count", "3")
    assert scenario.run_inputs == ""


def test_a_huge_folder_named_by_run_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project(tmp_path / "proj")
    big = tmp_path / "big"
    big.mkdir()
    for number in range(4):
        (big / f"f{number}.py").write_text("")
    monkeypatch.setattr(usercrate, "MAX_NAMED_FILES", 3)
    with pytest.raises(UserError, match="more than 3 files"):
        usercrate.load(str(project), f"python -m pytest {big}")


def test_extra_installs_the_projects_own_extra(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    text = (project / "pyproject.toml").read_text()
    text = text.replace(
        'version = "0.3.0"\n',
        'version = "0.3.0"\ndependencies = ["attrs"]\n'
        '[project.optional-dependencies]\ntest = ["pytest>=8"]\n',
        1,
    )
    (project / "pyproject.toml").write_text(text)
    scenario = usercrate.load(str(project), "python -m pytest", extra="test")
    assert scenario.requirements == ("attrs", "pytest>=8")
    with pytest.raises(UserError, match="no such optional-dependencies entry or dependency group"):
        usercrate.load(str(project), "python -m pytest", extra="docs")
    alone = usercrate.load(str(project), "python -m pytest", extra="dependencies")
    assert alone.requirements == ("attrs",)


def test_the_projects_own_dependencies_come_with_it(tmp_path: Path) -> None:
    """As installing its wheel would: by default, with or without --extra; --no-deps leaves
    them out (and says so in the options that select the crate again)."""
    project = make_project(tmp_path / "proj")
    text = (project / "pyproject.toml").read_text()
    text = text.replace(
        'version = "0.3.0"\n',
        'version = "0.3.0"\ndependencies = ["anyio>=3"]\n'
        '[project.optional-dependencies]\ntest = ["pytest>=8"]\n',
        1,
    )
    (project / "pyproject.toml").write_text(text)
    assert usercrate.load(str(project), "python repro.py").requirements == ("anyio>=3",)
    bare = usercrate.load(str(project), "python repro.py", no_deps=True)
    assert bare.requirements == () and "--no-deps" in bare.selector()
    tested = usercrate.load(str(project), "python -m pytest", extra="test", no_deps=True)
    assert tested.requirements == ("pytest>=8",)
    assert "--no-deps" not in usercrate.load(str(project), "python repro.py").selector()


def test_extra_names_a_dependency_group_too(tmp_path: Path) -> None:
    """PEP 735 groups, where many projects keep `test`, with their included groups."""
    project = make_project(tmp_path / "proj")
    text = (project / "pyproject.toml").read_text()
    text = text.replace('version = "0.3.0"\n', 'version = "0.3.0"\ndependencies = ["attrs"]\n', 1)
    text += (
        '\n[dependency-groups]\nlint = ["ruff"]\ntest = ["pytest>=8", {include-group = "lint"}]\n'
    )
    (project / "pyproject.toml").write_text(text)
    scenario = usercrate.load(str(project), "python -m pytest", extra="test")
    assert scenario.requirements == ("attrs", "pytest>=8", "ruff")
    with pytest.raises(UserError, match=r"it has: lint \(group\), test \(group\)"):
        usercrate.load(str(project), "python -m pytest", extra="docs")


def test_results_inside_the_crate_are_not_its_content(tmp_path: Path) -> None:
    """`pyo3-triage matrix --crate .` writes ./results inside the crate: never part of its key."""
    project = make_project(tmp_path / "proj")
    layout = Layout(cache=tmp_path / "cache", results=project / "results")
    first = usercrate.load(str(project), "python repro.py").build_hash
    records.save(layout, make_record(key="k" * 24))
    (project / "results" / "matrix.md").write_text("a table\n")
    assert usercrate.load(str(project), "python repro.py").build_hash == first


def test_a_crate_is_named_as_its_package_not_its_folder(tmp_path: Path) -> None:
    """An sdist's folder carries the version (blake3-1.0.11); tables are titled `byo`, and the
    description holds no Markdown the report would show literally."""
    crate = usercrate.load(str(make_project(tmp_path / "byo-0.3.0")), "python repro.py")
    assert crate.name == "byo"
    assert crate.description == "byo, run with: python repro.py" and "`" not in crate.description


def test_modules_named_like_build_output_are_content(tmp_path: Path) -> None:
    """`mod target;`, `mod build;` and a package's own `dist/` are the project's code: copied
    and hashed. Only build output where tools put it, and virtual environments, are not."""
    project = make_project(tmp_path / "proj")
    for rel in ("src/target/mod.rs", "src/build/mod.rs", "python/pkg/dist/__init__.py"):
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_text("// content\n")
    for rel in ("target/debug/x", "build/lib/x.py", "dist/x.whl.txt", "tools/env/pyvenv.cfg"):
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_text("output\n")
    scenario = usercrate.load(str(project), "python repro.py")
    usercrate.prepare(scenario, "0.21.2", tmp_path / "copy")
    copied = {p.relative_to(tmp_path / "copy").as_posix() for p in (tmp_path / "copy").rglob("*")}
    assert {"src/target/mod.rs", "src/build/mod.rs", "python/pkg/dist/__init__.py"} <= copied
    assert not {"target", "build", "dist", "tools/env"} & copied
    before = scenario.build_hash
    (project / "src" / "target" / "mod.rs").write_text("// edited\n")
    assert usercrate.load(str(project), "python repro.py").build_hash != before
    (project / "target" / "debug" / "x").write_text("rebuilt\n")
    (project / "tools" / "env" / "pyvenv.cfg").write_text("home = elsewhere\n")
    after = usercrate.load(str(project), "python repro.py").build_hash
    (project / "src" / "target" / "mod.rs").write_text("// edited\n")
    assert usercrate.load(str(project), "python repro.py").build_hash == after


def test_a_path_dependency_outside_the_project_is_part_of_its_key(tmp_path: Path) -> None:
    """`core = { path = "../core" }` is built where it lives: editing it (or a path dependency
    of its own) builds again instead of reusing the old wheel and record."""
    project = make_project(tmp_path / "proj")
    for name, extra in (("core", '\nutil = { path = "../util" }\n'), ("util", "")):
        (tmp_path / name / "src").mkdir(parents=True)
        (tmp_path / name / "Cargo.toml").write_text(
            f'[package]\nname = "{name}"\nversion = "0.1.0"\n\n[dependencies]{extra}'
        )
        (tmp_path / name / "src" / "lib.rs").write_text("pub fn f() {}\n")
    manifest = project / "Cargo.toml"
    manifest.write_text(
        manifest.read_text().replace(
            "[dependencies]\n", '[dependencies]\ncore = { path = "../core" }\n'
        )
    )
    first = usercrate.load(str(project), "python repro.py").build_hash
    assert usercrate.load(str(project), "python repro.py").build_hash == first
    (tmp_path / "core" / "src" / "lib.rs").write_text("pub fn f() { let _ = 1; }\n")
    second = usercrate.load(str(project), "python repro.py").build_hash
    assert second != first
    (tmp_path / "util" / "src" / "lib.rs").write_text("pub fn g() {}\n")
    assert usercrate.load(str(project), "python repro.py").build_hash not in (first, second)


def test_a_crate_with_its_own_abi3_runs_each_cell_in_a_folder_of_its_own(tmp_path: Path) -> None:
    """Its one build serves every CPython, and `--jobs 2` runs two of them at once: a file
    one run writes must not meet the other (every user crate's cell runs in a copy of its own)."""
    layout = Layout(cache=tmp_path / "cache", results=tmp_path / "results")
    project = make_project(tmp_path / "proj")
    manifest = project / "Cargo.toml"
    manifest.write_text(manifest.read_text().replace('"extension-module"', '"abi3-py38"'))
    crate = usercrate.load(str(project), "python repro.py")
    assert crate.own_abi3 == "abi3-py38"
    (first_area, first), (second_area, second) = (
        crate.run_folder(layout, "build", key) for key in ("record-a", "record-b")
    )
    crate.ready(first)
    crate.ready(second)
    assert first != second and first_area.path != second_area.path
    assert (first / "repro.py").read_text() == (project / "repro.py").read_text()
    (first / "out.txt").write_text("written by the 3.12 run")
    assert not (second / "out.txt").exists()
    crate.ready(crate.run_folder(layout, "build", "record-a")[1])
    assert (first / "out.txt").is_file()  # a whole copy is kept as it is
