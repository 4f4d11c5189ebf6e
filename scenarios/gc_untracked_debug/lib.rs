use pyo3::{PyTraverseError, PyVisit};

/// Takes part in the GC (it has `__traverse__`), so CPython tracks it; may point at another
/// `Node` to form a cycle.
#[pyclass]
struct Node {
    other: Option<Py<Node>>,
}

#[pymethods]
impl Node {
    #[new]
    fn new() -> Self {
        Node { other: None }
    }

    fn link(&mut self, other: Py<Node>) {
        self.other = Some(other);
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        if let Some(other) = &self.other {
            visit.call(other)?;
        }
        Ok(())
    }

    fn __clear__(&mut self) {
        self.other = None;
    }
}
