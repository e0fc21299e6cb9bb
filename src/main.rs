fn main() -> std::process::ExitCode {
    customer_export::cli::main()
}
