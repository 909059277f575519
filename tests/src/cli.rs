//! Running the `peregrine` command line and reading what it said.

use std::process::{Command, Output};

/// Runs `binary` (the test's `CARGO_BIN_EXE_peregrine-under-test`) with `args`.
pub fn run(binary: &str, args: &[&str]) -> Output {
    Command::new(binary).args(args).output().unwrap()
}

/// Standard output then standard error, as text.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
