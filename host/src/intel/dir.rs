//! The intel directory: the one place its layout is spelled out. The server loads it,
//! the API writes lists into it, feeds download into it, and `rules test` writes a
//! fixture's lists into one.
//!
//! - `malicious.txt`: known malicious indicators;
//! - `tor-exit-nodes.txt`: Tor exit nodes;
//! - `trusted.txt`: indicators that never produce findings;
//! - `<category>/<list-name>.<ext>`: the lists of a category, named by their file stem:
//!   `custom/` for the user's own threat lists, and one folder per runtime category
//!   (`malicious/`, `tor-exit-node/`, `tor-relay/`, `tor-guard/`, `crypto-mining/`,
//!   `command-and-control/`, `black-hole/`, `drop-point/`, `phishing/`, `dga/`,
//!   `drive-by-source/`, `abused/`, `crypto-reputation/`, `suspicious/`).

use std::path::{Path, PathBuf};

use peregrine_rules_sdk::runtime::ThreatCategory;

use super::formats::load_list_file;
use super::{IntelError, IntelWarning, ThreatList, ThreatLists};

/// The list names findings carry for the two built-in lists.
pub const MALICIOUS_LIST_NAME: &str = "Peregrine known malicious IPs";
pub const TOR_LIST_NAME: &str = "Tor exit nodes";

/// A built-in list of the directory: its file, its category and the name findings carry.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BuiltinList {
    pub file: &'static str,
    pub category: ThreatCategory,
    pub name: &'static str,
}

pub const MALICIOUS: BuiltinList = BuiltinList {
    file: "malicious.txt",
    category: ThreatCategory::Malicious,
    name: MALICIOUS_LIST_NAME,
};

pub const TOR_EXIT_NODES: BuiltinList = BuiltinList {
    file: "tor-exit-nodes.txt",
    category: ThreatCategory::TorExitNode,
    name: TOR_LIST_NAME,
};

/// The built-in lists, in the order they are loaded and listed.
pub const BUILTIN_LISTS: [BuiltinList; 2] = [MALICIOUS, TOR_EXIT_NODES];

const TRUSTED_FILE: &str = "trusted.txt";

/// The extensions a list file in a category folder may have (its format).
const LIST_EXTENSIONS: [&str; 4] = ["txt", "csv", "json", "stix"];

/// An intel directory (which need not exist yet).
#[derive(Clone, Debug)]
pub struct IntelDir {
    root: PathBuf,
}

impl IntelDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        IntelDir { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where a built-in list lives.
    pub fn builtin(&self, list: &BuiltinList) -> PathBuf {
        self.root.join(list.file)
    }

    pub fn trusted(&self) -> PathBuf {
        self.root.join(TRUSTED_FILE)
    }

    /// The folder of a category's lists (`custom/` for the user's own).
    pub fn category_dir(&self, category: ThreatCategory) -> PathBuf {
        self.root.join(category.name())
    }

    /// Where the list `name` of `category` in the format of extension `ext` lives.
    pub fn list(&self, category: ThreatCategory, name: &str, ext: &str) -> PathBuf {
        self.category_dir(category).join(format!("{name}.{ext}"))
    }

    /// Where the custom list `name` in the format of extension `ext` lives.
    pub fn custom(&self, name: &str, ext: &str) -> PathBuf {
        self.list(ThreatCategory::Custom, name, ext)
    }

    /// Removes the list `name` from every category and format but `keep`; how many files
    /// went. A name is one list, whatever its category or format.
    pub fn remove_list(&self, name: &str, keep: Option<&Path>) -> usize {
        ThreatCategory::ALL
            .iter()
            .flat_map(|c| LIST_EXTENSIONS.iter().map(|ext| self.list(*c, name, ext)))
            .filter(|path| Some(path.as_path()) != keep)
            .filter(|path| std::fs::remove_file(path).is_ok())
            .count()
    }

    /// The list files of every category folder, by category and then path.
    pub fn category_lists(&self) -> std::io::Result<Vec<(ThreatCategory, PathBuf)>> {
        let mut found = Vec::new();
        for category in ThreatCategory::ALL {
            let dir = self.category_dir(category);
            if !dir.is_dir() {
                continue;
            }
            let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && !Self::is_temporary(p))
                .collect();
            paths.sort();
            found.extend(paths.into_iter().map(|p| (category, p)));
        }
        Ok(found)
    }

    /// Files being written (`*.upload`, `*.download`, hidden ones) are not lists yet.
    fn is_temporary(path: &Path) -> bool {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default();
        name.starts_with('.') || name.ends_with(".upload") || name.ends_with(".download")
    }

    /// The name of a list file: its stem.
    pub fn list_name(path: &Path) -> String {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// Loads every list; missing files are simply absent lists.
    pub fn load(&self) -> Result<(ThreatLists, Vec<IntelWarning>), IntelError> {
        if !self.root.is_dir() {
            return Err(IntelError {
                path: self.root.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "intel directory not found",
                ),
            });
        }
        let mut warnings = Vec::new();
        let mut intel = ThreatLists::default();
        for list in BUILTIN_LISTS {
            let path = self.builtin(&list);
            if path.is_file() {
                let (set, entries) = load_list_file(&path, &mut warnings)?;
                intel.lists.push(ThreatList {
                    name: list.name.into(),
                    category: list.category,
                    path,
                    entries,
                    set,
                });
            }
        }
        let trusted = self.trusted();
        if trusted.is_file() {
            intel.trusted = load_list_file(&trusted, &mut warnings)?.0;
        }
        let lists = self.category_lists().map_err(|source| IntelError {
            path: self.root.clone(),
            source,
        })?;
        for (category, path) in lists {
            let (set, entries) = load_list_file(&path, &mut warnings)?;
            intel.lists.push(ThreatList {
                name: Self::list_name(&path),
                category,
                path,
                entries,
                set,
            });
        }
        Ok((intel, warnings))
    }
}

impl ThreatLists {
    /// Loads the lists of the intel directory `dir`.
    pub fn load_dir(dir: &Path) -> Result<(ThreatLists, Vec<IntelWarning>), IntelError> {
        IntelDir::new(dir).load()
    }
}
