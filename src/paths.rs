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
