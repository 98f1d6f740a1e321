//! A commit's files written out, so go can list the packages as they were: `--since REF`
//! compares what go sees at the merge base with what it sees now. The tree is written with
//! git's plumbing into a temporary index (`read-tree` + `checkout-index`: the repository's
//! index, HEAD and worktree list are not touched), submodules at the commits the superproject
//! recorded, into `.gob/since/<commit>/tree`, once per commit (the three most recently used
//! are kept). Files git ignores are not part of a revision: as after `git checkout REF`, the
//! ignored files of the work tree that go would read are laid over the written tree
//! ([`overlay_ignored`]), and taken away again before the next overlay.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::base::paths::RemovedOnDrop;
use crate::workspace::git::{Git, GitError, split_paths};

/// How many written trees `.gob/since` keeps.
const KEPT_TREES: usize = 3;
/// The file that marks a tree as completely written.
const COMPLETE: &str = "complete";
/// The paths the last overlay laid over a tree.
const OVERLAY_LIST: &str = "overlay";

/// A commit's tree written out under gob's state.
#[derive(Debug, Clone)]
pub struct WrittenTree {
    /// Its dir (`.gob/since/<commit>`), which holds `tree/` and cached listings.
    pub dir: PathBuf,
    /// The repository root as it was at the commit (a real path).
    pub root: PathBuf,
}

fn io_error(path: &Path, error: std::io::Error) -> GitError {
    GitError::Failed {
        command: format!("(writing {})", path.display()),
        dir: path.to_path_buf(),
        stderr: error.to_string(),
    }
}

/// The tree of `commit` of the repository at `root`, written into `cache/<commit>` unless it
/// already is. `changed` says whether a path (relative to `root`) differs between the commit
/// and the work tree: a submodule that is not checked out may only be left empty when it
/// did not change.
pub fn write_tree(
    root: &Path,
    commit: &str,
    cache: &Path,
    changed: &dyn Fn(&Path) -> bool,
) -> Result<WrittenTree, GitError> {
    let dir = cache.join(commit);
    let written = WrittenTree {
        root: dir.join("tree"),
        dir: dir.clone(),
    };
    if dir.join(COMPLETE).is_file() {
        // A later check of the submodules: one not checked out now may have changed since.
        check_submodules(root, commit, changed)?;
        touch(&dir.join(COMPLETE));
        return Ok(canonical(written));
    }
    std::fs::create_dir_all(cache).map_err(|e| io_error(cache, e))?;
    let temp = RemovedOnDrop(cache.join(format!(".{commit}.tmp-{}", std::process::id())));
    let _ = crate::base::paths::remove_tree(&temp.0);
    std::fs::create_dir_all(temp.0.join("tree")).map_err(|e| io_error(&temp.0, e))?;
    checkout(root, commit, &temp.0.join("tree"), &temp.0, changed)?;
    std::fs::write(temp.0.join(COMPLETE), commit).map_err(|e| io_error(&temp.0, e))?;
    if std::fs::rename(&temp.0, &dir).is_err() && !dir.join(COMPLETE).is_file() {
        // Neither ours nor another run's tree is in place: replace what is there.
        let _ = crate::base::paths::remove_tree(&dir);
        std::fs::rename(&temp.0, &dir).map_err(|e| io_error(&dir, e))?;
    }
    prune(cache, KEPT_TREES);
    Ok(canonical(written))
}

fn canonical(mut tree: WrittenTree) -> WrittenTree {
    if let Ok(real) = std::fs::canonicalize(&tree.root) {
        tree.root = real;
    }
    tree
}

fn touch(path: &Path) {
    if let Ok(file) = std::fs::File::options().append(true).open(path) {
        let _ = file.set_modified(std::time::SystemTime::now());
    }
}

