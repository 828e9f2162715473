//! Little-endian fixed-width reading for the ledger's canonical encodings,
//! and the constants those encodings share. Every read is checked: a short
//! buffer is an error naming the record and the byte offset, never a panic.
//!
//! The ledger's modules form layers, each using only those before it:
//! `codec`; `tx` and `genesis`; `block`; `auction`; `state` and `rules`. A
//! constant that two of them share lives here, below all of them.

use crate::error::{CoreError, CoreResult, Rule};

pub type Key = [u8; 32];
pub type Sig = [u8; 64];

/// Amounts stay below 2^63 so that SQLite, numpy int64 and Python agree.
pub const MAX_AMOUNT: u64 = i64::MAX as u64;
/// Bytes of an encoded block header (`block::Header`); an Evidence
/// transaction carries two.
pub const HEADER_LEN: usize = 4 + 1 + 32 + 8 + 8 + 32 + 32 + 4 + 32 + 32 + 8;

/// A cursor over one encoded record.
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    what: &'static str,
    rule: Rule,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8], what: &'static str, rule: Rule) -> Self {
        Self {
            data,
            pos: 0,
            what,
            rule,
        }
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    pub fn error(&self, reason: impl Into<String>) -> CoreError {
        CoreError::rule(self.rule, self.what, format!("byte {}", self.pos), reason)
    }

    pub fn bytes(&mut self, n: usize) -> CoreResult<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        match end.and_then(|e| self.data.get(self.pos..e)) {
            Some(s) => {
                self.pos += n;
                Ok(s)
            }
            None => Err(self.error(format!(
                "truncated: {} bytes, needs {} more at byte {}",
                self.data.len(),
                n,
                self.pos
            ))),
        }
    }

    pub fn array<const N: usize>(&mut self) -> CoreResult<[u8; N]> {
        let s = self.bytes(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    pub fn u8(&mut self) -> CoreResult<u8> {
        Ok(self.array::<1>()?[0])
    }

    pub fn u16(&mut self) -> CoreResult<u16> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    pub fn u32(&mut self) -> CoreResult<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub fn u64(&mut self) -> CoreResult<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    pub fn i64(&mut self) -> CoreResult<i64> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    /// The tag and version that open every record.
    pub fn magic(&mut self, magic: &[u8; 4], version: u8) -> CoreResult<()> {
        let m: [u8; 4] = self.array()?;
        if &m != magic {
            return Err(self.error(format!(
                "not a {} (magic {:?}, expected {:?})",
                self.what,
                String::from_utf8_lossy(&m),
                String::from_utf8_lossy(magic)
            )));
        }
        let v = self.u8()?;
        if v != version {
            return Err(self.error(format!("unsupported version {v}, expected {version}")));
        }
        Ok(())
    }

    /// Fail unless every byte was read (a canonical encoding has no tail).
    pub fn finish(&self) -> CoreResult<()> {
        if self.pos != self.data.len() {
            return Err(self.error(format!(
                "{} trailing bytes after the record",
                self.data.len() - self.pos
            )));
        }
        Ok(())
    }
}

/// Short hex of a hash for messages.
pub fn short(h: &[u8]) -> String {
    h.iter().take(8).map(|b| format!("{b:02x}")).collect()
}
