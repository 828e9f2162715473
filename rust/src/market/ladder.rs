//! The price levels of one side of the order book.
//!
//! Prices within a window of 2^14 ticks are an array indexed by the tick, with
//! a two-level bitmap of the non-empty levels, so finding, adding or dropping
//! a level and finding the best one take a few word operations instead of a
//! tree descent (the descents were over 40 % of a replay). The array is
//! allocated in chunks of 64 ticks as they are first used, so a new book
//! costs 2 KiB, not 384. The window is placed around the first price of an
//! empty side; prices outside it go to a `BTreeMap`, so any tick range works,
//! only slower.

use std::collections::BTreeMap;

pub(crate) const NIL: u32 = u32::MAX;
const WINDOW: usize = 1 << 14;
const WORDS: usize = WINDOW / 64;
const SUMMARY: usize = WORDS / 64;

/// One price level: a FIFO of orders doubly linked through the book's slab.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Level {
    pub head: u32,
    pub tail: u32,
    pub qty: u64,
    pub count: u32,
}

const EMPTY: Level = Level {
    head: NIL,
    tail: NIL,
    qty: 0,
    count: 0,
};

#[derive(Clone, Debug, Default)]
pub(crate) struct Ladder {
    base: i64,
    /// One chunk of 64 levels per bitmap word, allocated on first use.
    chunks: Vec<Option<Box<[Level; 64]>>>,
    bits: Vec<u64>,
    summary: [u64; SUMMARY],
    in_window: usize,
    overflow: BTreeMap<i64, Level>,
}

impl Ladder {
    fn index(&self, price: i64) -> Option<usize> {
        if self.chunks.is_empty() {
            return None;
        }
        let i = usize::try_from(price.checked_sub(self.base)?).ok()?;
        (i < WINDOW).then_some(i)
    }

    fn is_set(&self, i: usize) -> bool {
        self.bits
            .get(i / 64)
            .is_some_and(|w| w >> (i % 64) & 1 == 1)
    }

    /// Non-empty levels.
    pub fn len(&self) -> usize {
        self.in_window + self.overflow.len()
    }

    pub fn nbytes(&self) -> usize {
        self.chunks.capacity() * 8
            + self.chunks.iter().flatten().count() * 64 * std::mem::size_of::<Level>()
            + self.bits.capacity() * 8
            + self.overflow.len() * (std::mem::size_of::<Level>() + 8 + 16)
    }

    pub fn get(&self, price: i64) -> Option<&Level> {
        match self.index(price) {
            Some(i) if self.is_set(i) => self.chunks.get(i / 64)?.as_ref()?.get(i % 64),
            Some(_) => None,
            None => self.overflow.get(&price),
        }
    }

    pub fn get_mut(&mut self, price: i64) -> Option<&mut Level> {
        match self.index(price) {
            Some(i) if self.is_set(i) => self.slot_mut(i),
            Some(_) => None,
            None => self.overflow.get_mut(&price),
        }
    }

    /// The level at `price`, added empty if missing.
    pub fn get_or_insert(&mut self, price: i64) -> Option<&mut Level> {
        if self.len() == 0 && self.index(price).is_none() {
            // An empty side: (re)place the window around this price.
            self.base = price.saturating_sub((WINDOW / 2) as i64);
            if self.chunks.is_empty() {
                self.chunks = vec![None; WORDS];
                self.bits = vec![0; WORDS];
            }
        }
        let Some(i) = self.index(price) else {
            return Some(self.overflow.entry(price).or_insert(EMPTY));
        };
        if !self.is_set(i) {
            let (w, b) = (i / 64, i % 64);
            if let Some(word) = self.bits.get_mut(w) {
                *word |= 1 << b;
            }
            if let Some(s) = self.summary.get_mut(w / 64) {
                *s |= 1 << (w % 64);
            }
            self.in_window += 1;
            if let Some(c) = self.chunks.get_mut(w) {
                if let Some(l) = c.get_or_insert_with(|| Box::new([EMPTY; 64])).get_mut(b) {
                    *l = EMPTY;
                }
            }
        }
        self.slot_mut(i)
    }

