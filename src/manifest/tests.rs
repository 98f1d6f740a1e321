//! The catalogue of broken manifests: each with the exact message and position expected.

use std::path::Path;
use std::sync::Arc;

use super::problem::line_col;
use super::*;

/// Parses `text` as a manifest in a temp dir; returns the problems as "line:col message".
fn problems(text: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE_NAME);
    match Manifest::parse(&path, Arc::new(text.to_string())) {
        Ok(_) => Vec::new(),
        Err(ManifestError::Invalid { problems, .. }) => problems
            .iter()
            .map(|p| {
                let (line, col) = line_col(text, p.span.start);
                let help = p
                    .help
                    .as_ref()
                    .map(|h| format!(" [{h}]"))
                    .unwrap_or_default();
                format!("{line}:{col} {}{help}", p.message)
            })
            .collect(),
        Err(e) => panic!("unexpected error {e}"),
    }
}

#[test]
fn the_repository_example_manifest_is_valid() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(FILE_NAME);
    let manifest = Manifest::load(&path).unwrap();
    assert_eq!(manifest.binaries.len(), 5);
    assert_eq!(manifest.suites.len(), 2);
    assert!(manifest.workspace_dir.ends_with("examples/mesh"));
}

#[test]
fn minimal_manifest_gets_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[[binary]]\npackage = \"./cmd/a\"\n";
    let m = Manifest::parse(&dir.path().join(FILE_NAME), Arc::new(text.into())).unwrap();
    assert_eq!(m.build.out_dir.value, "bin");
    assert_eq!(m.workspace_dir, dir.path());
    assert_eq!(m.binaries[0].package.value, "./cmd/a");
    assert!(m.binaries[0].name.is_none());
}

#[test]
fn suites_keep_their_settings() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[test.integ]\npackages = [\"./tests/...\"]\nexclude = [\"tests/slow/**\"]\ntags = [\"integ\"]\ninteg = true\nretries = 2\nflaky = \"fail\"\nslow = \"30s\"\ncoverpkg = [\"./...\", \"example.com/x\"]\ncover_binaries = true\n[test.unit]\n";
    let m = Manifest::parse(&dir.path().join(FILE_NAME), Arc::new(text.into())).unwrap();
    let names: Vec<&str> = m.suites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["integ", "unit"], "manifest order is kept");
    assert!(m.suites[0].integ);
    assert!(m.suites[0].cover_binaries);
    assert_eq!(m.suites[0].coverpkg, ["./...", "example.com/x"]);
    assert_eq!(m.suites[0].retries, 2);
    assert!(m.suites[0].flaky_fails);
    assert_eq!(m.suites[0].slow, Some(std::time::Duration::from_secs(30)));
    assert_eq!(
        (
            m.suites[1].retries,
            m.suites[1].flaky_fails,
            m.suites[1].slow
        ),
        (0, false, None)
    );
    assert!(m.suites[0].exclude.is_match("tests/slow/a"));
    assert!(!m.suites[0].exclude.is_match("tests/fast"));
    assert!(
        m.suites[0].exclude.is_match("tests/slow"),
        "exclude `dir/**` drops the dir itself too"
    );
    assert!(!m.suites[0].exclude.is_match("tests/slowish"));
    assert_eq!(
        m.suites[1].packages[0].value, "./...",
        "packages default to ./..."
    );
}

