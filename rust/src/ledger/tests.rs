//! Accepting and rejecting cases for every rule of the chain state.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::expect_used,
    clippy::panic
)]

use super::block::{period_end_ms, tx_root, Header};
use super::genesis::{Device, Genesis, Member};
use super::state::ChainState;
use super::tx::{Asset, LossShare, Outpoint, Output, Payload, Tx, NEVER};
use crate::crypto::hash::{Algorithm, Digest};
use crate::crypto::sig::Keypair;
use crate::error::{CoreError, Rule};

fn kp(i: u8) -> Keypair {
    Keypair::from_seed(&[i; 32])
}

struct World {
    vpp: Keypair,
    members: Vec<Keypair>,
    devices: Vec<Keypair>,
    state: ChainState,
}

const V: u64 = 100;

fn world() -> World {
    let vpp = kp(200);
    let members: Vec<_> = (1..=3).map(kp).collect();
    let devices: Vec<_> = (100..102).map(kp).collect();
    let g = Genesis {
        algorithm: Algorithm::Blake3,
        period_s: 900,
        first_period: 1_717_440,
        vote_validity: 4,
        consensus: super::genesis::Consensus::ROUND_ROBIN,
        vpp: vpp.public_key(),
        members: members
            .iter()
            .enumerate()
            .map(|(i, k)| Member {
                key: k.public_key(),
                label: format!("m{i}"),
            })
            .collect(),
        devices: devices
            .iter()
            .enumerate()
            .map(|(i, k)| Device {
                key: k.public_key(),
                v_wh: V,
                votes_per_quantum: 1,
                label: format!("pv{i}"),
            })
            .collect(),
        name: "t".into(),
    };
    World {
        state: ChainState::new(g).unwrap(),
        vpp,
        members,
        devices,
    }
}

fn sign(mut tx: Tx, keys: &[&Keypair]) -> Tx {
    let id = tx.id(Algorithm::Blake3);
    tx.signatures = keys.iter().map(|k| k.sign(&id)).collect();
    tx
}

impl World {
    fn period(&self) -> u64 {
        self.state.tip().period + 1
    }

    fn create(&self, d: usize, seq: u64) -> Tx {
        let key = self.devices[d].public_key();
        let p = self.period();
        sign(
            Tx {
                chain_tag: self.state.chain_tag(),
                period: p,
                payload: Payload::Create { device: key, seq },
                outputs: vec![
                    Output {
                        owner: key,
                        asset: Asset::Energy,
                        amount: V,
                        expires: NEVER,
                    },
                    Output {
                        owner: key,
                        asset: Asset::Vote,
                        amount: 1,
                        expires: p + 4,
                    },
                ],
                signatures: vec![],
            },
            &[&self.devices[d]],
        )
    }

    fn transfer(&self, from: &[&Keypair], inputs: Vec<Outpoint>, outputs: Vec<Output>) -> Tx {
        sign(
            Tx {
                chain_tag: self.state.chain_tag(),
                period: self.period(),
                payload: Payload::Transfer {
                    signers: from.iter().map(|k| k.public_key()).collect(),
                    inputs,
                },
                outputs,
                signatures: vec![],
            },
            from,
        )
    }

    fn block(&self, txs: &[Tx]) -> (Vec<u8>, [u8; 64], Vec<Vec<u8>>) {
        let alg = Algorithm::Blake3;
        let tip = self.state.tip();
        let ids: Vec<Digest> = txs.iter().map(|t| t.id(alg)).collect();
        let g = self.state.genesis();
        let h = Header {
            chain_id: self.state.chain_id(),
            height: tip.height + 1,
            period: tip.period + 1,
            prev_hash: self.state.tip_hash(),
            tx_root: tx_root(alg, &ids),
            n_tx: u32::try_from(txs.len()).unwrap(),
            miner: tip.next_winner,
            next_winner: g.round_robin(tip.height + 2),
            timestamp_ms: period_end_ms(g, tip.period + 1),
        };
        let miner = self
            .members
            .iter()
            .find(|m| m.public_key() == h.miner)
            .unwrap();
        let sig = miner.sign(&h.hash(alg));
        (h.encode(), sig, txs.iter().map(Tx::encode).collect())
    }

