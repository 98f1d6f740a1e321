//! What a watch sees of the file system: the `notify` crate's events under the workspace,
//! reduced to the paths that were written, created, renamed or removed, without what no
//! save of a developer's makes (gob's own state, the build outputs, `.git/`, editor temp
//! and swap files, and what git ignores), and gathered into one batch per save: a batch
//! ends when no event came for [`QUIET`].

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind};
use notify::{RecursiveMode, Watcher as _};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

/// How long the file system must stay quiet before a batch of changes is taken: editors
/// write a file in several steps (a temp file and a rename, or a truncate and a write).
pub const QUIET: Duration = Duration::from_millis(100);

/// The watch could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot watch {}: {source}", dir.display())]
pub struct WatchError {
    /// The dir.
    pub dir: PathBuf,
    /// Why.
    #[source]
    pub source: notify::Error,
}

/// A recursive watch of one dir; events stop when it is dropped.
pub struct Watch {
    root: PathBuf,
    skip: Vec<PathBuf>,
    git_root: Option<PathBuf>,
    events: UnboundedReceiver<PathBuf>,
    _watcher: notify::RecommendedWatcher,
}

impl Watch {
    /// Watches `dir` (a real path) and everything under it, leaving out the dirs in `skip`
    /// (absolute) besides `.git/`.
    pub fn start(dir: &Path, skip: Vec<PathBuf>) -> Result<Watch, WatchError> {
        let (tx, events) = unbounded_channel();
        let handler = move |event: notify::Result<notify::Event>| {
            if let Ok(event) = event
                && is_write(&event.kind)
            {
                for path in event.paths {
                    let _ = tx.send(path);
                }
            }
        };
        let failed = |source| WatchError {
            dir: dir.to_path_buf(),
            source,
        };
        let mut watcher = notify::recommended_watcher(handler).map_err(failed)?;
        watcher
            .watch(dir, RecursiveMode::Recursive)
            .map_err(failed)?;
        let git_root = crate::workspace::git::repository_root(dir).ok();
        Ok(Watch {
            root: dir.to_path_buf(),
            skip,
            git_root,
            events,
            _watcher: watcher,
        })
    }

    /// The next batch of changed files (absolute), once a save is over: waits for a change
    /// that counts, then until the file system has been quiet for [`QUIET`].
    pub async fn next_batch(&mut self) -> BTreeSet<PathBuf> {
        loop {
            let Some(first) = self.events.recv().await else {
                return std::future::pending().await;
            };
            let mut batch = BTreeSet::from([first]);
            while let Ok(Some(path)) = tokio::time::timeout(QUIET, self.events.recv()).await {
                batch.insert(path);
            }
            let batch = self.counted(batch);
            if !batch.is_empty() {
                return batch;
            }
        }
    }

    /// The paths of `batch` a developer's save can have made.
    fn counted(&self, batch: BTreeSet<PathBuf>) -> BTreeSet<PathBuf> {
        let kept: BTreeSet<PathBuf> = batch
            .into_iter()
            .filter(|p| p.starts_with(&self.root) && !self.skip.iter().any(|s| p.starts_with(s)))
            .filter(|p| !is_noise(p))
            .collect();
        let Some(root) = &self.git_root else {
            return kept;
        };
        let relative: Vec<PathBuf> = kept
            .iter()
            .filter_map(|p| p.strip_prefix(root).ok().map(Path::to_path_buf))
            .collect();
        let ignored: BTreeSet<PathBuf> = crate::workspace::git::ignored(root, &relative)
            .unwrap_or_default()
            .into_iter()
            .map(|p| root.join(p))
            .collect();
        kept.into_iter().filter(|p| !ignored.contains(p)).collect()
    }
}

/// Whether an event can change what a file holds (a read or a metadata change cannot).
fn is_write(kind: &EventKind) -> bool {
    match kind {
        EventKind::Create(_) | EventKind::Remove(_) => true,
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        EventKind::Modify(_) => true,
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) | EventKind::Any | EventKind::Other => false,
    }
}

/// Paths no developer's save makes: under `.git/`, editors' temp, backup and swap files
/// (vim's `.x.swp` and `4913`, emacs's `#x#` and `.#x`, `x~`, JetBrains' `___jb_tmp___`,
/// GNOME's `.goutputstream-*`).
pub fn is_noise(path: &Path) -> bool {
    if path.components().any(|c| c.as_os_str() == ".git") {
        return true;
    }
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    name.ends_with('~')
        || name == "4913"
        || name.starts_with(".#")
        || (name.starts_with('#') && name.ends_with('#'))
        || name.ends_with("___jb_tmp___")
        || name.ends_with("___jb_old___")
        || name.starts_with(".goutputstream-")
        || [".swp", ".swx", ".swo", ".tmp"]
            .iter()
            .any(|ext| name.starts_with('.') && name.ends_with(ext))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editor_temp_files_and_git_are_noise() {
        for noise in [
            "a/.git/index",
            "a/b.go~",
            "a/4913",
            "a/.#b.go",
            "a/#b.go#",
            "a/b.go___jb_tmp___",
            "a/.goutputstream-X1Y2",
            "a/.b.go.swp",
            "a/.b.go.swx",
        ] {
            assert!(is_noise(Path::new(noise)), "{noise}");
        }
        for real in ["a/b.go", "a/testdata/x.tmp", "a/.golangci.yml", "a/go.mod"] {
            assert!(!is_noise(Path::new(real)), "{real}");
        }
    }

    #[test]
    fn writes_count_and_reads_do_not() {
        use notify::event::{CreateKind, MetadataKind, RenameMode};
        assert!(is_write(&EventKind::Create(CreateKind::File)));
        assert!(is_write(&EventKind::Modify(ModifyKind::Name(
            RenameMode::To
        ))));
        assert!(is_write(&EventKind::Access(AccessKind::Close(
            AccessMode::Write
        ))));
        assert!(!is_write(&EventKind::Access(AccessKind::Open(
            AccessMode::Any
        ))));
        assert!(!is_write(&EventKind::Modify(ModifyKind::Metadata(
            MetadataKind::Any
        ))));
    }
}
