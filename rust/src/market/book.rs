//! A continuous double auction order book (SPEC §4): integer price ticks and
//! quantities, price–time priority, partial fills, limit, market and
//! immediate-or-cancel orders, cancel, reduce, replace, expiry and depth.
//!
//! Orders live in a slab with a free list; each price level is a FIFO
//! doubly linked through the slab, so a cancel is O(1) after one map lookup.
//! Order ids are assigned by the book, 1, 2, 3…; `id_slot` maps an id to its
//! slot. Every operation validates its arguments before changing anything, so
//! a rejected operation leaves the book as it was.
//!
//! Quantities, level totals and prices use checked arithmetic. A price level's
//! total is at most [`MAX_QTY`] (depth reports it as an int64); an order that
//! would take its level past that is refused. Whether it would can depend on
//! the matching before it, so it cannot always be known up front: when the
//! book's resting quantity plus every quantity an operation (or a stream)
//! could add stays within [`MAX_QTY`], no level can overflow and the
//! operations run directly; otherwise (extreme quantities only) they run on a
//! snapshot of the book that is restored if one of them is refused.

use std::collections::HashMap;

use crate::error::{CoreError, CoreResult};
use crate::market::ladder::{Ladder, NIL};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Buy,
    Sell,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Limit,
    Market,
    /// Immediate or cancel: trades what crosses now, the rest is cancelled.
    Ioc,
}

/// The price of a trade.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PriceRule {
    /// The resting (maker) order's price.
    Resting,
    /// The mean of the two limit prices, rounded down to a whole tick
    /// (a market taker trades at the resting price).
    Midpoint,
}

/// What happens when an order would trade with its own owner's resting order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelfTrade {
    Allow,
    /// Cancel the resting order and continue matching.
    CancelResting,
    /// Refuse the incoming order whole; nothing changes.
    Reject,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trade {
    pub seq: u64,
    pub maker_id: u64,
    pub taker_id: u64,
    pub maker_owner: u64,
    pub taker_owner: u64,
    pub price: i64,
    pub qty: u64,
}

#[derive(Clone, Copy, Debug)]
struct Order {
    id: u64,
    owner: u64,
    side: Side,
    price: i64,
    qty: u64,
    period: i64,
    prev: u32,
    next: u32,
}

/// One price level: (price, total quantity, orders).
pub type LevelRow = (i64, u64, u32);

/// What `submit` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submitted {
    pub id: u64,
    pub trades: Vec<Trade>,
    /// Quantity left: resting in the book for a limit order, cancelled otherwise.
    pub remaining: u64,
    pub rests: bool,
}

#[derive(Clone, Debug)]
pub struct Book {
    slab: Vec<Order>,
    free: Vec<u32>,
    id_slot: Vec<u32>,
    bids: Ladder,
    asks: Ladder,
    pub min_price: i64,
    pub max_price: i64,
    pub price_rule: PriceRule,
    pub self_trade: SelfTrade,
    next_id: u64,
    trade_seq: u64,
    resting: usize,
    /// Σ quantity of the resting orders (the sum of every level's total).
    resting_qty: u128,
}

/// The largest quantity of an order, and of a price level's total: 2^63 − 1.
pub const MAX_QTY: u64 = i64::MAX as u64;

fn bad(field: &str, value: impl std::fmt::Display, reason: &str) -> CoreError {
    CoreError::invalid(field, value, reason)
}

/// Why `push` refused an order: small and `Copy`, so the hot path returns
/// it cheaply; it becomes a [`CoreError`] only when it happens.
#[derive(Clone, Copy, Debug)]
enum Refused {
    /// `qty` would take the level at `price`, holding `held`, past [`MAX_QTY`].
    LevelFull { price: i64, held: u64, qty: u64 },
    /// No slab slot or id-map entry is left.
    Full { orders: usize },
}

impl From<Refused> for CoreError {
    fn from(r: Refused) -> Self {
        match r {
            Refused::LevelFull { price, held, qty } => level_full(price, held, qty),
            Refused::Full { orders } => bad("orders", orders, "the book is full"),
        }
    }
}

/// `qty` cannot rest at `price`, whose level holds `held`.
fn level_full(price: i64, held: u64, qty: u64) -> CoreError {
    bad(
        "quantity",
        qty,
        &format!(
            "cannot rest at price {price}: its level holds {held}, and a level's total is at most 2^63-1"
        ),
    )
}

/// ⌊(a + b) / 2⌋ without overflow: the mean of two i64 lies between them.
fn midpoint(a: i64, b: i64) -> i64 {
    i64::try_from((i128::from(a) + i128::from(b)) >> 1).unwrap_or(b)
}

impl Book {
    pub fn new(
        min_price: i64,
        max_price: i64,
        price_rule: PriceRule,
        self_trade: SelfTrade,
    ) -> CoreResult<Self> {
        if min_price > max_price {
            return Err(bad(
                "max_price",
                max_price,
                "the tick range is empty (max_price < min_price)",
            ));
        }
        Ok(Self {
            slab: Vec::new(),
            free: Vec::new(),
            id_slot: vec![NIL],
            bids: Ladder::default(),
            asks: Ladder::default(),
            min_price,
            max_price,
            price_rule,
            self_trade,
            next_id: 1,
            trade_seq: 0,
            resting: 0,
            resting_qty: 0,
        })
    }

    /// Resting orders.
    pub fn len(&self) -> usize {
        self.resting
    }

    pub fn is_empty(&self) -> bool {
        self.resting == 0
    }

