//! The key ring: Ed25519 keys held in the core, signing in batches by key
//! index.

use numpy::{PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::args::{keys_of, same_len, split};
use crate::crypto::hash::{Algorithm, Digest};
use crate::crypto::sig::{sign_batch, ExpandedKey};
use crate::error::CoreError;
use crate::ledger::codec::Sig;
use crate::py::buffers::{offsets, slice, to_rows};

/// (ids (n, 32), whole transactions, their offsets).
type Signed<'py> = (
    Bound<'py, PyArray2<u8>>,
    Bound<'py, PyBytes>,
    Bound<'py, PyArray1<i64>>,
);

/// Ed25519 keys held in the core, expanded once; signs batches by key index
/// (`sig::sign_batch`: one field inversion per chunk of signatures).
#[pyclass(name = "KeyRing", module = "gridledger._core")]
pub struct PyKeyRing {
    keys: Vec<ExpandedKey>,
}

#[pymethods]
impl PyKeyRing {
    /// Keys from concatenated 32-byte RFC 8032 seeds.
    #[new]
    fn new(seeds: &[u8]) -> PyResult<Self> {
        if !seeds.len().is_multiple_of(32) {
            return Err(CoreError::invalid(
                "seeds",
                format!("{} bytes", seeds.len()),
                "a whole number of 32-byte seeds",
            )
            .into());
        }
        Ok(Self {
            keys: seeds
                .chunks_exact(32)
                .map(|c| ExpandedKey::from_seed(&c.try_into().unwrap_or([0; 32])))
                .collect(),
        })
    }

    fn __len__(&self) -> usize {
        self.keys.len()
    }

    /// The public keys as an (n, 32) uint8 array.
    fn public_keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<u8>>> {
        to_rows(
            py,
            self.keys.iter().flat_map(|k| k.public_key()).collect(),
            32,
        )
    }

    /// Sign bodies `data[offsets[i]:offsets[i+1]]`, body i with key `key_index[i]`:
    /// returns (ids (n, 32), whole transactions, their offsets). The signature
    /// is over the id H(body), as the chain state checks it.
    #[pyo3(signature = (key_index, data, offsets_, algorithm = "blake3"))]
    fn sign_bodies<'py>(
        &self,
        py: Python<'py>,
        key_index: PyReadonlyArray1<'py, i64>,
        data: &[u8],
        offsets_: PyReadonlyArray1<'py, i64>,
        algorithm: &str,
    ) -> PyResult<Signed<'py>> {
        let alg = Algorithm::parse(algorithm)?;
        let offs = offsets("offsets", &offsets_)?;
        let bodies = split("offsets", data, &offs)?;
        let idx = slice("key_index", &key_index)?;
        same_len("key_index", bodies.len(), idx.len())?;
        let mut ring = Vec::with_capacity(idx.len());
        for (i, &k) in idx.iter().enumerate() {
            let key = usize::try_from(k)
                .ok()
                .and_then(|k| self.keys.get(k))
                .ok_or_else(|| {
                    CoreError::invalid(
                        format!("key_index[{i}]"),
                        k,
                        format!("must be in 0..{}", self.keys.len()),
                    )
                })?;
            ring.push(key);
        }
        let signed: Vec<(Digest, Sig)> = py.detach(|| {
            use rayon::prelude::*;
            let ids: Vec<Digest> = if bodies.len() >= 64 {
                bodies.par_iter().map(|b| alg.hash(b)).collect()
            } else {
                bodies.iter().map(|b| alg.hash(b)).collect()
            };
            let items: Vec<(&ExpandedKey, &[u8])> = ring
                .iter()
                .zip(&ids)
                .map(|(k, id)| (*k, id.as_slice()))
                .collect();
            let sigs = sign_batch(&items);
            ids.into_iter().zip(sigs).collect()
        });
        let mut out = Vec::with_capacity(data.len() + 64 * bodies.len());
        let mut new_offs = Vec::with_capacity(bodies.len() + 1);
        new_offs.push(0i64);
        for (b, (_, s)) in bodies.iter().zip(&signed) {
            out.extend_from_slice(b);
            out.extend_from_slice(s);
            new_offs.push(i64::try_from(out.len()).unwrap_or(i64::MAX));
        }
        let ids = to_rows(py, signed.iter().flat_map(|(id, _)| *id).collect(), 32)?;
        Ok((
            ids,
            PyBytes::new(py, &out),
            PyArray1::from_vec(py, new_offs),
        ))
    }

    /// Sign 32-byte messages (ids, block hashes): row i with key `key_index[i]`.
    fn sign_ids<'py>(
        &self,
        py: Python<'py>,
        key_index: PyReadonlyArray1<'py, i64>,
        messages: PyReadonlyArray2<'py, u8>,
    ) -> PyResult<Bound<'py, PyArray2<u8>>> {
        let msgs = keys_of("messages", &messages)?;
        let idx = slice("key_index", &key_index)?;
        same_len("key_index", msgs.len(), idx.len())?;
        let mut ring = Vec::with_capacity(idx.len());
        for (i, (m, &k)) in msgs.iter().zip(idx).enumerate() {
            let key = usize::try_from(k)
                .ok()
                .and_then(|k| self.keys.get(k))
                .ok_or_else(|| {
                    CoreError::invalid(
                        format!("key_index[{i}]"),
                        k,
                        format!("must be in 0..{}", self.keys.len()),
                    )
                })?;
            ring.push((key, m.as_slice()));
        }
        let out: Vec<u8> = py.detach(|| sign_batch(&ring).concat());
        to_rows(py, out, 64)
    }
}

pub(super) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyKeyRing>()?;
    Ok(())
}
