//! Bindings of `grid`: the batched power flow.

mod powerflow;

use pyo3::prelude::*;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    powerflow::register(m)
}
