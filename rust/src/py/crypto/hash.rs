//! `gridledger._core` hashing functions.

use numpy::{PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::crypto::hash::{hash_fixed_into, hash_ragged_into, Algorithm};
use crate::py::buffers::{offsets, rows, to_rows};

/// Hash one input; returns 32 bytes.
#[pyfunction]
#[pyo3(signature = (data, algorithm = "blake3"))]
fn hash_one<'py>(py: Python<'py>, data: &[u8], algorithm: &str) -> PyResult<Bound<'py, PyBytes>> {
    let alg = Algorithm::parse(algorithm)?;
    let d = if data.len() > 2048 {
        py.detach(|| alg.hash(data))
    } else {
        alg.hash(data)
    };
    Ok(PyBytes::new(py, &d))
}

/// Hash every row of an (n, k) uint8 array; returns an (n, 32) uint8 array.
#[pyfunction]
#[pyo3(signature = (records, algorithm = "blake3"))]
fn hash_rows<'py>(
    py: Python<'py>,
    records: PyReadonlyArray2<'py, u8>,
    algorithm: &str,
) -> PyResult<Bound<'py, PyArray2<u8>>> {
    let alg = Algorithm::parse(algorithm)?;
    let (data, n, k) = rows("items", &records, None)?;
    let mut out = vec![0u8; n * 32];
    py.detach(|| hash_fixed_into(alg, data, k, &mut out))?;
    to_rows(py, out, 32)
}

/// Hash ragged records `data[offsets[i]:offsets[i+1]]`; returns an (n, 32) uint8 array.
#[pyfunction]
#[pyo3(signature = (data, offsets_, algorithm = "blake3"))]
fn hash_ragged<'py>(
    py: Python<'py>,
    data: &[u8],
    offsets_: PyReadonlyArray1<'py, i64>,
    algorithm: &str,
) -> PyResult<Bound<'py, PyArray2<u8>>> {
    let alg = Algorithm::parse(algorithm)?;
    let offs = offsets("offsets", &offsets_)?;
    let mut out = vec![0u8; offs.len().saturating_sub(1) * 32];
    py.detach(|| hash_ragged_into(alg, data, &offs, &mut out))?;
    to_rows(py, out, 32)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(hash_one, m)?)?;
    m.add_function(wrap_pyfunction!(hash_rows, m)?)?;
    m.add_function(wrap_pyfunction!(hash_ragged, m)?)?;
    Ok(())
}
