"""Cache keys: every input that changes an artifact changes its key, and nothing else does."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from factories import LOCK, TOOLS
from packaging.version import Version

from pyo3_triage.building import build, buildlog
from pyo3_triage.cells import Cell, Evaluator, Options
from pyo3_triage.interpreters import Interpreter
from pyo3_triage.reproducers import scenarios
from pyo3_triage.system.paths import Layout
from pyo3_triage.versions.releases import Release

SCENARIO = scenarios.resolve("unsendable_gc_traverse")
RELEASE = Release(Version("0.20.3"), vers="0.20.3")
INTERP = Interpreter(
    Version("3.12.1"),
    Path("/py/bin/python3.12"),
    Path("/py/bin/python3.12"),
    "cpython",
    False,
    "cpython-312-x86_64-linux-gnu",
    "pyenv",
)


def key(**change: object) -> str:
    inputs = {
        "reproducer": SCENARIO,
        "release": RELEASE,
        "lock": LOCK,
        "interp": INTERP,
        "toolchain": TOOLS,
        "profile": "dev",
        **change,
    }
    return build.job_for(**inputs).key  # type: ignore[arg-type]


BUILD_CHANGES = {
    "rust source": {
        "reproducer": dataclasses.replace(SCENARIO, rust_source=SCENARIO.rust_source + "\n")
    },
    "module name": {"reproducer": dataclasses.replace(SCENARIO, module="other")},
    "exported classes": {"reproducer": dataclasses.replace(SCENARIO, classes=("Other",))},
    "pyo3 release": {"release": Release(Version("0.21.0"), vers="0.21.0")},
    "lockfile": {"lock": dataclasses.replace(LOCK, lock_text="# other lock\n")},
    "python patch": {"interp": dataclasses.replace(INTERP, version=Version("3.12.2"))},
    "python location": {"interp": dataclasses.replace(INTERP, realpath=Path("/other/python3.12"))},
    "abi": {"interp": dataclasses.replace(INTERP, soabi="cpython-312d-x86_64-linux-gnu")},
    "free threading": {"interp": dataclasses.replace(INTERP, free_threaded=True)},
    "rustc": {"toolchain": dataclasses.replace(TOOLS, rustc_verbose="rustc 1.96.0\nhost: x")},
    "maturin": {"toolchain": dataclasses.replace(TOOLS, maturin="maturin 1.17.0")},
    "profile": {"profile": "release"},
    "build settings": {
        "toolchain": dataclasses.replace(TOOLS, settings=(("RUSTFLAGS", "--cfg fast"),))
    },
}


@pytest.mark.parametrize("change", BUILD_CHANGES, ids=list(BUILD_CHANGES))
def test_each_build_input_changes_the_build_key(change: str) -> None:
    assert key(**BUILD_CHANGES[change]) != key()


def test_things_that_do_not_change_the_wheel_keep_the_build_key() -> None:
    """A driver edit, timeout, description or the scenario's folder never forces a rebuild."""
    same = dataclasses.replace(
        SCENARIO,
        driver_source="print('edited')\n",
        timeout=5.0,
        description="other words",
        folder=Path("/elsewhere"),
        name="renamed",
    )
    assert key(reproducer=same) == key()
    assert key(toolchain=dataclasses.replace(TOOLS, uv="uv 9", cargo_bin="/x/cargo")) == key()


def test_record_key_follows_driver_and_options(tmp_path: Path, monkeypatch) -> None:
    """Records (not builds) change with the driver, the timeout and the run options."""
    import pyo3_triage.building.locks as locks

    monkeypatch.setattr(locks, "load_cached", lambda layout, release, toolchain: LOCK)
    layout = Layout(tmp_path / "cache", tmp_path / "results")

    def record_key(scenario=SCENARIO, options: Options | None = None) -> str:
        cell = Cell(scenario, RELEASE, INTERP)
        evaluator = Evaluator(layout, TOOLS, options or Options())
        return evaluator.keys.key(cell, evaluator.keys.job(cell, LOCK, TOOLS))

    base = record_key()
    assert record_key() == base
    assert record_key(dataclasses.replace(SCENARIO, driver_source="x")) != base
    assert record_key(dataclasses.replace(SCENARIO, timeout=1.0)) != base
    assert record_key(options=Options(repeat=3)) != base
    assert record_key(options=Options(profile="release")) != base
    assert record_key(dataclasses.replace(SCENARIO, description="words only")) == base


def test_scenario_keys_are_pinned(tmp_path: Path, monkeypatch) -> None:
    """Golden keys: a refactor of how a scenario's cell is planned must not change its build or
    record key (a changed key rebuilds every cached scenario). Change these only with the
    build or record semantics version (`pyo3_triage/semantics.py`), and say so in the commit."""
    import pyo3_triage.building.locks as locks

    assert key() == "ebeb2fbb66525066121a"
    assert key(abi3="abi3-py37") == "41583d929261ac8f7a78"
    monkeypatch.setattr(locks, "load_cached", lambda layout, release, toolchain: LOCK)
    layout = Layout(tmp_path / "cache", tmp_path / "results")
    cell = Cell(SCENARIO, RELEASE, INTERP)
    found = []
    for options in (Options(), Options(repeat=3, abi3=True)):
        keys = Evaluator(layout, TOOLS, options).keys
        found.append(keys.key(cell, keys.job(cell, LOCK, TOOLS)))
    assert found == ["c6f64a353408fd699e1a080b", "c6639c6ecfb50af0dd0a8bd0"]


