//! `gob shards N`: how `gob test --shard K/N` splits the selected suites' packages.

use crate::cli::ShardsArgs;
use crate::context::{Context, Globals, load_manifest};
use crate::error::GobError;
use crate::plan::shard::{Shard, ShardItem, plan_shards};
use crate::suites::ExpandedSuite;
use crate::timings::History;

/// Runs `gob shards`.
pub fn run(globals: &Globals, args: &ShardsArgs) -> Result<(), GobError> {
    let manifest = load_manifest(globals)?;
    let specs = super::test::select(&manifest, &args.selection)?;
    let ctx = Context::load(globals, &manifest.workspace_dir)?;
    let expanded = crate::suites::expand(&manifest, &specs, &ctx.go)?;
    let path = super::test::timings_path(globals, &manifest, &args.selection);
    let history = History::load(&path);
    let count = usize::from(args.count);
    for (i, shard) in plan(&expanded, &history, count).iter().enumerate() {
        println!(
            "shard {}/{count}: {}, ~{:.1}s",
            i + 1,
            crate::report::plural(shard.items.len(), "package"),
            shard.total
        );
        for (item, estimate) in &shard.items {
            let source = if item.recorded.is_some() {
                "recorded"
            } else {
                "no history: median"
            };
            println!(
                "  {:>8.2}s  {} {}  ({source})",
                estimate, item.suite, item.package
            );
        }
    }
    Ok(())
}

/// The shards of the packages with tests of `suites`.
pub fn plan(suites: &[ExpandedSuite], history: &History, count: usize) -> Vec<Shard> {
    let items: Vec<ShardItem> = suites
        .iter()
        .flat_map(|s| {
            s.test_packages().into_iter().map(|p| ShardItem {
                suite: s.spec.name.clone(),
                recorded: history.seconds(&s.spec.name, &p.import_path),
                package: p.import_path,
            })
        })
        .collect();
    plan_shards(&items, count)
}
