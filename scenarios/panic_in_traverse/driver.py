"""PyO3 #3168: a panic inside `__traverse__` aborts the process before 0.19.0.

`gc.collect()` traverses every tracked object, so the panicking handler runs. Before 0.19.0
PyO3's panic trap turns the unwinding panic into an abort (SIGABRT, nothing to catch). From
0.19.0 the panic is caught, the traversal reports failure (-1, which CPython's collector
ignores) and the program carries on.
"""

import gc

import panic_in_traverse as ext

keep = ext.Grumpy()
gc.collect()
print("survived a panicking __traverse__")
