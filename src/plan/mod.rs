//! The plan: which go commands run, with which flags, env and working dir, in which batches.
//!
//! Pure data built from already-resolved inputs (manifest, workspace, budget, Go version);
//! building it reads no files, env, clock or processes. Every Go quirk lives here as a
//! tested function, so `--dry-run` output is exactly what the executor runs.

pub mod affected;
pub mod batches;
pub mod build;
pub mod check;
pub mod command;
pub mod cover;
pub mod dryrun;
pub mod goflags;
pub mod order;
pub mod remote;
pub mod retry;
pub mod select;
pub mod shard;
pub mod split;
pub mod tasks;
pub mod test;
pub mod watch;

pub use build::{BuildPlan, PlanContext, plan_build};
pub use command::GoCommand;
