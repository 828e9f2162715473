//! The chain state: validates whole blocks against the UTXO set and keeps the
//! Merkle log of block hashes.

use numpy::{PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use super::args::{key, keys_of, same_len, split};
use crate::error::{CoreError, Rule};
use crate::ledger::codec::Sig;
use crate::ledger::genesis::Genesis;
use crate::ledger::state::{Accepted, ChainState};
use crate::ledger::tx::Outpoint;
use crate::py::buffers::{digest, offsets, slice, to_rows};

/// (txid, index, asset, amount, expires) of an unspent output.
type Unspent<'py> = (Bound<'py, PyBytes>, u16, u8, u64, u64);
/// (winner or None, wealth of each offer).
type AuctionResult<'py> = (Option<Bound<'py, PyBytes>>, Bound<'py, PyArray1<f64>>);
/// (owner, asset code, amount, expires) of an unspent output.
type OutputTuple<'py> = (Bound<'py, PyBytes>, u8, u64, u64);

/// The chain state: validates whole blocks and keeps the UTXO set and the
/// Merkle log of block hashes.
#[pyclass(name = "ChainState", module = "gridledger._core")]
pub struct PyChainState {
    inner: ChainState,
    /// The last block `check` accepted, until `commit` applies it.
    pending: Option<Accepted>,
}

fn accepted_dict<'py>(
    py: Python<'py>,
    a: &Accepted,
    first_seq: u64,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("block_hash", PyBytes::new(py, &a.block_hash))?;
    d.set_item(
        "ids",
        to_rows(py, a.ids.iter().flatten().copied().collect(), 32)?,
    )?;
    d.set_item("kinds", PyArray1::from_vec(py, a.kinds.clone()))?;
    let col = |f: &dyn Fn(&crate::ledger::state::NewOutput) -> i64| {
        a.outputs.iter().map(f).collect::<Vec<i64>>()
    };
    d.set_item(
        "out_tx",
        PyArray1::from_vec(py, col(&|o| i64::from(o.tx_index))),
    )?;
    d.set_item(
        "out_index",
        PyArray1::from_vec(py, col(&|o| i64::from(o.index))),
    )?;
    d.set_item(
        "out_owner",
        PyArray1::from_vec(py, col(&|o| i64::from(o.utxo.owner))),
    )?;
    d.set_item(
        "out_asset",
        PyArray1::from_vec(py, col(&|o| i64::from(o.utxo.asset.code()))),
    )?;
    d.set_item(
        "out_amount",
        PyArray1::from_vec(
            py,
            col(&|o| i64::try_from(o.utxo.amount).unwrap_or(i64::MAX)),
        ),
    )?;
    d.set_item(
        "out_expires",
        PyArray1::from_vec(
            py,
            a.outputs
                .iter()
                .map(|o| o.utxo.expires)
                .collect::<Vec<u64>>(),
        ),
    )?;
    d.set_item(
        "spent_tx_seq",
        PyArray1::from_vec(
            py,
            a.spent
                .iter()
                .map(|(s, _)| i64::try_from(*s).unwrap_or(i64::MAX))
                .collect::<Vec<_>>(),
        ),
    )?;
    d.set_item(
        "spent_index",
        PyArray1::from_vec(
            py,
            a.spent
                .iter()
                .map(|(_, i)| i64::from(*i))
                .collect::<Vec<_>>(),
        ),
    )?;
    d.set_item(
        "new_keys",
        to_rows(py, a.new_keys.iter().flatten().copied().collect(), 32)?,
    )?;
    d.set_item("fees", (a.fees[0], a.fees[1]))?;
    d.set_item("signatures", a.signatures)?;
    d.set_item("first_tx_seq", first_seq)?;
    let au = &a.auction;
    d.set_item("winner", au.winner.map(|k| PyBytes::new(py, &k)))?;
    d.set_item("on_time", au.candidates.0)?;
    d.set_item("late", au.candidates.1)?;
    d.set_item("penalised", au.penalise_all)?;
    d.set_item("missed", au.missed)?;
    d.set_item("evidence", au.evidence.len())?;
    Ok(d)
}

