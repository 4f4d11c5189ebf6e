use pyo3::{PyTraverseError, PyVisit};

/// A GC-tracked class whose `__traverse__` always panics.
#[pyclass]
struct Grumpy {
    held: Option<Py<PyAny>>,
}

#[pymethods]
impl Grumpy {
    #[new]
    fn new() -> Self {
        Grumpy { held: None }
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        panic!("Grumpy refuses to be traversed")
    }

    fn __clear__(&mut self) {
        self.held = None;
    }
}
