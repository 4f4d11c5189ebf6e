"""PyO3 versions: releases from the crates.io index and the `--pyo3` grammar, commits of a PyO3
repository, pull requests, CHANGELOG sections, and each release's declared CPython window.
"""
