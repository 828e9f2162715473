//! The chain state every node keeps: unspent outputs, device counters, the
//! auction's bookkeeping, the tip, and the append-only Merkle log of block
//! hashes. `check` validates a whole block against it without changing
//! anything (SPEC §2, §8: a rejected block leaves the state as it was);
//! `apply` then commits what `check` found.
//!
//! Order of checks: header fields, transaction decoding, the Merkle root,
//! every signature in one batch (header included), then the ledger rules
//! transaction by transaction (rules.rs), then the choice of the next
//! producer. The first failure is reported.

use std::collections::HashMap;

use rayon::prelude::*;

use super::auction::{self, Book};
use super::block::{period_end_ms, tx_root, Header};
use super::codec::{short, Key, Sig};
use super::genesis::Genesis;
use super::tx::{Asset, Outpoint, Output, Tx};
use super::utxo::UtxoSet;
pub use super::utxo::{NewOutput, Utxo};
use crate::crypto::hash::{Algorithm, Digest};
use crate::crypto::merkle::{leaf_hash, MerkleTree};
use crate::crypto::sig;
use crate::error::{CoreError, CoreResult, Rule};

/// Blocks at least this large decode and hash on the rayon pool.
const PAR_MIN_TXS: usize = 256;

/// Blocks at least this large check their rules beside the signature batch: a
/// year of a 200-member community averages 141 transactions a block, which
/// checked on one thread left the second core idle.
const JOIN_MIN_TXS: usize = 64;

/// Signature chunks per thread when the rules pass runs beside them: more,
/// smaller chunks let the thread that finishes the rules take a share.
const SIG_PIECES: usize = 2;

/// What a block changes in the auction's bookkeeping.
#[derive(Clone, Debug, Default)]
pub struct AuctionDelta {
    /// The member who produced the block.
    pub producer: Option<usize>,
    /// The chosen producer who missed the period (a strike).
    pub missed: Option<usize>,
    /// No on-time candidate: every member's reputation is penalised.
    pub penalise_all: bool,
    pub evidence: Vec<(u64, Key)>,
    pub fee_output: Option<(Key, Outpoint)>,
    /// The auction's winner (None: no on-time candidate).
    pub winner: Option<Key>,
    /// On-time and late candidacies.
    pub candidates: (usize, usize),
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
    pub(super) spent_points: Vec<Outpoint>,
    pub new_keys: Vec<Key>,
    pub(super) device_seqs: Vec<(usize, u64)>,
    /// Fees per asset (energy, votes): inputs not paid out.
    pub fees: [u64; 2],
    pub signatures: usize,
    pub auction: AuctionDelta,
}

#[derive(Clone, Debug)]
pub(super) struct DeviceInfo {
    pub index: usize,
    pub v_wh: u64,
    pub votes: u64,
}

#[derive(Clone)]
pub struct ChainState {
    pub(super) genesis: Genesis,
    pub(super) alg: Algorithm,
    pub(super) chain_id: Digest,
    pub(super) chain_tag: [u8; 8],
    pub(super) keys: Vec<Key>,
    pub(super) key_ids: HashMap<Key, u32>,
    pub(super) devices: HashMap<Key, DeviceInfo>,
    pub(super) device_seq: Vec<u64>,
    /// Unspent outputs and the remembered transaction ids (utxo.rs).
    pub(super) utxo: UtxoSet,
    pub(super) book: Book,
    pub(super) tip: Header,
    pub(super) tip_hash: Digest,
    pub(super) n_tx: u64,
    pub(super) log: MerkleTree,
    /// Every known key, checked and decompressed once for signature batches.
    pub(super) vk_cache: sig::KeyCache,
}

pub(super) fn rule(
    rule: Rule,
    field: String,
    value: impl std::fmt::Display,
    reason: impl Into<String>,
) -> CoreError {
    CoreError::rule(rule, field, value, reason)
}

impl ChainState {
    /// A chain at `genesis` whose memory stays bounded (utxo.rs).
    pub fn new(genesis: Genesis) -> CoreResult<Self> {
        Self::with_memory(genesis, true)
    }

