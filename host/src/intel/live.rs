//! The threat lists a running server uses, swapped whole when the directory changes.

use std::path::PathBuf;

use super::{IntelDir, IntelError, ThreatLists};

/// The threat lists a running Peregrine uses, reloaded when the intel directory changes.
/// A reload that fails keeps the lists in use.
pub struct LiveIntel {
    dir: Option<IntelDir>,
    current: std::sync::RwLock<std::sync::Arc<ThreatLists>>,
}

impl LiveIntel {
    /// Lists that never change.
    pub fn fixed(intel: ThreatLists) -> Self {
        LiveIntel {
            dir: None,
            current: std::sync::RwLock::new(std::sync::Arc::new(intel)),
        }
    }

    /// The lists of `dir`, which need not exist yet.
    pub fn watching(dir: PathBuf) -> Self {
        let live = LiveIntel {
            dir: Some(IntelDir::new(dir)),
            current: Default::default(),
        };
        if let Err(e) = live.reload() {
            tracing::warn!("threat lists not loaded: {e}");
        }
        live
    }

    pub fn current(&self) -> std::sync::Arc<ThreatLists> {
        std::sync::Arc::clone(&self.current.read().unwrap())
    }

    /// Reads the directory again and swaps the new lists in; a missing directory means no
    /// lists. Malformed entries are logged and skipped.
    pub fn reload(&self) -> Result<(), IntelError> {
        let Some(dir) = &self.dir else { return Ok(()) };
        let intel = if dir.root().is_dir() {
            let (intel, warnings) = dir.load()?;
            for w in warnings {
                tracing::warn!("threat list entry skipped: {w}");
            }
            intel
        } else {
            ThreatLists::default()
        };
        tracing::info!(
            lists = intel.lists.len(),
            dir = %dir.root().display(),
            "threat lists loaded"
        );
        *self.current.write().unwrap() = std::sync::Arc::new(intel);
        Ok(())
    }
}
