//! The intel directory: the one place its layout is spelled out. The server loads it,
//! the API writes lists into it, feeds download into it, and `rules test` writes a
//! fixture's lists into one.
//!
//! - `malicious.txt`: known malicious addresses;
//! - `tor-exit-nodes.txt`: Tor exit nodes;
//! - `trusted.txt`: addresses that never produce IP findings;
//! - `custom/<list-name>.<ext>`: user threat lists, named by their file stem.

use std::path::{Path, PathBuf};

use peregrine_rules_sdk::ThreatListKind;

use super::formats::load_list_file;
use super::{IntelError, IntelWarning, ThreatList, ThreatLists};

/// The list names findings carry for the two built-in lists.
pub const MALICIOUS_LIST_NAME: &str = "Peregrine known malicious IPs";
pub const TOR_LIST_NAME: &str = "Tor exit nodes";

/// A built-in list of the directory: its file, its kind and the name findings carry.
#[derive(Clone, Copy, Debug)]
pub struct BuiltinList {
    pub file: &'static str,
    pub kind: ThreatListKind,
    pub name: &'static str,
}

/// The built-in lists, in the order they are loaded and listed.
pub const BUILTIN_LISTS: [BuiltinList; 2] = [
    BuiltinList {
        file: "malicious.txt",
        kind: ThreatListKind::Malicious,
        name: MALICIOUS_LIST_NAME,
    },
    BuiltinList {
        file: "tor-exit-nodes.txt",
        kind: ThreatListKind::TorExitNode,
        name: TOR_LIST_NAME,
    },
];

const TRUSTED_FILE: &str = "trusted.txt";
const CUSTOM_DIR: &str = "custom";

/// The extensions a custom list file may have (its format).
const CUSTOM_EXTENSIONS: [&str; 4] = ["txt", "csv", "json", "stix"];

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
    pub fn builtin(&self, kind: ThreatListKind) -> PathBuf {
        let list = BUILTIN_LISTS
            .iter()
            .find(|l| l.kind == kind)
            .unwrap_or(&BUILTIN_LISTS[0]);
        self.root.join(list.file)
    }

    pub fn trusted(&self) -> PathBuf {
        self.root.join(TRUSTED_FILE)
    }

    /// The folder of custom lists.
    pub fn custom_dir(&self) -> PathBuf {
        self.root.join(CUSTOM_DIR)
    }

    /// Where the custom list `name` in the format of extension `ext` lives.
    pub fn custom(&self, name: &str, ext: &str) -> PathBuf {
        self.custom_dir().join(format!("{name}.{ext}"))
    }

    /// Removes the custom list `name` in every format but `keep`; how many files went.
    pub fn remove_custom(&self, name: &str, keep: Option<&str>) -> usize {
        CUSTOM_EXTENSIONS
            .iter()
            .filter(|ext| Some(**ext) != keep)
            .filter(|ext| std::fs::remove_file(self.custom(name, ext)).is_ok())
            .count()
    }

    /// The custom list files, sorted by path.
    pub fn custom_lists(&self) -> std::io::Result<Vec<PathBuf>> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(self.custom_dir())?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        paths.sort();
        Ok(paths)
    }

    /// The name of a custom list file: its stem.
    pub fn custom_name(path: &Path) -> String {
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
            let path = self.root.join(list.file);
            if path.is_file() {
                let (set, entries) = load_list_file(&path, &mut warnings)?;
                intel.lists.push(ThreatList {
                    name: list.name.into(),
                    kind: list.kind,
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
        if self.custom_dir().is_dir() {
            let paths = self.custom_lists().map_err(|source| IntelError {
                path: self.custom_dir(),
                source,
            })?;
            for path in paths {
                let (set, entries) = load_list_file(&path, &mut warnings)?;
                intel.lists.push(ThreatList {
                    name: Self::custom_name(&path),
                    kind: ThreatListKind::Custom,
                    path,
                    entries,
                    set,
                });
            }
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
