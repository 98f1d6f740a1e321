//! `gob test --integ` with `[exec]`: test binaries run on a real Buildbarn cluster on
//! loopback (see buildbarn.rs), each as one action; fallbacks to local runs; cached results.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::buildbarn::{Cluster, marks, marks_dir};
use crate::support::{Workspace, events, run};

/// The fixture with one integration suite over `packages`, `env` added to the suite's env,
/// `suite_extra` and `exec` (the `[exec]` table's keys) in the manifest.
fn workspace(packages: &str, env: &str, suite_extra: &str, exec: &str) -> Workspace {
    let ws = Workspace::fixture("remote", "");
    let marks = marks_dir(ws.dir());
    let manifest = format!(
        "[test.integ]\npackages = [{packages}]\ninteg = true\ninclude = [\"conf/*.conf\"]\n\
         env = {{ SUITE_ENV = \"set\", GOB_MARKS = \"{}\"{env} }}\n{suite_extra}\n\n[exec]\n{exec}\n",
        marks.display()
    );
    ws.write("gobuild.toml", &manifest);
    ws
}

fn exec_table(cluster: &Cluster) -> String {
    format!(
        "remote = \"{}\"\nplatform = {{ OSFamily = \"linux\" }}\ntimeout = \"20s\"\n",
        cluster.url
    )
}

#[test]
fn every_package_runs_remotely_in_its_dir_and_two_workers_run_two_at_once() {
    let Some(cluster) = Cluster::start(2) else {
        return;
    };
    let ws = workspace(
        "\"./svc/...\", \"./slow/...\"",
        ", SLOW_MS = \"1500\"",
        "",
        &exec_table(&cluster),
    );
    let (code, stdout, stderr) = run(&mut ws.gob(&["test", "--integ", "--json"]));
    assert_eq!(code, 0, "{stderr}\n{}", cluster.logs());
    let runs = events(&stdout, "gob-remote-run");
    let mut worker_of = BTreeMap::new();
    for event in &runs {
        worker_of.insert(
            event["Package"].as_str().unwrap().to_string(),
            event["Worker"].as_str().unwrap().to_string(),
        );
    }
    let packages: Vec<&str> = worker_of.keys().map(String::as_str).collect();
    assert_eq!(
        packages,
        [
            "remote/slow/four",
            "remote/slow/one",
            "remote/slow/three",
            "remote/slow/two",
            "remote/svc/a/api",
            "remote/svc/b/api"
        ],
        "every package ran on the cluster\n{stderr}"
    );
    assert!(
        events(&stdout, "gob-remote-fallback").is_empty(),
        "{stderr}"
    );
    // The svc tests check their dir, testdata, the suite's env and its include file.
    for package in ["remote/svc/a/api", "remote/svc/b/api"] {
        let passed = stdout.lines().any(|l| {
            l.contains("\"Action\":\"pass\"")
                && l.contains(&format!("\"Package\":\"{package}\""))
                && l.contains("TestRunsInItsDirWithTestdata")
        });
        assert!(passed, "{package} passed its test remotely\n{stdout}");
    }
    assert!(
        stderr.contains("remote execution (grpc://127.0.0.1:"),
        "{stderr}"
    );
    assert!(
        stderr.contains("6 test binaries ran on the cluster"),
        "{stderr}"
    );
    // When each slow package ran: two at once, never three; one at a time per worker.
    let marks = marks(&ws.dir().join(".marks"), "slow");
    let mut spans: BTreeMap<String, (u128, u128)> = BTreeMap::new();
    for (what, at) in &marks {
        let (edge, name) = what.split_once('-').unwrap();
        let span = spans.entry(format!("remote/slow/{name}")).or_default();
        match edge {
            "start" => span.0 = *at,
            _ => span.1 = *at,
        }
    }
    assert_eq!(spans.len(), 4, "{marks:?}");
    let busy_at = |t: u128| spans.values().filter(|(s, e)| *s <= t && t < *e).count();
    let most = spans.values().map(|(s, _)| busy_at(*s)).max().unwrap();
    assert_eq!(most, 2, "two workers run two packages at once: {spans:?}");
    let workers: std::collections::BTreeSet<&String> = worker_of.values().collect();
    assert_eq!(workers.len(), 2, "both workers ran tests: {worker_of:?}");
    for worker in workers {
        let mine: Vec<&(u128, u128)> = spans
            .iter()
            .filter(|(p, _)| worker_of[*p] == *worker)
            .map(|(_, span)| span)
            .collect();
        for a in &mine {
            for b in &mine {
                let overlap = a != b && a.0 < b.1 && b.0 < a.1;
                assert!(
                    !overlap,
                    "{worker} ran one package at a time: {spans:?} {worker_of:?}"
                );
            }
        }
    }
}

