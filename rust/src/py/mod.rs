//! PyO3 wrappers: argument checks, GIL release, numpy in and out.

mod alloc;
mod book;
mod buffers;
mod data;
mod draw;
mod errors;
mod ev;
mod hash;
mod ledger;
mod ledger_batch;
mod merkle;
mod pob;
mod pob_parent;
mod sig;

use pyo3::prelude::*;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    alloc::keep_freed_memory();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    book::register(m)?;
    data::register(m)?;
    draw::register(m)?;
    ev::register(m)?;
    hash::register(m)?;
    ledger::register(m)?;
    ledger_batch::register(m)?;
    merkle::register(m)?;
    pob::register(m)?;
    pob_parent::register(m)?;
    sig::register(m)?;
    Ok(())
}
