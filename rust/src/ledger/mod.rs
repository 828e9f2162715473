//! The community ledger (SPEC §2): canonical encodings of transactions,
//! headers and the genesis record, and the chain state that validates blocks.

pub mod auction;
pub mod block;
pub mod codec;
pub mod genesis;
mod rules;
pub mod state;
pub mod tx;
pub mod utxo;

#[cfg(test)]
mod tests;
