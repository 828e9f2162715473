//! Gunzip (`data::inflate`).

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::data::inflate::{gunzip_into, gzip_size};

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

pub(super) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(gunzip, m)?)?;
    Ok(())
}
