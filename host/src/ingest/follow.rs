//! Following audit log files (kube-apiserver's log backend) as they grow.
//!
//! Each batch of lines goes to the pipeline with the byte position after its last line;
//! the store commits that position in the same transaction as the batch's findings. On
//! restart a file resumes exactly there: no event skipped, none counted twice.
//!
//! A file is known by its device and inode as well as its path, so rotation is followed:
//! when the path names a new file, the old one is read to its end first, then the new one
//! from its start. A checkpoint whose file was rotated away while Peregrine was down is
//! found again among the files beside it. A file whose bytes before the read position are
//! no longer the ones read there was truncated (and perhaps refilled past the position) and
//! is read again from its start; the checkpoint keeps a hash of those bytes for restarts.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use peregrine_rules_sdk::normalize::Normalizer;

use super::{Checkpoint, Item, Location};
use crate::pipeline::{Ack, Batch, Pipeline};

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
    /// The name checkpoints are kept under: the absolute path.
    pub fn source(&self) -> String {
        std::path::absolute(&self.path)
            .unwrap_or_else(|_| self.path.clone())
            .display()
            .to_string()
    }

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
    #[error("{0}: gzipped files cannot be followed; scan them with `peregrine scan`")]
    Compressed(String),
}

/// How many bytes before the read position must still be what was read there: compared
/// before every read, and hashed into the checkpoint for restarts.
const FINGERPRINT_SPAN: usize = 4096;

/// How often malformed lines of one file are logged, at most; every one is counted.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// An open file being read.
struct Reading {
    reader: BufReader<File>,
    path: PathBuf,
    id: String,
    /// Bytes read and judged: where the next line starts.
    position: u64,
    lines: u64,
    label: Arc<str>,
    /// The bytes just before `position`: the last [`FINGERPRINT_SPAN`] of them, or all if
    /// fewer (see [`keep_last`]).
    tail: Vec<u8>,
    /// The line after `position` read so far: all of it, or once it is longer than the
    /// limit only its last bytes (it is skipped, not buffered).
    line: Vec<u8>,
    line_len: u64,
    too_long: bool,
}

/// Appends `bytes` to `buf`, keeping at least the last [`FINGERPRINT_SPAN`] bytes (and at
/// most twice that).
fn keep_last(buf: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.len() >= FINGERPRINT_SPAN {
        buf.clear();
        buf.extend_from_slice(&bytes[bytes.len() - FINGERPRINT_SPAN..]);
        return;
    }
    buf.extend_from_slice(bytes);
    if buf.len() > 2 * FINGERPRINT_SPAN {
        buf.drain(..buf.len() - FINGERPRINT_SPAN);
    }
}

fn last_span(buf: &[u8]) -> &[u8] {
    &buf[buf.len().saturating_sub(FINGERPRINT_SPAN)..]
}

