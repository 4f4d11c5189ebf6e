"""PyO3 #3176: an unsendable pyclass freed on another thread is no longer dropped there.

Before 0.19.0 the last reference going away on a foreign thread ran the Rust `Drop` on that
thread, which `unsendable` is meant to forbid. From 0.19.0 PyO3 skips the drop (leaking the
value) and reports a RuntimeError through `sys.unraisablehook`.
"""

import sys
import threading

import unsendable_drop_other_thread as ext

reported = []
sys.unraisablehook = reported.append

box = [ext.Pinned()]
worker = threading.Thread(target=box.clear)  # the last reference dies on the worker
worker.start()
worker.join()

kinds = [type(r.exc_value).__name__ for r in reported]
print(f"drops={ext.drops()} unraisable={kinds}")
assert ext.drops() == 0, "Drop of an unsendable value ran on a foreign thread"
assert kinds == ["RuntimeError"], f"expected one RuntimeError reported, got {kinds}"
