// Reading turns every page into many short-lived strings and rows on the reading threads, freed
// on the writer's; mimalloc does that markedly faster than the system allocator (see
// bench/README.md). The `system-alloc` feature builds without it, for heap profilers
// (valgrind massif, heaptrack) that only see the system allocator.
#[cfg(not(feature = "system-alloc"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    customer_export::cli::main()
}
