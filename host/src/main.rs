fn main() -> std::process::ExitCode {
    peregrine::cli::main()
}
