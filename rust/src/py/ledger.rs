//! `gridledger._core` ledger bindings: encodings, a key ring for signing in
//! batches, and the chain state that validates whole blocks.

use numpy::{PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use super::buffers::{digest, offsets, rows, slice, to_rows};
use crate::error::{CoreError, Rule};
use crate::hash::{check_offsets, Algorithm, Digest};
use crate::ledger::block::Header;
use crate::ledger::block::HEADER_LEN;
use crate::ledger::codec::{Key, Sig};
use crate::ledger::genesis::{Consensus, Device, Genesis, Member};
use crate::ledger::state::{Accepted, ChainState};
use crate::ledger::tx::{Asset, Outpoint, Output, Payload, SignedHeader, Tx, MAX_AMOUNT};
use crate::merkle::MerkleTree;
use crate::sig::Keypair;

/// (txid, index, asset, amount, expires) of an unspent output.
type Unspent<'py> = (Bound<'py, PyBytes>, u16, u8, u64, u64);
/// Two (header, signature) pairs of an Evidence.
type EvidencePair = (Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>);
/// (winner or None, wealth of each offer).
type AuctionResult<'py> = (Option<Bound<'py, PyBytes>>, Bound<'py, PyArray1<f64>>);
/// (producer rule, draw, α, β, γ ppm, t_d, t_e, grace ms, fee ppm, strikes).
type ConsensusTuple = (u8, u8, u32, u32, u32, u32, u32, u32, u32, u8);
/// (ids (n, 32), whole transactions, their offsets).
type Signed<'py> = (
    Bound<'py, PyArray2<u8>>,
    Bound<'py, PyBytes>,
    Bound<'py, PyArray1<i64>>,
);
/// (owner, asset code, amount, expires) of an unspent output.
type OutputTuple<'py> = (Bound<'py, PyBytes>, u8, u64, u64);

fn key(field: &str, b: &[u8]) -> Result<Key, CoreError> {
    b.try_into().map_err(|_| {
        CoreError::invalid(
            field,
            format!("{} bytes", b.len()),
            "a public key is 32 bytes",
        )
    })
}

fn keys_of(field: &str, a: &PyReadonlyArray2<'_, u8>) -> Result<Vec<Key>, CoreError> {
    let (data, _, _) = rows(field, a, Some(32))?;
    Ok(data
        .chunks_exact(32)
        .map(|c| c.try_into().unwrap_or([0; 32]))
        .collect())
}

