"""The command-line layer: shared options, every entry point (matrix, bisect, merge, report,
verify, `pyo3-triage`), and turning options into scenarios, releases and interpreters.
"""
