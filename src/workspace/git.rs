//! The one place gob runs git, for `--since`: the repository's root, the commit a change is
//! compared with (the merge base of REF and HEAD), the paths that differ between it and the
//! work tree, and which paths git ignores. [`Git`] runs every git command, also those that
//! write a commit's tree out.

use std::ffi::OsStr;
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
    /// A shallow clone that lacks the merge base.
    #[error(
        "--since {since}: this clone is shallow and holds no common ancestor of {since} and HEAD in {}; fetch the history (`git fetch --unshallow`, or `fetch-depth: 0` with actions/checkout)",
        dir.display()
    )]
    Shallow {
        /// The revision asked for.
        since: String,
        /// The repository.
        dir: PathBuf,
    },
    /// REF and HEAD share no history.
    #[error("--since {since}: {since} and HEAD have no common ancestor in {}", dir.display())]
    Unrelated {
        /// The revision asked for.
        since: String,
        /// The repository.
        dir: PathBuf,
    },
    /// A submodule whose files at the compared commit cannot be read.
    #[error("--since: submodule {} {why}", path.display())]
    Submodule {
        /// The submodule's dir.
        path: PathBuf,
        /// What is missing, and what to run.
        why: String,
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

/// git run in one repository, with an optional index file of its own.
#[derive(Debug, Clone)]
pub struct Git {
    /// The repository's work tree root.
    pub root: PathBuf,
    /// `GIT_INDEX_FILE`, when the command must not touch the repository's index.
    pub index: Option<PathBuf>,
}

impl Git {
    /// git in `root`.
    pub fn at(root: &Path) -> Git {
        Git {
            root: root.to_path_buf(),
            index: None,
        }
    }

    /// Runs git; `Ok(Err(stderr))` when git ran and failed.
    pub fn try_run<S: AsRef<OsStr>>(
        &self,
        args: &[S],
        stdin: Option<&[u8]>,
    ) -> Result<Result<Vec<u8>, String>, GitError> {
        let mut command = Command::new("git");
        command
            .arg("-C")
            .arg(&self.root)
            .args(args)
            // Large files stored elsewhere are not fetched for a comparison.
            .env("GIT_LFS_SKIP_SMUDGE", "1")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        if let Some(index) = &self.index {
            command.env("GIT_INDEX_FILE", index);
        }
        let mut child = command.spawn().map_err(GitError::NoGit)?;
        let input = stdin.map(<[u8]>::to_vec);
        let mut pipe = child.stdin.take();
        let writer = std::thread::spawn(move || {
            if let (Some(pipe), Some(input)) = (pipe.as_mut(), input) {
                let _ = std::io::Write::write_all(pipe, &input);
            }
        });
        let output = child.wait_with_output().map_err(GitError::NoGit)?;
        let _ = writer.join();
        Ok(match output.status.success() {
            true => Ok(output.stdout),
            false => Err(String::from_utf8_lossy(&output.stderr).trim().to_string()),
        })
    }

    /// Runs git; its failure is an error.
    pub fn run<S: AsRef<OsStr>>(&self, args: &[S]) -> Result<Vec<u8>, GitError> {
        self.try_run(args, None)?
            .map_err(|stderr| self.failed(args, stderr))
    }

    /// The error of a failed git command.
    pub fn failed<S: AsRef<OsStr>>(&self, args: &[S], stderr: String) -> GitError {
        let words: Vec<String> = args
            .iter()
            .map(|a| a.as_ref().to_string_lossy().into_owned())
            .collect();
        GitError::Failed {
            command: words.join(" "),
            dir: self.root.clone(),
            stderr,
        }
    }
}

/// The root of the repository holding `dir`, as a real path (git resolves symlinks).
pub fn repository_root(dir: &Path) -> Result<PathBuf, GitError> {
    let out = Git::at(dir)
        .try_run(&["rev-parse", "--show-toplevel"], None)?
        .map_err(|_| GitError::NotARepository(dir.to_path_buf()))?;
    let root = PathBuf::from(String::from_utf8_lossy(&out).trim());
    Ok(std::fs::canonicalize(&root).unwrap_or(root))
}

/// The commit a change since `since` is compared with: the merge base of `since` and HEAD
/// (what the branch changed since it left `since`, as `git diff since...HEAD` says).
pub fn merge_base(root: &Path, since: &str) -> Result<String, GitError> {
    let git = Git::at(root);
    let revision = format!("{since}^{{commit}}");
    if git
        .try_run(&["rev-parse", "--verify", "--quiet", &revision], None)?
        .is_err()
    {
        return Err(GitError::UnknownRevision {
            since: since.to_string(),
            dir: root.to_path_buf(),
        });
    }
    match git.try_run(&["merge-base", since, "HEAD"], None)? {
        Ok(out) => Ok(String::from_utf8_lossy(&out).trim().to_string()),
        Err(_) => {
            let shallow = git.run(&["rev-parse", "--is-shallow-repository"])?;
            let error = match String::from_utf8_lossy(&shallow).trim() == "true" {
                true => GitError::Shallow {
                    since: since.to_string(),
                    dir: root.to_path_buf(),
                },
                false => GitError::Unrelated {
                    since: since.to_string(),
                    dir: root.to_path_buf(),
                },
            };
            Err(error)
        }
    }
}

/// Splits git's `-z` output into paths relative to the repository root.
pub fn split_paths(out: &[u8]) -> Vec<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    out.split(|&b| b == 0)
        .filter(|n| !n.is_empty())
        .map(|n| PathBuf::from(OsStr::from_bytes(n)))
        .collect()
}

