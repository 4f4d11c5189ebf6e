/// A trailing `Option<T>` argument without `#[pyo3(signature = ...)]`.
#[pyfunction]
fn greet(name: Option<String>) -> String {
    match name {
        Some(name) => format!("hello {}", name),
        None => "hello nobody".to_string(),
    }
}
