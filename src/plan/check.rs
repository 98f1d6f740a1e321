//! Planning `gob check`: every package of every suite, tests included, compiled or
//! type-checked with each suite's tags, linking and running nothing.
//!
//! Suites with equal tags share one round. Its full form has five steps:
//! 1. `go list -e -compiled -test -deps -json`: every package the suites' test binaries
//!    need, test-only ones (`P [P.test]`) included, with their files after cgo;
//! 2. `go list -e -export -json` of every plain package of step 1: go compiles them (their
//!    export data is what importers need; a plain compile is what `go build` caches too);
//! 3. gob's type checker (`src/runners/typecheck.go`) checks the test-only packages from
//!    source with go/types against that export data;
//! 4. when that found nothing, `go vet` with the checks `go test` runs before a test (each
//!    suite's `vet` setting: go's default subset, the listed checks, all, or none) over the
//!    suite's packages, as `go test` vets them (`P [P.test]` and `P_test`, and a package
//!    without test files as itself): a check that passes what `go test` fails would be a
//!    false green;
//! 5. `go vet -vettool=GOB` (no analysis: gob is the tool) of the packages with a file only
//!    the compiler may reject (a compiler directive, a function without a body):
//!    go compiles what they import, as `go test` does, and gob compiles each package with its
//!    tests ([`crate::vettool`]). Not `go list -export -test`, which compiles every test
//!    package and test main, and, on a cold cache, the test mains' closure
//!    (`testing/internal/testdeps`: ~2.5 s on 2 CPUs that nothing else here needs).
//!
//! `go vet` type-checks what it vets from source too (it reports type errors: go sets
//! `SucceedOnTypecheckFailure` only inside `go test`) and compiles the test-only packages in
//! between. So a round whose tested packages are all vetted first takes a short form: step 4,
//! then step 5 (which compiles what go test compiles before it links). When both pass, the
//! round passes without the type checker (which a machine with a cold build cache would
//! first have to build, for longer than all of go vet takes); when either fails, the full
//! form runs to report the errors as the compiler prints them (every package, up to 10
//! errors each, none twice), and what the short form printed is shown only when the type
//! checker finds nothing. `tests/e2e/check_oracle.rs` holds the verdict to go's.
//!
//! Test-only packages are where the time went before: go compiles a package again with its
//! tests and again for every test binary whose external tests import it, and links a binary
//! per package; the type checker does neither, and nothing here links.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::command::GoCommand;
use crate::go::vet::Vet;

/// One suite's contribution to the check.
#[derive(Debug, Clone)]
pub struct CheckSuite {
    /// The suite's tags.
    pub tags: Vec<String>,
    /// Import paths of its packages.
    pub packages: Vec<String>,
    /// Which vet checks `go test` runs for it.
    pub vet: Vet,
    /// Those of its packages that have test files (`go test` vets only those).
    pub tested: Vec<String>,
}

/// The packages of the suites that share one set of tags: one round of the check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRound {
    /// The tags, sorted.
    pub tags: Vec<String>,
    /// Import paths of the packages, each once.
    pub packages: Vec<String>,
    /// Step 4: the packages per vet setting (none for `vet = "off"`).
    pub vet: Vec<VetGroup>,
    /// Tested packages no group vets (only suites with `vet = "off"` have them).
    pub unvetted: Vec<String>,
}

impl CheckRound {
    /// The file under `check_dir` where the type checker keeps the clean results of rounds
    /// with these tags (one per tag set, so rounds do not overwrite each other's).
    pub fn results_file(&self, check_dir: &Path) -> std::path::PathBuf {
        check_dir.join(format!("clean-{:016x}.json", self.tags_key()))
    }

    /// The file under `check_dir` that tells step 5's tool about the packages of the suites
    /// with these tags (one per tag set, the same whichever of them a check narrows to, so
    /// two checks at once never hand each other's tool less than it needs).
    pub fn compile_config_file(&self, check_dir: &Path) -> std::path::PathBuf {
        check_dir.join(format!("compile-{:016x}.json", self.tags_key()))
    }

    fn tags_key(&self) -> u64 {
        crate::base::hash::fnv1a(self.tags.join(",").as_bytes())
    }
}

/// Packages vetted alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VetGroup {
    /// The setting.
    pub setting: Vet,
    /// Import paths, each once.
    pub packages: Vec<String>,
}

/// The fields of step 1's listing that the type checker reads.
const LIST_FIELDS: &str = "ImportPath,Dir,Name,CompiledGoFiles,Imports,ImportMap,Deps,Module,Error";

