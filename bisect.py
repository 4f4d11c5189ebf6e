"""Find the PyO3 release (or CPython version, or Rust toolchain) where a reproducer's outcome
changes.

    python bisect.py --pyo3 0.19..0.21
    python bisect.py --pyo3 0.16..0.30 --python 3.8..3.13
    python bisect.py --pyo3 0.20.3 --python 3.8..3.13
    python bisect.py --pyo3 0.20.3 --rust 1.70..1.95 --new build-error

Thin on purpose: argument parsing and the search live in the `pyo3_triage` package.
"""

import os
import sys

if __name__ != "__main__":
    # Imported as a module, this file can only be standing in for the standard library's
    # `bisect`: `python -m pytest` (or mypy, nox, ...) from the checkout root puts the root
    # first on sys.path, and `random` imports `bisect`. Be that module, from its own source.
    import sysconfig

    _stdlib = os.path.join(sysconfig.get_path("stdlib"), "bisect.py")
    with open(_stdlib, encoding="utf-8") as _source:
        exec(compile(_source.read(), _stdlib, "exec"))
    del _source, _stdlib
else:
    # Python puts this script's folder first on sys.path, where this file would stand in for
    # the standard library's `bisect` (which `random` imports): move the folder to the end,
    # where it still finds the package in a checkout that was not installed.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != here] + [here]
    from pyo3_triage.commands.main import run

    sys.exit(run(["bisect", *sys.argv[1:]]))