/// The paths (relative to `root`) that differ between `commit` and the work tree: tracked
/// files changed since, committed or not, submodules whose commit or content changed, and
/// untracked files git does not ignore; nothing below `skip` (gob's state, relative to
/// `root`), which git is told to leave out rather than list.
pub fn changed_since(root: &Path, commit: &str, skip: &Path) -> Result<Vec<PathBuf>, GitError> {
    let git = Git::at(root);
    let mut exclude = std::ffi::OsString::from(":(exclude,top)");
    exclude.push(skip.as_os_str());
    let mut files = Vec::new();
    for args in [
        &[
            "diff",
            "--name-only",
            "-z",
            "--no-renames",
            "--ignore-submodules=none",
            commit,
        ][..],
        &["ls-files", "--others", "--exclude-standard", "-z"],
    ] {
        let mut args: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
        args.extend(["--".into(), ":(top)".into(), exclude.clone()]);
        files.extend(split_paths(&git.run(&args)?));
    }
    files.sort();
    files.dedup();
    Ok(files)
}

/// The paths among `paths` (relative to `root`) that git ignores.
pub fn ignored(root: &Path, paths: &[PathBuf]) -> Result<Vec<PathBuf>, GitError> {
    use std::os::unix::ffi::OsStrExt;
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let mut input = Vec::new();
    for path in paths {
        input.extend_from_slice(path.as_os_str().as_bytes());
        input.push(0);
    }
    let args = ["check-ignore", "-z", "--stdin"];
    match Git::at(root).try_run(&args, Some(&input))? {
        Ok(out) => Ok(split_paths(&out)),
        // Exit status 1: none of them is ignored.
        Err(stderr) if stderr.is_empty() => Ok(Vec::new()),
        Err(stderr) => Err(Git::at(root).failed(&args, stderr)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_paths_split_on_nul_and_keep_odd_bytes() {
        use std::os::unix::ffi::OsStrExt;
        let paths = split_paths(b"a b.go\0dir/\xff.txt\0\0");
        assert_eq!(paths.len(), 2);
        assert_eq!(paths[0], Path::new("a b.go"));
        assert_eq!(paths[1].as_os_str().as_bytes(), b"dir/\xff.txt");
    }
}
