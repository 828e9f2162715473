//! Bindings of `crypto`: hashing, Merkle trees, Ed25519.

mod hash;
mod merkle;
mod sig;

use pyo3::prelude::*;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    hash::register(m)?;
    merkle::register(m)?;
    sig::register(m)?;
    Ok(())
}
