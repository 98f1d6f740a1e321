//! The order test runs start in: longest processing time first, from the timing history.
//!
//! `go test` starts its package runs in the order it is given the packages (cmd/go
//! `test.go`: each run action waits on the previous one's start through a barrier chain), so a
//! long package named last runs alone at the end while the other CPUs idle. Given longest
//! first, the long runs start early and the short ones fill in around them. Packages without
//! history come first, as they may be long; ties go by import path, so plans are stable.

use std::cmp::Ordering;

/// How `a` and `b` (import path, recorded seconds) compare in longest-first order.
pub fn longest_first(a: (&str, Option<f64>), b: (&str, Option<f64>)) -> Ordering {
    match (a.1, b.1) {
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => y.total_cmp(&x),
        (None, None) => Ordering::Equal,
    }
    .then_with(|| a.0.cmp(b.0))
}

/// Sorts `items` longest first by `key` (its import path and recorded seconds).
pub fn sort_longest_first<T>(items: &mut [T], key: impl Fn(&T) -> (&str, Option<f64>)) {
    items.sort_by(|a, b| longest_first(key(a), key(b)));
}

/// The index of the item that should start first among `items`, if any.
pub fn first_to_start<T>(items: &[T], key: impl Fn(&T) -> (&str, Option<f64>)) -> Option<usize> {
    (0..items.len()).min_by(|&i, &j| longest_first(key(&items[i]), key(&items[j])))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn unknown_first_then_longest_then_by_path() {
        let mut items = vec![
            ("m/a", Some(1.0)),
            ("m/z", Some(6.0)),
            ("m/new", None),
            ("m/b", Some(1.0)),
            ("m/another", None),
        ];
        sort_longest_first(&mut items, |&(p, s)| (p, s));
        let order: Vec<&str> = items.iter().map(|(p, _)| *p).collect();
        assert_eq!(order, ["m/another", "m/new", "m/z", "m/a", "m/b"]);
        assert_eq!(first_to_start(&items[2..], |&(p, s)| (p, s)), Some(0));
        assert_eq!(
            first_to_start::<(&str, Option<f64>)>(&[], |&(p, s)| (p, s)),
            None
        );
    }

    proptest! {
        #[test]
        fn the_order_depends_only_on_the_items_not_on_how_they_came(
            items in prop::collection::vec((0u8..20, prop::option::of(0u32..50)), 0..30)
        ) {
            let named: Vec<(String, Option<f64>)> = items
                .iter()
                .map(|(p, s)| (format!("m/p{p}"), s.map(f64::from)))
                .collect();
            let mut forward = named.clone();
            sort_longest_first(&mut forward, |(p, s)| (p.as_str(), *s));
            let mut backward: Vec<(String, Option<f64>)> = named.into_iter().rev().collect();
            sort_longest_first(&mut backward, |(p, s)| (p.as_str(), *s));
            prop_assert_eq!(&forward, &backward);
            // Every known time is no longer than the one before it.
            let known: Vec<f64> = forward.iter().filter_map(|(_, s)| *s).collect();
            prop_assert!(known.windows(2).all(|w| w[0] >= w[1]));
            if let Some(first) = first_to_start(&backward, |(p, s)| (p.as_str(), *s)) {
                prop_assert_eq!(&backward[first], &forward[0]);
            }
        }
    }
}