    /// A chain at `genesis`; `bounded: false` remembers every id and expired
    /// vote (the reference the tests compare the bounded state with).
    pub fn with_memory(genesis: Genesis, bounded: bool) -> CoreResult<Self> {
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
        let mut vk_cache = sig::KeyCache::default();
        for k in &keys {
            vk_cache.insert(k);
        }
        Ok(Self {
            device_seq: vec![0; genesis.devices.len()],
            book: Book::new(&genesis),
            genesis,
            alg,
            chain_id,
            chain_tag,
            keys,
            key_ids,
            devices,
            utxo: UtxoSet::new(bounded),
            tip,
            tip_hash,
            n_tx: 0,
            log,
            vk_cache,
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
    /// Transaction ids held in memory.
    pub fn ids_len(&self) -> usize {
        self.utxo.n_ids()
    }
    pub fn book(&self) -> &Book {
        &self.book
    }

    /// Unspent (energy Wh, votes) of `key`, votes counted only while valid at `period`.
    /// Exact: summed in u128 (each output < 2^63; fewer than 2^64 outputs), never saturated.
    pub fn balance(&self, key: &Key, period: u64) -> (u128, u128) {
        let Some(&id) = self.key_ids.get(key) else {
            return (0, 0);
        };
        self.utxo
            .iter()
            .map(|(_, u)| u)
            .filter(|u| u.owner == id)
            .fold((0, 0), |(e, v), u| match u.asset {
                Asset::Energy => (e + u128::from(u.amount), v),
                Asset::Vote if u.expires >= period => (e, v + u128::from(u.amount)),
                Asset::Vote => (e, v),
            })
    }

    /// Every unspent output of `key`, in no particular order.
    pub fn unspent(&self, key: &Key) -> Vec<(Outpoint, Output)> {
        let Some(&id) = self.key_ids.get(key) else {
            return Vec::new();
        };
        self.utxo
            .iter()
            .filter(|(_, u)| u.owner == id)
            .map(|(p, u)| {
                let o = Output {
                    owner: *key,
                    asset: u.asset,
                    amount: u.amount,
                    expires: u.expires,
                };
                (p, o)
            })
            .collect()
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

    /// The producer the next block must name as its miner (its first choice).
    pub fn next_miner(&self) -> Key {
        self.tip.next_winner
    }

    /// Who may produce the next block, in order: the chosen producer, then
    /// (auction chains only) the fallback producers, the k-th allowed to
    /// publish from k·grace after the period ends.
    pub fn producers(&self) -> Vec<Key> {
        let mut out = vec![self.tip.next_winner];
        if self.genesis.consensus.is_auction() {
            out.extend(auction::equal_order(
                self.alg,
                &self.genesis,
                &self.book,
                Some(&self.tip.next_winner),
                &self.tip_hash,
                self.tip.period + 1,
            ));
        }
        out
    }

    /// Validate a block; changes nothing.
    pub fn check(&self, header: &[u8], signature: &Sig, txs: &[&[u8]]) -> CoreResult<Accepted> {
        let h = Header::decode(header)?;
        let (producer, missed) = self.check_header(&h, txs.len())?;
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
        let (signatures, mut acc) = if txs.len() >= JOIN_MIN_TXS {
            // The rules pass is sequential; it runs beside the signature
            // chunks, which fill the other threads. A bad signature is still
            // the error reported when both fail, as in the sequential order.
            let (signatures, rules) = rayon::join(
                || self.check_signatures(&h, &block_hash, signature, &parsed, &ids),
                || self.check_rules(&h, &parsed, &ids),
            );
            (signatures?, rules?)
        } else {
            let signatures = self.check_signatures(&h, &block_hash, signature, &parsed, &ids)?;
            (signatures, self.check_rules(&h, &parsed, &ids)?)
        };
        acc.block_hash = block_hash;
        acc.signatures = signatures;
        acc.auction.producer = producer;
        acc.auction.missed = missed;
        acc.header = h;
        Ok(acc)
    }

    /// Header fields; returns (the producing member, the chosen producer who missed).
    fn check_header(&self, h: &Header, n_tx: usize) -> CoreResult<(Option<usize>, Option<usize>)> {
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
        let end = period_end_ms(&self.genesis, h.period);
        let earliest = end.max(tip.timestamp_ms);
        if h.timestamp_ms < earliest {
            return bad(
                "timestamp_ms",
                h.timestamp_ms.to_string(),
                format!("a block cannot precede the end of its period ({earliest} ms)"),
            );
        }
        // No later than the end of the next period: the tip then never outruns the next block's earliest time.
        let latest = period_end_ms(&self.genesis, h.period.saturating_add(1));
        if h.timestamp_ms > latest {
            let why = format!("a block is stamped by the end of the next period ({latest} ms)");
            return bad("timestamp_ms", h.timestamp_ms.to_string(), why);
        }
        let c = &self.genesis.consensus;
        let producers = self.producers();
        let Some(rank) = producers.iter().position(|k| *k == h.miner) else {
            return bad(
                "miner",
                short(&h.miner),
                format!(
                    "the producer chosen for this period is {}",
                    short(&tip.next_winner)
                ),
            );
        };
        if c.is_auction() {
            // Rank r may publish in [end + r·grace, end + (r+1)·grace); the last rank has no end.
            let grace = i64::from(c.grace_ms);
            let rank_i = i64::try_from(rank).unwrap_or(i64::MAX);
            let from = end.saturating_add(rank_i.saturating_mul(grace));
            let until = end.saturating_add((rank_i + 1).saturating_mul(grace));
            if h.timestamp_ms < from || (rank + 1 < producers.len() && h.timestamp_ms >= until) {
                return bad(
                    "timestamp_ms",
                    h.timestamp_ms.to_string(),
                    format!("producer number {rank} publishes from {from} ms until {until} ms"),
                );
            }
        }
        let missed = (rank > 0)
            .then(|| self.book.member(&tip.next_winner))
            .flatten();
        Ok((self.book.member(&h.miner), missed))
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
        sig::verify_batch_split(
            &keys,
            &msgs,
            &sigs,
            &mut ok,
            Some(&self.vk_cache),
            SIG_PIECES,
        );
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

    /// Commit a block `check` accepted. Call it on the state that checked it.
    pub fn apply(&mut self, acc: &Accepted) {
        for k in &acc.new_keys {
            let id = u32::try_from(self.keys.len()).unwrap_or(u32::MAX);
            self.keys.push(*k);
            self.key_ids.insert(*k, id);
            self.vk_cache.insert(k);
        }
        self.utxo.apply_block(
            acc.header.period,
            self.n_tx,
            &acc.ids,
            &acc.n_outputs,
            &acc.outputs,
            &acc.spent_points,
        );
        for (d, s) in &acc.device_seqs {
            if let Some(slot) = self.device_seq.get_mut(*d) {
                *slot = *s;
            }
        }
        self.apply_auction(acc);
        self.n_tx += acc.ids.len() as u64;
        self.log
            .append_leaf_hash(leaf_hash(self.alg, &acc.block_hash));
        self.tip = acc.header.clone();
        self.tip_hash = acc.block_hash;
    }

    fn apply_auction(&mut self, acc: &Accepted) {
        let a = &acc.auction;
        let limit = u32::from(self.genesis.consensus.strikes);
        let book = &mut self.book;
        if a.penalise_all {
            for m in &mut book.members {
                m.penalties += 1;
            }
        }
        if let Some(m) = a.producer.and_then(|i| book.members.get_mut(i)) {
            m.made += 1;
            m.last_period = Some(acc.header.period);
        }
        if let Some(m) = a.missed.and_then(|i| book.members.get_mut(i)) {
            m.strikes += 1;
            if m.strikes >= limit {
                m.barred = true;
                m.penalties = m.made; // reputation reset to 0
            }
        }
        for e in &a.evidence {
            book.evidence.insert(*e);
        }
        if let Some(f) = a.fee_output {
            book.fee_outputs.insert(acc.header.height, f);
        }
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