#[test]
fn exec_table_keeps_its_settings_and_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[test.integ]\ninteg = true\ncache_results = true\n[exec]\nremote = \"grpcs://bb:443\"\nenabled = false\nplatform = { OSFamily = \"linux\", container-image = \"docker://img\" }\njobs = 3\nstrict = true\ninstance_name = \"ci\"\nauth_env = \"TOKEN\"\nca_file = \"ca.pem\"\ntimeout = \"4s\"\n";
    let m = Manifest::parse(&dir.path().join(FILE_NAME), Arc::new(text.into())).unwrap();
    let exec = &m.exec;
    assert_eq!(exec.remote.as_ref().unwrap().value, "grpcs://bb:443");
    assert!(!exec.enabled && exec.strict && m.suites[0].cache_results);
    assert_eq!(exec.platform["container-image"], "docker://img");
    assert_eq!((exec.jobs, exec.instance_name.as_str()), (3, "ci"));
    assert_eq!(
        (exec.auth_env.as_deref(), exec.auth_header.as_str()),
        (Some("TOKEN"), "Authorization")
    );
    assert_eq!(
        exec.ca_file.as_deref(),
        Some(dir.path().join("ca.pem").as_path())
    );
    assert_eq!(exec.timeout, std::time::Duration::from_secs(4));
    let plain = Manifest::parse(&dir.path().join(FILE_NAME), Arc::new("".into())).unwrap();
    assert_eq!(plain.exec, crate::manifest::ExecSpec::default());
    assert_eq!((plain.exec.jobs, plain.exec.enabled), (8, true));
}

