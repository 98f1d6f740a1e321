//! Splitting items into the fewest batches in which output names are unique.
//!
//! `go build -o dir/` silently drops the outputs of two packages with one name in one call
//! (last writer wins; `go test -c -o dir/` refuses such a call: golang/go#61199). The fewest
//! batches is the size of the largest clash; first-fit in input order reaches it, and keeps
//! batches stable for the same input.

/// Splits `items` so no batch holds two items with one output `name` unless `same` says they
/// are the same package (which then shares one output).
pub fn split_unique<'a, T, N: PartialEq>(
    items: &[&'a T],
    name: impl Fn(&'a T) -> N,
    same: impl Fn(&T, &T) -> bool,
) -> Vec<Vec<&'a T>> {
    let mut batches: Vec<Vec<(N, &'a T)>> = Vec::new();
    for &item in items {
        let item_name = name(item);
        let fits = |batch: &Vec<(N, &T)>| {
            batch
                .iter()
                .all(|(other_name, other)| *other_name != item_name || same(other, item))
        };
        match batches.iter_mut().position(|b| fits(b)) {
            Some(index) => batches[index].push((item_name, item)),
            None => batches.push(vec![(item_name, item)]),
        }
    }
    batches
        .into_iter()
        .map(|batch| batch.into_iter().map(|(_, item)| item).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fewest_batches_is_the_largest_clash() {
        let items: Vec<String> = ["a/api", "b/api", "c/x", "d/api", "e/x", "f/y"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let refs: Vec<&String> = items.iter().collect();
        let batches = split_unique(&refs, |s| s.rsplit('/').next().unwrap_or(""), |a, b| a == b);
        let names: Vec<Vec<&str>> = batches
            .iter()
            .map(|b| b.iter().map(|s| s.as_str()).collect())
            .collect();
        assert_eq!(
            names,
            [
                vec!["a/api", "c/x", "f/y"],
                vec!["b/api", "e/x"],
                vec!["d/api"]
            ]
        );
    }
}