    pub fn best_bid(&self) -> Option<i64> {
        self.bids.highest()
    }

    pub fn best_ask(&self) -> Option<i64> {
        self.asks.lowest()
    }

    /// Bytes held by the book's own structures (orders, id map, levels).
    pub fn nbytes(&self) -> usize {
        self.slab.capacity() * std::mem::size_of::<Order>()
            + self.free.capacity() * 4
            + self.id_slot.capacity() * 4
            + self.bids.nbytes()
            + self.asks.nbytes()
    }

    fn slot_of(&self, id: u64) -> Option<u32> {
        let s = *self.id_slot.get(usize::try_from(id).ok()?)?;
        (s != NIL).then_some(s)
    }

    fn order(&self, slot: u32) -> Option<&Order> {
        self.slab.get(slot as usize)
    }

    /// (owner, side, price, remaining, period) of a resting order.
    pub fn get(&self, id: u64) -> Option<(u64, Side, i64, u64, i64)> {
        let o = self.order(self.slot_of(id)?)?;
        Some((o.owner, o.side, o.price, o.qty, o.period))
    }

    fn check_price(&self, price: i64) -> CoreResult<()> {
        if price < self.min_price || price > self.max_price {
            return Err(bad(
                "price",
                price,
                &format!(
                    "outside the tick range {}..={}",
                    self.min_price, self.max_price
                ),
            ));
        }
        Ok(())
    }

    fn levels(&mut self, side: Side) -> &mut Ladder {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    /// The total quantity resting at `price` on `side`.
    fn level_qty(&self, side: Side, price: i64) -> u64 {
        let levels = match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        };
        levels.get(price).map_or(0, |l| l.qty)
    }

    /// Can `qty` more rest at `price` on `side`, once `leaving` (a replaced
    /// order) has left? Exact before matching: if that level holds anything,
    /// the other side does not cross `price`, so nothing trades and all of
    /// `qty` would rest; if it holds nothing, any quantity ≤ [`MAX_QTY`] fits.
    fn check_rest(
        &self,
        side: Side,
        price: i64,
        qty: u64,
        leaving: Option<&Order>,
    ) -> CoreResult<()> {
        let gone = leaving
            .filter(|o| o.side == side && o.price == price)
            .map_or(0, |o| o.qty);
        let held = self.level_qty(side, price).saturating_sub(gone);
        match held.checked_add(qty) {
            Some(t) if t <= MAX_QTY => Ok(()),
            _ => Err(level_full(price, held, qty)),
        }
    }

    /// Could a stream resting up to `incoming` in all make a level's total
    /// pass [`MAX_QTY`]? A level's total never exceeds the book's resting
    /// quantity, so usually the sum decides; past it, each level is bounded by
    /// what it holds plus what the stream's ops could rest at its price (a
    /// replace of an order the stream submits counts on both sides). When
    /// this is false, no op of the stream can fail while it is applied.
    fn may_overflow(&self, incoming: u128, ops: impl Iterator<Item = Op>) -> bool {
        if self.resting_qty.saturating_add(incoming) <= u128::from(MAX_QTY) {
            return false;
        }
        let mut add: HashMap<(bool, i64), u128> = HashMap::new();
        let mut put = |buy: bool, price: i64, q: u64| {
            let x = add.entry((buy, price)).or_insert(0);
            *x = x.saturating_add(u128::from(q));
        };
        for op in ops {
            match op {
                Op::Submit {
                    side,
                    kind: Kind::Limit,
                    price,
                    qty,
                    ..
                } => put(side == Side::Buy, price, qty),
                Op::Replace { id, price, qty } => match self.get(id) {
                    Some((_, side, ..)) => put(side == Side::Buy, price, qty),
                    None => {
                        put(true, price, qty);
                        put(false, price, qty);
                    }
                },
                _ => {}
            }
        }
        add.iter().any(|(&(buy, price), &q)| {
            let side = if buy { Side::Buy } else { Side::Sell };
            u128::from(self.level_qty(side, price)).saturating_add(q) > u128::from(MAX_QTY)
        })
    }

    /// Run `f`, which may fail part-way only if `risky`: then it runs on a
    /// snapshot of the book, restored if `f` fails, so a refusal changes nothing.
    fn transact<T>(
        &mut self,
        risky: bool,
        f: impl FnOnce(&mut Self) -> CoreResult<T>,
    ) -> CoreResult<T> {
        let snapshot = risky.then(|| self.clone());
        let r = f(self);
        debug_assert!(risky || r.is_ok(), "a safe operation failed part-way");
        if let (Err(_), Some(s)) = (&r, snapshot) {
            *self = s;
        }
        r
    }

