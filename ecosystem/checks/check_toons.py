"""toons (abi3-py310 through [tool.maturin] features): a TOON round trip."""

import toons

data = {"name": "x", "items": [{"id": 1, "ok": True}, {"id": 2, "ok": False}]}
assert toons.loads(toons.dumps(data)) == data, toons.dumps(data)
