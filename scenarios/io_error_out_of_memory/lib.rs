use std::io;

/// Fails with a Rust I/O error of kind `OutOfMemory`, converted by PyO3's `From<io::Error>`.
#[pyfunction]
fn allocate() -> PyResult<()> {
    let err = io::Error::new(io::ErrorKind::OutOfMemory, "arena exhausted");
    Err(err.into())
}
