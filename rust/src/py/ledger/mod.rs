//! `gridledger._core` ledger bindings, one file per job: `codec` (encodings),
//! `keyring` (signing in batches), `chain` (the chain state that validates
//! whole blocks), `batch` (encoders and the block scan over many
//! transactions in one call); `args` converts their shared arguments.

mod args;
mod batch;
mod chain;
mod codec;
mod keyring;

use pyo3::prelude::*;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    keyring::register(m)?;
    batch::register(m)?;
    chain::register(m)?;
    codec::register(m)
}
