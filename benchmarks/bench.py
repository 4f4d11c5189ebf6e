"""Time the harness against the naive way, on the same cells, in one run.

    python benchmarks/bench.py                  # the full benchmark (~10-15 min on 2 cores)
    python benchmarks/bench.py --skip-naive     # harness figures only

(a) naive: for each cell and scenario a fresh venv and `pip install .` of the rendered crate
    (what the founding reproduction's README tells a user to do), then the driver;
(b) harness, cold cache; (c) harness again, nothing changed; (d) one driver edited;
(e) one scenario's Rust edited; (f) bisect over every release of a wide range; (g) the
founding bisect down to the commit and pull request (`--pyo3-git`), cold and warm; (h) a real
maturin project from PyPI with a dependency tree of its own (blake3), cold, with the target
dir shared across releases (the default) and with `--isolated-builds`. (b) runs both ways too.
(i) "which rustc broke this build": the toolchain bisect (`--rust 1.70..1.95 --pyo3 0.20.3`)
against building every toolchain of the range (a matrix over them), both cold, the
toolchains installed first and not timed (`--only toolchains` runs (i) alone and adds its
figures to the last run's). (j) the ecosystem run over the starter list (`ecosystem/`): a
candidate against a baseline, cold (sdists, builds, runs), warm (nothing changed), then a
second candidate against the same baseline (only the candidate's cells are new); each
project's share of the cold run, and the verdicts (`--only ecosystem` runs (j) alone).
Every path's outcomes are compared: speed must never change a verdict. The figures are
printed and written to benchmarks/latest.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from packaging.version import Version

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pyo3_triage import interpreters  # noqa: E402
from pyo3_triage.building import (  # noqa: E402
    locks,
    template,  # noqa: E402
    toolchain,
)
from pyo3_triage.commands import bisect_cli, ecosystem_cli, matrix_cli  # noqa: E402
from pyo3_triage.evidence import BuildInfo  # noqa: E402
from pyo3_triage.reproducers import scenarios  # noqa: E402
from pyo3_triage.running import runner  # noqa: E402
from pyo3_triage.running.classify import classify_run  # noqa: E402
from pyo3_triage.store import records  # noqa: E402
from pyo3_triage.system import procs  # noqa: E402
from pyo3_triage.system.paths import Layout, write_if_changed  # noqa: E402
from pyo3_triage.system.supervisor import SUPERVISOR  # noqa: E402
from pyo3_triage.versions.releases import Release  # noqa: E402

DEFAULT_SCENARIOS = "unsendable_gc_traverse,panic_in_traverse,subclass_base_traverse"
DEFAULT_PYO3 = "0.20.3,0.21.2,0.22.6"
DEFAULT_PYTHON = "3.11,3.12"
DEFAULT_BISECT = "0.19..0.30"
FIXTURE = REPO.parent / "shared" / "fixtures" / "pyo3-v0.20.0-v0.21.0.git.tar.gz"
STARTER = REPO / "ecosystem" / "projects.toml"


def stamp(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def copy_scenarios(names: list[str], into: Path) -> list[Path]:
    """Private copies, so (d) and (e) can edit them; a shared Rust side is copied in."""
    copies = []
    for name in names:
        source = scenarios.resolve(name)
        folder = into / source.name
        shutil.copytree(source.folder, folder)
        rust = folder / "lib.rs"
        rust.write_text(source.rust_source)
        meta = folder / "scenario.toml"
        meta.write_text(
            "\n".join(
                line for line in meta.read_text().splitlines() if not line.startswith("rust =")
            )
            + "\n"
        )
        copies.append(folder)
    return copies


def naive(
    folders: list[Path],
    pyo3: list[str],
    pythons: list[interpreters.Interpreter],
    layout: Layout,
    work: Path,
) -> tuple[float, dict[tuple[str, str, str], str]]:
    """Fresh venv + `pip install .` per (cell, scenario), as a user would by hand."""
    tools = toolchain.detect()
    outcomes = {}
    started = time.monotonic()
    for version in pyo3:
        release = Release(Version(version), vers=version)
        lock = locks.resolve(layout, release, tools)  # same dependency versions as the harness
        for interp in pythons:
            for folder in folders:
                scenario = scenarios.load(folder)
                crate = work / f"naive-{scenario.name}-{version}-{interp.python_label}"
                for name, text in template.render_crate(scenario, release.version, version).files:
                    write_if_changed(crate / name, text)
                write_if_changed(crate / "Cargo.lock", lock.lock_text)
                venv = crate / "venv"
                subprocess.run([str(interp.executable), "-m", "venv", str(venv)], check=True)
                pip = subprocess.run(
                    [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(crate)],
                    env=procs.clean_env(),
                    capture_output=True,
                    text=True,
                )
                if pip.returncode != 0:
                    outcomes[(scenario.name, version, interp.python_label)] = "build-error"
                    continue
                done = procs.run(
                    [str(venv / "bin" / "python"), str(scenario.driver)],
                    cwd=crate,
                    env=runner.driver_env(),
                    timeout=scenario.timeout,
                )
                outcomes[(scenario.name, version, interp.python_label)] = classify_run(
                    done
                ).outcome.value
    return time.monotonic() - started, outcomes


def harness(argv: list[str]) -> float:
    started = time.monotonic()
    status = matrix_cli.main(argv)
    if status != 0:
        raise SystemExit(f"the matrix exited with {status}")
    return time.monotonic() - started


def tree_bytes(folder: Path) -> int:
    """What a cache folder holds on disk, in bytes (files only, symlinks not followed)."""
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def real_project(
    spec: str, pyo3: str, pythons: list[interpreters.Interpreter], work: Path
) -> dict[str, object]:
    """(h) A real project's sdist from PyPI over `pyo3` x `pythons`, cold, both ways."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--no-binary",
            ":all:",
            spec,
            "-d",
            str(work / "sdist"),
        ],
        check=True,
    )
    (archive,) = (work / "sdist").glob("*.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(work / "sdist", filter="data")
    (project,) = (p for p in (work / "sdist").iterdir() if p.is_dir())
    name = spec.split("==")[0]
    (project / "bench_repro.py").write_text(f"import {name}\nprint({name}.__name__)\n")
    figures: dict[str, object] = {"h_project": spec, "h_pyo3": pyo3}
    found = {}
    for way, extra in (("unshared", ["--isolated-builds"]), ("shared", [])):
        cache, results = work / f"cache-h-{way}", work / f"results-h-{way}"
        stamp(f"(h) {spec} over {pyo3} x {len(pythons)} CPython(s), cold, {way}")
        figures[f"h_{way}_s"] = round(
            harness(
                [
                    "--crate",
                    str(project),
                    "--run",
                    "python bench_repro.py",
                    "--pyo3",
                    pyo3,
                    "--newest-patch",
                    "--python",
                    ",".join(str(i.executable) for i in pythons),
                    "--cache",
                    str(cache),
                    "--results",
                    str(results),
                    *extra,
                ]
            ),
            1,
        )
        figures[f"h_cache_{way}_bytes"] = tree_bytes(cache)
        found[way] = outcomes_in(results, cache)
    figures["h_cells"] = len(found["shared"])
    figures["h_outcomes"] = {"/".join(k): v for k, v in sorted(found["shared"].items())}
    figures["h_same_outcomes"] = found["shared"] == found["unshared"]
    figures["ratio_h_shared_over_unshared"] = round(
        figures["h_shared_s"] / figures["h_unshared_s"],
        3,  # type: ignore[operator]
    )
    return figures


def outcomes_in(results: Path, cache: Path) -> dict[tuple[str, str, str], str]:
    found = {}
    for record in records.all_records(Layout(cache, results)):
        found[(record.scenario, record.pyo3, record.python_label)] = record.outcome.value
    return found


def builds_in(
    results: Path, cache: Path, scenario: str | None = None, skip: frozenset[str] = frozenset()
) -> list[BuildInfo]:
    """The build part of every record (of one scenario), leaving out records in `skip`."""
    return [
        record.build
        for record in records.all_records(Layout(cache, results))
        if record.build is not None
        and record.key not in skip
        and (scenario is None or record.scenario == scenario)
    ]


def record_keys(results: Path, cache: Path) -> frozenset[str]:
    return frozenset(record.key for record in records.all_records(Layout(cache, results)))


def commit_level(source: Path, python: interpreters.Interpreter, work: Path) -> dict[str, object]:
    """(g) The founding bisect down to the pull request on PyO3's own history: cold, then warm."""
    repo = source
    if source.name.endswith(".tar.gz"):
        with tarfile.open(source) as tar:
            tar.extractall(work / "git", filter="data")
        repo = work / "git" / "pyo3.git"
    argv = [
        "--pyo3",
        "0.20.3..0.21.0",
        "--python",
        str(python.executable),
        "--pyo3-git",
        str(repo),
        "--cache",
        str(work / "cache-g"),
        "--results",
        str(work / "results-g"),
    ]
    figures: dict[str, object] = {}
    for name in ("g_commits_cold_s", "g_commits_warm_s"):
        started = time.monotonic()
        bisect_cli.main(argv)
        figures[name] = round(time.monotonic() - started, 2)
    report = json.loads(next((work / "results-g").glob("bisect-*-commits.json")).read_text())
    level = report["searches"][0]["commit_level"]
    figures["g_commits_in_window"] = level["commits"]
    figures["g_commit_probes"] = len(level["probes"])
    figures["g_commit_bound"] = level["bound"]
    figures["g_first_new"] = level["first_new"]
    figures["g_pulls"] = [p["number"] for p in level["pulls"]]
    return figures


def ecosystem(
    projects: Path, baseline: str, candidates: list[str], python: str, work: Path
) -> dict[str, object]:
    """(j) The ecosystem run: cold, warm, then a second candidate against the same baseline
    (its baseline cells come from the first run's records)."""
    cache, results = work / "cache-j", work / "results-j"
    common = ["--projects", str(projects), *(["--baseline", baseline] if baseline else [])]
    common += ["--cache", str(cache), "--results", str(results)]
    common += ["--python", python] if python else []
    figures: dict[str, object] = {
        "j_baseline": baseline or "each project's own lock",
        "j_candidates": candidates,
    }
    first, second = candidates
    for name, candidate in (
        ("j_cold_s", first),
        ("j_warm_s", first),
        ("j_second_candidate_s", second),
    ):
        stamp(f"(j) ecosystem {projects.name}: {candidate} against {baseline} ({name})")
        started = time.monotonic()
        ecosystem_cli.main(["--candidate", candidate, *common])
        figures[name] = round(time.monotonic() - started, 2)
        report = json.loads((results / "ecosystem.json").read_text())
        rows = report["projects"]
        figures[f"{name[:-2]}_verdicts"] = {row["name"]: row["verdict"] for row in rows}
        if name == "j_cold_s":
            figures["j_projects"] = len(rows)
            figures["j_verdicts"] = figures.pop("j_cold_verdicts")
            figures["j_shares_s"] = project_shares(results, cache)
            # The first candidate's report, as the README shows it.
            shutil.copy(results / "ecosystem.md", REPO / "benchmarks" / "ecosystem-latest.md")
    figures["j_same_verdicts_warm"] = figures.pop("j_warm_verdicts") == figures["j_verdicts"]
    figures["ratio_j_warm_over_cold"] = round(figures["j_warm_s"] / figures["j_cold_s"], 4)  # type: ignore[operator]
    figures["ratio_j_second_over_cold"] = round(
        figures["j_second_candidate_s"] / figures["j_cold_s"],  # type: ignore[operator]
        3,
    )
    return figures


def ecosystem_figures(args: argparse.Namespace, work: Path) -> dict[str, object]:
    candidates = args.eco_candidates.split(",")
    return ecosystem(args.projects, args.eco_baseline, candidates, args.eco_python, work)


def project_shares(results: Path, cache: Path) -> dict[str, float]:
    """Seconds each project's cells took to build and run (its share of a cold run)."""
    shares: dict[str, float] = {}
    for record in records.all_records(Layout(cache, results)):
        took = (record.build.duration if record.build else 0.0) + sum(
            run.duration for run in record.runs
        )
        shares[record.scenario] = round(shares.get(record.scenario, 0.0) + took, 1)
    return dict(sorted(shares.items(), key=lambda item: -item[1]))


def toolchain_bisect(
    python: interpreters.Interpreter, work: Path, rust: str, pyo3: str
) -> dict[str, object]:
    """(i) The bisect over toolchains against a matrix over every one of them (what finding
    the first failing rustc by hand amounts to), both cold; installing is not timed."""
    from pyo3_triage import toolchains

    names = toolchains.parse(rust)
    stamp(f"(i) installing the {len(names)} toolchains of {rust} first (not timed)")
    rustup = toolchains.Rustup.on_path(work / "rustup.lock", work / "rustup-logs", stamp)
    for name in names:
        assert not isinstance(rustup.ensure(name), str), name
    scenario = str(REPO / "scenarios" / "deny_warnings_non_local_impl")
    common = ["--scenario", scenario, "--pyo3", pyo3, "--python", str(python.executable)]
    common += ["--rust", rust]
    stamp(f"(i) naive: every toolchain of {rust} built (a matrix, fresh cache)")
    started = time.monotonic()
    matrix_cli.main(
        [*common, "--cache", str(work / "cache-i-all"), "--results", str(work / "i-all")]
    )
    every = time.monotonic() - started
    found = {
        r.rust: r.outcome.value
        for r in records.all_records(Layout(work / "cache-i-all", work / "i-all"))
    }
    stamp(f"(i) harness: the toolchain bisect over {rust} (fresh cache)")
    started = time.monotonic()
    bisect_cli.main(
        [
            *common,
            "--new",
            "build-error",
            "--cache",
            str(work / "cache-i"),
            "--results",
            str(work / "i"),
        ]
    )
    bisected = time.monotonic() - started
    search = json.loads(next((work / "i").glob("bisect-*.json")).read_text())["searches"][0]
    first_failing = next((n for n in names if found.get(n) == "build-error"), None)
    return {
        "i_toolchains": len(names),
        "i_every_toolchain_s": round(every, 2),
        "i_bisect_s": round(bisected, 2),
        "i_bisect_builds": search["builds"],
        "i_answer": search["answer"],
        "i_first_failing_by_matrix": first_failing,
        "i_same_answer": search["first_new"] == first_failing,
        "ratio_i_bisect_over_every": round(bisected / every, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenarios", default=DEFAULT_SCENARIOS)
    parser.add_argument("--pyo3", default=DEFAULT_PYO3)
    parser.add_argument("--python", default=DEFAULT_PYTHON)
    parser.add_argument("--bisect", default=DEFAULT_BISECT, help="PyO3 range for (f)")
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument(
        "--pyo3-git",
        type=Path,
        default=FIXTURE if FIXTURE.is_file() else None,
        help="a PyO3 git repository (or the .git.tar.gz fixture) for (g)",
    )
    parser.add_argument(
        "--real", default="blake3==1.0.11", help="(h): a maturin project on PyPI, NAME==VERSION"
    )
    parser.add_argument(
        "--real-pyo3", default="0.26..0.30", help="(h): its releases (newest patch)"
    )
    parser.add_argument("--skip-real", action="store_true", help="leave out (h)")
    parser.add_argument("--rust", default="1.70..1.95", help="(i): the toolchains")
    parser.add_argument("--skip-toolchains", action="store_true", help="leave out (i)")
    parser.add_argument("--projects", type=Path, default=STARTER, help="(j): the list")
    parser.add_argument(
        "--eco-baseline", default="", help="(j): the baseline (default: each project's own lock)"
    )
    parser.add_argument(
        "--eco-candidates",
        default="0.30.1,0.29.2",
        help="(j): the candidate, then the second candidate against the same baseline",
    )
    parser.add_argument("--eco-python", default="", help="(j): the CPython (default: chosen)")
    parser.add_argument("--skip-ecosystem", action="store_true", help="leave out (j)")
    parser.add_argument("--only", choices=["toolchains", "ecosystem"], help="run (i) or (j) alone")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "latest.json")
    args = parser.parse_args()
    SUPERVISOR.harden()

    work = Path(tempfile.mkdtemp(prefix="pyo3-triage-bench-"))
    folders = copy_scenarios(args.scenarios.split(","), work / "scenarios")
    pythons = interpreters.select_interpreters(args.python, interpreters.discover())
    if args.only is not None:
        if args.only == "toolchains":
            found = toolchain_bisect(pythons[0], work, args.rust, "0.20.3")
        else:
            found = ecosystem_figures(args, work)
        for name, value in found.items():
            print(f"{name:28} {value}")
        last = json.loads(args.out.read_text()) if args.out.is_file() else {}
        args.out.write_text(json.dumps({**last, **found}, indent=2) + "\n")
        return 0 if found.get("i_same_answer", found.get("j_same_verdicts_warm")) else 1
    pyo3 = args.pyo3.split(",")
    cache = work / "cache"
    common = [
        "--pyo3",
        args.pyo3,
        "--python",
        ",".join(str(i.executable) for i in pythons),
        "--scenario",
        ",".join(str(f) for f in folders),
        "--cache",
        str(cache),
    ]
    cells = len(folders) * len(pyo3) * len(pythons)
    figures: dict[str, object] = {
        "date": datetime.date.today().isoformat(),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, {platform.platform()}",
        "cells": cells,
        "scenarios": args.scenarios,
        "pyo3": args.pyo3,
        "python": [str(i.version) for i in pythons],
    }

    naive_outcomes = None
    if not args.skip_naive:
        stamp(f"(a) naive: {cells} fresh venvs + pip install .")
        naive_layout = Layout(work / "naive-cache", work / "naive-results")
        naive_layout.ensure()
        # Resolve the locks first so (a) is timed on building, like (b).
        for version in pyo3:
            locks.resolve(naive_layout, Release(Version(version), vers=version), toolchain.detect())
        figures["a_naive_s"], naive_outcomes = naive(folders, pyo3, pythons, naive_layout, work)

    stamp("(b) harness, cold cache, --isolated-builds")
    isolated = work / "results-b-unshared"
    unshared_cache = work / "cache-b-unshared"
    figures["b_unshared_s"] = harness(
        [*common[:-1], str(unshared_cache), "--results", str(isolated), "--isolated-builds"]
    )
    figures["b_cache_unshared_bytes"] = tree_bytes(unshared_cache)
    stamp("(b) harness, cold cache")
    first = work / "results-b"
    figures["b_cold_s"] = figures["b_shared_s"] = harness([*common, "--results", str(first)])
    figures["b_cache_shared_bytes"] = tree_bytes(cache)
    cold = outcomes_in(first, cache)
    unshared_outcomes = outcomes_in(isolated, unshared_cache)
    builds_b = builds_in(first, cache)
    figures["b_builds"] = sum(1 for b in builds_b if not b.cached)
    figures["b_pyo3_compiles"] = sum(1 for b in builds_b if b.compiled_pyo3)

    stamp("(c) harness again, nothing changed")
    figures["c_warm_s"] = harness([*common, "--results", str(first)])

    stamp("(d) one driver edited")
    driver = scenarios.load(folders[0]).driver
    driver.write_text(driver.read_text() + "\n# edited for the benchmark\n")
    before = record_keys(first, cache)
    figures["d_driver_edit_s"] = harness([*common, "--results", str(first)])
    edited = builds_in(first, cache, folders[0].name, skip=before)
    figures["d_new_records"] = len(edited)
    figures["d_builds"] = sum(1 for b in edited if not b.cached)

    stamp("(e) one scenario's Rust edited")
    rust = folders[1] / "lib.rs"
    rust.write_text(rust.read_text() + "\n// edited for the benchmark\n")
    before = record_keys(first, cache)
    figures["e_rust_edit_s"] = harness([*common, "--results", str(first)])
    figures["e_new_records"] = len(builds_in(first, cache, skip=before))
    rebuilt = [b for b in builds_in(first, cache, folders[1].name, skip=before) if not b.cached]
    figures["e_builds"] = len(rebuilt)
    figures["e_pyo3_recompiled"] = sum(1 for b in rebuilt if b.compiled_pyo3)
    figures["e_cargo_said"] = sorted(
        {
            line.strip()
            for b in rebuilt
            for line in Path(b.log).read_text().splitlines()
            if line.strip().startswith("Compiling")
        }
    )
    after = outcomes_in(first, cache)

    stamp(f"(f) bisect over {args.bisect} (fresh cache)")
    bisect_results = work / "results-f"
    started = time.monotonic()
    bisect_cli.main(
        [
            "--pyo3",
            args.bisect,
            "--python",
            str(pythons[0].executable),
            "--cache",
            str(work / "cache-f"),
            "--results",
            str(bisect_results),
        ]
    )
    figures["f_bisect_s"] = time.monotonic() - started
    report = json.loads(next(bisect_results.glob("bisect-*.json")).read_text())
    search = report["searches"][0]
    primary = len(search["candidates"]) - len(search["yanked"])
    figures["f_candidates"] = len(search["candidates"])
    figures["f_non_yanked"] = primary
    figures["f_builds"] = search["builds"]
    figures["f_bound"] = math.ceil(math.log2(primary)) + 2
    figures["f_answer"] = search["answer"]

    if args.pyo3_git is not None:
        stamp("(g) commit-level bisect (--pyo3-git), cold then warm")
        figures.update(commit_level(args.pyo3_git, pythons[0], work))

    if not args.skip_real:
        figures.update(real_project(args.real, args.real_pyo3, pythons, work))

    if not args.skip_toolchains:
        figures.update(toolchain_bisect(pythons[0], work, args.rust, "0.20.3"))

    if not args.skip_ecosystem:
        figures.update(ecosystem_figures(args, work))

    same = cold == after == unshared_outcomes and figures.get("h_same_outcomes", True) is True
    same = same and figures.get("i_same_answer", True) is True
    same = same and figures.get("j_same_verdicts_warm", True) is True
    figures["ratio_b_shared_over_unshared"] = round(
        figures["b_shared_s"] / figures["b_unshared_s"],
        3,  # type: ignore[operator]
    )
    if naive_outcomes is not None:
        same = same and naive_outcomes == cold
        figures["ratio_b_over_a"] = round(figures["b_cold_s"] / figures["a_naive_s"], 3)  # type: ignore[operator]
    figures["ratio_c_over_b"] = round(figures["c_warm_s"] / figures["b_cold_s"], 4)  # type: ignore[operator]
    figures["same_outcomes_on_every_path"] = same
    figures["outcomes"] = {"/".join(k): v for k, v in sorted(cold.items())}
    for name, value in figures.items():
        if name not in ("outcomes", "h_outcomes"):
            print(f"{name:28} {value}")
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"written to {args.out}")
    shutil.rmtree(work, ignore_errors=True)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
