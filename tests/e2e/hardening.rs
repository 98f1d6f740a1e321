//! Regression tests for defects found by trying bad input and hostile setups (the hardening
//! issue): each test is named after what broke, and fails on the code before its fix.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use crate::support::{Workspace, gob_command, run, seeded_gocache};

const ONE_BINARY: &str = "[[binary]]\npackage = \"./cmd/alpha\"\n";

/// A workspace of its own module, `example.com/h`, with `files` (path, text).
fn module(manifest: &str, files: &[(&str, &str)]) -> Workspace {
    let tmp = tempfile::tempdir().unwrap();
    let ws = Workspace { tmp };
    ws.write("go.mod", "module example.com/h\n\ngo 1.21\n");
    ws.write("gobuild.toml", manifest);
    for (path, text) in files {
        ws.write(path, text);
    }
    ws
}

#[test]
fn unit_suite_compile_errors_are_shown_and_annotated() {
    let ws = Workspace::example("[test.unit]\npackages = [\"./internal/...\"]\n");
    ws.write(
        "internal/greet/broken_test.go",
        "package greet\n\nvar x int = \"no\"\n",
    );
    let (code, stdout, stderr) = run(ws
        .gob(&["test"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_WORKSPACE", ws.dir()));
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let all = format!("{stdout}\n{stderr}");
    assert!(
        all.contains("broken_test.go:3:13: cannot use \"no\""),
        "the compile error is shown: {all}"
    );
    assert!(
        stdout.contains("::error file=internal/greet/broken_test.go,line=3,col=13,title=compile error::cannot use"),
        "{stdout}"
    );
    let group = stdout
        .split("::group::FAIL example.com/mesh/internal/greet")
        .nth(1)
        .and_then(|g| g.split("::endgroup::").next())
        .unwrap_or_default();
    assert!(group.contains("broken_test.go:3:13"), "{stdout}");
}

#[test]
fn non_utf8_compiler_output_does_not_fail_a_good_build() {
    if Command::new("gcc").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have gcc (.ci/run installs it)"
        );
        eprintln!("skipped: no gcc for cgo");
        return;
    }
    let main = "package main\n\n// #include \"w.h\"\nimport \"C\"\n\nfunc main() {}\n";
    let mut manifest = String::from("[build]\nenv = { CGO_ENABLED = \"1\" }\n");
    let ws = module("", &[]);
    for name in ["cw1", "cw2", "cw3"] {
        ws.write(&format!("cmd/{name}/main.go"), main);
        std::fs::write(
            ws.dir().join(format!("cmd/{name}/w.h")),
            b"#warning \"caf\xe9\"\n".as_slice(),
        )
        .unwrap();
        manifest.push_str(&format!("[[binary]]\npackage = \"./cmd/{name}\"\n"));
    }
    ws.write("gobuild.toml", &manifest);
    let (code, stdout, stderr) = run(&mut ws.gob(&["build"]));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stderr.contains("caf\u{fffd}"), "shown lossily: {stderr}");
    for name in ["cw1", "cw2", "cw3"] {
        assert!(ws.dir().join("bin").join(name).is_file(), "{name}");
    }
}

#[test]
fn a_symlinked_lock_file_leads_no_write_outside_the_workspace() {
    let ws = Workspace::example(ONE_BINARY);
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    std::fs::create_dir_all(ws.dir().join(".gob")).unwrap();
    std::os::unix::fs::symlink(&victim, ws.dir().join(".gob/lock")).unwrap();
    let (code, _, stderr) = run(&mut ws.gob(&["build"]));
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("is a symlink"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
}

#[test]
fn a_symlinked_out_dir_or_staging_dir_is_refused_unless_asked_for() {
    let outside = tempfile::tempdir().unwrap();
    let ws = Workspace::example(ONE_BINARY);
    std::os::unix::fs::symlink(outside.path(), ws.dir().join("bin")).unwrap();
    let (code, _, stderr) = run(&mut ws.gob(&["build"]));
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("bin is a symlink to"), "{stderr}");
    assert!(std::fs::read_dir(outside.path()).unwrap().next().is_none());
    // Asked for explicitly: the user chose the dir.
    let linked = ws.dir().join("bin");
    let (code, _, stderr) = run(&mut ws.gob(&["build", "--out-dir", linked.to_str().unwrap()]));
    assert_eq!(code, 0, "{stderr}");
    assert!(outside.path().join("alpha").is_file());

    let ws = Workspace::example(ONE_BINARY);
    let (_, stdout, _) = run(&mut ws.gob(&["build", "--dry-run"]));
    let staging = stdout
        .lines()
        .find_map(|l| l.strip_prefix("# publish "))
        .and_then(|l| l.split(' ').next())
        .map(|p| ws.dir().join(Path::new(p).parent().unwrap()))
        .unwrap();
    std::fs::create_dir_all(staging.parent().unwrap()).unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), &staging).unwrap();
    refused_through_link(&mut ws.gob(&["build"]), elsewhere.path());
}

