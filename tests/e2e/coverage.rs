//! `gob test --coverprofile`: one profile for a unit suite (a flaky test retried), an
//! integration suite whose test starts the manifest's binary built with coverage, shards
//! merged with `gob cover merge`, and archives; go is the oracle (`go test -coverprofile
//! -coverpkg=./...`, the binary's `GOCOVERDIR` data through `go tool covdata`, and `go tool
//! cover -func` reading both).

use std::path::Path;
use std::process::Command;

use crate::support::{Workspace, events, repo, run, which_go};

/// The cover fixture with a unit suite (retried once, its flaky test's marker in the
/// workspace) and an integration suite that starts the server binary; `extra` goes into
/// both suites.
fn workspace(extra: &str) -> Workspace {
    let ws = Workspace::fixture("cover", "");
    let marker = ws.dir().join(".flaky");
    let manifest = format!(
        "[[binary]]\npackage = \"./cmd/server\"\n\n\
         [test.unit]\npackages = [\"./...\"]\nexclude = [\"tests/**\"]\nretries = 1\n\
         env = {{ FLAKY_MARKER = \"{}\" }}\n{extra}\n\n\
         [test.integ]\npackages = [\"./tests/...\"]\ntags = [\"integ\"]\ninteg = true\n\
         cover_binaries = true\n{extra}\n",
        marker.display()
    );
    ws.write("gobuild.toml", &manifest);
    ws
}

/// go with the tests' environment, in `dir`.
fn go(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(which_go());
    cmd.current_dir(dir)
        .args(args)
        .env("GOTOOLCHAIN", "local")
        .env("GOPROXY", "off")
        .env("GOFLAGS", "")
        .env_remove("GOCOVERDIR")
        .env_remove("GOB_BIN_DIR");
    cmd
}

fn ok(cmd: &mut Command) -> String {
    let (code, stdout, stderr) = run(cmd);
    assert_eq!(code, 0, "{cmd:?}\n{stdout}\n{stderr}");
    stdout
}

/// `go tool cover -func` of `profile`, read in the workspace `dir`: per function and total.
fn func_report(dir: &Path, profile: &Path) -> String {
    let profile = format!("-func={}", profile.display());
    ok(&mut go(dir, &["tool", "cover", &profile]))
}

