//! The profile fragments of a run that writes a coverage profile: each go test call, test
//! binary run and rerun writes its own file, merged when the run ends.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::plan::cover::fragment;

/// Hands out fresh fragment paths (their dirs created).
#[derive(Debug)]
pub struct Fragments {
    workspace_dir: PathBuf,
    next: AtomicUsize,
}

impl Fragments {
    /// Fragments of a run in `workspace_dir`.
    pub fn new(workspace_dir: &Path) -> Fragments {
        Fragments {
            workspace_dir: workspace_dir.to_path_buf(),
            next: AtomicUsize::new(1),
        }
    }

    /// A path no other run of this run writes, for `package` of `suite` (`None`: the suite's
    /// go test call); its dir exists.
    pub fn next(&self, suite: &str, package: Option<&str>) -> PathBuf {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let path = fragment(&self.workspace_dir, suite, package, n);
        if let Some(dir) = path.parent() {
            // A dir that cannot be made makes the test fail with go's own message.
            let _ = std::fs::create_dir_all(dir);
        }
        path
    }
}
