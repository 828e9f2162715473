//! `gridledger._core` Ed25519 keys and batch verification.

use numpy::{PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::crypto::sig::{self, Keypair};
use crate::error::CoreError;
use crate::py::buffers::{offsets, rows, to_rows};

/// Messages given as flat bytes plus int64 offsets, borrowed as slices.
fn split_messages<'a>(data: &'a [u8], offs: &[usize]) -> Result<Vec<&'a [u8]>, CoreError> {
    crate::crypto::hash::check_offsets(offs, data.len()).map_err(|_| {
        CoreError::invalid(
            "message_offsets",
            format!("{} entries", offs.len()),
            "must rise from 0 to the message bytes' length",
        )
    })?;
    Ok(offs
        .windows(2)
        .map(|w| match w {
            [a, b] => data.get(*a..*b).unwrap_or(&[]),
            _ => &[],
        })
        .collect())
}

/// An Ed25519 signing key (RFC 8032) built from a 32-byte seed.
#[pyclass(name = "SigningKey", module = "gridledger._core")]
pub struct PySigningKey {
    inner: Keypair,
}

#[pymethods]
impl PySigningKey {
    #[new]
    fn new(seed: &[u8]) -> PyResult<Self> {
        let seed: [u8; 32] = seed.try_into().map_err(|_| {
            CoreError::invalid(
                "seed",
                format!("{} bytes", seed.len()),
                "an Ed25519 seed must be 32 bytes",
            )
        })?;
        Ok(Self {
            inner: Keypair::from_seed(&seed),
        })
    }

    /// The 32-byte public key.
    #[getter]
    fn public_key<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.public_key())
    }

    /// The 32-byte secret seed.
    fn seed<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.seed())
    }

    /// Sign one message; returns 64 bytes.
    fn sign<'py>(&self, py: Python<'py>, message: &[u8]) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.sign(message))
    }

    /// Sign ragged messages `data[offsets[i]:offsets[i+1]]`; returns an (n, 64) uint8 array.
    fn sign_many<'py>(
        &self,
        py: Python<'py>,
        data: &[u8],
        message_offsets: PyReadonlyArray1<'py, i64>,
    ) -> PyResult<Bound<'py, PyArray2<u8>>> {
        let offs = offsets("message_offsets", &message_offsets)?;
        let msgs = split_messages(data, &offs)?;
        let key = &self.inner;
        let flat: Vec<u8> = py.detach(|| key.sign_many(&msgs).concat());
        to_rows(py, flat, 64)
    }
}

/// Verify one signature (strict encodings, cofactored equation).
#[pyfunction]
fn verify(py: Python<'_>, public_key: &[u8], message: &[u8], signature: &[u8]) -> PyResult<bool> {
    let (Ok(pk), Ok(sg)) = (
        <[u8; 32]>::try_from(public_key),
        <[u8; 64]>::try_from(signature),
    ) else {
        let (field, got, want) = if public_key.len() != 32 {
            ("public_key", public_key.len(), 32)
        } else {
            ("signature", signature.len(), 64)
        };
        return Err(CoreError::invalid(
            field,
            format!("{got} bytes"),
            format!("must be {want} bytes"),
        )
        .into());
    };
    Ok(if message.len() > 4096 {
        py.detach(|| sig::verify(&pk, message, &sg))
    } else {
        sig::verify(&pk, message, &sg)
    })
}

/// Verify n signatures: keys (n, 32), messages as flat bytes + (n + 1) offsets,
/// signatures (n, 64); returns an (n,) bool array equal to n single verdicts.
#[pyfunction]
fn verify_batch<'py>(
    py: Python<'py>,
    public_keys: PyReadonlyArray2<'py, u8>,
    messages: &[u8],
    message_offsets: PyReadonlyArray1<'py, i64>,
    signatures: PyReadonlyArray2<'py, u8>,
) -> PyResult<Bound<'py, PyArray1<bool>>> {
    let (kdata, nk, _) = rows("public_keys", &public_keys, Some(32))?;
    let (sdata, ns, _) = rows("signatures", &signatures, Some(64))?;
    let offs = offsets("message_offsets", &message_offsets)?;
    let msgs = split_messages(messages, &offs)?;
    if nk != ns || nk != msgs.len() {
        return Err(CoreError::invalid(
            "public_keys",
            format!("{nk} keys, {} messages, {ns} signatures", msgs.len()),
            "keys, messages and signatures must have the same length",
        )
        .into());
    }
    let keys: Vec<[u8; 32]> = kdata
        .chunks_exact(32)
        .map(|c| c.try_into().unwrap_or([0; 32]))
        .collect();
    let sigs: Vec<[u8; 64]> = sdata
        .chunks_exact(64)
        .map(|c| c.try_into().unwrap_or([0; 64]))
        .collect();
    let mut out = vec![false; nk];
    py.detach(|| sig::verify_batch(&keys, &msgs, &sigs, &mut out));
    Ok(PyArray1::from_vec(py, out))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySigningKey>()?;
    m.add_function(wrap_pyfunction!(verify, m)?)?;
    m.add_function(wrap_pyfunction!(verify_batch, m)?)?;
    Ok(())
}