    fn try_block(&mut self, txs: &[Tx]) -> Result<(), CoreError> {
        let (h, s, raw) = self.block(txs);
        let refs: Vec<&[u8]> = raw.iter().map(Vec::as_slice).collect();
        self.state.append(&h, &s, &refs).map(|_| ())
    }

    fn energy(&self, owner: [u8; 32], amount: u64) -> Output {
        Output {
            owner,
            asset: Asset::Energy,
            amount,
            expires: NEVER,
        }
    }

    /// A valid period: 2 quanta of unit 0 → VPP → members 0 and 1.
    fn period_txs(&self, seq: u64) -> Vec<Tx> {
        let c1 = self.create(0, seq);
        let c2 = self.create(0, seq + 1);
        let vpp = self.vpp.public_key();
        let p = self.period();
        let ins: Vec<Outpoint> = [&c1, &c2]
            .iter()
            .flat_map(|c| {
                let id = c.id(Algorithm::Blake3);
                [
                    Outpoint { txid: id, index: 0 },
                    Outpoint { txid: id, index: 1 },
                ]
            })
            .collect();
        let t = self.transfer(
            &[&self.devices[0]],
            ins,
            vec![
                self.energy(vpp, 200),
                Output {
                    owner: vpp,
                    asset: Asset::Vote,
                    amount: 2,
                    expires: p + 4,
                },
            ],
        );
        let tid = t.id(Algorithm::Blake3);
        let m0 = self.members[0].public_key();
        let m1 = self.members[1].public_key();
        let d = self.transfer(
            &[&self.vpp],
            vec![
                Outpoint {
                    txid: tid,
                    index: 0,
                },
                Outpoint {
                    txid: tid,
                    index: 1,
                },
            ],
            vec![
                self.energy(m0, 120),
                self.energy(m1, 80),
                Output {
                    owner: m0,
                    asset: Asset::Vote,
                    amount: 1,
                    expires: p + 4,
                },
                Output {
                    owner: m1,
                    asset: Asset::Vote,
                    amount: 1,
                    expires: p + 4,
                },
            ],
        );
        vec![c1, c2, t, d]
    }
}

impl World {
    /// A loss record of this period signed by `by`: (member index, Wh) shares.
    fn losses(&self, by: &Keypair, total_wh: u64, shares: &[(usize, u64)]) -> Tx {
        sign(
            Tx {
                chain_tag: self.state.chain_tag(),
                period: self.period(),
                payload: Payload::Losses {
                    vpp: by.public_key(),
                    total_wh,
                    shares: shares
                        .iter()
                        .map(|&(m, loss_wh)| LossShare {
                            member: self.members[m].public_key(),
                            loss_wh,
                        })
                        .collect(),
                },
                outputs: vec![],
                signatures: vec![],
            },
            &[by],
        )
    }
}

fn rule_of(e: &CoreError) -> Rule {
    match e {
        CoreError::Rule { rule, .. } => *rule,
        other => panic!("not a rule error: {other}"),
    }
}

#[test]
fn valid_periods_and_empty_blocks_append() {
    let mut w = world();
    let txs = w.period_txs(1);
    w.try_block(&txs).unwrap();
    w.try_block(&[]).unwrap();
    let txs = w.period_txs(3);
    w.try_block(&txs).unwrap();
    assert_eq!(w.state.tip().height, 3);
    let p = w.state.tip().period;
    assert_eq!(w.state.balance(&w.members[0].public_key(), p), (240, 2));
    assert_eq!(w.state.balance(&w.members[1].public_key(), p), (160, 2));
    assert_eq!(w.state.log().size(), 4);
}

#[test]
fn a_rejected_block_changes_nothing() {
    let mut w = world();
    let txs = w.period_txs(1);
    w.try_block(&txs).unwrap();
    let (tip, n, utxo) = (w.state.tip_hash(), w.state.n_tx(), w.state.utxo_len());
    let mut bad = w.period_txs(3);
    bad[3].outputs[0].amount = 121; // distribution above its input
    bad[3] = sign(bad[3].clone(), &[&w.vpp]);
    assert!(w.try_block(&bad).is_err());
    assert_eq!(
        (w.state.tip_hash(), w.state.n_tx(), w.state.utxo_len()),
        (tip, n, utxo)
    );
    assert_eq!(w.state.device_seq()[0], 2);
    let good = w.period_txs(3);
    w.try_block(&good).unwrap();
}

