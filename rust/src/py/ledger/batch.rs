//! `gridledger._core` batch paths of the ledger codec: many transfers or
//! candidacies encoded in one call, and the ids (and auction winner) of a
//! block's whole transactions read in one pass. Rows are CSR: transaction `i`
//! owns rows `offsets[i]..offsets[i + 1]` of each column.

use std::ops::Range;

use numpy::{PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::crypto::hash::{check_offsets, Algorithm, Digest};
use crate::error::{CoreError, Rule};
use crate::ledger::codec::Key;
use crate::ledger::codec::MAX_AMOUNT;
use crate::ledger::tx::{Asset, Outpoint, Output, Payload, Tx};
use crate::py::buffers::{digests, offsets, slice, to_rows};

/// Whole transactions at or above this count are decoded and hashed on the
/// rayon pool (as the chain state does).
const PAR_MIN_TXS: usize = 256;

/// (ids (n, 32), kind codes (n,), the last non-zero Winner's winner or None).
type Scanned<'py> = (
    Bound<'py, PyArray2<u8>>,
    Bound<'py, PyArray1<u8>>,
    Option<Bound<'py, PyBytes>>,
);

/// (concatenated bodies, their (n + 1,) offsets).
type Bodies<'py> = (Bound<'py, PyBytes>, Bound<'py, PyArray1<i64>>);

/// Per transaction, its range of rows in one column: `offs` has `n + 1`
/// entries rising from 0 to the column's length `rows`, and no transaction
/// holds more than `max` rows.
fn csr(
    field: &str,
    offs: &PyReadonlyArray1<'_, i64>,
    n: usize,
    rows: usize,
    max: usize,
) -> Result<Vec<Range<usize>>, CoreError> {
    let o = offsets(field, offs)?;
    if o.len() != n + 1 {
        return Err(CoreError::invalid(
            field,
            format!("{} entries", o.len()),
            format!("expected {}, one per transaction and one more", n + 1),
        ));
    }
    check_offsets(&o, rows).map_err(|_| {
        CoreError::invalid(
            field,
            format!("{} entries", o.len()),
            format!("must rise from 0 to the column length ({rows})"),
        )
    })?;
    o.windows(2)
        .enumerate()
        .map(|(i, w)| match w {
            [a, b] if b - a <= max => Ok(*a..*b),
            [a, b] => Err(CoreError::invalid(
                format!("{field}[{}]", i + 1),
                b - a,
                format!("at most {max} per transaction"),
            )),
            _ => Ok(0..0),
        })
        .collect()
}

fn tag8(b: &[u8]) -> Result<[u8; 8], CoreError> {
    b.try_into().map_err(|_| {
        CoreError::invalid(
            "chain_tag",
            format!("{} bytes", b.len()),
            "a chain tag is 8 bytes",
        )
    })
}

fn same_len(field: &str, n: usize, m: usize) -> Result<(), CoreError> {
    if n == m {
        Ok(())
    } else {
        Err(CoreError::invalid(
            field,
            format!("{m} entries"),
            format!("expected {n}, one per row"),
        ))
    }
}

/// Input columns: txids (r, 32) and output indices (r,).
struct Inputs {
    txids: Vec<Digest>,
    index: Vec<u16>,
}

impl Inputs {
    fn read(
        txids: &PyReadonlyArray2<'_, u8>,
        index: &PyReadonlyArray1<'_, i64>,
    ) -> Result<Self, CoreError> {
        let txids = digests("input_txids", txids)?;
        let idx = slice("input_index", index)?;
        same_len("input_index", txids.len(), idx.len())?;
        let index = idx
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                u16::try_from(x).map_err(|_| {
                    CoreError::invalid(format!("input_index[{i}]"), x, "must be in 0..65535")
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { txids, index })
    }

    fn take(&self, r: Range<usize>) -> Vec<Outpoint> {
        let t = self.txids.get(r.clone()).unwrap_or(&[]);
        let x = self.index.get(r).unwrap_or(&[]);
        t.iter()
            .zip(x)
            .map(|(txid, &index)| Outpoint { txid: *txid, index })
            .collect()
    }
}

/// Output columns, checked once: owners (m, 32), assets, amounts, expires.
struct Outputs(Vec<Output>);

impl Outputs {
    fn read(
        owners: &PyReadonlyArray2<'_, u8>,
        assets: &PyReadonlyArray1<'_, u8>,
        amounts: &PyReadonlyArray1<'_, i64>,
        expires: &PyReadonlyArray1<'_, u64>,
    ) -> Result<Self, CoreError> {
        let owners = digests("owners", owners)?;
        let (a, m, e) = (
            slice("assets", assets)?,
            slice("amounts", amounts)?,
            slice("expires", expires)?,
        );
        same_len("assets", owners.len(), a.len())?;
        same_len("amounts", owners.len(), m.len())?;
        same_len("expires", owners.len(), e.len())?;
        let mut out = Vec::with_capacity(owners.len());
        for (i, (((o, &code), &amt), &exp)) in owners.iter().zip(a).zip(m).zip(e).enumerate() {
            let asset = Asset::from_code(code).ok_or_else(|| {
                CoreError::invalid(format!("assets[{i}]"), code, "0 = energy, 1 = vote")
            })?;
            let amount = u64::try_from(amt)
                .ok()
                .filter(|&x| x <= MAX_AMOUNT)
                .ok_or_else(|| {
                    CoreError::rule(
                        Rule::Transaction,
                        format!("amounts[{i}]"),
                        amt,
                        "amounts must be integers ≥ 0 (Wh, tokens)",
                    )
                })?;
            out.push(Output {
                owner: *o,
                asset,
                amount,
                expires: exp,
            });
        }
        Ok(Self(out))
    }

