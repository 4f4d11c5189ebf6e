"""PyO3 #5349: argument extraction errors carry a note instead of a rewritten message (0.29.0).

Before 0.29.0 a failed conversion of argument `value` replaced the TypeError with a new one
whose message starts "argument 'value': ...". From 0.29.0 the original error is kept and
`PyErr.add_note` attaches "while processing 'value'" (visible in `__notes__`, Python 3.11+).
"""

import argument_error_note as ext

assert ext.double(21) == 42
try:
    ext.double("twenty-one")
except TypeError as err:
    message, notes = str(err), getattr(err, "__notes__", [])
else:
    raise AssertionError("double('twenty-one') was accepted")
print(f"message={message!r} notes={notes!r}")
assert any("value" in note for note in notes), "no note names the failing argument"
