//! The watch loop against go itself: `gob check --watch` over the generated repository of
//! the `--since` oracle (tests/fixtures/since: go.work, a replace dir, a submodule, cgo,
//! embeds, tags, testdata), with the `--since` edits applied one after another to the same
//! tree, as a developer's saves come. After each edit a sentinel file (which selects
//! nothing) is written, and the cycles up to the one that saw it make the edit's batch. The
//! oracle is go's test binaries and test output (`since_oracle::oracles`): every test
//! package go sees differently since the last state the watch took as its base (the last
//! batch whose cycles all ran what they chose; a check that failed keeps the old base) must
//! be among the packages the cycles since then chose.
//!
//! The longest test of the suite, named to sort next to `check_oracle`: libtest starts tests
//! in the order of their names, and as `watch_oracle` it started last and ran ~20 s alone on
//! one of two cores.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::since::{EDITS, PINNED};
use crate::since_oracle::{Edit, Generated, bins_from_base, oracles, short};
use crate::support::gob_command;
use crate::watch::Watching;

/// The edits, by name, in an order each can follow the ones before it.
const SEQUENCE: &[&str] = &[
    "a README changes",
    "a library in a replace dir changes, uncommitted",
    "a file only the extra tag builds changes",
    "a Go file gains a build tag",
    "a file a test reads from its own dir changes",
    "a fixture moves from one package to another",
    "a C header of a cgo package changes",
    "a file of the submodule changes, uncommitted",
    "an embedded file is added to the pattern's dir",
    "the go.mod of the other workspace module changes",
    "a file only the extra tag builds is deleted",
    "a testdata file with spaces in its name changes",
];

/// Saves of Go files alone, each its own cycle (a sentinel beside them would make the cycle
/// ask go again: a watch reuses go list's answers only while no file but the bodies of Go
/// files changed). core comes to import unused, then unused's body changes: an answer kept
/// from before the import would leave core out.
const GO_SAVES: &[(&str, &str)] = &[
    (
        "app/core/core.go",
        "// Package core depends on a module replaced by a dir of the repository.\npackage core\n\nimport (\n\t\"example.com/app/unused\"\n\t\"example.com/lib\"\n)\n\n// Describe says what the library is.\nfunc Describe() string { return \"core:\" + lib.Value() + string(rune('0'+unused.Nothing())) }\n",
    ),
    (
        "app/unused/unused.go",
        "// Package unused is imported by no test.\npackage unused\n\n// Nothing is never called.\nfunc Nothing() int { return 2 }\n",
    ),
    (
        "app/core/core.go",
        "// Package core depends on a module replaced by a dir of the repository.\npackage core\n\nimport \"example.com/lib\"\n\n// Describe says what the library is.\nfunc Describe() string { return \"core:\" + lib.Value() }\n",
    ),
    (
        "app/unused/unused.go",
        "// Package unused is imported by no test.\npackage unused\n\n// Nothing is never called.\nfunc Nothing() int { return 3 }\n",
    ),
];

fn edit(name: &str) -> &'static Edit {
    PINNED
        .iter()
        .chain(EDITS)
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("no edit named {name:?}"))
}

/// The packages a cycle chose, per suite.
fn chosen(event: &Value) -> BTreeMap<String, BTreeSet<String>> {
    event["Affected"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(suite, packages)| {
            let packages = packages
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| short(p.as_str().unwrap()))
                .collect();
            (suite.clone(), packages)
        })
        .collect()
}

/// Whether a cycle ran all it chose, so the watch's base moved to the tree it saw.
fn completed(event: &Value) -> bool {
    matches!(
        event["Result"].as_str(),
        Some("passed" | "failed" | "nothing")
    )
}

#[test]
fn watch_cycles_never_skip_what_go_sees_differently_over_a_run_of_saves() {
    let repo = Generated::new();
    let root = repo.root();
    let mut command = gob_command();
    command
        .current_dir(&root)
        .env("PWD", &root)
        .args(["check", "--watch", "--json", "unit", "extra"]);
    let watch = Watching::spawn(repo, command);
    let first = watch.cycle(1);
    assert_eq!(first["Result"], "passed", "{first}\n{}", watch.stderr());
    let bins = bins_from_base();
    let mut base = oracles(&root, bins.path());
    let mut covered: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    // After an edit's cycles: what go sees differently since the base must have been chosen.
    let mut judge = |name: &str,
                     covered: &mut BTreeMap<String, BTreeSet<String>>,
                     all_completed: bool| {
        let now = oracles(&root, bins.path());
        let mut missed = Vec::new();
        for (suite, packages) in &now {
            for (package, key) in packages {
                let chose = covered.get(suite).is_some_and(|c| c.contains(package));
                if base[suite].get(package) != Some(key) && !chose {
                    missed.push(format!("suite {suite}: {package}"));
                }
            }
        }
        assert!(
            missed.is_empty(),
            "edit `{name}`: the watch skipped what go builds or runs differently since its base:\n{}\n(chosen since the base: {covered:?})",
            missed.join("\n")
        );
        if all_completed {
            base = now;
            covered.clear();
        }
    };
    let mut seen = 1;
    // Takes cycles until one whose changes name `last`: the edit's batch.
    let mut batch = |name: &str, last: &str, covered: &mut BTreeMap<String, BTreeSet<String>>| {
        let mut all_completed = true;
        loop {
            seen += 1;
            let event = watch.cycle(seen);
            assert!(
                !matches!(event["Result"].as_str(), Some("error" | "cancelled")),
                "edit `{name}`: {event}\n{}",
                watch.stderr()
            );
            for (suite, packages) in chosen(&event) {
                covered.entry(suite).or_default().extend(packages);
            }
            all_completed &= completed(&event);
            if event["Changed"].to_string().contains(last) {
                return all_completed;
            }
        }
    };
    for (n, name) in SEQUENCE.iter().enumerate() {
        (edit(name).apply)(&watch.ws);
        watch.ws.write("sentinel.txt", &format!("{n}\n"));
        let all_completed = batch(name, "sentinel.txt", &mut covered);
        judge(name, &mut covered, all_completed);
    }
    for (file, text) in GO_SAVES {
        watch.ws.write(file, text);
        let all_completed = batch(file, file, &mut covered);
        judge(file, &mut covered, all_completed);
    }
    assert_eq!(watch.quit(), 0);
}
