//! Watching a directory for changes (the rules directory, the intel directory).
//!
//! File-system notifications (notify) wake the watcher; it then waits until the directory
//! has been quiet for the debounce interval, so a file being copied in is seen once, whole.
//! A periodic rescan backs the notifications up (they are not delivered on every file
//! system, and a directory that does not exist yet cannot be watched). Either way the
//! callback runs only when the directory's fingerprint (names, sizes, modification times)
//! changed.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use notify::{RecursiveMode, Watcher};

#[derive(Clone, Debug)]
pub struct WatchConfig {
    /// Quiet time after the last change before acting on it.
    pub debounce: Duration,
    /// How often to look even without a notification.
    pub rescan: Duration,
}

impl Default for WatchConfig {
    fn default() -> Self {
        WatchConfig {
            debounce: Duration::from_millis(300),
            rescan: Duration::from_secs(10),
        }
    }
}

/// Names, sizes and modification times of the files under `dir`, sorted.
pub fn fingerprint(dir: &Path) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match std::fs::metadata(&path) {
                Ok(meta) if meta.is_dir() => pending.push(path),
                Ok(meta) => found.push((path, meta.len(), meta.modified().ok())),
                Err(_) => {}
            }
        }
    }
    found.sort();
    found
}

/// Calls `on_change` whenever `dir` (and its subdirectories) changed, until `stop`.
pub fn watch(
    name: &str,
    dir: PathBuf,
    config: WatchConfig,
    stop: Arc<AtomicBool>,
    on_change: impl Fn() + Send + 'static,
) -> JoinHandle<()> {
    let (tx, rx) = mpsc::channel::<()>();
    let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.is_ok() {
            let _ = tx.send(());
        }
    })
    .and_then(|mut w| w.watch(&dir, RecursiveMode::Recursive).map(|_| w));
    let watcher = match watcher {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::info!(dir = %dir.display(), "no change notifications ({e}); rescanning every {:?}", config.rescan);
            None
        }
    };
    std::thread::Builder::new()
        .name(format!("watch-{name}"))
        .spawn(move || {
            let _watcher = watcher;
            let mut seen = fingerprint(&dir);
            let mut last_scan = Instant::now();
            let tick = Duration::from_millis(100);
            while !stop.load(Ordering::Relaxed) {
                match rx.recv_timeout(tick) {
                    Ok(()) => {
                        // Wait for quiet.
                        let mut quiet_since = Instant::now();
                        while quiet_since.elapsed() < config.debounce
                            && !stop.load(Ordering::Relaxed)
                        {
                            if rx.recv_timeout(tick).is_ok() {
                                quiet_since = Instant::now();
                            }
                        }
                    }
                    Err(RecvTimeoutError::Timeout) if last_scan.elapsed() >= config.rescan => {}
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => {
                        std::thread::sleep(tick);
                        if last_scan.elapsed() < config.rescan {
                            continue;
                        }
                    }
                }
                last_scan = Instant::now();
                let now = fingerprint(&dir);
                if now != seen {
                    seen = now;
                    on_change();
                }
            }
        })
        .expect("the watcher thread starts")
}
