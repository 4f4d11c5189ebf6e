"""PyO3 #5665: a simple enum returned from Rust is the same object as the class attribute.

Before 0.28.0 every conversion of `Color::Red` built a fresh Python object, so
`first_color() is Color.Red` was False (and `==` depended on the default `__richcmp__`).
From 0.28.0 (yanked; 0.28.2 is the first unyanked 0.28) conversions return one singleton per
variant.
"""

import enum_return_identity as ext

value = ext.first_color()
print(f"first_color() is Color.Red: {value is ext.Color.Red}")
assert value is ext.Color.Red, "the returned variant is a different object from Color.Red"
