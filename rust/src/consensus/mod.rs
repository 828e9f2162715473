//! Proof of stake and proof of benefit (SPEC §3, §6): the draw, the bidding
//! game, and PoB block validation.

pub mod bidding;
pub mod draw;
pub mod pob;
