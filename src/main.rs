// Reading turns every page into many short-lived strings and rows on the reading threads, freed
// on the writer's; mimalloc does that markedly faster than the system allocator (see
// bench/README.md). The `system-alloc` feature builds without it, for heap profilers
// (valgrind massif, heaptrack) that only see the system allocator.
#[cfg(not(feature = "system-alloc"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    #[cfg(not(feature = "system-alloc"))]
    return_freed_memory_at_once();
    customer_export::cli::main()
}

/// mimalloc gives freed memory back to the system 10 ms after it is freed; at once (a purge delay
/// of 0), a 1M-customer export peaks 16 MB lower for a few percent of time (bench/README.md), and
/// the upload to object storage fits in the 64 MB bound beside it. `MIMALLOC_PURGE_DELAY`, when
/// set, still decides.
#[cfg(not(feature = "system-alloc"))]
fn return_freed_memory_at_once() {
    // `mi_option_purge_delay` in mimalloc v2's `mi_option_e` (mimalloc.h): the option after
    // `mi_option_eager_commit_delay`; libmimalloc-sys names the one but not the other.
    const PURGE_DELAY: libmimalloc_sys::mi_option_t =
        libmimalloc_sys::mi_option_eager_commit_delay + 1;
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one integer option of the allocator; any value is valid.
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 0) }
    }
}