    /// Rest `o` at the tail of its level. Fails, before changing anything but
    /// (perhaps) adding an empty level, if the level's total would pass [`MAX_QTY`].
    fn push(&mut self, o: Order) -> Result<u32, Refused> {
        let full = Refused::Full {
            orders: self.resting,
        };
        let slot = match self.free.last() {
            Some(&s) => s,
            None => u32::try_from(self.slab.len())
                .ok()
                .filter(|&s| s != NIL)
                .ok_or(full)?,
        };
        let id = usize::try_from(o.id)
            .ok()
            .filter(|&i| i < usize::MAX)
            .ok_or(full)?;
        let (price, side) = (o.price, o.side);
        let tail = {
            let Some(level) = self.levels(side).get_or_insert(price) else {
                return Err(full);
            };
            let Some(total) = level.qty.checked_add(o.qty).filter(|&t| t <= MAX_QTY) else {
                return Err(Refused::LevelFull {
                    price,
                    held: level.qty,
                    qty: o.qty,
                });
            };
            let t = level.tail;
            level.tail = slot;
            if level.head == NIL {
                level.head = slot;
            }
            level.qty = total;
            level.count += 1;
            t
        };
        let o = Order {
            prev: tail,
            next: NIL,
            ..o
        };
        match self.free.pop() {
            Some(s) => {
                if let Some(x) = self.slab.get_mut(s as usize) {
                    *x = o;
                }
            }
            None => self.slab.push(o),
        }
        if self.id_slot.len() <= id {
            self.id_slot.resize(id + 1, NIL);
        }
        if let Some(x) = self.id_slot.get_mut(id) {
            *x = slot;
        }
        if tail != NIL {
            if let Some(t) = self.slab.get_mut(tail as usize) {
                t.next = slot;
            }
        }
        self.resting += 1;
        // At most 2^32 orders of at most 2^63 each cannot reach u128::MAX; saturating all the
        // same, so a broken invariant can only make the fast-path bound stricter, never panic.
        self.resting_qty = self.resting_qty.saturating_add(u128::from(o.qty));
        Ok(slot)
    }

    /// Unlink a resting order; returns its remaining quantity.
    fn unlink(&mut self, slot: u32) -> u64 {
        let Some(o) = self.order(slot).copied() else {
            return 0;
        };
        if o.prev != NIL {
            if let Some(p) = self.slab.get_mut(o.prev as usize) {
                p.next = o.next;
            }
        }
        if o.next != NIL {
            if let Some(n) = self.slab.get_mut(o.next as usize) {
                n.prev = o.prev;
            }
        }
        let levels = self.levels(o.side);
        if let Some(level) = levels.get_mut(o.price) {
            if level.head == slot {
                level.head = o.next;
            }
            if level.tail == slot {
                level.tail = o.prev;
            }
            // A level's total is the sum of its orders' quantities (each add checked).
            level.qty -= o.qty;
            level.count -= 1;
            if level.count == 0 {
                levels.remove(o.price);
            }
        }
        self.resting_qty = self.resting_qty.saturating_sub(u128::from(o.qty));
        if let Some(x) = self
            .id_slot
            .get_mut(usize::try_from(o.id).unwrap_or(usize::MAX))
        {
            *x = NIL;
        }
        self.free.push(slot);
        self.resting -= 1;
        o.qty
    }

    fn crosses(side: Side, limit: Option<i64>, level_price: i64) -> bool {
        match (side, limit) {
            (_, None) => true,
            (Side::Buy, Some(p)) => level_price <= p,
            (Side::Sell, Some(p)) => level_price >= p,
        }
    }

    /// Would an order of `owner` meet its own resting order before it is filled?
    fn meets_itself(&self, side: Side, limit: Option<i64>, mut qty: u64, owner: u64) -> bool {
        let mut levels = match side {
            Side::Buy => self.asks.ascending(),
            Side::Sell => self.bids.ascending(),
        };
        if side == Side::Sell {
            levels.reverse();
        }
        for (price, level) in levels {
            if !Self::crosses(side, limit, price) || qty == 0 {
                return false;
            }
            let mut s = level.head;
            while s != NIL && qty > 0 {
                let Some(o) = self.order(s) else { break };
                if o.owner == owner {
                    return true;
                }
                qty = qty.saturating_sub(o.qty);
                s = o.next;
            }
        }
        false
    }

    /// Submit an order. `price` is ignored for a market order.
    pub fn submit(
        &mut self,
        side: Side,
        price: i64,
        qty: u64,
        owner: u64,
        kind: Kind,
        period: i64,
    ) -> CoreResult<Submitted> {
        if qty == 0 || qty > MAX_QTY {
            return Err(bad("quantity", qty, "must be in 1..2^63-1"));
        }
        self.check_room(1)?;
        let limit = match kind {
            Kind::Market => None,
            Kind::Limit | Kind::Ioc => {
                self.check_price(price)?;
                Some(price)
            }
        };
        if self.self_trade == SelfTrade::Reject && self.meets_itself(side, limit, qty, owner) {
            return Err(CoreError::invalid(
                "owner",
                owner,
                "self_trade=\"reject\": the order would trade with its owner's resting order",
            ));
        }
        if kind == Kind::Limit {
            self.check_rest(side, price, qty, None)?;
        }
        let mut trades = Vec::new();
        let (id, remaining) =
            self.submit_checked(side, limit, qty, owner, kind, period, &mut trades)?;
        Ok(Submitted {
            id,
            trades,
            remaining,
            rests: kind == Kind::Limit && remaining > 0,
        })
    }

    /// Is there room for `n` more orders: ids (below 2^63, as the tape's
    /// int64 columns need) and slab slots (below 2^32 − 1)?
    fn check_room(&self, n: usize) -> CoreResult<()> {
        let last = u64::try_from(n)
            .ok()
            .and_then(|n| self.next_id.checked_add(n))
            .filter(|&end| end <= MAX_QTY + 1);
        if last.is_none() {
            return Err(bad(
                "order_id",
                self.next_id,
                &format!("no ids left for {n} more orders (ids end at 2^63-1)"),
            ));
        }
        let slots = self
            .slab
            .len()
            .checked_add(n.saturating_sub(self.free.len()));
        if slots.is_none_or(|s| s >= NIL as usize) {
            return Err(bad(
                "orders",
                n,
                &format!("the book holds {} orders; at most 2^32-2", self.resting),
            ));
        }
        Ok(())
    }

