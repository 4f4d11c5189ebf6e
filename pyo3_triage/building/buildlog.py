"""Reading a build's log: what cargo compiled, the error worth showing, and whose failure
it is.

A build can fail because the reproducer's own code does not compile against the release (an
answer a user may ask for: "which release broke my build?"), because PyO3's own crates do not
compile for the cell (an answer too: "which release made PyO3 build on a debug 3.11 again?"),
or because the cell could not be set up: a dependency's build script refused the interpreter
(PyO3's version check), another dependency did not compile on this toolchain, maturin found no
interpreter, the network failed. Cargo names the crate it could not compile, so they are told
apart by that name.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from pyo3_triage.versions.releases import PYO3_CRATES

_COULD_NOT_COMPILE = re.compile(r"^error: could not compile `([^`]+)`", re.MULTILINE)
_BUILD_SCRIPT = re.compile(
    r"^error: failed to run custom build command for `([^`]+)`", re.MULTILINE
)
_SCRIPT_ERROR = re.compile(r"^\s+(?:error: )(.+)$", re.MULTILINE)

# Failures that say more about the machine at that moment than about the inputs: never cached.
_TRANSIENT = re.compile(
    r"failed to download|failed to get|spurious network|Couldn't resolve host|connection refused"
    r"|Couldn't find any python interpreters|No space left|timed out",
    re.IGNORECASE,
)


def compiled(log_text: str, packages: Collection[str]) -> bool:
    """cargo compiled (at least one of) `packages` in this build, as its log says."""
    return any(
        re.search(rf"^\s*Compiling {re.escape(name)} v", log_text, re.MULTILINE)
        for name in packages
    )


def own_code_failed(log_text: str, own: Collection[str]) -> bool:
    """True when cargo could not compile one of `own` (the reproducer's packages)."""
    return any(name in own for name in _COULD_NOT_COMPILE.findall(log_text))


def failed_dependency(log_text: str, own: Collection[str]) -> str | None:
    """The first crate cargo could not compile that is not the reproducer's own: a dependency
    (PyO3 itself, or one too new for an old toolchain), named in the setup error."""
    return next((name for name in _COULD_NOT_COMPILE.findall(log_text) if name not in own), None)


def failed_pyo3_crate(log_text: str, own: Collection[str]) -> str | None:
    """The first of PyO3's own crates (`PYO3_CRATES`, from crates.io or a commit's tree) that
    cargo could not compile, unless the reproducer's own code failed too (its error is then
    the answer)."""
    failed = _COULD_NOT_COMPILE.findall(log_text)
    if any(name in own for name in failed):
        return None
    return next((name for name in failed if name in PYO3_CRATES), None)


def not_compiled(crate: str, error: str) -> str:
    """The note of a build in which cargo could not compile `crate`, a dependency: whose it
    is (PyO3's own, or another's) and the compiler's first error."""
    whose = "PyO3's own crate" if crate in PYO3_CRATES else "dependency"
    return f"{whose} `{crate}` does not compile: {error}"


# maturin's warning after a build whose library lacks the module's init function (1.16 also
# names `PyModExport_...`): the wheel is made, but Python cannot import it.
_NO_INIT_SYMBOL = re.compile(r"Couldn't find the symbol `PyInit_[^`]*`.*$", re.MULTILINE)


def missing_init_symbol(log_text: str) -> str | None:
    """maturin's words when the library it packed has no `PyInit_<module>`: the module name it
    was given (`[tool.maturin] module-name`, else the library's name) is not the one the
    crate's `#[pymodule]` makes. A failed build of the project, never a wheel to install."""
    found = _NO_INIT_SYMBOL.search(log_text)
    return found.group(0).strip() if found else None


def first_error(log_text: str) -> str | None:
    """The compiler's first error line (with its `-->` location when there is one); for a
    build script that failed, which one and what it said."""
    script = _BUILD_SCRIPT.search(log_text)
    if script:
        said = _SCRIPT_ERROR.search(log_text, script.end())
        return f"build script of {script.group(1)} failed" + (f": {said.group(1)}" if said else "")
    lines = log_text.splitlines()
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("error") and not stripped.startswith("error: could not compile"):
            if stripped.endswith(":"):  # a list follows, e.g. the packages a rustc cannot build
                return f"{stripped} {_listed(lines[index + 1 :])}".strip()
            location = next(
                (n.strip() for n in lines[index + 1 : index + 3] if n.strip().startswith("-->")),
                "",
            )
            if not location and (cause := _innermost_cause(lines[index + 1 :])):
                return f"{stripped}: {cause}"  # cargo's "failed to parse manifest" says why below
            return f"{stripped} {location}".strip()
    for index, line in enumerate(lines):
        if "💥" in line or "maturin failed" in line:
            causes = [
                n.strip() for n in lines[index + 1 : index + 4] if n.strip().startswith("Caused by")
            ]
            return " ".join([line.strip(), *causes])
    return None


def _innermost_cause(lines: list[str]) -> str | None:
    """The first line of the last "Caused by:" block right under a cargo error (its reason:
    "this version of Cargo is older than the `2024` edition, ..."), or None."""
    cause = None
    for index, line in enumerate(lines):
        text = line.strip()
        if text == "Caused by:":
            cause = next((n.strip() for n in lines[index + 1 :] if n.strip()), None)
        elif text and not line.startswith((" ", "\t")):
            break  # the error's block ended (maturin's own lines, the next error)
    return cause


def _listed(lines: list[str], limit: int = 6) -> str:
    """The indented lines under an error that ends with a colon, each once, joined: "calamine@0.37.0
    requires rustc 1.88, zip@9.2.2 requires rustc 1.88" (cut after `limit`)."""
    items: list[str] = []
    for line in lines:
        if not line.startswith((" ", "\t")) or not line.strip():
            break
        if line.strip() not in items:
            items.append(line.strip())
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


_IMPLIED = re.compile(r"implied by `(#\[deny\(warnings\)\]|-D warnings)`")


def denied_lint(log_text: str) -> str | None:
    """When the first error is a warning the crate itself turns into an error, how: the
    crate's `#![deny(warnings)]` or `-D warnings` (rustc says so in a note). A deprecation
    in a new release then fails the build without any API having gone."""
    match = _IMPLIED.search(log_text)
    if match is None:
        return None
    return "#![deny(warnings)]" if match.group(1).startswith("#") else "-D warnings"


def worth_caching(ok: bool, error: str | None, timed_out: bool) -> bool:
    """A success, or a failure the same inputs would meet again (a compile error, PyO3's own
    version check); not a timeout, a network error or a vanished interpreter."""
    if ok:
        return True
    return not timed_out and error is not None and not _TRANSIENT.search(error)
