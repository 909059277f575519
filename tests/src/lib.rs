//! Helpers for the end-to-end tests, one module per concern: the rule modules ([`rules`]),
//! scanning with the library ([`scan`]), test databases ([`db`]), `peregrine serve` as a
//! process ([`live`]), a PostgreSQL of a test's own ([`private_postgres`]) and the command
//! line ([`cli`]).

use std::path::PathBuf;

pub mod cli;
pub mod db;
pub mod live;
pub mod private_postgres;
pub mod rules;
pub mod scan;

pub use rules::{fixture_rule, rule_fixtures, rule_set, rules_dir, shipped_rules_dir};
pub use scan::{Scanned, scan, scan_with, summarize, test_options};

/// A path under the workspace root.
pub fn workspace_path(relative: &str) -> PathBuf {
    xtask::workspace_root().join(relative)
}

/// Every file matching `dir/*.<ext>`, sorted.
pub fn files_in(dir: &str, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(workspace_path(dir))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
}
