//! The chain state every node keeps: unspent outputs, device counters, the
//! tip, and the append-only Merkle log of block hashes. `check` validates a
//! whole block against it without changing anything (SPEC §2, §8: a rejected
//! block leaves the state as it was); `apply` then commits what `check` found.
//!
//! Order of checks: header fields, transaction decoding, the Merkle root,
//! every signature in one batch (header included), then the UTXO rules
//! transaction by transaction. The first failure is reported.

use std::collections::{HashMap, HashSet};

use rayon::prelude::*;

use super::block::{period_end_ms, tx_root, Header};
use super::codec::{short, Key, Sig};
use super::genesis::Genesis;
use super::tx::{Asset, Outpoint, Output, Payload, Tx, MAX_AMOUNT, NEVER};
use crate::error::{CoreError, CoreResult, Rule};
use crate::hash::{Algorithm, Digest};
use crate::merkle::{leaf_hash, MerkleTree};
use crate::sig;

/// Blocks at least this large decode and hash on the rayon pool.
const PAR_MIN_TXS: usize = 256;

/// An unspent output, its owner interned.
#[derive(Clone, Copy, Debug)]
pub struct Utxo {
    pub owner: u32,
    pub asset: Asset,
    pub amount: u64,
    pub expires: u64,
    /// Global sequence number of the transaction that created it.
    pub tx_seq: u64,
}

/// One output a block creates, for the store.
#[derive(Clone, Copy, Debug)]
pub struct NewOutput {
    pub tx_index: u32,
    pub index: u16,
    pub utxo: Utxo,
}

/// Everything `check` learned about a valid block; `apply` commits it.
#[derive(Debug)]
pub struct Accepted {
    pub header: Header,
    pub block_hash: Digest,
    pub ids: Vec<Digest>,
    pub kinds: Vec<u8>,
    pub n_outputs: Vec<u16>,
    pub outputs: Vec<NewOutput>,
    /// Where each spent output was created: (tx sequence number, output index).
    pub spent: Vec<(u64, u16)>,
    spent_points: Vec<Outpoint>,
    pub new_keys: Vec<Key>,
    device_seqs: Vec<(usize, u64)>,
    /// Fees per asset (energy, votes): inputs not paid out.
    pub fees: [u64; 2],
    pub signatures: usize,
}

#[derive(Clone, Debug)]
struct DeviceInfo {
    index: usize,
    v_wh: u64,
    votes: u64,
}

pub struct ChainState {
    genesis: Genesis,
    alg: Algorithm,
    chain_id: Digest,
    chain_tag: [u8; 8],
    keys: Vec<Key>,
    key_ids: HashMap<Key, u32>,
    devices: HashMap<Key, DeviceInfo>,
    device_seq: Vec<u64>,
    utxo: HashMap<Outpoint, Utxo>,
    /// Every accepted transaction: id → (sequence number, outputs).
    known: HashMap<Digest, (u64, u16)>,
    tip: Header,
    tip_hash: Digest,
    n_tx: u64,
    log: MerkleTree,
}

fn rule(
    rule: Rule,
    field: String,
    value: impl std::fmt::Display,
    reason: impl Into<String>,
) -> CoreError {
    CoreError::rule(rule, field, value, reason)
}

/// The per-block scratch: outputs created and spent so far in this block.
struct Overlay<'s> {
    state: &'s ChainState,
    created: HashMap<Outpoint, Utxo>,
    spent: HashMap<Outpoint, usize>,
    new_keys: Vec<Key>,
    new_ids: HashMap<Key, u32>,
    device_seq: HashMap<usize, u64>,
}

impl Overlay<'_> {
    fn key_id(&mut self, k: &Key) -> u32 {
        if let Some(&i) = self.state.key_ids.get(k).or_else(|| self.new_ids.get(k)) {
            return i;
        }
        let i = u32::try_from(self.state.keys.len() + self.new_keys.len()).unwrap_or(u32::MAX);
        self.new_keys.push(*k);
        self.new_ids.insert(*k, i);
        i
    }

    fn key(&self, id: u32) -> Key {
        let i = id as usize;
        self.state
            .keys
            .get(i)
            .or_else(|| self.new_keys.get(i.saturating_sub(self.state.keys.len())))
            .copied()
            .unwrap_or([0; 32])
    }
}

