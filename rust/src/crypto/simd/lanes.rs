//! BLAKE3 of many 72-byte draw inputs at once, one input per SIMD lane.
//!
//! The draw hashes H(prev ‖ period ‖ key) for every candidate: 72 bytes, one
//! BLAKE3 chunk of two blocks. The blake3 crate hashes one input at a time
//! (its multi-input `hash_many` is internal), which costs two serial
//! compressions per candidate. Here the compression runs on `L` inputs side by
//! side in arrays of `L` words, which the compiler turns into vector
//! instructions (AVX-512 or AVX2 when the CPU has them). Only the first 8
//! output bytes are produced: the draw needs no more. Tests check every lane
//! against `blake3::hash`.

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
}
