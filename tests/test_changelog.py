"""Reading PyO3's CHANGELOG offline: the sections a boundary spans and the likely suspects, on
an excerpt of the real file's shape, and finding the file where cargo unpacked the crate."""

from __future__ import annotations

from pathlib import Path

from pyo3_triage.versions import changelog

EXCERPT = """# Changelog

## [Unreleased]

- Something not released yet.

## [0.21.0] - 2024-03-25

### Changed

- Calls to `__traverse__` become no-ops for unsendable pyclasses if on the wrong thread, thereby avoiding hard aborts at the cost of potential leakage. [#3689](https://github.com/PyO3/pyo3/pull/3689)
- Add `Bound<T>` and `Borrowed<T>` smart pointers as a new API for accessing Python objects. [#3686](https://github.com/PyO3/pyo3/pull/3686)

## [0.21.0-beta.0] - 2024-03-10

- A beta entry about `pyclass` traversal.

## [0.20.3] - 2024-02-23

- Fix a thing in 0.20.3.
"""


def test_sections_in_the_boundary_newest_first() -> None:
    chosen = changelog.between(EXCERPT, "0.20.3", "0.21.0")
    assert [s.version for s in chosen] == ["0.21.0", "0.21.0-beta.0"]
    assert changelog.between(EXCERPT, "0.21.0", "0.20.3") == []  # reversed: nothing
    assert changelog.between(EXCERPT, "x", "0.21.0") == []


def test_suspects_share_words_with_the_scenario() -> None:
    words = changelog.keywords(
        ["#[pyclass(unsendable)] struct Node; fn __traverse__ ...", "unsendable traversed"]
    )
    assert {"unsendable", "traverse"} <= words and "pyclass" not in words  # too common
    found = changelog.suspects(changelog.between(EXCERPT, "0.20.3", "0.21.0"), words)
    assert found[0][0] == "0.21.0" and "#3689" in found[0][1]
    assert all("Bound<T>" not in entry for _, entry in found)


def test_find_looks_where_cargo_unpacks_crates(tmp_path: Path) -> None:
    source = tmp_path / "registry" / "src" / "index.crates.io-abc" / "pyo3-0.21.0"
    source.mkdir(parents=True)
    (source / "CHANGELOG.md").write_text(EXCERPT)
    assert changelog.find("0.21.0", home=tmp_path) == source / "CHANGELOG.md"
    assert changelog.find("0.22.0", home=tmp_path) is None


def test_texts_reads_the_changelog_of_each_downloaded_release(tmp_path: Path) -> None:
    """Read at the edge, before rendering; a release cargo never downloaded is left out."""
    shipped = tmp_path / "registry" / "src" / "index.crates.io-x" / "pyo3-0.21.0" / "CHANGELOG.md"
    shipped.parent.mkdir(parents=True)
    shipped.write_text("## [0.21.0]\n- Fix traverse.\n")
    found = changelog.texts(["0.21.0", "0.22.0"], home=tmp_path)
    assert found == {"0.21.0": "## [0.21.0]\n- Fix traverse.\n"}
