"""Sharded runs for real: shards built and run, then merged, give the unsharded records and
table (build tier); the workflow's shard and merge steps run as written (`nox -s matrix`,
`nox -s merge`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from factories import REPO

from pyo3_triage.commands import matrix_cli, merge_cli
from pyo3_triage.store import merge, records
from pyo3_triage.system.paths import Layout


def _table_part(markdown: str) -> str:
    """The tables and messages, without the environment block (it holds the command and time)."""
    return re.split(r"<details><summary>Environment", markdown)[0]


@pytest.mark.build
def test_sharded_runs_merge_into_the_unsharded_result(build_cache: Path, tmp_path: Path) -> None:
    base = [
        "--pyo3",
        "0.20.3,0.21.0",
        "--python",
        "3.11",
        "--scenario",
        "unsendable_gc_traverse,unsendable_gc_traverse_workaround",
        "--cache",
        str(build_cache),
    ]
    assert matrix_cli.main([*base, "--results", str(tmp_path / "whole")]) == 0
    for k in (1, 2, 3):
        assert (
            matrix_cli.main([*base, "--shard", f"{k}/3", "--results", str(tmp_path / f"s{k}")]) == 0
        )
    merged = tmp_path / "merged"
    sources = [str(tmp_path / f"s{k}") for k in (1, 2, 3)]
    assert merge_cli.main([*sources, "--results", str(merged)]) == 0

    def evidence(folder: Path) -> dict[str, tuple[object, ...]]:
        layout = Layout(build_cache, folder)
        return {r.key: merge.evidence(r) for r in records.all_records(layout)}

    assert evidence(merged) == evidence(tmp_path / "whole")
    assert len(evidence(merged)) == 4
    whole = (tmp_path / "whole" / "matrix.md").read_text()
    assert _table_part((merged / "matrix.md").read_text()) == _table_part(whole)


def _run_steps(workflow: str, job: str) -> list[str]:
    """The one-line `run:` commands of a job in .github/workflows/matrix.yml, in order."""
    body = workflow.split(f"\n  {job}:\n", 1)[1]
    body = re.split(r"\n  [a-z]+:\n", body, maxsplit=1)[0]
    return [
        line.split("run: ", 1)[1].strip()
        for line in body.splitlines()
        if line.strip().startswith(("- run: ", "run: "))
    ]


def test_the_workflow_shard_and_merge_steps_run_as_written(tmp_path: Path) -> None:
    """The commands .github/workflows/matrix.yml runs, run here as it runs them: two shards,
    each uploading its results folder, then the merge job over the downloaded artifacts. The
    selection is all `unsupported` cells (PyO3 0.16.6 on this CPython), so nothing is built."""
    import os
    import shutil
    import subprocess
    import sys

    repo = REPO
    workflow = (repo / ".github" / "workflows" / "matrix.yml").read_text()
    # The runner's own setup (installing this project, a Rust toolchain) is not ours to repeat
    # here: it would change this machine. Everything after it runs as written.
    setup = ("pip install", "rustup")
    shard_steps = [s for s in _run_steps(workflow, "shard") if not any(w in s for w in setup)]
    merge_steps = [s for s in _run_steps(workflow, "merge") if not any(w in s for w in setup)]
    assert any("--shard" in s for s in shard_steps) and any(
        "nox -s merge" in s for s in merge_steps
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith("PYO3_TRIAGE_")}
    base.update(
        PYO3_TRIAGE_CACHE=str(tmp_path / "cache"),
        PATH=f"{Path(sys.executable).parent}:{base['PATH']}",
    )
    inputs = dict(
        PYO3="0.16.6",
        PYTHONS=sys.executable,
        SCENARIOS="unsendable_gc_traverse,unsendable_gc_traverse_workaround",
        RUST="",  # the input's default: the runner's toolchain
    )
    artifacts = tmp_path / "merge" / "shards"
    for shard_name in ("1/2", "2/2"):
        runner = tmp_path / f"runner-{shard_name[0]}"
        shutil.copytree(
            repo, runner, ignore=shutil.ignore_patterns(".git", "results", ".nox", "__pycache__")
        )
        out = runner / "github_output"
        env = {**base, **inputs, "SHARD": shard_name, "GITHUB_OUTPUT": str(out)}
        for step in shard_steps:
            if step.startswith("python3 -c"):
                continue  # the plan job's own step
            done = subprocess.run(
                ["bash", "-c", step],
                cwd=runner,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == 0, step + done.stdout + done.stderr
        name = out.read_text().strip().removeprefix("name=")
        assert name == f"records-{shard_name[0]}-of-2"
        shutil.copytree(runner / "results", artifacts / name)  # upload + download-artifact
    merger = tmp_path / "merge"
    shutil.copytree(
        repo,
        merger,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns(".git", "results", ".nox", "__pycache__", "shards"),
    )
    summary = tmp_path / "summary.md"
    env = {**base, "GITHUB_STEP_SUMMARY": str(summary)}
    for step in merge_steps:
        done = subprocess.run(
            ["bash", "-c", step], cwd=merger, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, step + done.stdout + done.stderr
        assert "::warning::" not in done.stdout, done.stdout
    table = summary.read_text()
    assert table.count("| 0.16.6 | ") == 2  # both scenarios, one row each
    assert "unsupported" in table