fn tag(b: &[u8]) -> Result<[u8; 8], CoreError> {
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

fn amount(field: &str, v: i64) -> Result<u64, CoreError> {
    u64::try_from(v)
        .ok()
        .filter(|&a| a <= MAX_AMOUNT)
        .ok_or_else(|| {
            CoreError::rule(
                Rule::Transaction,
                field,
                v,
                "amounts must be integers ≥ 0 (Wh, tokens)",
            )
        })
}

fn split<'a>(field: &str, data: &'a [u8], offs: &[usize]) -> Result<Vec<&'a [u8]>, CoreError> {
    check_offsets(offs, data.len()).map_err(|_| {
        CoreError::invalid(
            field,
            format!("{} entries", offs.len()),
            "must rise from 0 to the data length",
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

/// Encode a Create body (one cryptometer quantum).
#[pyfunction]
#[pyo3(signature = (chain_tag, period, device, seq, v_wh, votes, vote_expires))]
#[allow(clippy::too_many_arguments)]
fn encode_create<'py>(
    py: Python<'py>,
    chain_tag: &[u8],
    period: u64,
    device: &[u8],
    seq: u64,
    v_wh: i64,
    votes: i64,
    vote_expires: u64,
) -> PyResult<Bound<'py, PyBytes>> {
    let device = key("device", device)?;
    let tx = create(
        tag(chain_tag)?,
        period,
        device,
        seq,
        amount("v_wh", v_wh)?,
        amount("votes", votes)?,
        vote_expires,
    );
    Ok(PyBytes::new(py, &tx.encode_body()))
}

fn create(
    chain_tag: [u8; 8],
    period: u64,
    device: Key,
    seq: u64,
    v: u64,
    votes: u64,
    expires: u64,
) -> Tx {
    let mut outputs = vec![Output {
        owner: device,
        asset: Asset::Energy,
        amount: v,
        expires: crate::ledger::tx::NEVER,
    }];
    if votes > 0 {
        outputs.push(Output {
            owner: device,
            asset: Asset::Vote,
            amount: votes,
            expires,
        });
    }
    Tx {
        chain_tag,
        period,
        payload: Payload::Create { device, seq },
        outputs,
        signatures: vec![],
    }
}

/// Encode many Create bodies at once: row i is device `devices[i]`'s quantum
/// number `seqs[i]`. Returns (bodies, offsets).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn encode_creates<'py>(
    py: Python<'py>,
    chain_tag: &[u8],
    period: u64,
    devices: PyReadonlyArray2<'py, u8>,
    seqs: PyReadonlyArray1<'py, u64>,
    v_wh: PyReadonlyArray1<'py, i64>,
    votes: PyReadonlyArray1<'py, i64>,
    vote_expires: u64,
) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyArray1<i64>>)> {
    let t = tag(chain_tag)?;
    let devs = keys_of("devices", &devices)?;
    let (s, v, e) = (
        slice("seqs", &seqs)?,
        slice("v_wh", &v_wh)?,
        slice("votes", &votes)?,
    );
    same_len("seqs", devs.len(), s.len())?;
    same_len("v_wh", devs.len(), v.len())?;
    same_len("votes", devs.len(), e.len())?;
    let mut out = Vec::with_capacity(devs.len() * 170);
    let mut offs = Vec::with_capacity(devs.len() + 1);
    offs.push(0i64);
    for (i, d) in devs.iter().enumerate() {
        let (seq, vi, ei) = (
            s.get(i).copied().unwrap_or(0),
            v.get(i).copied().unwrap_or(0),
            e.get(i).copied().unwrap_or(0),
        );
        let tx = create(
            t,
            period,
            *d,
            seq,
            amount(&format!("v_wh[{i}]"), vi)?,
            amount(&format!("votes[{i}]"), ei)?,
            vote_expires,
        );
        out.extend_from_slice(&tx.encode_body());
        offs.push(i64::try_from(out.len()).unwrap_or(i64::MAX));
    }
    Ok((PyBytes::new(py, &out), PyArray1::from_vec(py, offs)))
}

fn inputs_of(
    input_txids: &PyReadonlyArray2<'_, u8>,
    input_index: &PyReadonlyArray1<'_, i64>,
) -> Result<Vec<Outpoint>, CoreError> {
    let txids = keys_of("input_txids", input_txids)?;
    let idx = slice("input_index", input_index)?;
    same_len("input_index", txids.len(), idx.len())?;
    if txids.len() > usize::from(u16::MAX) {
        return Err(CoreError::invalid(
            "inputs",
            txids.len(),
            "at most 65535 inputs",
        ));
    }
    txids
        .iter()
        .zip(idx)
        .enumerate()
        .map(|(i, (t, &x))| {
            let index = u16::try_from(x).map_err(|_| {
                CoreError::invalid(format!("input_index[{i}]"), x, "must be in 0..65535")
            })?;
            Ok(Outpoint { txid: *t, index })
        })
        .collect()
}

/// Output columns: owners (m, 32), assets, amounts, expires.
type OutputColumns<'a, 'py> = (
    &'a PyReadonlyArray2<'py, u8>,
    &'a PyReadonlyArray1<'py, u8>,
    &'a PyReadonlyArray1<'py, i64>,
    &'a PyReadonlyArray1<'py, u64>,
);