#[test]
fn signatures_are_checked() {
    let mut w = world();
    let mut txs = w.period_txs(1);
    txs[1].signatures[0][5] ^= 1;
    let e = w.try_block(&txs).unwrap_err();
    assert_eq!(rule_of(&e), Rule::Signature);
    assert!(e.to_string().contains("tx[1].signatures[0]"), "{e}");
    let (h, mut s, raw) = w.block(&[]);
    s[0] ^= 1;
    let e = w
        .state
        .append(&h, &s, &raw.iter().map(Vec::as_slice).collect::<Vec<_>>())
        .unwrap_err();
    assert!(e.to_string().contains("header.signature"), "{e}");
}

#[test]
fn double_spends_within_and_across_blocks() {
    let mut w = world();
    let txs = w.period_txs(1);
    let spent_in = Outpoint {
        txid: txs[0].id(Algorithm::Blake3),
        index: 0,
    };
    w.try_block(&txs).unwrap();
    // Across blocks: the unit's quantum was spent to the VPP already.
    let c = w.create(0, 3);
    let again = w.transfer(
        &[&w.devices[0]],
        vec![spent_in],
        vec![w.energy(w.vpp.public_key(), 100)],
    );
    let e = w.try_block(&[c.clone(), again]).unwrap_err();
    assert_eq!(rule_of(&e), Rule::DoubleSpend, "{e}");
    // Within a block: two transfers spending one output.
    let cid = c.id(Algorithm::Blake3);
    let p = Outpoint {
        txid: cid,
        index: 0,
    };
    let a = w.transfer(
        &[&w.devices[0]],
        vec![p],
        vec![w.energy(w.vpp.public_key(), 100)],
    );
    let mut b = a.clone();
    b.outputs[0].amount = 100;
    b.payload = Payload::Transfer {
        signers: vec![w.devices[0].public_key()],
        inputs: vec![p, p],
    };
    let b = sign(b, &[&w.devices[0]]);
    let e = w.try_block(&[c.clone(), a.clone(), b]).unwrap_err();
    assert_eq!(rule_of(&e), Rule::DoubleSpend);
    let mut b2 = w.transfer(
        &[&w.devices[0]],
        vec![p],
        vec![w.energy(w.vpp.public_key(), 99)],
    );
    b2 = sign(b2, &[&w.devices[0]]);
    let e = w.try_block(&[c.clone(), a.clone(), b2]).unwrap_err();
    assert_eq!(rule_of(&e), Rule::DoubleSpend);
    assert!(e.to_string().contains("already spent in this block"), "{e}");
    // The same transaction twice.
    let e = w.try_block(&[c.clone(), c]).unwrap_err();
    assert_eq!(rule_of(&e), Rule::DoubleSpend);
}

#[test]
fn unknown_inputs_overspending_and_ownership() {
    let mut w = world();
    let c = w.create(0, 1);
    let cid = c.id(Algorithm::Blake3);
    let vpp = w.vpp.public_key();
    let unknown = w.transfer(
        &[&w.devices[0]],
        vec![Outpoint {
            txid: [3; 32],
            index: 0,
        }],
        vec![w.energy(vpp, 1)],
    );
    assert_eq!(
        rule_of(&w.try_block(&[c.clone(), unknown]).unwrap_err()),
        Rule::Transaction
    );
    let bad_index = w.transfer(
        &[&w.devices[0]],
        vec![Outpoint {
            txid: cid,
            index: 7,
        }],
        vec![w.energy(vpp, 1)],
    );
    assert_eq!(
        rule_of(&w.try_block(&[c.clone(), bad_index]).unwrap_err()),
        Rule::Transaction
    );
    let over = w.transfer(
        &[&w.devices[0]],
        vec![Outpoint {
            txid: cid,
            index: 0,
        }],
        vec![w.energy(vpp, 101)],
    );
    assert_eq!(
        rule_of(&w.try_block(&[c.clone(), over]).unwrap_err()),
        Rule::InsufficientFunds
    );
    let thief = w.transfer(
        &[&w.members[2]],
        vec![Outpoint {
            txid: cid,
            index: 0,
        }],
        vec![w.energy(vpp, 100)],
    );
    assert_eq!(
        rule_of(&w.try_block(&[c.clone(), thief]).unwrap_err()),
        Rule::NotAuthorised
    );
    let elsewhere = w.transfer(
        &[&w.devices[0]],
        vec![Outpoint {
            txid: cid,
            index: 0,
        }],
        vec![w.energy(w.members[0].public_key(), 100)],
    );
    assert_eq!(
        rule_of(&w.try_block(&[c.clone(), elsewhere]).unwrap_err()),
        Rule::NotAuthorised
    );
    let short = w.transfer(
        &[&w.devices[0]],
        vec![Outpoint {
            txid: cid,
            index: 0,
        }],
        vec![w.energy(vpp, 99)],
    );
    assert_eq!(
        rule_of(&w.try_block(&[c.clone(), short]).unwrap_err()),
        Rule::Transaction
    );
    let ok = w.transfer(
        &[&w.devices[0]],
        vec![Outpoint {
            txid: cid,
            index: 0,
        }],
        vec![w.energy(vpp, 100)],
    );
    w.try_block(&[c, ok]).unwrap();
}

