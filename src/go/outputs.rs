//! What go leaves behind in an output dir after a call, and how to tell what a call wrote:
//! go writes or touches every output it produced or found current (cmd/go/internal/work
//! exec.go: `moveOrCopyFile`, and the mtime update of an up-to-date target), and a call that
//! was stopped can leave a half-copied binary whose build ID (at its start) looks current.

use std::path::Path;

/// True when `path` exists and was modified at or after `since`: go writes or touches every
/// output it produced or found current (work/exec.go), so this tells what a call produced.
pub fn written_since(path: &Path, since: std::time::SystemTime) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .is_ok_and(|modified| modified >= since)
}

/// After a go call was stopped, go may have left a half-copied output whose build ID (at the
/// start of the file) looks current: removes each of `outputs` the call wrote, so the next
/// run relinks it. Callers pass only files of gob's own staging and test dirs.
pub fn remove_written_since<'a>(
    outputs: impl IntoIterator<Item = &'a Path>,
    since: std::time::SystemTime,
) {
    for output in outputs {
        if written_since(output, since) {
            let _ = std::fs::remove_file(output);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_outputs_written_during_the_call_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("old");
        std::fs::write(&old, "before").unwrap();
        let since = std::time::SystemTime::now() + std::time::Duration::from_secs(1);
        std::fs::File::options()
            .append(true)
            .open(&old)
            .unwrap()
            .set_modified(since - std::time::Duration::from_secs(60))
            .unwrap();
        let new = dir.path().join("new");
        std::fs::write(&new, "half").unwrap();
        std::fs::File::options()
            .append(true)
            .open(&new)
            .unwrap()
            .set_modified(since)
            .unwrap();
        assert!(written_since(&new, since) && !written_since(&old, since));
        remove_written_since([old.as_path(), new.as_path()], since);
        assert!(old.exists() && !new.exists());
    }
}