    /// Submit an order already checked: its trades go to `tape`; returns (id, remaining).
    /// Fails only if its rest would take a level past [`MAX_QTY`] (see `check_rest`, `may_overflow`).
    #[allow(clippy::too_many_arguments)]
    fn submit_checked(
        &mut self,
        side: Side,
        limit: Option<i64>,
        qty: u64,
        owner: u64,
        kind: Kind,
        period: i64,
        tape: &mut impl Tape,
    ) -> Result<(u64, u64), Refused> {
        let id = self.next_id;
        // check_room ran first: no overflow.
        self.next_id += 1;
        let remaining = self.match_incoming(side, limit, qty, owner, id, tape);
        if let (Kind::Limit, Some(price), true) = (kind, limit, remaining > 0) {
            self.push(Order {
                id,
                owner,
                side,
                price,
                qty: remaining,
                period,
                prev: NIL,
                next: NIL,
            })?;
        }
        Ok((id, remaining))
    }

    /// Match an incoming order against the other side; trades are appended to
    /// `tape`; returns the quantity left. Works on the best level's map entry,
    /// so a fill finds its level once.
    fn match_incoming(
        &mut self,
        side: Side,
        limit: Option<i64>,
        mut qty: u64,
        owner: u64,
        taker: u64,
        tape: &mut impl Tape,
    ) -> u64 {
        while qty > 0 {
            let (levels, best) = match side {
                Side::Buy => {
                    let best = self.asks.lowest();
                    (&mut self.asks, best)
                }
                Side::Sell => {
                    let best = self.bids.highest();
                    (&mut self.bids, best)
                }
            };
            let Some(level_price) = best else { break };
            if !Self::crosses(side, limit, level_price) {
                break;
            }
            let Some(level) = levels.get_mut(level_price) else {
                break;
            };
            let slot = level.head;
            let Some(maker) = self.slab.get(slot as usize).copied() else {
                break;
            };
            if maker.owner == owner && self.self_trade == SelfTrade::CancelResting {
                self.unlink(slot);
                continue;
            }
            let fill = qty.min(maker.qty);
            // One per fill, and each fill ends a resting order or the incoming one: < 2^64.
            self.trade_seq += 1;
            let price = match (self.price_rule, limit) {
                (PriceRule::Midpoint, Some(p)) => midpoint(p, level_price),
                _ => level_price,
            };
            tape.record(Trade {
                seq: self.trade_seq,
                maker_id: maker.id,
                taker_id: taker,
                maker_owner: maker.owner,
                taker_owner: owner,
                price,
                qty: fill,
            });
            // fill ≤ qty, fill ≤ maker.qty ≤ level.qty: no underflow.
            qty -= fill;
            level.qty -= fill;
            self.resting_qty = self.resting_qty.saturating_sub(u128::from(fill));
            if fill < maker.qty {
                if let Some(m) = self.slab.get_mut(slot as usize) {
                    m.qty -= fill;
                }
                continue;
            }
            // The maker is filled: it is the head of its level, so unlink it here.
            level.head = maker.next;
            level.count -= 1;
            if level.count == 0 {
                levels.remove(level_price);
            } else if let Some(n) = self.slab.get_mut(maker.next as usize) {
                n.prev = NIL;
            }
            if let Some(x) = self
                .id_slot
                .get_mut(usize::try_from(maker.id).unwrap_or(usize::MAX))
            {
                *x = NIL;
            }
            self.free.push(slot);
            self.resting -= 1;
        }
        qty
    }

    /// Cancel a resting order; with `owner`, only that owner may. Returns the cancelled quantity.
    pub fn cancel(&mut self, id: u64, owner: Option<u64>) -> CoreResult<u64> {
        let slot = self
            .slot_of(id)
            .ok_or_else(|| bad("order_id", id, "no such resting order"))?;
        if let (Some(who), Some(o)) = (owner, self.order(slot)) {
            if o.owner != who {
                return Err(CoreError::rule(
                    crate::error::Rule::NotAuthorised,
                    "owner",
                    who,
                    format!("order {id} belongs to owner {}", o.owner),
                ));
            }
        }
        Ok(self.unlink(slot))
    }

    /// Lower a resting order's quantity, keeping its place in the queue.
    pub fn reduce(&mut self, id: u64, new_qty: u64) -> CoreResult<()> {
        let slot = self
            .slot_of(id)
            .ok_or_else(|| bad("order_id", id, "no such resting order"))?;
        let Some(o) = self.order(slot).copied() else {
            return Err(bad("order_id", id, "no such resting order"));
        };
        if new_qty == 0 || new_qty >= o.qty {
            return Err(bad(
                "new_quantity",
                new_qty,
                &format!("must be in 1..{} (use cancel to remove)", o.qty),
            ));
        }
        let cut = o.qty - new_qty;
        if let Some(x) = self.slab.get_mut(slot as usize) {
            x.qty = new_qty;
        }
        if let Some(l) = self.levels(o.side).get_mut(o.price) {
            l.qty -= cut;
        }
        self.resting_qty = self.resting_qty.saturating_sub(u128::from(cut));
        Ok(())
    }