/// Appends the items of `more` that `list` lacks.
fn add_each(list: &mut Vec<String>, more: &[String]) {
    for item in more {
        if !list.contains(item) {
            list.push(item.clone());
        }
    }
}

/// A suite's tags as its round has them: sorted, each once.
pub fn round_tags(tags: &[String]) -> Vec<String> {
    let mut tags = tags.to_vec();
    tags.sort();
    tags.dedup();
    tags
}

/// Groups the suites into rounds, one per distinct set of tags; empty suites make none.
pub fn plan_check(suites: &[CheckSuite]) -> Vec<CheckRound> {
    let mut rounds: Vec<CheckRound> = Vec::new();
    for suite in suites {
        let tags = round_tags(&suite.tags);
        let index = match rounds.iter().position(|r| r.tags == tags) {
            Some(i) => i,
            None => {
                rounds.push(CheckRound {
                    tags,
                    packages: Vec::new(),
                    vet: Vec::new(),
                    unvetted: Vec::new(),
                });
                rounds.len() - 1
            }
        };
        let round = &mut rounds[index];
        add_each(&mut round.packages, &suite.packages);
        if suite.vet == Vet::Off {
            add_each(&mut round.unvetted, &suite.tested);
            continue;
        }
        // go test vets a package without test files too (test.go `builderTest`).
        match round.vet.iter_mut().find(|g| g.setting == suite.vet) {
            Some(group) => add_each(&mut group.packages, &suite.packages),
            None => round.vet.push(VetGroup {
                setting: suite.vet.clone(),
                packages: suite.packages.clone(),
            }),
        }
    }
    rounds.retain(|r| !r.packages.is_empty());
    for round in &mut rounds {
        let vetted: Vec<String> = round.vet.iter().flat_map(|g| g.packages.clone()).collect();
        round.unvetted.retain(|p| !vetted.contains(p));
    }
    rounds
}

impl CheckRound {
    /// Whether the round may take the short form: every package with tests is vetted (no
    /// suite says `vet = "off"` of it, and go test vets each group: `flags`, the vet flags
    /// of each group, are all known), so go vet type-checks all that the type checker would.
    pub fn vet_checks_tests(&self, flags: &[Option<Vec<String>>]) -> bool {
        self.unvetted.is_empty() && flags.iter().all(Option::is_some)
    }

    /// Step 5 (the short form's second) over `packages`, those of the round's packages that
    /// have a file only the compiler may reject (a compiler directive, a function without
    /// a body: [`crate::go::compileronly`]; the others' compile cannot fail where vet's type
    /// check passed): go compiles what they import (export data, as `go test` compiles it
    /// before it links) and runs gob as vet's tool on each (`P [P.test]`, its external tests,
    /// a package without tests as itself):
    /// gob compiles it with go's compiler, from the files and export data go gives vet
    /// ([`crate::go::vetcfg`]), linking nothing. What only the compiler rejects in a test file
    /// (a function without a body, a go:embed without its import) fails here, printed as go
    /// prints it. `gob`: gob's own path; `config`: the [`crate::go::vetcfg::CompileCheck`]
    /// file for the tool.
    pub fn compile_command(
        &self,
        packages: &[String],
        [gob, config]: [&Path; 2],
        go: &str,
        dir: &Path,
        env: &BTreeMap<String, String>,
    ) -> GoCommand {
        let mut args = vec!["vet".to_string(), format!("-vettool={}", gob.display())];
        if !self.tags.is_empty() {
            args.extend(["-tags".to_string(), self.tags.join(",")]);
        }
        args.extend(packages.iter().cloned());
        let mut env = env.clone();
        env.insert(
            crate::go::vetcfg::CONFIG_ENV.to_string(),
            config.display().to_string(),
        );
        GoCommand {
            program: go.to_string(),
            args,
            env,
            dir: dir.to_path_buf(),
        }
    }

    /// Step 1: the listing of every package the round's test binaries need.
    pub fn list_command(&self, go: &str, dir: &Path, env: &BTreeMap<String, String>) -> GoCommand {
        let json = format!("-json={LIST_FIELDS}");
        self.go_list(
            &["-e", "-compiled", "-test", "-deps", &json],
            &self.packages,
            go,
            dir,
            env,
        )
    }

