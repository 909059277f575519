//! How a command ends: commands return their errors with `anyhow` context, tagged with
//! the [`Status`] they end in, and [`finish`] is the one place that prints them and picks
//! the exit status. The statuses are documented in the README.

use std::process::ExitCode;

/// Why a command did not succeed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// It ran, but not everything could be read or passed: an input file could not be
    /// read (`scan` judged the others), a fixture failed (`rules test`), the module would
    /// be refused (`rules inspect`), a type is below `--require` (`accuracy`), a feed
    /// could not be updated (`intel update`), an output could not be written.
    Incomplete = 1,
    /// It could not start: no rule module loaded (the rules directory is unreadable or
    /// holds none), or a file it is configured with is unreadable or invalid (a TLS
    /// certificate, a secret file, a fixture, a threat list, a rule project).
    CannotStart = 2,
    /// The findings store failed: it cannot be reached, migrated or written.
    Store = 3,
    /// The command line is wrong: an unknown command or flag, a missing or malformed
    /// value (as sysexits' `EX_USAGE`).
    Usage = 64,
}

impl Status {
    pub fn code(self) -> ExitCode {
        ExitCode::from(self as u8)
    }
}

/// An error with the status it ends the command in.
#[derive(Debug, thiserror::Error)]
#[error("{error:#}")]
struct Tagged {
    status: Status,
    error: anyhow::Error,
}

/// Tags an error with the status it ends the command in.
pub fn fail(status: Status, error: impl Into<anyhow::Error>) -> anyhow::Error {
    Tagged {
        status,
        error: error.into(),
    }
    .into()
}

/// Tags the error of a result with the status it ends the command in.
pub trait OrExit<T> {
    fn or_exit(self, status: Status) -> anyhow::Result<T>;
}

impl<T, E: Into<anyhow::Error>> OrExit<T> for Result<T, E> {
    fn or_exit(self, status: Status) -> anyhow::Result<T> {
        self.map_err(|e| fail(status, e))
    }
}

/// Prints a command's error and picks its exit status (an untagged error is
/// [`Status::Incomplete`]).
pub fn finish(result: anyhow::Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("peregrine: {error:#}");
            error
                .downcast_ref::<Tagged>()
                .map_or(Status::Incomplete, |t| t.status)
                .code()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn the_status_survives_context_and_the_message_reads_as_one_line() {
        let error = Err::<(), _>(std::io::Error::other("refused"))
            .or_exit(Status::Store)
            .context("findings not stored")
            .unwrap_err();
        assert_eq!(format!("{error:#}"), "findings not stored: refused");
        assert_eq!(
            error.downcast_ref::<Tagged>().map(|t| t.status),
            Some(Status::Store)
        );
        assert_eq!(
            finish(Err(anyhow::anyhow!("plain"))),
            Status::Incomplete.code()
        );
    }
}
