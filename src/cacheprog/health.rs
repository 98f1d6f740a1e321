//! Whether the remote is worth asking: its first failure turns it off for the rest of the
//! process. A marker file in the local store tells the go processes that start in the next
//! [`RETRY_AFTER`] to skip it too (so a build of many go calls pays one timeout, not one per
//! call), and makes sure only the process that found the failure prints the warning.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::local::LocalStore;

/// How long a failed remote is skipped by new processes.
pub const RETRY_AFTER: Duration = Duration::from_secs(30);

/// One remote's state in this process.
#[derive(Debug)]
pub struct Health {
    usable: AtomicBool,
    error: Mutex<Option<String>>,
    marker: PathBuf,
    url: String,
}

impl Health {
    /// Starts usable, unless another process found the remote failing moments ago.
    pub fn new(local: &LocalStore, url: &str) -> Health {
        let marker = local.dir().join(format!(
            "remote-down-{:016x}",
            crate::base::hash::fnv1a(url.as_bytes())
        ));
        let recent = read_recent(&marker);
        Health {
            usable: AtomicBool::new(recent.is_none()),
            error: Mutex::new(
                recent.map(|why| format!("{why} (skipped for {}s)", RETRY_AFTER.as_secs())),
            ),
            marker,
            url: url.to_string(),
        }
    }

    /// Whether to ask the remote.
    pub fn usable(&self) -> bool {
        self.usable.load(Ordering::Relaxed)
    }

    /// Why the remote was not used, if it was not.
    pub fn error(&self) -> Option<String> {
        self.error.lock().ok().and_then(|e| e.clone())
    }

    /// Turns the remote off; the first failure is remembered, marked and (once) printed.
    pub fn failed(&self, error: &str) {
        if !self.usable.swap(false, Ordering::Relaxed) {
            return;
        }
        if let Ok(mut slot) = self.error.lock() {
            *slot = Some(error.to_string());
        }
        if read_recent(&self.marker).is_none() {
            let _ = crate::base::paths::write_atomically(&self.marker, error.as_bytes());
            eprintln!(
                "gob: warning: remote cache {} failed ({}); continuing with the local cache",
                crate::base::redact::credentials(&self.url),
                crate::base::redact::credentials(error)
            );
        }
    }
}

/// The failure a marker younger than [`RETRY_AFTER`] records.
fn read_recent(marker: &std::path::Path) -> Option<String> {
    let age = std::fs::metadata(marker)
        .ok()?
        .modified()
        .ok()?
        .elapsed()
        .ok()?;
    (age < RETRY_AFTER).then(|| std::fs::read_to_string(marker).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_is_shared_with_processes_that_start_soon_after() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        let first = Health::new(&store, "http://127.0.0.1:1");
        assert!(first.usable());
        first.failed("connection refused");
        first.failed("a second failure is not recorded");
        assert!(!first.usable());
        assert_eq!(first.error().as_deref(), Some("connection refused"));
        let next = Health::new(&store, "http://127.0.0.1:1");
        assert!(!next.usable());
        assert!(next.error().unwrap().contains("connection refused"));
        let other = Health::new(&store, "http://127.0.0.1:2");
        assert!(other.usable(), "the marker is per remote");
    }
}