fn outputs_of(cols: OutputColumns<'_, '_>) -> Result<Vec<Output>, CoreError> {
    let (owners, assets, amounts, expires) = cols;
    let owners = keys_of("owners", owners)?;
    let (a, m, e) = (
        slice("assets", assets)?,
        slice("amounts", amounts)?,
        slice("expires", expires)?,
    );
    same_len("assets", owners.len(), a.len())?;
    same_len("amounts", owners.len(), m.len())?;
    same_len("expires", owners.len(), e.len())?;
    if owners.len() > usize::from(u16::MAX) {
        return Err(CoreError::invalid(
            "outputs",
            owners.len(),
            "at most 65535 outputs",
        ));
    }
    let mut outputs = Vec::with_capacity(owners.len());
    for (i, o) in owners.iter().enumerate() {
        let code = a.get(i).copied().unwrap_or(u8::MAX);
        let asset = Asset::from_code(code).ok_or_else(|| {
            CoreError::invalid(format!("assets[{i}]"), code, "0 = energy, 1 = vote")
        })?;
        outputs.push(Output {
            owner: *o,
            asset,
            amount: amount(&format!("amounts[{i}]"), m.get(i).copied().unwrap_or(-1))?,
            expires: e.get(i).copied().unwrap_or(0),
        });
    }
    Ok(outputs)
}

fn body(
    chain_tag: &[u8],
    period: u64,
    payload: Payload,
    outputs: Vec<Output>,
) -> Result<Vec<u8>, CoreError> {
    let tx = Tx {
        chain_tag: tag(chain_tag)?,
        period,
        payload,
        outputs,
        signatures: vec![],
    };
    Ok(tx.encode_body())
}

/// Encode a Transfer body.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn encode_transfer<'py>(
    py: Python<'py>,
    chain_tag: &[u8],
    period: u64,
    signers: PyReadonlyArray2<'py, u8>,
    input_txids: PyReadonlyArray2<'py, u8>,
    input_index: PyReadonlyArray1<'py, i64>,
    owners: PyReadonlyArray2<'py, u8>,
    assets: PyReadonlyArray1<'py, u8>,
    amounts: PyReadonlyArray1<'py, i64>,
    expires: PyReadonlyArray1<'py, u64>,
) -> PyResult<Bound<'py, PyBytes>> {
    let signers = keys_of("signers", &signers)?;
    if signers.len() > 255 {
        return Err(CoreError::invalid("signers", signers.len(), "at most 255 signers").into());
    }
    let inputs = inputs_of(&input_txids, &input_index)?;
    let outputs = outputs_of((&owners, &assets, &amounts, &expires))?;
    let b = body(
        chain_tag,
        period,
        Payload::Transfer { signers, inputs },
        outputs,
    )?;
    Ok(PyBytes::new(py, &b))
}

/// Encode a Candidate, Winner or Evidence body (SPEC §3). `signer` is the
/// candidate, the miner or the reporter; `winner` (Winner) and `evidence`
/// (two (header, signature) pairs) as the kind needs.
#[pyfunction]
#[pyo3(signature = (kind, chain_tag, period, signer, input_txids, input_index, owners, assets, amounts, expires, sent_ms = 0, winner = None, evidence = None))]
#[allow(clippy::too_many_arguments)]
fn encode_auction_tx<'py>(
    py: Python<'py>,
    kind: &str,
    chain_tag: &[u8],
    period: u64,
    signer: &[u8],
    input_txids: PyReadonlyArray2<'py, u8>,
    input_index: PyReadonlyArray1<'py, i64>,
    owners: PyReadonlyArray2<'py, u8>,
    assets: PyReadonlyArray1<'py, u8>,
    amounts: PyReadonlyArray1<'py, i64>,
    expires: PyReadonlyArray1<'py, u64>,
    sent_ms: i64,
    winner: Option<&[u8]>,
    evidence: Option<EvidencePair>,
) -> PyResult<Bound<'py, PyBytes>> {
    let signer = key("signer", signer)?;
    let inputs = inputs_of(&input_txids, &input_index)?;
    let outputs = outputs_of((&owners, &assets, &amounts, &expires))?;
    let payload = match kind {
        "candidate" => Payload::Candidate {
            candidate: signer,
            sent_ms,
            inputs,
        },
        "winner" => Payload::Winner {
            miner: signer,
            winner: key("winner", winner.unwrap_or(&[0; 32]))?,
            inputs,
        },
        "evidence" => {
            let Some((ha, sa, hb, sb)) = evidence else {
                return Err(CoreError::invalid(
                    "evidence",
                    "None",
                    "an Evidence needs two (header, signature) pairs",
                )
                .into());
            };
            let signed = |h: Vec<u8>, s: &[u8], f: &str| -> Result<SignedHeader, CoreError> {
                if h.len() != HEADER_LEN {
                    return Err(CoreError::invalid(
                        f,
                        format!("{} bytes", h.len()),
                        "a header is 193 bytes",
                    ));
                }
                Ok(SignedHeader {
                    header: h,
                    signature: s.try_into().map_err(|_| {
                        CoreError::invalid(
                            f,
                            format!("{} bytes", s.len()),
                            "a signature is 64 bytes",
                        )
                    })?,
                })
            };
            Payload::Evidence {
                reporter: signer,
                first: signed(ha, &sa, "evidence[0]")?,
                second: signed(hb, &sb, "evidence[1]")?,
                inputs,
            }
        }
        _ => {
            return Err(CoreError::config(
                "kind",
                format!("{kind:?}"),
                "expected \"candidate\", \"winner\" or \"evidence\"",
            )
            .into())
        }
    };
    let b = body(chain_tag, period, payload, outputs)?;
    Ok(PyBytes::new(py, &b))
}

