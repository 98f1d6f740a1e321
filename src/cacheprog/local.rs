//! The local disk cache in front of the remote: what go reads through DiskPath.
//!
//! Layout under the store's dir: `o/<xx>/<output hex>` holds a body (named by its SHA-256, so
//! two actions with the same output share the file) and `a/<xx>/<action hex>` the line
//! `<output hex> <size> <unix nanos>`. Every file is written to a temp name and renamed, so a
//! concurrent reader (another go process) sees a whole file or none. Like go's own cache,
//! entries unused for 5 days are trimmed, at most once a day.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use super::action_result::{hex, parse_hex};

/// How long an unused entry is kept (go's cache uses the same).
const TRIM_AFTER: Duration = Duration::from_secs(5 * 24 * 3600);
/// How often the store is trimmed.
const TRIM_EVERY: Duration = Duration::from_secs(24 * 3600);
/// A used entry's mtime is refreshed when older than this (as go does, to save writes).
const TOUCH_AFTER: Duration = Duration::from_secs(3600);

/// The file that marks a dir as a store gob created, which gob may trim.
pub const MARKER: &str = "GOB-CACHE-STORE";
const MARKER_TEXT: &str = "A gob cacheprog store: entries unused for 5 days are deleted.\n";

/// True when every entry of `dir` is one a store has (records, bodies, stamps, markers).
fn holds_only_store_files(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().all(|entry| {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        matches!(name.as_ref(), "a" | "o" | "trim.txt")
            || name.starts_with("remote-down-")
            || name.starts_with(".gob-")
    })
}

/// A local cache entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// SHA-256 of the body.
    pub output_id: [u8; 32],
    /// Body size.
    pub size: u64,
    /// When it was stored.
    pub time: SystemTime,
    /// The body's file.
    pub path: PathBuf,
}

/// The local store.
#[derive(Debug, Clone)]
pub struct LocalStore {
    dir: PathBuf,
}

