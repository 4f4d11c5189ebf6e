/// A GC-aware class with both the `__clear__` slot and an ordinary `clear` method.
#[pyclass]
struct Cache {
    items: Vec<i64>,
}

#[pymethods]
impl Cache {
    #[new]
    fn new() -> Self {
        Cache { items: vec![1, 2, 3] }
    }

    fn __traverse__(&self, visit: pyo3::PyVisit<'_>) -> Result<(), pyo3::PyTraverseError> {
        Ok(())
    }

    fn __clear__(&mut self) {
        self.items.clear();
    }

    fn clear(&mut self) {
        self.items.clear();
    }

    fn __len__(&self) -> usize {
        self.items.len()
    }
}
