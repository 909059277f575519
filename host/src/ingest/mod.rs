//! Ingestion: reading sources into batches of events. Files (JSON lines, gzipped or not,
//! read once or followed as they grow) and webhook bodies; each kind of event has its
//! adapters in a module of its own (`audit`: Kubernetes audit events; `runtime`: the node
//! sensors' events, which may be mixed into the same files), and a followed
//! file's read position is its [`Checkpoint`].

pub mod audit;
mod checkpoint;
pub mod follow;
pub mod runtime;
pub mod webhook;

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use flate2::read::MultiGzDecoder;

pub use audit::{parse_document, read_path};
pub use checkpoint::Checkpoint;

/// Longest line read; a longer one is reported and skipped.
pub const MAX_LINE: usize = 64 << 20;

/// A request body, gunzipped if it starts with the gzip magic, at most [`MAX_LINE`] bytes
/// once gunzipped.
pub fn gunzipped(body: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, String> {
    if !body.starts_with(&[0x1f, 0x8b]) {
        return Ok(std::borrow::Cow::Borrowed(body));
    }
    let mut text = Vec::new();
    MultiGzDecoder::new(body)
        .take(MAX_LINE as u64 + 1)
        .read_to_end(&mut text)
        .map_err(|e| format!("not valid gzip: {e}"))?;
    if text.len() > MAX_LINE {
        return Err(format!("more than {MAX_LINE} bytes once gunzipped"));
    }
    Ok(std::borrow::Cow::Owned(text))
}

/// What reading a source yields, entry by entry.
pub enum Item {
    Event(peregrine_rules_sdk::AuditEvent, Location),
    /// What an audit event (the one that follows) shows of a pod's controller.
    Owner(peregrine_rules_sdk::normalize::ownership::Ownership),
    Runtime(Box<peregrine_rules_sdk::RuntimeEvent>, Location),
    /// A sensor says it dropped this many events: never silence, it is counted and shown.
    Dropped {
        count: u64,
        location: Location,
    },
    Malformed {
        location: Location,
        reason: String,
    },
}

/// Where an event came from.
#[derive(Clone, Debug)]
pub struct Location {
    pub file: Arc<str>,
    pub line: u64,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct IngestError {
    pub path: String,
    pub source: io::Error,
}

/// Opens a file (`-` for standard input) for reading, gunzipping it if it is gzipped.
pub fn open(path: &Path) -> Result<Box<dyn BufRead>, IngestError> {
    let error = |source| IngestError {
        path: path.display().to_string(),
        source,
    };
    let input: Box<dyn Read> = if path == Path::new("-") {
        Box::new(io::stdin().lock())
    } else {
        Box::new(File::open(path).map_err(error)?)
    };
    let mut reader = BufReader::with_capacity(256 * 1024, input);
    let gzipped = reader.fill_buf().map_err(error)?.starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn BufRead> = if gzipped {
        Box::new(BufReader::with_capacity(
            256 * 1024,
            MultiGzDecoder::new(reader),
        ))
    } else {
        Box::new(reader)
    };
    Ok(reader)
}

/// Reads a line without its terminator; `Some(true)` if it was over [`MAX_LINE`] (and
/// skipped), `None` at end of input.
pub(crate) fn read_line(reader: &mut dyn BufRead, buf: &mut Vec<u8>) -> io::Result<Option<bool>> {
    let mut too_long = false;
    let mut read_any = false;
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return Ok(read_any.then_some(too_long));
        }
        read_any = true;
        let (chunk, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (&available[..i], i + 1),
            None => (available, available.len()),
        };
        if !too_long {
            if buf.len() + chunk.len() > MAX_LINE {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(chunk);
            }
        }
        let found_newline = done > chunk.len();
        reader.consume(done);
        if found_newline {
            return Ok(Some(too_long));
        }
    }
}
