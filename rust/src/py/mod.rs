//! PyO3 wrappers: argument checks, GIL release, numpy in and out. One folder
//! per domain, as the pure modules; `buffers` is the one place that turns
//! numpy arrays into slices, `errors` the one mapping of `CoreError`.

mod alloc;
mod buffers;
mod consensus;
mod crypto;
mod data;
mod errors;
mod ev;
mod grid;
mod ledger;
mod market;

use pyo3::prelude::*;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    alloc::keep_freed_memory();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    consensus::register(m)?;
    crypto::register(m)?;
    data::register(m)?;
    ev::register(m)?;
    grid::register(m)?;
    ledger::register(m)?;
    market::register(m)?;
    Ok(())
}
