//! Test planning without Go: flags, the integration compile call, runs.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::manifest::Manifest;

fn suite(toml: &str) -> SuiteSpec {
    let dir = std::env::temp_dir();
    let m = Manifest::parse(&dir.join("gobuild.toml"), Arc::new(toml.to_string())).unwrap();
    m.suites.into_iter().next().unwrap()
}

fn ctx(version: &str) -> TestPlanContext {
    TestPlanContext {
        go: "go".into(),
        workspace_dir: PathBuf::from("/ws"),
        base_env: BTreeMap::from([("GOMAXPROCS".into(), "2".into())]),
        version: GoVersion::parse(version).unwrap(),
        gob: "/opt/my tools/gob".into(),
        goflags: String::new(),
        cover: None,
    }
}

fn pkg(path: &str) -> TestPackage {
    TestPackage {
        import_path: format!("m/{path}"),
        dir: PathBuf::from("/ws").join(path),
    }
}

#[test]
fn suite_flags_follow_the_manifest() {
    let s =
        suite("[test.x]\ntags = [\"integ\", \"e2e\"]\nrace = true\ncover = true\nvet = \"off\"\n");
    assert_eq!(
        suite_flags(&s, None),
        ["-tags", "integ,e2e", "-race", "-cover", "-vet=off"]
    );
    let s = suite("[test.x]\nvet = \"atomic,bool\"\n");
    assert_eq!(suite_flags(&s, None), ["-vet=atomic,bool"]);
    assert!(suite_flags(&suite("[test.x]\n"), None).is_empty());
}

#[test]
fn unit_suites_are_one_go_test_json_with_args_last() {
    let s = suite("[test.u]\nargs = [\"-test.short\"]\nenv = { FOO = \"1\" }\ntimeout = \"90s\"\n");
    let cmd = plan_unit(
        &s,
        &[pkg("a"), pkg("b")],
        &["-test.run=X".into()],
        &ctx("go1.26.0"),
        None,
    );
    assert_eq!(
        cmd.args,
        [
            "test",
            "-json",
            "-timeout=90s",
            "m/a",
            "m/b",
            "-test.short",
            "-test.run=X"
        ]
    );
    assert_eq!(cmd.env["FOO"], "1");
    assert_eq!(cmd.env["GOMAXPROCS"], "2");
}

#[test]
fn an_integration_suite_compiles_in_one_call_with_gob_as_exec() {
    let s = suite("[test.integ]\ntags = [\"integ\"]\ninteg = true\nenv = { FOO = \"1\" }\n");
    let pkgs = [pkg("security/api"), pkg("telemetry/api"), pkg("gateway")];
    let compile = plan_integ_compile(&s, &pkgs, "t0k", &ctx("go1.19.8"));
    assert_eq!(
        compile.command.args,
        [
            "test",
            "-v",
            "-exec='/opt/my tools/gob'",
            "-run=^gob-t0k$",
            "-tags",
            "integ",
            "m/security/api",
            "m/telemetry/api",
            "m/gateway"
        ],
        "names that clash share the call; a path with a space is quoted"
    );
    assert_eq!(compile.store, PathBuf::from("/ws/.gob/test/integ"));
    let env = &compile.command.env;
    assert_eq!(env["GOB_TEST_STORE"], "/ws/.gob/test/integ");
    assert_eq!(env["GOB_TEST_ROOT"], "/ws");
    assert_eq!(env["GOTMPDIR"], "/ws/.gob/tmp");
    assert_eq!(env["FOO"], "1");
    assert_eq!(env["GOMAXPROCS"], "2");
    let again = compile.again(&pkgs[1..2]);
    assert_eq!(
        again.args[again.args.len() - 2..],
        ["-count=1", "m/telemetry/api"],
        "a second call links the binary again"
    );
    assert_eq!(again.args[..6], compile.command.args[..6]);
}

#[test]
fn count_and_json_in_goflags_are_dropped_from_the_integration_compile_only() {
    // The dropping itself: plan::goflags.
    let s = suite("[test.integ]\ninteg = true\n");
    let mut context = ctx("go1.26.0");
    let flags = |c: &TestPlanContext| plan_integ_compile(&s, &[pkg("a")], "t", c).command.env;
    assert!(
        !flags(&context).contains_key("GOFLAGS"),
        "nothing to change"
    );
    context.goflags = "-mod=mod -count=1 '-ldflags=-s -w' --test.count=2 -json=true".into();
    assert_eq!(flags(&context)["GOFLAGS"], "-mod=mod '-ldflags=-s -w'");
    context.goflags = "-count=1".into();
    assert_eq!(flags(&context)["GOFLAGS"], "");
    let suite_env = suite("[test.integ]\ninteg = true\nenv = { GOFLAGS = \"-count=3 -v\" }\n");
    let env = plan_integ_compile(&suite_env, &[pkg("a")], "t", &context)
        .command
        .env;
    assert_eq!(
        env["GOFLAGS"], "-v",
        "the suite's own GOFLAGS wins, minus -count"
    );
    let unit = suite("[test.unit]\n");
    let run = plan_unit(&unit, &[pkg("a")], &[], &context, None);
    assert!(!run.env.contains_key("GOFLAGS"), "unit tests keep go's own");
}

