//! `gridledger._core.MerkleTree` and the proof verifiers.

use numpy::{PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::crypto::hash::Records;
use crate::crypto::hash::{Algorithm, Digest};
use crate::crypto::merkle::{self, MerkleTree};
use crate::error::CoreError;
use crate::py::buffers::{digest, digests, offsets, rows, slice, to_rows};

/// Proof hashes `(m, 32)` and their `(n + 1,)` offsets.
type ProofArrays<'py> = (Bound<'py, PyArray2<u8>>, Bound<'py, PyArray1<i64>>);

fn to_list<'py>(py: Python<'py>, proof: &[Digest]) -> Vec<Bound<'py, PyBytes>> {
    proof.iter().map(|h| PyBytes::new(py, h)).collect()
}

fn proof_from(field: &str, proof: &[Vec<u8>]) -> Result<Vec<Digest>, CoreError> {
    proof
        .iter()
        .enumerate()
        .map(|(i, p)| digest(&format!("{field}[{i}]"), p))
        .collect()
}

/// An append-only RFC 6962 Merkle tree (SHA-256 or BLAKE3).
#[pyclass(name = "MerkleTree", module = "gridledger._core")]
pub struct PyMerkleTree {
    inner: MerkleTree,
}

#[pymethods]
impl PyMerkleTree {
    /// An empty tree.
    #[new]
    #[pyo3(signature = (algorithm = "sha256"))]
    fn new(algorithm: &str) -> PyResult<Self> {
        Ok(Self {
            inner: MerkleTree::new(Algorithm::parse(algorithm)?),
        })
    }

    /// Build from the rows of an (n, k) uint8 array, each row one leaf.
    #[staticmethod]
    #[pyo3(signature = (records, algorithm = "sha256"))]
    fn from_rows(
        py: Python<'_>,
        records: PyReadonlyArray2<'_, u8>,
        algorithm: &str,
    ) -> PyResult<Self> {
        let alg = Algorithm::parse(algorithm)?;
        let (data, n, k) = rows("leaves", &records, None)?;
        let inner = py.detach(|| {
            if k == 0 {
                Ok(MerkleTree::from_leaf_hashes(
                    alg,
                    vec![merkle::leaf_hash(alg, b""); n],
                ))
            } else {
                MerkleTree::from_records(alg, data, Records::Fixed(k))
            }
        })?;
        Ok(Self { inner })
    }

    /// Build from ragged leaves `data[offsets[i]:offsets[i+1]]`.
    #[staticmethod]
    #[pyo3(signature = (data, offsets_, algorithm = "sha256"))]
    fn from_ragged(
        py: Python<'_>,
        data: &[u8],
        offsets_: PyReadonlyArray1<'_, i64>,
        algorithm: &str,
    ) -> PyResult<Self> {
        let alg = Algorithm::parse(algorithm)?;
        let offs = offsets("offsets", &offsets_)?;
        let inner = py.detach(|| MerkleTree::from_records(alg, data, Records::Ragged(&offs)))?;
        Ok(Self { inner })
    }

    /// Build from precomputed leaf hashes, an (n, 32) uint8 array.
    #[staticmethod]
    #[pyo3(signature = (leaf_hashes, algorithm = "sha256"))]
    fn from_leaf_hashes(
        py: Python<'_>,
        leaf_hashes: PyReadonlyArray2<'_, u8>,
        algorithm: &str,
    ) -> PyResult<Self> {
        let alg = Algorithm::parse(algorithm)?;
        let hs = digests("leaf_hashes", &leaf_hashes)?;
        let inner = py.detach(|| MerkleTree::from_leaf_hashes(alg, hs));
        Ok(Self { inner })
    }

