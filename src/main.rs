// The export allocates and frees a small JSON tree per record; mimalloc does that markedly faster
// than the system allocator (see bench/README.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    customer_export::cli::main()
}
