//! The genesis record: a chain's parameters and the public keys every node
//! knows (SPEC §2, seed 002 Table I). Its hash is the chain id.
//!
//! ```text
//! "GLGN" | version u8 (=1) | algorithm u8 (0 blake3, 1 sha256) | period s u32
//! | first period u64 | vote validity d u32 | consensus
//! | VPP key [32] | n u32 | (member key [32] | label)·n
//! | m u32 | (device key [32] | V Wh u64 | votes per quantum u64 | label)·m
//! | name: len u16 | utf-8          label: len u8 | utf-8
//! consensus = producer rule u8 (0 round robin, 1 auction) | draw u8 (0 argmax W/U,
//!   1 proportional) | α, β, γ u32 (millionths) | gate opening t_d u32 ms
//!   | gate closure t_e u32 ms | grace u32 ms | miner fee u32 (millionths) | strikes u8
//! ```

use std::collections::HashSet;

use super::codec::{Key, Reader, MAX_AMOUNT};
use crate::crypto::hash::{Algorithm, Digest};
use crate::error::{CoreError, CoreResult, Rule};

pub const GENESIS_MAGIC: &[u8; 4] = b"GLGN";
pub const GENESIS_VERSION: u8 = 1;
/// Market period lengths SPEC §1 allows: 5, 15, 30 and 60 minutes.
pub const PERIODS_S: [u32; 4] = [300, 900, 1800, 3600];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub key: Key,
    pub label: String,
}

/// A generation unit's cryptometer: every `v_wh` Wh it signs a Create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    pub key: Key,
    pub v_wh: u64,
    pub votes_per_quantum: u64,
    pub label: String,
}

/// How the producer of each block is chosen (SPEC §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Consensus {
    /// 0: round robin over the members; 1: the proof-of-stake auction.
    pub producer_rule: u8,
    /// 0: argmax W/U; 1: proportional (U^(1/W)).
    pub draw: u8,
    pub alpha_ppm: u32,
    pub beta_ppm: u32,
    pub gamma_ppm: u32,
    /// t_d: candidacies open this long after the period starts (ms).
    pub gate_open_ms: u32,
    /// t_e: candidacies close this long before the period ends (ms).
    pub gate_close_ms: u32,
    /// How long after its period ends the chosen producer has to publish;
    /// the k-th fallback producer may publish from k·grace on (ms).
    pub grace_ms: u32,
    /// Miner fee: this share of each VPP distribution's energy (millionths).
    pub fee_ppm: u32,
    /// Missed blocks after which a winner is barred (three strikes).
    pub strikes: u8,
}

impl Consensus {
    pub const ROUND_ROBIN: Self = Self {
        producer_rule: 0,
        draw: 0,
        alpha_ppm: 300_000,
        beta_ppm: 600_000,
        gamma_ppm: 100_000,
        gate_open_ms: 0,
        gate_close_ms: 0,
        grace_ms: 60_000,
        fee_ppm: 0,
        strikes: 3,
    };

    pub fn is_auction(&self) -> bool {
        self.producer_rule == 1
    }

    pub fn draw_rule(&self) -> crate::consensus::draw::DrawRule {
        if self.draw == 1 {
            crate::consensus::draw::DrawRule::Proportional
        } else {
            crate::consensus::draw::DrawRule::ArgmaxWOverU
        }
    }

