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

/// The test binaries gob keeps for the package in `dir` (relative to the workspace): one per
/// build, in a dir named `@<hash of its build ID>`, under go's name for it.
fn kept(ws: &Workspace, suite: &str, dir: &str) -> Vec<std::path::PathBuf> {
    let store = ws.dir().join(".gob/test").join(suite).join(dir);
    let mut found: Vec<_> = fs::read_dir(&store)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with('@'))
                .flat_map(|e| fs::read_dir(e.path()).unwrap().flatten())
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

#[test]
fn colliding_integ_packages_compile_in_one_call_and_run_one_at_a_time() {
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
            "gob: suite integ: 3 passed, 0 failed, 0 without test files (skipped), 1 compile call (3 binaries linked)"
        ),
        "{stderr}"
    );
    let calls = fs::read_to_string(&log).unwrap();
    let compiles: Vec<&str> = calls.lines().filter(|l| l.contains("|test -v ")).collect();
    assert_eq!(
        compiles.len(),
        1,
        "three api.test binaries share one call:\n{calls}"
    );
    let call = compiles[0];
    assert!(call.contains(" -exec="), "{call}");
    assert!(!call.contains("-p 1") && !call.contains("-p=1"), "{call}");
    assert!(
        call.ends_with("-tags integ example.com/fixture/svc/a/api example.com/fixture/svc/b/api example.com/fixture/svc/c/api"),
        "{call}"
    );
    for x in ["a", "b", "c"] {
        let dir = format!("svc/{x}/api");
        let binaries = kept(&ws, "integ", &dir);
        assert_eq!(binaries.len(), 1, "{dir}");
        assert!(binaries[0].ends_with("api.test"), "go's name: {binaries:?}");
    }
    assert!(
        !stderr.contains("gob-test-binary") && !stdout.contains("gob-test-binary"),
        "gob's bookkeeping lines stay hidden:\n{stderr}"
    );
}

#[test]
fn a_warm_rerun_links_nothing() {
    let lock = tempfile::tempdir().unwrap();
    let ws = Workspace::fixture("integ", &manifest(lock.path()));
    assert_eq!(run(&mut ws.gob(&["test", "integ"])).0, 0);
    let first = kept(&ws, "integ", "svc/a/api");
    let ino = |p: &std::path::Path| std::os::unix::fs::MetadataExt::ino(&fs::metadata(p).unwrap());
    let before = ino(&first[0]);
    // What a go call killed with SIGKILL leaves behind: its work dir, with linked binaries.
    let leftover = ws.dir().join(".gob/tmp/go-build123456/b001");
    fs::create_dir_all(&leftover).unwrap();
    fs::write(leftover.join("api.test"), "a linked binary").unwrap();
    let (code, _, stderr) = run(&mut ws.gob(&["test", "integ"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("1 compile call (no binary linked)"),
        "{stderr}"
    );
    assert!(
        !ws.dir().join(".gob/tmp/go-build123456").exists(),
        "left over"
    );
    assert_eq!(kept(&ws, "integ", "svc/a/api"), first);
    assert_eq!(ino(&first[0]), before, "the warm rerun relinked svc/a/api");
    // CI's usual GOFLAGS=-count=1 (no cached test results) must not relink everything, and
    // a -json there must not hide go's output from gob.
    let (code, _, stderr) = run(ws.gob(&["test", "integ"]).env("GOFLAGS", "-count=1 -json"));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("(no binary linked)"), "{stderr}");
    ws.write(
        "svc/a/api/extra_test.go",
        "//go:build integ\n\npackage api\n\nimport \"testing\"\n\nfunc TestExtra(t *testing.T) {}\n",
    );
    let (code, stdout, stderr) = run(&mut ws.gob(&["test", "integ", "--json"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(r#""Test":"TestExtra""#),
        "the new binary ran: {stdout}"
    );
    assert!(stdout.contains(r#""Linked":1"#), "{stdout}");
    let now = kept(&ws, "integ", "svc/a/api");
    assert_eq!(now.len(), 1, "the older binary is removed: {now:?}");
    assert_ne!(now, first, "a changed package must be relinked");
    assert_eq!(kept(&ws, "integ", "svc/b/api").len(), 1);
    // Reverting brings back the first build, whose cached result names the removed file:
    // a second call links it again.
    fs::remove_file(ws.dir().join("svc/a/api/extra_test.go")).unwrap();
    let (code, stdout, stderr) = run(&mut ws.gob(&["test", "integ", "--json"]));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        !stdout.contains("TestExtra"),
        "the old binary ran: {stdout}"
    );
    assert!(stderr.contains("2 compile calls"), "{stderr}");
    assert_eq!(kept(&ws, "integ", "svc/a/api"), first);
}

#[test]
fn a_compile_error_spares_the_other_binaries() {
    let lock = tempfile::tempdir().unwrap();
    let ws = Workspace::fixture("integ", &manifest(lock.path()));
    // First run: all three binaries of the suite are linked and kept.
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
fn go_1_19_compiles_in_one_call_too() {
    let Some(old_go) = crate::support::old_go() else {
        return;
    };
    let lock = tempfile::tempdir().unwrap();
    let ws = Workspace::fixture("integ", &manifest(lock.path()));
    let cache = tempfile::tempdir().unwrap();
    let gob = |ws: &Workspace| {
        run(ws
            .gob(&["test", "integ"])
            .env("GOB_GO", &old_go)
            .env("GOCACHE", cache.path()))
    };
    let (code, stdout, stderr) = gob(&ws);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("3 passed, 0 failed, 0 without test files (skipped), 1 compile call"),
        "{stderr}"
    );
    let first = kept(&ws, "integ", "svc/a/api");
    assert_eq!(first.len(), 1);
    let (code, _, stderr) = gob(&ws);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(kept(&ws, "integ", "svc/a/api"), first, "Go 1.19 caches too");
}