#[test]
fn a_symlinked_integ_test_dir_is_refused() {
    let ws = Workspace::repo_example();
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(ws.dir().join(".gob/test")).unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), ws.dir().join(".gob/test/integ")).unwrap();
    refused_through_link(&mut ws.gob(&["test", "--integ"]), elsewhere.path());
}

/// Runs `gob`, which must refuse to write through a link (exit 3) and leave `target` empty.
fn refused_through_link(gob: &mut Command, target: &Path) {
    let (code, _, stderr) = run(gob);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("is a symlink"), "{stderr}");
    let written: Vec<_> = std::fs::read_dir(target).unwrap().flatten().collect();
    assert!(written.is_empty(), "{written:?}");
}

/// A loopback HTTP server answering every request with `respond(path)`, recording the
/// requests' header lines.
struct TinyServer {
    url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl TinyServer {
    fn start(respond: impl Fn(&str) -> String + Send + 'static) -> TinyServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(2000) {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                let _ = reader.read_line(&mut request_line);
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    log.lock().unwrap().push(line.trim().to_string());
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let path = request_line.split(' ').nth(1).unwrap_or("/").to_string();
                let _ = stream.write_all(respond(&path).as_bytes());
            }
        });
        TinyServer { url, seen }
    }

    fn headers(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

#[test]
fn a_custom_auth_header_does_not_follow_a_cross_origin_redirect() {
    let other = TinyServer::start(|_| {
        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string()
    });
    let target = other.url.clone();
    let remote = TinyServer::start(move |path| {
        format!(
            "HTTP/1.1 302 Found\r\nLocation: {target}{path}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
    });
    let ws = Workspace::repo_example_with(&format!(
        "[cache]\nremote = \"{}\"\nauth_env = \"GOB_TEST_KEY\"\nauth_header = \"x-api-key\"\n",
        remote.url
    ));
    let gocache = seeded_gocache();
    let (code, _, stderr) = run(ws
        .gob(&["build", "alpha"])
        .env("GOCACHE", gocache.path())
        .env("GOB_TEST_KEY", "s3cret-key"));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        remote.headers().iter().any(|h| h.contains("s3cret-key")),
        "the remote itself gets the key"
    );
    assert!(
        !other.headers().iter().any(|h| h.contains("s3cret-key")),
        "the other origin never sees it: {:?}",
        other.headers()
    );
    assert!(stderr.contains("another origin"), "{stderr}");
}

#[test]
fn credentials_in_the_remote_url_are_never_printed() {
    let ws = Workspace::repo_example();
    let gocache = seeded_gocache();
    let url = "http://user:hunter2@127.0.0.1:1";
    let gob = |args: &[&str]| {
        let mut cmd = ws.gob(args);
        cmd.env("GOCACHE", gocache.path())
            .env("GOB_REMOTE_CACHE", url);
        run(&mut cmd)
    };
    for args in [
        &["env"][..],
        &["env", "--json"],
        &["build", "--dry-run"],
        &["build", "alpha"],
        &["build", "alpha", "--json"],
    ] {
        let (code, stdout, stderr) = gob(args);
        assert_eq!(code, 0, "{args:?}: {stderr}");
        assert!(
            !stdout.contains("hunter2") && !stderr.contains("hunter2"),
            "{args:?} printed the password:\n{stdout}\n{stderr}"
        );
        assert!(
            format!("{stdout}{stderr}").contains("***@127.0.0.1:1"),
            "{args:?}: {stdout}{stderr}"
        );
    }
}

#[test]
fn an_auth_value_that_is_no_valid_header_is_one_warning_not_a_failed_build() {
    let ws = Workspace::repo_example_with(
        "[cache]\nremote = \"http://127.0.0.1:1\"\nauth_env = \"GOB_TEST_TOKEN\"\n",
    );
    let gocache = seeded_gocache();
    let (code, _, stderr) = run(ws
        .gob(&["build"])
        .env("GOCACHE", gocache.path())
        .env("GOB_TEST_TOKEN", "Bearer abc\n"));
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("exited pre-Close"), "{stderr}");
    assert_eq!(
        stderr.matches("gob: warning: remote cache").count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains("bad value for header"), "{stderr}");
    assert!(ws.dir().join("bin/alpha").is_file());
}

