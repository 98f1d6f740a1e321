//! The selection stage every `gob test` path shares (here, `--archive`, `--from-archive`):
//! which packages of the selected suites run, and why each other one does not. The steps,
//! in order: `--failed` (the record of the last run) → `--since` (what a change can
//! affect) → shard (a plan file, else the timing history). `--run` and `-- ARGS` select no
//! package: they reach every binary. Every package of a suite ends the stage either chosen
//! (with the arguments `--failed` gives it) or left out with its reason. Pure: the record,
//! the `--since` selections and the split come in.

use std::collections::{BTreeMap, HashMap};

use crate::plan::affected;
use crate::plan::retry::{FailedTests, failed_args};
use crate::plan::shard::{Shard, ShardItem, ShardSpec, fingerprint, plan_shards};

/// A suite and its packages with tests, in run order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidates {
    /// Suite name.
    pub suite: String,
    /// Import paths.
    pub packages: Vec<String>,
}

/// Why a package does not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Left {
    /// `--failed`: it did not fail in the last run.
    NotFailed,
    /// `--since`: its inputs are the same at the base commit (named).
    NotAffected(String),
    /// `--shard`: another shard (1-based) runs it.
    OtherShard(usize),
}

impl std::fmt::Display for Left {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Left::NotFailed => write!(f, "did not fail in the last run"),
            Left::NotAffected(base) => write!(f, "not affected: its inputs are those of {base}"),
            Left::OtherShard(shard) => write!(f, "shard {shard} runs it"),
        }
    }
}

/// What the stage decided for one suite.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SuiteChoice {
    /// Suite name.
    pub suite: String,
    /// The packages that run, in run order, with arguments of their own (`--failed`'s
    /// `-test.run` of the tests that failed).
    pub run: Vec<(String, Vec<String>)>,
    /// The packages left out, with why.
    pub left: Vec<(String, Left)>,
}

impl SuiteChoice {
    /// How many packages `--since` left out.
    pub fn not_affected(&self) -> usize {
        self.left
            .iter()
            .filter(|(_, l)| matches!(l, Left::NotAffected(_)))
            .count()
    }

    /// The arguments of its chosen packages that have some.
    pub fn package_args(&self) -> BTreeMap<String, Vec<String>> {
        self.run
            .iter()
            .filter(|(_, args)| !args.is_empty())
            .cloned()
            .collect()
    }

    /// Whether `package` runs.
    pub fn runs(&self, package: &str) -> bool {
        self.run.iter().any(|(p, _)| p == package)
    }
}

/// Where `--shard K/N` takes its split from.
#[derive(Debug, Clone)]
pub enum Split<'a> {
    /// A plan file (`gob shards N --plan`): its shards, first to last.
    Plan(&'a [Shard]),
    /// The timing history: seconds recorded per (suite, package).
    History(&'a BTreeMap<(String, String), f64>),
}

/// The steps a run asked for.
#[derive(Debug, Clone, Default)]
pub struct Steps<'a> {
    /// `--failed`: the record of the last run.
    pub failed: Option<&'a FailedTests>,
    /// `--since`: the commit compared with, and each suite's selection (in suite order).
    pub since: Option<(&'a str, &'a [affected::Selection])>,
    /// `--shard K/N` and its split.
    pub shard: Option<(ShardSpec, Split<'a>)>,
}

/// What the shard step did, for the line a shard prints.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardSummary {
    /// The shard.
    pub spec: ShardSpec,
    /// [`fingerprint`] of the split.
    pub fingerprint: String,
    /// Packages this shard runs.
    pub mine: usize,
    /// Packages of every shard.
    pub total: usize,
    /// Estimated seconds of this shard.
    pub estimate: f64,
    /// Packages a plan did not name, placed by the hash of their suite and import path.
    pub by_hash: usize,
}

/// The stage's result.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selected {
    /// One per candidate suite, in order.
    pub suites: Vec<SuiteChoice>,
    /// What the shard step did, when it ran.
    pub shard: Option<ShardSummary>,
}

impl Selected {
    /// Whether no package of any suite runs.
    pub fn is_empty(&self) -> bool {
        self.suites.iter().all(|s| s.run.is_empty())
    }
}

