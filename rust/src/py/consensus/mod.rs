//! Bindings of `consensus`: the draw, the bidding game, proof of benefit
//! (`pob` runs competing miners; `pob_parent` validates blocks on a parent state).

mod draw;
mod pob;
mod pob_parent;

use pyo3::prelude::*;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    draw::register(m)?;
    pob::register(m)?;
    pob_parent::register(m)?;
    Ok(())
}
