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

/// `rel` (relative) joined to `base` and resolved as written, if it never climbs above
/// `base`'s own root (`a/b` + `../c` → `a/c`; `a` + `../../c` → none).
pub fn join_within(base: &Path, rel: &Path) -> Option<PathBuf> {
    if rel.is_absolute() {
        return None;
    }
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for part in base.components().chain(rel.components()) {
        match part {
            Component::Normal(name) => parts.push(name),
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.iter().collect())
}

/// A dir removed (with everything in it) when dropped: scratch space that must not outlive
/// the work it serves, however that work ends.
pub struct RemovedOnDrop(pub PathBuf);

impl RemovedOnDrop {
    /// The dir.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for RemovedOnDrop {
    fn drop(&mut self) {
        let _ = remove_tree(&self.0);
    }
}

/// Removes the dir `path` and everything in it, making its dirs writable on the way (a test
/// that `chmod 0500`s its dir, or a read-only dir from an archive, must not make a tree gob
/// owns impossible to remove). Links are removed, never followed. A missing `path` is fine.
pub fn remove_tree(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(path) {
        Ok(()) => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(_) => {}
    }
    make_writable(path);
    std::fs::remove_dir_all(path)
}

/// Adds owner rwx to `dir` and every dir below it (links not followed).
fn make_writable(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = std::fs::symlink_metadata(dir) else {
        return;
    };
    if !meta.is_dir() {
        return;
    }
    let mode = meta.permissions().mode();
    if mode & 0o700 != 0o700 {
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode | 0o700));
    }
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            make_writable(&entry.path());
        }
    }
}

/// Refuses a `path` below `base` that is reached through a symlink (any existing component
/// below `base`, the last included). A repository can commit a link such as `.gob/lock ->
/// ../../victim` or `bin -> /usr/local/bin`; gob's state and output dirs must not lead its
/// writes outside the workspace. `base` itself may be a link (the user chose it).
pub fn refuse_symlinks(base: &Path, path: &Path) -> std::io::Result<()> {
    let Ok(below) = path.strip_prefix(base) else {
        return Ok(());
    };
    let mut current = base.to_path_buf();
    for part in below.components() {
        current.push(part);
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = std::fs::read_link(&current).unwrap_or_default();
                return Err(std::io::Error::other(format!(
                    "{} is a symlink to {}; gob does not write through symlinks in its state \
                     and output dirs (they could lead its writes outside the workspace): \
                     remove the link",
                    current.display(),
                    target.display()
                )));
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    Ok(())
}

/// [`refuse_symlinks`] for `dir`, and for everything below it (a dir gob owns whole, such as
/// an integration suite's test binary dir, where go writes files of gob's choosing).
pub fn refuse_symlinks_within(base: &Path, dir: &Path) -> std::io::Result<()> {
    refuse_symlinks(base, dir)?;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        refuse_symlinks(dir, &path)?;
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            refuse_symlinks_within(dir, &path)?;
        }
    }
    Ok(())
}

const TEMP_PREFIX: &str = ".gob-";
const TEMP_SUFFIX: &str = ".tmp";