    /// Move a resting order to a new price and quantity (it keeps its id and
    /// owner, loses its time priority, and trades if it now crosses).
    pub fn replace(&mut self, id: u64, new_price: i64, new_qty: u64) -> CoreResult<Submitted> {
        let slot = self
            .slot_of(id)
            .ok_or_else(|| bad("order_id", id, "no such resting order"))?;
        let Some(o) = self.order(slot).copied() else {
            return Err(bad("order_id", id, "no such resting order"));
        };
        if new_qty == 0 || new_qty > MAX_QTY {
            return Err(bad("quantity", new_qty, "must be in 1..2^63-1"));
        }
        self.check_price(new_price)?;
        // The scan walks the other side of the book, where this order is not.
        if self.self_trade == SelfTrade::Reject
            && self.meets_itself(o.side, Some(new_price), new_qty, o.owner)
        {
            return Err(CoreError::invalid(
                "owner",
                o.owner,
                "self_trade=\"reject\": the order would trade with its owner's resting order",
            ));
        }
        self.check_rest(o.side, new_price, new_qty, Some(&o))?;
        let mut trades = Vec::new();
        let remaining = self.replace_checked(slot, o, new_price, new_qty, &mut trades)?;
        Ok(Submitted {
            id,
            trades,
            remaining,
            rests: remaining > 0,
        })
    }

    /// Replace the order `o` at `slot`, already checked; trades go to `tape`; returns the remaining quantity.
    fn replace_checked(
        &mut self,
        slot: u32,
        o: Order,
        new_price: i64,
        new_qty: u64,
        tape: &mut impl Tape,
    ) -> Result<u64, Refused> {
        let id = o.id;
        self.unlink(slot);
        let remaining = self.match_incoming(o.side, Some(new_price), new_qty, o.owner, id, tape);
        if remaining > 0 {
            self.push(Order {
                id,
                owner: o.owner,
                side: o.side,
                price: new_price,
                qty: remaining,
                period: o.period,
                prev: NIL,
                next: NIL,
            })?;
        }
        Ok(remaining)
    }

    /// Cancel every resting order submitted for a period before `period`; returns their ids.
    pub fn expire(&mut self, before_period: i64) -> Vec<(u64, u64)> {
        let old: Vec<u32> = self
            .slab
            .iter()
            .enumerate()
            .filter(|(s, o)| {
                o.period < before_period && self.slot_of(o.id) == u32::try_from(*s).ok()
            })
            .map(|(s, _)| u32::try_from(s).unwrap_or(NIL))
            .collect();
        old.into_iter()
            .filter_map(|s| {
                let id = self.order(s)?.id;
                Some((id, self.unlink(s)))
            })
            .collect()
    }

    /// The best `levels` price levels per side: (price, total quantity, orders), best first.
    pub fn depth(&self, levels: usize) -> (Vec<LevelRow>, Vec<LevelRow>) {
        let b = self
            .bids
            .ascending()
            .into_iter()
            .rev()
            .take(levels)
            .map(|(p, l)| (p, l.qty, l.count))
            .collect();
        let a = self
            .asks
            .ascending()
            .into_iter()
            .take(levels)
            .map(|(p, l)| (p, l.qty, l.count))
            .collect();
        (b, a)
    }

    /// Every resting order, best price first, then time: (id, owner, side, price, qty).
    pub fn orders(&self) -> Vec<(u64, u64, Side, i64, u64)> {
        let mut out = Vec::with_capacity(self.resting);
        let bids = self.bids.ascending().into_iter().rev();
        for (_, level) in bids.chain(self.asks.ascending()) {
            let mut s = level.head;
            while let Some(o) = self.order(s).filter(|_| s != NIL) {
                out.push((o.id, o.owner, o.side, o.price, o.qty));
                s = o.next;
            }
        }
        out
    }
}

/// One operation of a replayed stream.
#[derive(Clone, Copy, Debug)]
pub enum Op {
    Submit {
        side: Side,
        kind: Kind,
        price: i64,
        qty: u64,
        owner: u64,
        period: i64,
    },
    Cancel {
        id: u64,
    },
    Reduce {
        id: u64,
        qty: u64,
    },
    Replace {
        id: u64,
        price: i64,
        qty: u64,
    },
}

/// Outcome code of each replayed operation.
pub mod status {
    pub const OK: u8 = 0;
    pub const UNKNOWN_ORDER: u8 = 1;
    pub const SELF_TRADE: u8 = 2;
    pub const BAD_REDUCE: u8 = 3;
}

impl Book {
    /// Check a stream without touching the book: the first malformed op is an
    /// error naming its index. Returns the quantity the stream could rest: the
    /// sum over its limit submits and replaces.
    pub fn check_ops(&self, ops: impl IntoIterator<Item = Op>) -> CoreResult<u128> {
        let mut incoming: u128 = 0;
        for (i, op) in ops.into_iter().enumerate() {
            let price = |p: i64| -> CoreResult<()> {
                self.check_price(p).map_err(|_| {
                    bad(
                        &format!("ops[{i}].price"),
                        p,
                        &format!(
                            "outside the tick range {}..={}",
                            self.min_price, self.max_price
                        ),
                    )
                })
            };
            let qty = |q: u64| -> CoreResult<()> {
                if q == 0 || q > MAX_QTY {
                    return Err(bad(
                        &format!("ops[{i}].quantity"),
                        q,
                        "must be in 1..2^63-1",
                    ));
                }
                Ok(())
            };
            match op {
                Op::Submit {
                    kind,
                    price: p,
                    qty: q,
                    ..
                } => {
                    qty(q)?;
                    if kind != Kind::Market {
                        price(p)?;
                    }
                    if kind == Kind::Limit {
                        // < 2^64 ops of < 2^63 each: no u128 overflow.
                        incoming = incoming.saturating_add(u128::from(q));
                    }
                }
                Op::Cancel { .. } => {}
                Op::Reduce { qty: q, .. } => qty(q)?,
                Op::Replace {
                    price: p, qty: q, ..
                } => {
                    qty(q)?;
                    price(p)?;
                    incoming = incoming.saturating_add(u128::from(q));
                }
            }
        }
        Ok(incoming)
    }

