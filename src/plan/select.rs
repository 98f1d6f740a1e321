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
use crate::plan::split::{Group, Splits, filter_args};

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
    /// Packages split by test (`split`), from the timing history: with `--shard`, each group
    /// is placed like a package (a plan's own groups win over these).
    pub splits: Option<&'a Splits>,
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
        .map(|(spec, split)| shard(&mut suites, *spec, split, steps.splits));
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

/// The groups of each split package: a plan's own (from its items), else `splits`.
fn groups_of(split: &Split, splits: Option<&Splits>) -> Splits {
    let Split::Plan(shards) = split else {
        return splits.cloned().unwrap_or_default();
    };
    let mut groups: BTreeMap<(String, String), BTreeMap<usize, Group>> = BTreeMap::new();
    for (item, estimate) in shards.iter().flat_map(|s| &s.items) {
        if let Some((index, tests)) = &item.group {
            let group = Group {
                tests: tests.clone(),
                estimate: *estimate,
            };
            let key = (item.suite.clone(), item.package.clone());
            groups
                .entry(key)
                .or_default()
                .entry(*index)
                .or_insert(group);
        }
    }
    groups
        .into_iter()
        .map(|(key, groups)| (key, groups.into_values().collect()))
        .collect()
}

/// The items a shard step places: each package, or each group of a split package that runs
/// whole (a package with arguments of its own, `--failed`'s, runs as one).
pub fn shard_items(suites: &[SuiteChoice], split: &Split, groups: &Splits) -> Vec<ShardItem> {
    let mut items = Vec::new();
    for s in suites {
        for (package, args) in &s.run {
            let key = (s.suite.clone(), package.clone());
            match groups.get(&key).filter(|_| args.is_empty()) {
                Some(groups) => items.extend(groups.iter().enumerate().map(|(i, g)| ShardItem {
                    suite: s.suite.clone(),
                    package: package.clone(),
                    recorded: Some(g.estimate),
                    group: Some((i, g.tests.clone())),
                })),
                None => items.push(ShardItem {
                    suite: s.suite.clone(),
                    package: package.clone(),
                    recorded: match split {
                        Split::History(history) => history.get(&key).copied(),
                        Split::Plan(_) => None,
                    },
                    group: None,
                }),
            }
        }
    }
    items
}

/// Keeps the packages of shard `spec.index`: those the split places there, and of those a
/// plan does not name, the ones whose hash places them there. Of a split package, the shard
/// runs the groups placed there, in one run with their filter.
fn shard(
    suites: &mut [SuiteChoice],
    spec: ShardSpec,
    split: &Split,
    splits: Option<&Splits>,
) -> ShardSummary {
    let groups = groups_of(split, splits);
    let items = shard_items(suites, split, &groups);
    let computed;
    let shards = match split {
        Split::Plan(shards) => *shards,
        Split::History(_) => {
            computed = plan_shards(&items, spec.count);
            &computed[..]
        }
    };
    let mut placed: HashMap<(&str, &str, Option<usize>), (usize, f64)> = HashMap::new();
    for (index, s) in shards.iter().enumerate() {
        for (item, estimate) in &s.items {
            let group = item.group.as_ref().map(|g| g.0);
            placed
                .entry((item.suite.as_str(), item.package.as_str(), group))
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
    let mut place = |suite: &str, package: &str, group: Option<usize>| {
        summary.total += 1;
        let (index, estimate) = match placed.get(&(suite, package, group)) {
            Some(place) => *place,
            None => {
                summary.by_hash += 1;
                let name = match group {
                    None => package.to_string(),
                    Some(g) => format!("{package}#{}", g + 1),
                };
                (by_hash_shard(suite, &name, spec.count), 0.0)
            }
        };
        if index == spec.index {
            summary.mine += 1;
            summary.estimate += estimate;
        }
        index
    };
    for suite in suites.iter_mut() {
        for (package, args) in std::mem::take(&mut suite.run) {
            let key = (suite.suite.clone(), package.clone());
            let package_groups = groups.get(&key).filter(|_| args.is_empty());
            let Some(package_groups) = package_groups else {
                match place(&suite.suite, &package, None) {
                    index if index == spec.index => suite.run.push((package, args)),
                    index => suite.left.push((package, Left::OtherShard(index))),
                }
                continue;
            };
            let shards: Vec<usize> = (0..package_groups.len())
                .map(|g| place(&suite.suite, &package, Some(g)))
                .collect();
            let chosen: Vec<usize> = (0..shards.len())
                .filter(|&g| shards[g] == spec.index)
                .collect();
            match chosen.is_empty() {
                true => suite.left.push((package, Left::OtherShard(shards[0]))),
                false => {
                    let args = filter_args(package_groups, &chosen);
                    suite.run.push((package, args));
                }
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

    /// The tests of `all` a run with `args` (a group filter) runs.
    fn ran<'t>(args: &[String], all: &[&'t str]) -> Vec<&'t str> {
        let names = |arg: &str, flag: &str| -> Option<Vec<String>> {
            let inner = arg
                .strip_prefix(flag)?
                .strip_prefix("^(")?
                .strip_suffix(")$")?;
            Some(inner.split('|').map(String::from).collect())
        };
        all.iter()
            .copied()
            .filter(|t| match args.first() {
                None => true,
                Some(a) => match names(a, "-test.run=") {
                    Some(run) => run.iter().any(|n| n == t),
                    None => !names(a, "-test.skip=").unwrap().iter().any(|n| n == t),
                },
            })
            .collect()
    }

    #[test]
    fn the_groups_of_a_split_package_go_to_shards_like_packages_each_test_once() {
        let all = [candidates("integ", &["m/big", "m/small1", "m/small2"])];
        let tests: BTreeMap<String, f64> = ["TestA", "TestB", "TestC", "TestD", "TestE", "TestF"]
            .iter()
            .map(|t| (t.to_string(), 3.0))
            .collect();
        // m/big is 18.2s of the suite's 21.2s: split into groups of ~6s.
        let groups = crate::plan::split::split_package(Some(18.2), &tests, 6.0).unwrap();
        let splits: Splits = BTreeMap::from([(("integ".into(), "m/big".into()), groups)]);
        let history = BTreeMap::from([
            (("integ".to_string(), "m/big".to_string()), 18.2),
            (("integ".to_string(), "m/small1".to_string()), 1.5),
            (("integ".to_string(), "m/small2".to_string()), 1.5),
        ]);
        let names = [
            "TestA", "TestB", "TestC", "TestD", "TestE", "TestF", "TestNew",
        ];
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        let mut totals = Vec::new();
        for index in 1..=3 {
            let steps = Steps {
                shard: Some((ShardSpec { index, count: 3 }, Split::History(&history))),
                splits: Some(&splits),
                ..Steps::default()
            };
            let selected = select(&all, &steps);
            totals.push(selected.shard.as_ref().unwrap().estimate);
            for (package, args) in &selected.suites[0].run {
                if package == "m/big" {
                    for test in ran(args, &names) {
                        *seen.entry(test).or_default() += 1;
                    }
                }
            }
        }
        assert!(names.iter().all(|t| seen.get(t) == Some(&1)), "{seen:?}");
        let (least, most) = (
            totals.iter().cloned().fold(f64::MAX, f64::min),
            totals.iter().cloned().fold(0.0, f64::max),
        );
        assert!(most <= least * 1.25, "shards within 1.25x: {totals:?}");
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
            splits: None,
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
                group: None,
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
                    ShardItem { suite: "s".into(), package: package.clone(), recorded: None, group: None },
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
