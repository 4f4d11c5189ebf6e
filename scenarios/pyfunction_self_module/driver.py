"""PyO3 #6428: `#[pyfunction]`s were marked `METH_STATIC` from 0.28.0, so `__self__` is None.

A builtin function added to a module normally has the module as `__self__` (as with
`len.__self__ is builtins`). PyO3 0.28.0 (yanked; 0.28.2 is the first unyanked 0.28) started
emitting `METH_STATIC` for plain functions, which CPython reports as `__self__ is None` (and
calls get slower on 3.11+); 0.30.0 (published as 0.30.1) put it back.
"""

import pyfunction_self_module as ext

# maturin may install the extension as `pkg/pkg.so` under a re-exporting `pkg/__init__.py`.
native = getattr(ext, ext.__name__, ext)
owner = ext.answer.__self__
print(f"answer.__self__ = {owner!r}")
assert ext.answer() == 42
assert owner is native, f"expected the extension module as __self__, got {owner!r}"
