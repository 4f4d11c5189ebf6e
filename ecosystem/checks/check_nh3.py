"""nh3 (its own abi3-py37 feature): the sanitizer drops a script and keeps safe markup."""

import nh3

assert nh3.clean("<script>alert(1)</script><b>hi</b>") == "<b>hi</b>"
assert nh3.clean('<a href="javascript:x()">a</a>') == '<a rel="noopener noreferrer">a</a>'
