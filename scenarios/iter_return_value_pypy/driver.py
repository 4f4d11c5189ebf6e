"""PyO3 #3471: `IterNextOutput::Return(value)` ends the iteration with StopIteration(value).

Before PyO3 0.20.0 the value was lost on PyPy (CPython kept it): `yield from` gave None.
"""

import iter_return_value_pypy as ext


def delegate():
    result = yield from ext.Countdown(2)
    return result


steps = delegate()
assert [next(steps), next(steps)] == [1, 0]
try:
    next(steps)
except StopIteration as stop:
    assert stop.value == "liftoff", f"StopIteration.value is {stop.value!r}, not 'liftoff'"
else:
    raise AssertionError("the iterator did not stop")
print("the return value reached StopIteration.value")