#[test]
fn creates_follow_the_registry() {
    let mut w = world();
    let mut forged = w.create(0, 1);
    forged.outputs[0].amount = V + 1;
    let forged = sign(forged, &[&w.devices[0]]);
    assert_eq!(
        rule_of(&w.try_block(&[forged]).unwrap_err()),
        Rule::Transaction
    );
    let gap = w.create(0, 2);
    assert_eq!(
        rule_of(&w.try_block(&[gap]).unwrap_err()),
        Rule::Transaction
    );
    let stranger = kp(42);
    let mut rogue = w.create(0, 1);
    rogue.payload = Payload::Create {
        device: stranger.public_key(),
        seq: 1,
    };
    rogue
        .outputs
        .iter_mut()
        .for_each(|o| o.owner = stranger.public_key());
    let rogue = sign(rogue, &[&stranger]);
    assert_eq!(
        rule_of(&w.try_block(&[rogue]).unwrap_err()),
        Rule::NotAuthorised
    );
    let ok = w.create(0, 1);
    w.try_block(&[ok]).unwrap();
}

#[test]
fn periods_and_votes() {
    let mut w = world();
    let mut late = w.create(0, 1);
    late.period -= 1;
    for o in &mut late.outputs {
        if o.asset == Asset::Vote {
            o.expires -= 1;
        }
    }
    let late = sign(late, &[&w.devices[0]]);
    let e = w.try_block(&[late]).unwrap_err();
    assert_eq!(rule_of(&e), Rule::Transaction);
    assert!(e.to_string().contains("closed"), "{e}");
    // Votes expire d = 4 periods after creation.
    let txs = w.period_txs(1);
    let d = txs[3].id(Algorithm::Blake3);
    w.try_block(&txs).unwrap();
    let vote_in = Outpoint { txid: d, index: 2 };
    for _ in 0..4 {
        w.try_block(&[]).unwrap();
    }
    let expires = w.state.tip().period; // created at p, valid through p + 4
    let spend = w.transfer(
        &[&w.members[0]],
        vec![vote_in],
        vec![Output {
            owner: w.members[2].public_key(),
            asset: Asset::Vote,
            amount: 1,
            expires,
        }],
    );
    let e = w.try_block(&[spend]).unwrap_err();
    assert!(e.to_string().contains("expired"), "{e}");
}

