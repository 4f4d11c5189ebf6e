/// A C-like enum with no comparison options: whatever `==` does is PyO3's default.
#[pyclass]
enum Level {
    Low,
    High,
}
