//! BLAKE3 of many small inputs at once, one input per SIMD lane.
//!
//! The blake3 crate hashes one input at a time (its multi-input `hash_many`
//! is internal), which costs serial compressions per input. Here the
//! compression runs on `L` inputs side by side in arrays of `L` words, which
//! the compiler turns into vector instructions (AVX-512 or AVX2 when the CPU
//! has them). Two users:
//!
//! * the draw hashes H(prev ‖ period ‖ key) for every candidate: 72 bytes,
//!   one chunk of two blocks; only the first 8 output bytes are produced
//!   (`blake3_u`);
//! * fixed-width records of at most one chunk (1024 bytes), optionally behind
//!   a short common prefix such as RFC 6962's 0x00 / 0x01, with the whole
//!   32-byte digest (`blake3_fixed`): `hash_many` over an `(n, k)` array and
//!   the BLAKE3 Merkle tree's leaves and nodes.
//!
//! Tests check every lane and every path against `blake3::hash` and the
//! official BLAKE3 test vectors.

use crate::error::{CoreError, CoreResult};

const IV: [u32; 8] = [
    0x6A09_E667,
    0xBB67_AE85,
    0x3C6E_F372,
    0xA54F_F53A,
    0x510E_527F,
    0x9B05_688C,
    0x1F83_D9AB,
    0x5BE0_CD19,
];
/// The message word each G input takes, round by round (the permutation applied r times).
const SCHEDULE: [[usize; 16]; 7] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8],
    [3, 4, 10, 12, 13, 2, 7, 14, 6, 5, 9, 0, 11, 15, 8, 1],
    [10, 7, 12, 9, 14, 3, 13, 15, 4, 0, 11, 2, 5, 8, 1, 6],
    [12, 13, 9, 11, 15, 10, 14, 8, 7, 2, 5, 3, 0, 1, 6, 4],
    [9, 14, 11, 5, 8, 12, 15, 1, 13, 3, 0, 10, 2, 6, 4, 7],
    [11, 15, 5, 0, 1, 9, 8, 6, 14, 10, 2, 12, 3, 4, 7, 13],
];
const CHUNK_START: u32 = 1;
const CHUNK_END: u32 = 2;
const ROOT: u32 = 8;

type V<const L: usize> = [u32; L];

#[inline(always)]
fn add<const L: usize>(a: &mut V<L>, b: &V<L>) {
    for (x, y) in a.iter_mut().zip(b) {
        *x = x.wrapping_add(*y);
    }
}

#[inline(always)]
fn xor_rot<const L: usize>(a: &mut V<L>, b: &V<L>, r: u32) {
    for (x, y) in a.iter_mut().zip(b) {
        *x = (*x ^ *y).rotate_right(r);
    }
}

#[inline(always)]
#[allow(clippy::indexing_slicing)] // a, b, c, d are the constants of `compress`, all < 16
fn g<const L: usize>(
    v: &mut [V<L>; 16],
    (a, b, c, d): (usize, usize, usize, usize),
    mx: &V<L>,
    my: &V<L>,
) {
    let [mut va, mut vb, mut vc, mut vd] = [v[a], v[b], v[c], v[d]];
    add(&mut va, &vb);
    add(&mut va, mx);
    xor_rot(&mut vd, &va, 16);
    add(&mut vc, &vd);
    xor_rot(&mut vb, &vc, 12);
    add(&mut va, &vb);
    add(&mut va, my);
    xor_rot(&mut vd, &va, 8);
    add(&mut vc, &vd);
    xor_rot(&mut vb, &vc, 7);
    [v[a], v[b], v[c], v[d]] = [va, vb, vc, vd];
}