/// Writes `commit` of the repository at `repo` into `dest`, then its submodules.
fn checkout(
    repo: &Path,
    commit: &str,
    dest: &Path,
    scratch: &Path,
    changed: &dyn Fn(&Path) -> bool,
) -> Result<(), GitError> {
    let index = scratch.join(format!(
        "index-{}",
        crate::base::hash::fnv1a(dest.as_os_str().as_encoded_bytes())
    ));
    let git = Git {
        root: repo.to_path_buf(),
        index: Some(index.clone()),
    };
    git.run(&["read-tree", commit])?;
    let mut prefix = OsString::from("--prefix=");
    prefix.push(dest.as_os_str());
    prefix.push("/");
    let args = [
        OsString::from("checkout-index"),
        "-a".into(),
        "-f".into(),
        prefix,
    ];
    git.run(&args)?;
    let _ = std::fs::remove_file(&index);
    for (path, sub_commit) in submodules(repo, commit)? {
        let Some(sub_repo) = checked_out(&repo.join(&path)) else {
            if changed(&path) {
                return Err(GitError::Submodule {
                    path: repo.join(&path),
                    why: format!(
                        "changed since the compared commit but is not checked out: run `git submodule update --init {}`",
                        path.display()
                    ),
                });
            }
            continue;
        };
        let object = format!("{sub_commit}^{{commit}}");
        if Git::at(&sub_repo)
            .try_run(&["cat-file", "-e", &object], None)?
            .is_err()
        {
            return Err(GitError::Submodule {
                path: sub_repo.clone(),
                why: format!(
                    "is at commit {sub_commit} in the compared commit, and its repository lacks it: run `git -C {} fetch`",
                    sub_repo.display()
                ),
            });
        }
        // A path inside the submodule is changed when the submodule is.
        let inner = |p: &Path| changed(&path) || changed(&path.join(p));
        checkout(&sub_repo, &sub_commit, &dest.join(&path), scratch, &inner)?;
    }
    Ok(())
}

/// Refuses, for a tree written earlier, a submodule that changed and is not checked out.
fn check_submodules(
    repo: &Path,
    commit: &str,
    changed: &dyn Fn(&Path) -> bool,
) -> Result<(), GitError> {
    for (path, _) in submodules(repo, commit)? {
        if checked_out(&repo.join(&path)).is_none() && changed(&path) {
            return Err(GitError::Submodule {
                path: repo.join(&path),
                why: format!(
                    "changed since the compared commit but is not checked out: run `git submodule update --init {}`",
                    path.display()
                ),
            });
        }
    }
    Ok(())
}

/// The submodules (gitlinks) of `commit`: their paths and recorded commits.
pub fn submodules(repo: &Path, commit: &str) -> Result<Vec<(PathBuf, String)>, GitError> {
    let out = Git::at(repo).run(&["ls-tree", "-r", "-z", "--full-tree", commit])?;
    Ok(parse_gitlinks(&out))
}

/// The gitlinks of `git ls-tree -r -z` output: `160000 commit <sha>\t<path>` entries.
fn parse_gitlinks(out: &[u8]) -> Vec<(PathBuf, String)> {
    use std::os::unix::ffi::OsStrExt;
    out.split(|&b| b == 0)
        .filter_map(|entry| {
            let tab = entry.iter().position(|&b| b == b'\t')?;
            let meta = std::str::from_utf8(&entry[..tab]).ok()?;
            let mut fields = meta.split(' ');
            let (mode, _, sha) = (fields.next()?, fields.next()?, fields.next()?);
            (mode == "160000").then(|| {
                let path = PathBuf::from(std::ffi::OsStr::from_bytes(&entry[tab + 1..]));
                (path, sha.to_string())
            })
        })
        .collect()
}

/// The submodule checked out at `dir` (its real path), if one is.
fn checked_out(dir: &Path) -> Option<PathBuf> {
    if !dir.join(".git").exists() {
        return None;
    }
    let top = Git::at(dir)
        .try_run(&["rev-parse", "--show-toplevel"], None)
        .ok()?
        .ok()?;
    let top = PathBuf::from(String::from_utf8_lossy(&top).trim());
    let real = std::fs::canonicalize(dir).ok()?;
    (std::fs::canonicalize(&top).ok()? == real).then_some(real)
}

