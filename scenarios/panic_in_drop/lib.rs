/// A pyclass whose Rust `Drop` panics, i.e. a panic inside `tp_dealloc`.
#[pyclass]
struct Fragile {
    tag: u8,
}

#[pymethods]
impl Fragile {
    #[new]
    fn new() -> Self {
        Fragile { tag: 1 }
    }
}

impl Drop for Fragile {
    fn drop(&mut self) {
        panic!("Fragile panicked while being dropped");
    }
}