    /// Apply one operation that `check_ops` accepted: trades are appended to
    /// `tape`; returns its status and the id it concerned. It fails only if
    /// its rest would take a level's total past [`MAX_QTY`] (or the book is
    /// full), and then possibly after trading: `replay_into` runs such streams
    /// on a snapshot.
    pub fn apply(&mut self, op: Op, tape: &mut impl Tape) -> CoreResult<(u8, u64)> {
        Ok(self.apply_op(op, tape)?)
    }

    /// `apply` with the small error of the hot path.
    fn apply_op(&mut self, op: Op, tape: &mut impl Tape) -> Result<(u8, u64), Refused> {
        Ok(match op {
            Op::Submit {
                side,
                kind,
                price,
                qty,
                owner,
                period,
            } => {
                let limit = (kind != Kind::Market).then_some(price);
                if self.self_trade == SelfTrade::Reject
                    && self.meets_itself(side, limit, qty, owner)
                {
                    return Ok((status::SELF_TRADE, 0));
                }
                let (id, _) = self.submit_checked(side, limit, qty, owner, kind, period, tape)?;
                (status::OK, id)
            }
            Op::Cancel { id } => match self.slot_of(id) {
                Some(s) => {
                    self.unlink(s);
                    (status::OK, id)
                }
                None => (status::UNKNOWN_ORDER, id),
            },
            Op::Reduce { id, qty } => match self.get(id) {
                None => (status::UNKNOWN_ORDER, id),
                Some(_) if self.reduce(id, qty).is_ok() => (status::OK, id),
                Some(_) => (status::BAD_REDUCE, id),
            },
            Op::Replace { id, price, qty } => {
                let Some((slot, o)) = self.slot_of(id).and_then(|s| Some((s, *self.order(s)?)))
                else {
                    return Ok((status::UNKNOWN_ORDER, id));
                };
                if self.self_trade == SelfTrade::Reject
                    && self.meets_itself(o.side, Some(price), qty, o.owner)
                {
                    return Ok((status::SELF_TRADE, id));
                }
                self.replace_checked(slot, o, price, qty, tape)?;
                (status::OK, id)
            }
        })
    }

    /// Apply a stream; returns the trade tape, each op's status and the id each op concerned.
    /// The stream is checked whole first (`check_ops`), so a malformed op changes nothing;
    /// an op refused while applying (a level's total past [`MAX_QTY`]) restores the book
    /// as it was before the stream.
    pub fn replay_iter<I>(&mut self, ops: I) -> CoreResult<Replayed>
    where
        I: IntoIterator<Item = Op>,
        I::IntoIter: Clone + ExactSizeIterator,
    {
        let mut tape = Vec::new();
        let (status, ids) = self.replay_into(ops, &mut tape)?;
        Ok(Replayed { tape, status, ids })
    }

    /// `replay_iter` with the trades recorded into `tape` (e.g. [`TapeColumns`]).
    pub fn replay_into<I, T: Tape>(
        &mut self,
        ops: I,
        tape: &mut T,
    ) -> CoreResult<(Vec<u8>, Vec<u64>)>
    where
        I: IntoIterator<Item = Op>,
        I::IntoIter: Clone + ExactSizeIterator,
    {
        let ops = ops.into_iter();
        let incoming = self.check_ops(ops.clone())?;
        // Room for every order the stream submits: the slab and the id map are
        // not grown by doubling (a doubling copies the book and, with mimalloc
        // keeping freed pages a while, holds the old copy as resident memory).
        // Untouched capacity costs address space only.
        let submits = ops
            .clone()
            .filter(|op| matches!(op, Op::Submit { .. }))
            .count();
        self.check_room(submits)?;
        // Only a stream that could overflow a level pays for a snapshot (one
        // copy of the book); every other stream cannot fail past this point.
        let risky = self.may_overflow(incoming, ops.clone());
        self.transact(risky, |b| b.apply_all(ops, submits, tape))
    }

    /// Reserve room for `submits` orders, then apply `ops` in order.
    fn apply_all<I, T>(
        &mut self,
        ops: I,
        submits: usize,
        tape: &mut T,
    ) -> CoreResult<(Vec<u8>, Vec<u64>)>
    where
        I: ExactSizeIterator<Item = Op>,
        T: Tape,
    {
        self.slab.reserve(submits.saturating_sub(self.free.len()));
        let last_id = usize::try_from(self.next_id)
            .unwrap_or(usize::MAX)
            .saturating_add(submits);
        self.id_slot
            .reserve(last_id.saturating_sub(self.id_slot.len()));
        let mut status = Vec::with_capacity(ops.len());
        let mut ids = Vec::with_capacity(ops.len());
        for (i, op) in ops.enumerate() {
            let (st, id) = self.apply_op(op, tape).map_err(|e| at_op(e.into(), i))?;
            status.push(st);
            ids.push(id);
        }
        Ok((status, ids))
    }

    /// `replay_iter` over a slice.
    pub fn replay(&mut self, ops: &[Op]) -> CoreResult<(Vec<Trade>, Vec<u8>, Vec<u64>)> {
        let r = self.replay_iter(ops.iter().copied())?;
        Ok((r.tape, r.status, r.ids))
    }
}

