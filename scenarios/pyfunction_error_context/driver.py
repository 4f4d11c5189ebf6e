"""PyO3 #3455: an `Err` returned inside an `except` block gets `__context__` from 0.20.0.

Python chains an exception raised while another is being handled (`__context__`). Before
0.20.0, on CPython 3.11 and older, PyO3 restored lazily built errors with `PyErr_Restore`,
which skips the chaining, so `__context__` was None. 0.20.0 raises them like Python does.
(On 3.12 the older releases already chained; they do not declare 3.12 support anyway.)
"""

import pyfunction_error_context as ext

try:
    try:
        raise KeyError("outer")
    except KeyError:
        ext.fail()
except ValueError as err:
    context = err.__context__
else:
    raise AssertionError("fail() did not raise")
print(f"__context__ = {context!r}")
assert isinstance(context, KeyError), "the Rust error was not chained to the handled KeyError"