    fn validate(&self, period_s: u32) -> CoreResult<()> {
        if self.producer_rule > 1 {
            return Err(err(
                "producer_rule",
                self.producer_rule,
                "0 = round robin, 1 = auction",
            ));
        }
        if self.draw > 1 {
            return Err(err("draw", self.draw, "0 = argmax W/U, 1 = proportional"));
        }
        let total =
            u64::from(self.alpha_ppm) + u64::from(self.beta_ppm) + u64::from(self.gamma_ppm);
        if self.is_auction() && total == 0 {
            return Err(err("alpha", 0, "α, β and γ cannot all be 0"));
        }
        if u64::from(self.gate_open_ms) + u64::from(self.gate_close_ms)
            >= u64::from(period_s) * 1000
        {
            return Err(err(
                "gate_close_ms",
                self.gate_close_ms,
                "gate closure must come after gate opening: t_d + t_e < the period",
            ));
        }
        if self.is_auction() && self.grace_ms == 0 {
            return Err(err(
                "grace_ms",
                0,
                "the auction needs a grace > 0 for fallback producers",
            ));
        }
        if self.fee_ppm > 1_000_000 {
            return Err(err(
                "fee_ppm",
                self.fee_ppm,
                "a fee is a share: at most 1 000 000 millionths",
            ));
        }
        if self.strikes == 0 {
            return Err(err("strikes", 0, "at least one strike"));
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Genesis {
    pub algorithm: Algorithm,
    pub period_s: u32,
    pub first_period: u64,
    pub vote_validity: u32,
    pub consensus: Consensus,
    pub vpp: Key,
    pub members: Vec<Member>,
    pub devices: Vec<Device>,
    pub name: String,
}

fn alg_code(a: Algorithm) -> u8 {
    match a {
        Algorithm::Blake3 => 0,
        Algorithm::Sha256 => 1,
    }
}

fn put_label(b: &mut Vec<u8>, s: &str) {
    b.push(u8::try_from(s.len()).unwrap_or(u8::MAX));
    b.extend_from_slice(s.as_bytes());
}

fn get_text(r: &mut Reader<'_>, len: usize) -> CoreResult<String> {
    let raw = r.bytes(len)?;
    String::from_utf8(raw.to_vec()).map_err(|_| r.error("label is not UTF-8"))
}

fn err(field: &str, value: impl std::fmt::Display, reason: &str) -> CoreError {
    CoreError::config(field, value, reason)
}

impl Genesis {
    /// Check every parameter; the same checks run on decode.
    pub fn validate(&self) -> CoreResult<()> {
        if !PERIODS_S.contains(&self.period_s) {
            return Err(err(
                "period_s",
                self.period_s,
                "market period must be 300, 900, 1800 or 3600 s (SPEC §1)",
            ));
        }
        if self.vote_validity == 0 {
            return Err(err("vote_validity", 0, "d must be ≥ 1 period"));
        }
        self.consensus.validate(self.period_s)?;
        if self.first_period == 0 || self.first_period > u64::MAX / 2 {
            return Err(err("first_period", self.first_period, "out of range"));
        }
        if self.members.is_empty() {
            return Err(err("members", 0, "a community needs at least one member"));
        }
        let mut keys = HashSet::new();
        let mut labels = HashSet::new();
        keys.insert(self.vpp);
        let all = self
            .members
            .iter()
            .map(|m| (m.key, m.label.as_str(), "members"))
            .chain(
                self.devices
                    .iter()
                    .map(|d| (d.key, d.label.as_str(), "devices")),
            );
        for (i, (key, label, what)) in all.enumerate() {
            if !keys.insert(key) {
                return Err(err(
                    what,
                    super::codec::short(&key),
                    "every member, device and the VPP need distinct keys",
                ));
            }
            if label.is_empty() || label.len() > 64 || !labels.insert(label.to_owned()) {
                return Err(err(
                    what,
                    format!("{label:?} (#{i})"),
                    "labels must be unique, 1 to 64 bytes",
                ));
            }
        }
        for d in &self.devices {
            if d.v_wh == 0 || d.v_wh > MAX_AMOUNT || d.votes_per_quantum > MAX_AMOUNT {
                return Err(err("devices.v_wh", d.v_wh, "V must be ≥ 1 Wh"));
            }
        }
        if self.name.len() > 1024 || self.members.len() > 1 << 20 || self.devices.len() > 1 << 20 {
            return Err(err(
                "name",
                self.name.len(),
                "name ≤ 1024 bytes, ≤ 2^20 members and devices",
            ));
        }
        Ok(())
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(64 + 40 * (self.members.len() + self.devices.len()));
        b.extend_from_slice(GENESIS_MAGIC);
        b.push(GENESIS_VERSION);
        b.push(alg_code(self.algorithm));
        b.extend_from_slice(&self.period_s.to_le_bytes());
        b.extend_from_slice(&self.first_period.to_le_bytes());
        b.extend_from_slice(&self.vote_validity.to_le_bytes());
        let c = &self.consensus;
        b.push(c.producer_rule);
        b.push(c.draw);
        for v in [
            c.alpha_ppm,
            c.beta_ppm,
            c.gamma_ppm,
            c.gate_open_ms,
            c.gate_close_ms,
            c.grace_ms,
            c.fee_ppm,
        ] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.push(c.strikes);
        b.extend_from_slice(&self.vpp);
        b.extend_from_slice(
            &u32::try_from(self.members.len())
                .unwrap_or(u32::MAX)
                .to_le_bytes(),
        );
        for m in &self.members {
            b.extend_from_slice(&m.key);
            put_label(&mut b, &m.label);
        }
        b.extend_from_slice(
            &u32::try_from(self.devices.len())
                .unwrap_or(u32::MAX)
                .to_le_bytes(),
        );
        for d in &self.devices {
            b.extend_from_slice(&d.key);
            b.extend_from_slice(&d.v_wh.to_le_bytes());
            b.extend_from_slice(&d.votes_per_quantum.to_le_bytes());
            put_label(&mut b, &d.label);
        }
        b.extend_from_slice(
            &u16::try_from(self.name.len())
                .unwrap_or(u16::MAX)
                .to_le_bytes(),
        );
        b.extend_from_slice(self.name.as_bytes());
        b
    }

    pub fn decode(data: &[u8]) -> CoreResult<Self> {
        let mut r = Reader::new(data, "genesis", Rule::Block);
        r.magic(GENESIS_MAGIC, GENESIS_VERSION)?;
        let algorithm = match r.u8()? {
            0 => Algorithm::Blake3,
            1 => Algorithm::Sha256,
            c => return Err(r.error(format!("unknown algorithm code {c}"))),
        };
        let period_s = r.u32()?;
        let first_period = r.u64()?;
        let vote_validity = r.u32()?;
        let consensus = Consensus {
            producer_rule: r.u8()?,
            draw: r.u8()?,
            alpha_ppm: r.u32()?,
            beta_ppm: r.u32()?,
            gamma_ppm: r.u32()?,
            gate_open_ms: r.u32()?,
            gate_close_ms: r.u32()?,
            grace_ms: r.u32()?,
            fee_ppm: r.u32()?,
            strikes: r.u8()?,
        };
        let vpp = r.array()?;
        let n = r.u32()?;
        let mut members = Vec::new();
        for _ in 0..n {
            let key = r.array()?;
            let len = usize::from(r.u8()?);
            members.push(Member {
                key,
                label: get_text(&mut r, len)?,
            });
        }
        let m = r.u32()?;
        let mut devices = Vec::new();
        for _ in 0..m {
            let key = r.array()?;
            let v_wh = r.u64()?;
            let votes_per_quantum = r.u64()?;
            let len = usize::from(r.u8()?);
            devices.push(Device {
                key,
                v_wh,
                votes_per_quantum,
                label: get_text(&mut r, len)?,
            });
        }
        let len = usize::from(r.u16()?);
        let name = get_text(&mut r, len)?;
        r.finish()?;
        let g = Self {
            algorithm,
            period_s,
            first_period,
            vote_validity,
            consensus,
            vpp,
            members,
            devices,
            name,
        };
        g.validate()?;
        Ok(g)
    }

    /// The chain id: H(genesis encoding).
    pub fn chain_id(&self) -> Digest {
        self.algorithm.hash(&self.encode())
    }

    /// The producer of block `height` (≥ 1) under round robin.
    pub fn round_robin(&self, height: u64) -> Key {
        let n = self.members.len() as u64;
        let i = usize::try_from((height.saturating_sub(1)) % n.max(1)).unwrap_or(0);
        self.members.get(i).map_or([0; 32], |m| m.key)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
pub mod tests {
    use super::*;

    pub fn sample(members: usize, devices: usize) -> Genesis {
        Genesis {
            algorithm: Algorithm::Blake3,
            period_s: 900,
            first_period: 1_717_440,
            vote_validity: 4,
            consensus: Consensus::ROUND_ROBIN,
            vpp: [200; 32],
            members: (0..members)
                .map(|i| Member {
                    key: [u8::try_from(i + 1).unwrap(); 32],
                    label: format!("m{i}"),
                })
                .collect(),
            devices: (0..devices)
                .map(|i| Device {
                    key: [u8::try_from(100 + i).unwrap(); 32],
                    v_wh: 100,
                    votes_per_quantum: 1,
                    label: format!("pv{i}"),
                })
                .collect(),
            name: "test".into(),
        }
    }

    #[test]
    fn round_trip_and_rules() {
        let g = sample(3, 2);
        let enc = g.encode();
        assert_eq!(Genesis::decode(&enc).unwrap(), g);
        let mut bad = g.clone();
        bad.period_s = 600;
        assert!(bad.validate().is_err());
        let mut dup = g.clone();
        dup.devices[0].key = dup.members[0].key;
        assert!(dup.validate().is_err());
        let mut zero = g;
        zero.devices[1].v_wh = 0;
        assert!(zero.validate().is_err());
    }
}
