//! `gridledger._core` proof of benefit: the round-by-round schedule and batch
//! validation of blocks (SPEC §6).

use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::consensus::pob::{evaluate, simulate, validate_chain, Params, Pool, Proposal, Window};
use crate::error::CoreError;
use crate::ev::choice::Scheduler;
use crate::py::buffers::slice;

/// CSR blocks: per block (round, base, indices, λ).
fn proposals<'a>(
    rounds: &'a [i64],
    base_wh: &'a [i64],
    offsets: &'a [i64],
    indices: &'a [i64],
    lambdas: &'a [u64],
) -> Result<Vec<Proposal<'a>>, CoreError> {
    let m = rounds.len();
    if base_wh.len() != m || lambdas.len() != m || offsets.len() != m + 1 {
        return Err(CoreError::invalid(
            "offsets",
            offsets.len(),
            "rounds, base_wh and lambdas need one entry per block, offsets one more",
        ));
    }
    let mut out = Vec::with_capacity(m);
    for k in 0..m {
        let (a, b) = (offsets.get(k).copied(), offsets.get(k + 1).copied());
        let ix = match (a, b) {
            (Some(a), Some(b)) if 0 <= a && a <= b => usize::try_from(a)
                .ok()
                .zip(usize::try_from(b).ok())
                .and_then(|(a, b)| indices.get(a..b)),
            _ => None,
        }
        .ok_or_else(|| {
            CoreError::invalid(format!("offsets[{k}]"), a.unwrap_or(-1), "out of range")
        })?;
        out.push(Proposal {
            round: rounds.get(k).copied().unwrap_or(0),
            base_wh: base_wh.get(k).copied().unwrap_or(0),
            indices: ix,
            lambda: lambdas.get(k).copied().unwrap_or(0),
        });
    }
    Ok(out)
}

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

/// The parent state both block calls start from: the pool, its executed
/// flags (one per transaction), the PF window and the parameters.
#[allow(clippy::too_many_arguments)]
fn parent<'a>(
    published: &'a PyReadonlyArray1<'_, i64>,
    grid_wh: &'a PyReadonlyArray1<'_, i64>,
    executed: &'a PyReadonlyArray1<'_, bool>,
    theta_prev: i64,
    slopes: &PyReadonlyArray1<'_, i64>,
    cap_wh: i64,
    max_defer: i64,
    window: usize,
    round_minutes: i64,
) -> Result<(Pool<'a>, &'a [bool], Window, Params), CoreError> {
    let pool = Pool {
        published: slice("published", published)?,
        grid_wh: slice("grid_wh", grid_wh)?,
    };
    let ex = slice("executed", executed)?;
    if ex.len() != pool.published.len() {
        return Err(CoreError::invalid(
            "executed",
            ex.len(),
            "one flag per pool transaction",
        ));
    }
    let win = Window::new(theta_prev, slice("slopes", slopes)?, window);
    let p = Params {
        cap_wh,
        max_defer,
        window,
        round_minutes,
    };
    Ok((pool, ex, win, p))
}

