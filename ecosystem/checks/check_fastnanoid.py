"""fastnanoid (mixed layout: python/fastnanoid wraps fastnanoid.fastnanoid)."""

import fastnanoid

a = fastnanoid.generate(size=21)
assert len(a) == 21 and a != fastnanoid.generate(size=21), a
assert set(fastnanoid.generate(alphabet="ab", size=50)) <= {"a", "b"}
