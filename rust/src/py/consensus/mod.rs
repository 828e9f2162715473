//! Bindings of `consensus`: the draw, the bidding game, proof of benefit.

mod draw;
mod pob;

use pyo3::prelude::*;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    draw::register(m)?;
    pob::register(m)?;
    Ok(())
}