#[test]
fn header_rules() {
    let mut w = world();
    let (h, s, _) = w.block(&[]);
    let hd = Header::decode(&h).unwrap();
    let g = w.state.genesis().clone();
    let signer = |h: &Header, k: &Keypair| (h.encode(), k.sign(&h.hash(Algorithm::Blake3)));
    let cases: Vec<(&str, Header)> = vec![
        (
            "height",
            Header {
                height: 2,
                ..hd.clone()
            },
        ),
        (
            "period",
            Header {
                period: hd.period + 1,
                timestamp_ms: period_end_ms(&g, hd.period + 1),
                ..hd.clone()
            },
        ),
        (
            "prev_hash",
            Header {
                prev_hash: [1; 32],
                ..hd.clone()
            },
        ),
        (
            "tx_root",
            Header {
                tx_root: [1; 32],
                ..hd.clone()
            },
        ),
        (
            "miner",
            Header {
                miner: w.members[1].public_key(),
                ..hd.clone()
            },
        ),
        (
            "timestamp",
            Header {
                timestamp_ms: hd.timestamp_ms - 1,
                ..hd.clone()
            },
        ),
        (
            "chain_id",
            Header {
                chain_id: [9; 32],
                ..hd.clone()
            },
        ),
        (
            "next_winner",
            Header {
                next_winner: w.members[0].public_key(),
                ..hd.clone()
            },
        ),
    ];
    for (what, bad) in cases {
        let key = if what == "miner" {
            &w.members[1]
        } else {
            &w.members[0]
        };
        let (hb, sb) = signer(&bad, key);
        let e = w.state.append(&hb, &sb, &[]).unwrap_err();
        assert_eq!(rule_of(&e), Rule::Block, "{what}: {e}");
        assert!(e.to_string().contains(what), "{what}: {e}");
    }
    w.state.append(&h, &s, &[]).unwrap();
}

#[test]
fn sha256_chains_work_too() {
    let mut g = world().state.genesis().clone();
    g.algorithm = Algorithm::Sha256;
    let s = ChainState::new(g).unwrap();
    assert_eq!(s.log().size(), 1);
    assert_ne!(s.chain_id(), world().state.chain_id());
}

/// Check `txs` as the next block on the bounded state and on an unbounded
/// copy; append to both when both accept. Returns both verdicts.
fn on_both(
    w: &mut World,
    full: &mut ChainState,
    txs: &[Tx],
) -> (Result<(), Rule>, Result<(), Rule>) {
    let (h, s, raw) = w.block(txs);
    let refs: Vec<&[u8]> = raw.iter().map(Vec::as_slice).collect();
    let a = w.state.check(&h, &s, &refs);
    let b = full.check(&h, &s, &refs);
    if let (Ok(x), Ok(y)) = (&a, &b) {
        assert_eq!(x.block_hash, y.block_hash);
        assert_eq!(x.spent, y.spent);
        w.state.apply(x);
        full.apply(y);
    }
    (
        a.map(|_| ()).map_err(|e| rule_of(&e)),
        b.map(|_| ()).map_err(|e| rule_of(&e)),
    )
}

