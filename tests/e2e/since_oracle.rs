//! `--since` against go itself: a generated multi-module repository (tests/fixtures/since:
//! a go.work of two modules, a `replace` dir, a git submodule, an embed dir pattern,
//! testdata with spaces and odd bytes in names, cgo, tag-excluded files) and a list of
//! scripted edits. For every edit the oracle is go: every test package whose test binary
//! (`go test -c -trimpath`, identical bytes wherever the tree lives) or test output differs
//! between the base and the edit must be selected by `gob affected --since base`; the harness
//! fails naming the edit and the missed package. Some edits also pin the exact selection, so
//! precision is held too (a README or a tag-excluded file selects nothing).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::support::{copy_dir, gob_command, repo, run};

/// The suites of tests/fixtures/since/gobuild.toml and their tags.
const SUITES: [(&str, &[&str]); 2] = [("unit", &[]), ("extra", &["extra"])];
/// The package patterns of both suites.
const PATTERNS: [&str; 2] = ["./app/...", "./tools/..."];

/// A generated repository: `repo/` with the submodule `sub` from `sub-origin/`, whose first
/// commit is tagged `base`.
pub struct Generated {
    pub tmp: tempfile::TempDir,
}

impl Generated {
    pub fn new() -> Generated {
        let tmp = tempfile::tempdir().unwrap();
        let origin = tmp.path().join("sub-origin");
        copy_dir(&repo().join("tests/fixtures/since-sub"), &origin);
        git(&origin, &["init", "-q", "-b", "main"]);
        git(&origin, &["add", "-A"]);
        git(&origin, &["commit", "-q", "-m", "sub 1"]);
        let root = tmp.path().join("repo");
        copy_dir(&repo().join("tests/fixtures/since"), &root);
        git(&root, &["init", "-q", "-b", "main"]);
        let origin = origin.display().to_string();
        git(
            &root,
            &[
                "-c",
                "protocol.file.allow=always",
                "submodule",
                "add",
                "-q",
                &origin,
                "sub",
            ],
        );
        git(&root, &["add", "-A"]);
        git(&root, &["commit", "-q", "-m", "base"]);
        git(&root, &["tag", "base"]);
        Generated { tmp }
    }

    /// The repository's work tree.
    pub fn root(&self) -> PathBuf {
        self.tmp.path().join("repo")
    }

