/// A C-like enum. The scenario that returns it first does not add it to the module, so the
/// first conversion to Python is also what creates its type object.
#[pyclass]
enum Color {
    Red,
    Green,
}

#[pyfunction]
fn first_color() -> Color {
    Color::Red
}
