//! What one cacheprog process did, appended as a JSON line to the file gob names in
//! `GOB_CACHEPROG_STATS`, and summed by gob for its summary line.

use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of one process.
#[derive(Debug, Default)]
pub struct Stats {
    /// Gets answered from the local store.
    pub local_hits: AtomicU64,
    /// Gets answered from the remote.
    pub remote_hits: AtomicU64,
    /// Gets answered with a miss.
    pub misses: AtomicU64,
    /// Puts stored locally.
    pub puts: AtomicU64,
    /// Puts uploaded.
    pub uploads: AtomicU64,
    corrupt: AtomicU64,
    first_corrupt: Mutex<Option<String>>,
}

pub use crate::base::events::Totals;

impl Stats {
    /// Adds one to `counter`.
    pub fn count(&self, counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a remote entry that failed verification.
    pub fn corrupt(&self, why: String) {
        self.corrupt.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut first) = self.first_corrupt.lock() {
            first.get_or_insert(why);
        }
    }

    /// The counts so far.
    pub fn totals(&self, remote_error: Option<String>) -> Totals {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Totals {
            local_hits: get(&self.local_hits),
            remote_hits: get(&self.remote_hits),
            misses: get(&self.misses),
            puts: get(&self.puts),
            uploads: get(&self.uploads),
            corrupt: get(&self.corrupt),
            corrupt_example: self.first_corrupt.lock().ok().and_then(|f| f.clone()),
            remote_error,
        }
    }

    /// Appends the totals as one line (one write, so concurrent processes do not interleave).
    pub fn append_to(&self, path: &Path, remote_error: Option<String>) {
        let mut line = serde_json::to_string(&self.totals(remote_error)).unwrap_or_default();
        line.push('\n');
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let file = std::fs::File::options()
            .create(true)
            .append(true)
            .open(path);
        if let Ok(mut file) = file {
            let _ = file.write_all(line.as_bytes());
        }
    }
}

impl Totals {
    /// Sums the lines of a stats file (unreadable lines are skipped).
    pub fn read(path: &Path) -> Option<Totals> {
        let text = std::fs::read_to_string(path).ok()?;
        let mut sum = Totals::default();
        for totals in text
            .lines()
            .filter_map(|l| serde_json::from_str::<Totals>(l).ok())
        {
            sum.local_hits += totals.local_hits;
            sum.remote_hits += totals.remote_hits;
            sum.misses += totals.misses;
            sum.puts += totals.puts;
            sum.uploads += totals.uploads;
            sum.corrupt += totals.corrupt;
            sum.corrupt_example = sum.corrupt_example.or(totals.corrupt_example);
            sum.remote_error = sum.remote_error.or(totals.remote_error);
        }
        // The examples name URLs, which may carry a password.
        let redact = |text: Option<String>| text.map(|t| crate::base::redact::credentials(&t));
        sum.corrupt_example = redact(sum.corrupt_example);
        sum.remote_error = redact(sum.remote_error);
        Some(sum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processes_append_and_gob_sums() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("not-yet").join("stats.jsonl");
        let one = Stats::default();
        one.count(&one.remote_hits);
        one.count(&one.misses);
        one.append_to(&path, None);
        let two = Stats::default();
        two.count(&two.remote_hits);
        two.corrupt("bad blob".into());
        two.append_to(&path, Some("connection refused".into()));
        let sum = Totals::read(&path).unwrap();
        assert_eq!(sum.remote_hits, 2);
        assert_eq!(sum.misses, 1);
        assert_eq!(sum.corrupt, 1);
        assert_eq!(sum.corrupt_example.as_deref(), Some("bad blob"));
        assert_eq!(sum.remote_error.as_deref(), Some("connection refused"));
    }
}
