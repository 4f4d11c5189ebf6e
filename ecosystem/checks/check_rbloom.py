"""rbloom: a Bloom filter holds what was added."""

from rbloom import Bloom

b = Bloom(1_000, 0.01)
b.update(range(100))
assert all(i in b for i in range(100))
assert "absent" not in b or b.approx_items > 0
