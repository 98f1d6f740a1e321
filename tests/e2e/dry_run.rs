//! `--dry-run` of build, test, test --integ and check on the example workspace, as
//! snapshots: every change to a plan shows up in review. Paths, gob's own location and the
//! CPU count are redacted; a dry run writes nothing but the `go list` cache.

use crate::support::{Workspace, run};

/// The dry run's output with what differs between machines replaced.
fn dry_run(ws: &Workspace, args: &[&str]) -> String {
    let (code, stdout, stderr) = run(ws.gob(args).env("GOB_JOBS", "2"));
    assert_eq!(code, 0, "{args:?}: {stderr}");
    let leftovers: Vec<_> = std::fs::read_dir(ws.dir().join(".gob"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        leftovers.iter().all(|n| n == "cache"),
        "{args:?} wrote {leftovers:?}"
    );
    assert!(!ws.dir().join("bin").exists(), "{args:?} published");
    stdout
        .replace(ws.dir().to_str().unwrap(), "<ws>")
        .replace(env!("CARGO_BIN_EXE_gob"), "<gob>")
}

#[test]
fn dry_run_of_build_test_integ_and_check_snapshots() {
    let ws = Workspace::repo_example();
    insta::assert_snapshot!("dry_run_build", dry_run(&ws, &["build", "--dry-run"]));
    insta::assert_snapshot!("dry_run_test", dry_run(&ws, &["test", "--dry-run"]));
    insta::assert_snapshot!(
        "dry_run_test_integ",
        dry_run(
            &ws,
            &[
                "test",
                "--integ",
                "--dry-run",
                "--run",
                "TestX",
                "--",
                "-test.count=1"
            ]
        )
    );
    insta::assert_snapshot!("dry_run_check", dry_run(&ws, &["check", "--dry-run"]));
}

#[test]
fn a_dry_run_takes_no_lock_and_runs_nothing() {
    let ws = Workspace::repo_example();
    let (path, log) = ws.go_shim();
    let (code, _, stderr) = run(ws.gob(&["test", "--integ", "--dry-run"]).env("PATH", &path));
    assert_eq!(code, 0, "{stderr}");
    let calls = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        calls.contains("|list "),
        "the shim saw gob's go queries: {calls}"
    );
    for line in calls.lines() {
        let argv = line.rsplit('|').next().unwrap_or_default();
        assert!(
            argv.starts_with("env") || argv.starts_with("list") || argv.starts_with("version"),
            "a dry run ran `go {argv}`"
        );
    }
    assert!(!ws.dir().join(".gob/lock").exists());
}