#[test]
fn test_binaries_run_in_their_package_dir_like_go_test_json() {
    let s = suite("[test.integ]\ninteg = true\ntimeout = \"2m\"\nargs = [\"-test.count=1\"]\n");
    let binary = TestBinary {
        package: pkg("security/api"),
        path: PathBuf::from("/ws/.gob/test/integ/security/api/@0123456789abcdef/api.test"),
    };
    let run = plan_run(&s, &binary, "/cache/test2json", &[], &ctx("go1.26.0"), None);
    assert_eq!(
        run.binary.program,
        "/ws/.gob/test/integ/security/api/@0123456789abcdef/api.test"
    );
    assert_eq!(run.binary.dir, PathBuf::from("/ws/security/api"));
    assert_eq!(
        run.binary.args,
        [
            "-test.paniconexit0",
            "-test.v=test2json",
            "-test.timeout=2m0s",
            "-test.count=1"
        ]
    );
    assert_eq!(run.converter.program, "/cache/test2json");
    assert_eq!(run.converter.args, ["-t", "-p", "m/security/api"]);
    assert_eq!(run.converter.dir, run.binary.dir);
    assert_eq!(run.timeout, Some(Duration::from_secs(120)));
    let old = plan_run(&s, &binary, "t2j", &[], &ctx("go1.19.8"), None);
    assert!(
        old.binary.args.contains(&"-test.v=true".to_string()),
        "Go 1.19 has no -test.v=test2json"
    );
}

#[test]
fn the_last_test_timeout_in_the_arguments_is_the_one_gob_enforces() {
    let s = suite("[test.integ]\ninteg = true\ntimeout = \"2m\"\n");
    let binary = TestBinary {
        package: pkg("a"),
        path: PathBuf::from("/ws/.gob/test/integ/a/@0123456789abcdef/a.test"),
    };
    let with = |args: &[&str]| {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        plan_run(&s, &binary, "t2j", &args, &ctx("go1.26.0"), None).timeout
    };
    assert_eq!(
        with(&["-test.timeout=30m"]),
        Some(Duration::from_secs(1800))
    );
    assert_eq!(
        with(&["--test.timeout", "5s"]),
        Some(Duration::from_secs(5))
    );
    assert_eq!(with(&["-test.timeout=0"]), None);
    assert_eq!(with(&["-test.run=X"]), Some(Duration::from_secs(120)));
    assert_eq!(
        with(&["-test.run", "X", "-test.v", "-test.timeout", "7s"]),
        Some(Duration::from_secs(7))
    );
    assert_eq!(
        with(&["-test.timeout=99999999999999999999h"]),
        Some(Duration::from_secs(120)),
        "a duration go cannot hold is ignored here (the binary refuses it)"
    );
    // go's flag parsing stops at `--` and at the first argument that is not a flag.
    let two_minutes = Some(Duration::from_secs(120));
    assert_eq!(with(&["positional", "-test.timeout=5s"]), two_minutes);
    assert_eq!(with(&["--", "-test.timeout=5s"]), two_minutes);
    assert_eq!(with(&["-test.short", "x", "-test.timeout=5s"]), two_minutes);
}

#[test]
fn a_coverage_run_instruments_every_call_and_names_each_profile() {
    let mut context = ctx("go1.26.0");
    context.cover = Some(crate::go::coverprofile::Mode::Count);
    let unit = suite("[test.unit]\ncoverpkg = [\"./...\"]\n");
    let profile = std::path::Path::new("/ws/.gob/cover/fragments/unit/go-test-1.out");
    let run = plan_unit(&unit, &[pkg("a")], &[], &context, Some(profile));
    let flags = &run.args[2..6];
    assert_eq!(
        flags,
        [
            "-cover",
            "-covermode=count",
            "-coverpkg=./...",
            "-coverprofile=/ws/.gob/cover/fragments/unit/go-test-1.out"
        ]
    );
    let integ = suite("[test.integ]\ninteg = true\n");
    let compile = plan_integ_compile(&integ, &[pkg("a")], "T", &context);
    assert!(
        compile
            .command
            .args
            .contains(&"-covermode=count".to_string())
    );
    let binary = TestBinary {
        package: pkg("a"),
        path: PathBuf::from("/ws/.gob/test/integ/a/@0123456789abcdef/a.test"),
    };
    let run = plan_run(&integ, &binary, "t2j", &[], &context, Some("/p.out"));
    assert!(
        run.binary
            .args
            .contains(&"-test.coverprofile=/p.out".to_string())
    );
    let untested = plan_untested(&unit, &["m/b".into()], profile, &context).unwrap();
    assert_eq!(untested.args[0], "test");
    assert!(untested.args.ends_with(&["m/b".to_string()]));
    assert!(plan_untested(&integ, &["m/b".into()], profile, &context).is_none());
    context.cover = None;
    assert!(plan_untested(&unit, &["m/b".into()], profile, &context).is_none());
}
