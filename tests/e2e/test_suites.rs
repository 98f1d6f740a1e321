//! `gob test` end to end on tests/fixtures/integ: colliding integ packages, package-dir cwd,
//! a serial-only resource, failing, panicking and hanging tests, compile errors, old Go.

use std::fs;

use crate::support::{Workspace, run};

/// The fixture's manifest; `lock_dir` is where the serial resource keeps its lock.
fn manifest(lock_dir: &std::path::Path) -> String {
    format!(
        r#"[test.unit]
packages = ["./lib/...", "./serial/..."]

[test.unitfail]
packages = ["./unitfail/..."]

[test.integ]
packages = ["./svc/..."]
tags = ["integ"]
integ = true
env = {{ SERIAL_LOCK_DIR = "{}" }}

[test.broken]
packages = ["./broken/..."]
tags = ["integ"]
integ = true
timeout = "3s"
"#,
        lock_dir.display()
    )
}

#[test]
fn colliding_integ_packages_compile_in_fewest_batches_and_run_one_at_a_time() {
    let lock = tempfile::tempdir().unwrap();
    let ws = Workspace::fixture("integ", &manifest(lock.path()));
    let (path, log) = ws.go_shim();
    let (code, stdout, stderr) = run(ws.gob(&["test", "integ"]).env("PATH", &path));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    for x in ["a", "b", "c"] {
        assert!(
            stdout.contains(&format!("ok   example.com/fixture/svc/{x}/api")),
            "{stdout}"
        );
    }
    assert!(
        stderr.contains(
            "gob: suite integ: 3 passed, 0 failed, 0 without test files (skipped), 3 compile calls"
        ),
        "{stderr}"
    );
    let calls = fs::read_to_string(&log).unwrap();
    let compiles: Vec<&str> = calls.lines().filter(|l| l.contains("|test -c ")).collect();
    assert_eq!(
        compiles.len(),
        3,
        "three api.test binaries need three calls:\n{calls}"
    );
    for (i, call) in compiles.iter().enumerate() {
        assert!(
            call.contains(&format!("-o .gob/test/integ/batch-{}/ -tags integ", i + 1)),
            "{call}"
        );
        assert!(!call.contains("-p 1") && !call.contains("-p=1"), "{call}");
        assert!(call.ends_with("/api"), "one api package per batch: {call}");
    }
    for x in ["1", "2", "3"] {
        assert!(
            ws.dir()
                .join(format!(".gob/test/integ/batch-{x}/api.test"))
                .exists()
        );
    }
}

