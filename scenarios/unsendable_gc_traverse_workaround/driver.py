"""The workaround from the founding report: collect on the owning thread first.

The cycle is freed by the main thread, so the collector thread finds nothing to traverse.
This must pass wherever the extension builds.
"""

import gc
import threading

import unsendable_gc_traverse as ext

gc.disable()
a, b = ext.Node(), ext.Node()
a.link(b)
b.link(a)
del a, b

gc.collect()  # the workaround: the owning thread frees the cycle
collector = threading.Thread(target=gc.collect)
collector.start()
collector.join()
print("no crash")
