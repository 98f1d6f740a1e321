//! The facts about gob's output that reporting depends on (terminals, CI, GitHub Actions),
//! read once at the edge.

use std::path::PathBuf;

/// Where gob's output goes, as far as reporting cares; read once at the edge
/// (`commands::context::report_env`) so reporters are functions of events and settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportEnv {
    /// stdout is a terminal.
    pub stdout_tty: bool,
    /// stderr is a terminal.
    pub stderr_tty: bool,
    /// `CI` is set.
    pub ci: bool,
    /// `TERM=dumb`.
    pub dumb_term: bool,
    /// `NO_COLOR` is set.
    pub no_color: bool,
    /// With `GITHUB_ACTIONS=true`: the dir annotation paths are relative to
    /// (`GITHUB_WORKSPACE`, else the current dir).
    pub github_root: Option<PathBuf>,
}