/// Decode one whole transaction into a dict of its fields.
#[pyfunction]
fn decode_tx<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyDict>> {
    let (tx, body_len) = Tx::decode(data)?;
    let d = PyDict::new(py);
    d.set_item("kind", tx.kind().name())?;
    d.set_item("chain_tag", PyBytes::new(py, &tx.chain_tag))?;
    d.set_item("period", tx.period)?;
    match &tx.payload {
        Payload::Create { device, seq } => {
            d.set_item("device", PyBytes::new(py, device))?;
            d.set_item("seq", *seq)?;
        }
        Payload::Candidate { sent_ms, .. } => d.set_item("sent_ms", *sent_ms)?,
        Payload::Winner { winner, .. } => d.set_item("winner", PyBytes::new(py, winner))?,
        Payload::Evidence { first, second, .. } => d.set_item(
            "evidence",
            (
                PyBytes::new(py, &first.header),
                PyBytes::new(py, &first.signature),
                PyBytes::new(py, &second.header),
                PyBytes::new(py, &second.signature),
            ),
        )?,
        Payload::Transfer { .. } => {}
    }
    let b = |k: &[u8]| PyBytes::new(py, k);
    d.set_item(
        "signers",
        tx.signers().iter().map(|k| b(k)).collect::<Vec<_>>(),
    )?;
    d.set_item(
        "inputs",
        tx.inputs()
            .iter()
            .map(|p| (b(&p.txid), p.index))
            .collect::<Vec<_>>(),
    )?;
    d.set_item(
        "outputs",
        tx.outputs
            .iter()
            .map(|o| (b(&o.owner), o.asset.code(), o.amount, o.expires))
            .collect::<Vec<_>>(),
    )?;
    d.set_item(
        "signatures",
        tx.signatures.iter().map(|s| b(s)).collect::<Vec<_>>(),
    )?;
    d.set_item("body_len", body_len)?;
    Ok(d)
}

/// Encode a block header.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn encode_header<'py>(
    py: Python<'py>,
    chain_id: &[u8],
    height: u64,
    period: u64,
    prev_hash: &[u8],
    tx_root: &[u8],
    n_tx: u32,
    miner: &[u8],
    next_winner: &[u8],
    timestamp_ms: i64,
) -> PyResult<Bound<'py, PyBytes>> {
    let h = Header {
        chain_id: digest("chain_id", chain_id)?,
        height,
        period,
        prev_hash: digest("prev_hash", prev_hash)?,
        tx_root: digest("tx_root", tx_root)?,
        n_tx,
        miner: key("miner", miner)?,
        next_winner: key("next_winner", next_winner)?,
        timestamp_ms,
    };
    Ok(PyBytes::new(py, &h.encode()))
}

