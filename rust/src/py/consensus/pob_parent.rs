//! `gridledger._core.PobParent`: the parent state of proof-of-benefit blocks
//! (SPEC §6), built and checked once, then asked about blocks only.
//!
//! The pool (publication rounds, Θ terms) and the parameters are shared by
//! every state derived from one parent (`extend`), so a block tree holds one
//! copy of them and one executed flag per pool transaction per branch.

use std::sync::Arc;

use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::consensus::pob::{evaluate, validate_chain, Params, Pool, Proposal, Window};
use crate::error::CoreError;
use crate::py::buffers::slice;

/// (λ, Θ Wh) per block.
type Validated<'py> = (Bound<'py, PyArray1<u64>>, Bound<'py, PyArray1<i64>>);
/// (λ, Θ Wh, valid) per block.
type Evaluated<'py> = (
    Bound<'py, PyArray1<u64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<bool>>,
);

/// What every state of one chain shares: the pool and the parameters.
struct Shared {
    published: Vec<i64>,
    grid_wh: Vec<i64>,
    params: Params,
}

impl Shared {
    fn pool(&self) -> Pool<'_> {
        Pool {
            published: &self.published,
            grid_wh: &self.grid_wh,
        }
    }
}

/// CSR blocks: per block (round, base, indices, λ).
fn proposals<'a>(
    rounds: &'a [i64],
    base_wh: &'a [i64],
    offsets: &'a [i64],
    indices: &'a [i64],
    lambdas: &'a [u64],
) -> Result<Vec<Proposal<'a>>, CoreError> {
    let m = rounds.len();
    for (field, len) in [("base_wh", base_wh.len()), ("lambdas", lambdas.len())] {
        if len != m {
            return Err(CoreError::invalid(
                field,
                format!("{len} entries"),
                format!("expected {m}, one per block (rounds)"),
            ));
        }
    }
    if offsets.len() != m + 1 {
        return Err(CoreError::invalid(
            "offsets",
            format!("{} entries", offsets.len()),
            format!("expected {}, one per block and one more", m + 1),
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

/// The state proof-of-benefit blocks extend: the pool of published
/// transactions (`published` relative rounds, ascending; `grid_wh` Θ terms,
/// Wh per round), which of them the branch has executed, Θ of its last round
/// (`theta_prev`, Wh per round) with the slopes before it, and the
/// parameters (`cap_wh` Wh per round, `max_defer` rounds, `window` slopes,
/// `round_minutes`). Checked once here; raises InvalidArgumentError naming
/// the field.
#[pyclass(name = "PobParent", module = "gridledger._core", frozen)]
pub struct PyPobParent {
    shared: Arc<Shared>,
    executed: Vec<bool>,
    window: Window,
}

#[pymethods]
impl PyPobParent {
    #[new]
    #[pyo3(signature = (published, grid_wh, *, cap_wh, max_defer, window, round_minutes, executed = None, theta_prev = 0, slopes = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        published: PyReadonlyArray1<'_, i64>,
        grid_wh: PyReadonlyArray1<'_, i64>,
        cap_wh: i64,
        max_defer: i64,
        window: usize,
        round_minutes: i64,
        executed: Option<PyReadonlyArray1<'_, bool>>,
        theta_prev: i64,
        slopes: Option<PyReadonlyArray1<'_, i64>>,
    ) -> PyResult<Self> {
        let params = Params {
            cap_wh,
            max_defer,
            window,
            round_minutes,
        };
        params.check()?;
        let pool = Pool {
            published: slice("published", &published)?,
            grid_wh: slice("grid_wh", &grid_wh)?,
        };
        pool.check()?;
        let n = pool.published.len();
        let executed = match &executed {
            Some(a) => {
                let ex = slice("executed", a)?;
                if ex.len() != n {
                    return Err(CoreError::invalid(
                        "executed",
                        format!("{} flags", ex.len()),
                        format!("one flag per pool transaction ({n})"),
                    )
                    .into());
                }
                ex.to_vec()
            }
            None => vec![false; n],
        };
        let sl = match &slopes {
            Some(a) => slice("slopes", a)?,
            None => &[],
        };
        Ok(Self {
            window: Window::new(theta_prev, sl, window),
            shared: Arc::new(Shared {
                published: pool.published.to_vec(),
                grid_wh: pool.grid_wh.to_vec(),
                params,
            }),
            executed,
        })
    }

    /// Θ of the parent's round (Wh per round).
    #[getter]
    fn theta_prev(&self) -> i64 {
        self.window.theta_prev
    }

    /// Transactions in the pool.
    fn __len__(&self) -> usize {
        self.shared.published.len()
    }

    /// Which pool transactions the branch has executed, as a (n,) bool array.
    #[getter]
    fn executed<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<bool>> {
        PyArray1::from_slice(py, &self.executed)
    }

    /// Validate consecutive blocks extending this state, all or nothing.
    ///
    /// Blocks are CSR: `offsets` (m + 1) into `indices` (pool indices), with
    /// relative `rounds`, `base_wh` (Wh per round) and claimed `lambdas` per
    /// block. Raises the typed error of the first broken rule, naming
    /// `blocks[k]…`; returns (λ, Θ Wh) per block.
    fn validate_chain<'py>(
        &self,
        py: Python<'py>,
        rounds: PyReadonlyArray1<'py, i64>,
        base_wh: PyReadonlyArray1<'py, i64>,
        offsets: PyReadonlyArray1<'py, i64>,
        indices: PyReadonlyArray1<'py, i64>,
        lambdas: PyReadonlyArray1<'py, u64>,
    ) -> PyResult<Validated<'py>> {
        let blocks = proposals(
            slice("rounds", &rounds)?,
            slice("base_wh", &base_wh)?,
            slice("offsets", &offsets)?,
            slice("indices", &indices)?,
            slice("lambdas", &lambdas)?,
        )?;
        let s = &self.shared;
        let out = py.detach(|| {
            validate_chain(
                &s.pool(),
                &self.executed,
                self.window.clone(),
                &s.params,
                &blocks,
            )
        })?;
        let (l, t): (Vec<u64>, Vec<i64>) = out.into_iter().unzip();
        Ok((PyArray1::from_vec(py, l), PyArray1::from_vec(py, t)))
    }

    /// Evaluate competing blocks on this state: (λ, Θ Wh, valid) per block.
    ///
    /// The same CSR blocks as `validate_chain` without the claims: the λ each
    /// block would earn (what a miner computes); an invalid block gets λ = 0.
    fn evaluate<'py>(
        &self,
        py: Python<'py>,
        rounds: PyReadonlyArray1<'py, i64>,
        base_wh: PyReadonlyArray1<'py, i64>,
        offsets: PyReadonlyArray1<'py, i64>,
        indices: PyReadonlyArray1<'py, i64>,
    ) -> PyResult<Evaluated<'py>> {
        let r = slice("rounds", &rounds)?;
        let zeros = vec![0u64; r.len()];
        let blocks = proposals(
            r,
            slice("base_wh", &base_wh)?,
            slice("offsets", &offsets)?,
            slice("indices", &indices)?,
            &zeros,
        )?;
        let s = &self.shared;
        let res: Vec<Option<(u64, i64)>> = py.detach(|| {
            let pool = s.pool();
            blocks
                .iter()
                .map(|b| evaluate(&pool, &self.executed, &self.window, &s.params, b).ok())
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

    /// Validate one block (relative `round`, `base_wh`, pool `indices`, the
    /// claimed `lambda_`) on this state and return (λ, Θ Wh, the state after
    /// it). This state is unchanged; the new one shares the pool.
    fn extend<'py>(
        &self,
        py: Python<'py>,
        round: i64,
        base_wh: i64,
        indices: PyReadonlyArray1<'py, i64>,
        lambda_: u64,
    ) -> PyResult<(u64, i64, Self)> {
        let ix = slice("indices", &indices)?;
        let block = [Proposal {
            round,
            base_wh,
            indices: ix,
            lambda: lambda_,
        }];
        let s = &self.shared;
        let (lambda, theta) = py
            .detach(|| {
                validate_chain(
                    &s.pool(),
                    &self.executed,
                    self.window.clone(),
                    &s.params,
                    &block,
                )
            })?
            .first()
            .copied()
            .ok_or_else(|| CoreError::invalid("indices", ix.len(), "no block validated"))?;
        let mut executed = self.executed.clone();
        for &i in ix {
            if let Some(d) = usize::try_from(i).ok().and_then(|i| executed.get_mut(i)) {
                *d = true;
            }
        }
        let mut window = self.window.clone();
        window.push(theta, s.params.window);
        Ok((
            lambda,
            theta,
            Self {
                shared: Arc::clone(&self.shared),
                executed,
                window,
            },
        ))
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyPobParent>()?;
    Ok(())
}
