//! `gob check`'s verdict against go's, over generated edits: on the `--since` oracle's
//! repository (a go.work of two modules, a `replace` dir, a git submodule, cgo, embeds,
//! tag-selected files, external tests), each edit puts one kind of mistake into one Go file
//! (a type error, an unused variable, a vet finding go test runs, a function without a body
//! that only the compiler rejects, a missing embed, an unknown import, a test with the wrong
//! signature, a clashing package clause, a build constraint that drops the file…) or nothing
//! wrong at all. The oracle is go: `go test` of each suite's packages with its tags and a
//! `-run` that matches no test (compiled, vetted as go test vets, linked, no test run: see
//! [`NO_TEST`]). `gob check` must
//! fail exactly when go fails, and name the edited file whenever go does.
//!
//! Every kind of edit runs each time, each on a file picked by a seed (printed on failure;
//! `GOB_CHECK_ORACLE_SEED=N` replays it, `GOB_CHECK_ORACLE_ALL=1` tries every file).

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use crate::since_oracle::{Generated, go};
use crate::support::{gob_command, run};

/// The suites of tests/fixtures/since/gobuild.toml and their tags.
const SUITES: [&str; 2] = ["", "extra"];
/// The package patterns of both suites.
const PATTERNS: [&str; 2] = ["./app/...", "./tools/..."];
/// go's `-run` in the oracle: no test has this name, so a test binary runs nothing (the
/// fixture has no `TestMain` and no `init`), and go caches each package's pass under a key
/// only this oracle makes. A pass is cached only after go compiled, vetted and linked that
/// package's test as it is now (its key is the test binary's inputs), so an edit relinks
/// only what it changed (`-exec true` would make go link every test binary every time).
const NO_TEST: &str = "^GobCheckOracleRunsNothing$";

/// One kind of edit to a Go file.
struct Mutation {
    /// What it puts into the file.
    name: &'static str,
    /// Whether it is made only to test files that import "testing".
    tests_only: bool,
    /// How the file's text changes.
    change: Change,
}