/// Removes all but the `keep` most recently used trees in `cache` (and temp dirs of runs
/// that died).
fn prune(cache: &Path, keep: usize) {
    let Ok(entries) = std::fs::read_dir(cache) else {
        return;
    };
    let mut trees = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && name.contains(".tmp-") {
            let pid = name.rsplit("-").next().and_then(|p| p.parse::<i32>().ok());
            // SAFETY: kill with signal 0 only asks whether the process exists.
            let alive = pid.is_some_and(|p| unsafe { libc::kill(p, 0) } == 0);
            if !alive {
                let _ = crate::base::paths::remove_tree(&entry.path());
            }
            continue;
        }
        let used = std::fs::metadata(entry.path().join(COMPLETE))
            .and_then(|m| m.modified())
            .unwrap_or(std::time::SystemTime::UNIX_EPOCH);
        trees.push((used, entry.path()));
    }
    trees.sort();
    let excess = trees.len().saturating_sub(keep);
    for (_, path) in trees.into_iter().take(excess) {
        let _ = crate::base::paths::remove_tree(&path);
    }
}

/// Lays over `tree` the files among `candidates` (relative to the repository `root`) that
/// the tree lacks and git ignores in the work tree, after taking away the last overlay.
/// Returns the paths laid over, sorted (they belong in a cache key).
pub fn overlay_ignored(
    tree: &WrittenTree,
    work_root: &Path,
    candidates: &BTreeSet<PathBuf>,
) -> Result<Vec<PathBuf>, GitError> {
    use std::os::unix::ffi::OsStrExt;
    let list = tree.dir.join(OVERLAY_LIST);
    if let Ok(previous) = std::fs::read(&list) {
        for path in split_paths(&previous) {
            let _ = std::fs::remove_file(tree.root.join(path));
        }
    }
    let inside_submodule = submodules(work_root, "HEAD").unwrap_or_default();
    let missing: Vec<PathBuf> = candidates
        .iter()
        .filter(|p| !inside_submodule.iter().any(|(s, _)| p.starts_with(s)))
        .filter(|p| std::fs::symlink_metadata(tree.root.join(p)).is_err())
        .cloned()
        .collect();
    let laid = crate::workspace::git::ignored(work_root, &missing)?;
    let mut bytes = Vec::new();
    for path in &laid {
        let target = tree.root.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_error(parent, e))?;
        }
        std::fs::copy(work_root.join(path), &target).map_err(|e| io_error(&target, e))?;
        bytes.extend_from_slice(path.as_os_str().as_bytes());
        bytes.push(0);
    }
    std::fs::write(&list, &bytes).map_err(|e| io_error(&list, e))?;
    let mut laid = laid;
    laid.sort();
    Ok(laid)
}

/// An exclusive lock on a written tree while its overlay is laid and go lists it (runs
/// that take no workspace lock, such as `gob affected`, may share the tree); released when
/// the file is dropped.
pub fn lock(tree: &WrittenTree) -> std::io::Result<std::fs::File> {
    use std::os::fd::AsRawFd;
    let file = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(tree.dir.join("lock"))?;
    // SAFETY: flock on a file descriptor this function owns; the kernel releases it on close.
    match unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } {
        0 => Ok(file),
        _ => Err(std::io::Error::last_os_error()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gitlinks_are_read_from_ls_tree_output() {
        let out = b"100644 blob 0f0e\t.gitmodules\x00160000 commit af61\tlib\x00160000 commit 99aa\tdeps/a b\x00";
        assert_eq!(
            parse_gitlinks(out),
            [
                (PathBuf::from("lib"), "af61".to_string()),
                (PathBuf::from("deps/a b"), "99aa".to_string())
            ]
        );
    }
}
