"""PyO3 #5927/#5928: converting a simple enum hangs if that conversion creates its type object.

0.28.0 (yanked) made simple enums convert to per-variant singletons (#5665) held in a lazily
filled cell. When the enum class was never touched before (it is not added to the module
here), filling the cell creates the type object, whose class attributes are the variants,
which re-enter the same cell: the process hangs forever. 0.28.3 initialises the type first.
"""

import enum_into_pyobject_deadlock as ext

value = ext.first_color()
print(f"first_color() -> {value!r}")
assert repr(value) == "Color.Red", repr(value)
