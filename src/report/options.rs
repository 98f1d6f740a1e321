//! Which sinks a run reports to, from what the user asked for and the terminal and CI facts
//! read at the edge.

use std::path::PathBuf;

use super::sink::Sink;
use super::{github, json, junit, terminal};

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

/// What the user asked to be reported, besides the terminal.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// Facts about the terminal and CI.
    pub env: ReportEnv,
    /// `--json`: JSON lines on stdout.
    pub json: bool,
    /// `--junit PATH`.
    pub junit: Option<PathBuf>,
    /// Where to record package times (test runs).
    pub timings: Option<PathBuf>,
    /// The workspace dir (compile errors name files relative to it).
    pub workspace_dir: PathBuf,
}

impl ReportOptions {
    /// The sinks for this process: the terminal, then JSON lines, JUnit, GitHub Actions
    /// annotations (when `GITHUB_ACTIONS=true`; on stderr in `--json` mode) and the timing
    /// history, as asked.
    pub fn sinks(&self) -> Vec<Box<dyn Sink + Send>> {
        let mut sinks: Vec<Box<dyn Sink + Send>> = vec![Box::new(terminal::Terminal::for_process(
            &self.env, self.json,
        ))];
        if self.json {
            sinks.push(Box::new(json::JsonLines::new(Box::new(std::io::stdout()))));
        }
        if let Some(path) = &self.junit {
            sinks.push(Box::new(junit::Junit::new(path.clone())));
        }
        if let Some(root) = &self.env.github_root {
            let out: Box<dyn std::io::Write + Send> = if self.json {
                Box::new(std::io::stderr())
            } else {
                Box::new(std::io::stdout())
            };
            sinks.push(Box::new(github::GithubActions::new(
                out,
                self.workspace_dir.clone(),
                root.clone(),
            )));
        }
        if let Some(path) = &self.timings {
            sinks.push(Box::new(crate::report::timings::TimingRecorder::new(
                path.clone(),
            )));
        }
        sinks
    }
}