    pub fn write(&self, rel: &str, text: &str) {
        let path = self.root().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    pub fn git(&self, args: &[&str]) {
        git(&self.root(), args);
    }

    /// `gob affected --since base --json` from `dir`: suite → selected package → why.
    pub fn affected_from(&self, dir: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
        let mut cmd = gob_command();
        cmd.current_dir(dir)
            .env("PWD", dir)
            .args(["affected", "--since", "base", "--json", "unit", "extra"]);
        let (code, stdout, stderr) = run(&mut cmd);
        assert_eq!(code, 0, "gob affected failed:\n{stderr}");
        let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        json["suites"]
            .as_array()
            .unwrap()
            .iter()
            .map(|suite| {
                let selected = suite["selected"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| {
                        (
                            short(p["package"].as_str().unwrap()),
                            p["why"].as_str().unwrap().to_string(),
                        )
                    })
                    .collect();
                (suite["suite"].as_str().unwrap().to_string(), selected)
            })
            .collect()
    }

    pub fn affected(&self) -> BTreeMap<String, BTreeMap<String, String>> {
        self.affected_from(&self.root())
    }
}

pub fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=gob", "-c", "user.email=gob@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn short(package: &str) -> String {
    package
        .trim_start_matches("example.com/app/")
        .trim_start_matches("example.com/tools/")
        .to_string()
}

/// go in `dir`, offline, with nothing of the caller's GOFLAGS.
pub fn go(dir: &Path) -> Command {
    let mut cmd = Command::new("go");
    cmd.current_dir(dir)
        .env("GOTOOLCHAIN", "local")
        .env("GOPROXY", "off")
        .env("GOFLAGS", "")
        .env_remove("GOWORK");
    cmd
}

/// The oracle of every suite at `root`, the suites at once (each is mostly one go process
/// waiting on files and the cache, not on the CPU). go writes each suite's test binaries into
/// `bins/<suite>/`; with -trimpath a binary is the same bytes wherever its tree lives, so go
/// finds those already there up to date by their build IDs and links only what differs: the
/// digests are go's as before, for a fraction of the links. Callers keep `bins` across the
/// states of one tree, or start it from the base's ([`bins_from_base`]).
pub fn oracles(root: &Path, bins: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    std::thread::scope(|scope| {
        let running: Vec<_> = SUITES
            .iter()
            .map(|(suite, tags)| {
                let bin = bins.join(suite);
                std::fs::create_dir_all(&bin).unwrap();
                (*suite, scope.spawn(move || oracle(root, tags, &bin)))
            })
            .collect();
        running
            .into_iter()
            .map(|(suite, thread)| (suite.to_string(), thread.join().unwrap()))
            .collect()
    })
}

/// What go says of each test package of a suite in the tree at `root`: its test binary's
/// SHA-256 and its test output (durations removed), or how its build failed.
fn oracle(root: &Path, tags: &[&str], bin: &Path) -> BTreeMap<String, String> {
    let tags = tags.join(",");
    let format = "{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}|{{.Dir}}{{end}}";
    let out = go(root)
        .args(["list", "-e", "-tags", &tags, "-f", format])
        .args(PATTERNS)
        .output()
        .unwrap();
    let packages: Vec<(String, PathBuf)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('|'))
        .map(|(p, d)| (p.to_string(), PathBuf::from(d)))
        .collect();
    let names: Vec<&str> = packages.iter().map(|(p, _)| p.as_str()).collect();
    let built = build_together(root, &tags, bin, &names);
    let mut keys = BTreeMap::new();
    for (package, dir) in &packages {
        let name = format!("{}.test", package.rsplit('/').next().unwrap());
        let binary = bin.join(&name);
        if !built.contains(package.as_str()) {
            let out = build_tests(root, &tags)
                .arg(&binary)
                .arg(package)
                .output()
                .unwrap();
            if !out.status.success() {
                let why = String::from_utf8_lossy(&out.stderr).replace(root.to_str().unwrap(), "");
                keys.insert(short(package), format!("build failed: {why}"));
                continue;
            }
        }
        let digest = crate::support::sha256_file(&binary);
        let ran = Command::new(&binary)
            .args(["-test.v", "-test.count=1"])
            .current_dir(dir)
            .output()
            .unwrap();
        let output: Vec<String> = String::from_utf8_lossy(&ran.stdout)
            .lines()
            .map(without_durations)
            .collect();
        keys.insert(
            short(package),
            format!(
                "{digest} exit={:?}\n{}",
                ran.status.code(),
                output.join("\n")
            ),
        );
    }
    keys
}

/// `go test -c -o` as the oracle builds every test binary (the output path comes next): the
/// same flags whether one package is built or many, so the binaries are the same bytes.
fn build_tests(root: &Path, tags: &str) -> Command {
    let mut cmd = go(root);
    cmd.args(["test", "-trimpath", "-vet=off", "-tags", tags, "-c", "-o"]);
    cmd
}

