"""Finding a user's project (one crate, a workspace root, a member) and pointing every pyo3*
dependency in it at a release, on the manifest shapes real projects use."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from factories import write_files

from pyo3_triage.errors import UserError
from pyo3_triage.reproducers import manifests
from pyo3_triage.tomlcompat import tomllib

PYPROJECT = '[build-system]\nrequires = ["maturin>=1,<2"]\nbuild-backend = "maturin"\n'


def workspace(root: Path, *, pyproject: str = "") -> Path:
    """An extension member and a plain library member, pyo3 in [workspace.dependencies]."""
    return write_files(
        root,
        {
            "Cargo.toml": '[workspace]\nmembers = ["crates/*"]\nresolver = "2"\n\n'
            '[workspace.package]\nedition = "2021"\nversion = "0.1.0"\n\n'
            '[workspace.dependencies]\npyo3 = { version = "0.20.3", features = ["extension-module"] }\n',
            "crates/ext/Cargo.toml": '[package]\nname = "ws-ext"\nversion.workspace = true\nedition.workspace = true\n\n'
            '[lib]\nname = "ws_ext"\ncrate-type = ["cdylib"]\n\n'
            '[dependencies]\npyo3 = { workspace = true, features = ["abi3-py39"] }\n'
            'ws-core = { path = "../core" }\n',
            "crates/core/Cargo.toml": '[package]\nname = "ws-core"\nversion.workspace = true\nedition.workspace = true\n\n'
            '[dependencies]\npyo3-build-config = "0.20"\n',
            "pyproject.toml": PYPROJECT + pyproject,
        },
    )


def test_a_single_crate(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "Cargo.toml": '[package]\nname = "one-ext"\nversion = "0.1.0"\n\n[dependencies]\npyo3 = "0.19"\n',
            "pyproject.toml": PYPROJECT + '[project]\nname = "one"\nrequires-python = ">=3.9"\n',
        },
    )
    project = manifests.find(tmp_path)
    assert (project.root, project.workdir, project.manifest) == (
        tmp_path.resolve(),
        ".",
        "Cargo.toml",
    )
    assert (project.module, project.abi3, project.requires_python) == ("one_ext", "", ">=3.9")
    assert not project.workspace


@pytest.mark.parametrize("where", [".", "crates/ext"])
def test_a_workspace_from_its_root_or_its_member(tmp_path: Path, where: str) -> None:
    workspace(tmp_path)
    project = manifests.find(tmp_path / where)
    assert project.root == tmp_path.resolve() and project.workspace
    assert project.workdir == where and project.manifest == "crates/ext/Cargo.toml"
    assert project.lock_dir == "."
    assert set(project.manifests) == {
        "Cargo.toml",
        "crates/ext/Cargo.toml",
        "crates/core/Cargo.toml",
    }
    assert project.module == "ws_ext" and project.abi3 == "abi3-py39"


def test_manifest_path_and_module_name_from_pyproject(tmp_path: Path) -> None:
    workspace(
        tmp_path,
        pyproject='[tool.maturin]\nmanifest-path = "crates/ext/Cargo.toml"\n'
        'module-name = "pkg._native"\npython-source = "python"\n',
    )
    project = manifests.find(tmp_path)
    assert project.module == "pkg._native" and project.manifest == "crates/ext/Cargo.toml"
    assert manifests.find(tmp_path / "crates" / "ext").module == "pkg._native"


def rewritten(
    tmp_path: Path, project: manifests.Project, version: str, *features: str
) -> dict[str, dict]:  # type: ignore[type-arg]
    copy = tmp_path / "copy"
    shutil.copytree(project.root, copy)
    manifests.rewrite(copy, project, version, features)
    return {rel: tomllib.loads((copy / rel).read_text()) for rel in project.manifests}


def test_workspace_rewrite_keeps_features_and_inheritance(tmp_path: Path) -> None:
    project = manifests.find(workspace(tmp_path / "ws"))
    out = rewritten(tmp_path, project, "0.22.6")
    pyo3 = out["Cargo.toml"]["workspace"]["dependencies"]["pyo3"]
    assert pyo3 == {"version": "0.22.6", "features": ["extension-module"]}
    member = out["crates/ext/Cargo.toml"]["dependencies"]
    assert member["pyo3"] == {"workspace": True, "features": ["abi3-py39"]}  # still inherits
    assert member["ws-core"] == {"path": "../core"}  # inside the project: kept relative
    assert out["crates/core/Cargo.toml"]["dependencies"]["pyo3-build-config"] == "0.22.6"
    assert "workspace" not in out["crates/ext/Cargo.toml"]  # the real workspace is copied


@pytest.mark.parametrize(
    ("dependency", "expect"),
    [
        ('pyo3 = "0.19"', "0.21.2"),
        (
            'pyo3 = { version = "=0.19.0", features = ["extension-module"] }',
            {"version": "0.21.2", "features": ["extension-module", "abi3-py38"]},
        ),
        (
            'pyo3 = { git = "https://github.com/PyO3/pyo3", branch = "main", optional = true }',
            {"version": "0.21.2", "optional": True, "features": ["abi3-py38"]},
        ),
        (
            'pyo3 = { path = "../pyo3", version = "0.19", default-features = false }',
            {"version": "0.21.2", "default-features": False, "features": ["abi3-py38"]},
        ),
        (
            '[dependencies.pyo3]\nversion = "0.19"\nfeatures = ["abi3-py38"]',
            {"version": "0.21.2", "features": ["abi3-py38"]},
        ),
    ],
)
def test_single_crate_shapes(tmp_path: Path, dependency: str, expect: object) -> None:
    table = dependency if dependency.startswith("[") else f"[dependencies]\n{dependency}"
    write_files(
        tmp_path / "c",
        {
            "Cargo.toml": f'[package]\nname = "c"\nversion = "0.1.0"\n\n{table}\n'
            "[target.'cfg(unix)'.dependencies]\npyo3-ffi = \"0.19\"\n"
        },
    )
    project = manifests.find(tmp_path / "c")
    data = rewritten(tmp_path, project, "0.21.2", "abi3-py38")["Cargo.toml"]
    got = data["dependencies"]["pyo3"]
    if isinstance(expect, str) and isinstance(got, dict):  # a string that gained features
        assert got == {"version": expect, "features": ["abi3-py38"]}
    else:
        assert got == expect
    assert data["target"]["cfg(unix)"]["dependencies"]["pyo3-ffi"] == "0.21.2"
    assert data["workspace"] == {}  # kept out of any workspace above it


def test_a_path_dependency_outside_the_project_becomes_absolute(tmp_path: Path) -> None:
    write_files(tmp_path, {"shared/Cargo.toml": '[package]\nname = "shared"\nversion = "0.1.0"\n'})
    write_files(
        tmp_path / "c",
        {
            "Cargo.toml": '[package]\nname = "c"\nversion = "0.1.0"\n\n[dependencies]\n'
            'pyo3 = "0.19"\nshared = { path = "../shared" }\n'
        },
    )
    data = rewritten(tmp_path, manifests.find(tmp_path / "c"), "0.21.2")["Cargo.toml"]
    assert data["dependencies"]["shared"]["path"] == str((tmp_path / "shared").resolve())


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, "no Cargo.toml there"),
        ({"Cargo.toml": '[package]\nname = "x"\n'}, "has no pyo3 dependency"),
        ({"Cargo.toml": "[package\n"}, "is not valid TOML"),
        (
            {"Cargo.toml": '[package]\nname = "x"\n[dependencies]\npyo3 = { workspace = true }\n'},
            "has no [workspace.dependencies] pyo3",
        ),
        (
            {
                "Cargo.toml": '[workspace]\nmembers = ["a", "b"]\n',
                "a/Cargo.toml": '[package]\nname = "a"\n[lib]\ncrate-type = ["cdylib"]\n[dependencies]\npyo3 = "0.20"\n',
                "b/Cargo.toml": '[package]\nname = "b"\n[lib]\ncrate-type = ["cdylib"]\n[dependencies]\npyo3 = "0.20"\n',
            },
            "2 of its members are cdylibs",
        ),
        (
            {"pyproject.toml": PYPROJECT + '[tool.maturin]\nmanifest-path = "rust/Cargo.toml"\n'},
            "names no Cargo.toml",
        ),
    ],
)
def test_projects_that_cannot_be_rewritten_are_refused(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    write_files(tmp_path, files)
    with pytest.raises(UserError, match=message.replace("[", r"\[").replace("]", r"\]")):
        manifests.find(tmp_path)


def test_the_project_rules_out_cpythons_by_requires_python_and_abi3_floor(tmp_path: Path) -> None:
    from packaging.version import Version

    workspace(tmp_path, pyproject='[project]\nname = "w"\nrequires-python = ">=3.8,<3.13"\n')
    project = manifests.find(tmp_path)  # abi3-py39 from the member's own features
    assert project.excludes(Version("3.7.16")) == "the project requires Python >=3.8,<3.13"
    assert project.excludes(Version("3.8.18")) == "the project's abi3-py39 wheel needs CPython 3.9+"
    assert project.excludes(Version("3.11.7")) is None
    assert project.excludes(Version("3.13.0")) == "the project requires Python >=3.8,<3.13"


def test_selection_drops_what_the_project_rules_out(tmp_path: Path) -> None:
    from dataclasses import replace

    from packaging.version import Version

    from pyo3_triage import selection
    from pyo3_triage.interpreters import Interpreter
    from pyo3_triage.reproducers import usercrate

    workspace(tmp_path, pyproject='[project]\nname = "w"\nrequires-python = ">=3.10"\n')
    scenario = usercrate.load(str(tmp_path), "python -c pass")
    base = Interpreter(
        executable=Path("/py"),
        realpath=Path("/py"),
        version=Version("3.9.18"),
        implementation="cpython",
        soabi="",
        free_threaded=False,
        source="explicit",
    )
    found = [replace(base, version=Version(v)) for v in ("3.9.18", "3.11.7")]
    notes: list[str] = []
    kept = selection.drop_excluded([scenario], found, notes.append)
    assert [str(i.version) for i in kept] == ["3.11.7"]
    assert notes == ["skipping CPython 3.9.18: the project requires Python >=3.10"]
    with pytest.raises(UserError, match="ruled out by the project itself"):
        selection.drop_excluded([scenario], found[:1], notes.append)


def test_workspace_dependencies_after_other_tables_are_rewritten(tmp_path: Path) -> None:
    """jiter 0.19.0's shape: [workspace], then [profile.*] tables, then [workspace.dependencies]
    (tomlkit gives such a split table back as an out-of-order proxy, not a Table)."""
    root = write_files(
        tmp_path / "ws",
        {
            "Cargo.toml": '[workspace]\nmembers = ["crates/ext"]\n\n[profile.release]\nlto = "fat"\n\n'
            '[workspace.dependencies]\npyo3 = { version = "0.30.1" }\n'
            'pyo3-build-config = { version = "0.30.1" }\n',
            "crates/ext/Cargo.toml": '[package]\nname = "ext"\nversion = "0.1.0"\n\n[lib]\ncrate-type = ["cdylib"]\n\n'
            '[dependencies]\npyo3 = { workspace = true, features = ["num-bigint"] }\n'
            "[build-dependencies]\npyo3-build-config = { workspace = true }\n",
        },
    )
    out = rewritten(tmp_path, manifests.find(root), "0.28.3")
    deps = out["Cargo.toml"]["workspace"]["dependencies"]
    assert deps == {"pyo3": {"version": "0.28.3"}, "pyo3-build-config": {"version": "0.28.3"}}


def test_a_path_dependency_inside_the_crate_stays_a_plain_dependency(tmp_path: Path) -> None:
    """The copy's `[workspace]` (which keeps it out of any workspace above) would make a core
    crate beside the bindings a member, whose dev-dependencies an sdist need not ship: cargo
    then refuses the whole project. It is excluded, as it was no member before."""
    project_root = write_files(
        tmp_path / "proj",
        {
            "Cargo.toml": '[package]\nname = "bindings"\nversion = "0.1.0"\nedition = "2021"\n\n'
            '[lib]\ncrate-type = ["cdylib"]\n\n[dependencies]\npyo3 = "0.21.0"\n'
            'core-calc = { path = "core" }\n',
            "src/lib.rs": "",
            "core/Cargo.toml": '[package]\nname = "core-calc"\nversion = "0.1.0"\nedition = "2021"\n\n'
            '[dev-dependencies]\nbench-helpers = { path = "../bench-helpers" }\n',  # not shipped
            "core/src/lib.rs": "",
            "pyproject.toml": PYPROJECT,
        },
    )
    project = manifests.find(project_root)
    copy = tmp_path / "copy"
    shutil.copytree(project.root, copy)
    manifests.rewrite(copy, project, "0.22.6")
    data = tomllib.loads((copy / "Cargo.toml").read_text())
    assert data["workspace"] == {"exclude": ["core"]}
    assert data["dependencies"]["core-calc"] == {"path": "core"}
    cargo = shutil.which("cargo")
    if cargo is None:
        pytest.skip("no cargo")
    loaded = subprocess.run(
        [cargo, "metadata", "--no-deps", "--offline", "--format-version", "1"],
        cwd=copy,
        capture_output=True,
        text=True,
        check=False,
    )
    assert loaded.returncode == 0, loaded.stderr  # without the exclude: "failed to load manifest"


def test_registry_dependencies_and_companions_moved_with_their_features(tmp_path: Path) -> None:
    """Dependencies from crates.io (renamed ones by their crate, workspace ones from the
    table); a companion's entry asks for exactly the chosen version, features kept."""
    root = write_files(
        tmp_path / "proj",
        {
            "Cargo.toml": '[package]\nname = "ext"\nversion = "0.1.0"\n\n[lib]\ncrate-type = ["cdylib"]\n\n'
            '[dependencies]\npyo3 = "0.26"\nnumpy = "0.26"\n'
            'pyo3-log = { version = "0.13", features = ["x"], default-features = false }\n'
            'py-serde = { package = "pythonize", version = "0.26" }\n'
            'local = { path = "local" }\nfrom-git = { git = "https://example.invalid/x" }\n'
            '\n[dev-dependencies]\nrstest = { version = "0.18", default_features = false }\n',
            "local/Cargo.toml": '[package]\nname = "local"\nversion = "0.1.0"\n',
            "pyproject.toml": PYPROJECT,
        },
    )
    project = manifests.find(root)
    assert manifests.registry_dependencies(project) == [  # "default": Cargo turns it on
        ("numpy", "numpy", ("default",)),
        ("py-serde", "pythonize", ("default",)),
        ("pyo3-log", "pyo3-log", ("x",)),
        ("rstest", "rstest", ()),
    ]
    copy = tmp_path / "copy"
    shutil.copytree(project.root, copy)
    moved = {"numpy": "0.21.0", "pythonize": "0.21.1", "pyo3-log": "0.10.0"}
    manifests.rewrite(copy, project, "0.21.2", companions=moved)
    deps = tomllib.loads((copy / "Cargo.toml").read_text())["dependencies"]
    assert deps["pyo3"] == "0.21.2" and deps["numpy"] == "=0.21.0"
    assert deps["pyo3-log"] == {"version": "=0.10.0", "features": ["x"], "default-features": False}
    assert deps["py-serde"] == {"package": "pythonize", "version": "=0.21.1"}
    assert deps["local"] == {"path": "local"}


