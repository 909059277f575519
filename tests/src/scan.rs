//! Scanning with the library, as `peregrine scan` does, and summaries of what it found.

use std::path::{Path, PathBuf};

use peregrine::scan::{self, Notice, ScanOptions, ScanReport};

use crate::rules::build_root;
use crate::workspace_path;

/// What a scan reported, with the notices it gave along the way.
pub struct Scanned {
    pub report: ScanReport,
    pub notices: Vec<String>,
}

/// Scans `files` with the modules in `rules`.
pub fn scan_with(options: ScanOptions, files: &[PathBuf]) -> Scanned {
    let mut notices = Vec::new();
    let mut notify = |n: Notice<'_>| {
        notices.push(match n {
            Notice::Malformed { location, reason } => format!("{location}: {reason}"),
            Notice::SensorDropped { location, count } => format!("{location}: dropped {count}"),
            Notice::RuleNotLoaded(e) => format!("rule not loaded: {e}"),
            Notice::IntelWarning(w) => format!("intel: {w}"),
            Notice::FileFailed(e) => format!("file failed: {e}"),
        })
    };
    let report =
        scan::run(&options, files, &mut notify).unwrap_or_else(|e| panic!("scan failed: {e}"));
    Scanned { report, notices }
}

/// Scans with the modules in `rules`, the fixture threat lists (`tests/fixtures/intel`,
/// the same addresses `peregrine_rules_sdk::testing` marks) and defaults otherwise.
pub fn scan(rules: &Path, files: &[PathBuf]) -> Scanned {
    let mut options = test_options(rules);
    options.intel_dir = Some(workspace_path("tests/fixtures/intel"));
    scan_with(options, files)
}

/// Scan options for tests: a test cluster name and a compile cache shared by the tests.
pub fn test_options(rules: &Path) -> ScanOptions {
    let mut options = ScanOptions::new(rules);
    options.cluster = "test-cluster".into();
    options.engine.cache_dir = Some(build_root().join("compile-cache"));
    options
}

/// `(type, username, workload "type/namespace/name" or "-", count)` of each finding, sorted.
pub fn summarize(report: &ScanReport) -> Vec<(String, String, String, u64)> {
    let mut rows: Vec<_> = report
        .findings
        .iter()
        .map(|f| {
            let workload = f
                .resource
                .kubernetes_details
                .kubernetes_workload_details
                .as_ref()
                .map(|w| {
                    format!(
                        "{}/{}/{}",
                        w.workload_type,
                        w.namespace.as_deref().unwrap_or(""),
                        w.name.as_deref().unwrap_or("")
                    )
                })
                .unwrap_or_else(|| "-".into());
            (
                f.finding_type.clone(),
                f.resource
                    .kubernetes_details
                    .kubernetes_user_details
                    .as_ref()
                    .map_or("-", |u| u.username.as_str())
                    .to_string(),
                workload,
                f.service.count,
            )
        })
        .collect();
    rows.sort();
    rows
}
