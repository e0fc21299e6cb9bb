//! What the process asks of its memory allocator (glibc's `malloc` on Linux; elsewhere, nothing):
//! to keep little at start ([`tune`]), and to hand back the free memory that a large piece of
//! work left behind ([`hand_back_free_memory`]). Measured in bench/README.md (issue 17).

/// glibc's allocator, told to keep little: two arenas (not eight a core: the reading workers,
/// the writers and a C3 parser would each fragment their own), buffers of 32 KiB and more (page
/// bodies, Parquet pages, upload parts) mapped and unmapped on their own, and free memory at the
/// top of the heap handed back past 64 KiB. Measured against mimalloc: the same CPU, and less
/// memory everywhere — five sources × 200k 63 against 72 MB, C3 alone at 500k 46 against
/// 116–131 MB. An environment variable that sets one of these (`MALLOC_ARENA_MAX`,
/// `MALLOC_MMAP_THRESHOLD_`, `MALLOC_TRIM_THRESHOLD_`) still decides it.
///
/// Call it before any thread starts (`cli::main` does, once the arguments are parsed).
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let settings = [
            ("MALLOC_ARENA_MAX", libc::M_ARENA_MAX, 2),
            ("MALLOC_MMAP_THRESHOLD_", libc::M_MMAP_THRESHOLD, 32 * 1024),
            ("MALLOC_TRIM_THRESHOLD_", libc::M_TRIM_THRESHOLD, 64 * 1024),
        ];
        for (variable, parameter, value) in settings {
            if std::env::var_os(variable).is_none() {
                // SAFETY: sets one of glibc's documented malloc parameters, before any thread
                // starts; a refused value leaves the default in place.
                unsafe { libc::mallopt(parameter, value) };
            }
        }
    }
}

/// Hands the free pages inside the heap back to the system, after work that freed many small
/// blocks at once (a Parquet row group written out). glibc gives back only what is free at the
/// top of the heap by itself; the holes a row group's buffers leave in the middle stay resident,
/// and a long export's memory creeps up with them (1M records: 47.8 → 44.4 MB peak, the same CPU).
/// It walks the free lists of the two arenas: cheap next to the row group it follows.
pub fn hand_back_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: malloc_trim only releases free memory; it is safe to call from any thread.
        unsafe { libc::malloc_trim(0) };
    }
}
