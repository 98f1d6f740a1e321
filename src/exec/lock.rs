//! The workspace lock: two gob runs on one workspace take turns, so neither reads a binary
//! the other is writing. The lock is an flock on `.gob/lock` (released by the kernel when
//! its holder dies, however it dies); the file records the holder's pid and command line for
//! the message of whoever waits. The file itself is never deleted.

use std::fs::{File, TryLockError};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::base::state::LOCK_FILE;

/// How often a waiting run tries again.
const RETRY: Duration = Duration::from_millis(100);

/// A held workspace lock; released on drop.
#[derive(Debug)]
pub struct WorkspaceLock {
    _file: File,
}

/// Why the lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// `--no-wait` and another run holds it.
    #[error("another gob run holds the {what} {} ({holder}); not waiting (--no-wait)", path.display())]
    Busy {
        /// Which lock (`workspace lock`, `lock of the extraction dir`).
        what: &'static str,
        /// The lock file.
        path: PathBuf,
        /// Who holds it, as the file says.
        holder: String,
    },
    /// The lock file cannot be created or locked.
    #[error("cannot lock {}: {source}", path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A stop signal arrived while waiting.
    #[error("interrupted while waiting for a lock")]
    Interrupted(i32),
}

impl WorkspaceLock {
    /// Takes the lock of `workspace_dir`, waiting for another run to finish unless `no_wait`.
    pub async fn acquire(workspace_dir: &Path, no_wait: bool) -> Result<WorkspaceLock, LockError> {
        WorkspaceLock::acquire_file(workspace_dir, LOCK_FILE, "workspace lock", no_wait).await
    }

    /// Takes the lock `what` on the file `rel` below `base` (made if missing; never through a
    /// symlink below `base`), waiting for its holder to finish unless `no_wait`.
    pub async fn acquire_file(
        base: &Path,
        rel: &str,
        what: &'static str,
        no_wait: bool,
    ) -> Result<WorkspaceLock, LockError> {
        let path = base.join(rel);
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        crate::base::paths::refuse_symlinks(base, &path).map_err(io)?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        // O_NOFOLLOW: a link created between the check and the open is refused too.
        let mut file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
            .map_err(io)?;
        let mut announced = false;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(source)) => return Err(io(source)),
            }
            let holder = read_holder(&mut file);
            if no_wait {
                return Err(LockError::Busy { what, path, holder });
            }
            if !announced {
                eprintln!("gob: waiting for the {what} {} ({holder})", path.display());
                announced = true;
            }
            if let Some(sig) = crate::exec::shutdown::requested() {
                return Err(LockError::Interrupted(sig));
            }
            tokio::time::sleep(RETRY).await;
        }
        write_holder(&mut file).map_err(io)?;
        Ok(WorkspaceLock { _file: file })
    }
}

/// What the lock file says about its holder.
fn read_holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.rewind().and_then(|()| file.read_to_string(&mut text));
    match text.trim() {
        "" => "held by another gob run".to_string(),
        holder => format!("held by {holder}"),
    }
}

/// Records this run as the holder: `pid N: gob build …`.
fn write_holder(file: &mut File) -> std::io::Result<()> {
    let command: Vec<String> = std::env::args().collect();
    file.set_len(0)?;
    file.rewind()?;
    writeln!(file, "pid {}: {}", std::process::id(), command.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_lock_is_busy_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = WorkspaceLock::acquire(dir.path(), true).await.unwrap();
        let busy = WorkspaceLock::acquire(dir.path(), true).await.unwrap_err();
        let message = busy.to_string();
        assert!(
            message.contains(&format!("held by pid {}", std::process::id())),
            "{message}"
        );
        drop(first);
        WorkspaceLock::acquire(dir.path(), true).await.unwrap();
    }

    #[tokio::test]
    async fn a_symlinked_lock_file_is_refused_and_its_target_kept() {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("ws");
        std::fs::create_dir_all(ws.join(".gob")).unwrap();
        let victim = dir.path().join("victim.txt");
        std::fs::write(&victim, "precious").unwrap();
        std::os::unix::fs::symlink(&victim, ws.join(LOCK_FILE)).unwrap();
        let error = WorkspaceLock::acquire(&ws, true).await.unwrap_err();
        assert!(error.to_string().contains("is a symlink"), "{error}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    }
}
