//! `peregrine intel update`: download threat feeds into the intel directory.
//!
//! Every feed is downloaded and checked (it must hold at least one address) before any
//! file changes; each file is then written to a temporary name and renamed into place, so
//! a reader, or a failed update, never sees a half-written list. When a download fails,
//! nothing is replaced and the error names the feed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::intel::{CUSTOM_DIR, IpSet, MALICIOUS_FILE, TOR_FILE, load_list_file};

/// The Tor Project's list of exit-node addresses, one per line.
pub const TOR_BULK_EXIT_LIST: &str = "https://check.torproject.org/torbulkexitlist";

/// One feed: where to fetch it and which file of the intel directory it becomes.
#[derive(Clone, Debug)]
pub struct Feed {
    pub url: String,
    /// Relative to the intel directory, e.g. `tor-exit-nodes.txt` or `custom/abuse.csv`.
    pub file: PathBuf,
}

impl Feed {
    pub fn tor(url: &str) -> Self {
        Feed {
            url: url.to_string(),
            file: TOR_FILE.into(),
        }
    }

    pub fn malicious(url: &str) -> Self {
        Feed {
            url: url.to_string(),
            file: MALICIOUS_FILE.into(),
        }
    }

    /// A custom list: `name` becomes the list name; the URL's extension (`.csv`, `.json`)
    /// picks the format, plain text otherwise.
    pub fn custom(name: &str, url: &str) -> Result<Self, FeedError> {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(FeedError::BadName(name.to_string()));
        }
        let path = url.split(['?', '#']).next().unwrap_or("");
        let ext = match path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()) {
            Some(e) if e == "csv" || e == "json" => e,
            _ => "txt".into(),
        };
        Ok(Feed {
            url: url.to_string(),
            file: Path::new(CUSTOM_DIR).join(format!("{name}.{ext}")),
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("cannot download {url}: {reason} (is this machine offline, or the address wrong?)")]
    Download { url: String, reason: String },
    #[error("{url} holds no IP addresses; the current list is kept")]
    Empty { url: String },
    #[error("a custom feed name may hold letters, digits, '-', '_' and '.': {0:?}")]
    BadName(String),
    #[error("{path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What an update wrote.
#[derive(Debug)]
pub struct Updated {
    pub file: PathBuf,
    pub entries: usize,
    pub warnings: usize,
}

fn download(agent: &ureq::Agent, url: &str) -> Result<Vec<u8>, FeedError> {
    let error = |reason: String| FeedError::Download {
        url: url.to_string(),
        reason,
    };
    let mut response = agent.get(url).call().map_err(|e| error(e.to_string()))?;
    response
        .body_mut()
        .with_config()
        .limit(256 << 20)
        .read_to_vec()
        .map_err(|e| error(e.to_string()))
}

/// Downloads every feed, then replaces the files: all or nothing.
pub fn update(
    intel_dir: &Path,
    feeds: &[Feed],
    timeout: Duration,
) -> Result<Vec<Updated>, FeedError> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .build()
        .into();
    let staging = tempfile::Builder::new()
        .prefix(".intel-update")
        .tempdir_in(intel_dir)
        .map_err(|source| FeedError::Write {
            path: intel_dir.into(),
            source,
        })?;
    let mut ready = Vec::new();
    for feed in feeds {
        let body = download(&agent, &feed.url)?;
        let staged = staging
            .path()
            .join(feed.file.file_name().unwrap_or_default());
        std::fs::write(&staged, &body).map_err(|source| FeedError::Write {
            path: staged.clone(),
            source,
        })?;
        let mut warnings = Vec::new();
        let (set, entries): (IpSet, usize) =
            load_list_file(&staged, &mut warnings).map_err(|e| FeedError::Write {
                path: staged.clone(),
                source: e.source,
            })?;
        if entries == 0 || set.is_empty() {
            return Err(FeedError::Empty {
                url: feed.url.clone(),
            });
        }
        ready.push((
            feed,
            staged,
            Updated {
                file: intel_dir.join(&feed.file),
                entries,
                warnings: warnings.len(),
            },
        ));
    }
    let mut updated = Vec::new();
    for (feed, staged, result) in ready {
        let dest = intel_dir.join(&feed.file);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|source| FeedError::Write {
                path: parent.into(),
                source,
            })?;
        }
        // Stage next to the destination so the rename stays on one file system.
        let tmp = dest.with_extension("download");
        std::fs::copy(&staged, &tmp).map_err(|source| FeedError::Write {
            path: tmp.clone(),
            source,
        })?;
        std::fs::rename(&tmp, &dest).map_err(|source| FeedError::Write {
            path: dest.clone(),
            source,
        })?;
        updated.push(result);
    }
    Ok(updated)
}
