//! Argument conversion shared by the ledger bindings: keys, chain tags,
//! amounts, column lengths, ragged buffers.

use numpy::PyReadonlyArray2;

use crate::crypto::hash::check_offsets;
use crate::error::{CoreError, Rule};
use crate::ledger::codec::{Key, MAX_AMOUNT};
use crate::py::buffers::rows;

pub(super) fn key(field: &str, b: &[u8]) -> Result<Key, CoreError> {
    b.try_into().map_err(|_| {
        CoreError::invalid(
            field,
            format!("{} bytes", b.len()),
            "a public key is 32 bytes",
        )
    })
}

pub(super) fn keys_of(field: &str, a: &PyReadonlyArray2<'_, u8>) -> Result<Vec<Key>, CoreError> {
    let (data, _, _) = rows(field, a, Some(32))?;
    Ok(data
        .chunks_exact(32)
        .map(|c| c.try_into().unwrap_or([0; 32]))
        .collect())
}

pub(super) fn tag(b: &[u8]) -> Result<[u8; 8], CoreError> {
    b.try_into().map_err(|_| {
        CoreError::invalid(
            "chain_tag",
            format!("{} bytes", b.len()),
            "a chain tag is 8 bytes",
        )
    })
}

pub(super) fn same_len(field: &str, n: usize, m: usize) -> Result<(), CoreError> {
    if n == m {
        Ok(())
    } else {
        Err(CoreError::invalid(
            field,
            format!("{m} entries"),
            format!("expected {n}, one per row"),
        ))
    }
}

pub(super) fn amount(field: &str, v: i64) -> Result<u64, CoreError> {
    u64::try_from(v)
        .ok()
        .filter(|&a| a <= MAX_AMOUNT)
        .ok_or_else(|| {
            CoreError::rule(
                Rule::Transaction,
                field,
                v,
                "amounts must be integers ≥ 0 (Wh, tokens)",
            )
        })
}

pub(super) fn split<'a>(
    field: &str,
    data: &'a [u8],
    offs: &[usize],
) -> Result<Vec<&'a [u8]>, CoreError> {
    check_offsets(offs, data.len()).map_err(|_| {
        CoreError::invalid(
            field,
            format!("{} entries", offs.len()),
            "must rise from 0 to the data length",
        )
    })?;
    Ok(offs
        .windows(2)
        .map(|w| match w {
            [a, b] => data.get(*a..*b).unwrap_or(&[]),
            _ => &[],
        })
        .collect())
}
