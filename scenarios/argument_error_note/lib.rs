/// Takes an integer; the driver passes a string to make argument extraction fail.
#[pyfunction]
fn double(value: i32) -> i64 {
    i64::from(value) * 2
}