fn header_dict<'py>(py: Python<'py>, h: &Header) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("chain_id", PyBytes::new(py, &h.chain_id))?;
    d.set_item("height", h.height)?;
    d.set_item("period", h.period)?;
    d.set_item("prev_hash", PyBytes::new(py, &h.prev_hash))?;
    d.set_item("tx_root", PyBytes::new(py, &h.tx_root))?;
    d.set_item("n_tx", h.n_tx)?;
    d.set_item("miner", PyBytes::new(py, &h.miner))?;
    d.set_item("next_winner", PyBytes::new(py, &h.next_winner))?;
    d.set_item("timestamp_ms", h.timestamp_ms)?;
    Ok(d)
}

/// Decode a block header into a dict.
#[pyfunction]
fn decode_header<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyDict>> {
    header_dict(py, &Header::decode(data)?)
}

/// The RFC 6962 root over transaction ids (an (n, 32) array), as in a header.
#[pyfunction]
#[pyo3(signature = (ids, algorithm = "blake3"))]
fn tx_root<'py>(
    py: Python<'py>,
    ids: PyReadonlyArray2<'py, u8>,
    algorithm: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    let alg = Algorithm::parse(algorithm)?;
    let ids: Vec<Digest> = keys_of("ids", &ids)?;
    Ok(PyBytes::new(py, &crate::ledger::block::tx_root(alg, &ids)))
}

/// Encode a genesis record; raises BadConfigurationError on a bad parameter.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn encode_genesis<'py>(
    py: Python<'py>,
    algorithm: &str,
    period_s: u32,
    first_period: u64,
    vote_validity: u32,
    vpp: &[u8],
    members: Vec<(Vec<u8>, String)>,
    devices: Vec<(Vec<u8>, i64, i64, String)>,
    name: &str,
    consensus: ConsensusTuple,
) -> PyResult<Bound<'py, PyBytes>> {
    let (
        producer_rule,
        draw,
        alpha_ppm,
        beta_ppm,
        gamma_ppm,
        gate_open_ms,
        gate_close_ms,
        grace_ms,
        fee_ppm,
        strikes,
    ) = consensus;
    let g = Genesis {
        algorithm: Algorithm::parse(algorithm)?,
        period_s,
        first_period,
        vote_validity,
        consensus: Consensus {
            producer_rule,
            draw,
            alpha_ppm,
            beta_ppm,
            gamma_ppm,
            gate_open_ms,
            gate_close_ms,
            grace_ms,
            fee_ppm,
            strikes,
        },
        vpp: key("vpp", vpp)?,
        members: members
            .into_iter()
            .enumerate()
            .map(|(i, (k, label))| {
                Ok(Member {
                    key: key(&format!("members[{i}]"), &k)?,
                    label,
                })
            })
            .collect::<Result<_, CoreError>>()?,
        devices: devices
            .into_iter()
            .enumerate()
            .map(|(i, (k, v, e, label))| {
                let bad = |f: &str, x: i64| {
                    CoreError::config(format!("devices[{i}].{f}"), x, "must be ≥ 0")
                };
                Ok(Device {
                    key: key(&format!("devices[{i}]"), &k)?,
                    v_wh: u64::try_from(v).map_err(|_| bad("v_wh", v))?,
                    votes_per_quantum: u64::try_from(e).map_err(|_| bad("votes_per_quantum", e))?,
                    label,
                })
            })
            .collect::<Result<_, CoreError>>()?,
        name: name.to_owned(),
    };
    g.validate()?;
    Ok(PyBytes::new(py, &g.encode()))
}

