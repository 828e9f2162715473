//! Bindings of `market`: the order book.

mod book;

use pyo3::prelude::*;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    book::register(m)
}
