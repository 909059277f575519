//! `peregrine intel update`: download threat feeds into the intel directory.
//!
//! Every feed is downloaded and checked (it must hold at least one address) before any
//! file changes; each file is then written to a temporary name and renamed into place, so
//! a reader, or a failed update, never sees a half-written list. When a download fails,
//! nothing is replaced and the error names the feed.

use std::path::PathBuf;
use std::time::Duration;

use peregrine_rules_sdk::runtime::ThreatCategory;

use super::{BuiltinList, Indicators, IntelDir, MALICIOUS, TOR_EXIT_NODES, load_list_file};

/// The Tor Project's list of exit-node addresses, one per line.
pub const TOR_BULK_EXIT_LIST: &str = "https://check.torproject.org/torbulkexitlist";

/// One feed: where to fetch it and which file of the intel directory it becomes.
#[derive(Clone, Debug)]
pub struct Feed {
    pub url: String,
    pub target: FeedTarget,
}

/// The list of the intel directory a feed replaces.
#[derive(Clone, Debug)]
pub enum FeedTarget {
    Builtin(BuiltinList),
    /// A list of a category folder: its category, name and the extension of its format.
    List {
        category: ThreatCategory,
        name: String,
        ext: String,
    },
}

impl FeedTarget {
    fn path_in(&self, dir: &IntelDir) -> PathBuf {
        match self {
            FeedTarget::Builtin(list) => dir.builtin(list),
            FeedTarget::List {
                category,
                name,
                ext,
            } => dir.list(*category, name, ext),
        }
    }
}

impl Feed {
    pub fn tor(url: &str) -> Self {
        Feed {
            url: url.to_string(),
            target: FeedTarget::Builtin(TOR_EXIT_NODES),
        }
    }

    pub fn malicious(url: &str) -> Self {
        Feed {
            url: url.to_string(),
            target: FeedTarget::Builtin(MALICIOUS),
        }
    }

    /// A list named `[CATEGORY/]NAME` (category `custom` when none is given): `NAME`
    /// becomes the list name; the URL's extension (`.csv`, `.json`) picks the format,
    /// plain text otherwise.
    pub fn list(spec: &str, url: &str) -> Result<Self, FeedError> {
        let (category, name) = match spec.split_once('/') {
            Some((category, name)) => (
                ThreatCategory::from_name(category)
                    .ok_or_else(|| FeedError::BadCategory(category.to_string()))?,
                name,
            ),
            None => (ThreatCategory::Custom, spec),
        };
        if name.is_empty()
            || name.starts_with('.')
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
            target: FeedTarget::List {
                category,
                name: name.to_string(),
                ext,
            },
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("cannot download {url}: {reason} (is this machine offline, or the address wrong?)")]
    Download { url: String, reason: String },
    #[error("{url} holds no addresses, domains or hashes; the current list is kept")]
    Empty { url: String },
    #[error("a feed name may hold letters, digits, '-', '_' and '.': {0:?}")]
    BadName(String),
    #[error("no list category {0:?}; the categories are {categories}", categories = category_names())]
    BadCategory(String),
    #[error("{path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn category_names() -> String {
    ThreatCategory::ALL.map(|c| c.name()).join(", ")
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

/// A feed downloaded and checked, waiting to replace its list.
struct Staged {
    staged: PathBuf,
    updated: Updated,
}

/// Downloads every feed, then replaces the files: all or nothing.
pub fn update(
    dir: &IntelDir,
    feeds: &[Feed],
    timeout: Duration,
) -> Result<Vec<Updated>, FeedError> {
    let intel_dir = dir.root();
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
        let dest = feed.target.path_in(dir);
        let staged = staging.path().join(dest.file_name().unwrap_or_default());
        std::fs::write(&staged, &body).map_err(|source| FeedError::Write {
            path: staged.clone(),
            source,
        })?;
        let mut warnings = Vec::new();
        let (set, entries): (Indicators, usize) =
            load_list_file(&staged, &mut warnings).map_err(|e| FeedError::Write {
                path: staged.clone(),
                source: e.source,
            })?;
        if entries == 0 || set.is_empty() {
            return Err(FeedError::Empty {
                url: feed.url.clone(),
            });
        }
        ready.push(Staged {
            staged,
            updated: Updated {
                file: dest,
                entries,
                warnings: warnings.len(),
            },
        });
    }
    let mut updated = Vec::new();
    for Staged {
        staged,
        updated: result,
    } in ready
    {
        let dest = result.file.clone();
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
