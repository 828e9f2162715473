//! Transactions: the canonical, versioned binary encoding (SPEC §2).
//!
//! ```text
//! body   = "GLTX" | version u8 (=1) | kind u8 | chain tag [8] | period u64 | payload | outputs
//! Create    (0) payload = device key [32] | seq u64
//! Transfer  (1) payload = n u8 | signer keys [32]·n | inputs
//! Candidate (2) payload = candidate key [32] | sent ms i64 | inputs
//! Winner    (3) payload = miner key [32] | winner key [32] | inputs
//! Evidence  (4) payload = reporter key [32] | header [193] | signature [64] | header [193] | signature [64] | inputs
//! Losses    (5) payload = vpp key [32] | total_wh u64 | n u32 | (member key [32] | loss_wh u64)·n
//! inputs  = m u16 | (txid [32] | index u16)·m
//! outputs = k u16 | (owner [32] | asset u8 | amount u64 | expires u64)·k
//! tx     = body | signature [64] per signer (one, except a Transfer's n)
//! ```
//!
//! All integers little-endian. The id is H(body), so signatures (which sign
//! the id) are not part of it; the body has one encoding per value, and a
//! decoder that accepts a buffer re-encodes it byte for byte.

use super::codec::{Key, Reader, Sig, HEADER_LEN};
use crate::crypto::hash::{Algorithm, Digest};
use crate::error::{CoreResult, Rule};

pub const TX_MAGIC: &[u8; 4] = b"GLTX";
pub const TX_VERSION: u8 = 1;
/// `expires` of an output that never expires (energy).
pub const NEVER: u64 = u64::MAX;
/// Bytes of one encoded output.
pub const OUTPUT_LEN: usize = 32 + 1 + 8 + 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Asset {
    /// Energy in Wh.
    Energy,
    /// Voting tokens E (SPEC §3), valid until `expires`.
    Vote,
}

impl Asset {
    pub fn code(self) -> u8 {
        match self {
            Self::Energy => 0,
            Self::Vote => 1,
        }
    }