#[test]
fn catalogue_of_broken_manifests() {
    let cases: &[(&str, &[&str])] = &[
        (
            "[test.unit]\ncover_binaries = true\n",
            &[
                "2:18 [test.unit] cover_binaries needs an integration suite (integ = true) [go test points a unit test's GOCOVERDIR at a dir of its own, so what the binaries ran would be lost; gob runs an integration suite's tests itself]",
            ],
        ),
        (
            "[test.unit]\ncoverpkg = \"./...\"\n",
            &["2:12 `coverpkg` in [test.unit] must be an array of strings, found string"],
        ),
        (
            "[build]\nflgs = [\"-trimpath\"]\n",
            &["2:1 unknown key `flgs` in [build] [did you mean `flags`?]"],
        ),
        (
            "[biuld]\n",
            &["1:2 unknown key `biuld` in gobuild.toml [did you mean `build`?]"],
        ),
        (
            "[build]\nflags = \"-trimpath\"\n",
            &["2:9 `flags` in [build] must be an array of strings, found string"],
        ),
        (
            "[build]\ntags = [\"a\", 3]\n",
            &["2:14 `tags` in [build] must be an array of strings, found integer"],
        ),
        (
            "[build]\nenv = { CGO_ENABLED = 0 }\n",
            &["2:23 `env.CGO_ENABLED` in [build] must be a string, found integer"],
        ),
        (
            "[[binary]]\nname = \"x\"\n",
            &["1:1 [[binary]] #1 is missing the required key `package`"],
        ),
        (
            "[[binary]]\npackage = \"./cmd/...\"\n",
            &[
                "2:11 [[binary]] #1 package `./cmd/...` is a pattern; a binary names one main package [write one [[binary]] per main package]",
            ],
        ),
        (
            "[[binary]]\npackage = \"./cmd/a\"\nname = \"../a\"\n",
            &["3:8 [[binary]] #1 name `../a` must be a plain file name"],
        ),
        (
            "[[binary]]\npackage = \"./cmd/a\"\nname = \"sub/a\"\n",
            &["3:8 [[binary]] #1 name `sub/a` must be a plain file name"],
        ),
        (
            "[[binary]]\npackage = \"./cmd/a\"\nname = \".\"\n",
            &["3:8 [[binary]] #1 name `.` must be a plain file name"],
        ),
        (
            "[build]\nout_dir = \"../bin\"\n",
            &[
                "2:11 [build] out_dir `../bin` is outside the workspace [the manifest may only name a dir inside the workspace; to publish elsewhere, say so on the command line: gob build --out-dir ../bin]",
            ],
        ),
        (
            "[build]\nout_dir = \"bin/../../x\"\n",
            &["2:11 [build] out_dir `bin/../../x` is outside the workspace"],
        ),
        (
            "[build]\nout_dir = \"/usr/local/bin\"\n",
            &["2:11 [build] out_dir `/usr/local/bin` is outside the workspace"],
        ),
        (
            "[test.\"../x\"]\n",
            &[
                "1:7 suite name `../x` must be a plain name [it names the dir .gob/test/<suite>; use letters, digits, - and _]",
            ],
        ),
        (
            "[workspace]\ndir = \"does/not/exist\"\n",
            &["2:7 [workspace] dir `does/not/exist` is not a directory"],
        ),
        (
            "[test.unit]\nexclude = [\"a/[b\"]\n",
            &[
                "2:12 [test.unit] exclude glob `a/[b` is invalid: unclosed character class; missing ']'",
            ],
        ),
        (
            "[cache]\nremote = \"grpc://cache:9092/prefix\"\n",
            &[
                "2:10 [cache] remote `grpc://cache:9092/prefix` is a gRPC server: host:port, no path",
            ],
        ),
        (
            "[test.unit]\nretries = -1\n",
            &["2:11 `retries` in [test.unit] must be a whole number (0 or more), found integer"],
        ),
        (
            "[test.unit]\nretries = 101\n",
            &["2:11 [test.unit] retries = 101 is more than 100"],
        ),
        (
            "[test.unit]\nflaky = \"maybe\"\n",
            &["2:9 [test.unit] flaky `maybe` is not \"pass\" or \"fail\""],
        ),
        (
            "[test.unit]\nslow = \"fast\"\n",
            &["2:8 [test.unit] slow `fast` is not a duration"],
        ),
        (
            "[test.unit]\ntimeout = \"99999999999999999999h\"\n",
            &["2:11 [test.unit] timeout `99999999999999999999h` is not a duration"],
        ),
        (
            "[test.unit]\nintegg = true\n",
            &["2:1 unknown key `integg` in [test.unit] [did you mean `integ`?]"],
        ),
        (
            "[test]\nunit = 3\n",
            &[
                "2:8 `test.unit` must be a table describing a suite [write it as [test.unit] with packages = [...]]",
            ],
        ),
        (
            "binary = 3\n",
            &["1:10 `binary` in gobuild.toml must be an array of tables, found integer"],
        ),
        (
            "[cache]\nremote = \"cache.internal:9090\"\n",
            &[
                "2:10 [cache] remote `cache.internal:9090` must start with http://, https://, grpc:// or grpcs:// [a Bazel HTTP cache (\"http://cache.internal:9090\") or a REAPI server (\"grpcs://remote.buildbuddy.io\")]",
            ],
        ),
        (
            "[cache]\nremote = \"http:///ac\"\n",
            &["2:10 [cache] remote `http:///ac` has no host"],
        ),
        (
            "[cache]\nremote = \"http://c:1\"\nauth_header = \"Bad Header\"\ntimeout = \"5\"\n",
            &[
                "3:15 [cache] auth_header `Bad Header` is not an HTTP header name",
                "4:11 [cache] timeout `5` is not a duration",
            ],
        ),
        (
            "[exec]\nremote = \"http://bb:8980\"\njobs = 0\nauth_env = \"A=B\"\n",
            &[
                "2:10 [exec] remote `http://bb:8980` must start with grpc:// or grpcs:// [a REAPI server, e.g. \"grpc://buildbarn-frontend:8980\" or \"grpcs://remote.buildbuddy.io\"]",
                "4:12 [exec] auth_env `A=B` is not an environment variable name",
                "3:8 [exec] jobs = 0 is not between 1 and 1024",
            ],
        ),
        (
            "[exec]\nremote = \"grpc://bb:8980\"\nplatfrom = { OSFamily = \"linux\" }\nplatform = [1]\n",
            &[
                "4:12 `platform` in [exec] must be a table of strings, found array",
                "3:1 unknown key `platfrom` in [exec] [did you mean `platform`?]",
            ],
        ),
        (
            "[test.integ]\ncache_results = \"yes\"\n",
            &["2:17 `cache_results` in [test.integ] must be a boolean, found string"],
        ),
        (
            "[cache]\nremote = \"http://c:1\"\nreadonly = true\n",
            &["3:1 unknown key `readonly` in [cache] [did you mean `read_only`?]"],
        ),
        (
            "[build\nflags = []\n",
            &["1:7 TOML syntax error: unclosed table, expected `]`"],
        ),
    ];
    for (text, expected) in cases {
        let got = problems(text);
        assert_eq!(got.len(), expected.len(), "for {text:?}: {got:#?}");
        for (g, e) in got.iter().zip(expected.iter()) {
            assert!(g.starts_with(e), "for {text:?}:\n  got  {g}\n  want {e}");
        }
    }
}

