"""hydraters: hydrate an item from a base."""

import hydraters

item = hydraters.hydrate({"a": 1, "b": {"c": 2}}, {"b": {"d": 3}})
assert item == {"a": 1, "b": {"c": 2, "d": 3}}, item