    #[getter]
    fn algorithm(&self) -> &'static str {
        self.inner.algorithm().name()
    }

    #[getter]
    fn size(&self) -> u64 {
        self.inner.size()
    }

    /// Bytes held by the tree's stored hashes.
    #[getter]
    fn nbytes(&self) -> usize {
        self.inner.nbytes()
    }

    /// The current root (32 bytes); H("") for the empty tree.
    fn root<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.root())
    }

    /// The root when the tree held `size` leaves.
    fn root_at<'py>(&self, py: Python<'py>, size: u64) -> PyResult<Bound<'py, PyBytes>> {
        Ok(PyBytes::new(py, &self.inner.root_at(size)?))
    }

    /// The leaf hash stored at `index`.
    fn leaf_hash<'py>(&self, py: Python<'py>, index: u64) -> PyResult<Bound<'py, PyBytes>> {
        Ok(PyBytes::new(py, &self.inner.leaf(index)?))
    }

    /// Append one leaf (raw data); returns its index.
    fn append(&mut self, data: &[u8]) -> u64 {
        let h = merkle::leaf_hash(self.inner.algorithm(), data);
        self.inner.append_leaf_hash(h);
        self.inner.size() - 1
    }

    /// Append one precomputed leaf hash; returns its index.
    fn append_leaf_hash(&mut self, leaf_hash: &[u8]) -> PyResult<u64> {
        self.inner.append_leaf_hash(digest("leaf_hash", leaf_hash)?);
        Ok(self.inner.size() - 1)
    }

    /// Inclusion proof of leaf `index` in the tree of `size` leaves (default: all).
    #[pyo3(signature = (index, size = None))]
    fn inclusion_proof<'py>(
        &self,
        py: Python<'py>,
        index: u64,
        size: Option<u64>,
    ) -> PyResult<Vec<Bound<'py, PyBytes>>> {
        let p = self
            .inner
            .inclusion_proof(index, size.unwrap_or(self.inner.size()))?;
        Ok(to_list(py, &p))
    }

    /// Consistency proof from `old_size` to `new_size` (default: all).
    #[pyo3(signature = (old_size, new_size = None))]
    fn consistency_proof<'py>(
        &self,
        py: Python<'py>,
        old_size: u64,
        new_size: Option<u64>,
    ) -> PyResult<Vec<Bound<'py, PyBytes>>> {
        let p = self
            .inner
            .consistency_proof(old_size, new_size.unwrap_or(self.inner.size()))?;
        Ok(to_list(py, &p))
    }

    /// Inclusion proofs of many leaves: (hashes (m, 32) uint8, offsets (n + 1,) int64),
    /// proof i being `hashes[offsets[i]:offsets[i+1]]`.
    #[pyo3(signature = (indices, size = None))]
    fn inclusion_proofs<'py>(
        &self,
        py: Python<'py>,
        indices: PyReadonlyArray1<'py, u64>,
        size: Option<u64>,
    ) -> PyResult<ProofArrays<'py>> {
        let idx = slice("indices", &indices)?;
        let size = size.unwrap_or(self.inner.size());
        let tree = &self.inner;
        let (flat, offs) = py.detach(|| -> Result<(Vec<u8>, Vec<i64>), CoreError> {
            use rayon::prelude::*;
            let proofs: Vec<Vec<Digest>> = idx
                .par_iter()
                .with_min_len(256)
                .enumerate()
                .map(|(i, &ix)| {
                    tree.inclusion_proof(ix, size).map_err(|e| match e {
                        CoreError::InvalidArgument { value, reason, .. } => {
                            CoreError::invalid(format!("indices[{i}]"), value, reason)
                        }
                        other => other,
                    })
                })
                .collect::<Result<_, _>>()?;
            let mut offs = Vec::with_capacity(proofs.len() + 1);
            offs.push(0i64);
            let mut flat = Vec::with_capacity(proofs.iter().map(Vec::len).sum::<usize>() * 32);
            for p in &proofs {
                for h in p {
                    flat.extend_from_slice(h);
                }
                offs.push((flat.len() / 32) as i64);
            }
            Ok((flat, offs))
        })?;
        Ok((to_rows(py, flat, 32)?, PyArray1::from_vec(py, offs)))
    }

    fn __len__(&self) -> usize {
        self.inner.size() as usize
    }
}

/// H(0x00 ‖ data).
#[pyfunction]
#[pyo3(signature = (data, algorithm = "sha256"))]
fn leaf_hash<'py>(py: Python<'py>, data: &[u8], algorithm: &str) -> PyResult<Bound<'py, PyBytes>> {
    Ok(PyBytes::new(
        py,
        &merkle::leaf_hash(Algorithm::parse(algorithm)?, data),
    ))
}

