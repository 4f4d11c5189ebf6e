/// Returns raw bytes the plain Rust way; PyO3 decides which Python type they become.
#[pyfunction]
fn payload() -> Vec<u8> {
    vec![1, 2, 3, 255]
}
