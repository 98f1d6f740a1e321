//! The split `gob test --shard K/N` runs and `gob shards N` prints: the selected suites'
//! packages with their recorded times, balanced by [`crate::plan::shard`].

use std::path::PathBuf;

use crate::base::state::TIMINGS_FILE;
use crate::cli::SuiteSelection;
use crate::commands::context::Globals;
use crate::manifest::Manifest;
use serde::{Deserialize, Serialize};

use crate::error::GobError;
use crate::go::testrun::chooses_tests;
use crate::plan::select::{Candidates, Split, Steps, select, shard_items};
use crate::plan::shard::{Shard, ShardItem, fingerprint, plan_shards};
use crate::plan::split::{Splits, split_package};
use crate::report::timings::History;
use crate::workspace::suites::ExpandedSuite;
use std::collections::BTreeMap;

/// The timing history file: `--timings` (relative to the current dir) or the workspace's.
pub fn timings_path(globals: &Globals, manifest: &Manifest, selection: &SuiteSelection) -> PathBuf {
    match &selection.timings {
        Some(path) => globals.cwd.join(path),
        None => manifest.workspace_dir.join(TIMINGS_FILE),
    }
}

/// The shards of every package of `candidates`, the groups of split packages placed like
/// packages.
pub fn plan(
    candidates: &[Candidates],
    history: &History,
    count: usize,
    splits: &Splits,
) -> Vec<Shard> {
    let every = select(candidates, &Steps::default()).suites;
    let recorded = recorded(candidates, history);
    let items = shard_items(&every, &Split::History(&recorded), splits);
    plan_shards(&items, count)
}

/// The recorded seconds of each (suite, package) of `candidates` that `history` has.
pub fn recorded(candidates: &[Candidates], history: &History) -> BTreeMap<(String, String), f64> {
    candidates
        .iter()
        .flat_map(|c| c.packages.iter().map(move |p| (c.suite.clone(), p.clone())))
        .filter_map(|(s, p)| history.seconds(&s, &p).map(|t| ((s, p), t)))
        .collect()
}

/// The groups of the packages of `candidates` whose suite splits (`targets`: seconds by
/// suite name) and whose history exceeds the target. None before Go 1.20 (its test
/// binaries have no `-test.skip` for the catch-all group), and none when the user's
/// arguments choose tests (`--run`, `-- -test.run=…`: a group's filter would override it).
pub fn splits(
    candidates: &[Candidates],
    targets: &BTreeMap<String, f64>,
    history: &History,
    version: &crate::go::version::GoVersion,
    user_args: &[String],
) -> Splits {
    let mut splits = Splits::new();
    if targets.is_empty() || !version.at_least(20) || chooses_tests(user_args) {
        return splits;
    }
    for candidate in candidates {
        let Some(target) = targets.get(&candidate.suite) else {
            continue;
        };
        let name = &candidate.suite;
        for path in &candidate.packages {
            let tests = history.tests(name, path).cloned().unwrap_or_default();
            let seconds = history.seconds(name, path);
            if let Some(groups) = split_package(seconds, &tests, *target) {
                splits.insert((name.clone(), path.clone()), groups);
            }
        }
    }
    splits
}

/// The `split` targets of `suites`, in seconds by suite name.
pub fn split_targets(suites: &[ExpandedSuite]) -> BTreeMap<String, f64> {
    suites
        .iter()
        .filter_map(|s| Some((s.spec.name.clone(), s.spec.split?.as_secs_f64())))
        .collect()
}

/// A split as `gob shards N --plan PATH` writes it and `--shard-plan PATH` reads it.
#[derive(Debug, Serialize, Deserialize)]
pub struct SplitFile {
    /// Format version (1).
    pub version: u32,
    /// Number of shards.
    pub count: usize,
    /// [`fingerprint`] of the split.
    pub fingerprint: String,
    /// The shards, first to last.
    pub shards: Vec<SplitShard>,
}

/// One shard of a [`SplitFile`].
#[derive(Debug, Serialize, Deserialize)]
pub struct SplitShard {
    /// 1-based.
    pub shard: usize,
    /// Sum of the estimates, seconds.
    pub total: f64,
    /// Its packages.
    pub packages: Vec<SplitPackage>,
}

/// One package (or group of a split package) of a [`SplitShard`].
#[derive(Debug, Serialize, Deserialize)]
pub struct SplitPackage {
    /// Suite name.
    pub suite: String,
    /// Import path.
    pub package: String,
    /// Of a split package: the group (1-based) …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<usize>,
    /// … and its top-level tests (empty: the catch-all, every test no other group names).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tests: Option<Vec<String>>,
    /// Estimated seconds.
    pub estimate: f64,
    /// Seconds the timing history recorded, if it had the package.
    pub recorded: Option<f64>,
}

/// `shards` as a [`SplitFile`].
pub fn split_file(shards: &[Shard]) -> SplitFile {
    SplitFile {
        version: 1,
        count: shards.len(),
        fingerprint: fingerprint(shards),
        shards: shards
            .iter()
            .enumerate()
            .map(|(i, shard)| SplitShard {
                shard: i + 1,
                total: shard.total,
                packages: shard
                    .items
                    .iter()
                    .map(|(item, estimate)| SplitPackage {
                        suite: item.suite.clone(),
                        package: item.package.clone(),
                        group: item.group.as_ref().map(|g| g.0 + 1),
                        tests: item.group.as_ref().map(|g| g.1.clone()),
                        estimate: *estimate,
                        recorded: item.recorded,
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// The split in `path`, which must have `count` shards.
pub fn read_split(path: &std::path::Path, count: usize) -> Result<Vec<Shard>, GobError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        GobError::Usage(format!(
            "cannot read the shard plan {}: {e}",
            path.display()
        ))
    })?;
    let file: SplitFile = serde_json::from_str(&text)
        .map_err(|e| GobError::Usage(format!("{} is not a shard plan: {e}", path.display())))?;
    if file.count != count || file.shards.len() != count {
        return Err(GobError::Usage(format!(
            "{} splits into {} shards, not {count}",
            path.display(),
            file.count
        )));
    }
    Ok(file
        .shards
        .into_iter()
        .map(|shard| Shard {
            total: shard.total,
            items: shard
                .packages
                .into_iter()
                .map(|p| {
                    let group = p
                        .group
                        .map(|g| (g.saturating_sub(1), p.tests.unwrap_or_default()));
                    let item = ShardItem {
                        suite: p.suite,
                        package: p.package,
                        recorded: p.recorded,
                        group,
                    };
                    (item, p.estimate)
                })
                .collect(),
        })
        .collect())
}

/// Where a run writes the times it measured: `--timings-out`; with `--shard`, a file of its
/// own beside gob's state in `root`, so the history the split came from stays as it was;
/// else the history itself.
pub fn timings_out(
    explicit: Option<&PathBuf>,
    shard: Option<crate::plan::shard::ShardSpec>,
    root: &std::path::Path,
    history: &std::path::Path,
) -> PathBuf {
    match (explicit, shard) {
        (Some(path), _) => path.clone(),
        (None, Some(shard)) => root.join(format!(
            "{}/timings-shard-{}-of-{}.json",
            crate::base::state::STATE_DIR,
            shard.index,
            shard.count
        )),
        (None, None) => history.to_path_buf(),
    }
}