/// Removes the temp files a killed gob left in `dir` (`.gob-<pid>-<n>.tmp`, and the older
/// `.<name>.gob-<pid>-<n>.tmp`) whose process is gone; a live process's are left alone.
pub fn remove_stale_temps(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = temp_file_pid(&name.to_string_lossy()) else {
            continue;
        };
        // SAFETY: kill with signal 0 only checks whether the process exists.
        let gone = unsafe { libc::kill(pid, 0) } != 0
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        if gone && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The pid in the name of a temp file gob writes, if `name` is one.
fn temp_file_pid(name: &str) -> Option<i32> {
    let stem = name.strip_suffix(TEMP_SUFFIX)?;
    let (rest, counter) = stem.rsplit_once('-')?;
    let (prefix, pid) = rest.rsplit_once('-')?;
    let ours = prefix == ".gob" || (prefix.starts_with('.') && prefix.ends_with(".gob"));
    counter.parse::<u64>().ok()?;
    pid.parse().ok().filter(|_| ours)
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

/// Like [`replace_atomically`] without the fsync: for files that can be made again (a
/// kept test binary, which go relinks when it is gone).
pub fn replace_without_sync(
    path: &Path,
    fill: impl FnOnce(&Path) -> std::io::Result<()>,
) -> std::io::Result<()> {
    replace(path, fill, false)
}

fn replace(
    path: &Path,
    fill: impl FnOnce(&Path) -> std::io::Result<()>,
    durable: bool,
) -> std::io::Result<()> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // Short, and without the target's name: a target name near the 255-byte limit still
    // gets a temp name that fits.
    let temp = path.with_file_name(format!(
        "{TEMP_PREFIX}{}-{n}{TEMP_SUFFIX}",
        std::process::id()
    ));
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

/// `path` as text that tells every path apart: UTF-8 as it is, a backslash doubled, and each
/// byte that is not UTF-8 as `\xNN` (file names on Unix are bytes).
pub fn escaped(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut bytes = path.as_os_str().as_bytes();
    let mut out = String::with_capacity(bytes.len());
    loop {
        let (valid, rest) = match std::str::from_utf8(bytes) {
            Ok(text) => (text, &[][..]),
            Err(e) => {
                let (good, bad) = bytes.split_at(e.valid_up_to());
                (std::str::from_utf8(good).unwrap_or_default(), bad)
            }
        };
        out.push_str(&valid.replace('\\', "\\\\"));
        let Some((&first, tail)) = rest.split_first() else {
            return out;
        };
        out.push_str(&format!("\\x{first:02x}"));
        bytes = tail;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_within_never_climbs_above_the_base() {
        let join = |b: &str, r: &str| join_within(Path::new(b), Path::new(r));
        assert_eq!(join("a/b", "../c"), Some(PathBuf::from("a/c")));
        assert_eq!(join("a/b", "c/./d"), Some(PathBuf::from("a/b/c/d")));
        assert_eq!(join("a", "../../c"), None);
        assert_eq!(join("", ".."), None);
        assert_eq!(join("a", "/etc"), None);
    }

    #[test]
    fn escaped_paths_keep_odd_bytes_apart() {
        use std::os::unix::ffi::OsStrExt;
        let odd = Path::new(std::ffi::OsStr::from_bytes(b"a/\xff b\\x.txt"));
        assert_eq!(escaped(odd), "a/\\xff b\\\\x.txt");
        let look_alike = Path::new("a/\\xff b\\x.txt");
        assert_ne!(escaped(odd), escaped(look_alike));
        assert_eq!(escaped(Path::new("plain/π.go")), "plain/π.go");
    }

    #[test]
    fn normalize_drops_dot_and_dotdot() {
        assert_eq!(normalize(Path::new("/a/./b/../c/")), PathBuf::from("/a/c"));
    }

    #[test]
    fn symlinked_state_paths_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("ws");
        std::fs::create_dir_all(ws.join(".gob")).unwrap();
        std::fs::write(dir.path().join("victim.txt"), "keep").unwrap();
        refuse_symlinks(&ws, &ws.join(".gob/lock")).unwrap();
        std::os::unix::fs::symlink("../../victim.txt", ws.join(".gob/lock")).unwrap();
        let error = refuse_symlinks(&ws, &ws.join(".gob/lock")).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("is a symlink to ../../victim.txt"),
            "{error}"
        );
        std::os::unix::fs::symlink(dir.path(), ws.join("bin")).unwrap();
        assert!(refuse_symlinks(&ws, &ws.join("bin/alpha")).is_err());
        assert!(refuse_symlinks(&ws, &ws.join("out/new/dir")).is_ok());
        let linked_ws = dir.path().join("link-to-ws");
        std::os::unix::fs::symlink(&ws, &linked_ws).unwrap();
        assert!(refuse_symlinks(&linked_ws, &linked_ws.join("out")).is_ok());
    }

    #[test]
    fn stale_temp_files_of_dead_processes_are_removed() {
        assert_eq!(temp_file_pid(".gob-123-4.tmp"), Some(123));
        assert_eq!(temp_file_pid(".alpha.gob-123-4.tmp"), Some(123));
        assert_eq!(temp_file_pid("alpha"), None);
        assert_eq!(temp_file_pid(".x-1-2.tmp"), None);
        let dir = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let stale = dir.path().join(format!(".alpha.gob-{dead}-0.tmp"));
        let stale_new = dir.path().join(format!(".gob-{dead}-7.tmp"));
        let live = dir
            .path()
            .join(format!(".gob-{}-0.tmp", std::process::id()));
        let binary = dir.path().join("alpha");
        for file in [&stale, &stale_new, &live, &binary] {
            std::fs::write(file, "x").unwrap();
        }
        remove_stale_temps(dir.path());
        assert!(!stale.exists() && !stale_new.exists());
        assert!(live.exists() && binary.exists());
    }

    #[test]
    fn a_target_name_near_the_limit_still_gets_a_temp_name() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("b".repeat(250));
        write_atomically(&target, b"binary").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"binary");
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