impl PyChainState {
    fn run_check(
        &self,
        py: Python<'_>,
        header: &[u8],
        signature: &[u8],
        txs: &[u8],
        offsets_: &PyReadonlyArray1<'_, i64>,
    ) -> Result<Accepted, CoreError> {
        let sig: Sig = signature.try_into().map_err(|_| {
            CoreError::invalid(
                "signature",
                format!("{} bytes", signature.len()),
                "64 bytes",
            )
        })?;
        let offs = offsets("offsets", offsets_)?;
        let parts = split("offsets", txs, &offs)?;
        let inner = &self.inner;
        py.detach(|| inner.check(header, &sig, &parts))
    }
}

#[pymethods]
impl PyChainState {
    /// A chain at its genesis; raises BadConfigurationError or InvalidBlockError.
    /// `bounded=False` keeps every transaction id and expired vote in memory
    /// (docs/ledger.md "Bounded memory"; the same verdicts either way).
    #[new]
    #[pyo3(signature = (genesis, bounded = true))]
    fn new(genesis: &[u8], bounded: bool) -> PyResult<Self> {
        Ok(Self {
            inner: ChainState::with_memory(Genesis::decode(genesis)?, bounded)?,
            pending: None,
        })
    }

    #[getter]
    fn genesis<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.genesis().encode())
    }
    #[getter]
    fn algorithm(&self) -> &'static str {
        self.inner.algorithm().name()
    }
    #[getter]
    fn chain_id<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.chain_id())
    }
    #[getter]
    fn chain_tag<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.chain_tag())
    }
    #[getter]
    fn height(&self) -> u64 {
        self.inner.tip().height
    }
    #[getter]
    fn period(&self) -> u64 {
        self.inner.tip().period
    }
    #[getter]
    fn tip_hash<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.tip_hash())
    }
    #[getter]
    fn tip_header<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.tip().encode())
    }
    #[getter]
    fn next_miner<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.next_miner())
    }
    #[getter]
    fn n_tx(&self) -> u64 {
        self.inner.n_tx()
    }
    #[getter]
    fn n_utxo(&self) -> usize {
        self.inner.utxo_len()
    }
    /// Transaction ids held in memory (bounded: those with unspent outputs or recent).
    #[getter]
    fn n_ids(&self) -> usize {
        self.inner.ids_len()
    }

    /// The interned keys from `start` on, as an (n, 32) array (key id = row).
    #[pyo3(signature = (start = 0))]
    fn keys<'py>(&self, py: Python<'py>, start: usize) -> PyResult<Bound<'py, PyArray2<u8>>> {
        let ks = self.inner.keys().get(start..).unwrap_or(&[]);
        to_rows(py, ks.iter().flatten().copied().collect(), 32)
    }

    /// The last quantum number of each device, in genesis order.
    fn device_seq<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<u64>> {
        PyArray1::from_vec(py, self.inner.device_seq().to_vec())
    }

    /// Unspent (energy Wh, valid votes at `period`) of a key.
    fn balance(&self, key_: &[u8], period: u64) -> PyResult<(u128, u128)> {
        Ok(self.inner.balance(&key("key", key_)?, period))
    }

    /// The unspent output (owner, asset, amount, expires) at (txid, index), or None.
    fn output<'py>(
        &self,
        py: Python<'py>,
        txid: &[u8],
        index: u16,
    ) -> PyResult<Option<OutputTuple<'py>>> {
        let p = Outpoint {
            txid: digest("txid", txid)?,
            index,
        };
        Ok(self.inner.output(&p).map(|o| {
            (
                PyBytes::new(py, &o.owner),
                o.asset.code(),
                o.amount,
                o.expires,
            )
        }))
    }

    /// Validate a block (header, signature, transactions `txs[offsets[i]:offsets[i+1]]`)
    /// without changing the state; returns what `append` would record. The
    /// accepted block is held until `commit(block_hash)` applies it (two-phase
    /// append: validate, write the store, then commit).
    fn check<'py>(
        &mut self,
        py: Python<'py>,
        header: &[u8],
        signature: &[u8],
        txs: &[u8],
        offsets_: PyReadonlyArray1<'py, i64>,
    ) -> PyResult<Bound<'py, PyDict>> {
        // Validate first: a rejected block leaves the pending one in place.
        let acc = self.run_check(py, header, signature, txs, &offsets_)?;
        let d = accepted_dict(py, &acc, self.inner.n_tx())?;
        self.pending = Some(acc);
        Ok(d)
    }

    /// Apply the block the last `check` accepted; `block_hash` must be its hash.
    fn commit(&mut self, block_hash: &[u8]) -> PyResult<()> {
        match self.pending.take() {
            Some(acc) if acc.block_hash.as_slice() == block_hash => {
                self.inner.apply(&acc);
                Ok(())
            }
            other => {
                self.pending = other;
                Err(CoreError::invalid(
                    "block_hash",
                    crate::ledger::codec::short(block_hash),
                    "not the block the last check accepted",
                )
                .into())
            }
        }
    }

    /// Validate and append a block; on any error the state is unchanged.
    fn append<'py>(
        &mut self,
        py: Python<'py>,
        header: &[u8],
        signature: &[u8],
        txs: &[u8],
        offsets_: PyReadonlyArray1<'py, i64>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let first = self.inner.n_tx();
        // A rejected block changes nothing, the pending block included.
        let acc = self.run_check(py, header, signature, txs, &offsets_)?;
        self.inner.apply(&acc);
        // The tip moved: a block checked against the old tip can no longer commit.
        self.pending = None;
        accepted_dict(py, &acc, first)
    }

    /// Every unspent output of a key: a list of (txid, index, asset, amount, expires), sorted.
    fn unspent<'py>(&self, py: Python<'py>, key_: &[u8]) -> PyResult<Vec<Unspent<'py>>> {
        let mut v = self.inner.unspent(&key("key", key_)?);
        v.sort_by_key(|x| x.0);
        Ok(v.into_iter()
            .map(|(p, o)| {
                (
                    PyBytes::new(py, &p.txid),
                    p.index,
                    o.asset.code(),
                    o.amount,
                    o.expires,
                )
            })
            .collect())
    }

    /// An independent copy (for a node that validates a fork).
    fn copy(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            pending: None,
        }
    }

    /// Who may produce the next block, in order: the chosen producer, then
    /// (auction chains) the fallback producers. An (n, 32) array.
    fn producers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<u8>>> {
        to_rows(
            py,
            self.inner.producers().iter().flatten().copied().collect(),
            32,
        )
    }

    /// Per member (genesis order): last period produced (-1: never), blocks
    /// made, penalties, strikes, barred.
    fn member_stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let m = &self.inner.book().members;
        let d = PyDict::new(py);
        let col = |f: &dyn Fn(&crate::ledger::auction::MemberStats) -> i64| {
            m.iter().map(f).collect::<Vec<i64>>()
        };
        d.set_item(
            "last_period",
            PyArray1::from_vec(
                py,
                col(&|s| {
                    s.last_period
                        .map_or(-1, |p| i64::try_from(p).unwrap_or(i64::MAX))
                }),
            ),
        )?;
        d.set_item(
            "made",
            PyArray1::from_vec(py, col(&|s| i64::try_from(s.made).unwrap_or(i64::MAX))),
        )?;
        d.set_item(
            "penalties",
            PyArray1::from_vec(py, col(&|s| i64::try_from(s.penalties).unwrap_or(i64::MAX))),
        )?;
        d.set_item(
            "strikes",
            PyArray1::from_vec(py, col(&|s| i64::from(s.strikes))),
        )?;
        d.set_item(
            "barred",
            PyArray1::from_vec(py, m.iter().map(|s| s.barred).collect::<Vec<bool>>()),
        )?;
        Ok(d)
    }

    /// The next block's auction among on-time offers (members' keys and tokens):
    /// (winner key or None, each offer's wealth W).
    fn auction<'py>(
        &self,
        py: Python<'py>,
        candidates: PyReadonlyArray2<'py, u8>,
        tokens: PyReadonlyArray1<'py, u64>,
    ) -> PyResult<AuctionResult<'py>> {
        let keys = keys_of("candidates", &candidates)?;
        let t = slice("tokens", &tokens)?;
        same_len("tokens", keys.len(), t.len())?;
        let book = self.inner.book();
        let mut offers = Vec::with_capacity(keys.len());
        for (i, (k, n)) in keys.iter().zip(t).enumerate() {
            let member = book.member(k).ok_or_else(|| {
                CoreError::rule(
                    Rule::NotAuthorised,
                    format!("candidates[{i}]"),
                    crate::ledger::codec::short(k),
                    "not a member",
                )
            })?;
            offers.push(crate::ledger::auction::Offer {
                member,
                key: *k,
                tokens: *n,
            });
        }
        let g = self.inner.genesis();
        let period = self.inner.tip().period + 2;
        let w = crate::ledger::auction::wealth(&g.consensus, book, &offers, period, g.first_period);
        let won = crate::ledger::auction::winner(
            self.inner.algorithm(),
            g,
            book,
            &offers,
            &self.inner.tip_hash(),
            period,
        );
        Ok((won.map(|k| PyBytes::new(py, &k)), PyArray1::from_vec(py, w)))
    }

    /// The next block's `next_winner` when no candidacy is on time: a draw among
    /// all non-barred members with equal weight.
    fn no_candidate_winner<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        let g = self.inner.genesis();
        crate::ledger::auction::equal_order(
            self.inner.algorithm(),
            g,
            self.inner.book(),
            None,
            &self.inner.tip_hash(),
            self.inner.tip().period + 2,
        )
        .first()
        .map(|k| PyBytes::new(py, k))
    }

    /// Blocks in the Merkle log (height + 1).
    #[getter]
    fn log_size(&self) -> u64 {
        self.inner.log().size()
    }

    /// Root of the block-hash log over the first `size` blocks (all by default).
    #[pyo3(signature = (size = None))]
    fn log_root<'py>(&self, py: Python<'py>, size: Option<u64>) -> PyResult<Bound<'py, PyBytes>> {
        let log = self.inner.log();
        Ok(PyBytes::new(py, &log.root_at(size.unwrap_or(log.size()))?))
    }

    /// Inclusion proof of block `height` in the log of `size` blocks.
    #[pyo3(signature = (height, size = None))]
    fn block_proof<'py>(
        &self,
        py: Python<'py>,
        height: u64,
        size: Option<u64>,
    ) -> PyResult<Vec<Bound<'py, PyBytes>>> {
        let log = self.inner.log();
        let p = log.inclusion_proof(height, size.unwrap_or(log.size()))?;
        Ok(p.iter().map(|h| PyBytes::new(py, h)).collect())
    }

    /// Consistency proof between the logs of `old_size` and `new_size` blocks.
    #[pyo3(signature = (old_size, new_size = None))]
    fn consistency_proof<'py>(
        &self,
        py: Python<'py>,
        old_size: u64,
        new_size: Option<u64>,
    ) -> PyResult<Vec<Bound<'py, PyBytes>>> {
        let log = self.inner.log();
        let p = log.consistency_proof(old_size, new_size.unwrap_or(log.size()))?;
        Ok(p.iter().map(|h| PyBytes::new(py, h)).collect())
    }
}

pub(super) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyChainState>()?;
    Ok(())
}
