//! Files written inside a container at run time, remembered (in the rule's state store)
//! until something executes or loads them: `Execution:Runtime/NewBinaryExecuted` and
//! `NewLibraryLoaded`. A file counts as written when a process in the container wrote it,
//! renamed something onto it, or gave it an execute bit. What package managers, language
//! package installers and compilers write is an install or a build, not a drop, and is not
//! remembered.

use crate::RuntimeEvent;
use crate::host::state;
use crate::runtime::{Activity, FileOperation};

/// Language package installers, compilers and linkers: what they write is a build.
const BUILDERS: &[&str] = &[
    "pip", "pip3", "npm", "yarn", "pnpm", "gem", "bundle", "cargo", "rustc", "go", "gcc", "cc",
    "c++", "g++", "clang", "ld", "ld.gold", "ld.lld", "collect2", "javac", "dotnet", "msbuild",
    "make", "cmake", "ninja",
];

/// Who modified a file, and when.
#[derive(Clone, Debug, PartialEq)]
pub struct Written {
    /// The modifying process's executable.
    pub by: String,
    /// Microseconds since the Unix epoch.
    pub at: i64,
}

fn key(event: &RuntimeEvent, path: &str) -> Option<String> {
    let container = event.container.as_ref()?;
    Some(format!("w|{}|{}|{path}", event.cluster, container.id))
}

/// The path a file activity writes, gives an execute bit, or renames onto.
fn written_path(event: &RuntimeEvent) -> Option<&str> {
    let Activity::File(file) = &event.activity else {
        return None;
    };
    match file.operation {
        FileOperation::Write | FileOperation::Truncate => Some(file.path.as_str()),
        FileOperation::Rename => file.target_path.as_deref(),
        FileOperation::Chmod if file.mode.is_some_and(|m| m & 0o111 != 0) => {
            Some(file.path.as_str())
        }
        _ => None,
    }
}

/// Remembers the file this event writes in its container, unless an installer or a
/// compiler writes it. A full store forgets nothing already remembered and learns no more.
pub fn remember(event: &RuntimeEvent) {
    let Some(path) = written_path(event) else {
        return;
    };
    let Some(key) = key(event, path) else {
        return;
    };
    if event.runs_under(&[crate::runtime::PACKAGE_MANAGERS, BUILDERS]) {
        // A reinstall makes the file the image's again.
        state::delete(&key);
        return;
    }
    let value = format!("{}\n{}", event.time, event.process.executable_path);
    let _ = state::set(&key, value.as_bytes());
}

/// Who wrote `path` in this event's container, if the rule remembers it.
pub fn written(event: &RuntimeEvent, path: &str) -> Option<Written> {
    let value = state::get(&key(event, path)?)?;
    let text = String::from_utf8(value).ok()?;
    let (at, by) = text.split_once('\n')?;
    Some(Written {
        by: by.to_string(),
        at: at.parse().ok()?,
    })
}

/// `modifiedAt` as GuardDuty writes times: RFC 3339 in UTC with milliseconds.
pub fn format_micros(micros: i64) -> String {
    let seconds = micros.div_euclid(1_000_000);
    let millis = micros.rem_euclid(1_000_000) / 1000;
    let days = seconds.div_euclid(86_400);
    let rest = seconds.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_as_guardduty_writes_them() {
        assert_eq!(format_micros(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            format_micros(1_764_496_803_123_456),
            "2025-11-30T10:00:03.123Z"
        );
        assert_eq!(
            format_micros(951_782_400_000_000),
            "2000-02-29T00:00:00.000Z"
        );
    }
}
