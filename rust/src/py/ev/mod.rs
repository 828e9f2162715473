//! Bindings of `ev`: one round's choice.

mod choice;

use pyo3::prelude::*;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    choice::register(m)
}