/// One BLAKE3 compression of `L` blocks; returns the first two output words.
#[inline(always)]
#[allow(clippy::indexing_slicing)] // fixed-size arrays indexed by constants
fn compress<const L: usize>(cv: &[V<L>; 8], m: &[V<L>; 16], len: u32, flags: u32) -> [V<L>; 8] {
    let mut v: [V<L>; 16] = [[0; L]; 16];
    v[..8].copy_from_slice(cv);
    for (i, w) in IV.iter().take(4).enumerate() {
        v[8 + i] = [*w; L];
    }
    v[14] = [len; L];
    v[15] = [flags; L];
    for s in &SCHEDULE {
        g(&mut v, (0, 4, 8, 12), &m[s[0]], &m[s[1]]);
        g(&mut v, (1, 5, 9, 13), &m[s[2]], &m[s[3]]);
        g(&mut v, (2, 6, 10, 14), &m[s[4]], &m[s[5]]);
        g(&mut v, (3, 7, 11, 15), &m[s[6]], &m[s[7]]);
        g(&mut v, (0, 5, 10, 15), &m[s[8]], &m[s[9]]);
        g(&mut v, (1, 6, 11, 12), &m[s[10]], &m[s[11]]);
        g(&mut v, (2, 7, 8, 13), &m[s[12]], &m[s[13]]);
        g(&mut v, (3, 4, 9, 14), &m[s[14]], &m[s[15]]);
    }
    std::array::from_fn(|i| {
        let mut x = v[i];
        for (a, b) in x.iter_mut().zip(&v[i + 8]) {
            *a ^= *b;
        }
        x
    })
}

#[inline(always)]
fn word(b: &[u8], i: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(b.get(4 * i..4 * i + 4).unwrap_or(&[0; 4]));
    u32::from_le_bytes(w)
}

/// u = the first 8 bytes (LE) of BLAKE3(prefix ‖ key) for `L` keys; `prefix` is 40 bytes.
#[inline(always)]
#[allow(clippy::indexing_slicing)] // fixed-size arrays indexed by constants
fn u_block<const L: usize>(prefix: &[u8; 40], keys: &[[u8; 32]]) -> [u64; L] {
    let mut m: [V<L>; 16] = [[0; L]; 16];
    for (i, w) in m.iter_mut().take(10).enumerate() {
        *w = [word(prefix, i); L];
    }
    for (lane, k) in keys.iter().take(L).enumerate() {
        for i in 0..6 {
            m[10 + i][lane] = word(k, i);
        }
    }
    let iv: [V<L>; 8] = std::array::from_fn(|i| [IV[i]; L]);
    let cv = compress(&iv, &m, 64, CHUNK_START);
    let mut m2: [V<L>; 16] = [[0; L]; 16];
    for (lane, k) in keys.iter().take(L).enumerate() {
        m2[0][lane] = word(k, 6);
        m2[1][lane] = word(k, 7);
    }
    let out = compress(&cv, &m2, 8, CHUNK_END | ROOT);
    std::array::from_fn(|lane| u64::from(out[0][lane]) | (u64::from(out[1][lane]) << 32))
}

