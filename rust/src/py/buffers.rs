//! Borrowing numpy arrays and bytes as slices, with shape checks that name
//! the argument.

use numpy::{
    PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods,
};
use pyo3::prelude::*;

use crate::crypto::hash::Digest;
use crate::error::CoreError;

/// A C-contiguous `(n, width)` uint8 array as one slice.
pub fn rows<'a>(
    field: &str,
    arr: &'a PyReadonlyArray2<'_, u8>,
    width: Option<usize>,
) -> Result<(&'a [u8], usize, usize), CoreError> {
    let shape = arr.shape();
    let (n, k) = (
        shape.first().copied().unwrap_or(0),
        shape.get(1).copied().unwrap_or(0),
    );
    if let Some(w) = width {
        if k != w {
            return Err(CoreError::invalid(
                field,
                format!("shape ({n}, {k})"),
                format!("expected shape (n, {w})"),
            ));
        }
    }
    Ok((slice(field, arr)?, n, k))
}

/// `(n, 32)` digests as `&[[u8; 32]]`.
pub fn digests(field: &str, arr: &PyReadonlyArray2<'_, u8>) -> Result<Vec<Digest>, CoreError> {
    let (data, _, _) = rows(field, arr, Some(32))?;
    Ok(data
        .chunks_exact(32)
        .map(|c| c.try_into().unwrap_or([0u8; 32]))
        .collect())
}

/// A C-contiguous array (any number of dimensions) as one slice, naming the
/// argument otherwise.
pub fn slice<'a, T: numpy::Element, D: numpy::ndarray::Dimension>(
    field: &str,
    arr: &'a numpy::PyReadonlyArray<'_, T, D>,
) -> Result<&'a [T], CoreError> {
    // rust-numpy makes the slice with `from_raw_parts`, which needs an aligned
    // pointer even for no elements; a field view of a packed numpy record can
    // start at any byte.
    if !(arr.data() as usize).is_multiple_of(std::mem::align_of::<T>()) {
        return Err(CoreError::invalid(
            field,
            "misaligned array",
            "pass an aligned array (numpy.require(a, requirements=\"CA\"))",
        ));
    }
    arr.as_slice().map_err(|_| {
        CoreError::invalid(
            field,
            "non-contiguous array",
            "pass a C-contiguous array (numpy.ascontiguousarray)",
        )
    })
}

/// A 1-D int64 array of offsets as `usize`, checked non-negative.
pub fn offsets(field: &str, arr: &PyReadonlyArray1<'_, i64>) -> Result<Vec<usize>, CoreError> {
    slice(field, arr)?
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            usize::try_from(v)
                .map_err(|_| CoreError::invalid(format!("{field}[{i}]"), v, "must be ≥ 0"))
        })
        .collect()
}

/// One 32-byte hash from bytes, naming the argument when the length is wrong.
pub fn digest(field: &str, data: &[u8]) -> Result<Digest, CoreError> {
    data.try_into().map_err(|_| {
        CoreError::invalid(
            field,
            format!("{} bytes", data.len()),
            "a hash must be 32 bytes",
        )
    })
}

/// A flat byte vector of `n` records of `width` bytes as an `(n, width)` array.
pub fn to_rows<'py>(
    py: Python<'py>,
    flat: Vec<u8>,
    width: usize,
) -> PyResult<Bound<'py, PyArray2<u8>>> {
    let n = flat.len().checked_div(width).unwrap_or(0);
    PyArray1::from_vec(py, flat).reshape([n, width])
}

/// Sizes as numpy's int64 (they come from allocations, so they fit).
pub fn to_i64(sizes: &[usize]) -> Vec<i64> {
    sizes
        .iter()
        .map(|&n| i64::try_from(n).unwrap_or(i64::MAX))
        .collect()
}
