"""url-py: parse a URL and resolve a relative one against it."""

from url import URL

u = URL.parse("https://example.com/a/b?x=1")
assert u.scheme == "https" and u.host_str == "example.com", (u.scheme, u.host_str)
assert u.join("c").path == "/a/c", u.join("c").path