/// Builds the test binaries of `packages` into `bin` in as few go calls as it can, and returns
/// the packages whose binaries there go vouches for as of the tree now (the caller builds the
/// others one by one, which also says how each failed). All of them when one call succeeds.
/// When it fails, go's `-json` events name the test packages it could not build, and a second
/// call builds the rest: its success vouches for them. Which packages failed is only a guess
/// at what to leave out; were it wrong, the second call fails and none are vouched for.
fn build_together<'a>(
    root: &Path,
    tags: &str,
    bin: &Path,
    packages: &[&'a str],
) -> BTreeSet<&'a str> {
    let build = |packages: &[&str]| {
        build_tests(root, tags)
            .arg(format!("{}/", bin.display()))
            .arg("-json")
            .args(packages)
            .output()
            .unwrap()
    };
    let first = build(packages);
    if first.status.success() {
        return packages.iter().copied().collect();
    }
    let mut failed = BTreeSet::new();
    for line in String::from_utf8_lossy(&first.stdout).lines() {
        let Ok(event) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        // A test binary's own build: "p [p.test]"; a package that could not load: a fail.
        let named = match event["Action"].as_str() {
            Some("build-fail") => event["ImportPath"].as_str(),
            Some("fail") => event["Package"].as_str(),
            _ => None,
        };
        if let Some(package) = named.and_then(|n| n.split(' ').next()) {
            failed.insert(package.to_string());
        }
    }
    let rest: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|p| !failed.contains(*p))
        .collect();
    if failed.is_empty() || rest.is_empty() || !build(&rest).status.success() {
        return BTreeSet::new();
    }
    rest.into_iter().collect()
}

/// A test output line without its durations (`--- PASS: T (0.00s)`, `ok x 0.01s`).
fn without_durations(line: &str) -> String {
    match line.find(" (") {
        Some(at) if line.ends_with("s)") => line[..at].to_string(),
        _ => line.to_string(),
    }
}

/// The oracle at the base (the same for every generated repository) and go's test binaries
/// there, made once per run.
struct Base {
    keys: BTreeMap<String, BTreeMap<String, String>>,
    bins: PathBuf,
}

fn base() -> &'static Base {
    static BASE: OnceLock<Base> = OnceLock::new();
    BASE.get_or_init(|| {
        let bins = crate::support::dir_for_the_run();
        let keys = oracles(&Generated::new().root(), &bins);
        Base { keys, bins }
    })
}

/// A dir of test binaries for [`oracles`] that starts as a copy of the base's: go links only
/// what the tree at hand changed.
pub fn bins_from_base() -> tempfile::TempDir {
    let bins = tempfile::tempdir().unwrap();
    copy_dir(&base().bins, bins.path());
    bins
}

/// A scripted edit.
pub struct Edit {
    /// Named after what it does.
    pub name: &'static str,
    /// Makes the change in the repository (committed or not, as a user would).
    pub apply: fn(&Generated) -> Option<PathBuf>,
    /// Where it must select exactly these packages (suite, packages), when pinned.
    pub exactly: &'static [(&'static str, &'static [&'static str])],
}

/// Applies `edit` to a fresh repository and holds gob's selection to go's oracle.
pub fn check(edit: &Edit) {
    let repo = Generated::new();
    let start = (edit.apply)(&repo).unwrap_or_else(|| repo.root());
    let selected = repo.affected_from(&start);
    let mut missed = Vec::new();
    let bins = bins_from_base();
    let all_now = oracles(&repo.root(), bins.path());
    for (suite, _) in SUITES {
        let now = &all_now[suite];
        let base = &base().keys[suite];
        let chosen: BTreeSet<&String> = selected[suite].keys().collect();
        for (package, key) in now {
            if base.get(package) != Some(key) && !chosen.contains(package) {
                missed.push(format!(
                    "suite {suite}: {package} (go at the base: {:?}; now: {key:?})",
                    base.get(package)
                ));
            }
        }
        if let Some((_, want)) = edit.exactly.iter().find(|(s, _)| *s == suite) {
            let got: Vec<&str> = chosen.iter().map(|s| s.as_str()).collect();
            assert_eq!(
                got, *want,
                "edit `{}`: suite {suite} selects {:?}",
                edit.name, selected[suite]
            );
        }
    }
    assert!(
        missed.is_empty(),
        "edit `{}`: gob affected --since base missed what go builds or runs differently:\n{}\n(gob selected: {selected:?})",
        edit.name,
        missed.join("\n")
    );
}
