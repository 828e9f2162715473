//! RFC 6962 / RFC 9162 Merkle trees: roots, inclusion and consistency proofs.
//!
//! leaf = H(0x00 ‖ data), node = H(0x01 ‖ left ‖ right); a tree of n leaves
//! splits at the largest power of two below n (SPEC §2). The tree keeps every
//! complete subtree: `levels[k][i]` is the root of leaves `[i·2^k, (i+1)·2^k)`,
//! so any root at an older size, any proof and any append costs O(log n)
//! hashes, at about 64 bytes of memory per leaf. BLAKE3 trees hash their
//! leaves (fixed-width records) and each level's nodes many at a time, one
//! per SIMD lane (`simd::lanes::blake3_fixed`); the bytes hashed are the same.

use rayon::prelude::*;

use crate::crypto::hash::{Algorithm, Digest, Records};
use crate::crypto::simd::lanes::{blake3_fixed, CHUNK_LEN};
use crate::error::{CoreError, CoreResult};

const LEAF_PREFIX: u8 = 0x00;
const NODE_PREFIX: u8 = 0x01;
/// Nodes per rayon task when building a level above the blocks.
const PAR_MIN_NODES: usize = 4096;
/// A build task hashes an aligned block of 2^BLOCK_LEVELS leaves and its subtree.
const BLOCK_LEVELS: usize = 11;

/// H(0x00 ‖ data).
pub fn leaf_hash(alg: Algorithm, data: &[u8]) -> Digest {
    alg.hash_parts(&[&[LEAF_PREFIX], data])
}

/// H(0x01 ‖ left ‖ right).
pub fn node_hash(alg: Algorithm, left: &Digest, right: &Digest) -> Digest {
    let mut buf = [0u8; 65];
    buf[0] = NODE_PREFIX;
    buf[1..33].copy_from_slice(left);
    buf[33..].copy_from_slice(right);
    alg.hash(&buf)
}

/// Writes the hashes of leaves `first..first + slice.len()` into the slice.
type LeafFill<'a> = dyn Fn(usize, &mut [Digest]) -> CoreResult<()> + Sync + 'a;

/// `next[j] = node_hash(prev[2j], prev[2j + 1])` for every `j < next.len()`
/// (`prev` holds at least `2 · next.len()` hashes). BLAKE3 hashes many nodes
/// at once, one per SIMD lane: record j of `prev`'s flat bytes is left ‖ right,
/// behind the 0x01 prefix.
fn hash_level(alg: Algorithm, prev: &[Digest], next: &mut [Digest]) -> CoreResult<()> {
    if alg == Algorithm::Blake3 {
        if let Some(pairs) = prev.as_flattened().get(..next.len() * 64) {
            return blake3_fixed(&[NODE_PREFIX], pairs, 64, next.as_flattened_mut());
        }
    }
    for (o, p) in next.iter_mut().zip(prev.chunks_exact(2)) {
        if let [l, r] = p {
            *o = node_hash(alg, l, r);
        }
    }
    Ok(())
}

/// The largest power of two strictly below `n` (n ≥ 2).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// An append-only RFC 6962 tree that keeps all complete subtrees.
#[derive(Clone, Debug)]
pub struct MerkleTree {
    alg: Algorithm,
    levels: Vec<Vec<Digest>>,
}

impl MerkleTree {
    /// An empty tree.
    pub fn new(alg: Algorithm) -> Self {
        Self {
            alg,
            levels: vec![Vec::new()],
        }
    }

    /// Build from leaf hashes (already `H(0x00 ‖ data)`); see `build`.
    pub fn from_leaf_hashes(alg: Algorithm, leaves: Vec<Digest>) -> Self {
        match Self::build(alg, leaves, None) {
            Ok(t) => t,
            // `build` fails only in its leaf filler or on a level of the wrong
            // shape, and it makes every level the right shape: unreachable.
            Err(_) => Self::new(alg),
        }
    }

