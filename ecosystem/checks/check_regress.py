"""regress: an ECMAScript regex finds a match and reports its range and group."""

import regress

m = regress.Regex(r"(\d+)-(\d+)").find("pages 12-345")
assert m is not None
span = m.range()
assert (span.start, span.stop) == (6, 12), span
group = m.group(2)
assert group is not None and "pages 12-345"[group] == "345", group
