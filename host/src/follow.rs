//! Following audit log files (kube-apiserver's log backend) as they grow.
//!
//! Each batch of lines goes to the pipeline with the byte position after its last line;
//! the store commits that position in the same transaction as the batch's findings. On
//! restart a file resumes exactly there: no event skipped, none counted twice.
//!
//! A file is known by its device and inode as well as its path, so rotation is followed:
//! when the path names a new file, the old one is read to its end first, then the new one
//! from its start. A checkpoint whose file was rotated away while Peregrine was down is
//! found again among the files beside it. A file that shrinks was truncated and is read
//! again from its start.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use peregrine_rules_sdk::normalize::Normalizer;

use crate::ingest::{self, Item, Location};
use crate::pipeline::{Ack, Batch, Pipeline};
use crate::ruleset::RuleSet;
use crate::store::{Checkpoint, Store};

#[derive(Clone, Debug)]
pub struct FollowConfig {
    pub path: PathBuf,
    /// Cluster name for events that do not carry one.
    pub cluster: String,
    /// Stop at the end of the file instead of waiting for more (`--replay`).
    pub replay: bool,
    pub batch_size: usize,
    /// Batches submitted and not yet committed, at most.
    pub in_flight: usize,
    /// How often to look for new lines at the end of the file.
    pub poll: Duration,
}

impl FollowConfig {
    pub fn new(path: PathBuf, cluster: &str, replay: bool) -> Self {
        FollowConfig {
            path,
            cluster: cluster.into(),
            replay,
            batch_size: 1000,
            in_flight: 4,
            poll: Duration::from_millis(200),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot read the checkpoint of {path}: {source}")]
    Checkpoint {
        path: String,
        source: crate::store::StoreError,
    },
    #[error("{0}: gzipped files cannot be followed; scan them with `peregrine scan`")]
    Compressed(String),
}

/// What a follower needs from the running service.
pub struct Services<'a> {
    pub pipeline: &'a Pipeline,
    pub rules: &'a RuleSet,
    pub store: &'a Store,
    pub runtime: &'a tokio::runtime::Handle,
    pub stop: &'a AtomicBool,
}

/// An open file being read.
struct Reading {
    reader: BufReader<File>,
    id: String,
    position: u64,
    lines: u64,
    label: Arc<str>,
}

fn file_id(meta: &std::fs::Metadata) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        format!("{}:{}", meta.dev(), meta.ino())
    }
    #[cfg(not(unix))]
    {
        format!("created:{:?}", meta.created().ok())
    }
}

fn open(path: &Path, position: u64) -> std::io::Result<Reading> {
    let mut file = File::open(path)?;
    let id = file_id(&file.metadata()?);
    file.seek(SeekFrom::Start(position))?;
    let label = if position == 0 {
        path.display().to_string()
    } else {
        format!("{} (from byte {position})", path.display())
    };
    Ok(Reading {
        reader: BufReader::with_capacity(256 * 1024, file),
        id,
        position,
        lines: 0,
        label: Arc::from(label),
    })
}

/// The file beside `path` whose identity is `id`, if any: where a rotated file went.
fn find_rotated(path: &Path, id: &str) -> Option<PathBuf> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file() && file_id(&m) == id))
}