/// `e` of the op at index `i`: its field becomes `ops[i].field`.
fn at_op(e: CoreError, i: usize) -> CoreError {
    match e {
        CoreError::InvalidArgument {
            field,
            value,
            reason,
        } => CoreError::InvalidArgument {
            field: format!("ops[{i}].{field}"),
            value,
            reason,
        },
        other => other,
    }
}

/// Where matching records its trades.
pub trait Tape {
    fn record(&mut self, t: Trade);
}

impl Tape for Vec<Trade> {
    fn record(&mut self, t: Trade) {
        self.push(t);
    }
}

/// A tape as columns, the form numpy takes without a copy (ids and
/// quantities are below 2^63 by the quantity check and the id counter).
#[derive(Clone, Debug, Default)]
pub struct TapeColumns {
    pub seq: Vec<i64>,
    pub maker_id: Vec<i64>,
    pub taker_id: Vec<i64>,
    pub maker_owner: Vec<i64>,
    pub taker_owner: Vec<i64>,
    pub price: Vec<i64>,
    pub qty: Vec<i64>,
}

impl Tape for TapeColumns {
    fn record(&mut self, t: Trade) {
        let i = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        self.seq.push(i(t.seq));
        self.maker_id.push(i(t.maker_id));
        self.taker_id.push(i(t.taker_id));
        self.maker_owner.push(i(t.maker_owner));
        self.taker_owner.push(i(t.taker_owner));
        self.price.push(t.price);
        self.qty.push(i(t.qty));
    }
}

/// What a replay did: the trade tape, each op's status and the id each op concerned.
#[derive(Clone, Debug, Default)]
pub struct Replayed {
    pub tape: Vec<Trade>,
    pub status: Vec<u8>,
    pub ids: Vec<u64>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn book() -> Book {
        Book::new(1, 10_000, PriceRule::Resting, SelfTrade::Allow).unwrap()
    }

    #[test]
    fn seed_004_reference_case() {
        // Sell 1.9 ENT at 0.5 rests; a buy of 10 at 1.0 arrives (units of 0.1 ENT, prices in 0.1 eEuro).
        let mut b = book();
        let s = b.submit(Side::Sell, 5, 19, 1, Kind::Limit, 0).unwrap();
        assert!(s.trades.is_empty() && s.rests);
        let t = b.submit(Side::Buy, 10, 100, 2, Kind::Limit, 0).unwrap();
        assert_eq!(t.trades.len(), 1);
        assert_eq!((t.trades[0].price, t.trades[0].qty), (5, 19));
        assert_eq!(t.remaining, 81);
        assert_eq!(b.depth(5), (vec![(10, 81, 1)], vec![]));
    }

    #[test]
    fn price_time_priority_and_partial_fills() {
        let mut b = book();
        let a1 = b.submit(Side::Sell, 10, 5, 1, Kind::Limit, 0).unwrap().id;
        let a2 = b.submit(Side::Sell, 10, 5, 2, Kind::Limit, 0).unwrap().id;
        let a3 = b.submit(Side::Sell, 9, 5, 3, Kind::Limit, 0).unwrap().id;
        let t = b.submit(Side::Buy, 10, 12, 4, Kind::Limit, 0).unwrap();
        let makers: Vec<(u64, u64)> = t.trades.iter().map(|x| (x.maker_id, x.qty)).collect();
        assert_eq!(makers, vec![(a3, 5), (a1, 5), (a2, 2)]);
        assert_eq!(b.get(a2).unwrap().3, 3);
        assert!(!t.rests && t.remaining == 0);
    }

    #[test]
    fn market_ioc_cancel_reduce_replace_expire() {
        let mut b = book();
        let s = b.submit(Side::Sell, 20, 5, 1, Kind::Limit, 3).unwrap().id;
        let ioc = b.submit(Side::Buy, 19, 5, 2, Kind::Ioc, 0).unwrap();
        assert!(ioc.trades.is_empty() && !ioc.rests && b.len() == 1);
        let m = b.submit(Side::Buy, 0, 7, 2, Kind::Market, 0).unwrap();
        assert_eq!(m.trades[0].qty, 5);
        assert_eq!(m.remaining, 2);
        assert!(b.is_empty());
        let x = b.submit(Side::Buy, 15, 8, 5, Kind::Limit, 1).unwrap().id;
        b.reduce(x, 3).unwrap();
        assert!(b.reduce(x, 3).is_err() && b.reduce(x, 0).is_err());
        assert_eq!(b.cancel(x, Some(5)).unwrap(), 3);
        assert!(b.cancel(x, None).is_err());
        let y = b.submit(Side::Buy, 15, 8, 5, Kind::Limit, 1).unwrap().id;
        assert!(b.cancel(y, Some(6)).is_err());
        let z = b.submit(Side::Sell, 30, 4, 6, Kind::Limit, 9).unwrap().id;
        let r = b.replace(z, 14, 4).unwrap();
        assert_eq!(r.trades.len(), 1);
        assert_eq!(b.get(y).unwrap().3, 4);
        assert_eq!(b.expire(2), vec![(y, 4)]);
        assert!(b.is_empty());
        let _ = s;
    }

