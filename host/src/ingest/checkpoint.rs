//! How far a file source has been read and committed: stored with the findings of what
//! was read, so a restart resumes exactly there.

/// How far a followed file has been read and committed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The source's name: the followed path.
    pub source: String,
    /// Which file the position is in (device and inode), so a rotated file is recognised.
    pub file_id: String,
    /// Bytes read and judged.
    pub position: u64,
    /// A hash of the bytes just before `position`, to tell that the file still holds what
    /// was read (`None` in checkpoints stored before fingerprints were).
    pub fingerprint: Option<String>,
}
