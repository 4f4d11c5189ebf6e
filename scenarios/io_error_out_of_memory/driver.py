"""PyO3 #5256: `io::ErrorKind::OutOfMemory` becomes MemoryError from 0.26.0.

`From<io::Error> for PyErr` maps error kinds to OSError subclasses. Before 0.26.0 an
`OutOfMemory` kind fell through to plain OSError; from 0.26.0 it is MemoryError (and a
MemoryError converts back to `OutOfMemory`). `except MemoryError` therefore misses it before.
"""

import io_error_out_of_memory as ext

try:
    ext.allocate()
except Exception as err:  # noqa: BLE001 - the type is what the driver reports
    caught = err
else:
    raise AssertionError("allocate() did not raise")
print(f"allocate() -> {type(caught).__name__}({caught})")
assert isinstance(caught, MemoryError), f"expected MemoryError, got {type(caught).__name__}"
