"""rpds-py: a persistent map keeps the old version after an insert."""

import rpds

m = rpds.HashTrieMap({"a": 1})
m2 = m.insert("b", 2)
assert m2["a"] == 1 and m2["b"] == 2, dict(m2)
assert "b" not in m, dict(m)
