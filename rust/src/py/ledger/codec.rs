//! Ledger encodings (SPEC §2): transactions, headers and the genesis record
//! encoded from and decoded into Python values; the block's transaction root
//! and inclusion proofs.

use numpy::{PyArray1, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use super::args::{amount, key, keys_of, same_len, tag};
use crate::crypto::hash::{Algorithm, Digest};
use crate::crypto::merkle::MerkleTree;
use crate::error::CoreError;
use crate::ledger::block::Header;
use crate::ledger::codec::{Key, HEADER_LEN};
use crate::ledger::genesis::{Consensus, Device, Genesis, Member};
use crate::ledger::tx::{Asset, LossShare, Outpoint, Output, Payload, SignedHeader, Tx};
use crate::py::buffers::{digest, rows, slice};

/// Two (header, signature) pairs of an Evidence.
type EvidencePair = (Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>);
/// (producer rule, draw, α, β, γ ppm, t_d, t_e, grace ms, fee ppm, strikes).
type ConsensusTuple = (u8, u8, u32, u32, u32, u32, u32, u32, u32, u8);

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

/// Encode a Losses body (issue 20): the VPP's record of one period's grid
/// losses, `total_wh`, and the members' shares (`members` (n, 32) keys in
/// genesis order, `loss_wh` (n,) Wh, each ≥ 1). The ledger rules check the
/// order, the members and the sum when the block is validated.
#[pyfunction]
fn encode_losses<'py>(
    py: Python<'py>,
    chain_tag: &[u8],
    period: u64,
    vpp: &[u8],
    total_wh: i64,
    members: PyReadonlyArray2<'py, u8>,
    loss_wh: PyReadonlyArray1<'py, i64>,
) -> PyResult<Bound<'py, PyBytes>> {
    let vpp = key("vpp", vpp)?;
    let total_wh = amount("total_wh", total_wh)?;
    let members = keys_of("members", &members)?;
    let w = slice("loss_wh", &loss_wh)?;
    same_len("loss_wh", members.len(), w.len())?;
    if u32::try_from(members.len()).is_err() {
        return Err(CoreError::invalid("members", members.len(), "at most 2^32-1 shares").into());
    }
    let shares = members
        .iter()
        .zip(w)
        .enumerate()
        .map(|(i, (m, &x))| {
            Ok(LossShare {
                member: *m,
                loss_wh: amount(&format!("loss_wh[{i}]"), x)?,
            })
        })
        .collect::<Result<Vec<_>, CoreError>>()?;
    let b = body(
        chain_tag,
        period,
        Payload::Losses {
            vpp,
            total_wh,
            shares,
        },
        vec![],
    )?;
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
        Payload::Losses {
            total_wh, shares, ..
        } => {
            d.set_item("total_wh", *total_wh)?;
            let mut keys = Vec::with_capacity(32 * shares.len());
            let mut wh = Vec::with_capacity(shares.len());
            for sh in shares {
                keys.extend_from_slice(&sh.member);
                wh.push(sh.loss_wh);
            }
            d.set_item("share_members", PyBytes::new(py, &keys))?;
            d.set_item("share_wh", PyArray1::from_vec(py, wh))?;
        }
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
    let tree = MerkleTree::from_records(alg, data, crate::crypto::hash::Records::Fixed(32))?;
    let p = tree.inclusion_proof(index, tree.size())?;
    Ok(p.iter().map(|h| PyBytes::new(py, h)).collect())
}

pub(super) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(encode_create, m)?)?;
    m.add_function(wrap_pyfunction!(encode_creates, m)?)?;
    m.add_function(wrap_pyfunction!(encode_transfer, m)?)?;
    m.add_function(wrap_pyfunction!(encode_auction_tx, m)?)?;
    m.add_function(wrap_pyfunction!(decode_tx, m)?)?;
    m.add_function(wrap_pyfunction!(encode_losses, m)?)?;
    m.add_function(wrap_pyfunction!(encode_header, m)?)?;
    m.add_function(wrap_pyfunction!(decode_header, m)?)?;
    m.add_function(wrap_pyfunction!(tx_root, m)?)?;
    m.add_function(wrap_pyfunction!(encode_genesis, m)?)?;
    m.add_function(wrap_pyfunction!(decode_genesis, m)?)?;
    m.add_function(wrap_pyfunction!(tx_proof, m)?)?;
    Ok(())
}
