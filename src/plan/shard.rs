//! Splitting test packages into N shards balanced by recorded time, so N CI machines each
//! run one shard and together run every package exactly once. Longest processing time first:
//! packages sorted by estimated time (longest first, then by suite and import path), each
//! to the shard with the least total so far (the lowest-numbered on ties). Packages without
//! history are estimated at the median of the known times (1s when none is known). The same
//! inputs always give the same shards.

use std::fmt;

/// The most shards a split may have (as many as `gob shards N` takes); far more than any CI
/// matrix, and small enough that planning them costs nothing.
pub const MAX_SHARDS: usize = u16::MAX as usize;

/// `--shard K/N`: the K-th of N shards, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardSpec {
    /// 1..=count.
    pub index: usize,
    /// N ≥ 1.
    pub count: usize,
}

impl std::str::FromStr for ShardSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<ShardSpec, String> {
        let (k, n) = text
            .split_once('/')
            .ok_or_else(|| format!("`{text}` is not K/N (e.g. 2/4)"))?;
        let parse = |s: &str| s.trim().parse::<usize>().ok();
        let (Some(index), Some(count)) = (parse(k), parse(n)) else {
            return Err(format!("`{text}` is not K/N with whole numbers (e.g. 2/4)"));
        };
        if count == 0 || index == 0 || index > count {
            return Err(format!(
                "shard {index}/{count} does not exist: K must be between 1 and N"
            ));
        }
        if count > MAX_SHARDS {
            return Err(format!(
                "{count} shards is more than gob splits into (at most {MAX_SHARDS})"
            ));
        }
        Ok(ShardSpec { index, count })
    }
}

impl fmt::Display for ShardSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// A package of a suite to place, with its recorded time if any.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardItem {
    /// Suite name.
    pub suite: String,
    /// Import path.
    pub package: String,
    /// Seconds recorded by an earlier run.
    pub recorded: Option<f64>,
    /// Of a package split by test: which group (0-based) and its tests (none for the
    /// catch-all).
    pub group: Option<(usize, Vec<String>)>,
}

impl ShardItem {
    /// Its package, or `package#N` for the N-th group of a split package.
    pub fn name(&self) -> String {
        match &self.group {
            None => self.package.clone(),
            Some((index, _)) => format!("{}#{}", self.package, index + 1),
        }
    }
}

/// One shard: its items with their estimates, in placement order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Shard {
    /// `(item, estimated seconds)`.
    pub items: Vec<(ShardItem, f64)>,
    /// Sum of the estimates.
    pub total: f64,
}

/// Places every item in exactly one of `count` shards.
pub fn plan_shards(items: &[ShardItem], count: usize) -> Vec<Shard> {
    let default = median(items.iter().filter_map(|i| i.recorded)).unwrap_or(1.0);
    let mut estimated: Vec<(ShardItem, f64)> = items
        .iter()
        .map(|i| (i.clone(), i.recorded.unwrap_or(default)))
        .collect();
    estimated.sort_by(|(a, ta), (b, tb)| {
        tb.total_cmp(ta)
            .then_with(|| a.suite.cmp(&b.suite))
            .then_with(|| a.package.cmp(&b.package))
            .then_with(|| {
                a.group
                    .as_ref()
                    .map(|g| g.0)
                    .cmp(&b.group.as_ref().map(|g| g.0))
            })
    });
    let mut shards = vec![Shard::default(); count.max(1)];
    for (item, estimate) in estimated {
        let lightest = shards
            .iter()
            .enumerate()
            .min_by(|(i, a), (j, b)| a.total.total_cmp(&b.total).then(i.cmp(j)))
            .map_or(0, |(i, _)| i);
        shards[lightest].total += estimate;
        shards[lightest].items.push((item, estimate));
    }
    shards
}

/// A short fingerprint of a split: its shards, their packages and estimates (to the
/// millisecond). Machines that print the same fingerprint run the same split.
pub fn fingerprint(shards: &[Shard]) -> String {
    let mut text = format!("{}\n", shards.len());
    for (index, shard) in shards.iter().enumerate() {
        for (item, estimate) in &shard.items {
            text.push_str(&format!(
                "{index} {} {} {:.3}\n",
                item.suite,
                item.name(),
                estimate
            ));
        }
    }
    format!("{:08x}", crate::base::hash::fnv1a(text.as_bytes()) as u32)
}

