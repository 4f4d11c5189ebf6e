"""rustbpe (pyo3-log companion): train a tiny BPE and round-trip a string."""

import rustbpe

tok = rustbpe.Tokenizer()
tok.train_from_iterator(iter(["hello hello hello world"] * 50), 260)
ids = tok.encode("hello world")
assert tok.decode(ids) == "hello world", ids
assert len(ids) < len("hello world"), ids
