/// A class without `#[new]`: Python code cannot instantiate it.
#[pyclass]
struct Sealed {
    value: u8,
}
