"""The documents from data: one environment block for all three, the report kept to a GitHub
comment, nothing read or run while rendering."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from factories import make_record

from pyo3_triage.evidence import LockInfo, RunDetails, ToolVersions
from pyo3_triage.outcome import Outcome
from pyo3_triage.reporting import markdown
from pyo3_triage.reporting.markdown import Environment
from pyo3_triage.reporting.table import grid_from_records
from pyo3_triage.system.paths import Layout

TOOLS = ToolVersions(
    "rustc 1.95.0", "rustc 1.95.0\nhost: x86_64", "cargo 1.95.0", "maturin 1.16.0", "uv 0.9"
)
ENV = Environment(
    made="2026-11-29 12:00 UTC",
    platform="Linux-test",
    command="nox -s matrix -- --pyo3 0.20",
    folder="/home/me/src",
    logs="/home/me/src/results/logs",
    pythons={"/py/3.11": "3.11.7 (main) [GCC 12]"},
)


def grid(*records):  # type: ignore[no-untyped-def]
    return grid_from_records("s", "the founding bug", "", records)


def test_the_environment_block_says_where_when_and_with_what() -> None:
    found = [
        make_record(toolchain=TOOLS, platform="Linux-a", executable="/py/3.11", python="3.11.7"),
        make_record(toolchain=TOOLS, platform="Linux-b", executable="/py/3.8", python="3.8.18"),
    ]
    block = markdown.environment(found, ENV)
    assert block.startswith("<details><summary>Environment</summary>")
    assert "- Command: `nox -s matrix -- --pyo3 0.20` (in `/home/me/src`)" in block
    assert "Made 2026-11-29 12:00 UTC by pyo3-triage" in block and "Linux-test" in block
    assert "Records made on: Linux-a; Linux-b" in block
    assert block.count("- Toolchain: ") == 1  # one toolchain, said once
    assert "maturin 1.16.0" in block and "host: x86\\_64" not in block
    assert "```\nrustc 1.95.0\nhost: x86_64\n```" in block  # `rustc -vV` verbatim
    # Ordered by version, each with the version asked of it when the caller asked.
    assert block.index("CPython 3.8.18") < block.index("CPython 3.11.7")
    assert "- CPython 3.11.7: `/py/3.11` (3.11.7 (main) \\[GCC 12\\])" in block
    assert "- Full logs: `/home/me/src/results/logs`" in block


def test_every_document_carries_the_same_block(tmp_path: Path) -> None:
    record = make_record(Outcome.ABORT, toolchain=TOOLS, platform="Linux-a")
    layout = Layout(tmp_path / "cache", tmp_path / "results")
    block = markdown.environment([record], ENV)
    assert block in markdown.matrix_document([grid(record)], ENV)
    assert block in markdown.report_document([grid(record)], [], ENV, layout)


def test_a_bare_environment_names_no_command() -> None:
    bare = Environment("now", "Linux")
    block = markdown.environment([make_record()], bare)
    assert "Command:" not in block and "Full logs" not in block


def test_the_report_stays_within_a_github_comment(tmp_path: Path) -> None:
    """Per-cell details are cut first, with a note of how many were left out."""
    layout = Layout(tmp_path / "cache", tmp_path / "results")
    noisy = [
        make_record(
            Outcome.ERROR,
            key=f"k{n}",
            pyo3=f"0.{n}.0",
            runs=(
                RunDetails(
                    Outcome.ERROR, 1, exception=f"ValueError: case {n}", stderr_tail="x\n" * 2000
                ),
            ),
        )
        for n in range(40)
    ]
    text = markdown.report_document([grid(*noisy)], [], ENV, layout, limit=12_000)
    assert len(text) <= 12_000
    assert "more failures not shown to stay within a GitHub comment" in text
    assert str(layout.report_png()) in text


def test_the_matrix_document_keeps_an_interruption_note() -> None:
    text = markdown.matrix_document(
        [grid(make_record())], ENV, note="Interrupted after 3 of 9 cells."
    )
    assert text.startswith("## PyO3 × CPython matrix\n\n> Interrupted after 3 of 9 cells.")


def test_rendering_reads_nothing_and_runs_nothing(tmp_path: Path, monkeypatch) -> None:
    """Renderers take data: with process starts and file reads forbidden, they still render."""
    import builtins
    import subprocess

    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("a renderer touched the machine")

    layout = Layout(tmp_path / "cache", tmp_path / "results")
    record = dataclasses.replace(make_record(Outcome.ABORT), toolchain=TOOLS)
    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setattr(builtins, "open", refuse)
    assert "abort" in markdown.report_document([grid(record)], [], ENV, layout)
    assert "abort" in markdown.matrix_document([grid(record)], ENV)


def test_the_companion_versions_of_each_release_are_noted() -> None:
    def cell(pyo3: str, pyo3_file: str) -> object:
        lock = LockInfo(pyo3, companions=(("pyo3-file", pyo3_file),))
        return make_record(pyo3=pyo3, lock=lock)

    cells = [cell("0.25.0", "0.13.0"), cell("0.25.1", "0.13.0"), cell("0.26.0", "0.14.0")]
    grid = grid_from_records("calamine", "", "", cells)  # type: ignore[arg-type]
    assert markdown.companions(grid) == (
        "Companion crates: pyo3-file 0.13.0 (PyO3 0.25.0, 0.25.1); pyo3-file 0.14.0 (PyO3 0.26.0)"
    )
    assert "Companion crates: pyo3-file 0.13.0" in markdown.section(grid)
    assert markdown.companions(grid_from_records("s", "", "", [make_record()])) == ""


def test_a_cut_text_says_so_and_ends_on_a_boundary() -> None:
    assert markdown.clip("short", 10) == "short"
    lines = "first line\nthread 'x' panicked at src/lib.rs:41:5:\nboom"
    cut = markdown.clip(lines, 30)
    assert cut == f"first line … ({len(lines) - 10} more characters)"
    assert markdown.clip("word " * 20, 12).startswith("word word …")
    assert markdown.clip("x" * 50, 10) == "x" * 10 + " … (40 more characters)"


def test_a_long_stderr_is_cut_between_lines_and_marked(tmp_path: Path) -> None:
    """The excerpt of a long stderr (a backtrace) never stops in the middle of a location."""
    layout = Layout(tmp_path / "cache", tmp_path / "results")
    symbol = "pyo3::impl_::trampoline::trampoline::{{closure}}::h0123456789abcdef" * 3
    trace = "\n".join(f"  {n}: {symbol}\n             at ./src/lib.rs:41:9" for n in range(20))
    stderr = f"thread 'main' panicked at src/lib.rs:41:9:\nboom\nstack backtrace:\n{trace}\n"
    record = make_record(
        Outcome.ABORT, runs=(RunDetails(Outcome.ABORT, None, signal="SIGABRT", stderr_tail=stderr),)
    )
    text = markdown.report_document([grid(record)], [], ENV, layout)
    block = text.split("```\n", 1)[1].split("\n```", 1)[0]
    assert block.endswith("more characters)")
    assert all(
        line.endswith(("41:9", "boom", ":", "def", "characters)")) for line in block.splitlines()
    )


def test_a_long_message_is_marked_as_cut_in_the_messages_list() -> None:
    message = "error: " + "very long words " * 40 + "--> src/lib.rs:41:5"
    record = make_record(Outcome.BUILD_ERROR, runs=(), note=message)
    listed = markdown.messages(grid(record))
    assert "more characters)" in listed and "src/lib.rs:41:" not in listed