    /// Hash each record of `data` as a leaf (fixed `stride`, or ragged by `offsets`) and build.
    pub fn from_records(alg: Algorithm, data: &[u8], bounds: Records<'_>) -> CoreResult<Self> {
        let n = bounds.len(data.len(), 0)?;
        let fill = |first: usize, leaves: &mut [Digest]| -> CoreResult<()> {
            match (alg, bounds) {
                (Algorithm::Blake3, Records::Fixed(width)) if width < CHUNK_LEN => {
                    // Many leaves at once, one per SIMD lane, behind the 0x00 prefix.
                    let d = data
                        .get(first * width..(first + leaves.len()) * width)
                        .unwrap_or(&[]);
                    blake3_fixed(&[LEAF_PREFIX], d, width, leaves.as_flattened_mut())
                }
                _ => {
                    for (j, o) in leaves.iter_mut().enumerate() {
                        *o = leaf_hash(alg, bounds.record(data, first + j));
                    }
                    Ok(())
                }
            }
        };
        Self::build(alg, vec![[0u8; 32]; n], Some(&fill))
    }

    /// Build every level above `leaves`.
    ///
    /// The leaves are cut into aligned blocks of `2^BLOCK_LEVELS`; one rayon
    /// task per block hashes its leaves (with `fill`, when given: `fill(first,
    /// slice)` writes the hashes of leaves `first..first + slice.len()`) and
    /// then every node of the block's subtree, level by level while the level
    /// below is still in cache, without waiting for the other blocks. Only the
    /// few levels above the blocks (n / 2^BLOCK_LEVELS nodes and fewer) are
    /// built after all tasks end. Building level by level across the whole
    /// tree instead costs a pool-wide barrier per level, levels too small to
    /// keep every thread busy, and a pass over memory per level (BENCHMARKS.md,
    /// "Scaling of the parallel hot paths").
    fn build(alg: Algorithm, leaves: Vec<Digest>, fill: Option<&LeafFill<'_>>) -> CoreResult<Self> {
        let n = leaves.len();
        let mut levels = vec![leaves];
        for k in 1..=BLOCK_LEVELS {
            if n >> k == 0 {
                break;
            }
            levels.push(vec![[0u8; 32]; n >> k]);
        }
        let block = 1usize << BLOCK_LEVELS;
        let mut tasks: Vec<Vec<&mut [Digest]>> = (0..n.div_ceil(block))
            .map(|_| Vec::with_capacity(levels.len()))
            .collect();
        for (k, level) in levels.iter_mut().enumerate() {
            let mut chunks = level.chunks_mut(block >> k);
            for t in &mut tasks {
                t.push(chunks.next().unwrap_or(&mut []));
            }
        }
        let run = |(i, mut t): (usize, Vec<&mut [Digest]>)| -> CoreResult<()> {
            if let (Some(f), Some(first)) = (fill, t.first_mut()) {
                f(i * block, first)?;
            }
            for k in 1..t.len() {
                let (below, above) = t.split_at_mut(k);
                if let (Some(prev), Some(next)) = (below.last(), above.first_mut()) {
                    hash_level(alg, prev, next)?;
                }
            }
            Ok(())
        };
        if tasks.len() > 1 {
            tasks.into_par_iter().enumerate().try_for_each(run)?;
        } else {
            tasks.into_iter().enumerate().try_for_each(run)?;
        }
        // Above the blocks, level by level.
        loop {
            let prev = levels.last().map(Vec::as_slice).unwrap_or(&[]);
            if prev.len() < 2 {
                break;
            }
            let mut next = vec![[0u8; 32]; prev.len() / 2];
            if next.len() >= 2 * PAR_MIN_NODES {
                next.par_chunks_mut(PAR_MIN_NODES)
                    .zip(prev.par_chunks(2 * PAR_MIN_NODES))
                    .try_for_each(|(o, p)| hash_level(alg, p, o))?;
            } else {
                hash_level(alg, prev, &mut next)?;
            }
            levels.push(next);
        }
        Ok(Self { alg, levels })
    }

    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, Vec::len) as u64
    }

    /// Bytes held by the stored hashes.
    pub fn nbytes(&self) -> usize {
        self.levels.iter().map(|l| l.capacity() * 32).sum()
    }

    /// The stored hash of leaf `index`.
    pub fn leaf(&self, index: u64) -> CoreResult<Digest> {
        self.node(0, index).ok_or_else(|| {
            CoreError::invalid("index", index, format!("must be < size {}", self.size()))
        })
    }

    /// Append one leaf hash; O(log n).
    pub fn append_leaf_hash(&mut self, h: Digest) {
        let mut carry = h;
        let mut k = 0;
        loop {
            if self.levels.len() <= k {
                self.levels.push(Vec::new());
            }
            let Some(level) = self.levels.get_mut(k) else {
                return;
            };
            level.push(carry);
            let len = level.len();
            if len % 2 == 1 {
                return;
            }
            let (Some(l), Some(r)) = (level.get(len - 2), level.get(len - 1)) else {
                return;
            };
            carry = node_hash(self.alg, l, r);
            k += 1;
        }
    }

    fn node(&self, level: usize, index: u64) -> Option<Digest> {
        self.levels
            .get(level)?
            .get(usize::try_from(index).ok()?)
            .copied()
    }

    /// MTH(D[lo:hi]) for the ranges that RFC 6962's recursion produces
    /// (lo aligned to the largest power of two ≤ hi − lo).
    fn subtree(&self, lo: u64, hi: u64) -> Digest {
        let n = hi - lo;
        if n == 0 {
            return self.alg.hash(b"");
        }
        if n.is_power_of_two() && lo.is_multiple_of(n) {
            let k = n.trailing_zeros() as usize;
            if let Some(h) = self.node(k, lo >> k) {
                return h;
            }
        }
        if n == 1 {
            return self.alg.hash(b"");
        }
        let k = split_point(n);
        node_hash(
            self.alg,
            &self.subtree(lo, lo + k),
            &self.subtree(lo + k, hi),
        )
    }

    fn check_size(&self, field: &str, size: u64) -> CoreResult<()> {
        if size > self.size() {
            return Err(CoreError::invalid(
                field,
                size,
                format!("must be ≤ tree size {}", self.size()),
            ));
        }
        Ok(())
    }

    /// The root of the whole tree; H("") when empty.
    pub fn root(&self) -> Digest {
        self.subtree(0, self.size())
    }

    /// The root the tree had when it held `size` leaves.
    pub fn root_at(&self, size: u64) -> CoreResult<Digest> {
        self.check_size("size", size)?;
        Ok(self.subtree(0, size))
    }

    /// RFC 9162 §2.1.3.1 PATH(index, D[0:size]), leaf-level sibling first.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> CoreResult<Vec<Digest>> {
        self.check_size("size", size)?;
        if index >= size {
            return Err(CoreError::invalid(
                "index",
                index,
                format!("must be < size {size}"),
            ));
        }
        let mut proof = Vec::with_capacity(64);
        let (mut lo, mut hi, m) = (0u64, size, index);
        // Walk down from the root, then reverse to get the bottom-up order.
        while hi - lo > 1 {
            let k = split_point(hi - lo);
            if m < lo + k {
                proof.push(self.subtree(lo + k, hi));
                hi = lo + k;
            } else {
                proof.push(self.subtree(lo, lo + k));
                lo += k;
            }
        }
        proof.reverse();
        Ok(proof)
    }

    /// RFC 9162 §2.1.4.1 PROOF(old_size, D[0:new_size]).
    pub fn consistency_proof(&self, old_size: u64, new_size: u64) -> CoreResult<Vec<Digest>> {
        self.check_size("new_size", new_size)?;
        if old_size > new_size {
            return Err(CoreError::invalid(
                "old_size",
                old_size,
                format!("must be ≤ new_size {new_size}"),
            ));
        }
        let mut proof = Vec::new();
        if old_size == 0 || old_size == new_size {
            return Ok(proof);
        }
        // SUBPROOF(m, D[lo:hi], b), iteratively; collected top-down then reversed.
        let (mut lo, mut hi, mut m, mut whole) = (0u64, new_size, old_size, true);
        loop {
            if m == hi - lo {
                if !whole {
                    proof.push(self.subtree(lo, hi));
                }
                break;
            }
            let k = split_point(hi - lo);
            if m <= k {
                proof.push(self.subtree(lo + k, hi));
                hi = lo + k;
            } else {
                proof.push(self.subtree(lo, lo + k));
                lo += k;
                m -= k;
                whole = false;
            }
        }
        proof.reverse();
        Ok(proof)
    }
}

