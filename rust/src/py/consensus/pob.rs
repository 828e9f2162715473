//! `gridledger._core` proof of benefit: the round-by-round schedule (SPEC §6).
//! Block validation is `PobParent` (`pob_parent.rs`).

use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::consensus::pob::{simulate, Params, Pool, Window};
use crate::ev::choice::Scheduler;
use crate::py::buffers::slice;

/// Run competing miners round by round; each uses a scheduler ("none",
/// "greedy", "optimal"; comma-separated for several), and the block of
/// highest λ wins each round (ties: the first miner).
///
/// The pool (`published` rounds relative to the first, ascending, and
/// `grid_wh` Θ terms in Wh) is executed over `len(base_wh)` rounds; the PF
/// window starts from `theta_prev` and earlier `slopes` (Wh per round).
/// Returns (executed round per transaction or −1, Θ per round, λ per
/// round, winning miner per round, rounds not proven optimal).
#[pyfunction]
#[pyo3(signature = (scheduler, published, grid_wh, base_wh, theta_prev, slopes, cap_wh, max_defer, window, round_minutes))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn ev_simulate<'py>(
    py: Python<'py>,
    scheduler: &str,
    published: PyReadonlyArray1<'py, i64>,
    grid_wh: PyReadonlyArray1<'py, i64>,
    base_wh: PyReadonlyArray1<'py, i64>,
    theta_prev: i64,
    slopes: PyReadonlyArray1<'py, i64>,
    cap_wh: i64,
    max_defer: i64,
    window: usize,
    round_minutes: i64,
) -> PyResult<(
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<u64>>,
    Bound<'py, PyArray1<u32>>,
    usize,
)> {
    let s = scheduler
        .split(',')
        .map(|x| Scheduler::parse(x.trim()))
        .collect::<Result<Vec<_>, _>>()?;
    let pool = Pool {
        published: slice("published", &published)?,
        grid_wh: slice("grid_wh", &grid_wh)?,
    };
    let base = slice("base_wh", &base_wh)?;
    let sl = slice("slopes", &slopes)?;
    let p = Params {
        cap_wh,
        max_defer,
        window,
        round_minutes,
    };
    let run = py.detach(|| simulate(&s, &pool, base, Window::new(theta_prev, sl, window), &p))?;
    Ok((
        PyArray1::from_vec(py, run.executed_round),
        PyArray1::from_vec(py, run.theta_wh),
        PyArray1::from_vec(py, run.lambda),
        PyArray1::from_vec(py, run.winner),
        run.unproven,
    ))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(ev_simulate, m)?)?;
    Ok(())
}
