"""PyO3 #4616: 0.22.4 generated the `__clear__` slot's wrapper under the same name as an
ordinary `clear` method, so a class with both stopped compiling (error[E0592]: duplicate
definitions with name `__pymethod_clear__`); 0.22.5 fixed it (#4619). Where it builds, both
the method and the GC slot work."""

import gc

import clear_method_collision as ext

cache = ext.Cache()
assert len(cache) == 3
cache.clear()
assert len(cache) == 0
cycle = [ext.Cache()]
cycle.append(cycle)
del cycle
gc.collect()