impl LocalStore {
    /// Opens (creates) the store at `dir`. A dir that is new, empty, or holds only what a
    /// store holds gets the [`MARKER`] that allows trimming it; any other dir (a `--dir` or
    /// `GOB_CACHE_DIR` pointing at something else) is used but never trimmed.
    pub fn open(dir: &Path) -> std::io::Result<LocalStore> {
        std::fs::create_dir_all(dir)?;
        let dir = std::path::absolute(dir)?;
        if !dir.join(MARKER).exists() && holds_only_store_files(&dir) {
            let _ = crate::base::paths::write_cache_file(&dir.join(MARKER), MARKER_TEXT.as_bytes());
        }
        Ok(LocalStore { dir })
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn action_path(&self, action: &[u8]) -> PathBuf {
        let name = hex(action);
        self.dir.join("a").join(&name[..2]).join(name)
    }

    fn output_path(&self, output_id: &[u8; 32]) -> PathBuf {
        let name = hex(output_id);
        self.dir.join("o").join(&name[..2]).join(name)
    }

    /// The entry for `action`, if its record and a body of the recorded size are present.
    pub fn get(&self, action: &[u8]) -> Option<Entry> {
        let entry = self.lookup(action)?;
        self.keep(action, &entry).then_some(entry)
    }

    /// The entry `action`'s record names, read without checking its body: the answer to a
    /// warm lookup, which go itself checks (every read of a cache file in cmd/go goes
    /// through `GetFile`, `GetBytes` or `GetMmap`, which compare the body's size or hash
    /// with the entry and take a mismatch for a miss). One open, one read, one close.
    pub fn lookup(&self, action: &[u8]) -> Option<Entry> {
        let mut record_file = std::fs::File::open(self.action_path(action)).ok()?;
        let mut line = [0u8; 256];
        let n = std::io::Read::read(&mut record_file, &mut line).ok()?;
        drop(record_file);
        let record = std::str::from_utf8(&line[..n]).ok()?;
        let mut fields = record.split_whitespace();
        let output_id = parse_hex(fields.next()?)?;
        let size: u64 = fields.next()?.parse().ok()?;
        let nanos: u64 = fields.next()?.parse().ok()?;
        Some(Entry {
            output_id,
            size,
            time: UNIX_EPOCH + Duration::from_nanos(nanos),
            path: self.output_path(&output_id),
        })
    }

    /// The bookkeeping after a [`lookup`](Self::lookup), which a warm lookup does after
    /// answering go: true when the body is present with the recorded size, and then both
    /// files' mtimes are refreshed when old, so trimming keeps what is used. A record
    /// whose body is gone or truncated is removed: the next lookup misses and may fetch the
    /// entry from the remote again.
    pub fn keep(&self, action: &[u8], entry: &Entry) -> bool {
        let body = std::fs::metadata(&entry.path).ok();
        let record_path = self.action_path(action);
        if body.as_ref().is_none_or(|m| m.len() != entry.size) {
            let _ = std::fs::remove_file(&record_path);
            return false;
        }
        if let Some(modified) = body.and_then(|m| m.modified().ok()) {
            touch_if_old(&entry.path, modified);
        }
        if let Ok(modified) = std::fs::metadata(&record_path).and_then(|m| m.modified()) {
            touch_if_old(&record_path, modified);
        }
        true
    }

    /// Whether a body with this ID and size is stored; returns its path. A body found
    /// again for a new record has its mtime refreshed when old, like a hit's: trimming must
    /// not take the body of a record younger than it.
    pub fn output(&self, output_id: &[u8; 32], size: u64) -> Option<PathBuf> {
        let path = self.output_path(output_id);
        let metadata = std::fs::metadata(&path).ok()?;
        if metadata.len() != size {
            return None;
        }
        if let Ok(modified) = metadata.modified() {
            touch_if_old(&path, modified);
        }
        Some(path)
    }

    /// Stores `body` (whose SHA-256 must be `output_id`) as `action`'s output.
    pub fn put(&self, action: &[u8], output_id: &[u8; 32], body: &[u8]) -> Result<Entry, String> {
        let actual: [u8; 32] = Sha256::digest(body).into();
        if &actual != output_id {
            return Err(format!(
                "OutputID {} is not the SHA-256 of the body ({})",
                hex(output_id),
                hex(&actual)
            ));
        }
        let path = match self.output(output_id, body.len() as u64) {
            Some(path) => path,
            None => {
                let path = self.output_path(output_id);
                crate::base::paths::write_cache_file(&path, body)
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                path
            }
        };
        self.record(action, output_id, body.len() as u64)?;
        Ok(Entry {
            output_id: *output_id,
            size: body.len() as u64,
            time: SystemTime::now(),
            path,
        })
    }

    /// Writes `action`'s record pointing at an output that is already stored.
    pub fn record(&self, action: &[u8], output_id: &[u8; 32], size: u64) -> Result<(), String> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let line = format!("{} {size} {nanos}\n", hex(output_id));
        let path = self.action_path(action);
        crate::base::paths::write_cache_file(&path, line.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    /// Removes entries unused for [`TRIM_AFTER`], if the last trim is [`TRIM_EVERY`] old.
    pub fn trim_if_due(&self) {
        if !self.dir.join(MARKER).exists() {
            return;
        }
        let stamp = self.dir.join("trim.txt");
        let now = SystemTime::now();
        let due = std::fs::metadata(&stamp)
            .and_then(|m| m.modified())
            .map_or(true, |t| {
                now.duration_since(t).unwrap_or_default() >= TRIM_EVERY
            });
        if !due || std::fs::write(&stamp, b"").is_err() {
            return;
        }
        for kind in ["a", "o"] {
            let Ok(shards) = std::fs::read_dir(self.dir.join(kind)) else {
                continue;
            };
            for file in shards
                .flatten()
                .filter_map(|s| std::fs::read_dir(s.path()).ok())
                .flatten()
                .flatten()
            {
                let old = file
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| now.duration_since(t).unwrap_or_default() >= TRIM_AFTER);
                if old {
                    let _ = std::fs::remove_file(file.path());
                }
            }
        }
    }
}

/// Refreshes the mtime of a file last modified at `modified`, if that is [`TOUCH_AFTER`] ago.
fn touch_if_old(path: &Path, modified: SystemTime) {
    let old = modified.elapsed().unwrap_or_default() >= TOUCH_AFTER;
    if old && let Ok(file) = std::fs::File::options().append(true).open(path) {
        let _ = file.set_modified(SystemTime::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(body: &[u8]) -> [u8; 32] {
        Sha256::digest(body).into()
    }

    #[test]
    fn put_then_get_returns_the_body_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        assert_eq!(store.get(&[1; 32]), None);
        let put = store.put(&[1; 32], &sha(b"body"), b"body").unwrap();
        let got = store.get(&[1; 32]).unwrap();
        assert_eq!(got.output_id, sha(b"body"));
        assert_eq!(got.size, 4);
        assert_eq!(got.path, put.path);
        assert!(got.path.is_absolute());
        assert_eq!(std::fs::read(&got.path).unwrap(), b"body");
    }

    #[test]
    fn an_empty_body_is_an_entry() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        store.put(&[2; 32], &sha(b""), b"").unwrap();
        assert_eq!(store.get(&[2; 32]).unwrap().size, 0);
    }

    #[test]
    fn a_body_that_does_not_match_its_id_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        let error = store.put(&[1; 32], &sha(b"other"), b"body").unwrap_err();
        assert!(error.contains("not the SHA-256"), "{error}");
        assert_eq!(store.get(&[1; 32]), None);
    }