/// Follows one file until `stop` (or its end, for a replay).
pub fn follow(config: &FollowConfig, services: &Services<'_>) -> Result<(), FollowError> {
    let source = std::path::absolute(&config.path)
        .unwrap_or_else(|_| config.path.clone())
        .display()
        .to_string();
    let io_error = |source| FollowError::Io {
        path: config.path.display().to_string(),
        source,
    };
    let checkpoint = services
        .runtime
        .block_on(services.store.checkpoint(&source))
        .map_err(|e| FollowError::Checkpoint {
            path: source.clone(),
            source: e,
        })?;

    // Where to start: the checkpointed file (wherever rotation put it), then the path.
    let mut queue: VecDeque<(PathBuf, u64)> = VecDeque::new();
    let current = std::fs::metadata(&config.path).ok();
    match checkpoint {
        Some(c) if current.as_ref().is_some_and(|m| file_id(m) == c.file_id) => {
            let len = current.map_or(0, |m| m.len());
            if len < c.position {
                tracing::warn!(path = %config.path.display(), "file is shorter than its checkpoint: truncated; reading it from the start");
                queue.push_back((config.path.clone(), 0));
            } else {
                queue.push_back((config.path.clone(), c.position));
            }
        }
        Some(c) => {
            match find_rotated(&config.path, &c.file_id) {
                Some(rotated) => {
                    tracing::info!(path = %config.path.display(), rotated = %rotated.display(), "finishing the rotated file first");
                    queue.push_back((rotated, c.position));
                }
                None => tracing::warn!(
                    path = %config.path.display(),
                    "the file read up to the checkpoint is gone; reading the current file from the start"
                ),
            }
            queue.push_back((config.path.clone(), 0));
        }
        None => queue.push_back((config.path.clone(), 0)),
    }

    // Counted by cluster, not path: paths would multiply the series.
    let metric_label = format!("file:{}", config.cluster);
    let mut acks: VecDeque<Ack> = VecDeque::new();
    let mut reading: Option<Reading> = None;
    let mut waiting_for_file = false;
    let mut waiting_for_rules = false;
    // The last position submitted, so an idle file is not checkpointed again and again.
    let mut submitted: Option<(String, u64)> = None;
    while !services.stop.load(Ordering::Relaxed) {
        let Some(current) = reading.as_mut() else {
            let Some((path, position)) = queue.pop_front() else {
                break;
            };
            match open(&path, position) {
                Ok(mut r) => {
                    if r.reader
                        .fill_buf()
                        .map_err(io_error)?
                        .starts_with(&[0x1f, 0x8b])
                    {
                        return Err(FollowError::Compressed(path.display().to_string()));
                    }
                    waiting_for_file = false;
                    reading = Some(r);
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && !config.replay => {
                    if !waiting_for_file {
                        tracing::warn!(path = %path.display(), "waiting for the file to appear");
                        waiting_for_file = true;
                    }
                    queue.push_front((path, position));
                    std::thread::sleep(config.poll);
                }
                Err(e) => return Err(io_error(e)),
            }
            continue;
        };

        let rules = services.rules.current();
        if rules.rules.is_empty() {
            // Reading on would checkpoint events no rule judged.
            if !waiting_for_rules {
                tracing::warn!(path = %config.path.display(), "no rule modules loaded; waiting for some before reading");
                waiting_for_rules = true;
            }
            std::thread::sleep(config.poll);
            continue;
        }
        waiting_for_rules = false;
        let normalizer = Normalizer {
            cluster: config.cluster.clone(),
            keep_raw: rules.wants_raw(),
        };
        let (events, at_end) = read_batch(
            current,
            &normalizer,
            config.batch_size,
            &metric_label,
            services,
        )
        .map_err(io_error)?;
        let here = Some((current.id.clone(), current.position));
        if !events.is_empty() || submitted != here {
            submitted = here;
            match submit(services.pipeline, &source, current, events) {
                Some(ack) => acks.push_back(ack),
                None => break,
            }
        }
        while acks.len() > config.in_flight {
            if acks.pop_front().and_then(Ack::wait).is_none() {
                return Ok(());
            }
        }
        if !at_end {
            continue;
        }
        // At the end of the file: finished, rotated, truncated, or waiting for more.
        if !queue.is_empty() {
            reading = None;
            continue;
        }
        if config.replay {
            break;
        }
        match std::fs::metadata(&config.path) {
            Ok(meta) if file_id(&meta) != current.id => {
                // Rotated: read what the old file still holds, then take the new one.
                let (events, at_end) =
                    read_batch(current, &normalizer, usize::MAX, &metric_label, services)
                        .map_err(io_error)?;
                if !events.is_empty() {
                    submitted = Some((current.id.clone(), current.position));
                    match submit(services.pipeline, &source, current, events) {
                        Some(ack) => acks.push_back(ack),
                        None => break,
                    }
                }
                if at_end {
                    tracing::info!(path = %config.path.display(), "file rotated; following the new one");
                    queue.push_back((config.path.clone(), 0));
                    reading = None;
                }
            }
            Ok(meta) if meta.len() < current.position => {
                tracing::warn!(path = %config.path.display(), "file truncated; reading it from the start");
                queue.push_back((config.path.clone(), 0));
                reading = None;
            }
            _ => std::thread::sleep(config.poll),
        }
    }
    // Wait for what was submitted, so a replay's findings are stored when it returns.
    for ack in acks {
        if ack.wait().is_none() {
            break;
        }
    }
    Ok(())
}

/// Submits events with the position after them; `None` once the pipeline has stopped.
fn submit(
    pipeline: &Pipeline,
    source: &str,
    current: &Reading,
    events: Vec<peregrine_rules_sdk::AuditEvent>,
) -> Option<Ack> {
    let checkpoint = Checkpoint {
        source: source.to_string(),
        file_id: current.id.clone(),
        position: current.position,
    };
    pipeline
        .submit(Batch {
            events,
            checkpoint: Some(checkpoint),
        })
        .ok()
}

/// Reads up to `limit` complete lines; a line still being written is left for later.
/// Returns the events and whether the end of the file was reached.
fn read_batch(
    current: &mut Reading,
    normalizer: &Normalizer,
    limit: usize,
    metric_label: &str,
    services: &Services<'_>,
) -> std::io::Result<(Vec<peregrine_rules_sdk::AuditEvent>, bool)> {
    let mut events = Vec::new();
    let mut lines = 0;
    let mut buf = Vec::new();
    let mut malformed = 0u64;
    let mut at_end = false;
    while lines < limit {
        buf.clear();
        let n = current.reader.read_until(b'\n', &mut buf)?;
        if n == 0 {
            at_end = true;
            break;
        }
        if buf.last() != Some(&b'\n') {
            // Half a line: the writer is not done with it. Read it again next time.
            current.reader.seek(SeekFrom::Start(current.position))?;
            at_end = true;
            break;
        }
        current.position += n as u64;
        current.lines += 1;
        lines += 1;
        let location = Location {
            file: current.label.clone(),
            line: current.lines,
        };
        let mut sink = |item: Item| match item {
            Item::Event(event, _) => events.push(event),
            Item::Malformed { location, reason } => {
                malformed += 1;
                tracing::warn!("{location}: skipped: {reason}");
            }
        };
        match std::str::from_utf8(&buf) {
            Ok(text) => {
                let _ = ingest::parse_line(text, &location, normalizer, true, &mut sink);
            }
            Err(_) => sink(Item::Malformed {
                location,
                reason: "not UTF-8 text".into(),
            }),
        }
    }
    let metrics = services.pipeline.metrics();
    metrics
        .events_received
        .add(metric_label, events.len() as u64);
    if malformed > 0 {
        metrics.events_malformed.add(metric_label, malformed);
    }
    Ok((events, at_end))
}