fn fingerprint(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

/// Fills `buf` from `offset` of the file without moving its read position; `false` if the
/// file ends first.
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<bool> {
    #[cfg(unix)]
    let result = std::os::unix::fs::FileExt::read_exact_at(file, buf, offset);
    #[cfg(not(unix))]
    let result = {
        use std::io::Read;
        let mut file = file.try_clone()?;
        let back = file.stream_position()?;
        let result = file
            .seek(SeekFrom::Start(offset))
            .and_then(|_| file.read_exact(buf));
        file.seek(SeekFrom::Start(back))?;
        result
    };
    match result {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

impl Reading {
    /// Whether the file still holds, just before `position`, the bytes read there. A file
    /// truncated and written again (copytruncate) no longer does, even once it has grown
    /// past `position` again.
    fn unchanged(&self) -> std::io::Result<bool> {
        let tail = last_span(&self.tail);
        let mut bytes = vec![0; tail.len()];
        Ok(read_at(
            self.reader.get_ref(),
            &mut bytes,
            self.position - tail.len() as u64,
        )? && bytes == tail)
    }

    /// Reads this file again from its start.
    fn rewind(&mut self) -> std::io::Result<()> {
        self.reader.seek(SeekFrom::Start(0))?;
        self.position = 0;
        self.lines = 0;
        self.label = Arc::from(self.path.display().to_string());
        self.tail.clear();
        self.end_line();
        Ok(())
    }

    fn end_line(&mut self) {
        // A long line's buffer is not kept for the short ones after it.
        if self.line.capacity() > 1 << 20 {
            self.line = Vec::new();
        }
        self.line.clear();
        self.line_len = 0;
        self.too_long = false;
    }

    /// Reads on in the line after `position`; `true` once it is complete (in `self.line`,
    /// unless `self.too_long`). A line still being written stays, as far as it goes, for
    /// the next call. Past `max_line` bytes a line is no longer buffered, only skipped.
    fn read_line(&mut self, max_line: usize) -> std::io::Result<bool> {
        loop {
            let available = self.reader.fill_buf()?;
            if available.is_empty() {
                return Ok(false);
            }
            let (chunk, complete) = match available.iter().position(|&b| b == b'\n') {
                Some(i) => (&available[..=i], true),
                None => (available, false),
            };
            let used = chunk.len();
            if !self.too_long && self.line.len() + used - usize::from(complete) > max_line {
                self.too_long = true;
                let mut kept = Vec::with_capacity(2 * FINGERPRINT_SPAN);
                keep_last(&mut kept, &self.line);
                self.line = kept;
            }
            if self.too_long {
                keep_last(&mut self.line, chunk);
            } else {
                self.line.extend_from_slice(chunk);
            }
            self.line_len += used as u64;
            self.reader.consume(used);
            if complete {
                return Ok(true);
            }
        }
    }

    /// Moves `position` past the line just read.
    fn finish_line(&mut self) {
        keep_last(&mut self.tail, &self.line);
        self.position += self.line_len;
        self.lines += 1;
        self.end_line();
    }
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

/// Opens `path` at `position`, with the bytes before it; `None` for them if the file is
/// shorter than `position`.
fn open(path: &Path, position: u64) -> std::io::Result<(Reading, Option<Vec<u8>>)> {
    let mut file = File::open(path)?;
    let id = file_id(&file.metadata()?);
    let span = position.min(FINGERPRINT_SPAN as u64);
    let mut tail = vec![0; span as usize];
    let before = read_at(&file, &mut tail, position - span)?.then_some(tail);
    file.seek(SeekFrom::Start(position))?;
    let label = if position == 0 {
        path.display().to_string()
    } else {
        format!("{} (from byte {position})", path.display())
    };
    let reading = Reading {
        reader: BufReader::with_capacity(256 * 1024, file),
        path: path.to_path_buf(),
        id,
        position,
        lines: 0,
        label: Arc::from(label),
        tail: before.clone().unwrap_or_default(),
        line: Vec::new(),
        line_len: 0,
        too_long: false,
    };
    Ok((reading, before))
}

/// Where to start reading a file.
struct Start {
    path: PathBuf,
    position: u64,
    /// The checkpoint's fingerprint of the bytes before `position`, if it has one.
    fingerprint: Option<String>,
    /// Found beside the followed path by its identity (rotated while Peregrine was down).
    rotated: bool,
}

impl Start {
    fn at(path: PathBuf, position: u64) -> Start {
        Start {
            path,
            position,
            fingerprint: None,
            rotated: false,
        }
    }
}

/// Malformed lines of one file, logged at most once per [`WARN_EVERY`]: a file of garbage
/// must not flood the log. Each warning tells how many lines it stands for, and the first.
#[derive(Default)]
struct Complaints {
    last: Option<Instant>,
    pending: u64,
    first: Option<String>,
}

impl Complaints {
    fn malformed(&mut self, path: &Path, what: String) {
        self.pending += 1;
        self.first.get_or_insert(what);
        self.report(path, false);
    }

    /// Logs what is pending if a warning is due (or `now`).
    fn report(&mut self, path: &Path, now: bool) {
        if self.pending == 0 || !(now || self.last.is_none_or(|t| t.elapsed() >= WARN_EVERY)) {
            return;
        }
        let first = self.first.take().unwrap_or_default();
        if self.pending == 1 {
            tracing::warn!(path = %path.display(), "{first}");
        } else {
            tracing::warn!(
                path = %path.display(), skipped = self.pending,
                "{} malformed lines skipped; the first: {first}", self.pending
            );
        }
        self.pending = 0;
        self.last = Some(Instant::now());
    }
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

/// Follows one file from `checkpoint` (the position committed last, if any) until `stop`
/// (or its end, for a replay), handing batches to `pipeline`.
pub fn follow(
    config: &FollowConfig,
    checkpoint: Option<Checkpoint>,
    pipeline: &Pipeline,
    stop: &AtomicBool,
) -> Result<(), FollowError> {
    let source = config.source();
    let io_error = |source| FollowError::Io {
        path: config.path.display().to_string(),
        source,
    };

    // Where to start: the checkpointed file (wherever rotation put it), then the path.
    let mut queue: VecDeque<Start> = VecDeque::new();
    let current = std::fs::metadata(&config.path).ok();
    match checkpoint {
        Some(c) if current.as_ref().is_some_and(|m| file_id(m) == c.file_id) => {
            queue.push_back(Start {
                fingerprint: c.fingerprint,
                ..Start::at(config.path.clone(), c.position)
            });
        }
        Some(c) => {
            match find_rotated(&config.path, &c.file_id) {
                Some(rotated) => {
                    tracing::info!(path = %config.path.display(), rotated = %rotated.display(), "finishing the rotated file first");
                    queue.push_back(Start {
                        fingerprint: c.fingerprint,
                        rotated: true,
                        ..Start::at(rotated, c.position)
                    });
                }
                None => tracing::warn!(
                    path = %config.path.display(),
                    "the file read up to the checkpoint is gone; reading the current file from the start"
                ),
            }
            queue.push_back(Start::at(config.path.clone(), 0));
        }
        None => queue.push_back(Start::at(config.path.clone(), 0)),
    }

    // Counted by cluster, not path: paths would multiply the series.
    let metric_label = config.cluster.clone();
    let mut acks: VecDeque<Ack> = VecDeque::new();
    let mut reading: Option<Reading> = None;
    let mut complaints = Complaints::default();
    let mut waiting_for_file = false;
    let mut waiting_for_rules = false;
    // The last position submitted, so an idle file is not checkpointed again and again.
    let mut submitted: Option<(String, u64)> = None;
    while !stop.load(Ordering::Relaxed) {
        let Some(current) = reading.as_mut() else {
            let Some(start) = queue.pop_front() else {
                break;
            };
            match open(&start.path, start.position) {
                Ok((mut r, before)) => {
                    if r.reader
                        .fill_buf()
                        .map_err(io_error)?
                        .starts_with(&[0x1f, 0x8b])
                    {
                        return Err(FollowError::Compressed(start.path.display().to_string()));
                    }
                    waiting_for_file = false;
                    let intact = before.is_some_and(|bytes| {
                        start
                            .fingerprint
                            .as_ref()
                            .is_none_or(|f| *f == fingerprint(&bytes))
                    });
                    if !intact && start.rotated {
                        tracing::warn!(
                            path = %config.path.display(), rotated = %start.path.display(),
                            "the file beside the path is not the one read up to the checkpoint; skipping it"
                        );
                        continue;
                    }
                    if !intact {
                        tracing::warn!(
                            path = %start.path.display(), position = start.position,
                            "file truncated or replaced since its checkpoint; reading it from the start"
                        );
                        r.rewind().map_err(io_error)?;
                    }
                    reading = Some(r);
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && !config.replay => {
                    if !waiting_for_file {
                        tracing::warn!(path = %start.path.display(), "waiting for the file to appear");
                        waiting_for_file = true;
                    }
                    queue.push_front(start);
                    std::thread::sleep(config.poll);
                }
                Err(e) => return Err(io_error(e)),
            }
            continue;
        };

        let Some(normalizer) = pipeline.normalizer(&config.cluster) else {
            // Reading on would checkpoint events no rule judged.
            if !waiting_for_rules {
                tracing::warn!(path = %config.path.display(), "no rule modules loaded; waiting for some before reading");
                waiting_for_rules = true;
            }
            std::thread::sleep(config.poll);
            continue;
        };
        waiting_for_rules = false;
        // A file can be truncated and refilled past the read position between two reads
        // (copytruncate under a busy writer): its length alone does not tell.
        if !current.unchanged().map_err(io_error)? {
            tracing::warn!(
                path = %current.path.display(), position = current.position,
                "file truncated or replaced: what was read before the read position is gone; reading it from the start"
            );
            current.rewind().map_err(io_error)?;
        }
        let (batch, at_end) = read_batch(
            current,
            &normalizer,
            config.batch_size,
            &metric_label,
            pipeline,
            &mut complaints,
        )
        .map_err(io_error)?;
        let here = Some((current.id.clone(), current.position));
        if !batch.is_empty() || submitted != here {
            submitted = here;
            match submit(pipeline, &source, current, batch) {
                Some(ack) => acks.push_back(ack),
                None => break,
            }
        }
        while acks.len() > config.in_flight {
            if acks.pop_front().and_then(Ack::wait).is_none() {
                complaints.report(&config.path, true);
                return Ok(());
            }
        }
        if !at_end {
            continue;
        }
        // At the end of the file: finished, rotated, or waiting for more (a truncation is
        // noticed before the next read).
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
                let (batch, at_end) = read_batch(
                    current,
                    &normalizer,
                    usize::MAX,
                    &metric_label,
                    pipeline,
                    &mut complaints,
                )
                .map_err(io_error)?;
                if !batch.is_empty() {
                    submitted = Some((current.id.clone(), current.position));
                    match submit(pipeline, &source, current, batch) {
                        Some(ack) => acks.push_back(ack),
                        None => break,
                    }
                }
                if at_end {
                    tracing::info!(path = %config.path.display(), "file rotated; following the new one");
                    queue.push_back(Start::at(config.path.clone(), 0));
                    reading = None;
                }
            }
            _ => std::thread::sleep(config.poll),
        }
    }
    complaints.report(&config.path, true);
    // Wait for what was submitted, so a replay's findings are stored when it returns.
    for ack in acks {
        if ack.wait().is_none() {
            break;
        }
    }
    Ok(())
}

/// Submits events with the position after them; `None` once the pipeline has stopped.
fn submit(pipeline: &Pipeline, source: &str, current: &Reading, mut batch: Batch) -> Option<Ack> {
    let checkpoint = Checkpoint {
        source: source.to_string(),
        file_id: current.id.clone(),
        position: current.position,
        fingerprint: Some(fingerprint(last_span(&current.tail))),
    };
    batch.checkpoint = Some(checkpoint);
    pipeline.submit(batch).ok()
}

/// Reads up to `limit` complete lines; a line still being written is left for later.
/// Returns the events and whether the end of the file was reached.
fn read_batch(
    current: &mut Reading,
    normalizer: &Normalizer,
    limit: usize,
    metric_label: &str,
    pipeline: &Pipeline,
    complaints: &mut Complaints,
) -> std::io::Result<(Batch, bool)> {
    let mut batch = Batch::default();
    let mut malformed = 0u64;
    let mut dropped = 0u64;
    let mut lines = 0;
    let mut at_end = false;
    while lines < limit {
        if !current.read_line(super::MAX_LINE)? {
            at_end = true;
            break;
        }
        lines += 1;
        let location = Location {
            file: current.label.clone(),
            line: current.lines + 1,
        };
        let mut sink = |item: Item| match item {
            Item::Event(event, _) => batch.events.push(event),
            Item::Owner(owner) => batch.owners.push(owner),
            Item::Runtime(event, _) => batch.runtime.push(*event),
            Item::Dropped { count, location } => {
                dropped += count;
                // Sensors report drops at most every few seconds: each one is worth a line.
                tracing::warn!(%location, "the runtime sensor says it dropped {count} events");
            }
            Item::Malformed { location, reason } => {
                malformed += 1;
                complaints.malformed(&current.path, format!("{location}: skipped: {reason}"));
            }
        };
        if current.too_long {
            sink(Item::Malformed {
                location,
                reason: format!("line longer than {} bytes", super::MAX_LINE),
            });
        } else {
            match std::str::from_utf8(&current.line) {
                Ok(text) => {
                    let _ = super::audit::parse_line(text, &location, normalizer, true, &mut sink);
                }
                Err(_) => sink(Item::Malformed {
                    location,
                    reason: "not UTF-8 text".into(),
                }),
            }
        }
        current.finish_line();
    }
    complaints.report(&current.path, false);
    let metrics = pipeline.metrics();
    metrics
        .events_received
        .add("file", metric_label, batch.len() as u64);
    if malformed > 0 {
        metrics
            .events_malformed
            .add("file", metric_label, malformed);
    }
    if dropped > 0 {
        metrics
            .sensor_events_dropped
            .add("file", metric_label, dropped);
    }
    Ok((batch, at_end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn lines(prefix: &str, n: usize) -> String {
        (0..n)
            .map(|i| format!("{{\"line\":\"{prefix}-{i:04}\"}}\n"))
            .collect()
    }

    fn read_all(r: &mut Reading, max_line: usize) -> Vec<String> {
        let mut read = Vec::new();
        while r.read_line(max_line).unwrap() {
            read.push(if r.too_long {
                "<too long>".to_string()
            } else {
                String::from_utf8(r.line.clone()).unwrap()
            });
            r.finish_line();
        }
        read
    }

    fn append(path: &Path, text: &[u8]) {
        let mut file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
        file.write_all(text).unwrap();
    }

    #[test]
    fn a_file_truncated_and_refilled_past_the_position_is_noticed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        std::fs::write(&path, lines("old", 200)).unwrap();
        let (mut r, _) = open(&path, 0).unwrap();
        assert_eq!(read_all(&mut r, 1000).len(), 200);
        let position = r.position;
        let stored = fingerprint(last_span(&r.tail));

        // Growing is not a change.
        append(&path, lines("more", 10).as_bytes());
        assert!(r.unchanged().unwrap());
        assert_eq!(read_all(&mut r, 1000).len(), 10);
        assert!(r.unchanged().unwrap());

        // Truncated and written again, to beyond the old position, before the next read.
        std::fs::write(&path, lines("new", 600)).unwrap();
        assert!(std::fs::metadata(&path).unwrap().len() > r.position);
        assert!(!r.unchanged().unwrap());
        r.rewind().unwrap();
        let read = read_all(&mut r, 1000);
        assert_eq!(read.len(), 600);
        assert_eq!(read[0], "{\"line\":\"new-0000\"}\n");

        // At a restart, the stored fingerprint tells the same.
        let (_, before) = open(&path, position).unwrap();
        assert_ne!(fingerprint(&before.unwrap()), stored);
        let (_, before) = open(&path, r.position).unwrap();
        assert_eq!(
            fingerprint(&before.unwrap()),
            fingerprint(last_span(&r.tail))
        );
        // Past the end of the file there is nothing to compare.
        let (_, before) = open(&path, r.position + 1).unwrap();
        assert!(before.is_none());
    }

    #[test]
    fn an_overlong_line_is_skipped_without_being_buffered() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let long = vec![b'x'; 1 << 20];
        std::fs::write(&path, b"first\n").unwrap();
        append(&path, &long);
        let (mut r, _) = open(&path, 0).unwrap();
        assert!(r.read_line(1000).unwrap());
        assert_eq!(r.line, b"first\n");
        r.finish_line();
        // The long line is still being written: skipped as far as it goes, not buffered.
        assert!(!r.read_line(1000).unwrap());
        assert!(r.too_long);
        assert!(
            r.line.capacity() <= 4 * FINGERPRINT_SPAN,
            "{}",
            r.line.capacity()
        );
        assert_eq!(r.position, 6);
        append(&path, &long);
        append(&path, b"\nnext\n");
        assert_eq!(read_all(&mut r, 1000), ["<too long>", "next\n"]);
        assert!(r.line.capacity() <= 4 * FINGERPRINT_SPAN);
        assert_eq!(r.position, 6 + 2 * long.len() as u64 + 1 + 5);
        // What is remembered of the skipped line is still what the file holds.
        assert!(r.unchanged().unwrap());

        // A line of exactly the limit is read; one byte more is not.
        std::fs::write(&path, [vec![b'y'; 1000], b"\n".to_vec()].concat()).unwrap();
        append(&path, &[vec![b'z'; 1001], b"\n".to_vec()].concat());
        let (mut r, _) = open(&path, 0).unwrap();
        let read = read_all(&mut r, 1000);
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].len(), 1001);
        assert_eq!(read[1], "<too long>");
    }

    #[test]
    fn a_line_being_written_is_read_once_complete() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        std::fs::write(&path, b"{\"half\":").unwrap();
        let (mut r, _) = open(&path, 0).unwrap();
        assert!(!r.read_line(1000).unwrap());
        assert_eq!(r.position, 0);
        append(&path, b"1}\n");
        assert_eq!(read_all(&mut r, 1000), ["{\"half\":1}\n"]);
        assert_eq!(r.position, 11);
    }

    #[test]
    fn malformed_lines_are_logged_at_most_once_per_interval() {
        let path = Path::new("audit.log");
        let mut complaints = Complaints::default();
        complaints.malformed(path, "audit.log:1: skipped: not JSON".into());
        // The first one is logged at once.
        assert_eq!(complaints.pending, 0);
        for i in 2..=1000 {
            complaints.malformed(path, format!("audit.log:{i}: skipped: not JSON"));
        }
        assert_eq!(complaints.pending, 999);
        assert_eq!(
            complaints.first.as_deref(),
            Some("audit.log:2: skipped: not JSON")
        );
        complaints.report(path, false);
        assert_eq!(complaints.pending, 999, "logged before the interval passed");
        complaints.last = Some(Instant::now() - WARN_EVERY);
        complaints.report(path, false);
        assert_eq!(complaints.pending, 0);
        assert!(complaints.first.is_none());
    }
}
