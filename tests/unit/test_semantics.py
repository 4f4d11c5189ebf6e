"""A stored answer follows the code that derives it (`pyo3_triage/semantics.py`): the files that
decide records, builds and user-crate rewrites are pinned by fingerprint beside the version
their keys name, so changing one without raising the version fails here.

Re-pin after raising a version: `python tests/unit/test_semantics.py --pin`. A change that
cannot alter any answer (a pure refactor) keeps the version: `--pin --refactor`, and the commit
says why.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import pytest

from pyo3_triage import semantics
from pyo3_triage.semantics import Semantics

PINS = Path(__file__).resolve().parent.parent / "data" / "semantics.json"
PIN_COMMAND = "python tests/unit/test_semantics.py --pin"


def pinned() -> dict[str, dict[str, object]]:
    return dict(json.loads(PINS.read_text(encoding="utf-8")))


def stale(kind: Semantics, pins: dict[str, dict[str, object]]) -> str | None:
    """What is wrong with `kind`'s pins, in words that say what to do; None when they hold."""
    pin = pins.get(kind.name, {})
    now = kind.fingerprints()
    files = pin.get("files", {})
    assert isinstance(files, dict)
    changed = sorted(name for name in {*now, *files} if now.get(name) != files.get(name))
    constant = f"semantics.{kind.name.upper()}"
    if pin.get("version") == kind.version and changed:
        return (
            f"{kind.name} semantics: {', '.join(changed)} changed since version {kind.version} "
            f"was pinned: raise {constant}'s version in pyo3_triage/semantics.py (every "
            f"{kind.name} made before is then made again) and re-pin with `{PIN_COMMAND}`; a "
            f"change that cannot alter any answer (a pure refactor) is re-pinned with "
            f"`{PIN_COMMAND} --refactor`, saying so in the commit"
        )
    if pin.get("version") != kind.version:
        return (
            f"{kind.name} semantics: {constant} is version {kind.version}, the pins in "
            f"{PINS.name} are for version {pin.get('version')}: re-pin with `{PIN_COMMAND}`"
        )
    return None


@pytest.mark.parametrize("kind", semantics.ALL, ids=[kind.name for kind in semantics.ALL])
def test_what_decides_an_answer_moves_with_its_version(kind: Semantics) -> None:
    problem = stale(kind, pinned())
    assert problem is None, problem


def test_a_changed_classifier_without_a_new_version_fails(tmp_path: Path) -> None:
    """The check itself: a pinned file edited in code (not in words) asks for a bump, and a
    bump without new pins asks for them."""
    pins = pinned()
    kind = semantics.RECORD
    edited = dict(pins[kind.name])
    files = dict(edited["files"])  # type: ignore[call-overload]
    files["running/classify.py"] = "0" * 16
    problem = stale(kind, {kind.name: {**edited, "files": files}})
    assert problem is not None
    assert "running/classify.py changed since version" in problem
    assert "raise semantics.RECORD's version" in problem
    bumped = dataclasses.replace(kind, version=kind.version + 1)
    assert "re-pin with" in (stale(bumped, pins) or "")


def test_every_declared_source_exists() -> None:
    for kind in semantics.ALL:
        for source in kind.sources:
            assert (semantics.PACKAGE / source).is_file(), f"{kind.name}: {source} is gone"


CODE = '''"""A module."""

def judge(status: int) -> str:
    """Whether it passed."""
    # zero is a pass
    return "pass" if status == 0 else "error"
'''


@pytest.mark.parametrize(
    ("edit", "same"),
    [
        (lambda code: code.replace('"""Whether it passed."""', '"""Other words."""'), True),
        (lambda code: code.replace("# zero is a pass", "# another comment"), True),
        (lambda code: code.replace("status: int) -> str", "status)"), True),
        (
            lambda code: code.replace(
                'return "pass" if status == 0 else "error"',
                "return (\n        'pass'\n        if status == 0\n        else 'error'\n    )",
            ),
            True,
        ),
        (lambda code: code.replace("status == 0", "status != 0"), False),
        (lambda code: code.replace('"error"', '"crash"'), False),
        (lambda code: code.replace('"""A module."""', "import os"), False),
    ],
    ids=["docstring", "comment", "annotations", "format", "logic", "text", "import"],
)
def test_a_fingerprint_is_the_code_not_its_words(tmp_path: Path, edit, same: bool) -> None:
    before, after = tmp_path / "before.py", tmp_path / "after.py"
    before.write_text(CODE, encoding="utf-8")
    after.write_text(edit(CODE), encoding="utf-8")
    assert (semantics.fingerprint(before) == semantics.fingerprint(after)) is same


def pin(refactor: bool) -> int:
    """Writes the current fingerprints as the pins; refuses to re-pin changed files under an
    unchanged version unless `refactor` says no answer can change."""
    pins = pinned() if PINS.is_file() else {}
    problems = [problem for kind in semantics.ALL if (problem := stale(kind, pins))]
    unbumped = [p for p in problems if "changed since version" in p]
    if unbumped and not refactor:
        print("\n".join(unbumped), file=sys.stderr)
        return 1
    fresh = {
        kind.name: {"version": kind.version, "files": kind.fingerprints()} for kind in semantics.ALL
    }
    PINS.write_text(json.dumps(fresh, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"pinned {', '.join(f'{k.name} {k.version}' for k in semantics.ALL)} in {PINS}")
    return 0


if __name__ == "__main__":
    if "--pin" not in sys.argv[1:]:
        sys.exit(f"usage: {PIN_COMMAND} [--refactor]")
    sys.exit(pin(refactor="--refactor" in sys.argv[1:]))
