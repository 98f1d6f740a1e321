//! CI fan-out: shards that stay a partition when run one after another in one checkout,
//! split plans, merged timing histories, and test archives run where there is neither go
//! nor the source tree (tests/fixtures/affected: three integ packages, one reading its
//! testdata, one a config outside its dir).

use std::collections::BTreeMap;

use crate::support::{Workspace, gob_command, run};

const MANIFEST: &str = "[test.integ]\npackages = [\"./pkga\", \"./pkgb\", \"./pkgc\"]\ninteg = true\ninclude = [\"config/*.yaml\"]\n";

/// Packages that passed, from a run's output.
fn passed(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("ok   "))
        .filter_map(|l| l.split(' ').next())
        .map(str::to_string)
        .collect()
}

/// A history where pkga takes long: a split that measured times would change.
fn skewed_history(ws: &Workspace) {
    let record =
        |s: f64| format!("{{\"seconds\": {s}, \"measured\": \"2026-11-01T00:00:00+00:00\"}}");
    ws.write(
        ".gob/timings.json",
        &format!(
            "{{\"version\": 1, \"packages\": {{\"integ example.com/aff/pkga\": {}, \"integ example.com/aff/pkgb\": {}, \"integ example.com/aff/pkgc\": {}}}}}",
            record(100.0),
            record(1.0),
            record(1.0)
        ),
    );
}

#[test]
fn shards_run_one_after_another_in_one_checkout_cover_every_package_once() {
    for with_history in [false, true] {
        let ws = Workspace::fixture("affected", MANIFEST);
        if with_history {
            skewed_history(&ws);
        }
        let before = std::fs::read(ws.dir().join(".gob/timings.json")).ok();
        let mut runs: BTreeMap<String, usize> = BTreeMap::new();
        let mut fingerprints = Vec::new();
        for k in 1..=2 {
            let (code, stdout, stderr) =
                run(&mut ws.gob(&["test", "--integ", "--shard", &format!("{k}/2")]));
            assert_eq!(code, 0, "{stderr}");
            for package in passed(&stdout) {
                *runs.entry(package).or_default() += 1;
            }
            let line = stderr
                .lines()
                .find(|l| l.contains("of split"))
                .unwrap()
                .to_string();
            fingerprints.push(line.split("of split ").nth(1).unwrap()[..8].to_string());
            assert!(
                ws.dir()
                    .join(format!(".gob/timings-shard-{k}-of-2.json"))
                    .is_file()
            );
        }
        assert_eq!(runs.len(), 3, "every package ran: {runs:?}");
        assert!(runs.values().all(|&n| n == 1), "each once: {runs:?}");
        assert_eq!(fingerprints[0], fingerprints[1], "one split");
        assert_eq!(
            std::fs::read(ws.dir().join(".gob/timings.json")).ok(),
            before,
            "a sharded run leaves the history it split by alone"
        );
        let (code, _, stderr) = run(&mut ws.gob(&[
            "timings",
            "merge",
            ".gob/timings-shard-1-of-2.json",
            ".gob/timings-shard-2-of-2.json",
            "--output",
            "merged.json",
        ]));
        assert_eq!(code, 0, "{stderr}");
        let merged = std::fs::read_to_string(ws.dir().join("merged.json")).unwrap();
        let merged: serde_json::Value = serde_json::from_str(&merged).unwrap();
        for k in 1..=2 {
            let shard =
                std::fs::read_to_string(ws.dir().join(format!(".gob/timings-shard-{k}-of-2.json")));
            let shard: serde_json::Value = serde_json::from_str(&shard.unwrap()).unwrap();
            for (key, record) in shard["packages"].as_object().unwrap() {
                assert_eq!(
                    &merged["packages"][key], record,
                    "{key}: the shard's record"
                );
            }
        }
    }
}

#[test]
fn a_split_written_once_is_the_one_every_shard_runs() {
    let ws = Workspace::fixture("affected", MANIFEST);
    skewed_history(&ws);
    let (code, stdout, stderr) =
        run(&mut ws.gob(&["shards", "2", "--integ", "--plan", "split.json"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("split "), "{stdout}");
    std::fs::remove_file(ws.dir().join(".gob/timings.json")).unwrap();
    let (code, stdout, stderr) = run(&mut ws.gob(&[
        "test",
        "--integ",
        "--shard",
        "1/2",
        "--shard-plan",
        "split.json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        passed(&stdout),
        ["example.com/aff/pkga"],
        "the plan's shard, not a fresh split"
    );
    let (code, _, stderr) = run(&mut ws.gob(&[
        "test",
        "--integ",
        "--shard",
        "1/3",
        "--shard-plan",
        "split.json",
    ]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("splits into 2 shards, not 3"), "{stderr}");
}

#[test]
fn an_archive_runs_where_there_is_neither_go_nor_the_source_tree() {
    let ws = Workspace::fixture("affected", MANIFEST);
    let elsewhere = tempfile::tempdir().unwrap();
    let archive = elsewhere.path().join("tests.tar.zst");
    let (code, _, stderr) =
        run(&mut ws.gob(&["test", "--integ", "--archive", archive.to_str().unwrap()]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("(3 test binaries"), "{stderr}");
    drop(ws);
    let machine = tempfile::tempdir().unwrap();
    let mut runs: BTreeMap<String, usize> = BTreeMap::new();
    for k in 1..=2 {
        let junit = format!("junit-{k}.xml");
        let (code, stdout, stderr) = run(gob_command()
            .current_dir(machine.path())
            .env("PATH", "/usr/bin:/bin")
            .args(["test", "--from-archive", archive.to_str().unwrap()])
            .args(["--shard", &format!("{k}/2"), "--junit", &junit]));
        assert_eq!(code, 0, "{stdout}\n{stderr}");
        for package in passed(&stdout) {
            *runs.entry(package).or_default() += 1;
        }
        let xml = std::fs::read_to_string(machine.path().join(&junit)).unwrap();
        roxmltree::Document::parse(&xml).expect("valid JUnit");
    }
    assert_eq!(runs.len(), 3, "{runs:?}");
    assert!(runs.values().all(|&n| n == 1), "{runs:?}");
}

#[test]
fn a_truncated_archive_is_an_error_before_anything_runs() {
    let ws = Workspace::fixture("affected", MANIFEST);
    let archive = ws.dir().join("t.tar.zst");
    let (code, _, stderr) = run(&mut ws.gob(&["test", "--integ", "--archive", "t.tar.zst"]));
    assert_eq!(code, 0, "{stderr}");
    let bytes = std::fs::read(&archive).unwrap();
    std::fs::write(&archive, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let (code, stdout, stderr) = run(&mut ws.gob(&["test", "--from-archive", "t.tar.zst"]));
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("is not a test archive gob can run"),
        "{stderr}"
    );
    assert!(stdout.is_empty(), "nothing ran: {stdout}");
}
