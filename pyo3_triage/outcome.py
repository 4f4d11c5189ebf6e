"""What happened when a cell was built and its reproducer run.

An `Outcome` is evidence, not a verdict: the bisect search maps outcomes to old / new /
untestable separately, so an abort is never collapsed into a generic failure.
"""

from __future__ import annotations

import enum


class Outcome(str, enum.Enum):
    PASS = "pass"
    ABORT = "abort"  # killed by SIGABRT: a Rust panic that could not unwind, abort()
    SEGFAULT = "segfault"  # killed by SIGSEGV
    SIGNAL = "signal"  # killed by another signal; the record names it
    PANIC = "panic"  # a PanicException reached Python and ended the driver
    ERROR = "error"  # any other non-zero exit or uncaught exception
    TIMEOUT = "timeout"  # still running at the scenario's timeout; process group killed
    BUILD_ERROR = "build-error"  # the reproducer's own code did not compile for this cell
    PYO3_ERROR = "pyo3-error"  # PyO3's own crates (pyo3-ffi, ...) did not compile for this cell
    SETUP_ERROR = "setup-error"  # the cell could not be set up (resolve, toolchain, interpreter)
    UNSUPPORTED = "unsupported"  # outside the CPython (or Rust) window the release declares
    INCOMPATIBLE = "incompatible"  # no version of a companion crate accepts the release
    IMPORT_ERROR = "import-error"  # built, but importing the extension failed

    @property
    def crashed(self) -> bool:
        """The process died without Python getting a say (nothing a `try` can catch)."""
        return self in (Outcome.ABORT, Outcome.SEGFAULT, Outcome.SIGNAL)

    @property
    def testable(self) -> bool:
        """The reproducer actually ran, so the outcome says something about its behaviour.

        Outcomes that are not may still be asked for as verdicts (`--new build-error`: "which
        release broke my build?", `--old pyo3-error`: "which release made PyO3 build on this
        CPython again?"), except those in `NEVER_VERDICTS`."""
        return self not in (
            Outcome.BUILD_ERROR,
            Outcome.PYO3_ERROR,
            Outcome.SETUP_ERROR,
            Outcome.UNSUPPORTED,
            Outcome.INCOMPATIBLE,
            Outcome.IMPORT_ERROR,
        )


# Say nothing about the reproducer at all: not built (outside the window, no companion
# crate for the release) or not set up.
NEVER_VERDICTS = frozenset({Outcome.SETUP_ERROR, Outcome.UNSUPPORTED, Outcome.INCOMPATIBLE})

DESCRIPTIONS: dict[Outcome, str] = {
    Outcome.PASS: "the driver exited 0",
    Outcome.ABORT: "killed by SIGABRT (e.g. a Rust panic that could not unwind)",
    Outcome.SEGFAULT: "killed by SIGSEGV",
    Outcome.SIGNAL: "killed by another signal (named in the cell)",
    Outcome.PANIC: "a PanicException reached Python",
    Outcome.ERROR: "non-zero exit or an uncaught Python exception",
    Outcome.TIMEOUT: "still running at the timeout; its process group was killed",
    Outcome.BUILD_ERROR: "the reproducer's code does not compile against this release (and toolchain)",
    Outcome.PYO3_ERROR: "PyO3's own crates (pyo3-ffi, pyo3-macros-backend, ...) failed to compile; "
    "the crate and first error are named",
    Outcome.SETUP_ERROR: "the cell could not be set up (resolve, toolchain, interpreter); not a result",
    Outcome.UNSUPPORTED: "outside the CPython (or Rust) window this PyO3 release declares; "
    "not built",
    Outcome.INCOMPATIBLE: "no release of a crate the project depends on (named in the notes) accepts this PyO3 release; not built",
    Outcome.IMPORT_ERROR: "built, but importing the extension module failed",
}
