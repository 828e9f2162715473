//! Gunzipping whole files with libdeflate, 2-3x faster than zlib's
//! streaming inflate on the ENTSO-E exports (BENCHMARKS.md §4). The only
//! `unsafe` of the crate: three FFI calls, each with its SAFETY note.

/// The uncompressed size a gzip member's trailer states (ISIZE, mod 2^32).
pub fn gzip_size(data: &[u8]) -> Option<usize> {
    let tail: [u8; 4] = data.get(data.len().checked_sub(4)?..)?.try_into().ok()?;
    usize::try_from(u32::from_le_bytes(tail)).ok()
}

/// Gunzip `data` into `out`, which must be exactly [`gzip_size`] long.
/// `false` when that is not the whole story (several members, 4 GiB or
/// more, corrupt data): the caller then uses a streaming decoder, which also
/// names the fault.
pub fn gunzip_into(data: &[u8], out: &mut [u8]) -> bool {
    let Some(d) = Decompressor::new() else {
        return false;
    };
    let (mut used_in, mut used_out) = (0usize, 0usize);
    // SAFETY: `d.0` is a live decompressor owned by `d`; the input and output
    // pointers and lengths come from slices that outlive the call, and
    // libdeflate writes at most `out.len()` bytes and the two counters.
    #[allow(unsafe_code)]
    let result = unsafe {
        libdeflate_sys::libdeflate_gzip_decompress_ex(
            d.0,
            data.as_ptr().cast(),
            data.len(),
            out.as_mut_ptr().cast(),
            out.len(),
            &raw mut used_in,
            &raw mut used_out,
        )
    };
    result == libdeflate_sys::libdeflate_result_LIBDEFLATE_SUCCESS
        && used_in == data.len()
        && used_out == out.len()
}

/// A libdeflate decompressor, freed on drop.
struct Decompressor(*mut libdeflate_sys::libdeflate_decompressor);

impl Decompressor {
    fn new() -> Option<Self> {
        // SAFETY: a plain allocation; null (out of memory) is checked.
        #[allow(unsafe_code)]
        let d = unsafe { libdeflate_sys::libdeflate_alloc_decompressor() };
        (!d.is_null()).then_some(Self(d))
    }
}

impl Drop for Decompressor {
    fn drop(&mut self) {
        // SAFETY: allocated by libdeflate_alloc_decompressor, freed once.
        #[allow(unsafe_code)]
        unsafe {
            libdeflate_sys::libdeflate_free_decompressor(self.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // "hello\n" gzipped (gzip -n).
    const HELLO: [u8; 26] = [
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9,
        0xe7, 0x02, 0x00, 0x20, 0x30, 0x3a, 0x36, 0x06, 0x00, 0x00, 0x00,
    ];

    #[test]
    fn one_member_inflates_and_anything_else_declines() {
        let n = gzip_size(&HELLO).unwrap_or(0);
        let mut out = vec![0u8; n];
        assert!(gunzip_into(&HELLO, &mut out));
        assert_eq!(out, b"hello\n");
        let mut two = HELLO.to_vec();
        two.extend_from_slice(&HELLO);
        let mut out = vec![0u8; gzip_size(&two).unwrap_or(0)];
        assert!(!gunzip_into(&two, &mut out));
        let mut corrupt = HELLO;
        corrupt[12] ^= 0xff;
        let mut out = vec![0u8; 6];
        assert!(!gunzip_into(&corrupt, &mut out));
        assert_eq!(gzip_size(&[1, 2]), None);
    }
}
