"""PyO3 #4563: a subclass's `__traverse__` did not call its base class's `__traverse__`.

`Sub` (extends `Base`) holds itself in the base's field. Before 0.22.4 the GC only ran Sub's
own traverse, never saw the reference kept in Base, and the cycle leaked forever. From 0.22.4
(0.22.0-0.22.3 are yanked) PyO3 also calls the base type's traverse, so the cycle is freed.
"""

import gc

import subclass_base_traverse as ext

gc.disable()
obj = ext.Sub()
obj.hold(obj)  # a cycle through the base class's field
del obj
for _ in range(5):
    gc.collect()
drops = ext.base_drops()
print(f"Base dropped {drops} time(s) after gc.collect()")
assert drops == 1, "the cycle through the base class was not collected (leaked)"
