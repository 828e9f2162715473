//! `gridledger._core` data functions: gunzip, the CSV body parser and the
//! resampler.

mod inflate;
mod series;
mod table;

use pyo3::prelude::*;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    inflate::register(m)?;
    table::register(m)?;
    series::register(m)
}
