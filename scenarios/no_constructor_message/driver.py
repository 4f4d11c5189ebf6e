"""PyO3 #4481: "No constructor defined" names the class from 0.22.3 (yanked).

Instantiating a `#[pyclass]` that has no `#[new]` raises TypeError. Through 0.22.2 the
message is just "No constructor defined"; 0.22.3 (yanked; 0.22.4 is the first unyanked 0.22)
made it "No constructor defined for Sealed".
"""

import no_constructor_message as ext

try:
    ext.Sealed()
except TypeError as err:
    message = str(err)
else:
    raise AssertionError("Sealed() was constructed although it has no #[new]")
print(f"Sealed() -> TypeError({message!r})")
assert "Sealed" in message, f"the message does not name the class: {message!r}"
