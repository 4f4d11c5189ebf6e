"""PyO3 #3446 and #5525: what importing a #[pymodule] a second time gives.

The driver imports the module, removes it from `sys.modules` and imports it again.
- 0.16.x: a new module object (no guard yet).
- 0.17.0-0.19.x: the second import fails with ImportError ("PyO3 modules may only be
  initialized once per interpreter process").
- 0.20.0-0.27.x (#3446): the init function hands back the same module object (CPython 3.9+).
- 0.28.0 (yanked) and later (#5525): PEP 489 multi-phase init creates a new module object.
The driver passes only when the second import returns the very same module.
"""

import importlib
import sys

import module_reimport as package

# maturin may install the extension as `pkg/pkg.so` under a re-exporting `pkg/__init__.py`;
# re-import the extension module itself, under whatever name it was imported as.
first = getattr(package, package.__name__, package)
name = next(key for key, module in sys.modules.items() if module is first)
del sys.modules[name]
second = importlib.import_module(name)
print(f"re-imported {name}: same module object: {second is first}")
assert second.ping() == 1
assert second is first, "the second import built a new module object"
