"""PyO3 #2886: a panic in a pyclass's `Drop` goes to `sys.unraisablehook` from 0.18.1.

`tp_dealloc` returns nothing, so it cannot raise. Through 0.18.0 PyO3 turned the panic into
a PanicException and left it set as the current exception anyway, so unrelated later code
fails with "SystemError: ... returned a result with an exception set". 0.18.1 added
`PyErr::write_unraisable` (#2889) and reports errors from void slots such as dealloc there.
"""

import sys

import panic_in_drop as ext

reported = []
sys.unraisablehook = reported.append

obj = ext.Fragile()
del obj  # Drop panics here
text = "-".join(["after", "del"])  # unrelated C calls that must not see a stray exception
kinds = [type(r.exc_value).__name__ for r in reported]
print(f"{text}: unraisable={kinds}")
assert kinds == ["PanicException"], f"expected one PanicException reported, got {kinds}"
