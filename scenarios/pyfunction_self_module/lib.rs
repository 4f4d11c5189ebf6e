/// Any module-level function; only its `__self__` matters to the driver.
#[pyfunction]
fn answer() -> usize {
    42
}