/// RFC 9162 §2.1.3.2 inclusion check.
#[pyfunction]
#[pyo3(signature = (leaf_hash, index, size, proof, root, algorithm = "sha256"))]
fn verify_inclusion(
    leaf_hash: &[u8],
    index: u64,
    size: u64,
    proof: Vec<Vec<u8>>,
    root: &[u8],
    algorithm: &str,
) -> PyResult<bool> {
    let alg = Algorithm::parse(algorithm)?;
    let leaf = digest("leaf_hash", leaf_hash)?;
    let root = digest("root", root)?;
    let proof = proof_from("proof", &proof)?;
    Ok(merkle::verify_inclusion(
        alg, &leaf, index, size, &proof, &root,
    )?)
}

/// RFC 9162 §2.1.4.2 consistency check.
#[pyfunction]
#[pyo3(signature = (old_size, new_size, old_root, new_root, proof, algorithm = "sha256"))]
fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &[u8],
    new_root: &[u8],
    proof: Vec<Vec<u8>>,
    algorithm: &str,
) -> PyResult<bool> {
    let alg = Algorithm::parse(algorithm)?;
    let old_root = digest("old_root", old_root)?;
    let new_root = digest("new_root", new_root)?;
    let proof = proof_from("proof", &proof)?;
    Ok(merkle::verify_consistency(
        alg, old_size, new_size, &old_root, &new_root, &proof,
    )?)
}

/// Check many inclusion proofs against one root; returns an (n,) bool array.
#[pyfunction]
#[pyo3(signature = (leaf_hashes, indices, size, proof_hashes, proof_offsets, root, algorithm = "sha256"))]
#[allow(clippy::too_many_arguments)]
fn verify_inclusion_batch<'py>(
    py: Python<'py>,
    leaf_hashes: PyReadonlyArray2<'py, u8>,
    indices: PyReadonlyArray1<'py, u64>,
    size: u64,
    proof_hashes: PyReadonlyArray2<'py, u8>,
    proof_offsets: PyReadonlyArray1<'py, i64>,
    root: &[u8],
    algorithm: &str,
) -> PyResult<Bound<'py, PyArray1<bool>>> {
    let alg = Algorithm::parse(algorithm)?;
    let leaves = digests("leaf_hashes", &leaf_hashes)?;
    let proofs = digests("proof_hashes", &proof_hashes)?;
    let offs = offsets("proof_offsets", &proof_offsets)?;
    let root = digest("root", root)?;
    let idx = slice("indices", &indices)?;
    if idx.len() != leaves.len() || offs.len() != leaves.len() + 1 {
        return Err(CoreError::invalid(
            "indices",
            format!(
                "{} indices, {} leaf hashes, {} offsets",
                idx.len(),
                leaves.len(),
                offs.len()
            ),
            "need n indices, n leaf hashes and n + 1 offsets",
        )
        .into());
    }
    crate::crypto::hash::check_offsets(&offs, proofs.len()).map_err(|_| {
        CoreError::invalid(
            "proof_offsets",
            format!("{} entries", offs.len()),
            "must rise from 0 to the number of proof hashes",
        )
    })?;
    if let Some(i) = idx.iter().position(|&ix| ix >= size) {
        return Err(CoreError::invalid(
            format!("indices[{i}]"),
            idx.get(i).copied().unwrap_or(0),
            format!("must be < size {size}"),
        )
        .into());
    }
    let out = py.detach(|| {
        use rayon::prelude::*;
        (0..leaves.len())
            .into_par_iter()
            .with_min_len(256)
            .map(|i| {
                let (Some(&a), Some(&b), Some(leaf), Some(&ix)) =
                    (offs.get(i), offs.get(i + 1), leaves.get(i), idx.get(i))
                else {
                    return false;
                };
                let proof = proofs.get(a..b).unwrap_or(&[]);
                merkle::verify_inclusion(alg, leaf, ix, size, proof, &root).unwrap_or(false)
            })
            .collect::<Vec<bool>>()
    });
    Ok(PyArray1::from_vec(py, out))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyMerkleTree>()?;
    m.add_function(wrap_pyfunction!(leaf_hash, m)?)?;
    m.add_function(wrap_pyfunction!(verify_inclusion, m)?)?;
    m.add_function(wrap_pyfunction!(verify_consistency, m)?)?;
    m.add_function(wrap_pyfunction!(verify_inclusion_batch, m)?)?;
    Ok(())
}