/// How a mutation changes a file's text.
enum Change {
    /// These lines added at the end.
    Append(&'static str),
    /// This line added right after the package clause.
    AfterPackageClause(&'static str),
    /// The package clause names this package instead.
    PackageName(&'static str),
    /// These lines put first.
    Prepend(&'static str),
}

impl Change {
    fn apply(&self, text: &str) -> String {
        let clause = package_clause(text);
        match self {
            Change::Append(tail) => format!("{text}\n{tail}\n"),
            Change::AfterPackageClause(line) => {
                format!("{}\n{line}\n{}", &text[..clause.end], &text[clause.end..])
            }
            Change::PackageName(name) => format!(
                "{}package {name}\n{}",
                &text[..clause.start],
                &text[clause.end..]
            ),
            Change::Prepend(head) => format!("{head}{text}"),
        }
    }
}

/// Where `text`'s package clause line is, its newline included.
fn package_clause(text: &str) -> std::ops::Range<usize> {
    let start = text
        .find("\npackage ")
        .map(|i| i + 1)
        .filter(|_| !text.starts_with("package "))
        .unwrap_or(0);
    let end = text[start..]
        .find('\n')
        .map_or(text.len(), |n| start + n + 1);
    start..end
}

/// A mutation of any Go file.
const fn any(name: &'static str, change: Change) -> Mutation {
    Mutation {
        name,
        tests_only: false,
        change,
    }
}

const MUTATIONS: &[Mutation] = &[
    any(
        "nothing wrong (a comment)",
        Change::Append("// An edit that changes nothing."),
    ),
    any("nothing wrong (a declaration)", Change::Append("var _ = 1")),
    any("a type error", Change::Append("var _ int = \"gob-oracle\"")),
    any(
        "an undefined name",
        Change::Append("var _ = gobOracleUndefined"),
    ),
    any(
        "a variable declared and not used",
        Change::Append("func init() { gobOracleUnused := 1 }"),
    ),
    any(
        "a vet finding go test runs (stringintconv)",
        Change::Append("func init() { gobOracleN := 65; _ = string(gobOracleN) }"),
    ),
    any(
        "a function without a body (the compiler's error)",
        Change::Append("func gobOracleNoBody()"),
    ),
    any(
        "a go:embed of a file that is not there",
        Change::Append("//go:embed gob-oracle-missing.txt\nvar gobOracleEmbed string"),
    ),
    any(
        "an import of a package that does not exist",
        Change::AfterPackageClause("import _ \"example.com/app/gobmissing\""),
    ),
    any(
        "a second package name in the directory",
        Change::PackageName("gobother"),
    ),
    any(
        "a build constraint that drops the file",
        Change::Prepend("//go:build gobnever\n\n"),
    ),
    Mutation {
        name: "a test with the wrong signature",
        tests_only: true,
        change: Change::Append("func TestGobOracleSignature(n int) {}"),
    },
    Mutation {
        name: "a test with a malformed name",
        tests_only: true,
        change: Change::Append("func Testgoboracle(t *testing.T) {}"),
    },
];

/// Every Go file of the repository (submodule and replace dirs included), relative, sorted.
fn go_files(root: &Path) -> Vec<String> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().is_some_and(|n| n == ".git") {
                continue;
            }
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "go") {
                let rel = path.strip_prefix(root).unwrap();
                out.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// go's verdict on the tree at `root`: whether every suite's test packages compile, vet and
/// link as `go test` does them, and what go said.
fn go_verdict(root: &Path) -> (bool, String) {
    std::thread::scope(|scope| {
        let running: Vec<_> = SUITES
            .iter()
            .map(|tags| {
                scope.spawn(move || {
                    go(root)
                        .args(["test", "-run", NO_TEST, "-tags", tags])
                        .args(PATTERNS)
                        .output()
                        .unwrap()
                })
            })
            .collect();
        let mut ok = true;
        let mut said = String::new();
        for thread in running {
            let out = thread.join().unwrap();
            ok &= out.status.success();
            said.push_str(&String::from_utf8_lossy(&out.stdout));
            said.push_str(&String::from_utf8_lossy(&out.stderr));
        }
        (ok, said)
    })
}

/// gob's verdict on the tree at `root`: whether `gob check` passed, and what it said.
fn gob_verdict(root: &Path) -> (bool, String) {
    let (code, stdout, stderr) = run(gob_command()
        .current_dir(root)
        .env("PWD", root)
        .arg("check"));
    assert!(code == 0 || code == 1, "gob check exited {code}:\n{stderr}");
    (code == 0, format!("{stdout}{stderr}"))
}

/// The seed of this run: `GOB_CHECK_ORACLE_SEED`, else the clock.
fn seed() -> u64 {
    std::env::var("GOB_CHECK_ORACLE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        })
}

/// The files `mutation` is tried on: one picked by `seed`, or all of them.
fn files_for(mutation: &Mutation, files: &[(String, String)], seed: u64) -> Vec<PathBuf> {
    let fitting: Vec<&String> = files
        .iter()
        .filter(|(name, text)| {
            !mutation.tests_only || (name.ends_with("_test.go") && text.contains("\"testing\""))
        })
        .map(|(name, _)| name)
        .collect();
    if std::env::var_os("GOB_CHECK_ORACLE_ALL").is_some() {
        return fitting.into_iter().map(PathBuf::from).collect();
    }
    let mut hasher = DefaultHasher::new();
    (seed, mutation.name).hash(&mut hasher);
    let pick = fitting[(hasher.finish() % fitting.len() as u64) as usize];
    vec![PathBuf::from(pick)]
}

#[test]
fn check_fails_exactly_when_go_test_fails_over_generated_edits() {
    let repo = Generated::new();
    let root = repo.root();
    let files: Vec<(String, String)> = go_files(&root)
        .into_iter()
        .map(|rel| {
            let text = std::fs::read_to_string(root.join(&rel)).unwrap();
            (rel, text)
        })
        .collect();
    assert!(files.len() >= 15, "{files:?}");
    assert!(
        !files
            .iter()
            .any(|(_, text)| text.contains("func TestMain") || text.contains("func init")),
        "running a test binary must run nothing of the fixture's (see NO_TEST)"
    );
    let seed = seed();
    let (go_ok, go_said) = go_verdict(&root);
    assert!(go_ok, "the base passes go: {go_said}");
    let mut disagreements = Vec::new();
    let mut summary = Vec::new();
    for mutation in MUTATIONS {
        for rel in files_for(mutation, &files, seed) {
            let path = root.join(&rel);
            let before = std::fs::read_to_string(&path).unwrap();
            std::fs::write(&path, mutation.change.apply(&before)).unwrap();
            let (go_ok, go_said) = go_verdict(&root);
            let (gob_ok, gob_said) = gob_verdict(&root);
            std::fs::write(&path, &before).unwrap();
            let name = rel.file_name().unwrap().to_string_lossy();
            let unnamed = !go_ok && go_said.contains(&*name) && !gob_said.contains(&*name);
            if go_ok != gob_ok || unnamed {
                let what = format!(
                    "{} in {}: go {}, gob check {}{}",
                    mutation.name,
                    rel.display(),
                    verdict(go_ok),
                    verdict(gob_ok),
                    if unnamed {
                        " without naming the file"
                    } else {
                        ""
                    },
                );
                disagreements.push(format!(
                    "{what}\n--- go said:\n{go_said}\n--- gob said:\n{gob_said}"
                ));
                summary.push(what);
            }
        }
    }
    assert!(
        disagreements.is_empty(),
        "gob check and go disagree (seed {seed}: GOB_CHECK_ORACLE_SEED={seed} replays it):\n\n{}\n\nIn short:\n{}",
        disagreements.join("\n\n"),
        summary.join("\n")
    );
}

fn verdict(ok: bool) -> &'static str {
    match ok {
        true => "passes",
        false => "fails",
    }
}
