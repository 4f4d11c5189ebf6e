use pyo3::{PyTraverseError, PyVisit};
use std::sync::atomic::{AtomicUsize, Ordering};

static BASE_DROPS: AtomicUsize = AtomicUsize::new(0);

/// Holds one Python object and reports it to the garbage collector.
#[pyclass(subclass)]
struct Base {
    held: Option<Py<PyAny>>,
}

#[pymethods]
impl Base {
    #[new]
    fn new() -> Self {
        Base { held: None }
    }

    fn hold(&mut self, obj: Py<PyAny>) {
        self.held = Some(obj);
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        if let Some(obj) = &self.held {
            visit.call(obj)?;
        }
        Ok(())
    }

    fn __clear__(&mut self) {
        self.held = None;
    }
}

impl Drop for Base {
    fn drop(&mut self) {
        BASE_DROPS.fetch_add(1, Ordering::SeqCst);
    }
}

/// A subclass with its own (empty) `__traverse__`, which replaces the base's `tp_traverse`.
#[pyclass(extends = Base)]
struct Sub {}

#[pymethods]
impl Sub {
    #[new]
    fn new() -> PyClassInitializer<Self> {
        PyClassInitializer::from(Base { held: None }).add_subclass(Sub {})
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        Ok(())
    }
}

#[pyfunction]
fn base_drops() -> usize {
    BASE_DROPS.load(Ordering::SeqCst)
}
