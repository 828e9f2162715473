//! Auction bookkeeping (SPEC §3): each member's age, reputation and strikes,
//! the wealth of the candidates, the draw of the next producer, and the
//! order of fallback producers when the chosen one misses its period.

use std::collections::{HashMap, HashSet};

use super::codec::Key;
use super::genesis::{Consensus, Genesis};
use super::tx::Outpoint;
use crate::consensus::draw::{self, ln_u, u_of, DrawRule};
use crate::crypto::hash::{Algorithm, Digest};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemberStats {
    /// Period of the last block this member produced.
    pub last_period: Option<u64>,
    /// Blocks produced.
    pub made: u64,
    /// Penalties (a period without candidates costs every member one).
    pub penalties: u64,
    pub strikes: u32,
    /// Barred from candidacy after `strikes` missed blocks.
    pub barred: bool,
}

impl MemberStats {
    /// R: blocks produced less penalties, never below 0.
    pub fn reputation(&self) -> u64 {
        self.made.saturating_sub(self.penalties)
    }
}

#[derive(Clone, Debug)]
pub struct Book {
    pub members: Vec<MemberStats>,
    pub index: HashMap<Key, usize>,
    /// (height, miner) pairs already punished for equivocation.
    pub evidence: HashSet<(u64, Key)>,
    /// The miner-fee output of each block that paid one: height → (miner, outpoint).
    pub fee_outputs: HashMap<u64, (Key, Outpoint)>,
}

impl Book {
    pub fn new(g: &Genesis) -> Self {
        Self {
            members: vec![MemberStats::default(); g.members.len()],
            index: g
                .members
                .iter()
                .enumerate()
                .map(|(i, m)| (m.key, i))
                .collect(),
            evidence: HashSet::new(),
            fee_outputs: HashMap::new(),
        }
    }

    pub fn member(&self, k: &Key) -> Option<usize> {
        self.index.get(k).copied()
    }

    pub fn barred(&self, k: &Key) -> bool {
        self.member(k)
            .and_then(|i| self.members.get(i))
            .is_some_and(|m| m.barred)
    }
}

/// One on-time offer in an auction.
#[derive(Clone, Debug)]
pub struct Offer {
    pub member: usize,
    pub key: Key,
    pub tokens: u64,
}

fn share(x: &[f64]) -> Vec<f64> {
    let s: f64 = x.iter().sum();
    x.iter()
        .map(|v| if s > 0.0 { v / s } else { 0.0 })
        .collect()
}

/// W_k = α·Ê + β·Â + γ·R̂ over the offers (SPEC §3), for the auction of `period`.
pub fn wealth(
    c: &Consensus,
    book: &Book,
    offers: &[Offer],
    period: u64,
    first_period: u64,
) -> Vec<f64> {
    let stats = |o: &Offer| book.members.get(o.member).cloned().unwrap_or_default();
    let e: Vec<f64> = offers.iter().map(|o| o.tokens as f64).collect();
    let a: Vec<f64> = offers
        .iter()
        .map(|o| {
            let since = stats(o)
                .last_period
                .unwrap_or(first_period.saturating_sub(1));
            period.saturating_sub(since) as f64
        })
        .collect();
    let r: Vec<f64> = offers
        .iter()
        .map(|o| stats(o).reputation() as f64)
        .collect();
    let (eh, ah, rh) = (share(&e), share(&a), share(&r));
    let (al, be, ga) = (
        f64::from(c.alpha_ppm) / 1e6,
        f64::from(c.beta_ppm) / 1e6,
        f64::from(c.gamma_ppm) / 1e6,
    );
    (0..offers.len())
        .map(|i| {
            al * eh.get(i).copied().unwrap_or(0.0)
                + be * ah.get(i).copied().unwrap_or(0.0)
                + ga * rh.get(i).copied().unwrap_or(0.0)
        })
        .collect()
}

/// The winner of the auction for `period` among `offers`; U from H(prev ‖ period ‖ key).
pub fn winner(
    alg: Algorithm,
    g: &Genesis,
    book: &Book,
    offers: &[Offer],
    prev_hash: &Digest,
    period: u64,
) -> Option<Key> {
    if offers.is_empty() {
        return None;
    }
    let w = wealth(&g.consensus, book, offers, period, g.first_period);
    let keys: Vec<Key> = offers.iter().map(|o| o.key).collect();
    let i = draw::draw(alg, g.consensus.draw_rule(), &w, prev_hash, period, &keys).ok()?;
    keys.get(i).copied()
}

/// Non-barred members except `skip`, ordered by their draw with equal weights
/// (argmax 1/U: smallest U first, ties to the lower key).
pub fn equal_order(
    alg: Algorithm,
    g: &Genesis,
    book: &Book,
    skip: Option<&Key>,
    prev: &Digest,
    period: u64,
) -> Vec<Key> {
    let mut keyed: Vec<(f64, Key)> = g
        .members
        .iter()
        .filter(|m| Some(&m.key) != skip && !book.barred(&m.key))
        .map(|m| {
            (
                draw::key(
                    DrawRule::ArgmaxWOverU,
                    1.0,
                    ln_u(u_of(alg, prev, period, &m.key)),
                ),
                m.key,
            )
        })
        .collect();
    keyed.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    keyed.into_iter().map(|(_, k)| k).collect()
}
