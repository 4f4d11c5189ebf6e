"""PyO3 #4566: from 0.23.0 (yanked; 0.23.3 is the first unyanked 0.23) a `#[pyclass]` that is
not `unsendable` must be `Sync`, so a class keeping its state in a `Cell` stops compiling:
error[E0277]: `Cell<u64>` cannot be shared between threads safely. Up to 0.22.6 it builds and
this driver passes; the question "which release broke my build?" is asked with --new build-error.
"""

import pyclass_sync_required as ext

counter = ext.Counter()
assert counter.increment() == 1
assert counter.increment() == 2