/// Profiles joined into one as go's own tools read them: one mode line, then every block.
fn concatenated(paths: &[&Path]) -> String {
    let mut out = String::new();
    for (i, path) in paths.iter().enumerate() {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        for line in text.lines() {
            if line.starts_with("mode:") && i > 0 {
                continue;
            }
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// What go measures for the same work, by hand: the binary built with `-cover`, the unit
/// packages' tests until the flaky one passes (two runs), the library integration test,
/// and the server test with the binary's `GOCOVERDIR` converted by `go tool covdata`.
fn go_oracle(dir: &Path, out: &Path) -> std::path::PathBuf {
    let cover = ["-covermode=set", "-coverpkg=./..."];
    let bin = out.join("bin");
    let server = bin.join("server");
    let server = server.to_str().unwrap();
    let mut build = vec!["build", "-cover"];
    build.extend(cover);
    build.extend(["-o", server, "./cmd/server"]);
    ok(&mut go(dir, &build));
    let marker = out.join("marker");
    let unit: Vec<std::path::PathBuf> = (1..=2).map(|n| out.join(format!("unit{n}"))).collect();
    for (attempt, profile) in unit.iter().enumerate() {
        let profile = format!("-coverprofile={}", profile.display());
        let mut args = vec!["test", "-count=1"];
        args.extend(cover);
        args.extend([
            profile.as_str(),
            "./calc",
            "./words",
            "./util",
            "./cmd/server",
        ]);
        let (code, stdout, _) = run(go(dir, &args).env("FLAKY_MARKER", &marker));
        let expected = if attempt == 0 { 1 } else { 0 };
        assert_eq!(
            code, expected,
            "the flaky test fails once, then passes: {stdout}"
        );
    }
    let lib = out.join("lib");
    let lib_flag = format!("-coverprofile={}", lib.display());
    let mut args = vec!["test", "-count=1", "-tags", "integ"];
    args.extend(cover);
    args.extend([lib_flag.as_str(), "./tests/integ/lib"]);
    ok(&mut go(dir, &args));
    let test_binary = out.join("server.test");
    let mut args = vec!["test", "-c", "-cover", "-tags", "integ"];
    args.extend(cover);
    args.extend(["-o", test_binary.to_str().unwrap(), "./tests/integ/server"]);
    ok(&mut go(dir, &args));
    let covdata = out.join("covdata");
    std::fs::create_dir_all(&covdata).unwrap();
    let server_profile = out.join("server");
    ok(Command::new(&test_binary)
        .current_dir(dir.join("tests/integ/server"))
        .arg(format!("-test.coverprofile={}", server_profile.display()))
        .env("GOB_BIN_DIR", &bin)
        .env("GOCOVERDIR", &covdata));
    let binaries = out.join("binaries");
    let input = format!("-i={}", covdata.display());
    let output = format!("-o={}", binaries.display());
    ok(&mut go(
        dir,
        &["tool", "covdata", "textfmt", &input, &output],
    ));
    let oracle = out.join("oracle.out");
    let parts = [&unit[0], &unit[1], &lib, &server_profile, &binaries];
    let parts: Vec<&Path> = parts.iter().map(|p| p.as_path()).collect();
    std::fs::write(&oracle, concatenated(&parts)).unwrap();
    oracle
}

#[test]
fn the_profile_of_unit_and_integration_suites_equals_go_with_the_binaries_covdata() {
    let ws = workspace("coverpkg = [\"./...\"]");
    let summary = ws.dir().join("step-summary.md");
    let (code, stdout, stderr) = run(ws
        .gob(&[
            "test",
            "unit",
            "integ",
            "--json",
            "--coverprofile",
            "cover.out",
            "--cover-xml",
            "cover.xml",
            "--cover-html",
            "cover.html",
        ])
        .env("GITHUB_STEP_SUMMARY", &summary));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("FLAKY cover/calc TestFlaky"), "{stderr}");
    // The oracle runs in a second copy: its own marker, its own binaries.
    let oracle_ws = Workspace::fixture("cover", "");
    let scratch = tempfile::tempdir().unwrap();
    let oracle = go_oracle(oracle_ws.dir(), scratch.path());
    let profile = ws.dir().join("cover.out");
    let ours = func_report(ws.dir(), &profile);
    assert_eq!(
        ours,
        func_report(oracle_ws.dir(), &oracle),
        "gob's profile differs from go's"
    );
    // The binary's coverage counts: only the server run reaches Sign's zero branch and
    // main's happy path.
    let text = std::fs::read_to_string(&profile).unwrap();
    assert!(text.contains("cover/calc/calc.go:15.12,17.3 1 1"), "{text}");
    assert!(
        text.contains("cover/cmd/server/main.go:27.2,27.27 1 1"),
        "{text}"
    );
    // Each block once, though four test binaries and the retry counted calc.
    let lines: Vec<&str> = text.lines().skip(1).collect();
    let mut blocks: Vec<&str> = lines
        .iter()
        .map(|l| l.rsplitn(3, ' ').nth(2).unwrap())
        .collect();
    blocks.dedup();
    assert_eq!(blocks.len(), lines.len(), "{text}");
    // The event carries each package, least covered first, and the terminal says the total.
    let event = &events(&stdout, "gob-coverage")[0];
    let packages = event["Packages"].as_array().unwrap();
    assert_eq!(packages[0]["Package"], "cover/util", "{event}");
    assert_eq!(packages[0]["Covered"], 0);
    let total = ours
        .lines()
        .last()
        .unwrap()
        .split_whitespace()
        .last()
        .unwrap()
        .to_string();
    assert!(
        stderr.contains(&format!("gob: coverage: {}", total.trim_end_matches('%'))),
        "{total}\n{stderr}"
    );
    assert!(
        std::fs::read_to_string(&summary)
            .unwrap()
            .contains("| `cover/util` | 0 | 3 | 0.0 |")
    );
    let html = std::fs::read_to_string(ws.dir().join("cover.html")).unwrap();
    assert!(html.contains("<html") && html.contains("calc.go"), "{html}");
    check_cobertura(&ws.dir().join("cover.xml"), &text);
}

/// The Cobertura report is valid against the coverage-04 DTD, and each line's hits agree
/// with the profile: a line of a block that ran has hits, a line only in blocks that did
/// not has none.
fn check_cobertura(xml_path: &Path, profile: &str) {
    let dtd = repo().join("tests/fixtures/schemas/cobertura-coverage-04.dtd");
    let checked = Command::new("xmllint")
        .args(["--noout", "--nonet", "--dtdvalid"])
        .arg(&dtd)
        .arg(xml_path)
        .output();
    match checked {
        Ok(out) => assert!(
            out.status.success(),
            "not valid Cobertura: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(_) if std::env::var_os("CI").is_none() => {
            eprintln!("skipped: the DTD check needs xmllint (Debian libxml2-utils)");
        }
        Err(e) => panic!("xmllint: {e} (.ci/run installs libxml2-utils)"),
    }
    let xml = std::fs::read_to_string(xml_path).unwrap();
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    let doc = roxmltree::Document::parse_with_options(&xml, options).unwrap();
    let mut hits = std::collections::BTreeMap::new();
    for class in doc.descendants().filter(|n| n.has_tag_name("class")) {
        let file = class.attribute("filename").unwrap();
        for line in class.descendants().filter(|n| n.has_tag_name("line")) {
            let number: u32 = line.attribute("number").unwrap().parse().unwrap();
            let count: u64 = line.attribute("hits").unwrap().parse().unwrap();
            hits.insert((file.to_string(), number), count);
        }
    }
    let mut expected = std::collections::BTreeMap::new();
    for line in profile.lines().skip(1) {
        let mut fields = line.rsplitn(3, ' ');
        let count: u64 = fields.next().unwrap().parse().unwrap();
        let place = fields.nth(1).unwrap();
        let (file, span) = place.rsplit_once(':').unwrap();
        let file = file.trim_start_matches("cover/").to_string();
        let (start, end) = span.split_once(',').unwrap();
        let line_of = |p: &str| p.split('.').next().unwrap().parse::<u32>().unwrap();
        for number in line_of(start)..=line_of(end) {
            let ran = expected.entry((file.clone(), number)).or_insert(false);
            *ran |= count > 0;
        }
    }
    let covered: std::collections::BTreeMap<_, bool> =
        hits.iter().map(|(k, v)| (k.clone(), *v > 0)).collect();
    assert_eq!(covered, expected, "{xml}");
    assert!(
        covered.contains_key(&("calc/calc.go".to_string(), 12)),
        "{xml}"
    );
}

#[test]
fn shards_merged_with_cover_merge_equal_the_unsharded_profile() {
    // No marker: the flaky test skips, so every run sees the same tests.
    let ws = Workspace::fixture(
        "cover",
        "[test.unit]\npackages = [\"./...\"]\nexclude = [\"tests/**\"]\n",
    );
    ok(&mut ws.gob(&["test", "--coverprofile", "all.out", "--covermode", "count"]));
    // Three shards of two test packages: one runs only the packages without tests.
    for k in 1..=3 {
        let shard = format!("{k}/3");
        let out = format!("shard{k}.out");
        ok(&mut ws.gob(&[
            "test",
            "--shard",
            &shard,
            "--coverprofile",
            &out,
            "--covermode",
            "count",
        ]));
    }
    let (code, _, stderr) = run(&mut ws.gob(&[
        "cover",
        "merge",
        "shard1.out",
        "shard2.out",
        "shard3.out",
        "--output",
        "merged.out",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let read = |name: &str| std::fs::read_to_string(ws.dir().join(name)).unwrap();
    // A run with nothing to run still leaves the profile asked for, for the merge after it.
    let (code, _, stderr) = run(&mut ws.gob(&["test", "--failed", "--coverprofile", "none.out"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("nothing failed"), "{stderr}");
    assert_eq!(read("none.out"), "mode: set\n");
    assert_eq!(read("merged.out"), read("all.out"));
    assert!(read("all.out").starts_with("mode: count\n"));
    // Without coverpkg each package counts itself, and the packages without tests count as
    // go test -coverprofile ./... counts them.
    let plain = ws.dir().join("go.out");
    let flag = format!("-coverprofile={}", plain.display());
    ok(&mut go(
        ws.dir(),
        &[
            "test",
            "-count=1",
            "-covermode=count",
            &flag,
            "./calc",
            "./words",
            "./util",
            "./cmd/server",
        ],
    ));
    assert_eq!(
        func_report(ws.dir(), &ws.dir().join("all.out")),
        func_report(ws.dir(), &plain)
    );
    // Profiles of different modes do not merge.
    ok(&mut ws.gob(&["test", "--coverprofile", "set.out"]));
    let (code, _, stderr) =
        run(&mut ws.gob(&["cover", "merge", "all.out", "set.out", "-o", "x.out"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("set.out: mode `set` cannot merge with mode `count`"),
        "{stderr}"
    );
    assert!(!ws.dir().join("x.out").exists());
}

#[test]
fn an_archive_built_with_cover_runs_into_a_profile_and_one_without_is_refused() {
    let ws = workspace("coverpkg = [\"./...\"]");
    ok(&mut ws.gob(&["test", "--integ", "--archive", "cov.tar.zst", "--cover"]));
    ok(&mut ws.gob(&["test", "--integ", "--archive", "plain.tar.zst"]));
    let elsewhere = tempfile::tempdir().unwrap();
    let gob = |args: &[&str]| {
        let mut cmd = crate::support::gob_command();
        cmd.current_dir(elsewhere.path()).args(args);
        cmd
    };
    let archive = ws.dir().join("cov.tar.zst");
    let archive = archive.to_str().unwrap();
    let (code, stdout, stderr) = run(&mut gob(&[
        "test",
        "--from-archive",
        archive,
        "--coverprofile",
        "p.out",
        "--dry-run",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("-test.coverprofile="), "{stdout}");
    ok(&mut gob(&[
        "test",
        "--from-archive",
        archive,
        "--coverprofile",
        "p.out",
    ]));
    let text = std::fs::read_to_string(elsewhere.path().join("p.out")).unwrap();
    // The library test ran Double through the instrumented binary.
    assert!(text.contains("cover/calc/calc.go:22.24,24.2 1 1"), "{text}");
    let plain = ws.dir().join("plain.tar.zst");
    let (code, _, stderr) = run(&mut gob(&[
        "test",
        "--from-archive",
        plain.to_str().unwrap(),
        "--coverprofile",
        "q.out",
    ]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("built without coverage"), "{stderr}");
    assert!(stderr.contains("--cover"), "{stderr}");
}

#[test]
fn a_dry_run_shows_the_coverage_flags_and_where_each_fragment_goes() {
    let ws = workspace("");
    let (code, stdout, stderr) = run(&mut ws.gob(&[
        "test",
        "unit",
        "integ",
        "--coverprofile",
        "c.out",
        "--dry-run",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("-cover '-covermode=set' '-coverprofile="),
        "{stdout}"
    );
    assert!(stdout.contains("-test.coverprofile="), "{stdout}");
    assert!(
        stdout.contains("# the packages without test files"),
        "{stdout}"
    );
    assert!(stdout.contains("merged into"), "{stdout}");
    // A race suite makes the run atomic; asking for another mode with it is refused.
    ws.write(
        "gobuild.toml",
        "[test.unit]\npackages = [\"./calc\"]\nrace = true\n",
    );
    let (code, stdout, _) = run(&mut ws.gob(&["test", "--coverprofile", "c.out", "--dry-run"]));
    assert_eq!(code, 0);
    assert!(stdout.contains("-covermode=atomic"), "{stdout}");
    let (code, _, stderr) = run(&mut ws.gob(&[
        "test",
        "--coverprofile",
        "c.out",
        "--covermode",
        "set",
        "--dry-run",
    ]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("suite unit sets race = true"), "{stderr}");
}

#[test]
fn gob_build_cover_makes_binaries_that_count_into_gocoverdir() {
    let ws = workspace("");
    let covdata = ws.dir().join("covdata");
    std::fs::create_dir_all(&covdata).unwrap();
    let server = |dir: &Path| {
        let bin = ws.dir().join("bin/server");
        let out = ok(Command::new(bin).arg("7").env("GOCOVERDIR", dir));
        assert_eq!(out.trim(), "positive");
    };
    ok(&mut ws.gob(&["build"]));
    server(&covdata);
    assert_eq!(
        std::fs::read_dir(&covdata).unwrap().count(),
        0,
        "a plain build counts nothing"
    );
    ok(&mut ws.gob(&["build", "--cover", "--coverpkg", "./calc"]));
    server(&covdata);
    let input = format!("-i={}", covdata.display());
    let percent = ok(&mut go(ws.dir(), &["tool", "covdata", "percent", &input]));
    // go writes nothing for a binary whose main package -coverpkg leaves out: gob adds it.
    assert!(percent.contains("cover/calc"), "{percent}");
    assert!(percent.contains("cover/cmd/server"), "{percent}");
    assert!(!percent.contains("cover/words"), "{percent}");
}