/// Runs the steps over `candidates`.
pub fn select(candidates: &[Candidates], steps: &Steps) -> Selected {
    let mut suites: Vec<SuiteChoice> = candidates
        .iter()
        .map(|c| SuiteChoice {
            suite: c.suite.clone(),
            run: c.packages.iter().map(|p| (p.clone(), Vec::new())).collect(),
            left: Vec::new(),
        })
        .collect();
    if let Some(record) = steps.failed {
        for suite in &mut suites {
            let last = record.get(&suite.suite).cloned().unwrap_or_default();
            let args = failed_args(&last);
            keep(suite, |p| match last.contains_key(p) {
                true => Ok(()),
                false => Err(Left::NotFailed),
            });
            for (package, extra) in &mut suite.run {
                *extra = args.get(package).cloned().unwrap_or_default();
            }
        }
    }
    if let Some((base, selections)) = steps.since {
        for (suite, selection) in suites.iter_mut().zip(selections) {
            keep(suite, |p| {
                match selection.not_affected.iter().any(|n| n == p) {
                    true => Err(Left::NotAffected(base.to_string())),
                    false => Ok(()),
                }
            });
        }
    }
    let shard = steps
        .shard
        .as_ref()
        .map(|(spec, split)| shard(&mut suites, *spec, split));
    Selected { suites, shard }
}

/// Keeps the packages `decide` lets run, and records the others with its reason.
fn keep(suite: &mut SuiteChoice, decide: impl Fn(&str) -> Result<(), Left>) {
    let run = std::mem::take(&mut suite.run);
    for (package, args) in run {
        match decide(&package) {
            Ok(()) => suite.run.push((package, args)),
            Err(left) => suite.left.push((package, left)),
        }
    }
}

/// Keeps the packages of shard `spec.index`: those the split places there, and of those a
/// plan does not name, the ones whose hash places them there.
fn shard(suites: &mut [SuiteChoice], spec: ShardSpec, split: &Split) -> ShardSummary {
    let items: Vec<ShardItem> = suites
        .iter()
        .flat_map(|s| {
            s.run.iter().map(|(p, _)| ShardItem {
                suite: s.suite.clone(),
                package: p.clone(),
                recorded: match split {
                    Split::History(history) => history.get(&(s.suite.clone(), p.clone())).copied(),
                    Split::Plan(_) => None,
                },
            })
        })
        .collect();
    let computed;
    let shards = match split {
        Split::Plan(shards) => *shards,
        Split::History(_) => {
            computed = plan_shards(&items, spec.count);
            &computed[..]
        }
    };
    let mut placed: HashMap<(&str, &str), (usize, f64)> = HashMap::new();
    for (index, s) in shards.iter().enumerate() {
        for (item, estimate) in &s.items {
            placed
                .entry((item.suite.as_str(), item.package.as_str()))
                .or_insert((index + 1, *estimate));
        }
    }
    let mut summary = ShardSummary {
        spec,
        fingerprint: fingerprint(shards),
        mine: 0,
        total: 0,
        estimate: 0.0,
        by_hash: 0,
    };
    for suite in suites.iter_mut() {
        for (package, args) in std::mem::take(&mut suite.run) {
            let (index, estimate) = match placed.get(&(suite.suite.as_str(), package.as_str())) {
                Some(place) => *place,
                None => {
                    summary.by_hash += 1;
                    (by_hash_shard(&suite.suite, &package, spec.count), 0.0)
                }
            };
            summary.total += 1;
            match index == spec.index {
                true => {
                    summary.mine += 1;
                    summary.estimate += estimate;
                    suite.run.push((package, args));
                }
                false => suite.left.push((package, Left::OtherShard(index))),
            }
        }
    }
    summary
}

