//! gob's own test2json converter against `go tool test2json`, byte for byte (times aside), on
//! the output of a real test binary (tests/fixtures/test2json): subtests, parallel tests,
//! skips, output without a final newline, benchmarks, look-alike framing lines, odd bytes,
//! a failing test and a panic.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::{Workspace, gob_command, which_go};

/// Every line with its `Time` removed, and the package result's `Elapsed` (the converter's
/// own clock) too.
fn normalized(events: &str) -> Vec<String> {
    events
        .lines()
        .map(|line| {
            let mut line = line.to_string();
            if let Some(start) = line.find("\"Time\":\"") {
                let end = line[start + 8..].find('"').unwrap() + start + 8;
                line.replace_range(start..=end + 1, "");
            }
            if !line.contains("\"Test\":")
                && let Some(start) = line.find(",\"Elapsed\":")
            {
                line.replace_range(start..line.len() - 1, "");
            }
            line
        })
        .collect()
}

fn convert(program: &mut Command, raw: &[u8]) -> String {
    let mut child = program
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(raw).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn gobs_test2json_matches_gos_byte_for_byte() {
    let ws = Workspace::fixture("test2json", "");
    let go = which_go();
    let built = Command::new(&go)
        .args(["test", "-c", "-o", "all.test", "./all"])
        .current_dir(ws.dir())
        .env("GOFLAGS", "")
        .env("GOPROXY", "off")
        .env("GOTOOLCHAIN", "local")
        .status()
        .unwrap();
    assert!(built.success());
    for (env, name) in [
        ("NONE", "passing"),
        ("FAIL", "failing"),
        ("PANIC", "panicking"),
    ] {
        let raw = Command::new("sh")
            .args([
                "-c",
                "./all.test -test.paniconexit0 -test.v=test2json -test.bench=. -test.benchtime=1x 2>&1",
            ])
            .current_dir(ws.dir())
            .env(env, "1")
            .output()
            .unwrap()
            .stdout;
        let package = "example.com/t2j/all";
        let theirs = convert(
            Command::new(&go).args(["tool", "test2json", "-t", "-p", package]),
            &raw,
        );
        let ours = convert(gob_command().args(["test2json", "-t", "-p", package]), &raw);
        let (theirs, ours) = (normalized(&theirs), normalized(&ours));
        for (i, (a, b)) in theirs.iter().zip(&ours).enumerate() {
            assert_eq!(b, a, "{name}: event {i} differs");
        }
        assert_eq!(ours.len(), theirs.len(), "{name}: number of events");
        assert!(theirs.len() > 40, "{name}: the fixture produced output");
    }
}
