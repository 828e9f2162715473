//! The order book per operation (BENCHMARKS.md §7).
//!
//! Streams: `GRIDLEDGER_BOOK_STREAMS=DIR` reads `DIR/exchange_core.bin` and
//! `DIR/submit_cancel_aggressive.bin`, written by `python benches/_streams.py
//! DIR` (the streams of `benches/test_bench_market.py`); without it a small
//! synthetic stream of the exchange-core mix is made here, so `cargo test
//! --benches` runs anywhere.
//!
//! criterion times a whole replay (mean per op = mean / n). For p50 and p99 the
//! stream is applied once more op by op, each op timed with `Instant` (the
//! timer's own cost, two back-to-back `Instant::now()`, is printed beside).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::hint::black_box;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use gridledger_core::market::book::{Book, Kind, Op, PriceRule, SelfTrade, Side, Trade};

const ROW: usize = 43;

fn new_book() -> Book {
    Book::new(1, 1 << 40, PriceRule::Resting, SelfTrade::Allow).unwrap()
}

fn i64_at(r: &[u8], at: usize) -> i64 {
    i64::from_le_bytes(r[at..at + 8].try_into().unwrap())
}

/// Rows of `_streams.DTYPE`: op, side, kind (u8), price, quantity, owner, order_id, period (i64).
fn parse(bytes: &[u8]) -> Vec<Op> {
    bytes
        .chunks_exact(ROW)
        .map(|r| {
            let side = if r[1] == 0 { Side::Buy } else { Side::Sell };
            let (price, qty) = (i64_at(r, 3), i64_at(r, 11) as u64);
            let id = i64_at(r, 27) as u64;
            match r[0] {
                0 => Op::Submit {
                    side,
                    kind: [Kind::Limit, Kind::Market, Kind::Ioc][r[2] as usize],
                    price,
                    qty,
                    owner: i64_at(r, 19) as u64,
                    period: i64_at(r, 35),
                },
                1 => Op::Cancel { id },
                2 => Op::Reduce { id, qty },
                _ => Op::Replace { id, price, qty },
            }
        })
        .collect()
}

/// A small exchange-core-like stream (9 % limit, 3 % IOC, 6 % cancel, 82 %
/// replace, ~1 000 resting orders), made with the book itself as the model.
fn synthetic(n: usize) -> Vec<Op> {
    let mut x = 0x9E37_79B9_7F4A_7C15_u64;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut book = new_book();
    let mut live: Vec<u64> = Vec::new();
    let mut tape: Vec<Trade> = Vec::new();
    let mut ops = Vec::with_capacity(n);
    for i in 0..n {
        live.retain(|&id| book.get(id).is_some());
        let u = rnd() % 100;
        let side = if rnd() % 2 == 0 {
            Side::Buy
        } else {
            Side::Sell
        };
        let off = (1 + rnd() % 800) as i64;
        let price = if side == Side::Buy {
            100_000 - off
        } else {
            100_000 + off
        };
        let qty = 1 + rnd() % 100;
        let op = if i < 1000 || live.is_empty() || u < 9 {
            Op::Submit {
                side,
                kind: Kind::Limit,
                price,
                qty,
                owner: 1,
                period: 0,
            }
        } else if u < 12 {
            let p = if side == Side::Buy {
                100_000 + off / 8
            } else {
                100_000 - off / 8
            };
            Op::Submit {
                side,
                kind: Kind::Ioc,
                price: p,
                qty,
                owner: 2,
                period: 0,
            }
        } else {
            let id = live[(rnd() % live.len() as u64) as usize];
            if u < 18 {
                Op::Cancel { id }
            } else {
                let (_, s, old, _, _) = book.get(id).unwrap();
                let step = (rnd() % 33) as i64 - 16;
                let p = if s == Side::Buy {
                    (old + step).min(99_999)
                } else {
                    (old + step).max(100_001)
                };
                Op::Replace { id, price: p, qty }
            }
        };
        let (_, id) = book.apply(op, &mut tape).unwrap();
        if matches!(
            op,
            Op::Submit {
                kind: Kind::Limit,
                ..
            }
        ) {
            live.push(id);
        }
        ops.push(op);
    }
    ops
}

