"""fastdigest: the t-digest median of 0..1000."""

from fastdigest import TDigest

d = TDigest.from_values(range(1001))
assert abs(d.median() - 500) < 1, d.median()
assert abs(d.quantile(0.9) - 900) < 2, d.quantile(0.9)
