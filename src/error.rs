//! The boundary error: every failure a command can end with, rendered once and mapped to
//! an [`Exit`] code. Manifest problems render as miette snippets of gobuild.toml.

use std::path::PathBuf;

use crate::base::exit::Exit;
use crate::manifest::{LocateError, ManifestError, ProblemReport};

/// Everything that can stop a gob command.
#[derive(Debug, thiserror::Error)]
pub enum GobError {
    /// No manifest found.
    #[error(transparent)]
    Locate(#[from] LocateError),
    /// The manifest cannot be read or has problems.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// A go query failed.
    #[error(transparent)]
    Go(#[from] crate::workspace::gotool::GoToolError),
    /// `go env` reported a version gob cannot read.
    #[error("cannot tell the Go version from GOVERSION={0:?}")]
    GoVersion(String),
    /// go is older than gob supports.
    #[error(
        "gob needs Go 1.{} or newer; `{program}` is {version}",
        crate::go::version::MIN_MINOR
    )]
    GoTooOld {
        /// The go program.
        program: String,
        /// Its version.
        version: String,
    },
    /// `GOB_JOBS` is malformed.
    #[error(transparent)]
    Jobs(#[from] crate::budget::BadJobs),
    /// A name on the command line matches no binary.
    #[error(transparent)]
    UnknownBinary(#[from] crate::workspace::UnknownBinary),
    /// A name on the command line matches no suite.
    #[error(transparent)]
    UnknownSuite(#[from] crate::workspace::suites::UnknownSuite),
    /// `gob init` found a manifest.
    #[error(transparent)]
    ManifestExists(#[from] crate::manifest::ManifestExists),
    /// The workspace lock was not taken.
    #[error(transparent)]
    Lock(#[from] crate::exec::lock::LockError),
    /// A child could not be started.
    #[error(transparent)]
    Spawn(#[from] crate::exec::SpawnError),
    /// A file operation failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What gob was doing, e.g. "cannot publish".
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// `--since` cannot be answered (no git, not a repository, an unknown revision).
    #[error(transparent)]
    Git(#[from] crate::workspace::git::GitError),
    /// `GOB_REMOTE_CACHE*` or `[cache]` cannot be used.
    #[error(transparent)]
    RemoteCache(#[from] crate::workspace::remotecache::BadRemoteCache),
    /// The command line asks for something that cannot be (a shard plan of another split, an
    /// unreadable input file it names).
    #[error("{0}")]
    Usage(String),
    /// A build or test failed; the details were already shown.
    #[error("{0}")]
    Failed(String),
    /// A signal stopped the run.
    #[error("interrupted by signal {0}")]
    Interrupted(i32),
}

impl From<crate::workspace::since::SinceError> for GobError {
    fn from(error: crate::workspace::since::SinceError) -> Self {
        match error {
            crate::workspace::since::SinceError::Git(e) => GobError::Git(e),
            crate::workspace::since::SinceError::Go(e) => GobError::Go(e),
        }
    }
}

impl GobError {
    /// The exit code this error ends the process with.
    pub fn exit(&self) -> Exit {
        match self {
            GobError::Locate(_)
            | GobError::Manifest(ManifestError::Invalid { .. })
            | GobError::Jobs(_)
            | GobError::UnknownBinary(_)
            | GobError::UnknownSuite(_)
            | GobError::ManifestExists(_)
            | GobError::RemoteCache(_)
            | GobError::Git(_)
            | GobError::Usage(_) => Exit::Usage,
            GobError::Manifest(ManifestError::Read { .. })
            | GobError::Go(_)
            | GobError::GoVersion(_)
            | GobError::GoTooOld { .. }
            | GobError::Spawn(_)
            | GobError::Io { .. } => Exit::Environment,
            GobError::Lock(crate::exec::lock::LockError::Busy { .. }) => Exit::Busy,
            GobError::Lock(crate::exec::lock::LockError::Io { .. }) => Exit::Environment,
            GobError::Lock(crate::exec::lock::LockError::Interrupted(sig)) => {
                Exit::for_signal(*sig)
            }
            GobError::Failed(_) => Exit::Failure,
            GobError::Interrupted(sig) => Exit::for_signal(*sig),
        }
    }

    /// Prints the error to stderr.
    pub fn render(&self) {
        match self {
            GobError::Manifest(ManifestError::Invalid {
                path,
                text,
                problems,
            }) => {
                let name = display_name(path);
                for problem in problems {
                    let report = ProblemReport::new(problem, &name, text.clone());
                    eprintln!("{:?}", miette::Report::new(report));
                }
                eprintln!(
                    "gob: error: {} has {} problem{}",
                    path.display(),
                    problems.len(),
                    if problems.len() == 1 { "" } else { "s" }
                );
            }
            other => eprintln!("gob: error: {other}"),
        }
    }
}

/// The manifest path as the user most likely wrote it: relative to the cwd when inside it.
fn display_name(path: &std::path::Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(|p| p.display().to_string()))
        .unwrap_or_else(|| path.display().to_string())
}
