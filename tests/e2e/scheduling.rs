//! Scheduling by history: a unit suite's packages go to `go test` longest first (go starts
//! its runs in the order it is given them), unknown packages before them.

use crate::support::{Workspace, events, run};

fn skewed() -> Workspace {
    Workspace::fixture("skewed", "[test.unit]\npackages = [\"./...\"]\n")
}

/// The packages of the dry run's go test call, in order.
fn dry_run_order(ws: &Workspace) -> Vec<String> {
    let (code, stdout, stderr) = run(&mut ws.gob(&["test", "--dry-run"]));
    assert_eq!(code, 0, "{stderr}");
    let call = stdout
        .lines()
        .find(|l| l.contains("go test -json"))
        .unwrap();
    call.split_whitespace()
        .filter(|w| w.starts_with("skewed/"))
        .map(String::from)
        .collect()
}

#[test]
fn unit_packages_start_longest_first_by_history_and_new_ones_before_them() {
    let ws = skewed();
    assert_eq!(
        dry_run_order(&ws),
        ["skewed/alpha", "skewed/beta", "skewed/gamma", "skewed/zulu"],
        "no history: by import path"
    );
    let (code, _, stderr) = run(&mut ws.gob(&["test"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        dry_run_order(&ws)[0],
        "skewed/zulu",
        "the long package first"
    );
    // go starts the runs in that order.
    let (code, stdout, stderr) = run(&mut ws.gob(&["test", "--json", "--", "-count=1"]));
    assert_eq!(code, 0, "{stderr}");
    let started: Vec<String> = events(&stdout, "start")
        .iter()
        .map(|e| e["Package"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        started.first().map(String::as_str),
        Some("skewed/zulu"),
        "{started:?}"
    );
    // go's test cache still serves an unchanged rerun.
    let (code, stdout, stderr) = run(&mut ws.gob(&["test"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("skewed/zulu 0.00s (cached)"), "{stdout}");
    // A package with no history may be long: it goes first.
    ws.write(
        "delta/delta_test.go",
        "package delta\n\nimport \"testing\"\n\nfunc TestNew(t *testing.T) {}\n",
    );
    let order = dry_run_order(&ws);
    assert_eq!(order[..2], ["skewed/delta", "skewed/zulu"], "{order:?}");
}

/// Start marks of the `big` package's tests in `marks` (test name → how many runs).
fn started(marks: &std::path::Path) -> std::collections::BTreeMap<String, usize> {
    let mut count = std::collections::BTreeMap::new();
    for (what, _) in crate::buildbarn::marks(marks, "big") {
        if let Some(test) = what.strip_prefix("start-") {
            *count.entry(test.to_string()).or_default() += 1;
        }
    }
    count
}

#[test]
fn the_groups_of_a_split_package_run_each_test_once_across_shards_new_tests_included() {
    let ws = Workspace::fixture("remote", "");
    let marks = crate::buildbarn::marks_dir(ws.dir());
    ws.write(
        "gobuild.toml",
        &format!(
            "[test.integ]\npackages = [\"./big\"]\ninteg = true\nsplit = \"1s\"\n\
             env = {{ BIG_MS = \"300\", GOB_MARKS = \"{}\" }}\n",
            marks.display()
        ),
    );
    let (code, _, stderr) = run(&mut ws.gob(&["test", "--integ"]));
    assert_eq!(code, 0, "{stderr}");
    // A test the history does not know yet.
    ws.write(
        "big/new_test.go",
        "package big\n\nimport (\n\t\"testing\"\n\n\t\"remote/internal/mark\"\n)\n\n\
         func TestNew(t *testing.T) { mark.Record(\"big\", \"start-New\") }\n",
    );
    let (code, stdout, stderr) =
        run(&mut ws.gob(&["shards", "2", "--integ", "--plan", "plan.json"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("remote/big#1") && stdout.contains("remote/big#3"),
        "{stdout}"
    );
    let expected: std::collections::BTreeMap<String, usize> =
        ["Flaky", "Four", "New", "One", "Three", "Two"]
            .iter()
            .map(|t| (t.to_string(), 1))
            .collect();
    for plan in [None, Some("plan.json")] {
        std::fs::remove_file(marks.join("big")).ok();
        for k in 1..=2 {
            let shard = format!("{k}/2");
            let mut args = vec!["test", "--integ", "--shard", &shard];
            args.extend(plan.iter().flat_map(|p| ["--shard-plan", *p]));
            let (code, _, stderr) = run(&mut ws.gob(&args));
            assert_eq!(code, 0, "{stderr}");
        }
        assert_eq!(started(&marks), expected, "plan {plan:?}");
    }
    // The user's own choice of tests wins: the package is not split under it.
    std::fs::remove_file(marks.join("big")).ok();
    for k in 1..=2 {
        let shard = format!("{k}/2");
        let args = ["test", "--integ", "--shard", &shard, "--run", "TestOne"];
        let (code, _, stderr) = run(&mut ws.gob(&args));
        assert_eq!(code, 0, "{stderr}");
    }
    let one = std::collections::BTreeMap::from([("One".to_string(), 1)]);
    assert_eq!(started(&marks), one);
}
