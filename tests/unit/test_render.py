"""Rendering a crate: era values looked up by release, the context templates see, and template
errors turned into one line. Uses a small template folder made here, plus the shipped one."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.version import Version

from pyo3_triage.building import template as render
from pyo3_triage.errors import UserError
from pyo3_triage.reproducers import scenarios

ERAS = """
[signature]
"0.9.0" = "nine"
"0.10.0" = "ten"
"0.21.0" = "bound"

[features]
"0.9.0" = ["extension-module"]
"0.23.0" = ["extension-module", "py-clone"]
"""

CARGO = (
    'version = "{{ pyo3_requirement }}" exact = "{{ pyo3_version }}" path = "{{ pyo3_path }}"\n'
    "features = {{ features | tojson }} debug = {{ debug_info }} module = {{ module }}\n"
)
PYPROJECT = "module-name = {{ module }} scenario = {{ scenario }}\n"
LIB = (
    "// {{ era.signature }} own={{ own_module }} classes={{ classes | join(',') }} "
    "functions={{ functions | join(',') }}\n{{ scenario_rust }}"
)


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    folder = tmp_path / "template"
    (folder / "src").mkdir(parents=True)
    (folder / "eras.toml").write_text(ERAS)
    (folder / "Cargo.toml").write_text(CARGO)
    (folder / "pyproject.toml").write_text(PYPROJECT)
    (folder / "src" / "lib.rs").write_text(LIB)
    return folder


def scenario(tmp_path: Path, rust: str, toml: str = 'functions = ["f"]\nclasses = ["C"]\n'):  # type: ignore[no-untyped-def]
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "scenario.toml").write_text(toml)
    (folder / "lib.rs").write_text(rust)
    (folder / "driver.py").write_text("import demo\n")
    return scenarios.load(folder)


# --- eras ----------------------------------------------------------------------------------
def test_eras_are_sorted_by_version_not_by_text(templates: Path) -> None:
    eras = render.load_eras(templates)
    assert [str(v) for v, _ in eras["signature"]] == ["0.9.0", "0.10.0", "0.21.0"]


@pytest.mark.parametrize(
    ("release", "signature"),
    [
        ("0.9.0", "nine"),
        ("0.9.9", "nine"),
        ("0.10.0", "ten"),
        ("0.20.3", "ten"),
        ("0.21.0b0", "bound"),  # a pre-release counts as its release
        ("0.21.0.dev0", "bound"),
        ("5.0.0", "bound"),
    ],
)
def test_the_value_holding_for_a_release(templates: Path, release: str, signature: str) -> None:
    assert render.era_for(Version(release), templates)["signature"] == signature


def test_items_switch_independently(templates: Path) -> None:
    era = render.era_for(Version("0.23.1"), templates)
    assert era == {"signature": "bound", "features": ["extension-module", "py-clone"]}


def test_a_release_older_than_every_item_is_a_user_error(templates: Path) -> None:
    with pytest.raises(UserError, match=r"PyO3 0\.8\.0 is older than the template supports"):
        render.era_for(Version("0.8.0"), templates)


def test_the_shipped_eras_start_at_the_oldest_supported_release() -> None:
    oldest = {values[0][0] for values in render.load_eras().values()}
    assert oldest == {Version("0.16.0")}


# --- rendering -----------------------------------------------------------------------------
def test_every_template_file_is_rendered_with_the_context(tmp_path: Path, templates: Path) -> None:
    demo = scenario(tmp_path, "#[pyfunction]\nfn f() {}\n")
    crate = render.render_crate(demo, Version("0.21.0b0"), "=0.21.0-beta.0", template_dir=templates)
    assert [name for name, _ in crate.files] == list(render.TEMPLATE_FILES)
    assert crate.text("Cargo.toml") == (
        'version = "=0.21.0-beta.0" exact = "0.21.0b0" path = ""\n'
        'features = ["extension-module"] debug = False module = demo\n'
    )
    assert crate.text("pyproject.toml") == "module-name = demo scenario = demo\n"
    assert crate.text("src/lib.rs") == (
        "// bound own=False classes=C functions=f\n#[pyfunction]\nfn f() {}\n"
    )
    with pytest.raises(KeyError):
        crate.text("build.rs")


def test_abi3_debug_info_and_a_source_tree(tmp_path: Path, templates: Path) -> None:
    demo = scenario(tmp_path, "// nothing\n")
    crate = render.render_crate(
        demo,
        Version("0.23.0"),
        "0.23.0",
        debug_info=True,
        template_dir=templates,
        abi3="abi3-py38",
        pyo3_path=Path("/cache/git-trees/abc"),
    )
    cargo = crate.text("Cargo.toml")
    assert 'path = "/cache/git-trees/abc"' in cargo and "debug = True" in cargo
    assert 'features = ["extension-module", "py-clone", "abi3-py38"]' in cargo
    # The era's own list is not changed by adding abi3 to one crate.
    assert render.era_for(Version("0.23.0"), templates)["features"] == [
        "extension-module",
        "py-clone",
    ]


def test_a_scenario_with_its_own_module(tmp_path: Path, templates: Path) -> None:
    rust = "#[pymodule]\nfn demo(m: &Bound<'_, PyModule>) -> PyResult<()> { Ok(()) }\n"
    demo = scenario(tmp_path, rust, toml="")  # its module lists its own classes and functions
    crate = render.render_crate(demo, Version("0.21.0"), "0.21.0", template_dir=templates)
    assert crate.text("src/lib.rs").startswith("// bound own=True classes= functions=\n#[pymodule]")


def test_the_scenario_source_sees_since_and_era(tmp_path: Path, templates: Path) -> None:
    rust = '{% if since("0.10.0") %}new {{ era.signature }}{% else %}old{% endif %}\n'
    demo = scenario(tmp_path, rust)
    old = render.render_crate(demo, Version("0.9.5"), "0.9.5", template_dir=templates)
    new = render.render_crate(demo, Version("0.10.0rc1"), "0.10.0-rc.1", template_dir=templates)
    assert old.text("src/lib.rs").endswith("\nold\n")
    assert new.text("src/lib.rs").endswith("\nnew ten\n")


@pytest.mark.parametrize(
    "rust",
    ["{{ era.no_such_item }}", "{% if %}", "{{ undefined_name }}", "{{ nothing | join(',') }}"],
)
def test_a_broken_scenario_template_is_one_line(tmp_path: Path, templates: Path, rust: str) -> None:
    with pytest.raises(UserError) as caught:
        render.render_crate(
            scenario(tmp_path, rust), Version("0.21.0"), "0.21.0", template_dir=templates
        )
    message = caught.value.message
    assert message.startswith("scenario demo: its Rust template does not render (")
    assert "\n" not in message


def test_the_manifest_alone(templates: Path) -> None:
    text = render.render_manifest(Version("0.20.3"), "0.20.3", "mod_x", template_dir=templates)
    assert text.startswith('version = "0.20.3" exact = "0.20.3" path = ""')
    assert "module = mod_x" in text and "debug = False" in text


def test_the_shipped_manifest_pins_a_source_tree_by_path() -> None:
    text = render.render_manifest(Version("0.21.0"), "0.21.0", "m", pyo3_path=Path("/t/tree"))
    assert 'pyo3 = { path = "/t/tree", features = ["extension-module"] }' in text
    assert 'version = "0.21.0"' not in text
