//! Reporters fed one synthetic run (a passing, a failing, a crashed, a stopped and an
//! unbuildable package), snapshot-tested; the JUnit XML parsed back.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::collect::PackageResult;
use super::sink::Sink;
use super::*;
use crate::base::events::parse_line;
use crate::runners::Events;

/// A writer whose bytes the test reads afterwards.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

/// Plays a run with compile output, passing, failing, crashing, stopped and unbuildable
/// packages into `sinks`; returns the finished packages.
fn play(sinks: Vec<Box<dyn Sink + Send>>) -> Vec<PackageResult> {
    play_in(Path::new("/ws"), sinks)
}

/// [`play`] with the packages in dirs under `workspace`.
fn play_in(workspace: &Path, sinks: Vec<Box<dyn Sink + Send>>) -> Vec<PackageResult> {
    let mut r = Reporter::new(sinks);
    let dirs: BTreeMap<String, PathBuf> = ["ok", "fail", "crash", "stop", "broken"]
        .iter()
        .map(|p| (format!("m/{p}"), workspace.join(p)))
        .collect();
    r.suite_started("integ", true, dirs, SuitePolicy::default());
    r.gob(GobEvent::CompileStart {
        suite: "integ".into(),
        call: 1,
        calls: 1,
        packages: vec!["m/ok".into(), "m/broken".into()],
    });
    r.output_line("# m/broken [m/broken.test]");
    r.output_line("broken/b_test.go:7:2: undefined: nope");
    r.gob(GobEvent::CompileEnd {
        suite: "integ".into(),
        call: 1,
        calls: 1,
        ok: false,
        elapsed: 1.5,
        linked: 2,
    });
    for line in [
        r#"{"Action":"start","Package":"m/ok"}"#,
        r#"{"Action":"run","Package":"m/ok","Test":"TestFast"}"#,
        r#"{"Action":"pass","Package":"m/ok","Test":"TestFast","Elapsed":0.25}"#,
        r#"{"Action":"run","Package":"m/ok","Test":"TestSlow"}"#,
        r#"{"Action":"pass","Package":"m/ok","Test":"TestSlow","Elapsed":2.5}"#,
        r#"{"Action":"pass","Package":"m/ok","Elapsed":2.8}"#,
        r#"{"Action":"run","Package":"m/fail","Test":"TestBad"}"#,
        r#"{"Action":"output","Package":"m/fail","Test":"TestBad","Output":"    bad_test.go:12: got 1, want 2\n"}"#,
        r#"{"Action":"fail","Package":"m/fail","Test":"TestBad","Elapsed":0.1}"#,
        r#"{"Action":"skip","Package":"m/fail","Test":"TestLater","Elapsed":0}"#,
        r#"{"Action":"fail","Package":"m/fail","Elapsed":0.2}"#,
        r#"{"Action":"run","Package":"m/crash","Test":"TestPanics"}"#,
        r#"{"Action":"output","Package":"m/crash","Test":"TestPanics","Output":"panic: boom\n"}"#,
        r#"{"Action":"fail","Package":"m/crash","Elapsed":0.3}"#,
        r#"{"Action":"run","Package":"m/stop","Test":"TestHangs"}"#,
    ] {
        r.event(&parse_line(line).unwrap());
    }
    r.abandoned(
        "m/stop",
        "timed out: still running past the 1s timeout, stopped by gob",
        3.0,
    );
    r.build_failed("m/broken");
    r.gob(GobEvent::SuiteEnd {
        suite: "integ".into(),
        passed: 1,
        failed: 4,
        skipped: vec!["m/nothing".into()],
        not_affected: 0,
        compile_calls: 1,
        elapsed: 4.25,
    });
    r.finish().unwrap();
    r.results
}

#[test]
fn terminal_lines_and_summary() {
    let out = Buffer::default();
    play(vec![Box::new(terminal::Terminal::new(
        Box::new(out.clone()),
        Box::new(out.clone()),
        false,
    ))]);
    insta::assert_snapshot!(out.text());
}

#[test]
fn json_lines_keep_test2json_fields_and_add_gob_events() {
    let out = Buffer::default();
    play(vec![Box::new(json::JsonLines::new(Box::new(out.clone())))]);
    // Times are the clock's: redacted.
    let redacted: Vec<String> = out
        .text()
        .lines()
        .map(|line| {
            let mut value: serde_json::Value = serde_json::from_str(line).unwrap();
            if let Some(time) = value.get_mut("Time") {
                *time = "[time]".into();
            }
            value.to_string()
        })
        .collect();
    insta::assert_snapshot!(redacted.join("\n"));
}

