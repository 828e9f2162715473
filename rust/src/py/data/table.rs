//! The CSV body parser and wide -> long (`data::table`).

use numpy::{
    PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods,
};
use pyo3::prelude::*;

use crate::data::table::{parse_table, wide_to_long, Layout, TimeFormat};
use crate::error::CoreError;
use crate::py::buffers::{slice, to_i64};

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

pub(super) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(py_parse_table, m)?)?;
    m.add_function(wrap_pyfunction!(py_wide_to_long, m)?)?;
    Ok(())
}
