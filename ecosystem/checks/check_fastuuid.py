"""fastuuid (#![deny(warnings)] in its lib.rs): a UUID round-trips through its string."""

import uuid

import fastuuid

text = "12345678-1234-5678-1234-567812345678"
u = fastuuid.UUID(text)
assert str(u) == text and u.int == uuid.UUID(text).int
assert fastuuid.uuid4().version == 4