    fn take(&self, r: Range<usize>) -> Vec<Output> {
        self.0.get(r).unwrap_or(&[]).to_vec()
    }
}

/// Encode every body, then concatenate them with their offsets.
fn bodies<'py>(
    py: Python<'py>,
    chain_tag: [u8; 8],
    period: u64,
    txs: impl Iterator<Item = (Payload, Vec<Output>)>,
) -> Bodies<'py> {
    let mut out = Vec::new();
    let mut offs = vec![0i64];
    for (payload, outputs) in txs {
        let tx = Tx {
            chain_tag,
            period,
            payload,
            outputs,
            signatures: vec![],
        };
        out.extend_from_slice(&tx.encode_body());
        offs.push(i64::try_from(out.len()).unwrap_or(i64::MAX));
    }
    (PyBytes::new(py, &out), PyArray1::from_vec(py, offs))
}

/// Encode many Transfer bodies of one period in one call: transfer `i` is
/// signed by rows `signer_offsets[i]..signer_offsets[i+1]` of `signers`,
/// spends those of `input_offsets` and pays those of `output_offsets`.
/// Returns (bodies, offsets), byte for byte `encode_transfer` of each.
#[pyfunction]
#[pyo3(signature = (chain_tag, period, signer_offsets, signers, input_offsets, input_txids, input_index, output_offsets, owners, assets, amounts, expires))]
#[allow(clippy::too_many_arguments)]
fn encode_transfers<'py>(
    py: Python<'py>,
    chain_tag: &[u8],
    period: u64,
    signer_offsets: PyReadonlyArray1<'py, i64>,
    signers: PyReadonlyArray2<'py, u8>,
    input_offsets: PyReadonlyArray1<'py, i64>,
    input_txids: PyReadonlyArray2<'py, u8>,
    input_index: PyReadonlyArray1<'py, i64>,
    output_offsets: PyReadonlyArray1<'py, i64>,
    owners: PyReadonlyArray2<'py, u8>,
    assets: PyReadonlyArray1<'py, u8>,
    amounts: PyReadonlyArray1<'py, i64>,
    expires: PyReadonlyArray1<'py, u64>,
) -> PyResult<Bodies<'py>> {
    let t = tag8(chain_tag)?;
    let n = slice("signer_offsets", &signer_offsets)?
        .len()
        .saturating_sub(1);
    let keys: Vec<Key> = digests("signers", &signers)?;
    let ins = Inputs::read(&input_txids, &input_index)?;
    let outs = Outputs::read(&owners, &assets, &amounts, &expires)?;
    let s = csr("signer_offsets", &signer_offsets, n, keys.len(), 255)?;
    let i = csr("input_offsets", &input_offsets, n, ins.txids.len(), 65535)?;
    let o = csr("output_offsets", &output_offsets, n, outs.0.len(), 65535)?;
    let txs = s.into_iter().zip(i).zip(o).map(|((s, i), o)| {
        let payload = Payload::Transfer {
            signers: keys.get(s).unwrap_or(&[]).to_vec(),
            inputs: ins.take(i),
        };
        (payload, outs.take(o))
    });
    Ok(bodies(py, t, period, txs))
}