fn u_portable(prefix: &[u8; 40], keys: &[[u8; 32]], out: &mut [u64]) {
    for (k, o) in keys.chunks(8).zip(out.chunks_mut(8)) {
        let u = u_block::<8>(prefix, k);
        o.copy_from_slice(u.get(..o.len()).unwrap_or(&[]));
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn u_avx512(prefix: &[u8; 40], keys: &[[u8; 32]], out: &mut [u64]) {
    for (k, o) in keys.chunks(16).zip(out.chunks_mut(16)) {
        let u = u_block::<16>(prefix, k);
        o.copy_from_slice(u.get(..o.len()).unwrap_or(&[]));
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn u_avx2(prefix: &[u8; 40], keys: &[[u8; 32]], out: &mut [u64]) {
    u_portable(prefix, keys, out);
}

/// u of every key: the first 8 bytes (LE) of BLAKE3(prev ‖ period LE ‖ key).
pub fn blake3_u(prev: &[u8; 32], period: u64, keys: &[[u8; 32]], out: &mut [u64]) {
    let mut prefix = [0u8; 40];
    prefix[..32].copy_from_slice(prev);
    prefix[32..].copy_from_slice(&period.to_le_bytes());
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F (checked just above), the only
            // requirement of a `target_feature(enable = "avx512f")` function.
            #[allow(unsafe_code)]
            unsafe {
                u_avx512(&prefix, keys, out);
            }
            return;
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            #[allow(unsafe_code)]
            unsafe {
                u_avx2(&prefix, keys, out);
            }
            return;
        }
    }
    u_portable(&prefix, keys, out);
}

/// Bytes in one BLAKE3 chunk: the most one lane hashes.
pub const CHUNK_LEN: usize = 1024;
const BLOCK_LEN: usize = 64;

/// Below this many records left over after the full groups of lanes, the
/// rest are hashed one at a time: a group costs the same however few lanes
/// are filled, about 3 single hashes with AVX-512 (16 × 13.9 ns against
/// 70 ns, 64-byte records, criterion) and about 5 with AVX2 (8 × 45 ns).
const TAIL_SCALAR_BELOW: usize = 4;

/// BLAKE3 of the records `prefix ‖ data[i·w..(i+1)·w]` of one group (at most
/// `L` records, `out.len() / 32` of them); `prefix.len() + w ≤ CHUNK_LEN`.
#[inline(always)]
#[allow(clippy::indexing_slicing)] // fixed-size arrays indexed below their length
fn fixed_group<const L: usize>(prefix: &[u8], data: &[u8], width: usize, out: &mut [u8]) {
    let total = prefix.len() + width;
    let blocks = total.div_ceil(BLOCK_LEN).max(1);
    let mut cv: [V<L>; 8] = std::array::from_fn(|i| [IV[i]; L]);
    for b in 0..blocks {
        let start = b * BLOCK_LEN;
        let len = (total - start).min(BLOCK_LEN);
        let mut m: [V<L>; 16] = [[0; L]; 16];
        for (lane, record) in data.chunks(width.max(1)).take(L).enumerate() {
            let mut buf = [0u8; BLOCK_LEN];
            // Bytes [start, start + len) of prefix ‖ record.
            let from_prefix = prefix.get(start..).unwrap_or(&[]);
            let p = from_prefix.len().min(len);
            buf[..p].copy_from_slice(&from_prefix[..p]);
            let r0 = (start + p).saturating_sub(prefix.len());
            if let (Some(dst), Some(src)) = (buf.get_mut(p..len), record.get(r0..r0 + len - p)) {
                dst.copy_from_slice(src);
            }
            for (w, words) in m.iter_mut().enumerate() {
                words[lane] = u32::from_le_bytes([
                    buf[4 * w],
                    buf[4 * w + 1],
                    buf[4 * w + 2],
                    buf[4 * w + 3],
                ]);
            }
        }
        let mut flags = if b == 0 { CHUNK_START } else { 0 };
        if b + 1 == blocks {
            flags |= CHUNK_END | ROOT;
        }
        // The first 8 output words are both the chaining value and, on the
        // last block of a one-chunk input, the 32-byte root hash.
        cv = compress(&cv, &m, len as u32, flags);
    }
    for (lane, o) in out.chunks_exact_mut(32).take(L).enumerate() {
        for (w, bytes) in o.chunks_exact_mut(4).enumerate() {
            bytes.copy_from_slice(&cv[w][lane].to_le_bytes());
        }
    }
}

/// Hash the records in groups of `l` with `group`, and the few left over
/// (fewer than `TAIL_SCALAR_BELOW`) one at a time.
#[inline(always)]
fn split_groups(
    l: usize,
    prefix: &[u8],
    data: &[u8],
    width: usize,
    out: &mut [u8],
    mut group: impl FnMut(&[u8], &[u8], usize, &mut [u8]),
) {
    let n = out.len() / 32;
    let tail = n % l;
    let grouped = if tail < TAIL_SCALAR_BELOW {
        n - tail
    } else {
        n
    };
    // Both splits are in range: `blake3_fixed` checked data.len() == n · width.
    let Some((head_out, tail_out)) = out.split_at_mut_checked(grouped * 32) else {
        return;
    };
    let (head_data, tail_data) = data
        .split_at_checked(grouped * width)
        .unwrap_or((data, &[]));
    for (g, o) in head_out.chunks_mut(32 * l).enumerate() {
        let d = head_data
            .get(g * l * width..(g * l + o.len() / 32) * width)
            .unwrap_or(&[]);
        group(prefix, d, width, o);
    }
    // `blake3::hash` of one contiguous input costs less than a `Hasher`.
    let mut buf = [0u8; CHUNK_LEN];
    let p = prefix.len().min(CHUNK_LEN);
    if let (Some(dst), Some(src)) = (buf.get_mut(..p), prefix.get(..p)) {
        dst.copy_from_slice(src);
    }
    for (i, o) in tail_out.chunks_exact_mut(32).enumerate() {
        let record = tail_data.get(i * width..(i + 1) * width).unwrap_or(&[]);
        let digest = if p == 0 {
            blake3::hash(record)
        } else if let Some(dst) = buf.get_mut(p..p + record.len()) {
            dst.copy_from_slice(record);
            blake3::hash(buf.get(..p + record.len()).unwrap_or(&[]))
        } else {
            let mut h = blake3::Hasher::new();
            h.update(prefix);
            h.update(record);
            h.finalize()
        };
        o.copy_from_slice(digest.as_bytes());
    }
}

fn fixed_portable(prefix: &[u8], data: &[u8], width: usize, out: &mut [u8]) {
    split_groups(4, prefix, data, width, out, fixed_group::<4>);
}

/// The x86 paths with explicit vector intrinsics, one `__m512i` (16 lanes)
/// or `__m256i` (8 lanes) per BLAKE3 word. The array-of-lanes code above
/// needs LLVM's vectorisers to become vector code, which run only at
/// opt-level ≥ 2; the project's dev profile (tests, the callgrind gate) builds
/// this crate at opt-level 1, where the intrinsics still give vector code.
#[cfg(target_arch = "x86_64")]
macro_rules! x86_lanes {
    ($feat:literal, $w:ty, $l:literal) => {
        use super::{BLOCK_LEN, CHUNK_END, CHUNK_START, IV, ROOT, SCHEDULE};

        type W = $w;

        #[inline]
        #[target_feature(enable = $feat)]
        #[allow(unsafe_code)]
        fn load(a: [u32; $l]) -> W {
            // SAFETY: both are $l plain 32-bit integers, any bit pattern valid.
            unsafe { std::mem::transmute::<[u32; $l], W>(a) }
        }

        #[inline]
        #[target_feature(enable = $feat)]
        #[allow(unsafe_code)]
        fn store(v: W) -> [u32; $l] {
            // SAFETY: as in `load`.
            unsafe { std::mem::transmute::<W, [u32; $l]>(v) }
        }

        /// One BLAKE3 compression of `$l` blocks (one function body, no calls:
        /// opt-level 1 inlines little).
        macro_rules! compress {
            ($cv:expr, $m:expr, $len:expr, $flags:expr) => {{
                let (cv, m) = (&$cv, &$m);
                let z = splat(0);
                let mut v: [W; 16] = [
                    cv[0],
                    cv[1],
                    cv[2],
                    cv[3],
                    cv[4],
                    cv[5],
                    cv[6],
                    cv[7],
                    splat(IV[0]),
                    splat(IV[1]),
                    splat(IV[2]),
                    splat(IV[3]),
                    z,
                    z,
                    splat($len),
                    splat($flags),
                ];
                macro_rules! g {
                    ($a:literal, $b:literal, $c:literal, $d:literal, $mx:expr, $my:expr) => {
                        v[$a] = add(add(v[$a], v[$b]), $mx);
                        v[$d] = ror16(xor(v[$d], v[$a]));
                        v[$c] = add(v[$c], v[$d]);
                        v[$b] = ror12(xor(v[$b], v[$c]));
                        v[$a] = add(add(v[$a], v[$b]), $my);
                        v[$d] = ror8(xor(v[$d], v[$a]));
                        v[$c] = add(v[$c], v[$d]);
                        v[$b] = ror7(xor(v[$b], v[$c]));
                    };
                }
                for s in &SCHEDULE {
                    g!(0, 4, 8, 12, m[s[0]], m[s[1]]);
                    g!(1, 5, 9, 13, m[s[2]], m[s[3]]);
                    g!(2, 6, 10, 14, m[s[4]], m[s[5]]);
                    g!(3, 7, 11, 15, m[s[6]], m[s[7]]);
                    g!(0, 5, 10, 15, m[s[8]], m[s[9]]);
                    g!(1, 6, 11, 12, m[s[10]], m[s[11]]);
                    g!(2, 7, 8, 13, m[s[12]], m[s[13]]);
                    g!(3, 4, 9, 14, m[s[14]], m[s[15]]);
                }
                [
                    xor(v[0], v[8]),
                    xor(v[1], v[9]),
                    xor(v[2], v[10]),
                    xor(v[3], v[11]),
                    xor(v[4], v[12]),
                    xor(v[5], v[13]),
                    xor(v[6], v[14]),
                    xor(v[7], v[15]),
                ]
            }};
        }

        /// `fixed_group` of the portable path with this backend's vectors.
        #[target_feature(enable = $feat)]
        fn group(prefix: &[u8], data: &[u8], width: usize, out: &mut [u8]) {
            let total = prefix.len() + width;
            let blocks = total.div_ceil(BLOCK_LEN).max(1);
            let mut cv: [W; 8] = [
                splat(IV[0]),
                splat(IV[1]),
                splat(IV[2]),
                splat(IV[3]),
                splat(IV[4]),
                splat(IV[5]),
                splat(IV[6]),
                splat(IV[7]),
            ];
            for b in 0..blocks {
                let start = b * BLOCK_LEN;
                let len = (total - start).min(BLOCK_LEN);
                let mut words = [[0u32; $l]; 16];
                for (lane, record) in data.chunks(width.max(1)).take($l).enumerate() {
                    // A whole block inside the record: its words straight from the record.
                    let whole = start >= prefix.len() && len == BLOCK_LEN;
                    let r = start.wrapping_sub(prefix.len());
                    if let (true, Some(block)) = (whole, record.get(r..r.wrapping_add(BLOCK_LEN))) {
                        for (ws, c) in words.iter_mut().zip(block.chunks_exact(4)) {
                            ws[lane] = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                        }
                        continue;
                    }
                    let mut buf = [0u8; BLOCK_LEN];
                    let from_prefix = prefix.get(start..).unwrap_or(&[]);
                    let p = from_prefix.len().min(len);
                    buf[..p].copy_from_slice(&from_prefix[..p]);
                    let r0 = (start + p).saturating_sub(prefix.len());
                    if let (Some(dst), Some(src)) =
                        (buf.get_mut(p..len), record.get(r0..r0 + len - p))
                    {
                        dst.copy_from_slice(src);
                    }
                    for (w, ws) in words.iter_mut().enumerate() {
                        ws[lane] = u32::from_le_bytes([
                            buf[4 * w],
                            buf[4 * w + 1],
                            buf[4 * w + 2],
                            buf[4 * w + 3],
                        ]);
                    }
                }
                let m: [W; 16] = [
                    load(words[0]),
                    load(words[1]),
                    load(words[2]),
                    load(words[3]),
                    load(words[4]),
                    load(words[5]),
                    load(words[6]),
                    load(words[7]),
                    load(words[8]),
                    load(words[9]),
                    load(words[10]),
                    load(words[11]),
                    load(words[12]),
                    load(words[13]),
                    load(words[14]),
                    load(words[15]),
                ];
                let mut flags = if b == 0 { CHUNK_START } else { 0 };
                if b + 1 == blocks {
                    flags |= CHUNK_END | ROOT;
                }
                cv = compress!(cv, m, len as u32, flags);
            }
            let words: [[u32; $l]; 8] = [
                store(cv[0]),
                store(cv[1]),
                store(cv[2]),
                store(cv[3]),
                store(cv[4]),
                store(cv[5]),
                store(cv[6]),
                store(cv[7]),
            ];
            for (lane, o) in out.chunks_exact_mut(32).take($l).enumerate() {
                for (w, bytes) in o.chunks_exact_mut(4).enumerate() {
                    bytes.copy_from_slice(&words[w][lane].to_le_bytes());
                }
            }
        }

        /// `split_groups` with this backend's groups.
        #[target_feature(enable = $feat)]
        pub(super) fn fixed(prefix: &[u8], data: &[u8], width: usize, out: &mut [u8]) {
            super::split_groups($l, prefix, data, width, out, |p, d, w, o| group(p, d, w, o));
        }
    };
}

#[cfg(target_arch = "x86_64")]
#[allow(clippy::indexing_slicing)] // fixed-size arrays indexed by constants and lanes < $l
#[rustfmt::skip]
mod avx512 {
    use std::arch::x86_64::*;

    #[inline] #[target_feature(enable = "avx512f")]
    fn splat(x: u32) -> __m512i { _mm512_set1_epi32(x as i32) }
    #[inline] #[target_feature(enable = "avx512f")]
    fn add(a: __m512i, b: __m512i) -> __m512i { _mm512_add_epi32(a, b) }
    #[inline] #[target_feature(enable = "avx512f")]
    fn xor(a: __m512i, b: __m512i) -> __m512i { _mm512_xor_si512(a, b) }
    #[inline] #[target_feature(enable = "avx512f")]
    fn ror16(a: __m512i) -> __m512i { _mm512_ror_epi32::<16>(a) }
    #[inline] #[target_feature(enable = "avx512f")]
    fn ror12(a: __m512i) -> __m512i { _mm512_ror_epi32::<12>(a) }
    #[inline] #[target_feature(enable = "avx512f")]
    fn ror8(a: __m512i) -> __m512i { _mm512_ror_epi32::<8>(a) }
    #[inline] #[target_feature(enable = "avx512f")]
    fn ror7(a: __m512i) -> __m512i { _mm512_ror_epi32::<7>(a) }

    x86_lanes!("avx512f", __m512i, 16);
}

#[cfg(target_arch = "x86_64")]
#[allow(clippy::indexing_slicing)] // fixed-size arrays indexed by constants and lanes < $l
#[rustfmt::skip]
mod avx2 {
    use std::arch::x86_64::*;

    #[inline] #[target_feature(enable = "avx2")]
    fn splat(x: u32) -> __m256i { _mm256_set1_epi32(x as i32) }
    #[inline] #[target_feature(enable = "avx2")]
    fn add(a: __m256i, b: __m256i) -> __m256i { _mm256_add_epi32(a, b) }
    #[inline] #[target_feature(enable = "avx2")]
    fn xor(a: __m256i, b: __m256i) -> __m256i { _mm256_xor_si256(a, b) }
    #[inline] #[target_feature(enable = "avx2")]
    fn ror16(a: __m256i) -> __m256i {
        _mm256_or_si256(_mm256_srli_epi32::<16>(a), _mm256_slli_epi32::<16>(a))
    }
    #[inline] #[target_feature(enable = "avx2")]
    fn ror12(a: __m256i) -> __m256i {
        _mm256_or_si256(_mm256_srli_epi32::<12>(a), _mm256_slli_epi32::<20>(a))
    }
    #[inline] #[target_feature(enable = "avx2")]
    fn ror8(a: __m256i) -> __m256i {
        _mm256_or_si256(_mm256_srli_epi32::<8>(a), _mm256_slli_epi32::<24>(a))
    }
    #[inline] #[target_feature(enable = "avx2")]
    fn ror7(a: __m256i) -> __m256i {
        _mm256_or_si256(_mm256_srli_epi32::<7>(a), _mm256_slli_epi32::<25>(a))
    }

    x86_lanes!("avx2", __m256i, 8);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn fixed_avx512(prefix: &[u8], data: &[u8], width: usize, out: &mut [u8]) {
    avx512::fixed(prefix, data, width, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn fixed_avx2(prefix: &[u8], data: &[u8], width: usize, out: &mut [u8]) {
    avx2::fixed(prefix, data, width, out);
}

/// BLAKE3 of `n = out.len() / 32` records, record `i` being
/// `prefix ‖ data[i·width..(i+1)·width]`; writes digest `i` to
/// `out[32·i..32·(i+1)]`. Equal to `blake3::hash` of each record.
///
/// Errors when a record would exceed one chunk (`prefix.len() + width >
/// 1024`), when `out` is not whole digests, or when `data` is not exactly
/// `n` records.
pub fn blake3_fixed(prefix: &[u8], data: &[u8], width: usize, out: &mut [u8]) -> CoreResult<()> {
    if prefix.len().saturating_add(width) > CHUNK_LEN {
        return Err(CoreError::invalid(
            "width",
            width,
            format!(
                "prefix ({} bytes) plus record must fit one {CHUNK_LEN}-byte chunk",
                prefix.len()
            ),
        ));
    }
    if !out.len().is_multiple_of(32) {
        return Err(CoreError::invalid(
            "out",
            format!("{} bytes", out.len()),
            "must be a whole number of 32-byte digests",
        ));
    }
    let n = out.len() / 32;
    if Some(data.len()) != n.checked_mul(width) {
        return Err(CoreError::invalid(
            "data",
            format!("{} bytes", data.len()),
            format!("expected {n} records of {width} bytes"),
        ));
    }
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F (checked just above), the only
            // requirement of a `target_feature(enable = "avx512f")` function.
            #[allow(unsafe_code)]
            unsafe {
                fixed_avx512(prefix, data, width, out);
            }
            return Ok(());
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            #[allow(unsafe_code)]
            unsafe {
                fixed_avx2(prefix, data, width, out);
            }
            return Ok(());
        }
    }
    fixed_portable(prefix, data, width, out);
    Ok(())
}

/// Which lane width `blake3_fixed` uses on this CPU (for reports).
pub fn lane_width() -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            return 16;
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            return 8;
        }
    }
    4
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn reference(prev: &[u8; 32], period: u64, key: &[u8; 32]) -> u64 {
        let mut h = blake3::Hasher::new();
        h.update(prev);
        h.update(&period.to_le_bytes());
        h.update(key);
        u64::from_le_bytes(h.finalize().as_bytes()[..8].try_into().unwrap())
    }

    #[test]
    fn every_lane_and_every_path_matches_blake3() {
        let keys: Vec<[u8; 32]> = (0..103u32)
            .map(|i| {
                let mut k = [0u8; 32];
                for (j, b) in k.iter_mut().enumerate() {
                    *b = (i.wrapping_mul(31) as u8) ^ (j as u8).wrapping_mul(7);
                }
                k
            })
            .collect();
        let prev = [0xA5; 32];
        let want: Vec<u64> = keys
            .iter()
            .map(|k| reference(&prev, 1_733_100, k))
            .collect();
        let mut got = vec![0; keys.len()];
        blake3_u(&prev, 1_733_100, &keys, &mut got);
        assert_eq!(got, want);
        let mut portable = vec![0; keys.len()];
        let mut prefix = [0u8; 40];
        prefix[..32].copy_from_slice(&prev);
        prefix[32..].copy_from_slice(&1_733_100u64.to_le_bytes());
        u_portable(&prefix, &keys, &mut portable);
        assert_eq!(portable, want);
    }

    /// Every path this CPU can run, each against `blake3::hash`.
    fn all_paths(prefix: &[u8], data: &[u8], width: usize, n: usize) -> Vec<Vec<u8>> {
        let mut outs = Vec::new();
        let mut out = vec![0u8; n * 32];
        blake3_fixed(prefix, data, width, &mut out).unwrap();
        outs.push(out);
        let mut out = vec![0u8; n * 32];
        fixed_portable(prefix, data, width, &mut out);
        outs.push(out);
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                let mut out = vec![0u8; n * 32];
                // SAFETY: AVX2 is present (checked just above).
                #[allow(unsafe_code)]
                unsafe {
                    fixed_avx2(prefix, data, width, &mut out)
                };
                outs.push(out);
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                let mut out = vec![0u8; n * 32];
                // SAFETY: AVX-512F is present (checked just above).
                #[allow(unsafe_code)]
                unsafe {
                    fixed_avx512(prefix, data, width, &mut out)
                };
                outs.push(out);
            }
        }
        outs
    }

    fn scalar(prefix: &[u8], data: &[u8], width: usize, n: usize) -> Vec<u8> {
        (0..n)
            .flat_map(|i| {
                let mut h = blake3::Hasher::new();
                h.update(prefix);
                h.update(&data[i * width..(i + 1) * width]);
                *h.finalize().as_bytes()
            })
            .collect()
    }

    /// The official BLAKE3 vectors (tests/vectors) of at most one chunk,
    /// as batches of 1..=37 copies so every lane of every path sees them.
    #[test]
    fn fixed_records_match_the_official_vectors() {
        let json = include_str!("../../../../tests/vectors/blake3_test_vectors.json");
        let mut checked = 0;
        for case in json.split("\"input_len\":").skip(1) {
            let len: usize = case
                .split(|c: char| !c.is_ascii_digit())
                .find(|s| !s.is_empty())
                .unwrap()
                .parse()
                .unwrap();
            let hash = case.split("\"hash\": \"").nth(1).unwrap();
            let want = &hash[..64];
            if len > CHUNK_LEN {
                continue;
            }
            let input: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            for n in [1usize, 3, 4, 15, 16, 17, 37] {
                let data: Vec<u8> = input.iter().copied().cycle().take(n * len).collect();
                for out in all_paths(&[], &data, len, n) {
                    for d in out.chunks_exact(32) {
                        let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
                        assert_eq!(hex, want, "len {len} n {n}");
                    }
                }
            }
            checked += 1;
        }
        assert_eq!(checked, 4); // lengths 0, 1, 1023, 1024
    }

    /// Every width 0..=1024 (less the prefix), counts around the lane widths,
    /// pseudo-random bytes, with no prefix and with RFC 6962's one-byte prefixes.
    #[test]
    fn fixed_records_of_every_width_match_single_hashes() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for prefix in [&[][..], &[0x00], &[0x01], &[7u8; 65]] {
            for width in 0..=CHUNK_LEN - prefix.len() {
                let n = [1, 2, 3, 5, 8, 13, 16, 19, 33, 35][width % 10];
                let data: Vec<u8> = (0..n * width).map(|_| next() as u8).collect();
                let want = scalar(prefix, &data, width, n);
                for got in all_paths(prefix, &data, width, n) {
                    assert_eq!(got, want, "prefix {} width {width} n {n}", prefix.len());
                }
            }
        }
    }

    #[test]
    fn fixed_records_refuse_bad_shapes() {
        let mut out = [0u8; 64];
        assert!(blake3_fixed(&[], &[0; 3], 2, &mut out).is_err());
        assert!(blake3_fixed(&[0], &[0; 2048], 1024, &mut out).is_err());
        assert!(blake3_fixed(&[], &[0; 2], 1, &mut out[..33]).is_err());
        assert!(blake3_fixed(&[], &[], 0, &mut []).is_ok());
        assert!(blake3_fixed(&[], &[], 0, &mut out).is_ok());
        assert_eq!(&out[..32], blake3::hash(b"").as_bytes());
    }
}
