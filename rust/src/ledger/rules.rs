//! The ledger rules of each transaction kind (SPEC §2–3), checked in block
//! order against the chain state plus what earlier transactions of the same
//! block created and spent.

use std::collections::{HashMap, HashSet};

use super::auction::{self, Offer};
use super::block::{period_end_ms, Header};
use super::codec::{short, Key, MAX_AMOUNT};
use super::state::{rule, Accepted, AuctionDelta, ChainState, NewOutput, Utxo};
use super::tx::{Asset, LossShare, Outpoint, Output, Payload, SignedHeader, Tx, NEVER};
use crate::crypto::hash::Digest;
use crate::crypto::sig;
use crate::error::{CoreResult, Rule};

/// The per-block scratch: outputs created and spent so far in this block.
struct Overlay<'s> {
    state: &'s ChainState,
    created: HashMap<Outpoint, Utxo>,
    spent: HashMap<Outpoint, usize>,
    new_keys: Vec<Key>,
    new_ids: HashMap<Key, u32>,
    device_seq: HashMap<usize, u64>,
    /// Candidacies so far: (tx index, txid, candidate, tokens, expiry, on time).
    candidates: Vec<(usize, Digest, Key, u64, u64, bool)>,
    winner_tx: Option<usize>,
    /// The block's loss record, if any (at most one per period).
    losses_tx: Option<usize>,
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

/// What the inputs of one transaction hold.
struct Inputs {
    sums: [u128; 2],
    vote_expiry: u64,
    owners: HashSet<Key>,
    held: Vec<Utxo>,
}

fn slot(a: Asset) -> usize {
    usize::from(a == Asset::Vote)
}

fn sums(outputs: &[Output]) -> [u128; 2] {
    let mut s = [0u128; 2];
    for o in outputs {
        if let Some(x) = s.get_mut(slot(o.asset)) {
            *x += u128::from(o.amount);
        }
    }
    s
}