def test_a_pyo3_commit_is_every_pyo3_crate_by_path_and_patched_for_companions(
    tmp_path: Path,
) -> None:
    """`--pyo3 git:REV` with `--crate`: never `pyo3 = "git:..."` (no registry has it); the
    commit's crates by path, features kept, and `[patch.crates-io]` at the workspace root so a
    companion asking for PyO3 gets the same one."""
    tree = write_files(
        tmp_path / "pyo3",
        {
            "Cargo.toml": '[package]\nname = "pyo3"\nversion = "0.21.0-dev"\n',
            "pyo3-ffi/Cargo.toml": '[package]\nname = "pyo3-ffi"\nversion = "0.21.0-dev"\n',
            "pyo3-build-config/Cargo.toml": '[package]\nname = "pyo3-build-config"\n',
        },
    )
    project = manifests.find(workspace(tmp_path / "ws"))
    copy = tmp_path / "copy"
    shutil.copytree(project.root, copy)
    manifests.rewrite(copy, project, "git:8bef6e339", tree=tree)
    out = {rel: tomllib.loads((copy / rel).read_text()) for rel in project.manifests}
    pyo3 = out["Cargo.toml"]["workspace"]["dependencies"]["pyo3"]
    assert pyo3 == {"features": ["extension-module"], "path": str(tree)}
    core = out["crates/core/Cargo.toml"]["dependencies"]["pyo3-build-config"]
    assert core == {"path": str(tree / "pyo3-build-config")}
    assert out["crates/ext/Cargo.toml"]["dependencies"]["pyo3"]["workspace"] is True
    assert out["Cargo.toml"]["patch"]["crates-io"] == {
        "pyo3": {"path": str(tree)},
        "pyo3-build-config": {"path": str(tree / "pyo3-build-config")},
        "pyo3-ffi": {"path": str(tree / "pyo3-ffi")},
    }
    assert "patch" not in out["crates/ext/Cargo.toml"]  # only the root's counts
    assert "git:" not in (copy / "Cargo.toml").read_text()
