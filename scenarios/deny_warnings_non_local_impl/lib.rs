#![deny(warnings)]
// A crate that treats every warning as an error, as many CI setups do. Nothing here warns;
// what PyO3's macros expand to may, depending on the rustc that compiles it.

#[pyclass]
struct Counter {
    n: u64,
}

#[pymethods]
impl Counter {
    #[new]
    fn new() -> Self {
        Counter { n: 0 }
    }

    fn incr(&mut self) -> u64 {
        self.n += 1;
        self.n
    }
}

#[pyfunction]
fn add(a: i64, b: i64) -> i64 {
    a + b
}