#[test]
fn github_annotations_and_groups() {
    // The checkout: a workspace dir `ws` inside it, and the failing test's file on disk.
    let root = tempfile::tempdir().unwrap();
    let ws = root.path().join("ws");
    std::fs::create_dir_all(ws.join("fail")).unwrap();
    std::fs::write(ws.join("fail/bad_test.go"), "package fail\n").unwrap();
    let out = Buffer::default();
    let sink = github::GithubActions::new(Box::new(out.clone()), ws.clone(), root.path().into());
    play_in(&ws, vec![Box::new(sink)]);
    // Each stretch of test output is fenced by a fresh random token: one per stretch, and
    // the same at both ends.
    let text = out.text();
    let mut tokens = Vec::new();
    let redacted: Vec<String> = text
        .lines()
        .map(|line| match line.strip_prefix("::stop-commands::") {
            Some(token) => {
                tokens.push(token.to_string());
                "::stop-commands::TOKEN".to_string()
            }
            None => match tokens.last() {
                Some(token) if line == format!("::{token}::") => "::TOKEN::".to_string(),
                _ => line.to_string(),
            },
        })
        .collect();
    assert!(tokens.iter().all(|t| t.len() == 32), "{tokens:?}");
    let unique: std::collections::BTreeSet<&String> = tokens.iter().collect();
    assert_eq!(unique.len(), tokens.len(), "a fresh token each time");
    insta::assert_snapshot!(redacted.join("\n"));
}

#[test]
fn junit_parses_back_with_one_suite_per_package() {
    let results = play(Vec::new());
    let xml = junit::report(&results).to_string().unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(root.attribute("tests"), Some("7"));
    assert_eq!(root.attribute("failures"), Some("3"));
    assert_eq!(root.attribute("errors"), Some("1"));
    let suites: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    let names: Vec<_> = suites
        .iter()
        .map(|s| s.attribute("name").unwrap())
        .collect();
    assert_eq!(
        names,
        ["m/broken", "m/crash", "m/fail", "m/ok", "m/stop"],
        "sorted by import path, not by the order packages finished in"
    );
    let case = |suite: usize, name: &str| {
        suites[suite]
            .children()
            .find(|c| c.has_tag_name("testcase") && c.attribute("name") == Some(name))
            .unwrap_or_else(|| panic!("no testcase {name}"))
    };
    assert_eq!(case(3, "TestSlow").attribute("time"), Some("2.500"));
    assert_eq!(case(3, "TestSlow").attribute("classname"), Some("m/ok"));
    let failure = case(2, "TestBad")
        .children()
        .find(|c| c.has_tag_name("failure"))
        .unwrap();
    assert!(
        failure
            .text()
            .unwrap()
            .contains("bad_test.go:12: got 1, want 2")
    );
    assert!(
        case(2, "TestLater")
            .children()
            .any(|c| c.has_tag_name("skipped"))
    );
    let stopped = case(4, "TestHangs")
        .children()
        .find(|c| c.has_tag_name("failure"))
        .unwrap();
    assert!(stopped.attribute("message").unwrap().contains("timed out"));
    assert!(
        case(0, "[package]")
            .children()
            .any(|c| c.has_tag_name("error"))
    );
}

#[test]
fn junit_stays_valid_xml_when_output_holds_noncharacters() {
    let mut r = Reporter::new(Vec::new());
    r.suite_started("unit", false, BTreeMap::new(), SuitePolicy::default());
    for line in [
        r#"{"Action":"run","Package":"m/a","Test":"TestOdd"}"#,
        "{\"Action\":\"output\",\"Package\":\"m/a\",\"Test\":\"TestOdd\",\"Output\":\"bytes \\ufffe\\uffff\\u0001 end\\n\"}",
        r#"{"Action":"fail","Package":"m/a","Test":"TestOdd","Elapsed":0}"#,
        r#"{"Action":"fail","Package":"m/a","Elapsed":0}"#,
    ] {
        r.event(&parse_line(line).unwrap());
    }
    let xml = junit::report(&r.results).to_string().unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("valid XML");
    let failure = doc
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert!(failure.text().unwrap().contains("bytes "), "{xml}");
}

