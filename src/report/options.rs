//! Which sinks a run reports to, from what the user asked for and the terminal and CI facts
//! read at the edge.

use std::path::PathBuf;

use super::env::ReportEnv;
use super::sink::Sink;
use super::{github, json, junit, terminal};

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
