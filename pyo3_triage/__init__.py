"""Find which PyO3 release and which CPython version make a Rust extension crash."""

__version__ = "0.2.0"
