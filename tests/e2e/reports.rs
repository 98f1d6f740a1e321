//! Reports end to end: JSON lines, JUnit XML, GitHub Actions annotations, timing-balanced
//! shards, and the helper commands (init, list, shards, completions).

use std::collections::BTreeSet;
use std::fs;

use crate::support::{Workspace, run};

/// The fixture's manifest; the svc tests need a dir for their serial lock (`SERIAL_LOCK_DIR`).
fn fixture(lock: &tempfile::TempDir) -> String {
    format!(
        "[test.integ]\npackages = [\"./svc/...\"]\ntags = [\"integ\"]\ninteg = true\nenv = {{ SERIAL_LOCK_DIR = \"{}\" }}\n{BROKEN}",
        lock.path().display()
    )
}

const BROKEN: &str = r#"
[test.broken]
packages = ["./broken/..."]
tags = ["integ"]
integ = true
timeout = "3s"
"#;

#[test]
fn json_lines_on_stdout_human_output_on_stderr_and_a_junit_file() {
    let lock = tempfile::tempdir().unwrap();
    let ws = Workspace::fixture("integ", &fixture(&lock));
    let junit = ws.dir().join("reports/junit.xml");
    let (code, stdout, stderr) = run(&mut ws.gob(&[
        "test",
        "broken",
        "--json",
        "--junit",
        junit.to_str().unwrap(),
    ]));
    assert_eq!(code, 1, "{stderr}");
    let events: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect();
    let action = |e: &serde_json::Value| e["Action"].as_str().unwrap_or("").to_string();
    assert!(events.iter().any(|e| action(e) == "gob-compile-start"));
    assert!(events.iter().any(|e| action(e) == "fail"
        && e["Package"] == "example.com/fixture/broken/fail"
        && e["Test"] == "TestFails"));
    assert!(
        events.iter().all(|e| e.get("Time").is_some()),
        "every event has a Time"
    );
    assert!(
        stderr.contains("--- FAIL example.com/fixture/broken/fail TestFails"),
        "{stderr}"
    );

    let xml = fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let suites: BTreeSet<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .map(|n| n.attribute("name").unwrap())
        .collect();
    assert_eq!(
        suites,
        BTreeSet::from([
            "example.com/fixture/broken/fail",
            "example.com/fixture/broken/hangs",
            "example.com/fixture/broken/panics"
        ])
    );
    let failure = doc
        .descendants()
        .find(|n| n.has_tag_name("testcase") && n.attribute("name") == Some("TestFails"))
        .and_then(|c| c.children().find(|n| n.has_tag_name("failure")))
        .expect("TestFails has a failure element");
    assert!(
        failure
            .text()
            .unwrap()
            .contains("expected failure: got 1, want 2")
    );
}

