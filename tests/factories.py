"""The one place tests make records: every field a real record has, overridable by name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from pyo3_triage.evidence import RunDetails
from pyo3_triage.outcome import Outcome
from pyo3_triage.rendering.manifests import Project
from pyo3_triage.rendering.usercrate import UserCrate
from pyo3_triage.store.records import Record

# `nox -s matrix --` through this checkout's noxfile, from any folder, with this interpreter.
NOX_MATRIX = (
    sys.executable,
    "-m",
    "nox",
    "-f",
    str(Path(__file__).resolve().parent.parent / "noxfile.py"),
    "-s",
    "matrix",
    "--",
)


def make_run(outcome: Outcome = Outcome.PASS, **overrides: Any) -> RunDetails:
    return RunDetails(outcome=outcome, **overrides)


def make_record(outcome: Outcome = Outcome.PASS, *runs: Outcome, **overrides: Any) -> Record:
    """A record of `outcome` (its runs: `runs`, else one run of `outcome`)."""
    fields: dict[str, Any] = dict(
        key="0123456789abcdef01234567",
        scenario="s",
        scenario_hash="h",
        pyo3="0.20.3",
        yanked=False,
        python="3.11.7",
        python_label="3.11",
        executable="/py",
        outcome=outcome,
        runs=tuple(make_run(o) for o in (runs or (outcome,))),
    )
    fields.update(overrides)
    return Record(**fields)


def make_crate(folder: Path, run: str, **overrides: Any) -> UserCrate:
    """A user's crate at `folder` run by `run` (nothing read from disk)."""
    project = Project(folder, ".", "Cargo.toml", ".", ("Cargo.toml",), False, "ext", "", "")
    fields: dict[str, Any] = dict(
        name="ext",
        folder=folder,
        description="",
        timeout=60.0,
        module="ext",
        run=tuple(run.split()),
        source_hash="c0ffee",
        run_inputs="",
        project=project,
    )
    fields.update(overrides)
    return UserCrate(**fields)


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run git in `cwd` as a fixed test identity (`env` adds to it, e.g. fixed dates),
    untouched by the user's git config."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        **(env or {}),
    }
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def write_files(root: Path, files: dict[str, str]) -> Path:
    """A folder holding `files` (relative name -> text), folders made as needed; `root`."""
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root
