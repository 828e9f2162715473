//! `gridledger._core` ledger bindings, one file per job: `codec` (encodings),
//! `keyring` (signing in batches), `chain` (the chain state that validates
//! whole blocks); `args` converts their shared arguments.

mod args;
mod chain;
mod codec;
mod keyring;

use pyo3::prelude::*;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    keyring::register(m)?;
    chain::register(m)?;
    codec::register(m)
}
