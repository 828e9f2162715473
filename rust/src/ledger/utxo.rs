//! The unspent outputs and the transaction ids the chain state keeps in memory
//! (docs/ledger.md, "Bounded memory").
//!
//! Outputs are grouped by the transaction that made them: one entry per
//! remembered transaction id holds its sequence number, its output count and
//! its live outputs (24 bytes each, sorted by index), so an output's 34-byte
//! outpoint is not repeated per output.
//!
//! A bounded set forgets what no valid block can use any more:
//! - a voting token once the period after its last valid one has a block
//!   (`expires < tip period`: every later transaction carries a later period,
//!   and the rules refuse a token whose `expires` is before it);
//! - a transaction id once it has no live output and its period is
//!   [`ID_WINDOW`] periods behind the tip (a transaction is valid only in the
//!   block of its own period, so its replay is refused by the period rule).
//!
//! Every verdict stays the same; only the reason given for a reference to
//! something forgotten can differ (docs/ledger.md). An unbounded set forgets
//! nothing (the tests compare the two).

use std::collections::{BTreeMap, HashMap, VecDeque};

use super::tx::{Asset, Outpoint};
use crate::crypto::hash::Digest;

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

/// Periods a transaction id with no live output is still remembered (one day
/// of 15-minute periods): a reference to it within the window keeps its exact
/// reason ("already on the chain", "already spent in an earlier block").
pub const ID_WINDOW: u64 = 96;

/// One live output, its outpoint implied by the entry and `index`.
#[derive(Clone, Copy, Debug)]
struct Slot {
    amount: u64,
    expires: u64,
    owner: u32,
    index: u16,
    asset: Asset,
}

#[derive(Clone, Debug)]
struct Entry {
    seq: u64,
    period: u64,
    n: u16,
    live: Vec<Slot>,
}

impl Entry {
    fn utxo(&self, s: &Slot) -> Utxo {
        Utxo {
            owner: s.owner,
            asset: s.asset,
            amount: s.amount,
            expires: s.expires,
            tx_seq: self.seq,
        }
    }

    fn find(&self, index: u16) -> Option<&Slot> {
        let i = self.live.binary_search_by_key(&index, |s| s.index).ok()?;
        self.live.get(i)
    }

    /// Give back the memory of spent or expired outputs once a fifth of the
    /// slots are unused. (At half, a distribution of energy and votes to M
    /// members kept 2M slots for its M energy outputs once the votes expired:
    /// 0.43 GB of a 1 000-member year's peak, BENCHMARKS §5.2.) Shrinking
    /// reallocates, but geometrically rarely: amortised O(1) a removal.
    fn trim(&mut self) {
        let len = self.live.len();
        if self.live.capacity() > len + len / 4 + 8 {
            self.live.shrink_to_fit();
        }
    }
}

#[derive(Clone, Debug)]
pub struct UtxoSet {
    txs: HashMap<Digest, Entry>,
    /// Bounded only: vote expiry → transactions holding such a vote.
    expiring: BTreeMap<u64, Vec<Digest>>,
    /// Bounded only: each recent block's period and transaction ids.
    recent: VecDeque<(u64, Vec<Digest>)>,
    live: usize,
    bounded: bool,
}

impl UtxoSet {
    pub fn new(bounded: bool) -> Self {
        Self {
            txs: HashMap::new(),
            expiring: BTreeMap::new(),
            recent: VecDeque::new(),
            live: 0,
            bounded,
        }
    }

    /// Live outputs.
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Transaction ids remembered.
    pub fn n_ids(&self) -> usize {
        self.txs.len()
    }

    pub fn get(&self, p: &Outpoint) -> Option<Utxo> {
        let e = self.txs.get(&p.txid)?;
        e.find(p.index).map(|s| e.utxo(s))
    }

    pub fn contains(&self, p: &Outpoint) -> bool {
        self.txs
            .get(&p.txid)
            .is_some_and(|e| e.find(p.index).is_some())
    }

    /// (sequence number, outputs) of a remembered transaction.
    pub fn known(&self, id: &Digest) -> Option<(u64, u16)> {
        self.txs.get(id).map(|e| (e.seq, e.n))
    }