#[test]
fn out_dir_may_go_down_and_back_up_inside_the_workspace() {
    assert!(problems("[build]\nout_dir = \"out/../bin\"\n").is_empty());
    assert!(problems("[build]\nout_dir = \"./dist/linux\"\n").is_empty());
}

#[test]
fn every_problem_is_reported_at_once() {
    let text =
        "[build]\nflgs = []\nout_dir = 3\n[[binary]]\nname = \"a\"\n[[binary]]\npackage = 7\n";
    let got = problems(text);
    assert_eq!(got.len(), 4, "{got:#?}");
    assert!(got[0].starts_with("3:11 `out_dir` in [build] must be a string"));
    assert!(got[1].starts_with("2:1 unknown key `flgs`"));
    assert!(got[2].starts_with("4:1 [[binary]] #1 is missing the required key `package`"));
    assert!(got[3].starts_with("7:11 `package` in [[binary]] #2 must be a string, found integer"));
}

/// Fuzzing: any text, and any mix of manifest fragments, loads without a panic, and every
/// problem points inside the text and renders.
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    const FRAGMENTS: &[&str] = &[
        "[build]\n",
        "[[binary]]\n",
        "[test.unit]\n",
        "[test.\"a b\"]\n",
        "[test.\"../x\"]\n",
        "[workspace]\n",
        "[build.env]\n",
        "package = \"./cmd/a\"\n",
        "package = \"./...\"\n",
        "name = \"é/\"\n",
        "name = \"\"\n",
        "out_dir = \"../../\"\n",
        "out_dir = \"/\"\n",
        "dir = \".\"\n",
        "flags = [\"-trimpath\", 3]\n",
        "tags = []\n",
        "env = { A = \"1\", B = 2 }\n",
        "timeout = \"5q\"\n",
        "timeout = \"1h2m3.5s\"\n",
        "timeout = \"-1s\"\n",
        "exclude = [\"[\"]\n",
        "vet = \"off\"\n",
        "integ = \"yes\"\n",
        "args = [\"-test.timeout=0\"]\n",
        "ldflags = \"\"\"\nmulti\n\"\"\"\n",
        "x = 1979-05-27T07:32:00Z\n",
        "= \n",
        "[\n",
        "\"unterminated\n",
        "a.b.c = 1\n",
        "\u{feff}",
        "# comment ü\n",
        "timeout = \"99999999999999999999h\"\n",
        "timeout = \"2562048h\"\n",
        "retries = 3\n",
        "retries = -2\n",
        "flaky = \"fail\"\n",
        "slow = \"1s\"\n",
        "exclude = [\"integration/**\"]\n",
        "[cache]\n",
        "remote = \"http://user:secret@127.0.0.1:1\"\n",
        "auth_header = \"x api\"\n",
        "name = \"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn\"\n",
    ];

    fn check(text: &str) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        if let Err(ManifestError::Invalid { problems, text, .. }) =
            Manifest::parse(&path, Arc::new(text.to_string()))
        {
            assert!(!problems.is_empty());
            for problem in &problems {
                assert!(problem.span.start <= problem.span.end, "{problem:?}");
                assert!(problem.span.end <= text.len(), "{problem:?}");
                let report = ProblemReport::new(problem, "gobuild.toml", text.clone());
                let _ = format!("{:?}", miette::Report::new(report));
            }
        }
    }

    proptest! {
        #[test]
        fn fuzz_manifest_any_text(text in "\\PC{0,200}") {
            check(&text);
        }

        /// Any bytes as a manifest file: a located problem (not UTF-8 included), never a panic.
        #[test]
        fn fuzz_manifest_any_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..120)) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(FILE_NAME);
            std::fs::write(&path, &bytes).unwrap();
            if let Err(ManifestError::Invalid { problems, text, .. }) = Manifest::load(&path) {
                for problem in &problems {
                    prop_assert!(problem.span.end <= text.len(), "{problem:?}");
                    let report = ProblemReport::new(problem, "gobuild.toml", text.clone());
                    let _ = format!("{:?}", miette::Report::new(report));
                }
            }
        }

        #[test]
        fn fuzz_manifest_fragments(picks in proptest::collection::vec(0..FRAGMENTS.len(), 0..12)) {
            let text: String = picks.iter().map(|&i| FRAGMENTS[i]).collect();
            check(&text);
        }
    }
}

