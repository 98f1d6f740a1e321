//! Manifest problems end to end: located, all at once, exit 2, never a panic.

use crate::support::{Workspace, gob_command, run};

#[test]
fn every_problem_is_printed_with_file_line_and_col() {
    let ws = Workspace::example(
        "[build]\nflgs = [\"-trimpath\"]\n\n[[binary]]\npackage = \"./cmd/alpha\"\nname = 3\n",
    );
    let (code, _, stderr) = run(&mut ws.gob(&["build"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("unknown key `flgs` in [build]"), "{stderr}");
    assert!(stderr.contains("[gobuild.toml:2:1]"), "{stderr}");
    assert!(stderr.contains("did you mean `flags`?"), "{stderr}");
    assert!(
        stderr.contains("`name` in [[binary]] #1 must be a string, found integer"),
        "{stderr}"
    );
    assert!(stderr.contains("[gobuild.toml:6:8]"), "{stderr}");
    assert!(stderr.contains("gobuild.toml has 2 problems"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn packages_are_checked_against_go_list() {
    let ws = Workspace::example(
        "[[binary]]\npackage = \"./cmd/nope\"\n\n[[binary]]\npackage = \"./internal/greet\"\n\n[[binary]]\npackage = \"./svc/server\"\n\n[[binary]]\npackage = \"./tools/server\"\n",
    );
    let (code, _, stderr) = run(&mut ws.gob(&["build"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("package `./cmd/nope` cannot be built: "),
        "{stderr}"
    );
    assert!(stderr.contains("[gobuild.toml:2:11]"), "{stderr}");
    assert!(
        stderr.contains("package `./internal/greet` is `package greet`, not a main package"),
        "{stderr}"
    );
    assert!(
        stderr.contains("two binaries would both be written to bin/server"),
        "{stderr}"
    );
    assert!(stderr.contains("first binary with this name"), "{stderr}");
    assert!(stderr.contains("has 3 problems"), "{stderr}");
    assert!(
        !ws.dir().join("bin").exists(),
        "nothing is built when the manifest is wrong"
    );
}

#[test]
fn a_missing_manifest_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(gob_command().current_dir(dir.path()).arg("build"));
    assert_eq!(code, 2);
    assert!(stderr.contains("no gobuild.toml in"), "{stderr}");
    let (code, _, stderr) =
        run(gob_command()
            .current_dir(dir.path())
            .args(["--manifest", "other.toml", "build"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("other.toml does not exist"), "{stderr}");
}

#[test]
fn dash_c_and_manifest_flags_select_the_workspace() {
    let ws = Workspace::example("[[binary]]\npackage = \"./cmd/alpha\"\n");
    let outside = tempfile::tempdir().unwrap();
    let dir = ws.dir().to_str().unwrap();
    let (code, stdout, stderr) =
        run(gob_command()
            .current_dir(outside.path())
            .args(["-C", dir, "build", "--dry-run"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("./cmd/alpha"), "{stdout}");
    let manifest = ws.dir().join("gobuild.toml");
    let (code, stdout, _) = run(gob_command().current_dir(outside.path()).args([
        "--manifest",
        manifest.to_str().unwrap(),
        "build",
        "--dry-run",
    ]));
    assert_eq!(code, 0);
    assert!(stdout.contains("./cmd/alpha"), "{stdout}");
}