#[test]
fn bounded_memory_gives_the_unbounded_verdicts() {
    use super::utxo::ID_WINDOW;
    let mut w = world();
    let mut full = ChainState::with_memory(w.state.genesis().clone(), false).unwrap();
    let first = w.period_txs(1);
    let (m0, vpp) = (w.members[0].public_key(), w.vpp.public_key());
    let d_id = first[3].id(Algorithm::Blake3);
    let (ok, ok2) = on_both(&mut w, &mut full, &first);
    assert_eq!((ok, ok2), (Ok(()), Ok(())));
    let periods = ID_WINDOW + 20;
    let mut seq = 3;
    for _ in 1..periods {
        let txs = w.period_txs(seq);
        seq += 2;
        assert_eq!(on_both(&mut w, &mut full, &txs), (Ok(()), Ok(())));
    }
    // Memory: expired votes and old spent ids are gone from the bounded state.
    assert!(w.state.ids_len() < full.ids_len());
    assert!(w.state.utxo_len() < full.utxo_len());
    // Crafted blocks, each checked on both states (replays, double spends and
    // expired votes of pruned outputs, and a valid spend of an old allocation).
    let replay_create = first[0].clone();
    let old_quantum = Outpoint {
        txid: first[0].id(Algorithm::Blake3),
        index: 0,
    };
    let double_spend = w.transfer(
        &[&w.devices[0]],
        vec![old_quantum],
        vec![w.energy(vpp, 100)],
    );
    let expired_vote = Outpoint {
        txid: d_id,
        index: 2,
    };
    let vote_out = Output {
        owner: vpp,
        asset: Asset::Vote,
        amount: 1,
        expires: w.state.tip().period + 1,
    };
    let spend_expired = w.transfer(&[&w.members[0]], vec![expired_vote], vec![vote_out]);
    let unknown = w.transfer(
        &[&w.members[0]],
        vec![Outpoint {
            txid: [7; 32],
            index: 0,
        }],
        vec![w.energy(vpp, 1)],
    );
    for bad in [
        vec![replay_create],
        vec![first[3].clone()],
        vec![double_spend],
        vec![spend_expired],
        vec![unknown],
    ] {
        let (a, b) = on_both(&mut w, &mut full, &bad);
        assert!(a.is_err() && b.is_err(), "{a:?} {b:?}");
    }
    // Within the window the reason is the same too.
    let recent = w.period_txs(seq);
    seq += 2;
    assert_eq!(on_both(&mut w, &mut full, &recent), (Ok(()), Ok(())));
    let (a, b) = on_both(&mut w, &mut full, &[recent[1].clone()]);
    assert_eq!(a, b);
    assert_eq!(a, Err(Rule::DoubleSpend));
    let recent_quantum = Outpoint {
        txid: recent[0].id(Algorithm::Blake3),
        index: 0,
    };
    let again = w.transfer(
        &[&w.devices[0]],
        vec![recent_quantum],
        vec![w.energy(vpp, 100)],
    );
    let (a, b) = on_both(&mut w, &mut full, &[again]);
    assert_eq!((a, b), (Err(Rule::DoubleSpend), Err(Rule::DoubleSpend)));
    // A vote on its last valid period is still spendable; the old energy too.
    let last = w.period_txs(seq);
    let last_vote = Outpoint {
        txid: last[3].id(Algorithm::Blake3),
        index: 2,
    };
    assert_eq!(on_both(&mut w, &mut full, &last), (Ok(()), Ok(())));
    for _ in 0..3 {
        assert_eq!(on_both(&mut w, &mut full, &[]), (Ok(()), Ok(())));
    }
    let p = w.state.tip().period + 1;
    let vote_out = Output {
        owner: vpp,
        asset: Asset::Vote,
        amount: 1,
        expires: p,
    };
    let spend_vote = w.transfer(&[&w.members[0]], vec![last_vote], vec![vote_out]);
    let old_energy = Outpoint {
        txid: d_id,
        index: 0,
    };
    let spend_energy = w.transfer(&[&w.members[0]], vec![old_energy], vec![w.energy(m0, 120)]);
    assert_eq!(
        on_both(&mut w, &mut full, &[spend_vote, spend_energy]),
        (Ok(()), Ok(()))
    );
    assert_eq!(w.state.tip_hash(), full.tip_hash());
    assert_eq!(
        w.state.balance(&m0, w.state.tip().period),
        full.balance(&m0, w.state.tip().period)
    );
}

#[test]
fn memory_stays_bounded_over_a_long_run() {
    use super::utxo::ID_WINDOW;
    let mut w = world();
    let mut seq = 1;
    // Member 0's gathered output (outpoint, Wh) and the allocations since.
    let mut gathered: Option<(Outpoint, u64)> = None;
    let mut alloc: Vec<Outpoint> = Vec::new();
    for i in 0..(3 * ID_WINDOW) {
        let mut txs = w.period_txs(seq);
        seq += 2;
        // Every 8 periods member 0 gathers both members' energy in one output.
        if i % 8 == 7 {
            let mut ins = std::mem::take(&mut alloc);
            let mut wh = 200 * (ins.len() as u64 / 2);
            if let Some((p, g)) = gathered {
                ins.push(p);
                wh = wh.checked_add(g).expect("test amounts are small");
            }
            let gather = w.transfer(
                &[&w.members[0], &w.members[1]],
                ins,
                vec![w.energy(w.members[0].public_key(), wh)],
            );
            let p = Outpoint {
                txid: gather.id(Algorithm::Blake3),
                index: 0,
            };
            gathered = Some((p, wh));
            txs.push(gather);
        }
        let did = txs[3].id(Algorithm::Blake3);
        w.try_block(&txs).unwrap();
        alloc.extend([0, 1].map(|index| Outpoint { txid: did, index }));
        // Live: at most 17 energy outputs and the votes of the last d + 1 = 5
        // periods (2 each). Ids: the last ID_WINDOW periods' (≤ 5 each) and
        // the gathered output's transaction.
        assert!(w.state.utxo_len() <= 17 + 10, "{}", w.state.utxo_len());
        assert!(
            w.state.ids_len() <= 5 * ID_WINDOW as usize + 1,
            "{}",
            w.state.ids_len()
        );
    }
    let m0 = w.members[0].public_key();
    assert_eq!(
        w.state.balance(&m0, w.state.tip().period).0,
        287 * 200 + 120
    );
}

