use pyo3::exceptions::PyValueError;

/// Fails with a lazily created ValueError.
#[pyfunction]
fn fail() -> PyResult<()> {
    Err(PyValueError::new_err("raised from Rust"))
}
