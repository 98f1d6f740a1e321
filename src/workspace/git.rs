//! The one place gob runs git: the files that changed since a revision, for `--since`. Those
//! are `git diff --name-only REV...HEAD` (what the branch changed since it left REV), plus
//! what is changed in the work tree or the index, plus untracked files git does not ignore.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `--since` cannot be answered.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// git is not installed.
    #[error("--since needs git, which cannot be run: {0}")]
    NoGit(std::io::Error),
    /// The workspace is not in a git repository.
    #[error("--since needs a git repository, and {} is not in one", .0.display())]
    NotARepository(PathBuf),
    /// The revision does not exist.
    #[error("--since {since}: git knows no revision `{since}` in {}", dir.display())]
    UnknownRevision {
        /// The revision asked for.
        since: String,
        /// The repository.
        dir: PathBuf,
    },
    /// git failed otherwise.
    #[error("`git {command}` failed in {}: {stderr}", dir.display())]
    Failed {
        /// Its arguments.
        command: String,
        /// Where.
        dir: PathBuf,
        /// What it said.
        stderr: String,
    },
}

fn git(dir: &Path, args: &[&str]) -> Result<Result<Vec<u8>, String>, GitError> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(GitError::NoGit)?;
    Ok(match output.status.success() {
        true => Ok(output.stdout),
        false => Err(String::from_utf8_lossy(&output.stderr).trim().to_string()),
    })
}

fn checked(dir: &Path, args: &[&str]) -> Result<Vec<u8>, GitError> {
    git(dir, args)?.map_err(|stderr| GitError::Failed {
        command: args.join(" "),
        dir: dir.to_path_buf(),
        stderr,
    })
}

/// Absolute paths of the files changed since `since` in the repository holding `dir`.
pub fn changed_files(dir: &Path, since: &str) -> Result<Vec<PathBuf>, GitError> {
    let root = git(dir, &["rev-parse", "--show-toplevel"])?
        .map_err(|_| GitError::NotARepository(dir.to_path_buf()))?;
    let root = PathBuf::from(String::from_utf8_lossy(&root).trim());
    let revision = format!("{since}^{{commit}}");
    if git(&root, &["rev-parse", "--verify", "--quiet", &revision])?.is_err() {
        return Err(GitError::UnknownRevision {
            since: since.to_string(),
            dir: root,
        });
    }
    let range = format!("{since}...HEAD");
    let mut files = Vec::new();
    for args in [
        &["diff", "--name-only", "-z", "--no-renames", &range][..],
        &["diff", "--name-only", "-z", "--no-renames", "HEAD"],
        &["ls-files", "--others", "--exclude-standard", "-z"],
    ] {
        let out = checked(&root, args)?;
        for name in out.split(|&b| b == 0).filter(|n| !n.is_empty()) {
            let path = root.join(String::from_utf8_lossy(name).as_ref());
            if !files.contains(&path) {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}