#[test]
fn loss_records_follow_their_rules() {
    let mut w = world();
    // Beside the distribution, and alone in a block without one.
    let mut txs = w.period_txs(1);
    txs.push(w.losses(&w.vpp, 7, &[(0, 4), (2, 3)]));
    w.try_block(&txs).unwrap();
    let l = w.losses(&w.vpp, 0, &[]);
    w.try_block(&[l]).unwrap();
    let bad = |w: &World, t: Vec<Tx>, rule: Rule, field: &str| {
        let mut w2 = World {
            vpp: kp(200),
            members: (1..=3).map(kp).collect(),
            devices: (100..102).map(kp).collect(),
            state: w.state.clone(),
        };
        let (tip, n) = (w2.state.tip_hash(), w2.state.n_tx());
        let e = w2.try_block(&t).unwrap_err();
        assert_eq!(rule_of(&e), rule, "{e}");
        assert!(e.to_string().contains(field), "{field}: {e}");
        assert_eq!((w2.state.tip_hash(), w2.state.n_tx()), (tip, n));
    };
    // Shares that do not sum to the total.
    bad(
        &w,
        vec![w.losses(&w.vpp, 8, &[(0, 4), (2, 3)])],
        Rule::Transaction,
        "tx[0].shares",
    );
    // Not the VPP.
    let m = kp(1);
    bad(
        &w,
        vec![w.losses(&m, 7, &[(0, 4), (2, 3)])],
        Rule::NotAuthorised,
        "tx[0].vpp",
    );
    // Two records in one period.
    let one = w.losses(&w.vpp, 1, &[(0, 1)]);
    let two = w.losses(&w.vpp, 2, &[(1, 2)]);
    bad(&w, vec![one, two], Rule::Transaction, "tx[1].kind");
    // Out of genesis order, a member twice, a zero share.
    bad(
        &w,
        vec![w.losses(&w.vpp, 7, &[(2, 3), (0, 4)])],
        Rule::Transaction,
        "tx[0].shares[1].member",
    );
    bad(
        &w,
        vec![w.losses(&w.vpp, 8, &[(1, 4), (1, 4)])],
        Rule::Transaction,
        "tx[0].shares[1].member",
    );
    bad(
        &w,
        vec![w.losses(&w.vpp, 4, &[(0, 4), (1, 0)])],
        Rule::Transaction,
        "tx[0].shares[1].loss_wh",
    );
    // An unregistered member (a device key).
    let mut t = w.losses(&w.vpp, 4, &[(0, 4)]);
    if let Payload::Losses { shares, .. } = &mut t.payload {
        shares[0].member = w.devices[0].public_key();
    }
    let t = sign(t, &[&w.vpp]);
    bad(&w, vec![t], Rule::NotAuthorised, "tx[0].shares[0].member");
    // Overflowing shares, a total above 2^63-1, outputs.
    let big = super::codec::MAX_AMOUNT;
    bad(
        &w,
        vec![w.losses(&w.vpp, 3, &[(0, big), (1, big), (2, 5)])],
        Rule::Transaction,
        "tx[0].shares[2].loss_wh",
    );
    bad(
        &w,
        vec![w.losses(&w.vpp, big + 1, &[(0, big), (1, 1)])],
        Rule::Transaction,
        "tx[0].total_wh",
    );
    let mut t = w.losses(&w.vpp, 0, &[]);
    t.outputs.push(w.energy(w.vpp.public_key(), 1));
    let t = sign(t, &[&w.vpp]);
    bad(&w, vec![t], Rule::Transaction, "tx[0].outputs");
    // A wrong period (not the record already in that period's block: a replay is a double spend).
    let mut t = w.losses(&w.vpp, 3, &[(1, 3)]);
    t.period -= 1;
    let t = sign(t, &[&w.vpp]);
    bad(&w, vec![t], Rule::Transaction, "tx[0].period");
    assert_eq!(w.state.tip().height, 2);
}
