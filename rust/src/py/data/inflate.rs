//! Gunzip (`data::inflate`).

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::data::inflate::{gunzip as gunzip_all, gunzip_into, stated_size};

/// Gunzip a whole gzip file with libdeflate: one member straight into the
/// result when its trailer's size is believable, otherwise every member,
/// the output growing as it inflates. Memory follows the content, never a
/// stated size the data cannot hold; raises BadDataError naming `source` for
/// anything that is not gzip, is corrupt or truncated, or inflates to more
/// than 2 GiB (docs/data.md).
#[pyfunction]
#[pyo3(signature = (data, *, source))]
fn gunzip<'py>(py: Python<'py>, data: &[u8], source: &str) -> PyResult<Bound<'py, PyBytes>> {
    if let Some(size) = stated_size(data, source)? {
        let mut ok = false;
        let out = PyBytes::new_with(py, size, |buf| {
            ok = py.detach(|| gunzip_into(data, buf));
            Ok(())
        })?;
        if ok {
            return Ok(out);
        }
    }
    let all = py.detach(|| gunzip_all(data, source))?;
    Ok(PyBytes::new(py, &all))
}

pub(super) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(gunzip, m)?)?;
    Ok(())
}
