//! `gridledger._core` data functions: the CSV body parser and the resampler.

use numpy::{
    PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods,
};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::data::inflate::{gunzip_into, gzip_size};
use crate::data::series::{resample, runs, Request, Upsample};
use crate::data::table::{parse_table, wide_to_long, Layout, TimeFormat};
use crate::error::CoreError;
use crate::py::buffers::{offsets, slice};

/// Sizes as numpy's int64 (they come from allocations, so they fit).
fn to_i64(sizes: &[usize]) -> Vec<i64> {
    sizes
        .iter()
        .map(|&n| i64::try_from(n).unwrap_or(i64::MAX))
        .collect()
}

type Table<'py> = (
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray2<f64>>,
    bool,
    bool,
);

/// Parse the body of a CSV file (`body[skip:]`, the bytes after the header line); returns
/// (time µs, values (len(value_columns), rows) with NaN for missing, some value
/// negative, time strictly increasing).
#[pyfunction(name = "parse_table")]
#[pyo3(signature = (body, *, source, first_line, columns, time_column, time_format, value_columns, skip = 0))]
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
    skip: usize,
) -> PyResult<Table<'py>> {
    let body = body.get(skip..).ok_or_else(|| {
        CoreError::invalid("skip", skip, format!("the body has {} bytes", body.len()))
    })?;
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
    let values = PyArray1::from_vec(py, table.values).reshape([width, rows])?;
    Ok((
        PyArray1::from_vec(py, table.time_us),
        values,
        table.negative,
        table.increasing,
    ))
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

type LongArrays<'py> = (
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<i64>>,
);

/// Columns `order` of a (columns, rows) table as concatenated series:
/// (time µs, values, length of each series); see `table::wide_to_long`.
#[pyfunction(name = "wide_to_long")]
#[pyo3(signature = (time_us, values, order, *, trim, keep = None))]
fn py_wide_to_long<'py>(
    py: Python<'py>,
    time_us: PyReadonlyArray1<'py, i64>,
    values: PyReadonlyArray2<'py, f64>,
    order: Vec<usize>,
    trim: bool,
    keep: Option<PyReadonlyArray1<'py, bool>>,
) -> PyResult<LongArrays<'py>> {
    let ts = slice("time_us", &time_us)?;
    let vs = slice("values", &values)?;
    let keep = keep.as_ref().map(|k| slice("keep", k)).transpose()?;
    let width = values.shape().first().copied().unwrap_or(0);
    let long = py.detach(|| wide_to_long(ts, vs, width, &order, trim, keep))?;
    let lengths = to_i64(&long.lengths);
    Ok((
        PyArray1::from_vec(py, long.time_us),
        PyArray1::from_vec(py, long.values),
        PyArray1::from_vec(py, lengths),
    ))
}

/// Gunzip a whole single-member gzip file with libdeflate; `None` when the
/// data is anything else (the caller falls back to the `gzip` module).
#[pyfunction]
fn gunzip<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Option<Bound<'py, PyBytes>>> {
    let Some(size) = gzip_size(data) else {
        return Ok(None);
    };
    let mut ok = false;
    let out = PyBytes::new_with(py, size, |buf| {
        ok = py.detach(|| gunzip_into(data, buf));
        Ok(())
    })?;
    Ok(ok.then_some(out))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(gunzip, m)?)?;
    m.add_function(wrap_pyfunction!(py_parse_table, m)?)?;
    m.add_function(wrap_pyfunction!(py_wide_to_long, m)?)?;
    m.add_function(wrap_pyfunction!(py_resample_series, m)?)?;
    m.add_function(wrap_pyfunction!(series_runs, m)?)?;
    Ok(())
}