#[test]
fn tasks_take_argv_or_a_shell_line_and_services_a_readiness_check() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[task.gen]\nrun = [\"go\", \"generate\", \"./...\"]\nsources = [\"api/**/*.proto\"]\noutputs = [\"api/*.pb.go\"]\ndeps = [\"tools\"]\n\n[task.tools]\nrun = \"go install x@v1\"\n\n[task.db]\nrun = [\"redis-server\"]\nservice = true\nready = { run = [\"redis-cli\", \"ping\"], timeout = \"5s\" }\n\n[build]\nbefore = [\"gen\"]\nplatforms = [\"linux/arm64\", \"windows/amd64\"]\n\n[test.integ]\nservices = [\"db\"]\nbefore = [\"tools\"]\n";
    let m = Manifest::parse(&dir.path().join(FILE_NAME), Arc::new(text.into())).unwrap();
    assert_eq!(m.tasks.len(), 3);
    assert_eq!(
        m.tasks[0].run,
        TaskRun::Argv(vec!["go".into(), "generate".into(), "./...".into()])
    );
    assert_eq!(m.tasks[1].run, TaskRun::Shell("go install x@v1".into()));
    let ready = m.tasks[2].ready.as_ref().unwrap();
    assert_eq!(
        ready.check,
        ReadyCheck::Run(vec!["redis-cli".into(), "ping".into()])
    );
    assert_eq!(ready.timeout, std::time::Duration::from_secs(5));
    assert_eq!(m.build.platforms[1].to_string(), "windows/amd64");
    assert_eq!(m.suites[0].services[0].value, "db");
}

#[test]
fn task_mistakes_are_located() {
    let text = "[task.a]\nsources = [\"x\"]\n\n[task.b]\nrun = []\nready = { tcp = \"127.0.0.1:1\" }\n\n[task.c]\nrun = \"true\"\nservice = true\nready = { }\n\n[build]\nplatforms = [\"linux\", \"linux/arm64\", \"linux/arm64\"]\n";
    assert_eq!(
        problems(text),
        [
            "14:14 [build] platforms: `linux` is not a platform: write goos/goarch, e.g. linux/arm64 (`go tool dist list` lists them)",
            "14:38 [build] platforms lists linux/arm64 twice",
            "1:7 [task.a] is missing the required key `run` [run = [\"go\", \"generate\", \"./...\"] (a program and its arguments), or a string for sh -c]",
            "5:7 [task.b] run is empty",
            "4:7 [task.b] has `ready` but is not a service [add service = true, or drop ready]",
            "11:9 [task.c] ready needs one of `tcp` and `run` [ready = { tcp = \"127.0.0.1:6390\" } or ready = { run = [\"redis-cli\", \"ping\"] }]",
        ]
    );
}
