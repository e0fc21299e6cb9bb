fn main() -> std::process::ExitCode {
    customer_export::allocator::tune();
    customer_export::cli::main()
}
