//! `gob analyze why PKG`: the import chains that pull a package into each binary, and the
//! compile time it brings: the package and every dependency that only it pulls in.

use std::collections::{BTreeSet, HashMap, VecDeque};

use crate::workspace::gotool::PackageImports;

/// What `why` found for one binary.
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    /// The binary's main package.
    pub main: String,
    /// The shortest import chain from main to the package, both included; empty when the
    /// binary does not need it.
    pub chain: Vec<String>,
    /// Packages the binary needs only because of the package (the package included).
    pub exclusive: BTreeSet<String>,
}

/// For each of `mains`, the shortest chain to `target` and what only `target` pulls in.
pub fn explain(graph: &[PackageImports], mains: &[String], target: &str) -> Vec<Chain> {
    let imports: HashMap<&str, &[String]> = graph
        .iter()
        .map(|p| (p.import_path.as_str(), p.imports.as_slice()))
        .collect();
    mains
        .iter()
        .map(|main| {
            let chain = shortest_chain(&imports, main, target);
            let exclusive = if chain.is_empty() {
                BTreeSet::new()
            } else {
                let with = reachable(&imports, main, None);
                let without = reachable(&imports, main, Some(target));
                with.difference(&without).map(|s| s.to_string()).collect()
            };
            Chain {
                main: main.clone(),
                chain,
                exclusive,
            }
        })
        .collect()
}

fn shortest_chain(imports: &HashMap<&str, &[String]>, from: &str, to: &str) -> Vec<String> {
    let mut previous: HashMap<&str, &str> = HashMap::new();
    let mut queue = VecDeque::from([from]);
    let mut seen = BTreeSet::from([from]);
    while let Some(p) = queue.pop_front() {
        if p == to {
            let mut chain = vec![to.to_string()];
            let mut at = to;
            while let Some(prev) = previous.get(at) {
                chain.push(prev.to_string());
                at = prev;
            }
            chain.reverse();
            return chain;
        }
        for next in imports.get(p).copied().unwrap_or_default() {
            if seen.insert(next.as_str()) {
                previous.insert(next.as_str(), p);
                queue.push_back(next.as_str());
            }
        }
    }
    Vec::new()
}

/// Packages reachable from `from`, never entering `avoid`.
fn reachable<'a>(
    imports: &HashMap<&'a str, &'a [String]>,
    from: &'a str,
    avoid: Option<&str>,
) -> BTreeSet<&'a str> {
    let mut seen = BTreeSet::from([from]);
    let mut stack = vec![from];
    while let Some(p) = stack.pop() {
        for next in imports.get(p).copied().unwrap_or_default() {
            if Some(next.as_str()) != avoid && seen.insert(next.as_str()) {
                stack.push(next.as_str());
            }
        }
    }
    seen
}

/// The text `gob analyze why PKG` prints: for each binary (`binaries`, the output names in
/// the order of `found`), the chain that pulls `package` in and what it costs to compile,
/// from the last analysis' `times` when there are some.
pub fn render(
    binaries: &[&str],
    found: &[Chain],
    package: &str,
    times: Option<&super::CompileTimes>,
) -> String {
    let mut out = String::new();
    for (binary, found) in binaries.iter().zip(found) {
        if found.chain.is_empty() {
            out.push_str(&format!("{binary}: does not import {package}\n"));
            continue;
        }
        out.push_str(&format!("{binary}: {}\n", found.chain.join(" → ")));
        let others = found.exclusive.len().saturating_sub(1);
        match times {
            Some(t) => {
                let cost: f64 = found
                    .exclusive
                    .iter()
                    .filter_map(|p| t.packages.get(p))
                    .sum();
                let own = t.packages.get(package).copied().unwrap_or(0.0);
                let cache = if t.cold { "cold" } else { "warm" };
                out.push_str(&format!(
                    "  compiling {package} took {own:.2}s; with the {others} packages only it pulls in, {cost:.2}s ({cache} cache, last gob analyze)\n"
                ));
            }
            None => out.push_str(&format!(
                "  it pulls in {others} packages only it needs; run `gob analyze` for their compile time\n"
            )),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(path: &str, imports: &[&str]) -> PackageImports {
        PackageImports {
            import_path: path.into(),
            imports: imports.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn chains_and_what_only_the_package_pulls_in() {
        let graph = [
            pkg("m/cmd/a", &["m/api", "fmt"]),
            pkg("m/cmd/b", &["fmt"]),
            pkg("m/api", &["k8s/client", "fmt"]),
            pkg("k8s/client", &["k8s/apimachinery", "fmt"]),
            pkg("k8s/apimachinery", &["fmt"]),
            pkg("fmt", &[]),
        ];
        let mains = ["m/cmd/a".to_string(), "m/cmd/b".to_string()];
        let found = explain(&graph, &mains, "k8s/client");
        assert_eq!(found[0].chain, ["m/cmd/a", "m/api", "k8s/client"]);
        assert_eq!(
            found[0].exclusive,
            BTreeSet::from(["k8s/client".to_string(), "k8s/apimachinery".to_string()])
        );
        assert!(found[1].chain.is_empty() && found[1].exclusive.is_empty());
    }
}
