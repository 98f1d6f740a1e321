//! `gob build` end to end.

use std::fs;

use crate::support::{Workspace, run, run_binary};

#[test]
fn builds_every_binary_as_the_right_program_in_two_calls() {
    let ws = Workspace::repo_example();
    let (path, log) = ws.go_shim();
    let (code, _, stderr) = run(ws.gob(&["build"]).env("PATH", &path));
    assert_eq!(code, 0, "{stderr}");
    let bin = ws.dir().join("bin");
    let expected = [
        ("alpha", "alpha (cli) v0.1.0"),
        ("beta", "beta (worker) v0.1.0"),
        ("gamma", "gamma (gamma-v2) v0.1.0"),
        ("server", "server (svc-server) v0.1.0"),
        ("tool-server", "server (tool-server) v0.1.0"),
    ];
    for (name, greeting) in expected {
        assert_eq!(run_binary(&bin.join(name)), greeting, "bin/{name}");
    }
    assert!(
        stderr.contains("built 5 binaries (5 updated, 0 up to date) in 2 go build calls"),
        "{stderr}"
    );

    let calls = fs::read_to_string(&log).unwrap();
    let builds: Vec<&str> = calls.lines().filter(|l| l.contains("|build ")).collect();
    let lists = calls.lines().filter(|l| l.contains("|list ")).count();
    assert_eq!(lists, 1, "one go list for all binaries:\n{calls}");
    assert_eq!(builds.len(), 2, "{calls}");
    let dir = ws.dir().display().to_string();
    for call in &builds {
        let fields: Vec<&str> = call.splitn(3, '|').collect();
        assert_eq!(fields[0], dir, "go runs in the workspace dir");
        assert_ne!(fields[1], "unset", "gob sets GOMAXPROCS for go");
    }
    assert!(
        builds[0].ends_with("-trimpath ./cmd/alpha ./cmd/beta ./cmd/gamma/v2 ./svc/server"),
        "{}",
        builds[0]
    );
    assert!(
        builds[1].ends_with("-trimpath ./tools/server"),
        "{}",
        builds[1]
    );
}

#[test]
fn a_no_op_build_links_and_copies_nothing() {
    let ws = Workspace::repo_example();
    assert_eq!(run(&mut ws.gob(&["build"])).0, 0);
    let published = ws.dir().join("bin/alpha");
    let inode =
        |p: &std::path::Path| std::os::unix::fs::MetadataExt::ino(&fs::metadata(p).unwrap());
    let before = inode(&published);
    let (code, _, stderr) = run(&mut ws.gob(&["build"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("(0 updated, 5 up to date)"), "{stderr}");
    assert_eq!(
        inode(&published),
        before,
        "an up-to-date binary is not replaced"
    );

    ws.write(
        "cmd/alpha/main.go",
        &fs::read_to_string(ws.dir().join("cmd/alpha/main.go"))
            .unwrap()
            .replace("cli", "CLI"),
    );
    let (code, _, stderr) = run(&mut ws.gob(&["build"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("(1 updated, 4 up to date)"), "{stderr}");
    assert_eq!(run_binary(&published), "alpha (CLI) v0.1.0");
    assert_ne!(
        inode(&published),
        before,
        "a changed binary is replaced by rename"
    );
}

#[test]
fn selected_names_only_and_unknown_names_are_usage_errors() {
    let ws = Workspace::repo_example();
    let (code, _, stderr) = run(&mut ws.gob(&["build", "beta"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(ws.dir().join("bin/beta").exists());
    assert!(!ws.dir().join("bin/alpha").exists());
    let (code, _, stderr) = run(&mut ws.gob(&["build", "alpah"]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no binary named `alpah` in the manifest (did you mean `alpha`?)"),
        "{stderr}"
    );
}

#[test]
fn dry_run_prints_exact_commands_and_touches_nothing() {
    let ws = Workspace::repo_example();
    let (code, stdout, stderr) = run(ws.gob(&["build", "--dry-run"]).env("GOB_JOBS", "3"));
    assert_eq!(code, 0, "{stderr}");
    let dir = ws.dir().display().to_string();
    let calls: Vec<&str> = stdout.lines().filter(|l| l.starts_with("cd ")).collect();
    assert_eq!(calls.len(), 2, "{stdout}");
    assert!(
        calls[0].starts_with(&format!(
            "cd {dir} && CGO_ENABLED=0 GOMAXPROCS=3 go build -o .gob/build/"
        )),
        "{}",
        calls[0]
    );
    assert!(stdout.contains("# publish .gob/build/"), "{stdout}");
    assert!(stdout.contains("/server -> bin/tool-server"), "{stdout}");
    assert!(!ws.dir().join("bin").exists(), "--dry-run created bin/");
}

#[test]
fn jobs_flag_and_user_gomaxprocs_reach_go() {
    let ws = Workspace::repo_example();
    let (code, stdout, _) = run(ws
        .gob(&["-j", "1", "build", "--dry-run"])
        .env("GOMAXPROCS", "5"));
    assert_eq!(code, 0);
    assert!(
        stdout.contains("GOMAXPROCS=1 go build"),
        "-j wins over GOMAXPROCS:\n{stdout}"
    );
    let (code, stdout, _) = run(ws.gob(&["build", "--dry-run"]).env("GOMAXPROCS", "5"));
    assert_eq!(code, 0);
    assert!(
        !stdout.contains("GOMAXPROCS="),
        "the user's GOMAXPROCS passes through untouched:\n{stdout}"
    );
}

#[test]
fn compile_errors_show_unchanged_and_keep_the_last_good_binary() {
    let ws = Workspace::repo_example();
    assert_eq!(run(&mut ws.gob(&["build"])).0, 0);
    ws.write(
        "cmd/beta/broken.go",
        "package main\n\nfunc broken() int { return \"x\" }\n",
    );
    let (code, _, stderr) = run(&mut ws.gob(&["build"]));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("cmd/beta/broken.go:3:28: cannot use \"x\" (untyped string constant) as int value in return statement"),
        "{stderr}"
    );
    assert!(
        stderr.contains("gob: error: build failed for beta (4 built)"),
        "{stderr}"
    );
    assert_eq!(
        run_binary(&ws.dir().join("bin/beta")),
        "beta (worker) v0.1.0",
        "old binary kept"
    );
    let leftovers: Vec<_> = fs::read_dir(ws.dir().join("bin"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn cross_compiling_for_windows_publishes_an_exe() {
    let ws = Workspace::example(
        "[[binary]]\npackage = \"./cmd/alpha\"\n\n[[binary]]\npackage = \"./cmd/alpha\"\nname = \"alpha-win\"\ngoos = \"windows\"\ngoarch = \"amd64\"\n",
    );
    let (code, _, stderr) = run(&mut ws.gob(&["build"]));
    assert_eq!(code, 0, "{stderr}");
    let exe = fs::read(ws.dir().join("bin/alpha-win.exe")).unwrap();
    assert_eq!(&exe[..2], b"MZ", "a PE executable");
    assert_eq!(run_binary(&ws.dir().join("bin/alpha")), "alpha (cli) dev");
}