fn streams() -> Vec<(String, Vec<Op>)> {
    if let Ok(dir) = std::env::var("GRIDLEDGER_BOOK_STREAMS") {
        return ["exchange_core", "submit_cancel_aggressive"]
            .iter()
            .map(|name| {
                let path = format!("{dir}/{name}.bin");
                let bytes = std::fs::read(&path)
                    .map_err(|e| format!("{path}: {e}"))
                    .unwrap();
                (name.to_string(), parse(&bytes))
            })
            .collect();
    }
    let n = std::env::var("GRIDLEDGER_BENCH_LARGE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    vec![("synthetic_exchange_core".to_string(), synthetic(n))]
}

fn kind_name(op: &Op) -> &'static str {
    match op {
        Op::Submit {
            kind: Kind::Limit, ..
        } => "limit",
        Op::Submit {
            kind: Kind::Ioc, ..
        } => "ioc",
        Op::Submit {
            kind: Kind::Market, ..
        } => "market",
        Op::Cancel { .. } => "cancel",
        Op::Reduce { .. } => "reduce",
        Op::Replace { .. } => "replace",
    }
}

fn pct(sorted: &[u32], q: f64) -> u32 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// Each op of the stream timed alone; prints p50/p90/p99/p99.9/max per op kind.
fn latency(name: &str, ops: &[Op]) {
    let mut book = new_book();
    let mut tape = Vec::with_capacity(ops.len());
    let mut ns: Vec<(&'static str, u32)> = Vec::with_capacity(ops.len());
    for op in ops {
        let t0 = Instant::now();
        black_box(book.apply(*op, &mut tape).unwrap());
        ns.push((
            kind_name(op),
            t0.elapsed().as_nanos().min(u32::MAX as u128) as u32,
        ));
    }
    let mut timer: Vec<u32> = (0..100_000)
        .map(|_| {
            let t0 = Instant::now();
            t0.elapsed().as_nanos() as u32
        })
        .collect();
    timer.sort_unstable();
    println!(
        "book latency {name}: {} ops, {} trades, {} resting at the end; timer alone p50 {} ns, p99 {} ns",
        ops.len(),
        tape.len(),
        book.len(),
        pct(&timer, 0.5),
        pct(&timer, 0.99)
    );
    println!(
        "  {:<8} {:>9} {:>7} {:>7} {:>7} {:>8} {:>8}",
        "op", "count", "p50 ns", "p90 ns", "p99 ns", "p99.9 ns", "max ns"
    );
    for kind in ["all", "limit", "ioc", "market", "cancel", "replace"] {
        let mut v: Vec<u32> = ns
            .iter()
            .filter(|(k, _)| kind == "all" || *k == kind)
            .map(|(_, t)| *t)
            .collect();
        if v.is_empty() {
            continue;
        }
        v.sort_unstable();
        println!(
            "  {kind:<8} {:>9} {:>7} {:>7} {:>7} {:>8} {:>8}",
            v.len(),
            pct(&v, 0.5),
            pct(&v, 0.9),
            pct(&v, 0.99),
            pct(&v, 0.999),
            v[v.len() - 1]
        );
    }
}

fn bench_book(c: &mut Criterion) {
    let streams = streams();
    for (name, ops) in &streams {
        latency(name, ops);
    }
    let mut g = c.benchmark_group("book_replay");
    g.sample_size(10);
    for (name, ops) in &streams {
        g.throughput(Throughput::Elements(ops.len() as u64));
        g.bench_with_input(BenchmarkId::new(name.as_str(), ops.len()), ops, |b, ops| {
            b.iter_batched(
                new_book,
                |mut book| book.replay_iter(ops.iter().copied()).unwrap().tape.len(),
                BatchSize::LargeInput,
            );
        });
    }
    g.finish();
}

criterion_group!(benches, bench_book);
criterion_main!(benches);
