//! Small path helpers shared by the manifest and the workspace stages.

use std::path::{Component, Path, PathBuf};

/// Resolves `.` and `..` components lexically (no file system access).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// `path` relative to `base` when it is inside it, else `path` unchanged.
pub fn relative_to(path: &Path, base: &Path) -> PathBuf {
    path.strip_prefix(base)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf())
}

/// True when `path` exists and was modified at or after `since`: go writes or touches every
/// output it produced or found current (work/exec.go), so this tells what a call produced.
pub fn written_since(path: &Path, since: std::time::SystemTime) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .is_ok_and(|modified| modified >= since)
}

/// Replaces `path` atomically: `fill` writes the new content to a temp file beside it (same
/// filesystem, a name unique to this call), which is then renamed over `path`; on any error the temp file is removed and
/// `path` is left as it was. A reader never sees a half-written file.
pub fn replace_atomically(
    path: &Path,
    fill: impl FnOnce(&Path) -> std::io::Result<()>,
) -> std::io::Result<()> {
    replace(path, fill, true)
}

fn replace(
    path: &Path,
    fill: impl FnOnce(&Path) -> std::io::Result<()>,
    durable: bool,
) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let temp = path.with_file_name(format!(".{name}.gob-{}-{n}.tmp", std::process::id()));
    let result = fill(&temp)
        .and_then(|()| match durable {
            true => std::fs::File::options().write(true).open(&temp)?.sync_all(),
            false => Ok(()),
        })
        .and_then(|()| std::fs::rename(&temp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Writes `contents` to `path` with [`replace_atomically`], creating the parent dir.
pub fn write_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    write_new(path, contents, true)
}

/// Like [`write_atomically`] without the fsync: for cache entries, which readers check and
/// which can be fetched or rebuilt again (go's own cache does not sync either).
pub fn write_cache_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    write_new(path, contents, false)
}

fn write_new(path: &Path, contents: &[u8], durable: bool) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    replace(path, |temp| std::fs::write(temp, contents), durable)
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
    fn normalize_drops_dot_and_dotdot() {
        assert_eq!(normalize(Path::new("/a/./b/../c/")), PathBuf::from("/a/c"));
    }

    #[test]
    fn relative_to_strips_the_base() {
        assert_eq!(
            relative_to(Path::new("/ws/bin/x"), Path::new("/ws")),
            PathBuf::from("bin/x")
        );
        assert_eq!(
            relative_to(Path::new("/other"), Path::new("/ws")),
            PathBuf::from("/other")
        );
    }
}
