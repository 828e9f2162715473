//! `gridledger._core` EV scheduling: one round's choice (SPEC §6).

use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::ev::choice::{choose, Scheduler};
use crate::py::buffers::slice;

/// Choose which optional transactions execute this round.
///
/// `weights` are their Θ terms (Wh, int64, oldest first); the choice
/// minimises |k·Σ − b| with Σ in [lo, hi] (see `gridledger.ev.schedule`).
/// Returns (execute flags, Σ, proven optimal).
#[pyfunction]
#[pyo3(signature = (scheduler, weights, k, b, lo, hi))]
fn ev_choose<'py>(
    py: Python<'py>,
    scheduler: &str,
    weights: PyReadonlyArray1<'py, i64>,
    k: i64,
    b: i128,
    lo: i64,
    hi: i64,
) -> PyResult<(Bound<'py, PyArray1<bool>>, i64, bool)> {
    let s = Scheduler::parse(scheduler)?;
    let w = slice("weights", &weights)?;
    let c = py.detach(|| choose(s, w, k, b, lo, hi))?;
    Ok((PyArray1::from_vec(py, c.execute), c.sum, c.proven))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(ev_choose, m)?)?;
    Ok(())
}