/// The shard (1-based) of a package a plan does not name: every shard computes the same.
pub fn by_hash_shard(suite: &str, package: &str, count: usize) -> usize {
    let key = format!("{suite}\0{package}");
    (crate::base::hash::fnv1a(key.as_bytes()) % count.max(1) as u64) as usize + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn candidates(suite: &str, packages: &[&str]) -> Candidates {
        Candidates {
            suite: suite.into(),
            packages: packages.iter().map(|p| p.to_string()).collect(),
        }
    }

    fn running(selected: &Selected) -> Vec<Vec<&str>> {
        selected
            .suites
            .iter()
            .map(|s| s.run.iter().map(|(p, _)| p.as_str()).collect())
            .collect()
    }

    #[test]
    fn without_steps_everything_runs() {
        let all = [candidates("unit", &["m/a", "m/b"])];
        let selected = select(&all, &Steps::default());
        assert_eq!(running(&selected), [["m/a", "m/b"]]);
        assert!(selected.suites[0].left.is_empty() && selected.shard.is_none());
    }

    #[test]
    fn failed_then_since_each_leave_packages_out_with_their_reason() {
        let all = [candidates("unit", &["m/a", "m/b", "m/c"])];
        let mut record = FailedTests::new();
        record
            .entry("unit".into())
            .or_default()
            .insert("m/a".into(), vec!["TestX".into()]);
        record
            .entry("unit".into())
            .or_default()
            .insert("m/b".into(), vec![]);
        let since = [affected::Selection {
            selected: Vec::new(),
            not_affected: vec!["m/b".into(), "m/c".into()],
        }];
        let steps = Steps {
            failed: Some(&record),
            since: Some(("abc123", &since)),
            shard: None,
        };
        let selected = select(&all, &steps);
        let unit = &selected.suites[0];
        assert_eq!(
            unit.run,
            [("m/a".to_string(), vec!["-test.run=^(TestX)$".to_string()])]
        );
        assert_eq!(
            unit.left,
            [
                ("m/c".to_string(), Left::NotFailed),
                ("m/b".to_string(), Left::NotAffected("abc123".into()))
            ]
        );
        assert_eq!(unit.not_affected(), 1);
    }

    #[test]
    fn a_package_the_plan_does_not_name_is_placed_by_hash_and_counted() {
        let all = [candidates("integ", &["m/a", "m/new"])];
        let plan = plan_shards(
            &[ShardItem {
                suite: "integ".into(),
                package: "m/a".into(),
                recorded: Some(1.0),
            }],
            2,
        );
        let mut runs = Vec::new();
        for index in 1..=2 {
            let steps = Steps {
                shard: Some((ShardSpec { index, count: 2 }, Split::Plan(&plan))),
                ..Steps::default()
            };
            let selected = select(&all, &steps);
            let summary = selected.shard.clone().unwrap();
            assert_eq!((summary.by_hash, summary.total), (1, 2));
            runs.extend(selected.suites[0].run.iter().map(|(p, _)| p.clone()));
        }
        runs.sort();
        assert_eq!(runs, ["m/a", "m/new"]);
    }

    proptest! {
        #[test]
        fn the_shards_of_any_plan_run_every_selected_package_exactly_once(
            packages in prop::collection::btree_set("[a-e]{1,2}", 0..12),
            planned in prop::collection::vec(("[a-e]{1,2}", 0usize..5, prop::option::of(0.0f64..9.0)), 0..15),
            count in 1usize..5,
            with_plan in any::<bool>(),
        ) {
            let packages: Vec<String> = packages.into_iter().collect();
            let all = [Candidates { suite: "s".into(), packages: packages.clone() }];
            // A plan over other packages too, some named twice, with any number of shards.
            let mut plan = vec![Shard::default(); count];
            for (package, shard, _) in &planned {
                plan[shard % count].items.push((
                    ShardItem { suite: "s".into(), package: package.clone(), recorded: None },
                    1.0,
                ));
            }
            let history: BTreeMap<(String, String), f64> = planned
                .iter()
                .filter_map(|(p, _, t)| t.map(|t| (("s".to_string(), p.clone()), t)))
                .collect();
            let mut ran = Vec::new();
            for index in 1..=count {
                let split = match with_plan {
                    true => Split::Plan(&plan),
                    false => Split::History(&history),
                };
                let steps = Steps {
                    shard: Some((ShardSpec { index, count }, split)),
                    ..Steps::default()
                };
                let selected = select(&all, &steps);
                let suite = &selected.suites[0];
                prop_assert_eq!(suite.run.len() + suite.left.len(), packages.len());
                ran.extend(suite.run.iter().map(|(p, _)| p.clone()));
            }
            ran.sort();
            prop_assert_eq!(ran, packages);
        }
    }
}
