//! Splitting a big test package by its top-level tests (`split = "60s"`): a package whose
//! recorded time exceeds the target becomes groups of about that duration, packed longest
//! test first from the per-test history, plus one catch-all group that skips every test the
//! history knows, so that a test new since then runs exactly once. Each group runs as
//! `-test.run=^(A|B)$`, the catch-all as `-test.skip=^(A|B|…)$` (Go 1.20+). Pure and
//! deterministic: equal histories give equal groups on every machine.

use std::collections::BTreeMap;

use crate::go::testrun::exactly;

/// The groups of each split package, by (suite, import path).
pub type Splits = BTreeMap<(String, String), Vec<Group>>;

/// One group of a split package.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// Its top-level tests, sorted; empty for the catch-all (every test no other group names).
    pub tests: Vec<String>,
    /// Estimated seconds.
    pub estimate: f64,
}

/// The groups of a package that took `seconds` with top-level tests `tests` (seconds each),
/// for groups of about `target` seconds; `None` when it is not split (no history, not over
/// the target, fewer than two tests).
pub fn split_package(
    seconds: Option<f64>,
    tests: &BTreeMap<String, f64>,
    target: f64,
) -> Option<Vec<Group>> {
    let seconds = seconds?;
    if seconds <= target || tests.len() < 2 || target <= 0.0 {
        return None;
    }
    let known: f64 = tests.values().sum();
    let count = ((known / target).ceil() as usize).clamp(2, tests.len());
    let mut sorted: Vec<(&String, f64)> = tests.iter().map(|(n, s)| (n, *s)).collect();
    sorted.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let mut groups = vec![
        Group {
            tests: Vec::new(),
            estimate: 0.0,
        };
        count
    ];
    for (name, secs) in sorted {
        let lightest = (0..count)
            .min_by(|&i, &j| {
                groups[i]
                    .estimate
                    .total_cmp(&groups[j].estimate)
                    .then(i.cmp(&j))
            })
            .unwrap_or(0);
        groups[lightest].tests.push(name.clone());
        groups[lightest].estimate += secs;
    }
    for group in &mut groups {
        group.tests.sort();
    }
    // The catch-all: what the package took beyond its known tests (TestMain, start-up).
    groups.push(Group {
        tests: Vec::new(),
        estimate: (seconds - known).max(0.0),
    });
    Some(groups)
}

/// The test binary arguments that run the groups `chosen` (indexes) of `groups`: none when
/// every group is chosen, `-test.run` of their tests without the catch-all, `-test.skip` of
/// every other group's tests with it.
pub fn filter_args(groups: &[Group], chosen: &[usize]) -> Vec<String> {
    if chosen.len() >= groups.len() {
        return Vec::new();
    }
    let named = |include: bool| -> Vec<String> {
        let mut names: Vec<String> = groups
            .iter()
            .enumerate()
            .filter(|(i, g)| !g.tests.is_empty() && chosen.contains(i) == include)
            .flat_map(|(_, g)| g.tests.iter().cloned())
            .collect();
        names.sort();
        names
    };
    let with_rest = chosen.iter().any(|&i| groups[i].tests.is_empty());
    match with_rest {
        false => vec![format!("-test.run={}", exactly(&named(true)))],
        true => {
            let skipped = named(false);
            match skipped.is_empty() {
                true => Vec::new(),
                false => vec![format!("-test.skip={}", exactly(&skipped))],
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tests(times: &[(&str, f64)]) -> BTreeMap<String, f64> {
        times.iter().map(|(n, s)| (n.to_string(), *s)).collect()
    }

    #[test]
    fn a_package_over_the_target_becomes_groups_of_about_it_and_a_catch_all() {
        let four = tests(&[
            ("TestA", 2.0),
            ("TestB", 2.0),
            ("TestC", 2.0),
            ("TestD", 2.0),
        ]);
        let groups = split_package(Some(8.3), &four, 3.0).unwrap();
        assert_eq!(
            groups.len(),
            4,
            "3 groups of ~3s and the catch-all: {groups:?}"
        );
        assert_eq!(groups[0].tests, ["TestA", "TestD"]);
        assert!(groups[3].tests.is_empty());
        assert!((groups[3].estimate - 0.3).abs() < 1e-9);
        assert_eq!(filter_args(&groups, &[0]), ["-test.run=^(TestA|TestD)$"]);
        assert_eq!(
            filter_args(&groups, &[1, 3]),
            ["-test.skip=^(TestA|TestC|TestD)$"]
        );
        assert!(filter_args(&groups, &[0, 1, 2, 3]).is_empty());
        assert!(
            split_package(Some(2.0), &four, 3.0).is_none(),
            "under the target"
        );
        assert!(split_package(None, &four, 3.0).is_none(), "no history");
        assert!(split_package(Some(9.0), &tests(&[("TestA", 9.0)]), 3.0).is_none());
    }

    /// Which of `all` the filter of `chosen` runs, as go would match the patterns.
    fn runs(groups: &[Group], chosen: &[usize], all: &[String]) -> Vec<String> {
        let args = filter_args(groups, chosen);
        let listed = |arg: &str, prefix: &str| -> Option<Vec<String>> {
            let pattern = arg.strip_prefix(prefix)?;
            let inner = pattern.strip_prefix("^(")?.strip_suffix(")$")?;
            Some(inner.split('|').map(String::from).collect())
        };
        all.iter()
            .filter(|t| match args.first() {
                None => true,
                Some(arg) => match listed(arg, "-test.run=") {
                    Some(names) => names.contains(t),
                    None => !listed(arg, "-test.skip=").unwrap().contains(t),
                },
            })
            .cloned()
            .collect()
    }

    proptest! {
        #[test]
        fn every_test_runs_in_exactly_one_group_new_ones_in_the_catch_all(
            times in prop::collection::btree_map("Test[A-H][a-c]?", 0.1f64..20.0, 2..12),
            new in prop::collection::btree_set("TestNew[0-9]", 0..3),
            target in 0.5f64..30.0,
            mut assignment in prop::collection::vec(0usize..4, 32),
        ) {
            let total: f64 = times.values().sum();
            let Some(groups) = split_package(Some(total + 0.5), &times, target) else {
                return Ok(());
            };
            prop_assert_eq!(&split_package(Some(total + 0.5), &times, target), &Some(groups.clone()));
            let all: Vec<String> = times.keys().chain(new.iter()).cloned().collect();
            // Any placement of the groups on up to 4 shards runs each test exactly once.
            assignment.truncate(groups.len());
            while assignment.len() < groups.len() {
                assignment.push(0);
            }
            let mut seen: BTreeMap<String, usize> = BTreeMap::new();
            for shard in 0..4 {
                let chosen: Vec<usize> =
                    (0..groups.len()).filter(|&g| assignment[g] == shard).collect();
                if chosen.is_empty() {
                    continue;
                }
                for test in runs(&groups, &chosen, &all) {
                    *seen.entry(test).or_default() += 1;
                }
            }
            for test in &all {
                prop_assert_eq!(seen.get(test).copied(), Some(1), "{} in {:?}", test, groups);
            }
        }
    }
}