#[test]
fn unit_suite_compile_errors_are_shown_and_annotated() {
    let out = Buffer::default();
    let notes = Buffer::default();
    let terminal = terminal::Terminal::new(Box::new(out.clone()), Box::new(notes.clone()), false);
    let github_out = Buffer::default();
    let github = github::GithubActions::new(
        Box::new(github_out.clone()),
        PathBuf::from("/ws"),
        PathBuf::from("/ws"),
    );
    let mut r = Reporter::new(vec![Box::new(terminal), Box::new(github)]);
    r.suite_started("unit", false, BTreeMap::new(), SuitePolicy::default());
    for line in [
        r##"{"ImportPath":"m/p [m/p.test]","Action":"build-output","Output":"# m/p [m/p.test]\n"}"##,
        r#"{"ImportPath":"m/p [m/p.test]","Action":"build-output","Output":"p/broken_test.go:3:13: cannot use \"no\" (untyped string constant) as int value in variable declaration\n"}"#,
        r#"{"ImportPath":"m/p [m/p.test]","Action":"build-fail"}"#,
        r#"{"Action":"output","Package":"m/p","Output":"FAIL\tm/p [build failed]\n"}"#,
        r#"{"Action":"fail","Package":"m/p","Elapsed":0,"FailedBuild":"m/p [m/p.test]"}"#,
    ] {
        r.event(&parse_line(line).unwrap());
    }
    assert!(
        notes
            .text()
            .contains("p/broken_test.go:3:13: cannot use \"no\""),
        "{}",
        notes.text()
    );
    let github = github_out.text();
    assert!(
        github.contains(
            "::error file=p/broken_test.go,line=3,col=13,title=compile error::cannot use"
        ),
        "{github}"
    );
    let group = github
        .split("::group::FAIL m/p")
        .nth(1)
        .and_then(|g| g.split("::endgroup::").next())
        .unwrap();
    assert!(
        group.contains("broken_test.go:3:13"),
        "the group is not empty: {github}"
    );
    assert!(
        r.results[0]
            .output
            .iter()
            .any(|l| l.contains("broken_test.go"))
    );
}

#[test]
fn the_parts_of_a_split_package_end_as_one_result() {
    let mut r = Reporter::new(Vec::new());
    r.suite_started("integ", true, BTreeMap::new(), SuitePolicy::default());
    r.expect_parts("m/big", 2);
    // As runners report a part: its start, its events, then its exit.
    let feed = |r: &mut Reporter, lines: &[&str]| {
        r.gob(GobEvent::RunStart {
            suite: "integ".into(),
            package: "m/big".into(),
        });
        for line in lines {
            r.event(&parse_line(line).unwrap());
        }
        r.exited_ok("m/big", 1.0);
    };
    feed(
        &mut r,
        &[
            r#"{"Action":"run","Package":"m/big","Test":"TestA"}"#,
            r#"{"Action":"pass","Package":"m/big","Test":"TestA","Elapsed":2}"#,
            r#"{"Action":"pass","Package":"m/big","Elapsed":2.1}"#,
        ],
    );
    assert!(r.results.is_empty(), "one part of two ended: no result yet");
    feed(
        &mut r,
        &[
            r#"{"Action":"run","Package":"m/big","Test":"TestB"}"#,
            r#"{"Action":"fail","Package":"m/big","Test":"TestB","Elapsed":3}"#,
            r#"{"Action":"fail","Package":"m/big","Elapsed":3.2}"#,
        ],
    );
    assert_eq!(r.results.len(), 1);
    let result = &r.results[0];
    let names: Vec<&str> = result.tests.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["TestA", "TestB"]);
    assert_eq!(result.outcome, PackageOutcome::Failed);
    assert!((result.elapsed - 5.3).abs() < 1e-9);
    assert!(!result.partial);
    // A package that runs only some tests is partial (its time stays out of the history).
    r.suite_started("integ", true, BTreeMap::new(), SuitePolicy::default());
    r.partial(["m/other".to_string()]);
    r.event(&parse_line(r#"{"Action":"pass","Package":"m/other","Elapsed":1}"#).unwrap());
    assert!(r.results[1].partial);
}
