//! Criterion micro-benchmarks of the pure hot paths, at batch sizes 1, 10^3
//! and a large size (10^5 by default; `GRIDLEDGER_BENCH_LARGE` overrides), so
//! the per-element cost and the parallel speed-up both show.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gridledger_core::consensus::pob::{evaluate, Params, Pool, Proposal, Window};
use gridledger_core::crypto::hash::{
    hash_fixed_into, hash_ragged_into, Algorithm, Digest, Records,
};
use gridledger_core::crypto::merkle::{leaf_hash, node_hash, verify_inclusion, MerkleTree};
use gridledger_core::crypto::sig::{verify, verify_batch, Keypair};
use gridledger_core::ev::choice::{choose, Scheduler};

fn large() -> usize {
    std::env::var("GRIDLEDGER_BENCH_LARGE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000)
}

fn records(n: usize, k: usize) -> Vec<u8> {
    (0..n * k)
        .map(|i| (i.wrapping_mul(2654435761) >> 7) as u8)
        .collect()
}

/// `blake3` is the fixed-width path (many records per SIMD lane set);
/// `blake3_scalar` hashes the same records one at a time (the ragged path,
/// which the lanes do not take), side by side in one run.
fn bench_hash(c: &mut Criterion) {
    let mut g = c.benchmark_group("hash_many_64B");
    for n in [1, 1_000, large()] {
        let data = records(n, 64);
        let offsets: Vec<usize> = (0..=n).map(|i| i * 64).collect();
        let mut out = vec![0u8; n * 32];
        g.throughput(Throughput::Elements(n as u64));
        for alg in [Algorithm::Blake3, Algorithm::Sha256] {
            g.bench_with_input(BenchmarkId::new(alg.name(), n), &n, |b, _| {
                b.iter(|| hash_fixed_into(alg, &data, 64, &mut out).unwrap());
            });
        }
        g.bench_with_input(BenchmarkId::new("blake3_scalar", n), &n, |b, _| {
            b.iter(|| hash_ragged_into(Algorithm::Blake3, &data, &offsets, &mut out).unwrap());
        });
    }
    g.finish();
    // Other widths up to one chunk, at 10^4 records: lanes against one at a time.
    let mut g = c.benchmark_group("hash_many_blake3_width");
    let n = 10_000;
    for k in [8usize, 200, 1024] {
        let data = records(n, k);
        let offsets: Vec<usize> = (0..=n).map(|i| i * k).collect();
        let mut out = vec![0u8; n * 32];
        g.throughput(Throughput::Bytes((n * k) as u64));
        g.bench_with_input(BenchmarkId::new("lanes", k), &k, |b, _| {
            b.iter(|| hash_fixed_into(Algorithm::Blake3, &data, k, &mut out).unwrap());
        });
        g.bench_with_input(BenchmarkId::new("scalar", k), &k, |b, _| {
            b.iter(|| hash_ragged_into(Algorithm::Blake3, &data, &offsets, &mut out).unwrap());
        });
    }
    g.finish();
}

/// The build as it was before the blocked build and the lanes: every leaf,
/// then every level, each a parallel pass over the whole level with one
/// `node_hash` per node (the comparison for `build_*`, in the same run).
fn levelwise_scalar(alg: Algorithm, data: &[u8], k: usize) -> Vec<Vec<Digest>> {
    use rayon::prelude::*;
    const PAR: usize = 4096;
    let n = data.len() / k;
    let leaf = |i: usize| leaf_hash(alg, &data[i * k..(i + 1) * k]);
    let leaves: Vec<Digest> = if n >= PAR {
        (0..n).into_par_iter().with_min_len(PAR).map(leaf).collect()
    } else {
        (0..n).map(leaf).collect()
    };
    let mut levels = vec![leaves];
    while levels.last().unwrap().len() >= 2 {
        let prev = levels.last().unwrap();
        let pair = |p: &[Digest]| node_hash(alg, &p[0], &p[1]);
        let next: Vec<Digest> = if prev.len() / 2 >= PAR {
            prev.par_chunks_exact(2)
                .with_min_len(PAR)
                .map(pair)
                .collect()
        } else {
            prev.chunks_exact(2).map(pair).collect()
        };
        levels.push(next);
    }
    levels
}

fn bench_merkle(c: &mut Criterion) {
    let mut g = c.benchmark_group("merkle");
    g.sample_size(10);
    for n in [1, 1_000, large()] {
        let data = records(n, 64);
        g.throughput(Throughput::Elements(n as u64));
        for alg in [Algorithm::Sha256, Algorithm::Blake3] {
            g.bench_with_input(
                BenchmarkId::new(format!("build_{}", alg.name()), n),
                &n,
                |b, _| {
                    b.iter(|| {
                        MerkleTree::from_records(alg, &data, Records::Fixed(64))
                            .unwrap()
                            .root()
                    });
                },
            );
            g.bench_with_input(
                BenchmarkId::new(format!("build_{}_levelwise_scalar", alg.name()), n),
                &n,
                |b, _| b.iter(|| levelwise_scalar(alg, &data, 64)),
            );
        }
        let tree = MerkleTree::from_records(Algorithm::Sha256, &data, Records::Fixed(64)).unwrap();
        let root = tree.root();
        g.throughput(Throughput::Elements(1)); // one proof made and checked per iteration
        g.bench_with_input(BenchmarkId::new("prove_verify_sha256", n), &n, |b, _| {
            let mut i = 0u64;
            b.iter(|| {
                i = (i + 7919) % n as u64;
                let p = tree.inclusion_proof(i, n as u64).unwrap();
                assert!(verify_inclusion(
                    Algorithm::Sha256,
                    &tree.leaf(i).unwrap(),
                    i,
                    n as u64,
                    &p,
                    &root
                )
                .unwrap());
            });
        });
    }
    g.finish();
}

fn bench_sig(c: &mut Criterion) {
    let mut g = c.benchmark_group("ed25519");
    g.sample_size(10);
    for n in [1, 1_000, large().min(10_000)] {
        let keys: Vec<Keypair> = (0..n)
            .map(|i| Keypair::from_seed(&[(i % 251) as u8; 32]))
            .collect();
        let msgs: Vec<Vec<u8>> = (0..n)
            .map(|i| format!("reading {i}").into_bytes())
            .collect();
        let pks: Vec<[u8; 32]> = keys.iter().map(Keypair::public_key).collect();
        let sigs: Vec<[u8; 64]> = keys.iter().zip(&msgs).map(|(k, m)| k.sign(m)).collect();
        let refs: Vec<&[u8]> = msgs.iter().map(Vec::as_slice).collect();
        let mut out = vec![false; n];
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("verify_batch", n), &n, |b, _| {
            b.iter(|| verify_batch(&pks, &refs, &sigs, &mut out));
        });
        g.bench_with_input(BenchmarkId::new("verify_loop", n), &n, |b, _| {
            b.iter(|| {
                (0..n)
                    .filter(|&i| verify(&pks[i], &msgs[i], &sigs[i]))
                    .count()
            });
        });
    }
    g.finish();
}

