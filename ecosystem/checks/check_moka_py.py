"""moka-py (mixed layout: py-src/moka_py wraps moka_py._moka_py): a cache hit and a miss."""

from moka_py import Moka

cache = Moka(100)
cache.set("a", 1)
assert cache.get("a") == 1 and cache.get("b", 0) == 0
