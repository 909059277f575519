// Events are allocated by the reading thread and freed by workers; mimalloc handles that
// cross-thread churn far better than the system allocator (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    peregrine::cli::main()
}