def test_each_key_names_the_semantics_of_what_it_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new build or record semantics (the code that derives the answer changed) is a new key,
    and a new rewrite semantics a new key for every user crate's build."""
    from factories import make_project

    import pyo3_triage.building.locks as locks
    from pyo3_triage import semantics
    from pyo3_triage.reproducers import usercrate

    monkeypatch.setattr(locks, "load_cached", lambda layout, release, toolchain: LOCK)
    layout = Layout(tmp_path / "cache", tmp_path / "results")
    crate = usercrate.load(str(make_project(tmp_path / "proj")), "python repro.py")

    def keys() -> tuple[str, str, str]:
        cell = Cell(SCENARIO, RELEASE, INTERP)
        cell_keys = Evaluator(layout, TOOLS, Options()).keys
        record = cell_keys.key(cell, cell_keys.job(cell, LOCK, TOOLS))
        return key(), record, key(reproducer=crate)

    build_key, record_key, user_key = keys()
    for kind in semantics.ALL:
        bumped = dataclasses.replace(kind, version=kind.version + 1)
        with monkeypatch.context() as patch:
            patch.setattr(semantics, kind.name.upper(), bumped)
            changed = keys()
        # (a scenario's build key, its record key, a user crate's build key) that changed
        moved = tuple(now != then for now, then in zip(changed, (build_key, record_key, user_key)))
        assert (
            moved
            == {
                "build": (True, True, True),  # a new build is a new record too
                "record": (False, True, False),
                "rewrite": (False, False, True),
            }[kind.name]
        )


def test_abi3_builds_are_shared_across_interpreters_and_distinct_from_normal_ones() -> None:
    other = dataclasses.replace(
        INTERP,
        version=Version("3.8.18"),
        soabi="cpython-38-x86_64-linux-gnu",
        realpath=Path("/py/bin/python3.8"),
    )
    assert key(abi3="abi3-py37") == key(interp=other, abi3="abi3-py37")
    assert key(abi3="abi3-py37") != key()
    assert key(abi3="abi3-py37") != key(abi3="abi3-py38")


@pytest.mark.parametrize(
    ("ok", "error", "killed", "cached"),
    [
        (True, None, False, True),
        (False, "error[E0308]: mismatched types --> src/lib.rs:3:5", False, True),
        (
            False,
            "error: the configured Python interpreter version (3.13) is newer than PyO3's maximum supported version (3.12)",
            False,
            True,
        ),
        (False, "error: failed to download `syn v2.0.0`", False, False),
        (
            False,
            "💥 maturin failed Caused by: Couldn't find any python interpreters from '/x'",
            False,
            False,
        ),
        (False, "maturin exited with -9", True, False),
        (False, None, False, False),
    ],
)
def test_only_failures_the_inputs_explain_are_cached(
    ok: bool, error: str | None, killed: bool, cached: bool
) -> None:
    assert buildlog.worth_caching(ok, error, killed) is cached


def test_a_cell_renders_its_crate_once_from_key_to_build(tmp_path: Path, monkeypatch) -> None:
    """Key, store lookup and build all use the one job: the crate is rendered once, and the
    build gets exactly the files the key was computed from."""
    from pyo3_triage.building import locks
    from pyo3_triage.building import template as render
    from pyo3_triage.evidence import BuildInfo

    rendered: list[str] = []
    real_render = render.render_crate

    def counting_render(scenario, *args, **kwargs):
        rendered.append(scenario.name)
        return real_render(scenario, *args, **kwargs)

    seen: list[build.Job] = []

    def failing_build(layout, job, toolchain, *, rebuild=False, shared=True):
        seen.append(job)
        info = BuildInfo(job.key, False, None, 1.0, False, "/b.log", "error[E0308]", False)
        return build.Built(dataclasses.replace(info, compile_error=True))

    monkeypatch.setattr(scenarios, "render_crate", counting_render)
    monkeypatch.setattr(build, "build", failing_build)
    monkeypatch.setattr(locks, "resolve", lambda layout, release, toolchain: LOCK)
    layout = Layout(tmp_path / "cache", tmp_path / "results")
    layout.ensure()
    record, reused = Evaluator(layout, TOOLS, Options()).evaluate(Cell(SCENARIO, RELEASE, INTERP))
    assert not reused and record.outcome.value == "build-error"
    assert rendered == [SCENARIO.name]
    assert [job.key for job in seen] == [key()] and record.build is not None
    assert record.build.key == key()
    assert isinstance(seen[0].crate, scenarios.TemplateCrate)
    assert (
        dict(seen[0].crate.files)["src/lib.rs"]
        == dict(real_render(SCENARIO, RELEASE.version, "0.20.3").files)["src/lib.rs"]
    )