fn median(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.filter(|x| x.is_finite() && *x >= 0.0).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn item(package: &str, recorded: Option<f64>) -> ShardItem {
        ShardItem {
            suite: "integ".into(),
            package: package.into(),
            recorded,
            group: None,
        }
    }

    #[test]
    fn longest_first_to_the_lightest_shard() {
        let items = [
            item("a", Some(1.0)),
            item("b", Some(8.0)),
            item("c", Some(4.0)),
            item("d", Some(3.0)),
            item("e", Some(2.0)),
        ];
        let shards = plan_shards(&items, 2);
        fn names(s: &Shard) -> Vec<&str> {
            s.items.iter().map(|(i, _)| i.package.as_str()).collect()
        }
        assert_eq!(names(&shards[0]), ["b", "a"]);
        assert_eq!(names(&shards[1]), ["c", "d", "e"]);
        assert_eq!((shards[0].total, shards[1].total), (9.0, 9.0));
    }

    #[test]
    fn a_huge_shard_count_is_a_usage_error_not_an_abort() {
        for text in ["1/100000000000", "1/18446744073709551615", "1/65536"] {
            let error = text.parse::<ShardSpec>().unwrap_err();
            assert!(error.contains("at most 65535"), "{text}: {error}");
        }
        assert!("1/18446744073709551616".parse::<ShardSpec>().is_err());
        assert_eq!(
            "65535/65535".parse::<ShardSpec>().unwrap().count,
            MAX_SHARDS
        );
    }

    #[test]
    fn the_fingerprint_changes_with_the_split() {
        let items = [item("a", Some(1.0)), item("b", Some(2.0))];
        let one = fingerprint(&plan_shards(&items, 2));
        assert_eq!(one.len(), 8);
        assert_eq!(one, fingerprint(&plan_shards(&items, 2)));
        assert_ne!(one, fingerprint(&plan_shards(&items, 3)));
        let other = [item("a", Some(1.5)), item("b", Some(2.0))];
        assert_ne!(one, fingerprint(&plan_shards(&other, 2)));
    }

    #[test]
    fn unknown_packages_get_the_median() {
        let items = [
            item("a", Some(1.0)),
            item("b", Some(9.0)),
            item("c", Some(5.0)),
            item("new", None),
        ];
        let shards = plan_shards(&items, 1);
        let new = shards[0]
            .items
            .iter()
            .find(|(i, _)| i.package == "new")
            .unwrap();
        assert_eq!(new.1, 5.0);
        assert_eq!(plan_shards(&[item("x", None)], 3)[0].total, 1.0);
    }

    #[test]
    fn shard_specs_are_checked() {
        assert_eq!(
            "2/4".parse::<ShardSpec>(),
            Ok(ShardSpec { index: 2, count: 4 })
        );
        for bad in ["0/3", "4/3", "1/0", "x/2", "3"] {
            assert!(bad.parse::<ShardSpec>().is_err(), "{bad}");
        }
        assert_eq!(
            "5/4".parse::<ShardSpec>().unwrap_err(),
            "shard 5/4 does not exist: K must be between 1 and N"
        );
    }

    proptest! {
        #[test]
        fn every_package_lands_in_exactly_one_shard_deterministically(
            times in prop::collection::vec(prop::option::of(0.0f64..100.0), 0..40),
            count in 1usize..8,
        ) {
            let items: Vec<ShardItem> = times
                .iter()
                .enumerate()
                .map(|(i, t)| item(&format!("p{i:02}"), *t))
                .collect();
            let shards = plan_shards(&items, count);
            prop_assert_eq!(shards.len(), count);
            let mut placed: Vec<String> = shards
                .iter()
                .flat_map(|s| s.items.iter().map(|(i, _)| i.package.clone()))
                .collect();
            placed.sort();
            let mut all: Vec<String> = items.iter().map(|i| i.package.clone()).collect();
            all.sort();
            prop_assert_eq!(placed, all);
            prop_assert_eq!(plan_shards(&items, count), shards);
        }
    }
}