/// RFC 9162 §2.1.3.2: does `proof` show leaf `index` in a tree of `size` with `root`?
pub fn verify_inclusion(
    alg: Algorithm,
    leaf: &Digest,
    index: u64,
    size: u64,
    proof: &[Digest],
    root: &Digest,
) -> CoreResult<bool> {
    if index >= size {
        return Err(CoreError::invalid(
            "index",
            index,
            format!("must be < size {size}"),
        ));
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return Ok(false);
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(alg, p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(alg, &r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    Ok(snode == 0 && r == *root)
}

/// RFC 9162 §2.1.4.2: is the tree of `old_size` with `old_root` a prefix of
/// the tree of `new_size` with `new_root`? An empty old tree is consistent
/// with every tree when the proof is empty and `old_root` is H("").
pub fn verify_consistency(
    alg: Algorithm,
    old_size: u64,
    new_size: u64,
    old_root: &Digest,
    new_root: &Digest,
    proof: &[Digest],
) -> CoreResult<bool> {
    if old_size > new_size {
        return Err(CoreError::invalid(
            "old_size",
            old_size,
            format!("must be ≤ new_size {new_size}"),
        ));
    }
    if old_size == new_size {
        return Ok(proof.is_empty() && old_root == new_root);
    }
    if old_size == 0 {
        return Ok(proof.is_empty() && *old_root == alg.hash(b""));
    }
    let mut path: Vec<Digest> = Vec::with_capacity(proof.len() + 1);
    if old_size.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else {
        return Ok(false);
    };
    let (mut fnode, mut snode) = (old_size - 1, new_size - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if snode == 0 {
            return Ok(false);
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(alg, c, &fr);
            sr = node_hash(alg, c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(alg, &sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    Ok(fr == *old_root && sr == *new_root && snode == 0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// MTH by the RFC's recursive definition, straight from the text.
    fn reference_root(alg: Algorithm, leaves: &[Vec<u8>]) -> Digest {
        match leaves.len() {
            0 => alg.hash(b""),
            1 => leaf_hash(alg, &leaves[0]),
            n => {
                let k = split_point(n as u64) as usize;
                node_hash(
                    alg,
                    &reference_root(alg, &leaves[..k]),
                    &reference_root(alg, &leaves[k..]),
                )
            }
        }
    }

    fn leaves(n: usize) -> Vec<Vec<u8>> {
        (0..n).map(|i| format!("leaf {i}").into_bytes()).collect()
    }

    #[test]
    fn roots_match_the_recursive_definition_and_appends() {
        for alg in [Algorithm::Sha256, Algorithm::Blake3] {
            let mut appended = MerkleTree::new(alg);
            for n in 0..=70usize {
                let ls = leaves(n);
                let built = MerkleTree::from_leaf_hashes(
                    alg,
                    ls.iter().map(|l| leaf_hash(alg, l)).collect(),
                );
                let want = reference_root(alg, &ls);
                assert_eq!(built.root(), want, "n={n}");
                assert_eq!(appended.root(), want, "append n={n}");
                for m in 0..=n {
                    assert_eq!(
                        built.root_at(m as u64).unwrap(),
                        reference_root(alg, &ls[..m])
                    );
                }
                appended.append_leaf_hash(leaf_hash(alg, format!("leaf {n}").as_bytes()));
            }
        }
    }

    #[test]
    fn every_proof_verifies_and_tampering_fails() {
        let alg = Algorithm::Sha256;
        for n in 1..=33u64 {
            let t = MerkleTree::from_leaf_hashes(
                alg,
                leaves(n as usize)
                    .iter()
                    .map(|l| leaf_hash(alg, l))
                    .collect(),
            );
            let root = t.root();
            for i in 0..n {
                let p = t.inclusion_proof(i, n).unwrap();
                assert!(verify_inclusion(alg, &t.leaf(i).unwrap(), i, n, &p, &root).unwrap());
                let mut bad = root;
                bad[0] ^= 1;
                assert!(!verify_inclusion(alg, &t.leaf(i).unwrap(), i, n, &p, &bad).unwrap());
            }
            for m in 0..=n {
                let p = t.consistency_proof(m, n).unwrap();
                let old = t.root_at(m).unwrap();
                assert!(
                    verify_consistency(alg, m, n, &old, &root, &p).unwrap(),
                    "m={m} n={n}"
                );
                if m > 0 && m < n {
                    let mut bad = old;
                    bad[31] ^= 0x80;
                    assert!(!verify_consistency(alg, m, n, &bad, &root, &p).unwrap());
                }
            }
        }
    }

    #[test]
    fn malformed_arguments_are_errors() {
        let t = MerkleTree::from_leaf_hashes(Algorithm::Blake3, vec![[1u8; 32]; 5]);
        assert!(t.inclusion_proof(5, 5).is_err());
        assert!(t.inclusion_proof(0, 6).is_err());
        assert!(t.consistency_proof(4, 3).is_err());
        assert!(verify_inclusion(Algorithm::Blake3, &[0; 32], 3, 3, &[], &[0; 32]).is_err());
        assert!(verify_consistency(Algorithm::Blake3, 4, 3, &[0; 32], &[0; 32], &[]).is_err());
    }

    /// BLAKE3 trees of fixed-width records (leaves and nodes hashed many per
    /// SIMD lane) equal the scalar path (ragged records, node by node) and the
    /// RFC's recursive definition, at widths up to one chunk and at sizes
    /// across the lane widths and the parallel threshold.
    #[test]
    fn blake3_lanes_build_equals_the_scalar_build() {
        let alg = Algorithm::Blake3;
        for (n, width) in [
            (1usize, 0usize),
            (2, 1),
            (3, 64),
            (17, 63),
            (33, 1023),
            (100, 200),
            (4097, 32),
            (8193, 64),
            (20_001, 7),
        ] {
            let data: Vec<u8> = (0..n * width)
                .map(|i| ((i * 2_654_435_761) >> 9) as u8)
                .collect();
            let offsets: Vec<usize> = (0..=n).map(|i| i * width).collect();
            let fixed = MerkleTree::from_records(alg, &data, Records::Fixed(width.max(1)));
            let ragged = MerkleTree::from_records(alg, &data, Records::Ragged(&offsets)).unwrap();
            if width > 0 {
                let fixed = fixed.unwrap();
                assert_eq!(fixed.root(), ragged.root(), "n {n} width {width}");
                assert_eq!(fixed.levels, ragged.levels, "n {n} width {width}");
            }
            let scalar_leaves: Vec<Digest> = (0..n)
                .map(|i| leaf_hash(alg, &data[i * width..(i + 1) * width]))
                .collect();
            assert_eq!(ragged.levels[0], scalar_leaves);
            let recs: Vec<Vec<u8>> = (0..n)
                .map(|i| data[i * width..(i + 1) * width].to_vec())
                .collect();
            if n <= 4097 {
                assert_eq!(ragged.root(), reference_root(alg, &recs), "n {n}");
            }
            let mut by_node = vec![scalar_leaves];
            while by_node.last().unwrap().len() > 1 {
                let l = by_node.last().unwrap();
                let next = l
                    .chunks_exact(2)
                    .map(|p| node_hash(alg, &p[0], &p[1]))
                    .collect();
                by_node.push(next);
            }
            assert_eq!(ragged.levels, by_node, "n {n}");
        }
    }
}