    /// Step 2: the export data of `plain`, the plain packages step 1 listed (go compiles
    /// what its build cache lacks).
    pub fn export_command(
        &self,
        plain: &[String],
        go: &str,
        dir: &Path,
        env: &BTreeMap<String, String>,
    ) -> GoCommand {
        self.go_list(
            &["-e", "-export", "-json=ImportPath,Export,Error"],
            plain,
            go,
            dir,
            env,
        )
    }

    /// Step 4: `go vet` with `flags` (the checks `go test` runs for `group`'s setting) over
    /// the group's packages.
    pub fn vet_command(
        &self,
        group: &VetGroup,
        flags: &[String],
        go: &str,
        dir: &Path,
        env: &BTreeMap<String, String>,
    ) -> GoCommand {
        let mut args = vec!["vet".to_string()];
        args.extend(flags.iter().cloned());
        if !self.tags.is_empty() {
            args.extend(["-tags".to_string(), self.tags.join(",")]);
        }
        args.extend(group.packages.iter().cloned());
        GoCommand {
            program: go.to_string(),
            args,
            env: env.clone(),
            dir: dir.to_path_buf(),
        }
    }

    /// Step 4's commands: a [`CheckRound::vet_command`] for each group go test vets
    /// (`flags`: each group's flags, `None` where go test vets nothing).
    pub fn vet_commands(
        &self,
        flags: &[Option<Vec<String>>],
        go: &str,
        dir: &Path,
        env: &BTreeMap<String, String>,
    ) -> Vec<GoCommand> {
        self.vet
            .iter()
            .zip(flags)
            .filter_map(|(group, flags)| {
                let flags = flags.as_ref()?;
                Some(self.vet_command(group, flags, go, dir, env))
            })
            .collect()
    }

    fn go_list(
        &self,
        flags: &[&str],
        packages: &[String],
        go: &str,
        dir: &Path,
        env: &BTreeMap<String, String>,
    ) -> GoCommand {
        let mut args = vec!["list".to_string()];
        args.extend(flags.iter().map(|s| s.to_string()));
        if !self.tags.is_empty() {
            args.extend(["-tags".to_string(), self.tags.join(",")]);
        }
        args.extend(packages.iter().cloned());
        GoCommand {
            program: go.to_string(),
            args,
            env: env.clone(),
            dir: dir.to_path_buf(),
        }
    }
}

/// Step 3: the type checker over the two listings, for target architecture `goarch`; it
/// keeps which test binaries were clean, and by what inputs, in `results` (and checks those
/// again only when an input differs).
pub fn typecheck_command(
    checker: &Path,
    goarch: &str,
    [list, export, results]: [&Path; 3],
    dir: &Path,
    env: &BTreeMap<String, String>,
) -> GoCommand {
    GoCommand {
        program: checker.display().to_string(),
        args: vec![
            goarch.to_string(),
            list.display().to_string(),
            export.display().to_string(),
            results.display().to_string(),
        ],
        env: env.clone(),
        dir: dir.to_path_buf(),
    }
}

/// One package of step 1's listing, as far as choosing step 2's packages goes.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Listed {
    import_path: String,
    #[serde(default)]
    name: String,
}

