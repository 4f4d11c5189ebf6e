"""jiter (a Cargo workspace: bindings in crates/jiter-python, the parser a path dependency)."""

import jiter

assert jiter.from_json(b'{"a": [1, 2.5, "x", null, true]}') == {"a": [1, 2.5, "x", None, True]}
assert jiter.from_json(b'{"n": 12345678901234567890}')["n"] == 12345678901234567890
