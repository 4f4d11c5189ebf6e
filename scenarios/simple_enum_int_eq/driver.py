"""PyO3 #4730: simple enums stop comparing equal to integers from 0.24.0.

Through 0.23.x a `#[pyclass]` C-like enum got a default `__richcmp__` that compared its
discriminant with ints (`Level.Low == 0` is True; deprecated in 0.22 in favour of
`#[pyclass(eq, eq_int)]`). 0.24.0 removed that fallback: without options, `==` is identity.
"""

import simple_enum_int_eq as ext

equal = ext.Level.Low == 0
print(f"Level.Low == 0 -> {equal}")
assert ext.Level.Low == ext.Level.Low
assert equal is False, "Level.Low still compares equal to the integer 0"
