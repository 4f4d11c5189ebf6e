"""PyO3 #3064: a GC-tracked pyclass must be untracked before it is freed.

Before PyO3 0.20.0 (PR #3404) the deallocator frees the object while the GC still tracks it.
A release build of CPython does not check; a debug build (Py_DEBUG) warns
"Object of type ... is not untracked before destruction" and, with cycles being collected
meanwhile, its GC assertions can abort the process.
"""

import gc
import warnings

import gc_untracked_debug as ext

warnings.simplefilter("error", ResourceWarning)
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always", ResourceWarning)
    for _ in range(2000):
        a, b = ext.Node(), ext.Node()
        a.link(b)
        b.link(a)
        del a, b
        plain = ext.Node()
        del plain  # freed at once, by its refcount
    gc.collect()
untracked = [w for w in seen if "not untracked before destruction" in str(w.message)]
assert not untracked, f"{len(untracked)} x {untracked[0].message}"
print("every Node was untracked before it was freed")
