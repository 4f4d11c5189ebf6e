"""Building a cell's extension: the toolchain, the pinned Cargo.lock of each release, maturin, the
build log's verdict, and the venv the wheel is installed into.
"""