impl ChainState {
    pub(super) fn check_rules(
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
            candidates: Vec::new(),
            winner_tx: None,
            losses_tx: None,
        };
        let mut in_block: HashSet<Digest> = HashSet::new();
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
            auction: AuctionDelta::default(),
        };
        for (i, ((tx, _), id)) in parsed.iter().zip(ids).enumerate() {
            if !in_block.insert(*id) || self.utxo.known(id).is_some() {
                return Err(rule(
                    Rule::DoubleSpend,
                    format!("tx[{i}]"),
                    short(id),
                    "this transaction is already on the chain",
                ));
            }
            let fee = self.check_tx(&mut ov, &mut acc, h, tx, id, i)?;
            for (a, f) in acc.fees.iter_mut().zip(fee) {
                *a = a.saturating_add(f);
            }
            let tx_seq = self.n_tx + i as u64;
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
        }
        self.check_next_producer(&ov, &mut acc, h)?;
        acc.new_keys = ov.new_keys;
        acc.device_seqs = ov.device_seq.into_iter().collect();
        Ok(acc)
    }

    /// The header's `next_winner`: round robin, the auction's winner, or (no
    /// on-time candidate) a draw among all members with equal weight.
    fn check_next_producer(
        &self,
        ov: &Overlay<'_>,
        acc: &mut Accepted,
        h: &Header,
    ) -> CoreResult<()> {
        let g = &self.genesis;
        let expect = if g.consensus.is_auction() {
            if !ov.candidates.is_empty() && ov.winner_tx.is_none() {
                return Err(rule(
                    Rule::Block,
                    "txs".into(),
                    ov.candidates.len(),
                    "candidacies without a Winner transaction",
                ));
            }
            let on_time = ov.candidates.iter().filter(|c| c.5).count();
            acc.auction.candidates = (on_time, ov.candidates.len() - on_time);
            match acc.auction.winner {
                Some(k) => k,
                None => {
                    acc.auction.penalise_all = true;
                    auction::equal_order(
                        self.alg,
                        g,
                        &self.book,
                        None,
                        &self.tip_hash,
                        h.period + 1,
                    )
                    .first()
                    .copied()
                    .unwrap_or(h.miner)
                }
            }
        } else {
            g.round_robin(h.height + 1)
        };
        if h.next_winner != expect {
            return Err(rule(
                Rule::Block,
                "header.next_winner".into(),
                short(&h.next_winner),
                format!(
                    "the producer chosen for the next period is {}",
                    short(&expect)
                ),
            ));
        }
        Ok(())
    }

    /// The rules of one transaction; returns its fees (energy, votes).
    fn check_tx(
        &self,
        ov: &mut Overlay<'_>,
        acc: &mut Accepted,
        h: &Header,
        tx: &Tx,
        id: &Digest,
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
        let may_be_empty = matches!(
            tx.payload,
            Payload::Evidence { .. } | Payload::Losses { .. }
        );
        if tx.outputs.is_empty() && !may_be_empty {
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
        if let Some(w) = ov.winner_tx {
            if matches!(tx.payload, Payload::Candidate { .. }) {
                return Err(rule(
                    Rule::Transaction,
                    f("kind"),
                    "candidate",
                    format!("a candidacy after the Winner transaction tx[{w}]"),
                ));
            }
        }
        match &tx.payload {
            Payload::Create { device, seq } => self.check_create(ov, tx, device, *seq, i),
            Payload::Transfer { signers, inputs } => {
                self.check_transfer(ov, acc, h, tx, id, signers, inputs, i)
            }
            Payload::Candidate {
                candidate,
                sent_ms,
                inputs,
            } => self.check_candidate(ov, acc, h, tx, id, candidate, *sent_ms, inputs, i),
            Payload::Winner {
                miner,
                winner,
                inputs,
            } => self.check_winner(ov, acc, h, tx, miner, winner, inputs, i),
            Payload::Evidence {
                reporter,
                first,
                second,
                inputs,
            } => self.check_evidence(ov, acc, h, tx, reporter, first, second, inputs, i),
            Payload::Losses {
                vpp,
                total_wh,
                shares,
            } => self.check_losses(ov, tx, vpp, *total_wh, shares, i),
        }
    }

    /// A period's loss record (issue 20): signed by the VPP, at most one per
    /// block, no assets moved, shares of registered members in genesis order
    /// (each member at most once, each share ≥ 1 Wh) summing exactly to the total.
    fn check_losses(
        &self,
        ov: &mut Overlay<'_>,
        tx: &Tx,
        vpp: &Key,
        total_wh: u64,
        shares: &[LossShare],
        i: usize,
    ) -> CoreResult<[u64; 2]> {
        let f = |s: &str| format!("tx[{i}].{s}");
        if vpp != &self.genesis.vpp {
            return Err(rule(
                Rule::NotAuthorised,
                f("vpp"),
                short(vpp),
                "only the community's VPP records the period's losses",
            ));
        }
        if let Some(k) = ov.losses_tx {
            return Err(rule(
                Rule::Transaction,
                f("kind"),
                "losses",
                format!("one loss record per period; tx[{k}] is this period's"),
            ));
        }
        if !tx.outputs.is_empty() {
            return Err(rule(
                Rule::Transaction,
                f("outputs"),
                tx.outputs.len(),
                "a loss record moves no asset (no outputs)",
            ));
        }
        if total_wh > MAX_AMOUNT {
            return Err(rule(
                Rule::Transaction,
                f("total_wh"),
                total_wh,
                "amounts must be in 0..2^63-1",
            ));
        }
        let mut sum = 0u64;
        let mut last: Option<usize> = None;
        for (j, s) in shares.iter().enumerate() {
            let Some(m) = self.book.member(&s.member) else {
                return Err(rule(
                    Rule::NotAuthorised,
                    f(&format!("shares[{j}].member")),
                    short(&s.member),
                    "not a registered member",
                ));
            };
            if last.is_some_and(|l| m <= l) {
                return Err(rule(
                    Rule::Transaction,
                    f(&format!("shares[{j}].member")),
                    short(&s.member),
                    "shares list each member at most once, in the genesis order of members",
                ));
            }
            last = Some(m);
            if s.loss_wh == 0 || s.loss_wh > MAX_AMOUNT {
                return Err(rule(
                    Rule::Transaction,
                    f(&format!("shares[{j}].loss_wh")),
                    s.loss_wh,
                    "a share is in 1..2^63-1 Wh (a member with no share is left out)",
                ));
            }
            sum = sum.checked_add(s.loss_wh).ok_or_else(|| {
                rule(
                    Rule::Transaction,
                    f(&format!("shares[{j}].loss_wh")),
                    s.loss_wh,
                    "the shares overflow 2^64-1 Wh",
                )
            })?;
        }
        if sum != total_wh {
            return Err(rule(
                Rule::Transaction,
                f("shares"),
                format!("{sum} Wh"),
                format!("the shares must sum exactly to the period's losses ({total_wh} Wh)"),
            ));
        }
        ov.losses_tx = Some(i);
        Ok([0, 0])
    }

    fn check_create(
        &self,
        ov: &mut Overlay<'_>,
        tx: &Tx,
        device: &Key,
        seq: u64,
        i: usize,
    ) -> CoreResult<[u64; 2]> {
        let f = |s: &str| format!("tx[{i}].{s}");
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
        if last.checked_add(1) != Some(seq) {
            return Err(rule(
                Rule::Transaction,
                f("seq"),
                seq,
                match last.checked_add(1) {
                    Some(n) => format!("the device's quanta are numbered in order: expected {n}"),
                    None => "the device has used every sequence number".to_owned(),
                },
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
        ov.device_seq.insert(d.index, seq);
        Ok([0, 0])
    }

    /// Look up and check the inputs of a transaction; `owners` (None: any owner) must own them.
    fn read_inputs(
        &self,
        ov: &Overlay<'_>,
        tx: &Tx,
        inputs: &[Outpoint],
        owners: Option<&HashSet<&Key>>,
        i: usize,
    ) -> CoreResult<Inputs> {
        let f = |s: &str| format!("tx[{i}].{s}");
        let mut seen = HashSet::new();
        let mut out = Inputs {
            sums: [0, 0],
            vote_expiry: NEVER,
            owners: HashSet::new(),
            held: Vec::with_capacity(inputs.len()),
        };
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
            let Some(u) = ov.created.get(p).copied().or_else(|| self.utxo.get(p)) else {
                return Err(match self.utxo.known(&p.txid) {
                    Some((_, n)) if p.index < n => rule(
                        Rule::DoubleSpend,
                        field,
                        value,
                        "already spent in an earlier block",
                    ),
                    Some(_) => rule(
                        Rule::Transaction,
                        field,
                        value,
                        "the transaction has no output with this index",
                    ),
                    None => rule(
                        Rule::Transaction,
                        field,
                        value,
                        "unknown input: no such transaction on the chain",
                    ),
                });
            };
            let owner = ov.key(u.owner);
            if owners.is_some_and(|o| !o.contains(&owner)) {
                return Err(rule(
                    Rule::NotAuthorised,
                    field,
                    value,
                    format!("the output belongs to {}, who did not sign", short(&owner)),
                ));
            }
            out.owners.insert(owner);
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
                out.vote_expiry = out.vote_expiry.min(u.expires);
            }
            if let Some(s) = out.sums.get_mut(slot(u.asset)) {
                *s += u128::from(u.amount);
            }
            out.held.push(u);
        }
        Ok(out)
    }

    fn spend(
        ov: &mut Overlay<'_>,
        acc: &mut Accepted,
        inputs: &[Outpoint],
        held: &[Utxo],
        i: usize,
    ) {
        for (p, u) in inputs.iter().zip(held) {
            ov.spent.insert(*p, i);
            acc.spent_points.push(*p);
            acc.spent.push((u.tx_seq, p.index));
        }
    }

    fn fees(ins: &[u128; 2], outs: &[u128; 2]) -> [u64; 2] {
        let fee = |k: usize| {
            u64::try_from(
                ins.get(k)
                    .copied()
                    .unwrap_or(0)
                    .saturating_sub(outs.get(k).copied().unwrap_or(0)),
            )
            .unwrap_or(u64::MAX)
        };
        [fee(0), fee(1)]
    }

    #[allow(clippy::too_many_arguments)]
    fn check_transfer(
        &self,
        ov: &mut Overlay<'_>,
        acc: &mut Accepted,
        h: &Header,
        tx: &Tx,
        id: &Digest,
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
        let ins = self.read_inputs(ov, tx, inputs, Some(&unique), i)?;
        if let Some(k) = signers.iter().find(|k| !ins.owners.contains(*k)) {
            return Err(rule(
                Rule::Transaction,
                f("signers"),
                short(k),
                "a signer that owns no input",
            ));
        }
        let outs = sums(&tx.outputs);
        for (a, (o, n)) in outs.iter().zip(&ins.sums).enumerate() {
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
            if o.asset == Asset::Vote && o.expires != ins.vote_expiry {
                return Err(rule(
                    Rule::Transaction,
                    f(&format!("outputs[{j}].expires")),
                    o.expires,
                    format!(
                        "voting tokens keep the earliest expiry of their inputs ({})",
                        ins.vote_expiry
                    ),
                ));
            }
        }
        let is_vpp = signers == [self.genesis.vpp];
        let device_signs = signers.iter().any(|k| self.devices.contains_key(k));
        if (is_vpp || device_signs) && outs != ins.sums {
            return Err(rule(
                Rule::Transaction,
                f("outputs"),
                format!("{} Wh of {}", outs[0], ins.sums[0]),
                "a VPP distribution or a unit's transfer must pass on exactly its inputs (the repartition must sum to the input)",
            ));
        }
        if device_signs {
            if let Some((j, o)) = tx
                .outputs
                .iter()
                .enumerate()
                .find(|(_, o)| o.owner != self.genesis.vpp)
            {
                return Err(rule(
                    Rule::NotAuthorised,
                    f(&format!("outputs[{j}].owner")),
                    short(&o.owner),
                    "a generation unit sends its quanta to the VPP only",
                ));
            }
        }
        if is_vpp {
            self.check_miner_fee(acc, h, tx, id, ins.sums[0], i)?;
        }
        Self::spend(ov, acc, inputs, &ins.held, i);
        Ok(Self::fees(&ins.sums, &outs))
    }

    /// A VPP distribution pays the miner ⌊energy · fee⌋ as its last output (SPEC §3 Fees).
    fn check_miner_fee(
        &self,
        acc: &mut Accepted,
        h: &Header,
        tx: &Tx,
        id: &Digest,
        energy_in: u128,
        i: usize,
    ) -> CoreResult<()> {
        let fee = energy_in * u128::from(self.genesis.consensus.fee_ppm) / 1_000_000;
        if fee == 0 {
            return Ok(());
        }
        let last = tx.outputs.len().saturating_sub(1);
        let ok = tx.outputs.last().is_some_and(|o| {
            o.owner == h.miner && o.asset == Asset::Energy && u128::from(o.amount) == fee
        });
        if !ok || acc.auction.fee_output.is_some() {
            return Err(rule(
                Rule::Transaction,
                format!("tx[{i}].outputs[{last}]"),
                "miner fee",
                format!(
                    "the distribution's last output pays the miner its fee of {fee} Wh ({} ppm)",
                    self.genesis.consensus.fee_ppm
                ),
            ));
        }
        acc.auction.fee_output = Some((
            h.miner,
            Outpoint {
                txid: *id,
                index: u16::try_from(last).unwrap_or(u16::MAX),
            },
        ));
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn check_candidate(
        &self,
        ov: &mut Overlay<'_>,
        acc: &mut Accepted,
        h: &Header,
        tx: &Tx,
        id: &Digest,
        candidate: &Key,
        sent_ms: i64,
        inputs: &[Outpoint],
        i: usize,
    ) -> CoreResult<[u64; 2]> {
        let f = |s: &str| format!("tx[{i}].{s}");
        let c = &self.genesis.consensus;
        if !c.is_auction() {
            return Err(rule(
                Rule::Transaction,
                f("kind"),
                "candidate",
                "this chain has no auction (round-robin producers)",
            ));
        }
        if self.book.member(candidate).is_none() {
            return Err(rule(
                Rule::NotAuthorised,
                f("candidate"),
                short(candidate),
                "only members (virtual meter owners) may stand as miners",
            ));
        }
        if self.book.barred(candidate) {
            return Err(rule(
                Rule::NotAuthorised,
                f("candidate"),
                short(candidate),
                format!("barred after {} strikes", c.strikes),
            ));
        }
        if candidate == &h.miner {
            return Err(rule(
                Rule::NotAuthorised,
                f("candidate"),
                short(candidate),
                "the block's miner runs this auction and is not a candidate in it (SPEC §3)",
            ));
        }
        if ov.candidates.iter().any(|x| &x.2 == candidate) {
            return Err(rule(
                Rule::Transaction,
                f("candidate"),
                short(candidate),
                "one candidacy per member and period",
            ));
        }
        if inputs.is_empty() {
            return Err(rule(
                Rule::Transaction,
                f("inputs"),
                0,
                "a candidacy offers at least one voting token",
            ));
        }
        let me: HashSet<&Key> = std::iter::once(candidate).collect();
        let ins = self.read_inputs(ov, tx, inputs, Some(&me), i)?;
        if ins.sums[0] > 0 {
            return Err(rule(
                Rule::Transaction,
                f("inputs"),
                "energy",
                "a candidacy offers voting tokens only",
            ));
        }
        let tokens = u64::try_from(ins.sums[1]).unwrap_or(u64::MAX);
        let expect = [Output {
            owner: h.miner,
            asset: Asset::Vote,
            amount: tokens,
            expires: ins.vote_expiry,
        }];
        if tx.outputs != expect {
            return Err(rule(
                Rule::Transaction,
                f("outputs"),
                format!("{} outputs", tx.outputs.len()),
                "a candidacy sends all its offered tokens, as one output, to the current miner",
            ));
        }
        let start = i64::try_from(h.period)
            .unwrap_or(i64::MAX)
            .saturating_mul(i64::from(self.genesis.period_s) * 1000);
        let open = start.saturating_add(i64::from(c.gate_open_ms));
        let close =
            period_end_ms(&self.genesis, h.period).saturating_sub(i64::from(c.gate_close_ms));
        let on_time = (open..=close).contains(&sent_ms);
        ov.candidates
            .push((i, *id, *candidate, tokens, ins.vote_expiry, on_time));
        Self::spend(ov, acc, inputs, &ins.held, i);
        Ok([0, 0])
    }

    #[allow(clippy::too_many_arguments)]
    fn check_winner(
        &self,
        ov: &mut Overlay<'_>,
        acc: &mut Accepted,
        h: &Header,
        tx: &Tx,
        miner: &Key,
        winner: &Key,
        inputs: &[Outpoint],
        i: usize,
    ) -> CoreResult<[u64; 2]> {
        let f = |s: &str| format!("tx[{i}].{s}");
        if !self.genesis.consensus.is_auction() {
            return Err(rule(
                Rule::Transaction,
                f("kind"),
                "winner",
                "this chain has no auction (round-robin producers)",
            ));
        }
        if miner != &h.miner {
            return Err(rule(
                Rule::NotAuthorised,
                f("miner"),
                short(miner),
                "only the block's miner announces the auction's winner",
            ));
        }
        if ov.winner_tx.is_some() || ov.candidates.is_empty() {
            return Err(rule(
                Rule::Transaction,
                f("kind"),
                "winner",
                "one Winner per block, after its candidacies",
            ));
        }
        let expected_inputs: Vec<Outpoint> = ov
            .candidates
            .iter()
            .map(|c| Outpoint {
                txid: c.1,
                index: 0,
            })
            .collect();
        if inputs != expected_inputs.as_slice() {
            return Err(rule(
                Rule::Transaction,
                f("inputs"),
                inputs.len(),
                "the Winner spends every candidacy's offer, in block order",
            ));
        }
        let offers: Vec<Offer> = ov
            .candidates
            .iter()
            .filter(|c| c.5)
            .filter_map(|c| {
                self.book.member(&c.2).map(|m| Offer {
                    member: m,
                    key: c.2,
                    tokens: c.3,
                })
            })
            .collect();
        let won = auction::winner(
            self.alg,
            &self.genesis,
            &self.book,
            &offers,
            &self.tip_hash,
            h.period + 1,
        );
        if won.unwrap_or([0; 32]) != *winner {
            return Err(rule(
                Rule::Transaction,
                f("winner"),
                short(winner),
                format!(
                    "the draw names {}",
                    won.map_or_else(|| "nobody (no candidacy on time)".to_owned(), |k| short(&k))
                ),
            ));
        }
        let mut expect = Vec::new();
        if let Some(k) = won {
            let pot = ov
                .candidates
                .iter()
                .filter(|c| c.5)
                .try_fold(0u64, |a, c| a.checked_add(c.3))
                .filter(|&p| p <= MAX_AMOUNT)
                .ok_or_else(|| {
                    rule(
                        Rule::Transaction,
                        f("outputs"),
                        "pot",
                        "the on-time offers add up to more than an output can hold (2^63-1)",
                    )
                })?;
            let exp = ov
                .candidates
                .iter()
                .filter(|c| c.5)
                .map(|c| c.4)
                .min()
                .unwrap_or(NEVER);
            expect.push(Output {
                owner: k,
                asset: Asset::Vote,
                amount: pot,
                expires: exp,
            });
        }
        for c in ov.candidates.iter().filter(|c| !c.5) {
            expect.push(Output {
                owner: c.2,
                asset: Asset::Vote,
                amount: c.3,
                expires: c.4,
            });
        }
        if tx.outputs != expect {
            return Err(rule(
                Rule::Transaction,
                f("outputs"),
                format!("{} outputs", tx.outputs.len()),
                "the winner receives every on-time offer; each late offer is refunded",
            ));
        }
        let me: HashSet<&Key> = std::iter::once(miner).collect();
        let ins = self.read_inputs(ov, tx, inputs, Some(&me), i)?;
        ov.winner_tx = Some(i);
        acc.auction.winner = won;
        Self::spend(ov, acc, inputs, &ins.held, i);
        Ok([0, 0])
    }

    #[allow(clippy::too_many_arguments)]
    fn check_evidence(
        &self,
        ov: &mut Overlay<'_>,
        acc: &mut Accepted,
        h: &Header,
        tx: &Tx,
        reporter: &Key,
        first: &SignedHeader,
        second: &SignedHeader,
        inputs: &[Outpoint],
        i: usize,
    ) -> CoreResult<[u64; 2]> {
        let f = |s: &str| format!("tx[{i}].{s}");
        if reporter != &h.miner {
            return Err(rule(
                Rule::NotAuthorised,
                f("reporter"),
                short(reporter),
                "the block's miner includes the evidence",
            ));
        }
        let bad = |why: &str| {
            Err(rule(
                Rule::Transaction,
                f("evidence"),
                "headers",
                why.to_owned(),
            ))
        };
        let (Ok(a), Ok(b)) = (
            Header::decode(&first.header),
            Header::decode(&second.header),
        ) else {
            return bad("both headers must decode");
        };
        if a.chain_id != self.chain_id || b.chain_id != self.chain_id {
            return bad("both headers must belong to this chain");
        }
        if a.height != b.height || a.miner != b.miner || a.height == 0 || a.height > h.height {
            return bad("two headers of one past height by one miner");
        }
        let (ha, hb) = (a.hash(self.alg), b.hash(self.alg));
        if ha == hb {
            return bad("the two headers are the same block");
        }
        if !sig::verify(&a.miner, &ha, &first.signature)
            || !sig::verify(&b.miner, &hb, &second.signature)
        {
            return Err(rule(
                Rule::Signature,
                f("evidence"),
                short(&a.miner),
                "both headers must carry the miner's valid signature",
            ));
        }
        if self.book.evidence.contains(&(a.height, a.miner))
            || acc.auction.evidence.contains(&(a.height, a.miner))
        {
            return bad("this equivocation was already punished");
        }
        // Confiscate the equivocator's fee from that height, if still unspent.
        let fee =
            self.book.fee_outputs.get(&a.height).filter(|(m, p)| {
                *m == a.miner && !ov.spent.contains_key(p) && self.utxo.contains(p)
            });
        let expected: Vec<Outpoint> = fee.map(|(_, p)| *p).into_iter().collect();
        if inputs != expected.as_slice() || !tx.outputs.is_empty() {
            return Err(rule(Rule::Transaction, f("inputs"), inputs.len(), "an Evidence spends exactly the equivocator's unspent fee from that height and pays nothing out"));
        }
        let ins = self.read_inputs(ov, tx, inputs, None, i)?;
        acc.auction.evidence.push((a.height, a.miner));
        Self::spend(ov, acc, inputs, &ins.held, i);
        Ok(Self::fees(&ins.sums, &[0, 0]))
    }
}