    #[test]
    fn self_trade_policies_and_midpoint() {
        let mut b = Book::new(1, 100, PriceRule::Midpoint, SelfTrade::Reject).unwrap();
        b.submit(Side::Sell, 10, 5, 1, Kind::Limit, 0).unwrap();
        let before = b.orders();
        assert!(b.submit(Side::Buy, 12, 5, 1, Kind::Limit, 0).is_err());
        assert_eq!(b.orders(), before);
        let t = b.submit(Side::Buy, 13, 5, 2, Kind::Limit, 0).unwrap();
        assert_eq!(t.trades[0].price, 11); // (13 + 10) / 2 rounded down
        let mut c = Book::new(1, 100, PriceRule::Resting, SelfTrade::CancelResting).unwrap();
        c.submit(Side::Sell, 10, 5, 1, Kind::Limit, 0).unwrap();
        c.submit(Side::Sell, 11, 5, 2, Kind::Limit, 0).unwrap();
        let t = c.submit(Side::Buy, 11, 5, 1, Kind::Limit, 0).unwrap();
        assert_eq!(t.trades[0].maker_owner, 2);
        assert!(c.is_empty());
    }

    #[test]
    fn bad_input_changes_nothing() {
        let mut b = book();
        b.submit(Side::Sell, 10, 5, 1, Kind::Limit, 0).unwrap();
        let before = b.orders();
        assert!(b.submit(Side::Buy, 0, 5, 1, Kind::Limit, 0).is_err());
        assert!(b.submit(Side::Buy, 10_001, 5, 1, Kind::Limit, 0).is_err());
        assert!(b.submit(Side::Buy, 10, 0, 1, Kind::Limit, 0).is_err());
        assert!(b.cancel(99, None).is_err());
        assert!(b
            .replay(&[
                Op::Cancel { id: 1 },
                Op::Submit {
                    side: Side::Buy,
                    kind: Kind::Limit,
                    price: 0,
                    qty: 1,
                    owner: 1,
                    period: 0
                }
            ])
            .is_err());
        assert_eq!(b.orders(), before);
        assert!(Book::new(5, 4, PriceRule::Resting, SelfTrade::Allow).is_err());
    }

    fn sell(price: i64, qty: u64) -> Op {
        Op::Submit {
            side: Side::Sell,
            kind: Kind::Limit,
            price,
            qty,
            owner: 1,
            period: 0,
        }
    }

    /// Everything a caller can see of a book.
    fn seen(b: &Book) -> impl PartialEq + std::fmt::Debug {
        (
            b.orders(),
            b.depth(usize::MAX),
            b.best_bid(),
            b.best_ask(),
            b.len(),
            b.next_id,
            b.trade_seq,
            b.resting_qty,
        )
    }

    #[test]
    fn a_level_past_2_63_is_refused_and_the_stream_changes_nothing() {
        let mut b = book();
        b.submit(Side::Buy, 3, 7, 2, Kind::Limit, 0).unwrap();
        let before = seen(&b);
        let e = b
            .replay(&[sell(5, MAX_QTY), sell(5, MAX_QTY), sell(5, MAX_QTY)])
            .unwrap_err();
        assert_eq!(e.field_value().0, "ops[1].quantity");
        assert_eq!(seen(&b), before);
        // A trade before the refused op is undone too.
        let e = b
            .replay(&[
                sell(3, 2),
                sell(4, MAX_QTY - 1),
                Op::Reduce { id: 2, qty: 1 },
                sell(4, 2),
            ])
            .unwrap_err();
        assert_eq!(e.field_value().0, "ops[3].quantity");
        assert_eq!(seen(&b), before);
        // Exactly 2^63-1 at one level is fine, in a stream and one order at a time.
        b.replay(&[sell(5, MAX_QTY - 1), sell(5, 1)]).unwrap();
        assert_eq!(b.depth(1).1, vec![(5, MAX_QTY, 2)]);
        let other = b.submit(Side::Sell, 6, 1, 3, Kind::Limit, 0).unwrap().id;
        let before = seen(&b);
        assert!(b.submit(Side::Sell, 5, 1, 3, Kind::Limit, 0).is_err());
        let e = b.replace(other, 5, 1).unwrap_err();
        assert_eq!(e.field_value(), ("quantity", "1"));
        assert_eq!(seen(&b), before);
        // A replace within its own level moves its own quantity: fine.
        let id = b.orders()[1].0;
        b.replace(id, 5, MAX_QTY - 1).unwrap();
        assert_eq!(b.depth(1).1, vec![(5, MAX_QTY, 2)]);
    }

    #[test]
    fn the_midpoint_does_not_overflow_at_the_ends_of_the_tick_range() {
        for (lo, hi) in [(i64::MAX - 1, i64::MAX), (i64::MIN, i64::MIN + 1)] {
            let mut b =
                Book::new(i64::MIN, i64::MAX, PriceRule::Midpoint, SelfTrade::Allow).unwrap();
            b.submit(Side::Sell, lo, 1, 1, Kind::Limit, 0).unwrap();
            let t = b.submit(Side::Buy, hi, 1, 2, Kind::Limit, 0).unwrap();
            assert_eq!(t.trades[0].price, lo); // ⌊(lo + hi) / 2⌋ = lo
        }
        assert_eq!(midpoint(-3, 0), -2);
        assert_eq!(midpoint(i64::MIN, i64::MAX), -1);
    }

    #[test]
    fn a_stream_of_large_orders_at_other_levels_takes_no_snapshot_path_by_mistake() {
        // The sum passes 2^63-1 but no single level does: every op is applied.
        let mut b = book();
        let ops: Vec<Op> = (1..=4).map(|p| sell(p + 10, MAX_QTY / 2)).collect();
        let incoming = b.check_ops(ops.iter().copied()).unwrap();
        assert!(incoming > u128::from(MAX_QTY) && !b.may_overflow(incoming, ops.iter().copied()));
        let (_, st, _) = b.replay(&ops).unwrap();
        assert_eq!(st, vec![0; 4]);
        assert_eq!(b.len(), 4);
    }
}
