"""Find the PyO3 release (or CPython version) where a reproducer's outcome changes.

    python bisect.py --pyo3 0.19..0.21
    python bisect.py --pyo3 0.16..0.30 --python 3.8..3.13
    python bisect.py --pyo3 0.20.3 --python 3.8..3.13

Thin on purpose: argument parsing and the search live in the `pyo3_triage` package.
"""

import importlib.util
import os
import sys
import sysconfig

_HERE = os.path.dirname(os.path.abspath(__file__))

if __name__ != "__main__":
    # This file shares its name with the standard library's `bisect`, which `random`, pytest
    # and others import. Whenever this folder is on sys.path (`python -m pytest` run here,
    # say), they would get this file: hand them the standard library's module instead.
    _spec = importlib.util.spec_from_file_location(
        "bisect", os.path.join(sysconfig.get_path("stdlib"), "bisect.py")
    )
    assert _spec is not None and _spec.loader is not None
    _stdlib = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_stdlib)
    sys.modules[__name__] = _stdlib
    globals().update({k: v for k, v in vars(_stdlib).items() if not k.startswith("__")})
else:
    # Run as a script: take this folder off the front of sys.path so that the real `bisect`
    # is found, and add it at the end so the package is found even without installing it.
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE] + [_HERE]
    from pyo3_triage.bisect_cli import entry

    sys.exit(entry())