    /// Every live output, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (Outpoint, Utxo)> + '_ {
        self.txs.iter().flat_map(|(id, e)| {
            e.live.iter().map(move |s| {
                (
                    Outpoint {
                        txid: *id,
                        index: s.index,
                    },
                    e.utxo(s),
                )
            })
        })
    }

    /// Record a block of `period`: its transactions (`ids`, their output
    /// counts, the first one numbered `first_seq`), their outputs (grouped by
    /// transaction, in index order) and the outputs it spends; then, when
    /// bounded, forget what no later block can use.
    pub fn apply_block(
        &mut self,
        period: u64,
        first_seq: u64,
        ids: &[Digest],
        n_outputs: &[u16],
        outputs: &[NewOutput],
        spent: &[Outpoint],
    ) {
        for (i, (id, n)) in ids.iter().zip(n_outputs).enumerate() {
            let e = Entry {
                seq: first_seq + i as u64,
                period,
                n: *n,
                live: Vec::new(),
            };
            self.txs.insert(*id, e);
        }
        for o in outputs {
            let Some(id) = ids.get(o.tx_index as usize) else {
                continue;
            };
            let Some(e) = self.txs.get_mut(id) else {
                continue;
            };
            let u = o.utxo;
            if e.live.is_empty() {
                e.live.reserve_exact(usize::from(e.n));
            }
            e.live.push(Slot {
                amount: u.amount,
                expires: u.expires,
                owner: u.owner,
                index: o.index,
                asset: u.asset,
            });
            self.live = self.live.saturating_add(1);
            if self.bounded && u.asset == Asset::Vote {
                let v = self.expiring.entry(u.expires).or_default();
                if v.last() != Some(id) {
                    v.push(*id);
                }
            }
        }
        // After the inserts: outputs made and spent in this block go too.
        for p in spent {
            self.remove(p, period);
        }
        if self.bounded {
            self.forget(period, ids);
        }
    }

    fn remove(&mut self, p: &Outpoint, period: u64) {
        let Some(e) = self.txs.get_mut(&p.txid) else {
            return;
        };
        let Ok(i) = e.live.binary_search_by_key(&p.index, |s| s.index) else {
            return;
        };
        e.live.remove(i);
        self.live = self.live.saturating_sub(1);
        e.trim();
        if self.bounded && e.live.is_empty() && e.period.saturating_add(ID_WINDOW) <= period {
            self.txs.remove(&p.txid);
        }
    }

    /// Drop votes that expired before `period` and ids that left the window.
    fn forget(&mut self, period: u64, ids: &[Digest]) {
        let keep = self.expiring.split_off(&period);
        let expired = std::mem::replace(&mut self.expiring, keep);
        for id in expired.into_values().flatten() {
            let Some(e) = self.txs.get_mut(&id) else {
                continue;
            };
            let before = e.live.len();
            e.live
                .retain(|s| !(s.asset == Asset::Vote && s.expires < period));
            // retain only removes: before ≥ len, and live counts every kept output.
            self.live = self
                .live
                .saturating_sub(before.saturating_sub(e.live.len()));
            e.trim();
            if e.live.is_empty() && e.period.saturating_add(ID_WINDOW) <= period {
                self.txs.remove(&id);
            }
        }
        self.recent.push_back((period, ids.to_vec()));
        while let Some((p, _)) = self.recent.front() {
            if p.saturating_add(ID_WINDOW) > period {
                break;
            }
            let Some((_, old)) = self.recent.pop_front() else {
                break;
            };
            for id in old {
                if self.txs.get(&id).is_some_and(|e| e.live.is_empty()) {
                    self.txs.remove(&id);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A VPP distribution: energy and a vote to each of `m` members.
    fn distribution(m: u16, expires: u64) -> Vec<NewOutput> {
        (0..2 * m)
            .map(|i| NewOutput {
                tx_index: 0,
                index: i,
                utxo: Utxo {
                    owner: u32::from(i % m),
                    asset: if i < m { Asset::Energy } else { Asset::Vote },
                    amount: 7,
                    expires: if i < m { u64::MAX } else { expires },
                    tx_seq: 0,
                },
            })
            .collect()
    }

    #[test]
    fn expired_votes_give_their_memory_back() {
        let mut set = UtxoSet::new(true);
        let id = [9u8; 32];
        set.apply_block(10, 0, &[id], &[2000], &distribution(1000, 10), &[]);
        assert_eq!(set.len(), 2000);
        set.apply_block(11, 1, &[], &[], &[], &[]); // the votes expired at 10
        assert_eq!(set.len(), 1000);
        let e = set.txs.get(&id).map(|e| (e.live.len(), e.live.capacity()));
        let (len, cap) = e.unwrap_or((0, usize::MAX));
        assert_eq!(len, 1000);
        assert!(
            cap <= len + len / 4 + 8,
            "{cap} slots kept for {len} outputs"
        );
    }
}
