//! Reporting. Runners and commands hand every event to the [`Reporter`] and never print;
//! the reporter keeps per-package state ([`Collector`]) and fans events and finished packages
//! out to the sinks the user asked for: the terminal (live progress or plain lines), JSON
//! lines, JUnit XML, GitHub Actions annotations, the timing history.

mod collect;
pub mod coverage;
mod env;
pub mod github;
pub mod json;
pub mod junit;
mod options;
mod reporter;
mod sink;
pub mod terminal;
pub mod timings;
pub mod watch;

#[cfg(test)]
pub use collect::TestResult;
pub use collect::{PackageOutcome, PackageResult, TestStatus};
pub use env::ReportEnv;
pub use options::ReportOptions;
pub use reporter::{Reporter, SuitePolicy};
pub use sink::{binaries, plural};

pub use crate::base::events::GobEvent;

#[cfg(test)]
mod tests;
