//! `gridledger._core` data functions: the CSV body parser and the resampler.

use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1};
use pyo3::prelude::*;

use super::buffers::offsets;
use crate::error::CoreError;
use crate::series::{resample, Request, Upsample};
use crate::table::{parse_table, Layout, TimeFormat};

type Table<'py> = (Bound<'py, PyArray1<i64>>, Bound<'py, PyArray2<f64>>);

/// Parse the body of a CSV file (bytes after the header line); returns
/// (time µs, values (rows, len(value_columns)) with NaN for missing).
#[pyfunction(name = "parse_table")]
#[pyo3(signature = (body, *, source, first_line, columns, time_column, time_format, value_columns))]
#[allow(clippy::too_many_arguments)]
fn py_parse_table<'py>(
    py: Python<'py>,
    body: &[u8],
    source: &str,
    first_line: usize,
    columns: Vec<String>,
    time_column: usize,
    time_format: &str,
    value_columns: Vec<usize>,
) -> PyResult<Table<'py>> {
    let layout = Layout {
        source,
        first_line,
        columns: &columns,
        time_column,
        time_format: TimeFormat::parse(time_format)?,
        value_columns: &value_columns,
    };
    let table = py.detach(|| parse_table(body, &layout))?;
    let width = value_columns.len();
    let rows = table.time_us.len();
    let values = PyArray1::from_vec(py, table.values).reshape([rows, width])?;
    Ok((PyArray1::from_vec(py, table.time_us), values))
}

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
    let contiguous = |field: &str| {
        CoreError::invalid(field, "non-contiguous array", "pass a C-contiguous array")
    };
    let ts = time_us.as_slice().map_err(|_| contiguous("time_us"))?;
    let vs = values.as_slice().map_err(|_| contiguous("values"))?;
    let offs = offsets("offsets", &offsets_)?;
    let out = py.detach(|| resample(ts, vs, &offs, &req))?;
    let offs_out: Vec<i64> = out
        .offsets
        .iter()
        .map(|&o| i64::try_from(o).unwrap_or(i64::MAX))
        .collect();
    Ok((
        PyArray1::from_vec(py, out.time_us),
        PyArray1::from_vec(py, out.values),
        PyArray1::from_vec(py, offs_out),
        PyArray1::from_vec(py, out.native_min),
        out.changed,
    ))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(py_parse_table, m)?)?;
    m.add_function(wrap_pyfunction!(py_resample_series, m)?)?;
    Ok(())
}
