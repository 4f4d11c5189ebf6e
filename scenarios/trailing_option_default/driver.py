"""PyO3 #4729: a trailing `Option<T>` argument is required from 0.24.0.

Through 0.23.x PyO3 gave trailing `Option<T>` arguments an implicit default of None, so
`greet()` worked (deprecated since 0.22). 0.24.0 removed the implicit default: without a
`#[pyo3(signature = (name=None))]`, calling `greet()` raises TypeError.
"""

import trailing_option_default as ext

assert ext.greet("rust") == "hello rust"
try:
    result = ext.greet()
except TypeError as err:
    print(f"greet() -> TypeError({err})")
else:
    raise AssertionError(f"greet() was accepted without its argument and returned {result!r}")