    fn slot_mut(&mut self, i: usize) -> Option<&mut Level> {
        self.chunks.get_mut(i / 64)?.as_mut()?.get_mut(i % 64)
    }

    pub fn remove(&mut self, price: i64) {
        let Some(i) = self.index(price) else {
            self.overflow.remove(&price);
            return;
        };
        if !self.is_set(i) {
            return;
        }
        let (w, b) = (i / 64, i % 64);
        if let Some(word) = self.bits.get_mut(w) {
            *word &= !(1 << b);
            if *word == 0 {
                if let Some(s) = self.summary.get_mut(w / 64) {
                    *s &= !(1 << (w % 64));
                }
            }
        }
        self.in_window -= 1;
    }

    fn window_price(&self, i: usize) -> i64 {
        // A set bit i came from a price base + i, so this never saturates.
        self.base
            .saturating_add(i64::try_from(i).unwrap_or(i64::MAX))
    }

    /// The highest price with a level (the best bid).
    pub fn highest(&self) -> Option<i64> {
        let mut best = None;
        for (s, &sw) in self.summary.iter().enumerate().rev() {
            if sw != 0 {
                let w = s * 64 + 63 - sw.leading_zeros() as usize;
                let bw = self.bits.get(w).copied().unwrap_or(0);
                best = Some(self.window_price(w * 64 + 63 - bw.leading_zeros() as usize));
                break;
            }
        }
        match (best, self.overflow.keys().next_back()) {
            (Some(a), Some(&b)) => Some(a.max(b)),
            (a, b) => a.or(b.copied()),
        }
    }

    /// The lowest price with a level (the best ask).
    pub fn lowest(&self) -> Option<i64> {
        let mut best = None;
        for (s, &sw) in self.summary.iter().enumerate() {
            if sw != 0 {
                let w = s * 64 + sw.trailing_zeros() as usize;
                let bw = self.bits.get(w).copied().unwrap_or(0);
                best = Some(self.window_price(w * 64 + bw.trailing_zeros() as usize));
                break;
            }
        }
        match (best, self.overflow.keys().next()) {
            (Some(a), Some(&b)) => Some(a.min(b)),
            (a, b) => a.or(b.copied()),
        }
    }

    /// Every (price, level), lowest price first (not a hot path: depth, orders, reject checks).
    pub fn ascending(&self) -> Vec<(i64, Level)> {
        let mut out: Vec<(i64, Level)> = Vec::with_capacity(self.len());
        for (w, &word) in self.bits.iter().enumerate() {
            let mut x = word;
            while x != 0 {
                let i = w * 64 + x.trailing_zeros() as usize;
                if let Some(l) = self.chunks.get(w).and_then(|c| c.as_ref()?.get(i % 64)) {
                    out.push((self.window_price(i), *l));
                }
                x &= x - 1;
            }
        }
        out.extend(self.overflow.iter().map(|(p, l)| (*p, *l)));
        out.sort_unstable_by_key(|(p, _)| *p);
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn window_overflow_and_best() {
        let mut l = Ladder::default();
        assert_eq!((l.highest(), l.lowest()), (None, None));
        for p in [100, 90, 100 + WINDOW as i64, -5, 95] {
            l.get_or_insert(p).unwrap().qty += 1;
        }
        assert_eq!(l.len(), 5);
        assert_eq!(
            (l.highest(), l.lowest()),
            (Some(100 + WINDOW as i64), Some(-5))
        );
        l.remove(100 + WINDOW as i64);
        l.remove(-5);
        assert_eq!((l.highest(), l.lowest()), (Some(100), Some(90)));
        assert!(l.get_mut(91).is_none() && l.get_mut(95).is_some());
        let prices: Vec<i64> = l.ascending().iter().map(|(p, _)| *p).collect();
        assert_eq!(prices, vec![90, 95, 100]);
        for p in [90, 95, 100] {
            l.remove(p);
        }
        assert_eq!((l.len(), l.highest()), (0, None));
        l.get_or_insert(1 << 40).unwrap();
        assert_eq!(l.lowest(), Some(1 << 40));
        assert!(l.index(1 << 40).is_some());
    }
}