#[test]
fn github_actions_gets_groups_and_annotations_for_tests_and_compile_errors() {
    let lock = tempfile::tempdir().unwrap();
    let ws = Workspace::fixture("integ", &fixture(&lock));
    ws.write(
        "svc/d/api/api_test.go",
        "//go:build integ\n\npackage api\n\nimport \"testing\"\n\nfunc TestD(t *testing.T) {\n\tundefinedThing()\n}\n",
    );
    let (code, stdout, stderr) = run(ws
        .gob(&["test", "integ", "broken"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_WORKSPACE", ws.dir()));
    assert_eq!(code, 1, "{stderr}");
    for expected in [
        "::group::FAIL example.com/fixture/broken/fail",
        "::error file=broken/fail/fail_test.go,line=11,title=example.com/fixture/broken/fail TestFails::expected failure: got 1, want 2",
        "::error file=svc/d/api/api_test.go,line=8,col=2,title=compile error::undefined: undefinedThing",
        "::error title=example.com/fixture/svc/d/api::example.com/fixture/svc/d/api build failed",
    ] {
        assert!(stdout.contains(expected), "missing {expected}:\n{stdout}");
    }
}

/// Packages that passed or failed, from `--json` output.
fn finished_packages(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e.get("Test").is_none() && (e["Action"] == "pass" || e["Action"] == "fail"))
        .map(|e| e["Package"].as_str().unwrap().to_string())
        .collect()
}

/// Runs `gob test integ --shard k/2` for k = 1, 2, each reading its own copy of the history
/// at `history` (as CI machines restore the same file); returns the packages run, sorted.
fn run_both_shards(ws: &Workspace, history: &std::path::Path) -> Vec<String> {
    let mut all = Vec::new();
    for k in 1..=2 {
        let copy = ws.dir().join(format!("timings-{k}.json"));
        let _ = fs::remove_file(&copy);
        if history.exists() {
            fs::copy(history, &copy).unwrap();
        }
        let shard = format!("{k}/2");
        let (code, stdout, stderr) = run(ws
            .gob(&["test", "integ", "--shard", &shard, "--json"])
            .env("GOB_TIMINGS", &copy));
        assert_eq!(code, 0, "{stderr}");
        assert!(
            stderr.contains(&format!("gob: shard {shard} of split ")),
            "{stderr}"
        );
        all.extend(finished_packages(&stdout));
    }
    all.sort();
    all
}

#[test]
fn shards_together_run_every_package_exactly_once() {
    let lock = tempfile::tempdir().unwrap();
    let ws = Workspace::fixture("integ", &fixture(&lock));
    let expected = [
        "example.com/fixture/svc/a/api",
        "example.com/fixture/svc/b/api",
        "example.com/fixture/svc/c/api",
    ];
    let history = ws.dir().join(".gob/timings.json");
    assert_eq!(run_both_shards(&ws, &history), expected, "without history");

    let (code, _, stderr) = run(&mut ws.gob(&["test", "integ"]));
    assert_eq!(code, 0, "{stderr}");
    let recorded = fs::read_to_string(&history).unwrap();
    assert!(
        recorded.contains("\"integ example.com/fixture/svc/b/api\""),
        "{recorded}"
    );
    assert_eq!(run_both_shards(&ws, &history), expected, "with history");

    let (code, stdout, _) = run(&mut ws.gob(&["shards", "2", "integ"]));
    assert_eq!(code, 0);
    assert_eq!(stdout.matches("(recorded)").count(), 3, "{stdout}");
    assert_eq!(stdout.matches("shard ").count(), 2, "{stdout}");

    let (code, _, stderr) = run(&mut ws.gob(&["test", "integ", "--shard", "3/2"]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("shard 3/2 does not exist: K must be between 1 and N"),
        "{stderr}"
    );
}

#[test]
fn init_writes_a_working_manifest_and_never_overwrites_one() {
    let ws = Workspace::example("");
    fs::remove_file(ws.dir().join("gobuild.toml")).unwrap();
    // Without a manifest, gob says what to do, from anywhere in the module.
    let (code, _, stderr) = run(ws.gob(&["build"]).current_dir(ws.dir().join("cmd")));
    assert_eq!(code, 2);
    let expected = format!(
        "{} is a Go module: run `gob init` there",
        ws.dir().display()
    );
    assert!(stderr.contains(&expected), "{stderr}");
    let (code, _, stderr) = run(&mut ws.gob(&["init"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("gob: next, try:\n  gob build ")
            && stderr.contains("\n  gob test  ")
            && stderr.contains("\n  gob test --integ "),
        "{stderr}"
    );
    let text = fs::read_to_string(ws.dir().join("gobuild.toml")).unwrap();
    assert_eq!(text.matches("[[binary]]").count(), 5, "{text}");
    assert!(
        text.contains("package = \"./tools/server\"\nname = \"tools-server\""),
        "{text}"
    );
    assert!(text.contains("[test.integ]\npackages = [\"./tests/integration/gateway\", \"./tests/integration/security/api\", \"./tests/integration/telemetry/api\"]\ntags = [\"integ\"]\ninteg = true"), "{text}");
    let (code, _, stderr) = run(&mut ws.gob(&["build"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(ws.dir().join("bin/tools-server").is_file());
    let (code, _, stderr) = run(&mut ws.gob(&["test", "--integ"]));
    assert_eq!(code, 0, "{stderr}");

    let (code, _, stderr) = run(&mut ws.gob(&["init"]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("gob init never overwrites a manifest"),
        "{stderr}"
    );
    assert_eq!(
        fs::read_to_string(ws.dir().join("gobuild.toml")).unwrap(),
        text
    );
}

#[test]
fn list_shows_binaries_and_suites_with_their_packages() {
    let ws = Workspace::repo_example();
    let (code, stdout, stderr) = run(&mut ws.gob(&["list"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("binaries (5, into bin/):"), "{stdout}");
    assert!(
        stdout.contains("tool-server  ./tools/server  (example.com/mesh/tools/server)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  integ (integration, tags integ): 3 with tests"),
        "{stdout}"
    );
    assert!(
        stdout.contains("    example.com/mesh/tests/integration/security/api"),
        "{stdout}"
    );
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let (code, stdout, stderr) =
            run(crate::support::gob_command().args(["completions", shell]));
        assert_eq!(code, 0, "{stderr}");
        assert!(
            stdout.contains("shards") && stdout.contains("no-wait"),
            "{shell}: {stdout}"
        );
    }
}

#[test]
fn compile_events_number_each_call() {
    let lock = tempfile::tempdir().unwrap();
    let ws = Workspace::fixture("integ", &fixture(&lock));
    assert_eq!(run(&mut ws.gob(&["test", "integ"])).0, 0);
    // A kept binary removed behind go's back: its cached result names a file that is gone,
    // so a second call links it again.
    std::fs::remove_dir_all(ws.dir().join(".gob/test/integ/svc/b")).unwrap();
    let (code, stdout, stderr) = run(&mut ws.gob(&["test", "integ", "--json"]));
    assert_eq!(code, 0, "{stderr}");
    let events = |action: &str| crate::support::events(&stdout, action);
    let calls = |action: &str| -> Vec<u64> {
        events(action)
            .iter()
            .map(|e| e["Call"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(calls("gob-compile-start"), [1, 2], "{stdout}");
    assert_eq!(calls("gob-compile-end"), [1, 2], "{stdout}");
    assert_eq!(
        events("gob-compile-start")[1]["Packages"],
        serde_json::json!(["example.com/fixture/svc/b/api"]),
        "{stdout}"
    );
    assert!(
        events("pass")
            .iter()
            .any(|e| e["Package"] == "example.com/fixture/svc/b/api" && e.get("Test").is_none()),
        "the relinked binary ran and passed: {stdout}"
    );
}
