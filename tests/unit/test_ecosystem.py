"""The ecosystem command's pure parts: the list and its one-line errors, verdicts, grouping,
the report, the merge of shards, the sdist cache (fetch faked: the unit tier has no network),
companions made to accept a commit, and the command's refusals before anything is built."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import urllib.error
from pathlib import Path

import pytest
from packaging.version import Version

from pyo3_triage.commands import main
from pyo3_triage.ecosystem import projects, report, rows, sources
from pyo3_triage.ecosystem.rows import Ecosystem, Row, SideResult
from pyo3_triage.ecosystem.verdicts import Side, Verdict, judge
from pyo3_triage.errors import EXIT_USAGE, UserError
from pyo3_triage.outcome import Outcome
from pyo3_triage.reproducers import accepting
from pyo3_triage.reproducers.companions import Choice, Companion, CrateVersion
from pyo3_triage.system.paths import Layout

GOOD = """
[[project]]
name = "rpds-py"
version = "0.18.1"
run = "python checks/rpds_py.py"
with = ["pytest"]
extra = "test"
timeout = 120
python = "3.11"

[[project]]
name = "local"
path = "here"
"""


def test_a_list_reads_with_paths_from_its_folder(tmp_path: Path) -> None:
    found = projects.parse(GOOD, tmp_path)
    assert [p.name for p in found] == ["rpds-py", "local"]
    first, second = found
    assert (first.version, first.with_, first.extra, first.timeout, first.python) == (
        "0.18.1",
        ("pytest",),
        "test",
        120.0,
        "3.11",
    )
    assert second.path == tmp_path / "here" and second.run == ""
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "rpds_py.py").write_text("")
    words = projects.run_words(first.run, tmp_path)
    assert words == ("python", str((tmp_path / "checks" / "rpds_py.py").resolve()))


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('[[project]]\nname = "a"\n', "exactly one of version, sdist or path; it has none"),
        ('[[project]]\nname = "a"\nversion = "1"\npath = "x"\n', "it has version and path"),
        ('[[project]]\nname = "a"\nversion = "1"\ncolour = 1\n', "unknown key(s) colour"),
        ('[[project]]\nname = "a"\nversion = "1"\ntimeout = -1\n', "timeout must be a positive"),
        ('[[project]]\nname = "a"\nversion = "1"\nwith = "pytest"\n', "with must be a list"),
        ('[[project]]\nname = "a"\nversion = "1"\nwith = ["py test!"]\n', "is not a requirement"),
        ('[[project]]\nversion = "1"\n', "has no name"),
        (
            '[[project]]\nname = "a"\nversion = "1"\n[[project]]\nname = "A"\npath = "y"\n',
            "repeats",
        ),
        ("[[project]\n", "is not valid TOML"),
        ("", "has no [[project]] table"),
        ('projects = 1\n[[project]]\nname = "a"\nversion = "1"\n', "unknown top-level key"),
        ('[[project]]\nname = "a"\nversion = "1"\nrun = "python \'x"\n', "cannot be split"),
        ('[[project]]\nname = "a"\nversion = "1"\nrust = "1.x"\n', "rust: "),
        ('[[project]]\nname = "a"\nversion = "1"\nrust = "1.80,1.81"\n', "rust names one"),
    ],
)
def test_a_malformed_list_is_one_line(tmp_path: Path, text: str, said: str) -> None:
    with pytest.raises(UserError) as caught:
        projects.parse(text, tmp_path, "list.toml")
    assert said in caught.value.message
    assert "\n" not in caught.value.message


def test_a_project_may_name_the_rust_toolchain_it_needs(tmp_path: Path) -> None:
    """A project whose sdist needs nightly (its rust-toolchain file, which cells do not follow)
    says so in the list: its two cells build with that toolchain."""
    (found,) = projects.parse(
        '[[project]]\nname = "a"\nversion = "1"\nrust = "nightly"\n', tmp_path
    )
    assert found.rust == "nightly"
    (plain,) = projects.parse('[[project]]\nname = "a"\nversion = "1"\n', tmp_path)
    assert plain.rust == ""


def side(outcome: Outcome, **extra: object) -> Side:
    return Side(outcome, **extra)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("base", "cand", "verdict"),
    [
        (side(Outcome.PASS), side(Outcome.PASS), Verdict.UNCHANGED),
        (side(Outcome.PASS), side(Outcome.BUILD_ERROR), Verdict.REGRESSED),
        (side(Outcome.PASS), side(Outcome.SEGFAULT), Verdict.REGRESSED),
        (side(Outcome.PASS), side(Outcome.IMPORT_ERROR), Verdict.REGRESSED),
        (side(Outcome.ERROR), side(Outcome.PASS), Verdict.FIXED),
        (side(Outcome.ERROR), side(Outcome.BUILD_ERROR), Verdict.STILL_FAILING),
        (side(Outcome.PASS), side(Outcome.PASS, flaky=True), Verdict.FLAKY),
        (side(Outcome.PASS), side(Outcome.PYO3_ERROR, note="pyo3-ffi"), Verdict.PYO3_ERROR),
        (side(Outcome.PASS), side(Outcome.INCOMPATIBLE, note="no numpy"), Verdict.BLOCKED),
        (side(Outcome.SETUP_ERROR, note="network"), side(Outcome.PASS), Verdict.SETUP_ERROR),
        (side(Outcome.PASS), side(Outcome.SETUP_ERROR, note="resolve"), Verdict.SETUP_ERROR),
        (side(Outcome.UNSUPPORTED), side(Outcome.PASS), Verdict.NOT_COMPARABLE),
        (side(Outcome.BUILD_ERROR), side(Outcome.PASS), Verdict.FIXED),
    ],
)
def test_verdicts(base: Side, cand: Side, verdict: Verdict) -> None:
    assert judge(base, cand).verdict is verdict


def test_a_companion_that_does_not_compile_blocks_and_is_named() -> None:
    cand = Side(
        Outcome.SETUP_ERROR,
        note="dependency `numpy` does not compile: error[E0412]: cannot find type",
        companions=(("numpy", "0.20.0"),),
    )
    found = judge(Side(Outcome.PASS), cand)
    assert found.verdict is Verdict.BLOCKED
    assert found.why == "numpy 0.20.0 does not compile against the candidate"
    # another dependency that fails is no companion's doing: not set up, retried next run
    other = Side(Outcome.SETUP_ERROR, note="dependency `libc` does not compile: x")
    assert judge(Side(Outcome.PASS), other).verdict is Verdict.SETUP_ERROR


def row(name: str, verdict: Verdict, message: str = "", **extra: object) -> Row:
    fields: dict[str, object] = dict(
        baseline=SideResult("0.20.3", "pass"),
        candidate=SideResult("0.21.2", "build-error", message),
        bisect=("--crate", f"/p/{name}", "--run", "python c.py", "--pyo3", "0.20.3..0.21.2"),
    )
    fields.update(extra)
    return Row(name, "1.0", verdict, **fields)  # type: ignore[arg-type]


E0599 = "error[E0599]: no method named `as_ref` found --> src/lib.rs:{}:5"


def sample() -> Ecosystem:
    return Ecosystem(
        candidate="0.21.2",
        baseline="0.20.3",
        rows=(
            row("a", Verdict.REGRESSED, E0599.format(10), suspects=(("0.21.0", "- as_ref gone"),)),
            row("b", Verdict.REGRESSED, E0599.format(99)),
            row("c", Verdict.UNCHANGED),
            row("d", Verdict.BLOCKED, why="numpy 0.20.0 does not compile against the candidate"),
            row("e", Verdict.NOT_TRIED, why="no sdist on PyPI", baseline=None, candidate=None),
        ),
        repo="/src/pyo3",
    )


def test_regressions_group_by_error_and_by_companion() -> None:
    found = rows.groups(sample())
    assert [g.projects for g in found] == [("a", "b"), ("d",)]
    first, second = found
    assert first.suspects == (("0.21.0", "- as_ref gone"),)
    assert first.release_bisect[0].startswith("pyo3-triage bisect --crate /p/a")
    assert first.commit_bisect[1].endswith("--pyo3-git /src/pyo3")
    assert second.cause == "numpy 0.20.0"


def test_the_report_leads_with_one_sentence() -> None:
    text = report.markdown(sample(), "pyo3-triage ecosystem --candidate 0.21.2")
    lines = text.splitlines()
    assert lines[2].startswith("2 of 5 projects regress on 0.21.2 against 0.20.3: a, b;")
    assert "1 blocked by a companion crate (d)" in lines[2]
    assert "1 not tried (e)" in lines[2]
    assert "| e | 1.0 | – | – | not tried: no sdist on PyPI | – |" in text
    assert "### 1. a, b" in text and "### 2. d" in text
    assert "Down to the pull request (commit level):" in text


def test_json_has_what_the_issue_promises_and_reads_back() -> None:
    found = sample()
    data = json.loads(found.to_json())
    first = data["projects"][0]
    assert (first["name"], first["verdict"]) == ("a", "regressed")
    assert (first["baseline"]["outcome"], first["candidate"]["outcome"]) == ("pass", "build-error")
    assert (first["baseline"]["pyo3"], first["candidate"]["pyo3"]) == ("0.20.3", "0.21.2")
    assert Ecosystem.from_json(found.to_json(), "x") == found


def test_merge_joins_shards_and_refuses_mixed_questions() -> None:
    whole = sample()
    one = Ecosystem("0.21.2", "0.20.3", whole.rows[:2], shards=("1/2",))
    two = Ecosystem("0.21.2", "0.20.3", whole.rows[2:], shards=("2/2",), repo="/src/pyo3")
    merged = rows.merge([("one", one), ("two", two)])
    assert [r.name for r in merged.rows] == ["a", "b", "c", "d", "e"]
    assert merged.shards == ("1/2", "2/2") and merged.repo == "/src/pyo3"
    other = Ecosystem("git:abc1234", "0.20.3", whole.rows[2:])
    with pytest.raises(UserError, match="asks about candidate git:abc1234, one about 0.21.2"):
        rows.merge([("one", one), ("two", other)])
    with pytest.raises(UserError, match="about baseline"):
        rows.merge([("one", one), ("two", Ecosystem("0.21.2", "0.19.0", ()))])


def test_the_merge_command_refuses_mixed_candidates(tmp_path: Path) -> None:
    for name, candidate in (("s1", "0.21.2"), ("s2", "0.22.0")):
        (tmp_path / name).mkdir()
        found = Ecosystem(candidate, "0.20.3", (row(name, Verdict.UNCHANGED),))
        (tmp_path / name / "ecosystem.json").write_text(found.to_json())
    argv = ["merge", str(tmp_path / "s1"), str(tmp_path / "s2"), "--results", str(tmp_path / "r")]
    assert main.run(argv) == EXIT_USAGE
    assert not (tmp_path / "r" / "ecosystem.md").exists()


def test_the_merge_command_writes_one_report(tmp_path: Path) -> None:
    whole = sample()
    for number, part in enumerate((whole.rows[:2], whole.rows[2:]), 1):
        (tmp_path / f"s{number}").mkdir()
        found = Ecosystem("0.21.2", "0.20.3", part, shards=(f"{number}/2",))
        (tmp_path / f"s{number}" / "ecosystem.json").write_text(found.to_json())
    argv = ["merge", str(tmp_path / "s1"), str(tmp_path / "s2"), "--results", str(tmp_path / "r")]
    assert main.run(argv) == 0
    text = (tmp_path / "r" / "ecosystem.md").read_text()
    assert "2 of 5 projects regress" in text and "Merged from shards 1/2, 2/2." in text


def _tarball(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def test_an_sdist_is_downloaded_once_checked_and_unpacked(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "cache", tmp_path / "results")
    blob = _tarball({"demo-1.0/pyproject.toml": b"[project]\nname='demo'\n"})
    answer = {
        "releases": {"0.9": []},
        "urls": [
            {"packagetype": "bdist_wheel", "filename": "x.whl", "url": "w", "digests": {}},
            {
                "packagetype": "sdist",
                "filename": "demo-1.0.tar.gz",
                "url": "https://files/demo-1.0.tar.gz",
                "digests": {"sha256": hashlib.sha256(blob).hexdigest()},
            },
        ],
    }
    answer["releases"] = {"0.9": [], "1.0": answer["urls"]}
    asked: list[str] = []

    def fetch(url: str) -> bytes:
        asked.append(url)
        return json.dumps(answer).encode() if url.endswith("/json") else blob

    path = sources.download(layout, "demo", "1.0", fetch)
    assert path.read_bytes() == blob and len(asked) == 2
    assert sources.download(layout, "demo", "1.0", fetch) == path and len(asked) == 2
    folder = sources.unpack(layout, path)
    assert folder.name == "demo-1.0" and (folder / "pyproject.toml").is_file()


def test_sdist_troubles_are_rows_with_reasons(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "cache", tmp_path / "results")

    def no_sdist(url: str) -> bytes:
        return json.dumps({"urls": [{"packagetype": "bdist_wheel"}]}).encode()

    with pytest.raises(sources.SourceError, match="no sdist on PyPI") as caught:
        sources.download(layout, "demo", "1.0", no_sdist)
    assert not caught.value.transient

    def other_versions(url: str) -> bytes:
        return json.dumps({"releases": {"0.1": []}}).encode()

    with pytest.raises(sources.SourceError, match="demo has no version 1.0 on PyPI"):
        sources.download(layout, "demo", "1.0", other_versions)

    def missing(url: str) -> bytes:
        raise urllib.error.HTTPError(url, 404, "Not Found", {}, None)  # type: ignore[arg-type]

    with pytest.raises(sources.SourceError, match="demo is not on PyPI"):
        sources.download(layout, "demo", "9.9", missing)

    def tampered(url: str) -> bytes:
        if url.endswith("/json"):
            sdist = {"packagetype": "sdist", "filename": "d.tar.gz", "url": "u"}
            return json.dumps({"urls": [{**sdist, "digests": {"sha256": "0" * 64}}]}).encode()
        return b"something else"

    with pytest.raises(sources.SourceError, match="does not match the sha256") as caught:
        sources.download(layout, "demo", "2.0", tampered)
    assert caught.value.transient


def test_an_sdist_cannot_write_outside_its_folder(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "cache", tmp_path / "results")
    archive = tmp_path / "evil.tar.gz"
    archive.write_bytes(_tarball({"../escaped.txt": b"x"}))
    with pytest.raises(sources.SourceError, match="cannot unpack"):
        sources.unpack(layout, archive)
    assert not (layout.cache / "sdists" / "unpacked" / "escaped.txt").exists()
    assert not list(tmp_path.rglob("escaped.txt"))


def _companion(vers: str, requirement: str) -> Companion:
    needs = (("pyo3", requirement, False, ()),)
    return Companion(
        "numpy",
        "numpy",
        (),
        (CrateVersion(vers, Version(vers), False, needs),),
    )


def test_a_dev_tree_is_accepted_by_no_published_requirement(tmp_path: Path) -> None:
    (tmp_path / "Cargo.toml").write_text('[package]\nname = "pyo3"\nversion = "0.21.0-dev"\n')
    chosen = Choice((("numpy", "0.20.0"),))
    assert accepting.to_patch([_companion("0.20.0", "^0.20")], chosen, tmp_path) == [
        ("numpy", "0.20.0")
    ]
    (tmp_path / "Cargo.toml").write_text('[package]\nname = "pyo3"\nversion = "0.20.0"\n')
    assert accepting.to_patch([_companion("0.20.0", "^0.20")], chosen, tmp_path) == []
    assert not accepting.cargo_accepts("^0.21", "0.21.0-dev")
    assert accepting.cargo_accepts("^0.21", "0.21.2")


def test_vendoring_points_the_companion_at_the_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pyo3_triage.reproducers import manifests

    home = tmp_path / "cargo"
    registry = home / "registry" / "src" / "index.crates.io-x" / "numpy-0.20.0"
    registry.mkdir(parents=True)
    (registry / "Cargo.toml").write_text(
        '[package]\nname = "numpy"\nversion = "0.20.0"\n\n[dependencies.pyo3]\nversion = "0.20"\n'
        'default-features = false\nfeatures = ["macros"]\n\n[dev-dependencies]\npyo3 = "0.20"\n'
    )
    monkeypatch.setenv("CARGO_HOME", str(home))
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "Cargo.toml").write_text('[package]\nname = "pyo3"\nversion = "0.21.0-dev"\n')
    project_dir = tmp_path / "copy"
    (project_dir / "src").mkdir(parents=True)
    (project_dir / "src" / "lib.rs").write_text("")
    (project_dir / "pyproject.toml").write_text('[build-system]\nbuild-backend = "maturin"\n')
    (project_dir / "Cargo.toml").write_text(
        '[package]\nname = "p"\nversion = "0.1.0"\n[lib]\ncrate-type = ["cdylib"]\n'
        '[dependencies]\npyo3 = "0.20"\nnumpy = "0.20"\n\n[workspace]\n'
    )
    project = manifests.find(project_dir)
    accepting.vendor(project_dir, project, [("numpy", "0.20.0")], tree)
    text = (project_dir / "Cargo.toml").read_text()
    assert 'numpy = {path = ".triage-companions/numpy-0.20.0"}' in text
    assert '.triage-companions"' in text  # left out of the workspace
    vendored = (project_dir / ".triage-companions" / "numpy-0.20.0" / "Cargo.toml").read_text()
    assert f'path = "{tree}"' in vendored and 'version = "0.20"' not in vendored
    assert "features" in vendored and "dev-dependencies" not in vendored


def test_a_malformed_list_stops_the_command_before_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "list.toml"
    bad.write_text('[[project]]\nname = "a"\n')
    cache = tmp_path / "cache"
    argv = ["ecosystem", "--projects", str(bad), "--candidate", "0.21.2", "--cache", str(cache)]
    assert main.run(argv) == EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "needs exactly one of version, sdist or path" in err
    assert not cache.exists() and not (tmp_path / "results").exists()


def test_a_candidate_folder_that_is_no_git_repository_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "list.toml"
    good.write_text('[[project]]\nname = "a"\npath = "a"\n')
    plain = tmp_path / "pyo3"
    plain.mkdir()
    argv = ["ecosystem", "--projects", str(good), "--candidate", str(plain)]
    argv += ["--cache", str(tmp_path / "cache"), "--results", str(tmp_path / "r")]
    assert main.run(argv) == EXIT_USAGE
    assert "is a folder but not a git repository" in capsys.readouterr().err


def test_shards_slice_the_list() -> None:
    listed = projects.parse(
        "\n".join(f'[[project]]\nname = "p{i}"\nversion = "1"\n' for i in range(5)), Path(".")
    )
    from pyo3_triage.ecosystem.run import slice_of

    parts = [slice_of(listed, k, 2) for k in (1, 2)]
    assert [p.name for part in parts for p in part] == [f"p{i}" for i in range(5)]
    assert [len(p) for p in parts] == [2, 3]


def test_two_projects_asking_for_the_same_removed_feature_are_one_cause() -> None:
    """Real: nh3 and rbloom both ask PyO3 0.30.1 for `abi3-py37`; the message names each
    project, the cause does not."""

    def asking(name: str) -> Row:
        said = f"cannot resolve pyo3 0.30.1: `{name}` asks pyo3 for feature `abi3-py37`, which it does not have"
        cand = SideResult("0.30.1", "build-error", said)
        return Row(name, "1", Verdict.REGRESSED, candidate=cand)

    assert rows.cause_of(asking("nh3")) == rows.cause_of(asking("rbloom"))


def test_the_ecosystem_keeps_the_cache_under_its_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--cache-limit` is honoured as by the matrix: after the run, least recently used areas
    nobody is using are evicted (here the run builds nothing: its one project is no maturin
    project, a row that says so)."""
    import os

    from pyo3_triage.versions import crates_index
    from pyo3_triage.versions.releases import Release, ReleaseIndex

    versions = ("0.20.3", "0.21.2")
    index = ReleaseIndex("pyo3", tuple(Release(Version(v), vers=v) for v in versions), 0.0, False)
    monkeypatch.setattr(crates_index, "load_index", lambda *args, **kwargs: index)
    (tmp_path / "not-maturin").mkdir()
    listed = tmp_path / "list.toml"
    listed.write_text('[[project]]\nname = "plain"\npath = "not-maturin"\n')
    cache, results = tmp_path / "cache", tmp_path / "results"
    layout = Layout(cache=cache, results=results)
    layout.ensure()
    old = layout.cache_areas()["targets"] / "0.20.3-old"
    old.mkdir(parents=True)
    (old / "blob").write_bytes(b"x" * 400_000)
    os.utime(old, (1000, 1000))
    argv = ["ecosystem", "--projects", str(listed), "--candidate", "0.21.2"]
    argv += ["--baseline", "0.20.3", "--cache", str(cache), "--results", str(results)]
    assert main.run([*argv, "--cache-limit", "10G"]) == 0 and old.is_dir()
    assert "not tried" in (results / "ecosystem.md").read_text()
    assert main.run([*argv, "--cache-limit", "100K"]) == 0
    assert not old.exists()
