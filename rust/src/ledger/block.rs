//! Block headers (SPEC §2): fixed width, hashed whole; the miner signs the hash.
//!
//! ```text
//! "GLBK" | version u8 (=1) | chain id [32] | height u64 | period u64
//! | previous block hash [32] | Merkle root of the tx ids [32] | n tx u32
//! | miner key [32] | producer chosen for the next period [32] | timestamp ms i64
//! ```

use super::codec::{Key, Reader, HEADER_LEN};
use super::genesis::Genesis;
use crate::crypto::hash::{Algorithm, Digest};
use crate::crypto::merkle::MerkleTree;
use crate::error::{CoreResult, Rule};

pub const HEADER_MAGIC: &[u8; 4] = b"GLBK";
pub const HEADER_VERSION: u8 = 1;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub chain_id: Digest,
    pub height: u64,
    pub period: u64,
    pub prev_hash: Digest,
    pub tx_root: Digest,
    pub n_tx: u32,
    pub miner: Key,
    pub next_winner: Key,
    pub timestamp_ms: i64,
}

impl Header {
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(HEADER_LEN);
        b.extend_from_slice(HEADER_MAGIC);
        b.push(HEADER_VERSION);
        b.extend_from_slice(&self.chain_id);
        b.extend_from_slice(&self.height.to_le_bytes());
        b.extend_from_slice(&self.period.to_le_bytes());
        b.extend_from_slice(&self.prev_hash);
        b.extend_from_slice(&self.tx_root);
        b.extend_from_slice(&self.n_tx.to_le_bytes());
        b.extend_from_slice(&self.miner);
        b.extend_from_slice(&self.next_winner);
        b.extend_from_slice(&self.timestamp_ms.to_le_bytes());
        b
    }

    pub fn decode(data: &[u8]) -> CoreResult<Self> {
        let mut r = Reader::new(data, "header", Rule::Block);
        r.magic(HEADER_MAGIC, HEADER_VERSION)?;
        let h = Self {
            chain_id: r.array()?,
            height: r.u64()?,
            period: r.u64()?,
            prev_hash: r.array()?,
            tx_root: r.array()?,
            n_tx: r.u32()?,
            miner: r.array()?,
            next_winner: r.array()?,
            timestamp_ms: r.i64()?,
        };
        r.finish()?;
        Ok(h)
    }

    pub fn hash(&self, alg: Algorithm) -> Digest {
        alg.hash(&self.encode())
    }

    /// The unsigned genesis header (height 0), derived from the genesis record.
    pub fn genesis(g: &Genesis) -> Self {
        Self {
            chain_id: g.chain_id(),
            height: 0,
            period: g.first_period.saturating_sub(1),
            prev_hash: [0; 32],
            tx_root: tx_root(g.algorithm, &[]),
            n_tx: 0,
            miner: [0; 32],
            next_winner: g.round_robin(1),
            timestamp_ms: period_end_ms(g, g.first_period.saturating_sub(1)),
        }
    }
}

/// RFC 6962 root over the transaction ids (each id is a leaf's data).
pub fn tx_root(alg: Algorithm, ids: &[Digest]) -> Digest {
    let mut flat = Vec::with_capacity(ids.len() * 32);
    for id in ids {
        flat.extend_from_slice(id);
    }
    MerkleTree::from_records(alg, &flat, crate::crypto::hash::Records::Fixed(32))
        .map(|t| t.root())
        .unwrap_or([0; 32])
}

/// The end of `period` in Unix milliseconds: the earliest time its block can carry.
pub fn period_end_ms(g: &Genesis, period: u64) -> i64 {
    let s = i128::from(period.saturating_add(1)) * i128::from(g.period_s) * 1000;
    i64::try_from(s).unwrap_or(i64::MAX)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::ledger::genesis::tests::sample;

    #[test]
    fn header_round_trip_and_length() {
        let g = sample(2, 1);
        let h = Header::genesis(&g);
        let enc = h.encode();
        assert_eq!(enc.len(), HEADER_LEN);
        assert_eq!(Header::decode(&enc).unwrap(), h);
        assert!(Header::decode(&enc[..HEADER_LEN - 1]).is_err());
        assert_eq!(h.next_winner, g.members[0].key);
    }

    #[test]
    fn empty_root_is_hash_of_empty_string() {
        assert_eq!(tx_root(Algorithm::Sha256, &[]), Algorithm::Sha256.hash(b""));
    }
}
