"""rtoml (mixed layout: the package rtoml/ wraps the compiled rtoml._rtoml)."""

import rtoml

doc = rtoml.loads('a = 1\n[b]\nc = "d"\nlist = [1.5, true]\n')
assert doc == {"a": 1, "b": {"c": "d", "list": [1.5, True]}}, doc
assert rtoml.loads(rtoml.dumps(doc)) == doc
