//! The split `gob test --shard K/N` runs and `gob shards N` prints: the selected suites'
//! packages with their recorded times, balanced by [`crate::plan::shard`].

use std::path::PathBuf;

use crate::base::state::TIMINGS_FILE;
use crate::cli::SuiteSelection;
use crate::commands::context::Globals;
use crate::manifest::Manifest;
use crate::plan::shard::{Shard, ShardItem, plan_shards};
use crate::report::timings::History;
use crate::workspace::suites::{ExpandedSuite, TestPackage};

/// The timing history file: `--timings` (relative to the current dir) or the workspace's.
pub fn timings_path(globals: &Globals, manifest: &Manifest, selection: &SuiteSelection) -> PathBuf {
    match &selection.timings {
        Some(path) => globals.cwd.join(path),
        None => manifest.workspace_dir.join(TIMINGS_FILE),
    }
}

/// The shards of `packages` (per suite, in the order of `suites`).
pub fn plan(
    suites: &[ExpandedSuite],
    packages: &[Vec<TestPackage>],
    history: &History,
    count: usize,
) -> Vec<Shard> {
    let items: Vec<ShardItem> = suites
        .iter()
        .zip(packages)
        .flat_map(|(s, packages)| {
            packages.iter().map(|p| ShardItem {
                suite: s.spec.name.clone(),
                recorded: history.seconds(&s.spec.name, &p.import_path),
                package: p.import_path.clone(),
            })
        })
        .collect();
    plan_shards(&items, count)
}