/// Validate consecutive blocks extending one parent state, all or nothing.
///
/// Blocks are CSR: `offsets` (m + 1) into `indices` (pool indices), with
/// `rounds`, `base_wh` and claimed `lambdas` per block. Raises the typed
/// error of the first broken rule, naming `blocks[k]…`; returns (λ, Θ).
#[pyfunction]
#[pyo3(signature = (published, grid_wh, executed, theta_prev, slopes, cap_wh, max_defer, window, round_minutes, rounds, base_wh, offsets, indices, lambdas))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn pob_validate_chain<'py>(
    py: Python<'py>,
    published: PyReadonlyArray1<'py, i64>,
    grid_wh: PyReadonlyArray1<'py, i64>,
    executed: PyReadonlyArray1<'py, bool>,
    theta_prev: i64,
    slopes: PyReadonlyArray1<'py, i64>,
    cap_wh: i64,
    max_defer: i64,
    window: usize,
    round_minutes: i64,
    rounds: PyReadonlyArray1<'py, i64>,
    base_wh: PyReadonlyArray1<'py, i64>,
    offsets: PyReadonlyArray1<'py, i64>,
    indices: PyReadonlyArray1<'py, i64>,
    lambdas: PyReadonlyArray1<'py, u64>,
) -> PyResult<(Bound<'py, PyArray1<u64>>, Bound<'py, PyArray1<i64>>)> {
    let (pool, ex, win, p) = parent(
        &published,
        &grid_wh,
        &executed,
        theta_prev,
        &slopes,
        cap_wh,
        max_defer,
        window,
        round_minutes,
    )?;
    let blocks = proposals(
        slice("rounds", &rounds)?,
        slice("base_wh", &base_wh)?,
        slice("offsets", &offsets)?,
        slice("indices", &indices)?,
        slice("lambdas", &lambdas)?,
    )?;
    let out = py.detach(|| validate_chain(&pool, ex, win, &p, &blocks))?;
    let (l, t): (Vec<u64>, Vec<i64>) = out.into_iter().unzip();
    Ok((PyArray1::from_vec(py, l), PyArray1::from_vec(py, t)))
}

/// Evaluate competing blocks on one parent state: (λ, Θ, valid) per block.
///
/// Same arguments as `pob_validate_chain` without the claims: the λ each
/// block would earn (what a miner computes); an invalid block gets λ = 0.
#[pyfunction]
#[pyo3(signature = (published, grid_wh, executed, theta_prev, slopes, cap_wh, max_defer, window, round_minutes, rounds, base_wh, offsets, indices))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn pob_evaluate<'py>(
    py: Python<'py>,
    published: PyReadonlyArray1<'py, i64>,
    grid_wh: PyReadonlyArray1<'py, i64>,
    executed: PyReadonlyArray1<'py, bool>,
    theta_prev: i64,
    slopes: PyReadonlyArray1<'py, i64>,
    cap_wh: i64,
    max_defer: i64,
    window: usize,
    round_minutes: i64,
    rounds: PyReadonlyArray1<'py, i64>,
    base_wh: PyReadonlyArray1<'py, i64>,
    offsets: PyReadonlyArray1<'py, i64>,
    indices: PyReadonlyArray1<'py, i64>,
) -> PyResult<(
    Bound<'py, PyArray1<u64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<bool>>,
)> {
    let (pool, ex, win, p) = parent(
        &published,
        &grid_wh,
        &executed,
        theta_prev,
        &slopes,
        cap_wh,
        max_defer,
        window,
        round_minutes,
    )?;
    pool.check()?;
    p.check()?;
    let zeros = vec![0u64; slice("rounds", &rounds)?.len()];
    let blocks = proposals(
        slice("rounds", &rounds)?,
        slice("base_wh", &base_wh)?,
        slice("offsets", &offsets)?,
        slice("indices", &indices)?,
        &zeros,
    )?;
    let res: Vec<Option<(u64, i64)>> = py.detach(|| {
        blocks
            .iter()
            .map(|b| evaluate(&pool, ex, &win, &p, b).ok())
            .collect()
    });
    let ok: Vec<bool> = res.iter().map(Option::is_some).collect();
    let l: Vec<u64> = res.iter().map(|r| r.map_or(0, |x| x.0)).collect();
    let t: Vec<i64> = res.iter().map(|r| r.map_or(0, |x| x.1)).collect();
    Ok((
        PyArray1::from_vec(py, l),
        PyArray1::from_vec(py, t),
        PyArray1::from_vec(py, ok),
    ))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(ev_simulate, m)?)?;
    m.add_function(wrap_pyfunction!(pob_validate_chain, m)?)?;
    m.add_function(wrap_pyfunction!(pob_evaluate, m)?)?;
    Ok(())
}
