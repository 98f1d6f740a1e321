//! `gob shards N`: how `gob test --shard K/N` splits the selected suites' packages.

use super::sharding::{plan, timings_path};
use crate::cli::ShardsArgs;
use crate::commands::context::{Context, Globals, load_manifest};
use crate::error::GobError;
use crate::report::timings::History;

/// Runs `gob shards`.
pub fn run(globals: &Globals, args: &ShardsArgs) -> Result<(), GobError> {
    let manifest = load_manifest(globals)?;
    let specs =
        crate::workspace::suites::select(&manifest, &args.selection.suites, args.selection.integ)?;
    let ctx = Context::load(globals, &manifest.workspace_dir)?;
    let expanded = crate::workspace::suites::expand(&manifest, &specs, &ctx.go)?;
    let path = timings_path(globals, &manifest, &args.selection);
    let history = History::load(&path);
    let count = usize::from(args.count);
    let packages: Vec<_> = expanded.iter().map(|s| s.test_packages()).collect();
    let candidates = super::test::candidates(&expanded, &packages);
    let targets = super::sharding::split_targets(&expanded);
    let splits = super::sharding::splits(&candidates, &targets, &history, &ctx.version, &[]);
    let shards = plan(&candidates, &history, count, &splits);
    println!(
        "split {} ({count} shards, by {})",
        crate::plan::shard::fingerprint(&shards),
        path.display()
    );
    if let Some(out) = &args.plan {
        let json =
            serde_json::to_string_pretty(&super::sharding::split_file(&shards)).unwrap_or_default();
        crate::commands::context::write_file(out, format!("{json}\n").as_bytes())?;
    }
    for (i, shard) in shards.iter().enumerate() {
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
                estimate,
                item.suite,
                item.name()
            );
        }
    }
    Ok(())
}