#[test]
fn a_warm_rerun_links_nothing() {
    let lock = tempfile::tempdir().unwrap();
    let ws = Workspace::fixture("integ", &manifest(lock.path()));
    assert_eq!(run(&mut ws.gob(&["test", "integ"])).0, 0);
    let binary = ws.dir().join(".gob/test/integ/batch-1/api.test");
    // go writes a relinked test binary as a new file (a new inode); a current one is left alone.
    let ino = |p: &std::path::Path| std::os::unix::fs::MetadataExt::ino(&fs::metadata(p).unwrap());
    let before = ino(&binary);
    let (code, _, stderr) = run(&mut ws.gob(&["test", "integ"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        ino(&binary),
        before,
        "the warm rerun relinked batch-1/api.test"
    );
    ws.write(
        "svc/a/api/extra_test.go",
        "//go:build integ\n\npackage api\n\nvar extra = 1\n",
    );
    let (code, _, stderr) = run(&mut ws.gob(&["test", "integ"]));
    assert_eq!(code, 0, "{stderr}");
    assert_ne!(ino(&binary), before, "a changed package must be relinked");
}

#[test]
fn a_compile_error_inside_a_batch_spares_the_other_binaries_of_the_batch() {
    let lock = tempfile::tempdir().unwrap();
    let ws = Workspace::fixture("integ", &manifest(lock.path()));
    // First run: all three binaries of the one "broken" batch are linked and kept.
    assert_eq!(
        run(&mut ws.gob(&["test", "broken", "--run", "TestPasses|TestPanics"])).0,
        1
    );
    ws.write(
        "broken/fail/oops_test.go",
        "//go:build integ\n\npackage fail\n\nvar oops int = \"no\"\n",
    );
    let (code, stdout, stderr) =
        run(&mut ws.gob(&["test", "broken", "--run", "TestPasses|TestPanics"]));
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("broken/fail/oops_test.go:5:16: cannot use \"no\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("FAIL example.com/fixture/broken/fail [build failed]"),
        "{stderr}"
    );
    assert!(
        stderr.contains("FAIL example.com/fixture/broken/panics: TestPanics"),
        "the current binary still ran:\n{stderr}"
    );
    assert!(
        stdout.contains("ok   example.com/fixture/broken/hangs"),
        "{stdout}"
    );
}

#[test]
fn failures_panics_and_timeouts_are_reported_and_do_not_stop_the_rest() {
    let lock = tempfile::tempdir().unwrap();
    let ws = Workspace::fixture("integ", &manifest(lock.path()));
    let (code, stdout, stderr) = run(&mut ws.gob(&["test", "broken"]));
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("--- FAIL example.com/fixture/broken/fail TestFails"),
        "{stdout}"
    );
    assert!(
        stdout.contains("expected failure: got 1, want 2"),
        "{stdout}"
    );
    assert!(
        stdout.contains("some context before the failure"),
        "{stdout}"
    );
    assert!(
        stdout.contains("panic: assignment to entry in nil map"),
        "{stdout}"
    );
    assert!(
        stdout.contains("panic: test timed out after 3s"),
        "{stdout}"
    );
    assert!(
        stderr.contains("FAIL example.com/fixture/broken/fail: TestFails"),
        "{stderr}"
    );
    assert!(
        stderr.contains("FAIL example.com/fixture/broken/panics: TestPanics"),
        "{stderr}"
    );
    assert!(
        stderr.contains("FAIL example.com/fixture/broken/hangs: TestHangs"),
        "{stderr}"
    );
    assert!(
        stderr.contains("gob: suite broken: 0 passed, 3 failed"),
        "{stderr}"
    );
    assert!(stderr.contains("gob: error: 3 packages failed"), "{stderr}");
}

#[test]
fn a_compile_error_in_one_integ_package_fails_it_alone() {
    let lock = tempfile::tempdir().unwrap();
    let ws = Workspace::fixture("integ", &manifest(lock.path()));
    ws.write(
        "svc/b/api/broken_test.go",
        "//go:build integ\n\npackage api\n\nvar x int = \"no\"\n",
    );
    let (code, stdout, stderr) = run(&mut ws.gob(&["test", "integ"]));
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("svc/b/api/broken_test.go:5:13: cannot use \"no\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("FAIL example.com/fixture/svc/b/api [build failed]"),
        "{stderr}"
    );
    assert!(
        stdout.contains("ok   example.com/fixture/svc/a/api"),
        "{stdout}"
    );
    assert!(
        stdout.contains("ok   example.com/fixture/svc/c/api"),
        "{stdout}"
    );
}

#[test]
fn unit_suites_run_go_test_json_and_report_failures() {
    let lock = tempfile::tempdir().unwrap();
    let ws = Workspace::fixture("integ", &manifest(lock.path()));
    let (path, log) = ws.go_shim();
    let (code, stdout, stderr) = run(ws.gob(&["test"]).env("PATH", &path));
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(stdout.contains("ok   example.com/fixture/lib"), "{stdout}");
    assert!(
        stdout.contains("--- FAIL example.com/fixture/unitfail TestBroken"),
        "{stdout}"
    );
    assert!(stdout.contains("unit failure with output"), "{stdout}");
    assert!(
        stderr.contains("skipped (no test files): example.com/fixture/serial"),
        "{stderr}"
    );
    assert!(
        !stdout.contains("svc/"),
        "integ suites do not run without --integ:\n{stdout}"
    );
    let calls = fs::read_to_string(&log).unwrap();
    let tests: Vec<&str> = calls
        .lines()
        .filter(|l| l.contains("|test -json"))
        .collect();
    assert_eq!(tests.len(), 2, "{calls}");
    assert!(
        tests[0].ends_with("test -json -timeout=10m0s example.com/fixture/lib"),
        "{}",
        tests[0]
    );
}

#[test]
fn run_filter_and_passthrough_args_reach_the_binaries() {
    let lock = tempfile::tempdir().unwrap();
    let ws = Workspace::fixture("integ", &manifest(lock.path()));
    let (code, stdout, stderr) =
        run(&mut ws.gob(&["test", "broken", "--run", "TestPasses|TestPanics"]));
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(!stdout.contains("TestFails"), "{stdout}");
    assert!(
        !stdout.contains("timed out"),
        "TestHangs was filtered out:\n{stdout}"
    );
    let (code, _, stderr) = run(&mut ws.gob(&["test", "unitfail", "--", "-test.run=TestOK"]));
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn unknown_suites_are_usage_errors() {
    let lock = tempfile::tempdir().unwrap();
    let ws = Workspace::fixture("integ", &manifest(lock.path()));
    let (code, _, stderr) = run(&mut ws.gob(&["test", "integg"]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no test suite named `integg` in the manifest (did you mean `integ`?)"),
        "{stderr}"
    );
}

#[test]
fn go_before_1_21_compiles_one_package_per_call_in_parallel() {
    let Some(old_go) = crate::support::old_go() else {
        return;
    };
    let lock = tempfile::tempdir().unwrap();
    let ws = Workspace::fixture("integ", &manifest(lock.path()));
    let cache = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(ws
        .gob(&["test", "integ"])
        .env("GOB_GO", &old_go)
        .env("GOCACHE", cache.path()));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("3 passed, 0 failed, 0 without test files (skipped), 3 compile calls"),
        "{stderr}"
    );
    assert!(
        ws.dir()
            .join(".gob/test/integ/example_com_fixture_svc_a_api.test")
            .exists()
    );
}