#[test]
fn a_huge_timeout_is_a_located_manifest_error_not_a_panic() {
    let ws = Workspace::example("[test.unit]\ntimeout = \"99999999999999999999h\"\n");
    let (code, _, stderr) = run(&mut ws.gob(&["test"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("gobuild.toml:2:"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn huge_durations_and_shard_counts_on_the_command_line_are_usage_errors() {
    let ws = Workspace::repo_example();
    for args in [
        &["build", "--grace", "99999999999999999999h"][..],
        &["test", "--shard", "1/100000000000"],
        &["test", "--shard", "1/18446744073709551615"],
    ] {
        let (code, _, stderr) = run(&mut ws.gob(args));
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    let (code, stdout, stderr) = run(&mut ws.gob(&[
        "test",
        "--integ",
        "--",
        "-test.timeout=99999999999999999999h",
    ]));
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        code, 1,
        "the test binaries refuse the flag: {stdout}\n{stderr}"
    );
}

#[test]
fn a_closed_stdout_ends_printing_commands_quietly() {
    let ws = Workspace::repo_example();
    for args in [
        "completions zsh",
        "list",
        "env",
        "shards 2",
        "build --dry-run",
    ] {
        let gob = gob_command();
        let script = format!("'{}' {args} | true", gob.get_program().to_str().unwrap());
        let (code, _, stderr) = run(Command::new("bash")
            .args(["-o", "pipefail", "-c", &script])
            .current_dir(ws.dir())
            .envs(gob.get_envs().filter_map(|(k, v)| Some((k, v?)))));
        assert!(!stderr.contains("panicked"), "{args}: {stderr}");
        assert!(code == 0 || code == 141, "{args}: exit {code}: {stderr}");
    }
}

#[test]
fn an_empty_action_id_gets_an_error_answer_from_the_cacheprog() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = gob_command()
        .args(["cacheprog", "--dir"])
        .arg(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{{\"ID\":1,\"Command\":\"get\",\"ActionID\":\"\"}}").unwrap();
    writeln!(stdin, "{{\"ID\":2,\"Command\":\"close\"}}").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stdout.contains("\"ID\":1") && stdout.contains("ActionID has 0 bytes"),
        "{stdout}"
    );
    assert!(stdout.contains("\"ID\":2"), "close is answered: {stdout}");
}

#[test]
fn a_failed_analyze_leaves_no_scratch_dir() {
    let ws = Workspace::example(ONE_BINARY);
    ws.write(
        "cmd/alpha/broken.go",
        "package main\n\nvar x int = \"no\"\n",
    );
    // Warm: the scratch dir holds graphs and outputs as well as a cold run's GOCACHE.
    let (code, _, stderr) = run(&mut ws.gob(&["analyze", "--warm"]));
    assert_eq!(code, 1, "{stderr}");
    let left: Vec<_> = std::fs::read_dir(ws.dir().join(".gob/analyze"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn stale_publish_temp_files_are_removed_and_long_names_publish() {
    let name = "n".repeat(240);
    let ws = Workspace::example(&format!("{ONE_BINARY}name = \"{name}\"\n"));
    std::fs::create_dir_all(ws.dir().join("bin")).unwrap();
    let stale = ws.dir().join("bin/.alpha.gob-999999999-0.tmp");
    std::fs::write(&stale, "half a binary").unwrap();
    let (code, _, stderr) = run(&mut ws.gob(&["build"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(!stale.exists(), "a dead run's temp file is removed");
    assert!(ws.dir().join("bin").join(&name).is_file());
    let too_long = "n".repeat(256);
    let ws = Workspace::example(&format!("{ONE_BINARY}name = \"{too_long}\"\n"));
    let (code, _, stderr) = run(&mut ws.gob(&["build"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("must be a plain file name"), "{stderr}");
}

#[test]
fn an_unwritable_timing_history_is_a_warning_naming_its_path() {
    let ws = Workspace::repo_example();
    std::fs::create_dir_all(ws.dir().join(".gob/timings.json")).unwrap();
    let (code, _, stderr) = run(&mut ws.gob(&["test", "--integ"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("warning: cannot record test times in")
            && stderr.contains(".gob/timings.json"),
        "{stderr}"
    );
}

#[test]
fn command_line_paths_are_relative_to_the_start_dir_with_c() {
    let ws = Workspace::repo_example();
    let start = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(gob_command().current_dir(start.path()).args([
        "-C",
        ws.dir().to_str().unwrap(),
        "test",
        "--integ",
        "--junit",
        "rel.xml",
        "--timings",
        "t.json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(start.path().join("rel.xml").is_file());
    assert!(start.path().join("t.json").is_file());
    assert!(!ws.dir().join("t.json").exists() && !ws.dir().join("rel.xml").exists());
}

#[test]
fn check_works_when_gobs_path_has_a_space() {
    let dir = tempfile::tempdir().unwrap();
    let spaced = dir.path().join("my tools");
    std::fs::create_dir_all(&spaced).unwrap();
    let gob = spaced.join("gob");
    std::fs::copy(env!("CARGO_BIN_EXE_gob"), &gob).unwrap();
    let ws = Workspace::repo_example();
    let env = gob_command();
    let (code, _, stderr) = run(Command::new(&gob)
        .current_dir(ws.dir())
        .arg("check")
        .envs(env.get_envs().filter_map(|(k, v)| Some((k, v?)))));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("nothing linked"), "{stderr}");
}

#[test]
fn init_terminates_on_symlink_loops_and_writes_what_a_go_developer_would() {
    let ws = module(
        "",
        &[
            ("a/a.go", "package a\n"),
            (
                "a/a_test.go",
                "package a\n\nimport \"testing\"\n\nfunc TestA(t *testing.T) {}\n",
            ),
            (
                "fs/fs_test.go",
                "//go:build no_btrfs\n\npackage fs\n\nimport \"testing\"\n\nfunc TestF(t *testing.T) {}\n",
            ),
            (
                "integration/db/db_test.go",
                "package db\n\nimport \"testing\"\n\nfunc TestDB(t *testing.T) {}\n",
            ),
            (
                "client/c_test.go",
                "//go:build integ.v2\n\npackage client\n\nimport \"testing\"\n\nfunc TestC(t *testing.T) {}\n",
            ),
        ],
    );
    std::fs::remove_file(ws.dir().join("gobuild.toml")).unwrap();
    std::os::unix::fs::symlink("..", ws.dir().join("a/b")).unwrap();
    let mut child = ws.gob(&["init"]).spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("gob init did not finish: it follows symlinked dirs");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(status.success());
    let text = std::fs::read_to_string(ws.dir().join("gobuild.toml")).unwrap();
    assert!(
        text.contains("[test.integration]\npackages = [\"./integration/...\"]\ninteg = true"),
        "{text}"
    );
    assert!(text.contains("exclude = [\"integration/**\"]"), "{text}");
    assert!(text.contains("[test.integ-v2]"), "{text}");
    assert!(!text.contains("[test.no_btrfs]\n"), "{text}");
    let gitignore = std::fs::read_to_string(ws.dir().join(".gitignore")).unwrap();
    assert!(gitignore.contains(".gob/\n/bin/\n"), "{gitignore}");
    let (code, stdout, stderr) = run(&mut ws.gob(&["list"]));
    assert_eq!(code, 0, "the written manifest is valid: {stderr}");
    let unit = stdout.split("\n  integration (").next().unwrap_or_default();
    assert!(
        !unit.contains("integration/db"),
        "the unit suite excludes it: {stdout}"
    );
    let (code, _, stderr) = run(&mut ws.gob(&["test", "integration"]));
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn a_binary_exiting_0_without_a_result_passes_in_unit_and_integ_suites() {
    let test = "package quiet\n\nimport (\n\t\"os\"\n\t\"testing\"\n)\n\nfunc TestMain(m *testing.M) { os.Exit(0) }\n\nfunc TestNever(t *testing.T) { t.Fatal(\"not run\") }\n";
    let ws = module(
        "[test.unit]\npackages = [\"./...\"]\n\n[test.integ]\npackages = [\"./...\"]\ninteg = true\n",
        &[("quiet/quiet_test.go", test)],
    );
    for args in [&["test"][..], &["test", "--integ"]] {
        let (code, stdout, stderr) = run(&mut ws.gob(args));
        assert_eq!(code, 0, "{args:?}: {stdout}\n{stderr}");
        assert!(stdout.contains("ok   example.com/h/quiet"), "{stdout}");
    }
}

#[test]
fn a_manifest_that_is_not_utf8_is_a_manifest_error() {
    let ws = Workspace::example("");
    std::fs::write(
        ws.dir().join("gobuild.toml"),
        b"[build]\nldflags = \"caf\xe9\"\n".as_slice(),
    )
    .unwrap();
    let (code, _, stderr) = run(&mut ws.gob(&["build"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("not UTF-8"), "{stderr}");
    assert!(stderr.contains("gobuild.toml:2:"), "{stderr}");
}

#[test]
fn a_package_path_with_a_space_shows_gos_reason() {
    let ws = module(
        "[[binary]]\npackage = \"./cmd/my app\"\n",
        &[("cmd/my app/main.go", "package main\n\nfunc main() {}\n")],
    );
    let (code, _, stderr) = run(&mut ws.gob(&["build"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("invalid char ' '"), "{stderr}");
}

/// The workflow commands a GitHub Actions runner would act on in `output`: lines that start
/// with `::` (leading blanks aside), except between `::stop-commands::TOKEN` and `::TOKEN::`.
fn runner_commands(output: &str) -> Vec<String> {
    let mut stopped: Option<String> = None;
    let mut commands = Vec::new();
    for line in output.lines() {
        let line = line.trim_start();
        match &stopped {
            Some(token) => {
                if line == format!("::{token}::") {
                    stopped = None;
                }
            }
            None => match line.strip_prefix("::stop-commands::") {
                Some(token) => stopped = Some(token.to_string()),
                None if line.starts_with("::") => commands.push(line.to_string()),
                None => {}
            },
        }
    }
    commands
}

#[test]
fn test_output_under_github_actions_cannot_issue_workflow_commands() {
    let ws = Workspace::fixture("affected", "[test.unit]\npackages = [\"./evil\"]\n");
    ws.write(
        "evil/evil_test.go",
        "package evil\n\nimport (\n\t\"fmt\"\n\t\"testing\"\n)\n\nfunc TestEvil(t *testing.T) {\n\tfmt.Println(\"::error file=evil.go,line=1::pwned\")\n\tfmt.Println(\"  ::add-mask::secret\")\n\tfmt.Println(\"::stop-commands::guess\")\n\tfmt.Println(\"::guess::\")\n\tt.Fatal(\"it failed\")\n}\n",
    );
    let (code, stdout, stderr) = run(ws
        .gob(&["test"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_WORKSPACE", ws.dir()));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stdout.contains("::error file=evil.go,line=1::pwned"),
        "the output is shown: {stdout}"
    );
    let commands = runner_commands(&stdout);
    assert_eq!(
        commands,
        [
            "::group::FAIL example.com/aff/evil",
            "::endgroup::",
            "::error file=evil/evil_test.go,line=13,title=example.com/aff/evil TestEvil::it failed",
        ],
        "only gob's own commands reach the runner:\n{stdout}"
    );
    assert!(runner_commands(&stderr).is_empty(), "{stderr}");
}
