//! A `gob check` that passed, remembered: while nothing it depended on changed, the verdict
//! is the same, and the next check says so without running go (as `go test` reuses a test
//! result whose inputs did not change).
//!
//! What a check depends on: go's settings as `go env -json` prints all of them (toolchain,
//! `GOFLAGS`, `CGO_*`, `CC`, `GOMOD`, `GOWORK`, and those from go's env file), `PATH` (where cgo
//! finds its compiler), what the command adds (the manifest, the suites named, gob's own
//! version and the environment it gives go), and the digest of the files
//! ([`super::treedigest`]) under the workspace dir, the dirs of its main module and its
//! go.work (when they are above it), and every dir a go.mod or go.work there points at.
//! Modules from the module cache are named by their versions in go.sum; `GOROOT` by the go
//! version. Never remembered: a check outside module mode (GOPATH's trees are not walked),
//! under `-modfile` or `-overlay` (files elsewhere), or whose files changed within
//! [`super::treedigest::SETTLE`] before its start or while it ran.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::base::state::CHECK_PASSED_FILE;
use crate::workspace::gotool::GoTool;
use crate::workspace::treedigest::Apart;

/// What a check about to run depends on.
#[derive(Debug, Clone)]
pub struct CheckInputs {
    /// SHA-256 over all of it.
    key: String,
    /// The walk's stamps, to tell whether anything was written while the check ran.
    stamps: String,
    /// Whether a pass may be remembered (no file changed just before).
    settled: bool,
    roots: Vec<PathBuf>,
    skip: Vec<PathBuf>,
    names_only: Vec<PathBuf>,
}

/// The record of the last check that passed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Passed {
    key: String,
    /// When it passed (RFC 3339).
    pub at: String,
    /// How many packages it checked.
    pub packages: usize,
}

/// Reads what a check in `workspace_dir` depends on; `settings` is what the command adds,
/// `skip` what the walk leaves out (gob's state), `names_only` where only the names of files
/// count (the binaries' dir). `None` when it cannot be known (see the module doc) or a file
/// cannot be read: then nothing is remembered.
pub fn inputs(
    go: &GoTool,
    workspace_dir: &Path,
    skip: Vec<PathBuf>,
    names_only: Vec<PathBuf>,
    settings: &str,
) -> Option<CheckInputs> {
    let mut settings_of_go: BTreeMap<String, serde_json::Value> =
        serde_json::from_slice(&go.env_all().ok()?).ok()?;
    // GOGCCFLAGS names a temp dir of its own each time (from CC and CGO_* flags, kept).
    settings_of_go.remove("GOGCCFLAGS");
    let setting = |name: &str| {
        settings_of_go
            .get(name)
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
    };
    if ["-modfile", "-overlay"]
        .iter()
        .any(|flag| setting("GOFLAGS").contains(flag))
    {
        return None;
    }
    let roots = crate::workspace::treedigest::workspace_roots(
        workspace_dir,
        [setting("GOMOD"), setting("GOWORK")],
    )?;
    let apart = Apart {
        skip: &skip,
        names_only: &names_only,
        go_as_listed: false,
    };
    let tree = crate::workspace::treedigest::digest(&roots, apart).ok()?;
    let path = std::env::var("PATH").unwrap_or_default();
    let text = format!(
        "{settings}\0{settings_of_go:?}\0PATH={path}\0{}",
        tree.digest
    );
    Some(CheckInputs {
        key: crate::base::hash::sha256_hex(text.as_bytes()),
        stamps: tree.stamps,
        settled: tree.settled,
        roots,
        skip,
        names_only,
    })
}

/// Whether a pass is on record in `workspace_dir` (whatever its inputs).
pub fn has_record(workspace_dir: &Path) -> bool {
    workspace_dir.join(CHECK_PASSED_FILE).is_file()
}

/// The last check that passed in `workspace_dir`, when it had these inputs.
pub fn passed_before(workspace_dir: &Path, inputs: &CheckInputs) -> Option<Passed> {
    let bytes = std::fs::read(workspace_dir.join(CHECK_PASSED_FILE)).ok()?;
    let passed: Passed = serde_json::from_slice(&bytes).ok()?;
    (passed.key == inputs.key).then_some(passed)
}

/// Records that a check with `inputs` passed, checking `packages`: when its files had
/// settled before it and nothing was written while it ran (else go may have read other
/// files than the walk did), the walk done again to tell. A record that cannot be written
/// only costs the next check its run.
pub fn remember(workspace_dir: &Path, inputs: &CheckInputs, packages: usize) {
    let path = workspace_dir.join(CHECK_PASSED_FILE);
    let apart = Apart {
        skip: &inputs.skip,
        names_only: &inputs.names_only,
        go_as_listed: false,
    };
    let unchanged = || {
        crate::workspace::treedigest::digest(&inputs.roots, apart)
            .is_ok_and(|after| after.stamps == inputs.stamps)
    };
    if !inputs.settled || !unchanged() {
        let _ = std::fs::remove_file(&path);
        return;
    }
    let passed = Passed {
        key: inputs.key.clone(),
        at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        packages,
    };
    if let Ok(bytes) = serde_json::to_vec(&passed)
        && crate::base::paths::refuse_symlinks(workspace_dir, &path).is_ok()
    {
        let _ = crate::base::paths::write_atomically(&path, &bytes);
    }
}

/// Forgets the last pass (a check that failed: its record is of other inputs, but a
/// failure with the same key, from something outside it, must not be hidden later).
pub fn forget(workspace_dir: &Path) {
    let _ = std::fs::remove_file(workspace_dir.join(CHECK_PASSED_FILE));
}
