use std::sync::atomic::{AtomicUsize, Ordering};

static DROPS: AtomicUsize = AtomicUsize::new(0);

/// Pinned to the thread that made it; counts how often its Rust value is dropped.
#[pyclass(unsendable)]
struct Pinned {
    tag: u8,
}

#[pymethods]
impl Pinned {
    #[new]
    fn new() -> Self {
        Pinned { tag: 7 }
    }
}

impl Drop for Pinned {
    fn drop(&mut self) {
        DROPS.fetch_add(1, Ordering::SeqCst);
    }
}

#[pyfunction]
fn drops() -> usize {
    DROPS.load(Ordering::SeqCst)
}
