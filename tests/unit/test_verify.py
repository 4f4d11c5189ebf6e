"""`nox -s verify`: reading a scenario's recorded finding, comparing a rerun bisect with it (a
fake evaluator, a release list already in the cache: nothing is built or fetched), and the CLI."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from factories import make_record
from packaging.version import Version

from pyo3_triage.bisecting import verify
from pyo3_triage.cells import Cell, Options
from pyo3_triage.commands import verify_cli
from pyo3_triage.errors import EXIT_OK, EXIT_USAGE, UserError
from pyo3_triage.interpreters import Interpreter
from pyo3_triage.outcome import Outcome
from pyo3_triage.reproducers import scenarios
from pyo3_triage.store.records import Record
from pyo3_triage.system.paths import Layout
from pyo3_triage.system.supervisor import SUPERVISOR
from pyo3_triage.versions import crates_index

FOUNDING = scenarios.resolve("unsendable_gc_traverse")
CLAIM = {
    "changed_in": "0.21.0",
    "outcome_before": "abort",
    "outcome_after": "pass",
    "verify_range": "0.20.0..0.21.0",
    "verify_python": "3.11",
}
PY311 = Interpreter(Version("3.11.7"), Path("/py"), Path("/py"), "cpython", False, "", "path")


def with_claim(**extra: Any) -> scenarios.Scenario:
    return dataclasses.replace(FOUNDING, metadata=extra)


# --- claims --------------------------------------------------------------------------------
def test_a_scenario_without_changed_in_claims_nothing() -> None:
    assert verify.claims(with_claim(outcome_before="abort")) is None
    assert verify.claims(scenarios.resolve("unsendable_gc_traverse_workaround")) is None


def test_the_claim_is_exactly_the_five_keys() -> None:
    assert verify.claims(with_claim(**CLAIM, default=True, verify_new="x")) == CLAIM
    assert verify.claims(FOUNDING) == {key: FOUNDING.metadata[key] for key in verify.KEYS}


def test_an_incomplete_claim_names_what_is_missing() -> None:
    partial = {**CLAIM, "verify_python": 3.11}  # a number, not a string
    del partial["outcome_after"]
    with pytest.raises(UserError) as caught:
        verify.claims(with_claim(**partial))
    assert caught.value.message == (
        f"{FOUNDING.folder}/scenario.toml records changed_in but lacks outcome_after, verify_python"
    )


# --- one verification, with a fake evaluator ------------------------------------------------
class FakeEvaluator:
    options = Options()

    def __init__(self, outcomes: dict[str, Outcome]) -> None:
        self.outcomes = outcomes
        self.asked: list[str] = []

    def evaluate(self, cell: Cell) -> tuple[Record, bool]:
        version = cell.release.cargo_version
        self.asked.append(version)
        return make_record(self.outcomes[version], pyo3=version), False


@pytest.fixture
def layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Layout:
    """A release list in the cache, fresh, and a fetcher that refuses: no network, ever."""
    layout = Layout(cache=tmp_path / "cache", results=tmp_path / "results")
    index = layout.index_file("pyo3")
    index.parent.mkdir(parents=True)
    lines = [
        {"name": "pyo3", "vers": v} for v in ("0.20.0", "0.20.1", "0.20.2", "0.20.3", "0.21.0")
    ]
    lines.append({"name": "pyo3", "vers": "0.20.4", "yanked": True})
    index.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    os.utime(index, (time.time() - 10, time.time() - 10))
    real = crates_index.load_index

    def offline(crate: str, cache_file: Path, **kwargs: Any) -> Any:
        def refuse(url: str, timeout: float) -> str:
            raise AssertionError(f"tried to fetch {url}")

        return real(crate, cache_file, fetch=refuse)

    monkeypatch.setattr(crates_index, "load_index", offline)
    return layout


ABORT_UNTIL_0_21 = {v: Outcome.ABORT for v in ("0.20.0", "0.20.1", "0.20.2", "0.20.3", "0.20.4")}
ABORT_UNTIL_0_21["0.21.0"] = Outcome.PASS


def test_a_finding_that_still_holds(layout: Layout) -> None:
    fake = FakeEvaluator(ABORT_UNTIL_0_21)
    check = verify.verify_one(with_claim(**CLAIM), layout, fake, [PY311])
    assert check == verify.Check(
        FOUNDING.name, "0.21.0: abort -> pass", "0.21.0: abort -> pass", True
    )
    assert set(fake.asked) <= set(ABORT_UNTIL_0_21) and "0.21.0" in fake.asked


def test_a_finding_that_moved_is_a_mismatch(layout: Layout) -> None:
    outcomes = {**ABORT_UNTIL_0_21, "0.20.3": Outcome.PASS, "0.20.4": Outcome.PASS}
    check = verify.verify_one(with_claim(**CLAIM), layout, FakeEvaluator(outcomes), [PY311])
    assert not check.ok
    assert (check.expected, check.found) == ("0.21.0: abort -> pass", "0.20.3: abort -> pass")


def test_no_change_is_a_mismatch_named_by_its_kind(layout: Layout) -> None:
    same = {v: Outcome.ABORT for v in ABORT_UNTIL_0_21}
    check = verify.verify_one(with_claim(**CLAIM), layout, FakeEvaluator(same), [PY311])
    assert (check.found, check.ok) == ("no-change", False)


def test_one_release_is_nothing_to_search(layout: Layout) -> None:
    claim = {**CLAIM, "verify_range": "0.21.0"}
    check = verify.verify_one(with_claim(**claim), layout, FakeEvaluator({}), [PY311])
    assert (check.found, check.ok) == ("nothing to search on that CPython", False)


def test_the_recorded_python_must_be_found(layout: Layout) -> None:
    other = dataclasses.replace(PY311, version=Version("3.12.1"))
    with pytest.raises(UserError, match="no interpreter matches '3.11'"):
        verify.verify_one(with_claim(**CLAIM), layout, FakeEvaluator({}), [other])


# --- the command line ----------------------------------------------------------------------
@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """No process-wide hardening of the test process; its SIGTERM handler given back."""
    monkeypatch.setattr(SUPERVISOR, "harden", lambda: None)
    monkeypatch.setenv("COLUMNS", "300")  # rich wraps its lines at 80 columns otherwise
    before = signal.getsignal(signal.SIGTERM)
    yield ["--cache", str(tmp_path / "cache"), "--results", str(tmp_path / "results")]
    signal.signal(signal.SIGTERM, before)


def test_list_prints_what_would_be_verified(
    cli: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--list", "--scenario", "unsendable_gc_traverse,unsendable_gc_traverse_workaround"]
    assert verify_cli.main([*argv, *cli]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.strip() == (
        "unsendable_gc_traverse: bisect 0.19..0.21 on CPython 3.11, expecting 0.21.0: abort -> pass"
    )


def test_list_names_the_toolchain_a_claim_depends_on(
    cli: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--list", "--scenario", "deny_warnings_non_local_impl"]
    assert verify_cli.main([*argv, *cli]) == EXIT_OK
    assert " ".join(capsys.readouterr().out.split()) == (
        "deny_warnings_non_local_impl: bisect 0.19.2..0.30.1 on CPython 3.11 with Rust 1.83, "
        "expecting 0.21.2: build-error -> pass"
    )


def test_list_of_the_whole_library_names_every_claim(
    cli: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert verify_cli.main(["--list", *cli]) == EXIT_OK
    printed = {line.split(":")[0] for line in capsys.readouterr().out.splitlines()}
    claimed = {n for n in scenarios.available() if verify.claims(scenarios.resolve(n))}
    assert printed == claimed and "unsendable_gc_traverse" in printed


def test_nothing_to_verify_is_exit_2(cli: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--scenario", "unsendable_gc_traverse_workaround", "--list", *cli]
    assert verify_cli.entry(argv) == EXIT_USAGE
    assert capsys.readouterr().err == (
        "error: no scenario among those selected records changed_in; nothing to verify\n"
    )


def test_bad_options_are_one_line(cli: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert verify_cli.entry(["--list", "--bogus", *cli]) == EXIT_USAGE
    assert capsys.readouterr().err == "error: unrecognized arguments: --bogus; see --help\n"
    assert verify_cli.entry(["--list", "--cache-limit", "lots", *cli]) == EXIT_USAGE
    assert "lots" in capsys.readouterr().err
