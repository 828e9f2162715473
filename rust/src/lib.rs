//! gridledger's Rust core: one folder per domain, named as the packages of
//! `python/gridledger/`. Everything outside `py/` is pure Rust, knows nothing
//! of Python, and is what `cargo test --no-default-features` and the criterion
//! benches build; `py/` wraps it for the `gridledger._core` extension.
//!
//! ```text
//! error.rs     CoreError: every failure, naming the field and the value
//! crypto/      hash (BLAKE3 / SHA-256 batches), merkle (RFC 6962), sig (Ed25519
//!              batches); simd/ decompress (many-lane point decompression) and
//!              lanes (many-lane BLAKE3 draw values), each with its fallback
//! data/        inflate (gunzip), table (+ table/scan: the CSV body), civil
//!              (calendar), series (resampling)
//! ev/          choice: one round's exact EV schedule
//! grid/        sweep: batched backward/forward-sweep power flow of a radial
//!              feeder (complex: the arithmetic it needs)
//! market/      book (price-time priority, integer ticks) and its level ladder
//! consensus/   draw (auction keys, win probabilities), bidding, pob
//! ledger/      codec, tx, block, genesis, auction, state + rules
//! py/          the PyO3 wrappers, one folder per domain as above, plus
//!              buffers (numpy <-> slices), errors (CoreError -> PyErr), alloc
//! ```
//!
//! Layers: a module uses only modules on an earlier line, never a later one,
//! so the graph has no cycle, between the folders or between the files
//! (`python3 scripts/rust_modules.py` checks both; `scripts/lint.sh` runs it):
//!
//! ```text
//! error
//! crypto, data, ev, grid, market
//! consensus   (crypto, ev)
//! ledger      (crypto, consensus)
//! py          (everything)
//! ```
#![deny(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod consensus;
pub mod crypto;
pub mod data;
pub mod error;
pub mod ev;
pub mod grid;
pub mod ledger;
pub mod market;

#[cfg(feature = "python")]
mod py;

#[cfg(feature = "python")]
#[pyo3::pymodule]
fn _core(m: &pyo3::Bound<'_, pyo3::types::PyModule>) -> pyo3::PyResult<()> {
    py::register(m)
}
