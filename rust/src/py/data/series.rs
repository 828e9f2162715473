//! The resampler and the split of a long frame into its series (`data::series`).

use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::data::series::{resample, runs, Request, Upsample};
use crate::error::CoreError;
use crate::py::buffers::{offsets, slice, to_i64};

type Series<'py> = (
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
    bool,
);

/// Resample concatenated series; returns (time µs, values, offsets,
/// native minutes per series, changed). When `changed` is false the input
/// already is the answer and the first three arrays are empty.
#[pyfunction(name = "resample_series")]
#[pyo3(signature = (time_us, values, offsets_, labels, *, target_min = None, method = "step", fill_limit_min = None))]
#[allow(clippy::too_many_arguments)]
fn py_resample_series<'py>(
    py: Python<'py>,
    time_us: PyReadonlyArray1<'py, i64>,
    values: PyReadonlyArray1<'py, f64>,
    offsets_: PyReadonlyArray1<'py, i64>,
    labels: Vec<String>,
    target_min: Option<i64>,
    method: &str,
    fill_limit_min: Option<i64>,
) -> PyResult<Series<'py>> {
    let req = Request {
        labels: &labels,
        target_min,
        method: Upsample::parse(method)?,
        fill_limit_min,
    };
    let ts = slice("time_us", &time_us)?;
    let vs = slice("values", &values)?;
    let offs = offsets("offsets", &offsets_)?;
    let out = py.detach(|| resample(ts, vs, &offs, &req))?;
    let offs_out = to_i64(&out.offsets);
    Ok((
        PyArray1::from_vec(py, out.time_us),
        PyArray1::from_vec(py, out.values),
        PyArray1::from_vec(py, offs_out),
        PyArray1::from_vec(py, out.native_min),
        out.changed,
    ))
}

fn chunk_slices<'a>(
    field: &str,
    chunks: &'a [PyReadonlyArray1<'_, u32>],
) -> Result<Vec<&'a [u32]>, CoreError> {
    chunks.iter().map(|c| slice(field, c)).collect()
}

/// Where each series of a long frame starts (its area and quantity codes
/// change) and whether time strictly increases within each; the codes come
/// as the chunks of their columns, so a chunked column needs no copy. See
/// `series::runs`.
#[pyfunction]
fn series_runs<'py>(
    py: Python<'py>,
    area: Vec<PyReadonlyArray1<'py, u32>>,
    quantity: Vec<PyReadonlyArray1<'py, u32>>,
    time_us: PyReadonlyArray1<'py, i64>,
) -> PyResult<(Bound<'py, PyArray1<i64>>, bool)> {
    let a = chunk_slices("area", &area)?;
    let q = chunk_slices("quantity", &quantity)?;
    let ts = slice("time_us", &time_us)?;
    let (starts, increasing) = py.detach(|| runs(&a, &q, ts))?;
    Ok((PyArray1::from_vec(py, to_i64(&starts)), increasing))
}

pub(super) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(py_resample_series, m)?)?;
    m.add_function(wrap_pyfunction!(series_runs, m)?)?;
    Ok(())
}
