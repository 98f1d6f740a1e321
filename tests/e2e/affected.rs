//! `gob test --since REF` and `gob affected` in a git repository holding
//! tests/fixtures/affected: pkga's tests import mid, which imports leaf; pkgb's import other
//! (which embeds data.txt) and read testdata; pkgc's import nothing of the module.

use std::process::Command;

use crate::support::{Workspace, run};

const MANIFEST: &str = "[test.integ]\npackages = [\"./pkga\", \"./pkgb\", \"./pkgc\"]\ninteg = true\ninputs = [\"config/*.yaml\"]\n\n[test.unit]\npackages = [\"./...\"]\n";

/// The fixture in a git repository whose first commit is tagged `base`.
fn repo() -> Workspace {
    let ws = Workspace::fixture("affected", MANIFEST);
    git(&ws, &["init", "-q", "-b", "main"]);
    git(&ws, &["add", "-A"]);
    git(&ws, &["commit", "-q", "-m", "base"]);
    git(&ws, &["tag", "base"]);
    ws
}

fn git(ws: &Workspace, args: &[&str]) {
    let status = Command::new("git")
        .args(["-c", "user.name=gob", "-c", "user.email=gob@example.com"])
        .args(args)
        .current_dir(ws.dir())
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

/// The packages `gob affected --since base` selects in the integ suite.
fn affected(ws: &Workspace) -> Vec<String> {
    let (code, stdout, stderr) =
        run(&mut ws.gob(&["affected", "--since", "base", "--integ", "--json"]));
    assert_eq!(code, 0, "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    json["suites"][0]["selected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            p["package"]
                .as_str()
                .unwrap()
                .trim_start_matches("example.com/aff/")
                .to_string()
        })
        .collect()
}

#[test]
fn a_changed_leaf_library_selects_exactly_the_tests_whose_closure_holds_it() {
    let ws = repo();
    ws.write(
        "leaf/leaf.go",
        "package leaf\n\n// Leaf is one.\nfunc Leaf() int { return 3 - 2 }\n",
    );
    git(&ws, &["commit", "-q", "-am", "change leaf"]);
    assert_eq!(affected(&ws), ["pkga"]);
    let (code, stdout, stderr) =
        run(&mut ws.gob(&["test", "--integ", "--since", "base", "--explain"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("ok   example.com/aff/pkga"), "{stdout}");
    assert!(
        !stdout.contains("pkgb") && !stdout.contains("pkgc"),
        "{stdout}"
    );
    assert!(
        stderr.contains(
            "example.com/aff/pkga: leaf/leaf.go changed (example.com/aff/pkga → example.com/aff/mid → example.com/aff/leaf)"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("not affected: example.com/aff/pkgb, example.com/aff/pkgc"),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 passed, 0 failed, 0 without test files (skipped), 2 not affected"),
        "{stderr}"
    );
}

#[test]
fn new_testdata_embedded_files_and_untracked_sources_select_their_dependents() {
    let ws = repo();
    ws.write("pkgb/testdata/new.txt", "untracked\n");
    assert_eq!(affected(&ws), ["pkgb"]);
    let ws = repo();
    ws.write("other/data.txt", "changed, not committed\n");
    assert_eq!(affected(&ws), ["pkgb"], "an embedded file");
    let ws = repo();
    ws.write(
        "leaf/more.go",
        "package leaf\n\n// More is new.\nfunc More() int { return 2 }\n",
    );
    assert_eq!(
        affected(&ws),
        ["pkga"],
        "an untracked .go file of a library"
    );
    let ws = repo();
    ws.write("leaf/NOTES.md", "not a source file\n");
    assert!(affected(&ws).is_empty());
}

#[test]
fn module_files_and_suite_inputs_select_everything() {
    let ws = repo();
    ws.write("go.mod", "module example.com/aff\n\ngo 1.22\n");
    assert_eq!(affected(&ws), ["pkga", "pkgb", "pkgc"]);
    let ws = repo();
    ws.write("config/app.yaml", "replicas: 3\n");
    assert_eq!(affected(&ws), ["pkga", "pkgb", "pkgc"]);
}

#[test]
fn nothing_changed_runs_nothing_and_says_so() {
    let ws = repo();
    let (code, stdout, stderr) = run(&mut ws.gob(&["test", "--since", "base"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("no test package of the selected suites is affected by the changes since base (0 changed files)"),
        "{stderr}"
    );
}

#[test]
fn without_a_repository_or_with_an_unknown_revision_it_is_a_usage_error() {
    let ws = Workspace::fixture("affected", MANIFEST);
    let (code, _, stderr) = run(&mut ws.gob(&["test", "--since", "main"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--since needs a git repository"),
        "{stderr}"
    );
    let ws = repo();
    let (code, _, stderr) = run(&mut ws.gob(&["affected", "--since", "no-such-branch"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("git knows no revision `no-such-branch`"),
        "{stderr}"
    );
}

#[test]
fn since_selects_before_sharding_and_feeds_junit() {
    let ws = repo();
    ws.write(
        "leaf/leaf.go",
        "package leaf\n\n// Leaf is one.\nfunc Leaf() int { return 1 + 0 }\n",
    );
    ws.write("pkgb/testdata/input.txt", "changed\n");
    let mut seen = Vec::new();
    for k in 1..=2 {
        let shard = format!("{k}/2");
        let junit = format!("j{k}.xml");
        let (code, stdout, stderr) = run(&mut ws.gob(&[
            "test", "--integ", "--since", "base", "--shard", &shard, "--junit", &junit,
        ]));
        assert_eq!(code, 0, "{stderr}");
        seen.extend(
            stdout
                .lines()
                .filter(|l| l.starts_with("ok "))
                .map(str::to_string),
        );
        let xml = std::fs::read_to_string(ws.dir().join(&junit)).unwrap();
        assert!(
            !xml.contains("pkgc"),
            "unselected packages are not test cases: {xml}"
        );
    }
    assert_eq!(
        seen.len(),
        2,
        "the two selected packages ran once each: {seen:?}"
    );
}
