//! `gob check` end to end: compiles everything, links nothing, shares go's cache.

use std::process::Command;

use crate::support::{Workspace, run};

const SUITES: &str = "[test.unit]\npackages = [\"./...\"]\nexclude = [\"tests/integration/**\"]\n\n[test.integ]\npackages = [\"./tests/integration/...\"]\ntags = [\"integ\"]\ninteg = true\n";

#[test]
fn check_compiles_tests_of_every_suite_without_linking() {
    let ws = Workspace::example(SUITES);
    // A package that compiles but cannot link: its bodyless function names a symbol that
    // does not exist. Only a check that really skips the linker passes.
    ws.write("internal/nolink/nolink.go", "package nolink\n\nimport _ \"unsafe\"\n\n//go:linkname missing example.com/nowhere.missing\nfunc missing()\n\n// Call calls a function the linker cannot find.\nfunc Call() { missing() }\n");
    ws.write("internal/nolink/empty.s", "");
    ws.write(
        "internal/nolink/nolink_test.go",
        "package nolink\n\nimport \"testing\"\n\nfunc TestCall(t *testing.T) { Call() }\n",
    );
    let cache = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(ws.gob(&["check"]).env("GOCACHE", cache.path()));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stderr.contains("gob: checked 11 packages (0 excluded) of 2 suites [unit, integ (integration)] in 2 go test calls"), "{stderr}");
    assert!(
        !stdout.contains("ok  \t"),
        "per-package ok lines are dropped:\n{stdout}"
    );

    let plain = Command::new("go")
        .args(["test", "-exec=true", "-vet=off", "./internal/nolink"])
        .current_dir(ws.dir())
        .env("GOCACHE", cache.path())
        .env("GOTOOLCHAIN", "local")
        .output()
        .unwrap();
    assert!(
        !plain.status.success(),
        "the fixture must fail to link with plain go"
    );
}

#[test]
fn go_build_and_go_test_after_check_produce_working_programs() {
    let ws = Workspace::example(SUITES);
    let cache = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(ws.gob(&["check"]).env("GOCACHE", cache.path()));
    assert_eq!(code, 0, "{stderr}");
    let go = |args: &[&str]| {
        Command::new("go")
            .args(args)
            .current_dir(ws.dir())
            .env("GOCACHE", cache.path())
            .env("GOTOOLCHAIN", "local")
            .env("GOFLAGS", "")
            .output()
            .unwrap()
    };
    let out = go(&["build", "-o", "alpha-bin", "./cmd/alpha"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let alpha = Command::new(ws.dir().join("alpha-bin")).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&alpha.stdout).trim(),
        "alpha (cli) dev"
    );
    let out = go(&["test", "-count=1", "-tags", "integ", "./..."]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("ok  \texample.com/mesh/tests/integration/security/api"),
        "{stdout}"
    );
}

#[test]
fn compile_errors_in_tagged_test_files_fail_the_check() {
    let ws = Workspace::example(SUITES);
    ws.write(
        "tests/integration/gateway/broken_test.go",
        "//go:build integ\n\npackage gateway\n\nfunc broken() int { return \"x\" }\n",
    );
    let (code, _, stderr) = run(&mut ws.gob(&["check"]));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("tests/integration/gateway/broken_test.go:5:28: cannot use \"x\""),
        "{stderr}"
    );
    assert!(stderr.contains("gob: error: check failed"), "{stderr}");
    // A -json in the user's GOFLAGS does not turn go's errors into JSON events.
    let (code, stdout, stderr) = run(ws.gob(&["check"]).env("GOFLAGS", "-json"));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("broken_test.go:5:28: cannot use \"x\"") && !stdout.contains("\"Action\""),
        "{stdout}\n{stderr}"
    );
}
