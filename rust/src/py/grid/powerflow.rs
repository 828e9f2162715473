//! `gridledger._core` grid: the backward/forward-sweep power flow over all
//! periods in one call (SPEC §11; front end `gridledger.grid.powerflow`).

use numpy::{
    PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods,
};
use pyo3::prelude::*;

use crate::error::CoreError;
use crate::grid::complex::C64;
use crate::grid::sweep::{FeederSpec, Options, Radial};
use crate::py::buffers::slice;

/// The ten result arrays of `grid_powerflow`.
type Arrays<'py> = (
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<bool>>,
    Bound<'py, PyArray1<i64>>,
);

/// Exact AC power flow of a radial feeder for every period (rows of `p_w`,
/// `q_var`: `(T, B)` net injections, W and var), in parallel, GIL released.
///
/// The feeder in per unit (see `gridledger.grid.powerflow`): `parent` `(B,)`,
/// `line_bus` `(L,)` (the bus each line feeds), `r_pu`/`x_pu`/`b_pu` `(L,)`;
/// `trafo` = (HV-half r, x, LV-half r, x, magnetising g, b) with the
/// admittance `g − jb`; `v_src` the slack referred to the LV side (p.u.).
/// Returns (vm_pu, va_deg `(T, B)`, i_line_a, line_loss_w `(T, L)`, p_hv_w,
/// q_hv_var, s_hv_va, trafo_loss_w, converged, iterations `(T,)`);
/// unconverged periods' rows are NaN.
#[pyfunction]
#[pyo3(signature = (parent, line_bus, r_pu, x_pu, b_pu, trafo, v_src, shift_deg, s_base_va, i_base_a, p_w, q_var, tol_pu, max_iter))]
#[allow(clippy::too_many_arguments)]
fn grid_powerflow<'py>(
    py: Python<'py>,
    parent: PyReadonlyArray1<'py, i64>,
    line_bus: PyReadonlyArray1<'py, i64>,
    r_pu: PyReadonlyArray1<'py, f64>,
    x_pu: PyReadonlyArray1<'py, f64>,
    b_pu: PyReadonlyArray1<'py, f64>,
    trafo: (f64, f64, f64, f64, f64, f64),
    v_src: f64,
    shift_deg: f64,
    s_base_va: f64,
    i_base_a: f64,
    p_w: PyReadonlyArray2<'py, f64>,
    q_var: PyReadonlyArray2<'py, f64>,
    tol_pu: f64,
    max_iter: u32,
) -> PyResult<Arrays<'py>> {
    let n = parent.len();
    let shape = p_w.shape().to_vec();
    let (t, cols) = (
        shape.first().copied().unwrap_or(0),
        shape.get(1).copied().unwrap_or(0),
    );
    if cols != n {
        return Err(CoreError::invalid(
            "p_w",
            format!("shape ({t}, {cols})"),
            format!("expected (T, {n})"),
        )
        .into());
    }
    if q_var.shape() != shape.as_slice() {
        return Err(CoreError::invalid(
            "q_var",
            format!("shape {:?}", q_var.shape()),
            format!("expected the shape of p_w ({t}, {n})"),
        )
        .into());
    }
    let (ar, ax, br, bx, g, b) = trafo;
    let spec = FeederSpec {
        parent: slice("parent", &parent)?,
        line_bus: slice("line_bus", &line_bus)?,
        r_pu: slice("r_pu", &r_pu)?,
        x_pu: slice("x_pu", &x_pu)?,
        b_pu: slice("b_pu", &b_pu)?,
        z_hv: C64::new(ar, ax),
        z_lv: C64::new(br, bx),
        y_m: C64::new(g, -b),
        v_src,
        shift_deg,
        s_base_va,
        i_base_a,
    };
    let p = slice("p_w", &p_w)?;
    let q = slice("q_var", &q_var)?;
    let opts = Options { tol_pu, max_iter };
    let sol = py.detach(|| Radial::new(&spec).and_then(|net| net.solve(p, q, opts)))?;
    let l = n.saturating_sub(1);
    Ok((
        PyArray1::from_vec(py, sol.vm_pu).reshape([t, n])?,
        PyArray1::from_vec(py, sol.va_deg).reshape([t, n])?,
        PyArray1::from_vec(py, sol.i_line_a).reshape([t, l])?,
        PyArray1::from_vec(py, sol.line_loss_w).reshape([t, l])?,
        PyArray1::from_vec(py, sol.p_hv_w),
        PyArray1::from_vec(py, sol.q_hv_var),
        PyArray1::from_vec(py, sol.s_hv_va),
        PyArray1::from_vec(py, sol.trafo_loss_w),
        PyArray1::from_vec(py, sol.converged),
        PyArray1::from_vec(py, sol.iterations),
    ))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(grid_powerflow, m)?)?;
    Ok(())
}