/// Encode many Candidate bodies of one period in one call (SPEC §3):
/// candidacy `i` is by `candidates[i]`, sent at `sent_ms[i]` (Unix ms), and
/// spends and pays its CSR rows of the input and output columns. Returns
/// (bodies, offsets), byte for byte `encode_auction_tx("candidate", …)` of each.
#[pyfunction]
#[pyo3(signature = (chain_tag, period, candidates, sent_ms, input_offsets, input_txids, input_index, output_offsets, owners, assets, amounts, expires))]
#[allow(clippy::too_many_arguments)]
fn encode_candidates<'py>(
    py: Python<'py>,
    chain_tag: &[u8],
    period: u64,
    candidates: PyReadonlyArray2<'py, u8>,
    sent_ms: PyReadonlyArray1<'py, i64>,
    input_offsets: PyReadonlyArray1<'py, i64>,
    input_txids: PyReadonlyArray2<'py, u8>,
    input_index: PyReadonlyArray1<'py, i64>,
    output_offsets: PyReadonlyArray1<'py, i64>,
    owners: PyReadonlyArray2<'py, u8>,
    assets: PyReadonlyArray1<'py, u8>,
    amounts: PyReadonlyArray1<'py, i64>,
    expires: PyReadonlyArray1<'py, u64>,
) -> PyResult<Bodies<'py>> {
    let t = tag8(chain_tag)?;
    let who: Vec<Key> = digests("candidates", &candidates)?;
    let sent = slice("sent_ms", &sent_ms)?;
    same_len("sent_ms", who.len(), sent.len())?;
    let ins = Inputs::read(&input_txids, &input_index)?;
    let outs = Outputs::read(&owners, &assets, &amounts, &expires)?;
    let n = who.len();
    let i = csr("input_offsets", &input_offsets, n, ins.txids.len(), 65535)?;
    let o = csr("output_offsets", &output_offsets, n, outs.0.len(), 65535)?;
    let txs = who
        .iter()
        .zip(sent)
        .zip(i.into_iter().zip(o))
        .map(|((k, &ms), (i, o))| {
            let payload = Payload::Candidate {
                candidate: *k,
                sent_ms: ms,
                inputs: ins.take(i),
            };
            (payload, outs.take(o))
        });
    Ok(bodies(py, t, period, txs))
}

/// Name the transaction `i` of a batch in a decoding error, keeping its class.
fn at_tx(e: CoreError, i: usize) -> CoreError {
    match e {
        CoreError::Rule {
            rule,
            field,
            value,
            reason,
        } => CoreError::Rule {
            rule,
            field: format!("txs[{i}]"),
            value: format!("{field} {value}"),
            reason,
        },
        other => other,
    }
}

/// Read whole transactions `data[offsets[i]:offsets[i+1]]` (body and
/// signatures, as a block carries them) in one pass: their ids H(body), their
/// kind codes (0 Create, 1 Transfer, 2 Candidate, 3 Winner, 4 Evidence, 5 Losses) and
/// the winner named by the last Winner with a non-zero winner, or None (the
/// next producer of an auction chain, SPEC §3). Raises
/// InvalidTransactionError naming `txs[i]` on the first undecodable one.
#[pyfunction]
#[pyo3(signature = (data, offsets_, algorithm = "blake3"))]
fn scan_txs<'py>(
    py: Python<'py>,
    data: &[u8],
    offsets_: PyReadonlyArray1<'py, i64>,
    algorithm: &str,
) -> PyResult<Scanned<'py>> {
    let alg = Algorithm::parse(algorithm)?;
    let offs = offsets("offsets", &offsets_)?;
    check_offsets(&offs, data.len())?;
    let parts: Vec<&[u8]> = offs
        .windows(2)
        .map(|w| match w {
            [a, b] => data.get(*a..*b).unwrap_or(&[]),
            _ => &[],
        })
        .collect();
    let one = |t: &&[u8]| -> Result<(Digest, u8, Option<Key>), CoreError> {
        let (tx, body_len) = Tx::decode(t)?;
        let id = alg.hash(t.get(..body_len).unwrap_or(&[]));
        let won = match tx.payload {
            Payload::Winner { winner, .. } if winner != [0u8; 32] => Some(winner),
            _ => None,
        };
        Ok((id, tx.kind().code(), won))
    };
    let read: Vec<Result<_, CoreError>> = py.detach(|| {
        use rayon::prelude::*;
        if parts.len() >= PAR_MIN_TXS {
            parts.par_iter().map(one).collect()
        } else {
            parts.iter().map(one).collect()
        }
    });
    let mut ids = Vec::with_capacity(32 * parts.len());
    let mut kinds = Vec::with_capacity(parts.len());
    let mut winner = None;
    for (i, r) in read.into_iter().enumerate() {
        let (id, kind, won) = r.map_err(|e| at_tx(e, i))?;
        ids.extend_from_slice(&id);
        kinds.push(kind);
        winner = won.or(winner);
    }
    Ok((
        to_rows(py, ids, 32)?,
        PyArray1::from_vec(py, kinds),
        winner.map(|k| PyBytes::new(py, &k)),
    ))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(encode_transfers, m)?)?;
    m.add_function(wrap_pyfunction!(encode_candidates, m)?)?;
    m.add_function(wrap_pyfunction!(scan_txs, m)?)?;
    Ok(())
}