    #[test]
    fn a_truncated_body_or_garbled_record_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        let entry = store.put(&[3; 32], &sha(b"12345"), b"12345").unwrap();
        std::fs::write(&entry.path, b"123").unwrap();
        assert_eq!(store.get(&[3; 32]), None);
        store.put(&[4; 32], &sha(b"x"), b"x").unwrap();
        std::fs::write(store.action_path(&[4; 32]), "zz 1 1\n").unwrap();
        assert_eq!(store.get(&[4; 32]), None);
    }

    #[test]
    fn a_lookup_answers_from_the_record_and_keep_drops_a_record_whose_body_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        let put = store.put(&[8; 32], &sha(b"gone"), b"gone").unwrap();
        std::fs::remove_file(&put.path).unwrap();
        let entry = store.lookup(&[8; 32]).unwrap();
        assert_eq!((entry.output_id, entry.size), (sha(b"gone"), 4));
        assert_eq!(entry.path, put.path);
        assert!(!store.keep(&[8; 32], &entry));
        assert_eq!(store.lookup(&[8; 32]), None, "the next lookup misses");
    }

    #[test]
    fn a_hit_refreshes_old_mtimes_so_trimming_keeps_used_entries() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        let entry = store.put(&[7; 32], &sha(b"used"), b"used").unwrap();
        let record = store.action_path(&[7; 32]);
        let long_ago = SystemTime::now() - TRIM_AFTER;
        for path in [&entry.path, &record] {
            let file = std::fs::File::options().append(true).open(path).unwrap();
            file.set_modified(long_ago).unwrap();
        }
        assert!(store.get(&[7; 32]).is_some());
        for path in [&entry.path, &record] {
            let age = std::fs::metadata(path)
                .unwrap()
                .modified()
                .unwrap()
                .elapsed();
            assert!(age.unwrap_or_default() < TOUCH_AFTER, "{}", path.display());
        }
    }

    #[test]
    fn a_new_record_for_an_old_body_refreshes_the_body() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        let first = store.put(&[9; 32], &sha(b"shared"), b"shared").unwrap();
        let file = std::fs::File::options()
            .append(true)
            .open(&first.path)
            .unwrap();
        file.set_modified(SystemTime::now() - TRIM_AFTER).unwrap();
        store.put(&[10; 32], &sha(b"shared"), b"shared").unwrap();
        let age = std::fs::metadata(&first.path)
            .unwrap()
            .modified()
            .unwrap()
            .elapsed();
        assert!(age.unwrap_or_default() < TOUCH_AFTER);
    }

    #[test]
    fn a_dir_gob_did_not_create_is_never_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let theirs = dir.path().join("a/ab/old-report.txt");
        std::fs::create_dir_all(theirs.parent().unwrap()).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
        std::fs::write(&theirs, "keep").unwrap();
        let file = std::fs::File::options().append(true).open(&theirs).unwrap();
        file.set_modified(SystemTime::now() - TRIM_AFTER * 2)
            .unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        assert!(!dir.path().join(MARKER).exists());
        store.trim_if_due();
        assert!(
            theirs.exists(),
            "a file in a dir gob did not create is kept"
        );
    }

    #[test]
    fn trimming_removes_only_old_entries() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        let old = store.put(&[5; 32], &sha(b"old"), b"old").unwrap();
        store.put(&[6; 32], &sha(b"new"), b"new").unwrap();
        let long_ago = SystemTime::now() - TRIM_AFTER - Duration::from_secs(60);
        for path in [old.path.clone(), store.action_path(&[5; 32])] {
            let file = std::fs::File::options().append(true).open(&path).unwrap();
            file.set_modified(long_ago).unwrap();
        }
        store.trim_if_due();
        assert_eq!(store.get(&[5; 32]), None);
        assert!(!old.path.exists());
        assert!(store.get(&[6; 32]).is_some());
    }
}
