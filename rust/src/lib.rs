//! gridledger's Rust core. The pure modules (`hash`, `merkle`, `sig`,
//! `table`, `series`, `civil`, `ledger`) know
//! nothing of Python; `py/` wraps them for the `gridledger._core` extension.
#![deny(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod bidding;
pub mod book;
pub mod civil;
pub mod decompress;
pub mod draw;
pub mod error;
pub mod ev;
pub mod hash;
pub mod inflate;
mod ladder;
pub mod lanes;
pub mod ledger;
pub mod merkle;
pub mod pob;
pub mod series;
pub mod sig;
pub mod table;

#[cfg(feature = "python")]
mod py;

#[cfg(feature = "python")]
#[pyo3::pymodule]
fn _core(m: &pyo3::Bound<'_, pyo3::types::PyModule>) -> pyo3::PyResult<()> {
    py::register(m)
}
