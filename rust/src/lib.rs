//! gridledger's Rust core. The pure modules (`hash`, `merkle`, `sig`,
//! `table`, `series`, `civil`, `ledger`) know
//! nothing of Python; `py/` wraps them for the `gridledger._core` extension.
#![deny(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod bidding;
pub mod civil;
pub mod draw;
pub mod error;
pub mod hash;
pub mod inflate;
pub mod ledger;
pub mod merkle;
pub mod series;
pub mod sig;
pub mod table;

#[cfg(feature = "python")]
mod py;

#[cfg(feature = "python")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Freed memory stays with mimalloc for 10 s before it goes back to the OS
/// (its default is 1 s): a caller that alternates our calls with a second or
/// more of other work (pandas, in the paired data benchmark) would otherwise
/// fault every page of our buffers in again on each call. An explicit
/// `MIMALLOC_PURGE_DELAY` in the environment wins.
#[cfg(feature = "python")]
fn keep_freed_memory() {
    // `mi_option_purge_delay` of mimalloc.h: the enum keeps its deprecated
    // slots, so the value is stable across versions.
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: mi_option_set only stores a value in mimalloc's option
        // table, and 15 is one of its options.
        #[allow(unsafe_code)]
        unsafe {
            libmimalloc_sys::mi_option_set(PURGE_DELAY, 10_000);
        }
    }
}

#[cfg(feature = "python")]
#[pyo3::pymodule]
fn _core(m: &pyo3::Bound<'_, pyo3::types::PyModule>) -> pyo3::PyResult<()> {
    keep_freed_memory();
    py::register(m)
}