impl ChainState {
    pub fn new(genesis: Genesis) -> CoreResult<Self> {
        genesis.validate()?;
        let alg = genesis.algorithm;
        let chain_id = genesis.chain_id();
        let mut chain_tag = [0u8; 8];
        chain_tag.copy_from_slice(chain_id.get(..8).unwrap_or(&[0; 8]));
        let mut keys = vec![genesis.vpp];
        keys.extend(genesis.members.iter().map(|m| m.key));
        keys.extend(genesis.devices.iter().map(|d| d.key));
        let key_ids = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (*k, u32::try_from(i).unwrap_or(u32::MAX)))
            .collect();
        let devices = genesis
            .devices
            .iter()
            .enumerate()
            .map(|(index, d)| {
                (
                    d.key,
                    DeviceInfo {
                        index,
                        v_wh: d.v_wh,
                        votes: d.votes_per_quantum,
                    },
                )
            })
            .collect();
        let tip = Header::genesis(&genesis);
        let tip_hash = tip.hash(alg);
        let mut log = MerkleTree::new(alg);
        log.append_leaf_hash(leaf_hash(alg, &tip_hash));
        Ok(Self {
            device_seq: vec![0; genesis.devices.len()],
            genesis,
            alg,
            chain_id,
            chain_tag,
            keys,
            key_ids,
            devices,
            utxo: HashMap::new(),
            known: HashMap::new(),
            tip,
            tip_hash,
            n_tx: 0,
            log,
        })
    }

    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }
    pub fn chain_id(&self) -> Digest {
        self.chain_id
    }
    pub fn chain_tag(&self) -> [u8; 8] {
        self.chain_tag
    }
    pub fn tip(&self) -> &Header {
        &self.tip
    }
    pub fn tip_hash(&self) -> Digest {
        self.tip_hash
    }
    pub fn n_tx(&self) -> u64 {
        self.n_tx
    }
    pub fn keys(&self) -> &[Key] {
        &self.keys
    }
    pub fn log(&self) -> &MerkleTree {
        &self.log
    }
    pub fn device_seq(&self) -> &[u64] {
        &self.device_seq
    }
    pub fn utxo_len(&self) -> usize {
        self.utxo.len()
    }

    /// Unspent (energy Wh, votes) of `key`, votes counted only while valid at `period`.
    pub fn balance(&self, key: &Key, period: u64) -> (u64, u64) {
        let Some(&id) = self.key_ids.get(key) else {
            return (0, 0);
        };
        self.utxo
            .values()
            .filter(|u| u.owner == id)
            .fold((0, 0), |(e, v), u| match u.asset {
                Asset::Energy => (e.saturating_add(u.amount), v),
                Asset::Vote if u.expires >= period => (e, v.saturating_add(u.amount)),
                Asset::Vote => (e, v),
            })
    }

    /// The unspent output at `point`, if any.
    pub fn output(&self, point: &Outpoint) -> Option<Output> {
        self.utxo.get(point).map(|u| Output {
            owner: self.keys.get(u.owner as usize).copied().unwrap_or([0; 32]),
            asset: u.asset,
            amount: u.amount,
            expires: u.expires,
        })
    }

    /// The producer the next block must name as its miner.
    pub fn next_miner(&self) -> Key {
        self.tip.next_winner
    }

    /// Validate a block; changes nothing.
    pub fn check(&self, header: &[u8], signature: &Sig, txs: &[&[u8]]) -> CoreResult<Accepted> {
        let h = Header::decode(header)?;
        self.check_header(&h, txs.len())?;
        let decoded: Vec<CoreResult<(Tx, usize)>> = if txs.len() >= PAR_MIN_TXS {
            txs.par_iter().map(|t| Tx::decode(t)).collect()
        } else {
            txs.iter().map(|t| Tx::decode(t)).collect()
        };
        let mut parsed = Vec::with_capacity(txs.len());
        for (i, d) in decoded.into_iter().enumerate() {
            parsed.push(d.map_err(|e| at_tx(e, i))?);
        }
        let alg = self.alg;
        let hash_body = |(raw, (_, body_len)): (&&[u8], &(Tx, usize))| {
            alg.hash(raw.get(..*body_len).unwrap_or(&[]))
        };
        let ids: Vec<Digest> = if txs.len() >= PAR_MIN_TXS {
            txs.par_iter()
                .zip(parsed.par_iter())
                .map(hash_body)
                .collect()
        } else {
            txs.iter().zip(parsed.iter()).map(hash_body).collect()
        };
        let root = tx_root(alg, &ids);
        if root != h.tx_root {
            return Err(rule(
                Rule::Block,
                "header.tx_root".into(),
                short(&h.tx_root),
                format!("Merkle root of the transaction ids is {}", short(&root)),
            ));
        }
        let block_hash = h.hash(alg);
        let signatures = self.check_signatures(&h, &block_hash, signature, &parsed, &ids)?;
        let mut acc = self.check_rules(&h, &parsed, &ids)?;
        acc.block_hash = block_hash;
        acc.signatures = signatures;
        acc.header = h;
        Ok(acc)
    }

    fn check_header(&self, h: &Header, n_tx: usize) -> CoreResult<()> {
        let tip = &self.tip;
        let bad = |field: &str, value: String, reason: String| {
            Err(rule(Rule::Block, format!("header.{field}"), value, reason))
        };
        if h.chain_id != self.chain_id {
            return bad(
                "chain_id",
                short(&h.chain_id),
                format!("this chain is {}", short(&self.chain_id)),
            );
        }
        if h.height != tip.height + 1 {
            return bad(
                "height",
                h.height.to_string(),
                format!("the next height is {}", tip.height + 1),
            );
        }
        if h.period != tip.period + 1 {
            return bad(
                "period",
                h.period.to_string(),
                format!(
                    "one block per period: the next period is {}",
                    tip.period + 1
                ),
            );
        }
        if h.prev_hash != self.tip_hash {
            return bad(
                "prev_hash",
                short(&h.prev_hash),
                format!("the tip's hash is {}", short(&self.tip_hash)),
            );
        }
        if h.n_tx as usize != n_tx {
            return bad(
                "n_tx",
                h.n_tx.to_string(),
                format!("the block carries {n_tx} transactions"),
            );
        }
        if h.miner != tip.next_winner {
            return bad(
                "miner",
                short(&h.miner),
                format!(
                    "the producer chosen for this period is {}",
                    short(&tip.next_winner)
                ),
            );
        }
        let next = self.genesis.round_robin(h.height + 1);
        if h.next_winner != next {
            return bad(
                "next_winner",
                short(&h.next_winner),
                format!("round robin names {}", short(&next)),
            );
        }
        let earliest = period_end_ms(&self.genesis, h.period).max(tip.timestamp_ms);
        if h.timestamp_ms < earliest {
            return bad(
                "timestamp_ms",
                h.timestamp_ms.to_string(),
                format!("a block cannot precede the end of its period ({earliest} ms)"),
            );
        }
        Ok(())
    }

    fn check_signatures(
        &self,
        h: &Header,
        block_hash: &Digest,
        signature: &Sig,
        parsed: &[(Tx, usize)],
        ids: &[Digest],
    ) -> CoreResult<usize> {
        let mut keys: Vec<[u8; 32]> = vec![h.miner];
        let mut msgs: Vec<&[u8]> = vec![block_hash.as_slice()];
        let mut sigs: Vec<[u8; 64]> = vec![*signature];
        let mut owner = vec![(usize::MAX, 0usize)];
        for (i, ((tx, _), id)) in parsed.iter().zip(ids).enumerate() {
            for (j, (k, s)) in tx.signers().iter().zip(&tx.signatures).enumerate() {
                keys.push(*k);
                msgs.push(id.as_slice());
                sigs.push(*s);
                owner.push((i, j));
            }
        }
        let mut ok = vec![false; keys.len()];
        sig::verify_batch(&keys, &msgs, &sigs, &mut ok);
        if let Some(bad) = ok.iter().position(|v| !v) {
            let (i, j) = owner.get(bad).copied().unwrap_or((usize::MAX, 0));
            let key = keys.get(bad).copied().unwrap_or([0; 32]);
            let field = if i == usize::MAX {
                "header.signature".to_owned()
            } else {
                format!("tx[{i}].signatures[{j}]")
            };
            return Err(rule(
                Rule::Signature,
                field,
                short(&key),
                "the signature does not verify under this key",
            ));
        }
        Ok(keys.len())
    }

    fn check_rules(
        &self,
        h: &Header,
        parsed: &[(Tx, usize)],
        ids: &[Digest],
    ) -> CoreResult<Accepted> {
        let mut ov = Overlay {
            state: self,
            created: HashMap::new(),
            spent: HashMap::new(),
            new_keys: Vec::new(),
            new_ids: HashMap::new(),
            device_seq: HashMap::new(),
        };
        let mut in_block: HashMap<Digest, (usize, u16)> = HashMap::new();
        let mut acc = Accepted {
            header: h.clone(),
            block_hash: [0; 32],
            ids: ids.to_vec(),
            kinds: parsed.iter().map(|(t, _)| t.kind().code()).collect(),
            n_outputs: parsed
                .iter()
                .map(|(t, _)| u16::try_from(t.outputs.len()).unwrap_or(u16::MAX))
                .collect(),
            outputs: Vec::new(),
            spent: Vec::new(),
            spent_points: Vec::new(),
            new_keys: Vec::new(),
            device_seqs: Vec::new(),
            fees: [0, 0],
            signatures: 0,
        };
        for (i, ((tx, _), id)) in parsed.iter().zip(ids).enumerate() {
            if in_block.contains_key(id) || self.known.contains_key(id) {
                return Err(rule(
                    Rule::DoubleSpend,
                    format!("tx[{i}]"),
                    short(id),
                    "this transaction is already on the chain",
                ));
            }
            let tx_seq = self.n_tx + i as u64;
            let fee = self.check_tx(&mut ov, &mut acc, h, tx, i)?;
            for (a, f) in acc.fees.iter_mut().zip(fee) {
                *a = a.saturating_add(f);
            }
            for (j, o) in tx.outputs.iter().enumerate() {
                let index = u16::try_from(j).unwrap_or(u16::MAX);
                let u = Utxo {
                    owner: ov.key_id(&o.owner),
                    asset: o.asset,
                    amount: o.amount,
                    expires: o.expires,
                    tx_seq,
                };
                ov.created.insert(Outpoint { txid: *id, index }, u);
                acc.outputs.push(NewOutput {
                    tx_index: u32::try_from(i).unwrap_or(u32::MAX),
                    index,
                    utxo: u,
                });
            }
            in_block.insert(
                *id,
                (i, u16::try_from(tx.outputs.len()).unwrap_or(u16::MAX)),
            );
        }
        acc.new_keys = ov.new_keys;
        acc.device_seqs = ov.device_seq.into_iter().collect();
        Ok(acc)
    }

    /// The rules of one transaction; returns its fees (energy, votes).
    fn check_tx(
        &self,
        ov: &mut Overlay<'_>,
        acc: &mut Accepted,
        h: &Header,
        tx: &Tx,
        i: usize,
    ) -> CoreResult<[u64; 2]> {
        let f = |s: &str| format!("tx[{i}].{s}");
        if tx.chain_tag != self.chain_tag {
            return Err(rule(
                Rule::Transaction,
                f("chain_tag"),
                short(&tx.chain_tag),
                "the transaction belongs to another chain",
            ));
        }
        if tx.period != h.period {
            let why = if tx.period < h.period {
                format!(
                    "period {} is closed; this block is for period {}",
                    tx.period, h.period
                )
            } else {
                format!(
                    "period {} has not started; this block is for period {}",
                    tx.period, h.period
                )
            };
            return Err(rule(Rule::Transaction, f("period"), tx.period, why));
        }
        if tx.outputs.is_empty() {
            return Err(rule(
                Rule::Transaction,
                f("outputs"),
                0,
                "a transaction needs at least one output",
            ));
        }
        for (j, o) in tx.outputs.iter().enumerate() {
            if o.amount == 0 || o.amount > MAX_AMOUNT {
                return Err(rule(
                    Rule::Transaction,
                    f(&format!("outputs[{j}].amount")),
                    o.amount,
                    "amounts must be in 1..2^63-1",
                ));
            }
            if o.asset == Asset::Energy && o.expires != NEVER {
                return Err(rule(
                    Rule::Transaction,
                    f(&format!("outputs[{j}].expires")),
                    o.expires,
                    "energy never expires (expires must be 2^64-1)",
                ));
            }
        }
        match &tx.payload {
            Payload::Create { device, seq } => {
                let Some(d) = self.devices.get(device) else {
                    return Err(rule(
                        Rule::NotAuthorised,
                        f("device"),
                        short(device),
                        "not a registered cryptometer",
                    ));
                };
                let last = ov
                    .device_seq
                    .get(&d.index)
                    .copied()
                    .unwrap_or_else(|| self.device_seq.get(d.index).copied().unwrap_or(0));
                if *seq != last + 1 {
                    return Err(rule(
                        Rule::Transaction,
                        f("seq"),
                        seq,
                        format!(
                            "the device's quanta are numbered in order: expected {}",
                            last + 1
                        ),
                    ));
                }
                let mut expect = vec![Output {
                    owner: *device,
                    asset: Asset::Energy,
                    amount: d.v_wh,
                    expires: NEVER,
                }];
                if d.votes > 0 {
                    expect.push(Output {
                        owner: *device,
                        asset: Asset::Vote,
                        amount: d.votes,
                        expires: tx
                            .period
                            .saturating_add(u64::from(self.genesis.vote_validity)),
                    });
                }
                if tx.outputs != expect {
                    return Err(rule(
                        Rule::Transaction,
                        f("outputs"),
                        format!("{} outputs", tx.outputs.len()),
                        format!(
                            "a Create credits exactly V = {} Wh and {} voting tokens valid d = {} periods to its device",
                            d.v_wh, d.votes, self.genesis.vote_validity
                        ),
                    ));
                }
                ov.device_seq.insert(d.index, *seq);
                Ok([0, 0])
            }
            Payload::Transfer { signers, inputs } => {
                self.check_transfer(ov, acc, tx, signers, inputs, i)
            }
        }
    }

    fn check_transfer(
        &self,
        ov: &mut Overlay<'_>,
        acc: &mut Accepted,
        tx: &Tx,
        signers: &[Key],
        inputs: &[Outpoint],
        i: usize,
    ) -> CoreResult<[u64; 2]> {
        let f = |s: &str| format!("tx[{i}].{s}");
        let unique: HashSet<&Key> = signers.iter().collect();
        if signers.is_empty() || unique.len() != signers.len() {
            return Err(rule(
                Rule::Transaction,
                f("signers"),
                signers.len(),
                "signers must be distinct and at least one",
            ));
        }
        if inputs.is_empty() {
            return Err(rule(
                Rule::Transaction,
                f("inputs"),
                0,
                "a transfer spends at least one input",
            ));
        }
        let mut seen = HashSet::new();
        let mut sums_in = [0u128; 2];
        let mut vote_expiry = NEVER;
        let mut owners_used = HashSet::new();
        let mut spent_locs = Vec::with_capacity(inputs.len());
        for (j, p) in inputs.iter().enumerate() {
            let field = f(&format!("inputs[{j}]"));
            let value = format!("{}:{}", short(&p.txid), p.index);
            if !seen.insert(*p) {
                return Err(rule(
                    Rule::DoubleSpend,
                    field,
                    value,
                    "the transaction spends this output twice",
                ));
            }
            if let Some(k) = ov.spent.get(p) {
                return Err(rule(
                    Rule::DoubleSpend,
                    field,
                    value,
                    format!("already spent in this block by tx[{k}]"),
                ));
            }
            let Some(u) = ov.created.get(p).or_else(|| self.utxo.get(p)).copied() else {
                let why = match self.known.get(&p.txid) {
                    Some((_, n)) if p.index < *n => Err(rule(
                        Rule::DoubleSpend,
                        field,
                        value,
                        "already spent in an earlier block",
                    )),
                    Some(_) => Err(rule(
                        Rule::Transaction,
                        field,
                        value,
                        "the transaction has no output with this index",
                    )),
                    None => Err(rule(
                        Rule::Transaction,
                        field,
                        value,
                        "unknown input: no such transaction on the chain",
                    )),
                };
                return why;
            };
            let owner = ov.key(u.owner);
            if !unique.contains(&owner) {
                return Err(rule(
                    Rule::NotAuthorised,
                    field,
                    value,
                    format!("the output belongs to {}, who did not sign", short(&owner)),
                ));
            }
            owners_used.insert(owner);
            if u.asset == Asset::Vote {
                if u.expires < tx.period {
                    return Err(rule(
                        Rule::Transaction,
                        field,
                        value,
                        format!(
                            "voting token expired after period {} (d = {})",
                            u.expires, self.genesis.vote_validity
                        ),
                    ));
                }
                vote_expiry = vote_expiry.min(u.expires);
            }
            let slot = usize::from(u.asset == Asset::Vote);
            if let Some(s) = sums_in.get_mut(slot) {
                *s += u128::from(u.amount);
            }
            spent_locs.push((u.tx_seq, p.index));
        }
        if let Some(k) = signers.iter().find(|k| !owners_used.contains(*k)) {
            return Err(rule(
                Rule::Transaction,
                f("signers"),
                short(k),
                "a signer that owns no input",
            ));
        }
        let mut sums_out = [0u128; 2];
        for o in &tx.outputs {
            let slot = usize::from(o.asset == Asset::Vote);
            if let Some(s) = sums_out.get_mut(slot) {
                *s += u128::from(o.amount);
            }
        }
        for (a, (o, n)) in sums_out.iter().zip(&sums_in).enumerate() {
            if o > n {
                let name = if a == 0 { "Wh" } else { "votes" };
                return Err(rule(
                    Rule::InsufficientFunds,
                    f("outputs"),
                    format!("{o} {name}"),
                    format!("outputs exceed inputs ({n} {name})"),
                ));
            }
        }
        for (j, o) in tx.outputs.iter().enumerate() {
            if o.asset == Asset::Vote && o.expires != vote_expiry {
                return Err(rule(
                    Rule::Transaction,
                    f(&format!("outputs[{j}].expires")),
                    o.expires,
                    format!(
                        "voting tokens keep the earliest expiry of their inputs ({vote_expiry})"
                    ),
                ));
            }
        }
        let is_vpp = signers == [self.genesis.vpp];
        let device_signs = signers.iter().any(|k| self.devices.contains_key(k));
        if (is_vpp || device_signs) && sums_out != sums_in {
            return Err(rule(
                Rule::Transaction,
                f("outputs"),
                format!("{} Wh of {}", sums_out[0], sums_in[0]),
                "a VPP distribution or a unit's transfer must pass on exactly its inputs (the repartition must sum to the input)",
            ));
        }
        if device_signs {
            if let Some((j, _)) = tx
                .outputs
                .iter()
                .enumerate()
                .find(|(_, o)| o.owner != self.genesis.vpp)
            {
                return Err(rule(
                    Rule::NotAuthorised,
                    f(&format!("outputs[{j}].owner")),
                    short(&tx.outputs.get(j).map_or([0; 32], |o| o.owner)),
                    "a generation unit sends its quanta to the VPP only",
                ));
            }
        }
        for p in inputs {
            ov.spent.insert(*p, i);
            acc.spent_points.push(*p);
        }
        acc.spent.extend(spent_locs);
        let fee = |k: usize| {
            u64::try_from(
                sums_in.get(k).copied().unwrap_or(0) - sums_out.get(k).copied().unwrap_or(0),
            )
            .unwrap_or(u64::MAX)
        };
        Ok([fee(0), fee(1)])
    }

    /// Commit a block `check` accepted. Call it on the state that checked it.
    pub fn apply(&mut self, acc: &Accepted) {
        for k in &acc.new_keys {
            let id = u32::try_from(self.keys.len()).unwrap_or(u32::MAX);
            self.keys.push(*k);
            self.key_ids.insert(*k, id);
        }
        for o in &acc.outputs {
            if let Some(id) = acc.ids.get(o.tx_index as usize) {
                self.utxo.insert(
                    Outpoint {
                        txid: *id,
                        index: o.index,
                    },
                    o.utxo,
                );
            }
        }
        // After the inserts: outputs made and spent in this block go too.
        for p in &acc.spent_points {
            self.utxo.remove(p);
        }
        for (i, (id, n)) in acc.ids.iter().zip(&acc.n_outputs).enumerate() {
            self.known.insert(*id, (self.n_tx + i as u64, *n));
        }
        for (d, s) in &acc.device_seqs {
            if let Some(slot) = self.device_seq.get_mut(*d) {
                *slot = *s;
            }
        }
        self.n_tx += acc.ids.len() as u64;
        self.log
            .append_leaf_hash(leaf_hash(self.alg, &acc.block_hash));
        self.tip = acc.header.clone();
        self.tip_hash = acc.block_hash;
    }

    /// `check` then `apply`.
    pub fn append(
        &mut self,
        header: &[u8],
        signature: &Sig,
        txs: &[&[u8]],
    ) -> CoreResult<Accepted> {
        let acc = self.check(header, signature, txs)?;
        self.apply(&acc);
        Ok(acc)
    }
}

/// Prefix a transaction decoding error with its index in the block.
fn at_tx(e: CoreError, i: usize) -> CoreError {
    match e {
        CoreError::Rule {
            rule,
            field,
            value,
            reason,
        } => CoreError::Rule {
            rule,
            field: format!("tx[{i}]"),
            value: format!("{field} {value}"),
            reason,
        },
        other => other,
    }
}
