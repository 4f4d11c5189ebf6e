"""Find the PyO3 release (or CPython version) where a reproducer's outcome changes.

    python bisect.py --pyo3 0.19..0.21
    python bisect.py --pyo3 0.16..0.30 --python 3.8..3.13
    python bisect.py --pyo3 0.20.3 --python 3.8..3.13

Thin on purpose: argument parsing and the search live in the `pyo3_triage` package.
"""

import os
import sys

# This file is named like the standard library's `bisect`, which `random` and others import:
# take its folder off the front of sys.path so they get the real one, then add it at the end
# so the package is found even without installing it.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE] + [_HERE]

from pyo3_triage.bisect_cli import entry  # noqa: E402

if __name__ == "__main__":
    sys.exit(entry())
