//! The extension's allocator: mimalloc, so the large arrays each call hands
//! to numpy reuse freed memory instead of faulting in fresh pages
//! (BENCHMARKS.md §4).

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Freed memory stays with mimalloc for 10 s before it goes back to the OS
/// (its default is 1 s): a caller that alternates our calls with a second or
/// more of other work (pandas, in the paired data benchmark) would otherwise
/// fault every page of our buffers in again on each call. An explicit
/// `MIMALLOC_PURGE_DELAY` in the environment wins.
pub fn keep_freed_memory() {
    // `mi_option_purge_delay` of mimalloc.h: the enum keeps its deprecated
    // slots, so the value is stable across versions.
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: mi_option_set only stores a value in mimalloc's option
        // table, and 15 is one of its options.
        #[allow(unsafe_code)]
        unsafe {
            libmimalloc_sys::mi_option_set(PURGE_DELAY, 10_000);
        }
    }
}
