fn main() -> std::process::ExitCode {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    tune_the_allocator();
    customer_export::cli::main()
}

/// glibc's allocator, told to keep little: two arenas (not eight a core: the reading workers,
/// the writers and a C3 parser would each fragment their own), buffers of 32 KiB and more (page
/// bodies, Parquet pages, upload parts) mapped and unmapped on their own, and free memory at the
/// top of the heap handed back past 64 KiB. Measured against mimalloc (bench/README.md, issue 17):
/// the same CPU, and less memory everywhere — five sources × 200k 63 against 72 MB, C3 alone at
/// 500k 46 against 116–131 MB. An environment variable that sets one of these
/// (`MALLOC_ARENA_MAX`, `MALLOC_MMAP_THRESHOLD_`, `MALLOC_TRIM_THRESHOLD_`) still decides it.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_the_allocator() {
    let settings = [
        ("MALLOC_ARENA_MAX", libc::M_ARENA_MAX, 2),
        ("MALLOC_MMAP_THRESHOLD_", libc::M_MMAP_THRESHOLD, 32 * 1024),
        ("MALLOC_TRIM_THRESHOLD_", libc::M_TRIM_THRESHOLD, 64 * 1024),
    ];
    for (variable, parameter, value) in settings {
        if std::env::var_os(variable).is_none() {
            // SAFETY: sets one of glibc's documented malloc parameters, before any thread starts;
            // a refused value leaves the default in place.
            unsafe { libc::mallopt(parameter, value) };
        }
    }
}