/// The plain packages of step 1's output: not test-only (`P [P.test]`) and not a test
/// binary's main package (`P.test`).
pub fn plain_packages(listing: &[u8]) -> Result<Vec<String>, serde_json::Error> {
    let mut plain = Vec::new();
    for listed in serde_json::Deserializer::from_slice(listing).into_iter::<Listed>() {
        let listed = listed?;
        let test_main = listed.name == "main" && listed.import_path.ends_with(".test");
        if !listed.import_path.contains(" [") && !test_main {
            plain.push(listed.import_path);
        }
    }
    Ok(plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suite(tags: &[&str], packages: &[&str]) -> CheckSuite {
        let packages: Vec<String> = packages.iter().map(|s| s.to_string()).collect();
        CheckSuite {
            tags: tags.iter().map(|s| s.to_string()).collect(),
            tested: packages.clone(),
            packages,
            vet: Vet::Default,
        }
    }

    #[test]
    fn packages_are_vetted_per_setting_tested_or_not_and_off_vets_nothing() {
        let mut off = suite(&[], &["m/c"]);
        off.vet = Vet::Off;
        let mut all = suite(&[], &["m/a"]);
        all.vet = Vet::Checks("all".into());
        let mut untested = suite(&[], &["m/d"]);
        untested.tested.clear();
        let rounds = plan_check(&[
            suite(&[], &["m/a", "m/b"]),
            off,
            all,
            untested,
            suite(&[], &["m/b"]),
        ]);
        assert_eq!(rounds.len(), 1);
        assert_eq!(rounds[0].packages, ["m/a", "m/b", "m/c", "m/d"]);
        assert_eq!(
            rounds[0].vet,
            [
                VetGroup {
                    setting: Vet::Default,
                    packages: vec!["m/a".into(), "m/b".into(), "m/d".into()]
                },
                VetGroup {
                    setting: Vet::Checks("all".into()),
                    packages: vec!["m/a".into()]
                },
            ]
        );
        assert_eq!(
            rounds[0].unvetted,
            ["m/c"],
            "vet = off vets none of its tests"
        );
        assert!(!rounds[0].vet_checks_tests(&[Some(vec![]), Some(vec![])]));
        let mut vetted_elsewhere = suite(&[], &["m/a"]);
        vetted_elsewhere.vet = Vet::Off;
        let rounds_vetted = plan_check(&[vetted_elsewhere, suite(&[], &["m/a"])]);
        assert!(
            rounds_vetted[0].unvetted.is_empty(),
            "another suite vets m/a"
        );
        assert!(rounds_vetted[0].vet_checks_tests(&[Some(vec![])]));
        assert!(
            !rounds_vetted[0].vet_checks_tests(&[None]),
            "go test vets nothing under GOFLAGS=-vet=off"
        );
        let flags = ["-printf".to_string()];
        let vet = rounds[0].vet_command(
            &rounds[0].vet[0],
            &flags,
            "go",
            "/ws".as_ref(),
            &BTreeMap::new(),
        );
        assert_eq!(vet.args, ["vet", "-printf", "m/a", "m/b", "m/d"]);
        let commands = rounds[0].vet_commands(
            &[Some(flags.to_vec()), None],
            "go",
            "/ws".as_ref(),
            &BTreeMap::new(),
        );
        assert_eq!(
            commands.len(),
            1,
            "a group go test does not vet has no command"
        );
        assert_eq!(commands[0].args, vet.args);
    }

    #[test]
    fn suites_with_equal_tags_share_a_round() {
        let suites = [
            suite(&[], &["m/a", "m/b"]),
            suite(&["integ"], &["m/it/x"]),
            suite(&[], &["m/b", "m/c"]),
            suite(&["e2e"], &[]),
        ];
        let rounds = plan_check(&suites);
        assert_eq!(rounds.len(), 2, "empty suites make no round");
        assert_eq!(rounds[0].packages, ["m/a", "m/b", "m/c"]);
        let env = BTreeMap::from([("GOMAXPROCS".to_string(), "2".to_string())]);
        let list = rounds[1].list_command("go", "/ws".as_ref(), &env);
        assert_eq!(
            list.args,
            [
                "list",
                "-e",
                "-compiled",
                "-test",
                "-deps",
                &format!("-json={LIST_FIELDS}"),
                "-tags",
                "integ",
                "m/it/x"
            ]
        );
        assert_eq!(list.env["GOMAXPROCS"], "2");
        let tool = [
            Path::new("/bin/gob"),
            Path::new("/ws/.gob/check/compile-2.json"),
        ];
        let compile =
            rounds[1].compile_command(&rounds[1].packages, tool, "go", "/ws".as_ref(), &env);
        assert_eq!(
            compile.args,
            ["vet", "-vettool=/bin/gob", "-tags", "integ", "m/it/x"]
        );
        assert_eq!(
            compile.env[crate::go::vetcfg::CONFIG_ENV],
            "/ws/.gob/check/compile-2.json"
        );
        let plain = ["m/it/x".to_string(), "fmt".to_string()];
        let export = rounds[1].export_command(&plain, "go", "/ws".as_ref(), &env);
        assert_eq!(
            export.args,
            [
                "list",
                "-e",
                "-export",
                "-json=ImportPath,Export,Error",
                "-tags",
                "integ",
                "m/it/x",
                "fmt"
            ]
        );
    }

    #[test]
    fn only_plain_packages_are_exported() {
        let listing = br#"{"ImportPath": "fmt", "Name": "fmt"}
{"ImportPath": "m/a", "Name": "a"}
{"ImportPath": "m/a [m/a.test]", "Name": "a"}
{"ImportPath": "m/b [m/a.test]", "Name": "b"}
{"ImportPath": "m/a_test [m/a.test]", "Name": "a_test"}
{"ImportPath": "m/a.test", "Name": "main"}"#;
        assert_eq!(plain_packages(listing).unwrap(), ["fmt", "m/a"]);
        assert!(plain_packages(b"{\"ImportPath\": ").is_err());
    }
}
