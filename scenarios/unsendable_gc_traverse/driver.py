"""PyO3 #3688: the GC, run from another thread, traverses an unsendable pyclass.

Before PyO3 0.21.0 the thread check inside `tp_traverse` panics and the process aborts.
"""

import gc
import threading

import unsendable_gc_traverse as ext

gc.disable()  # keep the cycle alive until the collection we start ourselves
a, b = ext.Node(), ext.Node()
a.link(b)
b.link(a)
del a, b  # now only the cycle holds them

collector = threading.Thread(target=gc.collect)
collector.start()
collector.join()
print("collected on another thread without a crash")