/// A JUnit report without what differs between runs: times and timestamps.
fn normalized_junit(xml: &str) -> String {
    let mut out = String::new();
    let mut rest = xml;
    while let Some(at) = rest.find(" time") {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let end = after[1..]
            .find('"')
            .and_then(|q| after[q + 2..].find('"').map(|r| q + 2 + r + 1))
            .unwrap();
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn junit_output_of_a_remote_run_is_the_same_as_of_a_local_one() {
    let Some(cluster) = Cluster::start(1) else {
        return;
    };
    let ws = workspace(
        "\"./mixed\", \"./svc/a/api\"",
        "",
        "",
        &exec_table(&cluster),
    );
    let (local_code, _, local_err) = run(&mut ws.gob(&[
        "test",
        "--integ",
        "--no-remote-exec",
        "--junit",
        "local.xml",
    ]));
    let (remote_code, _, remote_err) =
        run(&mut ws.gob(&["test", "--integ", "--junit", "remote.xml"]));
    assert_eq!(
        (local_code, remote_code),
        (1, 1),
        "{local_err}\n{remote_err}"
    );
    assert!(!local_err.contains("remote execution"), "{local_err}");
    assert!(
        remote_err.contains("2 test binaries ran on the cluster"),
        "{remote_err}"
    );
    let read = |name: &str| std::fs::read_to_string(ws.dir().join(name)).unwrap();
    let (local, remote) = (read("local.xml"), read("remote.xml"));
    assert!(
        local.contains("expected 1, got 2") && local.contains("sub failed"),
        "{local}"
    );
    assert_eq!(normalized_junit(&remote), normalized_junit(&local));
    // A retry of the failed tests goes to the cluster too.
    let (code, stdout, stderr) = run(&mut ws.gob(&["test", "--integ", "--json", "--retries", "1"]));
    assert_eq!(code, 1, "{stderr}");
    let retried: Vec<serde_json::Value> = events(&stdout, "gob-retry");
    assert_eq!(retried.len(), 1, "{stdout}");
    assert_eq!(retried[0]["Package"], "remote/mixed");
    let mixed_runs = events(&stdout, "gob-remote-run")
        .into_iter()
        .filter(|e| e["Package"] == "remote/mixed")
        .count();
    assert_eq!(
        mixed_runs, 2,
        "the first run and the retry ran remotely\n{stderr}"
    );
    assert!(
        events(&stdout, "gob-remote-fallback").is_empty(),
        "{stderr}"
    );
}

/// `gob test --integ --json` of the `waits` package on `cluster`, once its test runs there.
fn start_waiting_test(cluster: &Cluster) -> (Workspace, std::process::Child) {
    let ws = workspace("\"./waits\"", "", "", &exec_table(cluster));
    let mut gob = ws.gob(&["test", "--integ", "--json"]);
    gob.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = gob.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while marks(&ws.dir().join(".marks"), "waits").is_empty() {
        assert!(
            Instant::now() < deadline,
            "the test never started\n{}",
            cluster.logs()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (ws, child)
}

#[test]
fn a_killed_worker_makes_its_binary_run_here() {
    let Some(mut cluster) = Cluster::start(1) else {
        return;
    };
    let (ws, child) = start_waiting_test(&cluster);
    let marks_at = ws.dir().join(".marks");
    // The worker dies while the test runs; the scheduler gives up on it after a minute.
    cluster.kill_worker(1);
    std::fs::write(marks_at.join("release"), "").unwrap();
    let output = child.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let fallbacks = events(&stdout, "gob-remote-fallback");
    assert_eq!(fallbacks.len(), 1, "{stdout}");
    assert_eq!(fallbacks[0]["Package"], "remote/waits");
    assert!(
        stderr.contains("warning: remote/waits: remote execution failed ("),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 ran here after a remote failure"),
        "{stderr}"
    );
    assert!(stdout.contains("\"Action\":\"pass\",\"Package\":\"remote/waits\""));
}

#[test]
fn cache_results_reuses_an_identical_run_and_says_so() {
    let Some(cluster) = Cluster::start(1) else {
        return;
    };
    let exec = exec_table(&cluster);
    let cached = workspace("\"./counted\"", "", "cache_results = true", &exec);
    for _ in 0..2 {
        let (code, _, stderr) = run(&mut cached.gob(&["test", "--integ"]));
        assert_eq!(code, 0, "{stderr}");
    }
    let (code, stdout, stderr) = run(&mut cached.gob(&["test", "--integ", "--json"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        marks(&cached.dir().join(".marks"), "counted").len(),
        1,
        "three runs, one real run"
    );
    let runs = events(&stdout, "gob-remote-run");
    assert_eq!(runs[0]["Cached"], true, "{stdout}");
    assert!(
        stderr.contains("remote/counted: result reused from the remote action cache"),
        "{stderr}"
    );
    assert!(
        stderr.contains("(1 reused from the action cache)"),
        "{stderr}"
    );
    // Without cache_results every run runs.
    let fresh = workspace("\"./counted\"", "", "", &exec);
    for _ in 0..2 {
        let (code, _, stderr) = run(&mut fresh.gob(&["test", "--integ"]));
        assert_eq!(code, 0, "{stderr}");
        assert!(!stderr.contains("reused"), "{stderr}");
    }
    assert_eq!(marks(&fresh.dir().join(".marks"), "counted").len(), 2);
    // A platform no worker offers: a clear warning, and the binary runs here.
    let windows = exec.replace("\"linux\"", "\"windows\"");
    let nobody = workspace("\"./counted\"", "", "", &windows);
    let (code, _, stderr) = run(&mut nobody.gob(&["test", "--integ"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("warning: remote/counted: remote execution failed ("),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 ran here after a remote failure"),
        "{stderr}"
    );
    assert_eq!(marks(&nobody.dir().join(".marks"), "counted").len(), 1);
}

#[test]
fn an_unreachable_cluster_falls_back_unless_strict() {
    let port = crate::servers::free_port();
    let exec = format!("remote = \"grpc://127.0.0.1:{port}\"\ntimeout = \"2s\"\n");
    let ws = workspace("\"./svc/...\"", "", "", &exec);
    let (code, _, stderr) = run(&mut ws.gob(&["test", "--integ"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("remote execution failed ("), "{stderr}");
    assert!(
        stderr.contains("0 test binaries ran on the cluster, 2 ran here after a remote failure"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&mut ws.gob(&["test", "--integ", "--remote-exec-strict"]));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("remote execution failed: "), "{stderr}");
    assert!(!stderr.contains("running it on this machine"), "{stderr}");
    // gob env shows the cluster.
    let (code, stdout, _) = run(&mut ws.gob(&["env"]));
    assert_eq!(code, 0);
    assert!(
        stdout.contains(&format!(
            "remote execution  grpc://127.0.0.1:{port} (integration suites, unless --no-remote-exec)"
        )),
        "{stdout}"
    );
    let (_, json, _) = run(&mut ws.gob(&["env", "--json"]));
    let env: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(env["remote_exec"]["jobs"], 8);
    // A dry run says where the binaries would run, and runs nothing.
    let (code, stdout, stderr) = run(&mut ws.gob(&["test", "--integ", "--dry-run"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with(&format!(
            "# remote execution: each integration test binary below runs as one action on grpc://127.0.0.1:{port} (platform: any), up to 8 at a time"
        )),
        "{stdout}"
    );
    // Turned off for one run: no attempt at all.
    let (code, _, stderr) = run(&mut ws.gob(&["test", "--integ", "--no-remote-exec"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("remote execution"), "{stderr}");
    // --remote-exec with no cluster anywhere is a usage error.
    let plain = Workspace::fixture(
        "remote",
        "[test.integ]\npackages = [\"./svc/...\"]\ninteg = true\n",
    );
    let (code, _, stderr) = run(&mut plain.gob(&["test", "--integ", "--remote-exec"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--remote-exec needs a cluster"), "{stderr}");
}

#[test]
fn ctrl_c_cancels_the_actions_in_flight() {
    let Some(cluster) = Cluster::start(1) else {
        return;
    };
    let (ws, child) = start_waiting_test(&cluster);
    let marks_at = ws.dir().join(".marks");
    let stopped = Instant::now();
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stopped.elapsed() < Duration::from_secs(10),
        "gob stopped at once"
    );
    std::fs::write(marks_at.join("release"), "").unwrap();
}

#[test]
fn a_remote_run_brings_each_binary_s_coverage_back_as_a_local_run_writes_it() {
    let Some(cluster) = Cluster::start(2) else {
        return;
    };
    let ws = workspace(
        "\"./svc/...\"",
        "",
        "coverpkg = [\"./...\"]",
        &exec_table(&cluster),
    );
    let local = [
        "test",
        "--integ",
        "--no-remote-exec",
        "--coverprofile",
        "local.out",
    ];
    let (code, _, stderr) = run(&mut ws.gob(&local));
    assert_eq!(code, 0, "{stderr}");
    let remote = ["test", "--integ", "--json", "--coverprofile", "remote.out"];
    let (code, stdout, stderr) = run(&mut ws.gob(&remote));
    assert_eq!(code, 0, "{stderr}\n{}", cluster.logs());
    assert!(
        events(&stdout, "gob-remote-fallback").is_empty(),
        "{stderr}"
    );
    assert!(!events(&stdout, "gob-remote-run").is_empty(), "{stderr}");
    let read = |name: &str| std::fs::read_to_string(ws.dir().join(name)).unwrap();
    let (local, remote) = (read("local.out"), read("remote.out"));
    assert!(
        local.contains("remote/internal/svccheck/svccheck.go") && local.contains(" 1\n"),
        "{local}"
    );
    assert_eq!(remote, local);
}

#[test]
fn one_worker_takes_the_longest_ready_binary_by_history_next() {
    let Some(cluster) = Cluster::start(1) else {
        return;
    };
    let exec = format!("{}jobs = 1\n", exec_table(&cluster));
    let ws = workspace("\"./slow/...\"", ", SLOW_MS = \"1200\"", "", &exec);
    // Link every binary first, so all are ready when the cluster's one slot frees.
    let (code, _, stderr) = run(&mut ws.gob(&["test", "--integ", "--no-remote-exec"]));
    assert_eq!(code, 0, "{stderr}");
    std::fs::remove_file(marks_dir(ws.dir()).join("slow")).unwrap();
    // A history where link (import path) order is the shortest first.
    let history = ["four", "one", "three", "two"]
        .iter()
        .enumerate()
        .map(|(i, p)| {
            format!(
                "\"integ remote/slow/{p}\": {{ \"seconds\": {}, \"measured\": \"2026-12-01T10:00:00Z\" }}",
                i + 1
            )
        })
        .collect::<Vec<_>>()
        .join(",\n");
    ws.write(
        ".gob/timings.json",
        &format!("{{ \"version\": 1, \"packages\": {{ {history} }} }}\n"),
    );
    let (code, _, stderr) = run(&mut ws.gob(&["test", "--integ"]));
    assert_eq!(code, 0, "{stderr}\n{}", cluster.logs());
    let mut starts: Vec<(String, u128)> = marks(&marks_dir(ws.dir()), "slow")
        .into_iter()
        .filter(|(what, _)| what.starts_with("start-"))
        .collect();
    starts.sort_by_key(|(_, at)| *at);
    let order: Vec<&str> = starts.iter().map(|(w, _)| &w["start-".len()..]).collect();
    assert_eq!(order.len(), 4, "{order:?}");
    // The first goes as soon as it is ready; the rest longest first: two (4s), three (3s),
    // one (2s), four (1s).
    let rest: Vec<&str> = ["two", "three", "one", "four"]
        .into_iter()
        .filter(|p| *p != order[0])
        .collect();
    assert_eq!(order[1..], rest[..], "{order:?}");
}

/// When each test of the `big` package started and ended (`start-One`, `end-One`, …).
fn big_marks(ws: &Workspace) -> BTreeMap<String, Vec<u128>> {
    let mut marks_of: BTreeMap<String, Vec<u128>> = BTreeMap::new();
    for (what, at) in marks(&marks_dir(ws.dir()), "big") {
        marks_of.entry(what).or_default().push(at);
    }
    marks_of
}

/// The `big` package with `split = "2s"`, its history written by a first run here.
fn split_workspace(cluster: &Cluster, env: &str) -> Workspace {
    let ws = workspace(
        "\"./big\"",
        &format!(", BIG_MS = \"1200\"{env}"),
        "split = \"2s\"",
        &exec_table(cluster),
    );
    let (code, _, stderr) = run(&mut ws.gob(&[
        "test",
        "--integ",
        "--no-remote-exec",
        "--junit",
        "local.xml",
    ]));
    assert_eq!(code, 0, "{stderr}");
    std::fs::remove_file(marks_dir(ws.dir()).join("big")).unwrap();
    ws
}

#[test]
fn a_split_package_runs_as_groups_on_two_workers_each_test_once_reported_as_one() {
    let Some(cluster) = Cluster::start(2) else {
        return;
    };
    let ws = split_workspace(&cluster, "");
    let started = Instant::now();
    let (code, stdout, stderr) =
        run(&mut ws.gob(&["test", "--integ", "--json", "--junit", "remote.xml"]));
    let wall = started.elapsed();
    assert_eq!(code, 0, "{stderr}\n{}", cluster.logs());
    // ~4.8s of tests in groups of ~2s: three groups and the catch-all, four actions. (Tests of
    // 1.5s made 6.00s, on the edge: one reported 1.51s on a loaded machine, four groups.)
    let runs = events(&stdout, "gob-remote-run");
    assert_eq!(runs.len(), 4, "{stdout}");
    let marks_of = big_marks(&ws);
    for test in ["One", "Two", "Three", "Four", "Flaky"] {
        assert_eq!(
            marks_of[&format!("start-{test}")].len(),
            1,
            "{test}: {marks_of:?}"
        );
    }
    // Two workers ran groups at once.
    let span = |t: &str| {
        (
            marks_of[&format!("start-{t}")][0],
            marks_of[&format!("end-{t}")][0],
        )
    };
    let spans: Vec<(u128, u128)> = ["One", "Two", "Three", "Four"].map(span).to_vec();
    let overlapping = spans
        .iter()
        .enumerate()
        .any(|(i, a)| spans[i + 1..].iter().any(|b| a.0 < b.1 && b.0 < a.1));
    assert!(overlapping, "no two groups ran at once: {spans:?}");
    assert!(wall < Duration::from_secs(30), "{wall:?}");
    // One package result, as the unsplit run reports it.
    let read = |name: &str| std::fs::read_to_string(ws.dir().join(name)).unwrap();
    assert_eq!(
        normalized_junit(&read("remote.xml")),
        normalized_junit(&read("local.xml"))
    );
    let passed: Vec<_> = events(&stdout, "pass")
        .into_iter()
        .filter(|e| e["Test"].is_null())
        .collect();
    assert_eq!(passed.len(), 4, "each part's own end event: {stdout}");
    assert!(stderr.contains("1 passed, 0 failed"), "{stderr}");
}

#[test]
fn a_failed_test_of_a_split_package_is_retried_alone() {
    let Some(cluster) = Cluster::start(2) else {
        return;
    };
    let ws = split_workspace(&cluster, "");
    ws.write(
        "gobuild.toml",
        &std::fs::read_to_string(ws.dir().join("gobuild.toml"))
            .unwrap()
            .replace("BIG_MS = \"1200\"", "BIG_MS = \"1200\", BIG_FLAKY = \"1\""),
    );
    let (code, stdout, stderr) = run(&mut ws.gob(&["test", "--integ", "--json", "--retries", "1"]));
    assert_eq!(code, 0, "flaky passes: {stderr}\n{}", cluster.logs());
    let retried = events(&stdout, "gob-retry");
    assert_eq!(retried.len(), 1, "{stdout}");
    assert_eq!(retried[0]["Tests"], serde_json::json!(["TestFlaky"]));
    let marks_of = big_marks(&ws);
    assert_eq!(marks_of["start-Flaky"].len(), 2, "{marks_of:?}");
    for test in ["One", "Two", "Three", "Four"] {
        assert_eq!(
            marks_of[&format!("start-{test}")].len(),
            1,
            "{test} ran again"
        );
    }
    assert!(stderr.contains("FLAKY remote/big TestFlaky"), "{stderr}");
}
