//! Hashing, RFC 6962 Merkle trees and Ed25519 batches (SPEC §2).

pub mod hash;
pub mod merkle;
pub mod sig;
pub mod simd;
