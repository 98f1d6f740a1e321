//! The selection stage's wiring for every `gob test` path: reads what its steps need (the
//! record of the last run for `--failed`, the shard plan or the timing history for
//! `--shard`), runs [`crate::plan::select`], and says what it chose: the shard line, and with
//! `--explain` why each package runs or not. `--since`'s selections come in from the caller
//! (only the source tree can answer them).

use std::collections::BTreeMap;
use std::path::Path;

use crate::base::events::GobEvent;
use crate::cli::TestArgs;
use crate::error::GobError;
use crate::plan::affected::Selection;
use crate::plan::retry::FailedTests;
use crate::plan::select::{Candidates, Selected, Split, Steps, select};
use crate::plan::split::Splits;
use crate::report::timings::History;

/// What a command hands its caller once the suites are expanded: each suite's selection
/// (`None`: every package), as a watch cycle decides it.
pub type Narrow<'a> = &'a mut dyn FnMut(
    &crate::commands::context::Context,
    &crate::manifest::Manifest,
    &[crate::workspace::suites::ExpandedSuite],
) -> Result<Option<Vec<Selection>>, GobError>;

/// Reads the record of the last run's failures strictly: `--failed` with no record, or one
/// gob cannot read, must not pass as "nothing failed".
pub fn load_failed_strictly(path: &Path) -> Result<FailedTests, GobError> {
    let bytes = std::fs::read(path).map_err(|e| {
        GobError::Usage(match e.kind() {
            std::io::ErrorKind::NotFound => format!(
                "--failed: there is no record of a last run ({} is missing); run the tests once without --failed",
                path.display()
            ),
            _ => format!("--failed: cannot read {}: {e}", path.display()),
        })
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        GobError::Usage(format!(
            "--failed: {} is not a record of failed tests gob can read ({e}); run the tests once without --failed",
            path.display()
        ))
    })
}

/// Chooses the packages of `candidates` that run: `--failed` (record at `failed_path`),
/// `since` (the base commit and each suite's selection), `--shard` (its plan, else the
/// timing `history`). Prints the shard line.
pub fn choose(
    args: &TestArgs,
    candidates: &[Candidates],
    since: Option<(&str, &[Selection])>,
    failed_path: &Path,
    history: &History,
    splits: &Splits,
) -> Result<Selected, GobError> {
    let record = match args.failed {
        true => Some(load_failed_strictly(failed_path)?),
        false => None,
    };
    let plan = match (&args.shard, &args.shard_plan) {
        (Some(shard), Some(path)) => Some(super::sharding::read_split(path, shard.count)?),
        _ => None,
    };
    let history: BTreeMap<(String, String), f64> = match (&args.shard, &plan) {
        (Some(_), None) => super::sharding::recorded(candidates, history),
        _ => BTreeMap::new(),
    };
    let split = match &plan {
        Some(shards) => Split::Plan(shards),
        None => Split::History(&history),
    };
    let steps = Steps {
        failed: record.as_ref(),
        since,
        shard: args.shard.map(|spec| (spec, split)),
        splits: Some(splits),
    };
    let selected = select(candidates, &steps);
    if let Some(summary) = &selected.shard {
        let basis = match &args.shard_plan {
            Some(path) => format!("the split in {}", path.display()),
            None => "the timing history".to_string(),
        };
        let hashed = match summary.by_hash {
            0 => String::new(),
            n => format!(
                " ({} not in the plan, assigned by hash)",
                crate::report::plural(n, "package")
            ),
        };
        eprintln!(
            "gob: shard {} of split {}: {} of {} packages, ~{:.1}s by {basis}{hashed}",
            summary.spec, summary.fingerprint, summary.mine, summary.total, summary.estimate
        );
    }
    Ok(selected)
}

/// What a run says when its steps left no package to run (and no other shard runs one):
/// `None` when some package runs or another shard does.
pub fn nothing_to_run(
    selected: &Selected,
    args: &TestArgs,
    changed: Option<usize>,
) -> Option<String> {
    if !selected.is_empty() || selected.shard.is_some() {
        return None;
    }
    let suites: Vec<&str> = selected.suites.iter().map(|s| s.suite.as_str()).collect();
    let what = format!(
        "{} {}",
        if suites.len() == 1 { "suite" } else { "suites" },
        suites.join(", ")
    );
    Some(match (&args.since, args.failed) {
        (Some(since), _)
            if selected.suites.iter().all(|s| {
                s.left
                    .iter()
                    .all(|(_, l)| matches!(l, crate::plan::select::Left::NotAffected(_)))
            }) =>
        {
            format!(
                "gob: no test package of the selected suites is affected by the changes since {since} ({})",
                crate::report::plural(changed.unwrap_or(0), "changed file")
            )
        }
        (_, true) => format!("gob: nothing failed in the last run of {what}"),
        _ => format!("gob: no test package of {what} is selected"),
    })
}

/// The `gob-selection` events of `--explain --json`: every package of every suite, whether
/// it runs, and why (with every input that differs, when `--since` says so).
pub fn events(selected: &Selected, since: Option<&[Selection]>) -> Vec<GobEvent> {
    let mut out = Vec::new();
    for (index, suite) in selected.suites.iter().enumerate() {
        let selection = since.and_then(|s| s.get(index));
        let reason_of = |package: &str| {
            selection.and_then(|s| {
                s.selected
                    .iter()
                    .find(|(p, _)| p == package)
                    .map(|(_, r)| r)
            })
        };
        for (package, _) in &suite.run {
            let reason = reason_of(package);
            let differences = match reason {
                Some(crate::plan::affected::Reason::Differs { all, .. }) => {
                    serde_json::to_value(all).unwrap_or_default()
                }
                _ => serde_json::Value::Null,
            };
            out.push(GobEvent::Selection {
                suite: suite.suite.clone(),
                package: package.clone(),
                run: true,
                why: reason
                    .map(super::affected::explain)
                    .unwrap_or_else(|| "selected".into()),
                differences,
            });
        }
        for (package, left) in &suite.left {
            out.push(GobEvent::Selection {
                suite: suite.suite.clone(),
                package: package.clone(),
                run: false,
                why: left.to_string(),
                differences: serde_json::Value::Null,
            });
        }
    }
    out
}
