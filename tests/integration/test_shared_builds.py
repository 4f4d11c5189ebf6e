"""What every release needs alike is compiled once per CPython (build tier).

By default every release built for one interpreter shares one cargo target dir, so cargo reuses
the units that do not change with the release (syn, quote, a project's own dependencies);
`--isolated-builds` gives each (release, CPython) its own, compiling everything again. The
outcomes, and the build keys, are the same either way."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pyo3_triage.commands import matrix_cli
from pyo3_triage.outcome import Outcome
from pyo3_triage.store import records
from pyo3_triage.system.paths import Layout

pytestmark = pytest.mark.build

RELEASES = ("0.21.2", "0.22.6")  # both resolve syn 2 to the same version


def _scenario(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "scenario.toml").write_text('module = "shared_x"\nfunctions = ["f"]\ntimeout = 60\n')
    (folder / "lib.rs").write_text("#[pyfunction]\nfn f() -> u32 { 7 }\n")
    (folder / "driver.py").write_text("import shared_x\nassert shared_x.f() == 7\n")
    return folder


def _compiled(record: records.Record) -> set[str]:
    assert record.build is not None
    text = Path(record.build.log).read_text(encoding="utf-8")
    return set(re.findall(r"^\s*Compiling (\S+) v", text, re.MULTILINE))


def _matrix(
    cache: Path, results: Path, scenario: Path, pyo3: str, *extra: str
) -> dict[str, records.Record]:
    argv = ["--scenario", str(scenario), "--pyo3", pyo3, "--python", "3.11"]
    argv += ["--cache", str(cache), "--results", str(results), "--jobs", "1", *extra]
    assert matrix_cli.main(argv) == 0
    return {r.pyo3: r for r in records.all_records(Layout(cache, results))}


def test_a_second_release_reuses_what_the_first_compiled(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path / "shared_scenario")
    cache = tmp_path / "cache"
    shared = _matrix(cache, tmp_path / "results", scenario, ",".join(RELEASES))
    first, second = (shared[version] for version in RELEASES)
    assert first.outcome is second.outcome is Outcome.PASS
    assert {"syn", "quote", "pyo3"} <= _compiled(first)
    assert not {"syn", "quote"} & _compiled(second)
    assert "pyo3" in _compiled(second)  # the release's own crates are compiled for it

    isolated = _matrix(
        cache, tmp_path / "isolated", scenario, RELEASES[1], "--rerun", "--isolated-builds"
    )[RELEASES[1]]
    assert isolated.outcome is Outcome.PASS and isolated.key == second.key
    assert isolated.build is not None and second.build is not None
    assert isolated.build.key == second.build.key
    assert "syn" in _compiled(isolated)  # its own target dir: everything compiled again
