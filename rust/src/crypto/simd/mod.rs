//! Many-lane helpers, each checked against (or falling back to) its scalar
//! equivalent: Ed25519 point decompression and BLAKE3 draw values.

pub mod decompress;
pub mod lanes;
