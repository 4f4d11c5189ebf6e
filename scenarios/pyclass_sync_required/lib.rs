use std::cell::Cell;

/// A counter keeping its state in a `Cell`: `Send` but not `Sync`.
#[pyclass]
struct Counter {
    count: Cell<u64>,
}

#[pymethods]
impl Counter {
    #[new]
    fn new() -> Self {
        Counter { count: Cell::new(0) }
    }

    fn increment(&self) -> u64 {
        self.count.set(self.count.get() + 1);
        self.count.get()
    }
}