/// R decompression, the largest cost of a signature batch: eight at a time on
/// IFMA (`decompress_many`) against curve25519-dalek one at a time.
fn bench_decompress(c: &mut Criterion) {
    use curve25519_dalek::constants::ED25519_BASEPOINT_POINT as B;
    use curve25519_dalek::edwards::CompressedEdwardsY;
    use curve25519_dalek::scalar::Scalar;
    let mut g = c.benchmark_group("decompress");
    let n = 10_000u64;
    let encs: Vec<[u8; 32]> = (0..n)
        .map(|k| (Scalar::from(k * 7919 + 1) * B).compress().to_bytes())
        .collect();
    g.throughput(Throughput::Elements(n));
    g.bench_function(BenchmarkId::new("decompress_many", n), |b| {
        b.iter(|| gridledger_core::crypto::simd::decompress::decompress_many(&encs))
    });
    g.bench_function(BenchmarkId::new("dalek_one_by_one", n), |b| {
        b.iter(|| {
            encs.iter()
                .map(|e| CompressedEdwardsY(*e).decompress())
                .collect::<Vec<_>>()
        })
    });
    g.finish();
}

/// One round's exact choice (items = optional transactions of a round), and
/// λ plus every rule for many competing blocks on one parent (SPEC §6).
fn bench_pob(c: &mut Criterion) {
    let mut g = c.benchmark_group("ev_choose_optimal");
    for n in [10usize, 100, 1_000] {
        let w: Vec<i64> = (0..n)
            .map(|i| ((i.wrapping_mul(2654435761) >> 5) % 9_000) as i64 - 3_000)
            .collect();
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                choose(
                    Scheduler::Optimal,
                    &w,
                    287,
                    287 * 12_345 + 17,
                    i64::MIN / 4,
                    1 << 40,
                )
                .unwrap()
            });
        });
    }
    g.finish();
    let pool_n = 3_000usize;
    let published: Vec<i64> = (0..pool_n).map(|i| (i / 20) as i64).collect();
    let grid: Vec<i64> = (0..pool_n)
        .map(|i| (i as i64 * 37) % 5_000 - 1_500)
        .collect();
    let pool = Pool {
        published: &published,
        grid_wh: &grid,
    };
    let executed = vec![false; pool_n];
    let p = Params {
        cap_wh: 1 << 40,
        max_defer: 2,
        window: 288,
        round_minutes: 5,
    };
    let slopes: Vec<i64> = (0..287).map(|i| (i * 131) % 900 - 450).collect();
    let win = Window::new(10_000, &slopes, 288);
    // Blocks of round 2: all 20 due transactions plus half of the 40 optional ones, varied.
    let sets: Vec<Vec<i64>> = (0..1024)
        .map(|k| {
            (0..60)
                .filter(|&j| j < 20 || (k >> (j % 10)) & 1 == 1)
                .collect()
        })
        .collect();
    let mut g = c.benchmark_group("pob_evaluate");
    for n in [1usize, 1_000, large()] {
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            b.iter(|| {
                (0..n)
                    .filter(|&k| {
                        let prop = Proposal {
                            round: 2,
                            base_wh: 10_000,
                            indices: &sets[k % sets.len()],
                            lambda: 0,
                        };
                        evaluate(&pool, &executed, &win, &p, &prop).is_ok()
                    })
                    .count()
            });
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    bench_hash,
    bench_merkle,
    bench_sig,
    bench_decompress,
    bench_pob
);
criterion_main!(benches);