    pub fn from_code(c: u8) -> Option<Self> {
        match c {
            0 => Some(Self::Energy),
            1 => Some(Self::Vote),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Energy => "energy",
            Self::Vote => "vote",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Output {
    pub owner: Key,
    pub asset: Asset,
    pub amount: u64,
    pub expires: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Outpoint {
    pub txid: Digest,
    pub index: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Create,
    Transfer,
    Candidate,
    Winner,
    Evidence,
    Losses,
}

impl Kind {
    pub fn code(self) -> u8 {
        match self {
            Self::Create => 0,
            Self::Transfer => 1,
            Self::Candidate => 2,
            Self::Winner => 3,
            Self::Evidence => 4,
            Self::Losses => 5,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Transfer => "transfer",
            Self::Candidate => "candidate",
            Self::Winner => "winner",
            Self::Evidence => "evidence",
            Self::Losses => "losses",
        }
    }
}

/// A block header with its miner's signature, as carried by an Evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedHeader {
    pub header: Vec<u8>,
    pub signature: Sig,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload {
    /// A cryptometer's quantum: `seq` is the device's quantum counter.
    Create { device: Key, seq: u64 },
    /// Spend `inputs`, all owned by `signers`.
    Transfer {
        signers: Vec<Key>,
        inputs: Vec<Outpoint>,
    },
    /// A candidacy for the next period's auction: voting tokens offered to the miner.
    Candidate {
        candidate: Key,
        sent_ms: i64,
        inputs: Vec<Outpoint>,
    },
    /// The miner passes the offered tokens to the auction's winner and refunds late offers.
    Winner {
        miner: Key,
        winner: Key,
        inputs: Vec<Outpoint>,
    },
    /// Two headers at one height signed by one miner; confiscates that miner's fee.
    Evidence {
        reporter: Key,
        first: SignedHeader,
        second: SignedHeader,
        inputs: Vec<Outpoint>,
    },
    /// The VPP's record of one period's grid losses and each member's share
    /// (issue 20): no inputs, no outputs, signed by the VPP.
    Losses {
        vpp: Key,
        total_wh: u64,
        shares: Vec<LossShare>,
    },
}

/// One member's share of a period's losses (Wh).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LossShare {
    pub member: Key,
    pub loss_wh: u64,
}

/// Bytes of one encoded loss share.
pub const LOSS_SHARE_LEN: usize = 32 + 8;

/// A transaction with its signatures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tx {
    pub chain_tag: [u8; 8],
    pub period: u64,
    pub payload: Payload,
    pub outputs: Vec<Output>,
    pub signatures: Vec<Sig>,
}

impl Tx {
    pub fn kind(&self) -> Kind {
        match self.payload {
            Payload::Create { .. } => Kind::Create,
            Payload::Transfer { .. } => Kind::Transfer,
            Payload::Candidate { .. } => Kind::Candidate,
            Payload::Winner { .. } => Kind::Winner,
            Payload::Evidence { .. } => Kind::Evidence,
            Payload::Losses { .. } => Kind::Losses,
        }
    }

    /// The keys that must sign, in signature order.
    pub fn signers(&self) -> &[Key] {
        match &self.payload {
            Payload::Create { device: k, .. }
            | Payload::Candidate { candidate: k, .. }
            | Payload::Winner { miner: k, .. }
            | Payload::Evidence { reporter: k, .. }
            | Payload::Losses { vpp: k, .. } => std::slice::from_ref(k),
            Payload::Transfer { signers, .. } => signers,
        }
    }

    pub fn inputs(&self) -> &[Outpoint] {
        match &self.payload {
            Payload::Create { .. } | Payload::Losses { .. } => &[],
            Payload::Transfer { inputs, .. }
            | Payload::Candidate { inputs, .. }
            | Payload::Winner { inputs, .. }
            | Payload::Evidence { inputs, .. } => inputs,
        }
    }

    /// The canonical body (what the id hashes).
    pub fn encode_body(&self) -> Vec<u8> {
        let n_in = self.inputs().len();
        let n_shares = match &self.payload {
            Payload::Losses { shares, .. } => shares.len(),
            _ => 0,
        };
        let mut b = Vec::with_capacity(
            64 + 34 * n_in + OUTPUT_LEN * self.outputs.len() + LOSS_SHARE_LEN * n_shares,
        );
        b.extend_from_slice(TX_MAGIC);
        b.push(TX_VERSION);
        b.push(self.kind().code());
        b.extend_from_slice(&self.chain_tag);
        b.extend_from_slice(&self.period.to_le_bytes());
        match &self.payload {
            Payload::Create { device, seq } => {
                b.extend_from_slice(device);
                b.extend_from_slice(&seq.to_le_bytes());
            }
            Payload::Transfer { signers, .. } => {
                b.push(u8::try_from(signers.len()).unwrap_or(u8::MAX));
                for s in signers {
                    b.extend_from_slice(s);
                }
            }
            Payload::Candidate {
                candidate, sent_ms, ..
            } => {
                b.extend_from_slice(candidate);
                b.extend_from_slice(&sent_ms.to_le_bytes());
            }
            Payload::Winner { miner, winner, .. } => {
                b.extend_from_slice(miner);
                b.extend_from_slice(winner);
            }
            Payload::Evidence {
                reporter,
                first,
                second,
                ..
            } => {
                b.extend_from_slice(reporter);
                for h in [first, second] {
                    b.extend_from_slice(&h.header);
                    b.extend_from_slice(&h.signature);
                }
            }
            Payload::Losses {
                vpp,
                total_wh,
                shares,
            } => {
                b.extend_from_slice(vpp);
                b.extend_from_slice(&total_wh.to_le_bytes());
                b.extend_from_slice(
                    &u32::try_from(shares.len())
                        .unwrap_or(u32::MAX)
                        .to_le_bytes(),
                );
                for sh in shares {
                    b.extend_from_slice(&sh.member);
                    b.extend_from_slice(&sh.loss_wh.to_le_bytes());
                }
            }
        }
        if !matches!(
            self.payload,
            Payload::Create { .. } | Payload::Losses { .. }
        ) {
            let inputs = self.inputs();
            b.extend_from_slice(
                &u16::try_from(inputs.len())
                    .unwrap_or(u16::MAX)
                    .to_le_bytes(),
            );
            for i in inputs {
                b.extend_from_slice(&i.txid);
                b.extend_from_slice(&i.index.to_le_bytes());
            }
        }
        encode_outputs(&mut b, &self.outputs);
        b
    }

    /// Body followed by the signatures.
    pub fn encode(&self) -> Vec<u8> {
        let mut b = self.encode_body();
        for s in &self.signatures {
            b.extend_from_slice(s);
        }
        b
    }

    pub fn id(&self, alg: Algorithm) -> Digest {
        alg.hash(&self.encode_body())
    }

    /// Decode one whole transaction; returns it and the length of its body.
    pub fn decode(data: &[u8]) -> CoreResult<(Self, usize)> {
        let mut r = Reader::new(data, "transaction", Rule::Transaction);
        r.magic(TX_MAGIC, TX_VERSION)?;
        let kind = r.u8()?;
        let chain_tag = r.array::<8>()?;
        let period = r.u64()?;
        let payload = match kind {
            0 => Payload::Create {
                device: r.array()?,
                seq: r.u64()?,
            },
            1 => {
                let n = r.u8()?;
                let signers = (0..n)
                    .map(|_| r.array())
                    .collect::<CoreResult<Vec<Key>>>()?;
                Payload::Transfer {
                    signers,
                    inputs: read_inputs(&mut r)?,
                }
            }
            2 => Payload::Candidate {
                candidate: r.array()?,
                sent_ms: r.i64()?,
                inputs: read_inputs(&mut r)?,
            },
            3 => Payload::Winner {
                miner: r.array()?,
                winner: r.array()?,
                inputs: read_inputs(&mut r)?,
            },
            4 => {
                let reporter = r.array()?;
                let first = read_signed_header(&mut r)?;
                let second = read_signed_header(&mut r)?;
                Payload::Evidence {
                    reporter,
                    first,
                    second,
                    inputs: read_inputs(&mut r)?,
                }
            }
            5 => {
                let vpp = r.array()?;
                let total_wh = r.u64()?;
                let n = r.u32()?;
                // Every share is 40 bytes: refuse a count the buffer cannot hold
                // before reserving anything for it.
                let fits = usize::try_from(n)
                    .ok()
                    .and_then(|n| n.checked_mul(LOSS_SHARE_LEN))
                    .is_some_and(|need| need <= r.remaining());
                if !fits {
                    return Err(r.error(format!("{n} loss shares do not fit in the record")));
                }
                let shares = (0..n)
                    .map(|_| {
                        Ok(LossShare {
                            member: r.array()?,
                            loss_wh: r.u64()?,
                        })
                    })
                    .collect::<CoreResult<Vec<_>>>()?;
                Payload::Losses {
                    vpp,
                    total_wh,
                    shares,
                }
            }
            k => return Err(r.error(format!("unknown transaction kind {k}"))),
        };
        let k = r.u16()?;
        let outputs = (0..k)
            .map(|_| {
                let owner = r.array()?;
                let code = r.u8()?;
                let asset = Asset::from_code(code)
                    .ok_or_else(|| r.error(format!("unknown asset code {code}")))?;
                Ok(Output {
                    owner,
                    asset,
                    amount: r.u64()?,
                    expires: r.u64()?,
                })
            })
            .collect::<CoreResult<Vec<_>>>()?;
        let body_len = r.pos();
        let n_sig = match &payload {
            Payload::Transfer { signers, .. } => signers.len(),
            _ => 1,
        };
        let signatures = (0..n_sig)
            .map(|_| r.array())
            .collect::<CoreResult<Vec<Sig>>>()?;
        r.finish()?;
        Ok((
            Self {
                chain_tag,
                period,
                payload,
                outputs,
                signatures,
            },
            body_len,
        ))
    }
}

fn read_inputs(r: &mut Reader<'_>) -> CoreResult<Vec<Outpoint>> {
    let m = r.u16()?;
    (0..m)
        .map(|_| {
            Ok(Outpoint {
                txid: r.array()?,
                index: r.u16()?,
            })
        })
        .collect()
}

fn read_signed_header(r: &mut Reader<'_>) -> CoreResult<SignedHeader> {
    Ok(SignedHeader {
        header: r.bytes(HEADER_LEN)?.to_vec(),
        signature: r.array()?,
    })
}

fn encode_outputs(b: &mut Vec<u8>, outputs: &[Output]) {
    b.extend_from_slice(
        &u16::try_from(outputs.len())
            .unwrap_or(u16::MAX)
            .to_le_bytes(),
    );
    for o in outputs {
        b.extend_from_slice(&o.owner);
        b.push(o.asset.code());
        b.extend_from_slice(&o.amount.to_le_bytes());
        b.extend_from_slice(&o.expires.to_le_bytes());
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn transfer() -> Tx {
        Tx {
            chain_tag: *b"testtag!",
            period: 1_717_440,
            payload: Payload::Transfer {
                signers: vec![[7; 32]],
                inputs: vec![Outpoint {
                    txid: [9; 32],
                    index: 3,
                }],
            },
            outputs: vec![
                Output {
                    owner: [1; 32],
                    asset: Asset::Energy,
                    amount: 8_000,
                    expires: NEVER,
                },
                Output {
                    owner: [2; 32],
                    asset: Asset::Vote,
                    amount: 1,
                    expires: 1_717_444,
                },
            ],
            signatures: vec![[5; 64]],
        }
    }

    #[test]
    fn round_trip_is_byte_exact() {
        let t = transfer();
        let enc = t.encode();
        let (d, body_len) = Tx::decode(&enc).unwrap();
        assert_eq!(d, t);
        assert_eq!(body_len, enc.len() - 64);
        assert_eq!(d.encode(), enc);
        let c = Tx {
            payload: Payload::Create {
                device: [4; 32],
                seq: 12,
            },
            outputs: vec![],
            ..t
        };
        assert_eq!(Tx::decode(&c.encode()).unwrap().0, c);
    }

    #[test]
    fn truncation_tail_and_unknown_codes_are_errors() {
        let enc = transfer().encode();
        for cut in 0..enc.len() {
            assert!(Tx::decode(&enc[..cut]).is_err(), "cut at {cut}");
        }
        let mut long = enc.clone();
        long.push(0);
        assert!(Tx::decode(&long).is_err());
        let mut bad_kind = enc.clone();
        bad_kind[5] = 9;
        assert!(Tx::decode(&bad_kind).is_err());
        let mut bad_version = enc;
        bad_version[4] = 2;
        assert!(Tx::decode(&bad_version).is_err());
    }

    fn losses() -> Tx {
        Tx {
            chain_tag: *b"testtag!",
            period: 1_717_440,
            payload: Payload::Losses {
                vpp: [3; 32],
                total_wh: 9,
                shares: vec![
                    LossShare {
                        member: [1; 32],
                        loss_wh: 5,
                    },
                    LossShare {
                        member: [2; 32],
                        loss_wh: 4,
                    },
                ],
            },
            outputs: vec![],
            signatures: vec![[5; 64]],
        }
    }

    #[test]
    fn loss_records_round_trip_and_reject_bad_bytes() {
        let t = losses();
        let enc = t.encode();
        // header 22 | vpp 32 | total 8 | n 4 | 2 shares | k 2 | signature 64
        assert_eq!(enc.len(), 22 + 32 + 8 + 4 + 2 * LOSS_SHARE_LEN + 2 + 64);
        let (d, body_len) = Tx::decode(&enc).unwrap();
        assert_eq!(d, t);
        assert_eq!(d.kind(), Kind::Losses);
        assert_eq!(d.signers(), &[[3; 32]]);
        assert!(d.inputs().is_empty());
        assert_eq!(body_len, enc.len() - 64);
        assert_eq!(d.encode(), enc);
        for cut in 0..enc.len() {
            assert!(Tx::decode(&enc[..cut]).is_err(), "cut at {cut}");
        }
        let mut long = enc.clone();
        long.push(0);
        assert!(Tx::decode(&long).is_err());
        // A share count the buffer cannot hold is refused before anything is reserved.
        let mut huge = enc;
        huge[22 + 32 + 8..22 + 32 + 8 + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        let e = Tx::decode(&huge).unwrap_err();
        assert!(e.to_string().contains("loss shares"), "{e}");
    }

    #[test]
    fn id_ignores_signatures() {
        let a = transfer();
        let mut b = a.clone();
        b.signatures[0] = [6; 64];
        assert_eq!(a.id(Algorithm::Blake3), b.id(Algorithm::Blake3));
        assert_ne!(a.id(Algorithm::Blake3), a.id(Algorithm::Sha256));
    }
}
