"""PyO3 #3901: a crate with `#![deny(warnings)]` stops compiling on a newer rustc.

Rust's `non_local_definitions` lint fires on the `impl` blocks PyO3's macros put inside
functions and constants; denied warnings make that a compile error in the user's crate.
When it builds, the extension works: the outcome is decided at compile time.
"""

import deny_warnings_non_local_impl as ext

assert ext.add(2, 3) == 5
counter = ext.Counter()
assert (counter.incr(), counter.incr()) == (1, 2)
print("built and ran: add(2, 3) == 5, Counter counts")
