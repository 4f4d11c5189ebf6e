use pyo3::pyclass::IterNextOutput;

/// Counts down, then ends with a return value, as a generator's `return` does.
#[pyclass]
struct Countdown {
    left: u32,
}

#[pymethods]
impl Countdown {
    #[new]
    fn new(start: u32) -> Self {
        Countdown { left: start }
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(mut slf: PyRefMut<'_, Self>) -> IterNextOutput<u32, &'static str> {
        if slf.left == 0 {
            IterNextOutput::Return("liftoff")
        } else {
            slf.left -= 1;
            IterNextOutput::Yield(slf.left)
        }
    }
}
