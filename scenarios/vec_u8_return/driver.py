"""PyO3 #4442: a `#[pyfunction]` returning `Vec<u8>` gives `bytes`, no longer a `list` of ints.

Through 0.22.x the value goes through `IntoPy` and arrives as `[1, 2, 3, 255]`; from 0.23.0
(yanked; 0.23.3 is the first unyanked 0.23) return values use `IntoPyObject`, which turns
`Vec<u8>` into `b'\\x01\\x02\\x03\\xff'`. Code doing `value.decode()` or `value + [0]` breaks.
"""

import vec_u8_return as ext

value = ext.payload()
print(f"payload() -> {type(value).__name__}: {value!r}")
assert isinstance(value, bytes), f"Vec<u8> came back as {type(value).__name__}, not bytes"
assert value == b"\x01\x02\x03\xff"
