"""Reading PyO3's CHANGELOG offline: the sections a boundary spans and the likely suspects, on
an excerpt of the real file's shape, and finding the file where cargo unpacked the crate."""

from __future__ import annotations

from pathlib import Path

import pytest

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
    assert {"unsendable", "traverse"} <= set(words) and "pyclass" not in words  # too common
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


# What PyO3's CHANGELOG says of the two compile-time boundaries real projects met (0.26.0's
# rename of `allow_threads`, 0.27.0's deprecation of `downcast`), among entries that share
# common words with the errors.
REAL = """## [0.27.0] - 2025-10-19

### Changed

- Deprecate `PyAnyMethods::downcast` and its kin in favour of `Bound::cast`. [#5472](https://github.com/PyO3/pyo3/pull/5472)
- Python types are now checked with a faster path in `extract`. [#5400](https://github.com/PyO3/pyo3/pull/5400)
- Update `hashbrown` optional dependency to allow 0.16. [#5501](https://github.com/PyO3/pyo3/pull/5501)
- `Bound::get_type` returns a `Bound<PyType>` for every Python object. [#5410](https://github.com/PyO3/pyo3/pull/5410)

## [0.26.0] - 2025-08-29

### Changed

- Rename `Python::allow_threads` to `Python::detach`. [#5221](https://github.com/PyO3/pyo3/pull/5221)
- Method of a Python object found faster when the type is known. [#5199](https://github.com/PyO3/pyo3/pull/5199)
- `Python::with_gil` is now `Python::attach` for a Python thread. [#5209](https://github.com/PyO3/pyo3/pull/5209)
- The `PYO3_BUILD_EXTENSION_MODULE` now causes the same effect as the `extension-module` feature. Eventually we expect maturin and setuptools-rust to set this environment variable automatically. Users with their own build systems will need to do the same. [#5343](https://github.com/PyO3/pyo3/pull/5343)

## [0.25.1] - 2025-06-12

- Fix a method of `PyString` on a found Python string. [#5150](https://github.com/PyO3/pyo3/pull/5150)
"""


@pytest.mark.parametrize(
    ("error", "old", "new", "pull"),
    [
        (
            "error[E0599]: no method named `detach` found for struct `Python<'py>` in the "
            "current scope --> src/lib.rs:41:12",
            "0.25.1",
            "0.26.0",
            "#5221",
        ),
        (
            "error: use of deprecated method `pyo3::types::PyAnyMethods::downcast`: use "
            "`Bound::cast` instead --> src/lib.rs:17:30",
            "0.26.0",
            "0.27.0",
            "#5472",
        ),
    ],
)
def test_the_compilers_identifiers_name_the_suspect(
    error: str, old: str, new: str, pull: str
) -> None:
    """The identifier the compiler quotes is rare in the CHANGELOG: its entry comes first, not
    one that merely shares `python`, `method` or `found`."""
    words = changelog.keywords([], [error])
    chosen = changelog.between(REAL, old, new)
    found = changelog.suspects(chosen, words, changelog.sections(REAL))
    assert pull in found[0][1], found


def test_a_large_crates_code_does_not_outvote_the_compilers_identifier() -> None:
    """blake3's Rust shares a dozen words with a long build-system entry; the error quotes
    `detach`, which only the rename entry has: the rename comes first."""
    code = (
        "// Build the extension module; users of their own build systems need the same "
        "feature. Eventually the environment variable is set automatically by maturin.\n"
        "fn update(py: Python<'_>) { py.detach(|| hash()) }"
    )
    error = "error[E0599]: no method named `detach` found for struct `pyo3::Python<'py>`"
    words = changelog.keywords([code], [error])
    found = changelog.suspects(
        changelog.between(REAL, "0.25.1", "0.26.0"), words, changelog.sections(REAL)
    )
    assert "#5221" in found[0][1], found