fn genesis_dict<'py>(py: Python<'py>, g: &Genesis) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("algorithm", g.algorithm.name())?;
    d.set_item("period_s", g.period_s)?;
    d.set_item("first_period", g.first_period)?;
    d.set_item("vote_validity", g.vote_validity)?;
    let c = &g.consensus;
    d.set_item(
        "consensus",
        (
            c.producer_rule,
            c.draw,
            c.alpha_ppm,
            c.beta_ppm,
            c.gamma_ppm,
            c.gate_open_ms,
            c.gate_close_ms,
            c.grace_ms,
            c.fee_ppm,
            c.strikes,
        ),
    )?;
    d.set_item("vpp", PyBytes::new(py, &g.vpp))?;
    d.set_item(
        "members",
        g.members
            .iter()
            .map(|m| (PyBytes::new(py, &m.key), m.label.clone()))
            .collect::<Vec<_>>(),
    )?;
    d.set_item(
        "devices",
        g.devices
            .iter()
            .map(|x| {
                (
                    PyBytes::new(py, &x.key),
                    x.v_wh,
                    x.votes_per_quantum,
                    x.label.clone(),
                )
            })
            .collect::<Vec<_>>(),
    )?;
    d.set_item("name", g.name.clone())?;
    d.set_item("chain_id", PyBytes::new(py, &g.chain_id()))?;
    Ok(d)
}

/// Decode a genesis record into a dict (with its chain id).
#[pyfunction]
fn decode_genesis<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyDict>> {
    genesis_dict(py, &Genesis::decode(data)?)
}

/// Ed25519 keys held in the core; signs batches by key index.
#[pyclass(name = "KeyRing", module = "gridledger._core")]
pub struct PyKeyRing {
    keys: Vec<Keypair>,
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
                .map(|c| Keypair::from_seed(&c.try_into().unwrap_or([0; 32])))
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
            let one = |(b, k): (&&[u8], &&Keypair)| {
                let id = alg.hash(b);
                (id, k.sign(&id))
            };
            if bodies.len() >= 64 {
                bodies.par_iter().zip(ring.par_iter()).map(one).collect()
            } else {
                bodies.iter().zip(ring.iter()).map(one).collect()
            }
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
        let mut out = Vec::with_capacity(64 * msgs.len());
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
            out.extend_from_slice(&key.sign(m));
        }
        to_rows(py, out, 64)
    }
}

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
    #[new]
    fn new(genesis: &[u8]) -> PyResult<Self> {
        Ok(Self {
            inner: ChainState::new(Genesis::decode(genesis)?)?,
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
        self.pending = None;
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
        self.pending = None;
        let first = self.inner.n_tx();
        let acc = self.run_check(py, header, signature, txs, &offsets_)?;
        self.inner.apply(&acc);
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

/// Inclusion proof of transaction `index` among a block's ids ((n, 32) array).
#[pyfunction]
#[pyo3(signature = (ids, index, algorithm = "blake3"))]
fn tx_proof<'py>(
    py: Python<'py>,
    ids: PyReadonlyArray2<'py, u8>,
    index: u64,
    algorithm: &str,
) -> PyResult<Vec<Bound<'py, PyBytes>>> {
    let alg = Algorithm::parse(algorithm)?;
    let (data, _, _) = rows("ids", &ids, Some(32))?;
    let tree = MerkleTree::from_records(alg, data, crate::hash::Records::Fixed(32))?;
    let p = tree.inclusion_proof(index, tree.size())?;
    Ok(p.iter().map(|h| PyBytes::new(py, h)).collect())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyKeyRing>()?;
    m.add_class::<PyChainState>()?;
    m.add_function(wrap_pyfunction!(encode_create, m)?)?;
    m.add_function(wrap_pyfunction!(encode_creates, m)?)?;
    m.add_function(wrap_pyfunction!(encode_transfer, m)?)?;
    m.add_function(wrap_pyfunction!(encode_auction_tx, m)?)?;
    m.add_function(wrap_pyfunction!(decode_tx, m)?)?;
    m.add_function(wrap_pyfunction!(encode_header, m)?)?;
    m.add_function(wrap_pyfunction!(decode_header, m)?)?;
    m.add_function(wrap_pyfunction!(tx_root, m)?)?;
    m.add_function(wrap_pyfunction!(tx_proof, m)?)?;
    m.add_function(wrap_pyfunction!(encode_genesis, m)?)?;
    m.add_function(wrap_pyfunction!(decode_genesis, m)?)?;
    Ok(())
}
