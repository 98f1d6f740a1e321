//! The one place gob asks the go command questions (`go env`, `go list`) and reads answers.
//! Running planned commands (builds, tests) is the exec stage's job, not this module's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use crate::go::version::GoVersion;

/// How to invoke go: which program, in which directory, with which extra environment.
#[derive(Debug, Clone)]
pub struct GoTool {
    /// The go program (`go`, found on PATH).
    pub program: String,
    /// Where go runs (the workspace dir).
    pub dir: PathBuf,
    /// Variables set on top of the inherited environment (e.g. `GOMAXPROCS`).
    pub env: BTreeMap<String, String>,
}

/// A go query that failed.
#[derive(Debug, thiserror::Error)]
pub enum GoToolError {
    /// The go program is not on PATH (or cannot run).
    #[error("cannot run `{program}`: {source} (is Go installed and on PATH?)")]
    NotFound {
        /// The program.
        program: String,
        /// The spawn error.
        source: std::io::Error,
    },
    /// go ran and failed.
    #[error("`{command}` failed in {dir}:\n{stderr}")]
    Failed {
        /// The command line.
        command: String,
        /// Its working dir.
        dir: PathBuf,
        /// What go printed.
        stderr: String,
    },
    /// go printed something gob cannot read.
    #[error("cannot read the output of `{command}`: {detail}")]
    Unreadable {
        /// The command line.
        command: String,
        /// The parse error.
        detail: String,
    },
}

/// What `go env` says about the toolchain gob will run.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub struct GoEnv {
    /// e.g. `go1.26.8`.
    pub goversion: String,
    /// The build cache dir (or `off`).
    pub gocache: String,
    /// The toolchain root.
    pub goroot: String,
    /// Host target OS.
    pub goos: String,
    /// Host target arch.
    pub goarch: String,
    /// User GOFLAGS.
    #[serde(default)]
    pub goflags: String,
    /// A GOCACHEPROG, if any (Go 1.24+).
    #[serde(default)]
    pub gocacheprog: String,
    /// Where go's tools are (`compile`, `vet`).
    #[serde(default)]
    pub gotooldir: String,
}

impl GoEnv {
    /// The parsed Go version.
    pub fn version(&self) -> Option<GoVersion> {
        GoVersion::parse(&self.goversion)
    }
}

/// One package as `go list -e -json` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListedPackage {
    /// Import path (for a pattern that matched nothing, the pattern).
    pub import_path: String,
    /// Package name (`main` for commands).
    #[serde(default)]
    pub name: String,
    /// Absolute source dir.
    #[serde(default)]
    pub dir: Option<PathBuf>,
    /// Load error, if any.
    #[serde(default)]
    pub error: Option<ListError>,
    /// `_test.go` files in the package itself.
    #[serde(default)]
    pub test_go_files: Vec<String>,
    /// `_test.go` files of the external `_test` package.
    #[serde(default)]
    pub x_test_go_files: Vec<String>,
    /// The command-line patterns that matched it (`Match`): how a package go could not load
    /// (`./cmd/my app`: malformed import path) is still found by the pattern that named it.
    #[serde(default, rename = "Match", skip_serializing_if = "Vec::is_empty")]
    pub matches: Vec<String>,
    /// Its `//go:embed` patterns.
    #[serde(flatten)]
    pub embeds: ListedEmbeds,
    /// Its source files besides the tests.
    #[serde(flatten)]
    pub files: ListedFiles,
}

/// A package's source files besides its tests, as `go list` prints them (names in its dir).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListedFiles {
    /// Go files (no cgo).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub go_files: Vec<String>,
    /// Go files that import "C".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cgo_files: Vec<String>,
    /// Assembly files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub s_files: Vec<String>,
}

/// A package's `//go:embed` patterns, as `go list` prints them: its own files', its
/// `_test.go` files', its external tests'.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListedEmbeds {
    /// Patterns of its non-test files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub embed_patterns: Vec<String>,
    /// Patterns of its `_test.go` files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub test_embed_patterns: Vec<String>,
    /// Patterns of its external test package.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub x_test_embed_patterns: Vec<String>,
}

/// A `go list` package error.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListError {
    /// The message.
    pub err: String,
}

/// Parses the concatenated JSON objects of `go list -json`.
pub fn parse_go_list(bytes: &[u8]) -> Result<Vec<ListedPackage>, serde_json::Error> {
    serde_json::Deserializer::from_slice(bytes)
        .into_iter::<ListedPackage>()
        .collect()
}

/// go test's default vet flags as the go command's source under `goroot` lists them
/// ([`crate::go::vet::default_flags_from_source`]); `None` when it does not say.
fn source_vet_flags(goroot: &str) -> Option<Vec<String>> {
    let source = Path::new(goroot).join(crate::go::vet::DEFAULT_FLAGS_SOURCE);
    crate::go::vet::default_flags_from_source(&std::fs::read_to_string(source).ok()?)
}

/// The vet flags known in this process, by go, environment, setting and tags.
fn known_vet_flags() -> &'static std::sync::Mutex<BTreeMap<String, Option<Vec<String>>>> {
    static KNOWN: std::sync::OnceLock<std::sync::Mutex<BTreeMap<String, Option<Vec<String>>>>> =
        std::sync::OnceLock::new();
    KNOWN.get_or_init(Default::default)
}

/// The import path of [`GoTool::prime_vet_flags`]'s probe module.
const PROBE: &str = "gobvetprobe";

/// The probe's test file.
const PROBE_TEST: &str = "package probe\n\nimport \"testing\"\n\nfunc TestProbe(t *testing.T) {}\n";

/// Fields gob asks `go list -json=` for.
const LIST_FIELDS: &str = "ImportPath,Name,Dir,Error,TestGoFiles,XTestGoFiles,Match,EmbedPatterns,TestEmbedPatterns,XTestEmbedPatterns,GoFiles,CgoFiles,SFiles";

impl GoTool {
    fn run(&self, args: &[&str]) -> Result<Vec<u8>, GoToolError> {
        self.output(args).map(|o| o.stdout)
    }

    /// Runs a `go list` whose answer a watch may keep ([`crate::workspace::listmemo`]).
    fn run_listing(&self, args: &[&str]) -> Result<Vec<u8>, GoToolError> {
        let key = format!(
            "{}\0{}\0{:?}\0{:?}",
            self.program,
            self.dir.display(),
            self.env,
            args
        );
        crate::workspace::listmemo::answer(&key, || self.run(args))
    }

    /// Runs go; its failure is an error with what it printed.
    fn output(&self, args: &[&str]) -> Result<std::process::Output, GoToolError> {
        let command = format!("{} {}", self.program, shell_words::join(args));
        let output = Command::new(&self.program)
            .args(args)
            .current_dir(&self.dir)
            .envs(&self.env)
            .output()
            .map_err(|source| GoToolError::NotFound {
                program: self.program.clone(),
                source,
            })?;
        if !output.status.success() {
            return Err(GoToolError::Failed {
                command,
                dir: self.dir.clone(),
                stderr: String::from_utf8_lossy(&output.stderr)
                    .trim_end()
                    .to_string(),
            });
        }
        Ok(output)
    }

    /// The flags `go test` gives the vet tool for a test package (`go test -n`, which runs
    /// nothing): `None` when it runs no vet. `vet_flag` is the suite's `-vet=…`, if any.
    /// Asked once per process for each go, environment, setting and tag set (a watch asks
    /// every cycle; the answer depends on the go release only).
    pub fn vet_flags(
        &self,
        vet_flag: Option<&str>,
        tags: &[String],
        package: &str,
    ) -> Result<Option<Vec<String>>, GoToolError> {
        let key = self.vet_flags_key(vet_flag, tags);
        if let Some(flags) = known_vet_flags()
            .lock()
            .ok()
            .and_then(|k| k.get(&key).cloned())
        {
            return Ok(flags);
        }
        let flags = self.ask_vet_flags(vet_flag, tags, package, &self.dir)?;
        if let Ok(mut known) = known_vet_flags().lock() {
            known.insert(key, flags.clone());
        }
        Ok(flags)
    }

    /// Answers [`GoTool::vet_flags`] ahead, before the workspace is listed: for go's
    /// default checks (`vet_flag` unset, and no `-vet` in `GOFLAGS`), from the go command's
    /// own source in `GOROOT` ([`crate::go::vet::default_flags_from_source`]); otherwise, or
    /// when the source does not say, by asking go test about a probe module of gob's own (one
    /// test file in a temp dir, its go line the go version, so go runs the same toolchain):
    /// outside the standard library the flags depend on the go release and the environment,
    /// not on the package or the tags (`tag_sets`: those it answers for). Leaves the question
    /// to the later call when the probe fails.
    pub fn prime_vet_flags(
        &self,
        vet_flag: Option<&str>,
        tag_sets: &[Vec<String>],
        go_env: &GoEnv,
    ) {
        let keys: Vec<String> = tag_sets
            .iter()
            .map(|tags| self.vet_flags_key(vet_flag, tags))
            .collect();
        let Some(version) = go_env
            .goversion
            .strip_prefix("go")
            .filter(|v| !v.contains(' '))
        else {
            return;
        };
        if known_vet_flags()
            .lock()
            .is_ok_and(|k| keys.iter().all(|key| k.contains_key(key)))
        {
            return;
        }
        let from_source = (vet_flag.is_none() && !go_env.goflags.contains("-vet"))
            .then(|| source_vet_flags(&go_env.goroot))
            .flatten();
        let answer = match from_source {
            Some(flags) => Some(Some(flags)),
            None => self.probe_vet_flags(vet_flag, version),
        };
        if let (Some(flags), Ok(mut known)) = (answer, known_vet_flags().lock()) {
            for key in keys {
                known.insert(key, flags.clone());
            }
        }
    }

    /// What `go test -n` says it gives vet (`vet_flag` set or not) for a probe module of
    /// gob's own whose go line is `version`; `None` when go could not answer.
    fn probe_vet_flags(
        &self,
        vet_flag: Option<&str>,
        version: &str,
    ) -> Option<Option<Vec<String>>> {
        static PROBES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = PROBES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let probe = std::env::temp_dir().join(format!("gob-vet-probe-{}-{n}", std::process::id()));
        let written = std::fs::create_dir_all(&probe)
            .and_then(|()| {
                let module = format!("module {PROBE}\n\ngo {version}\n");
                std::fs::write(probe.join("go.mod"), module)
            })
            .and_then(|()| std::fs::write(probe.join("probe.go"), "package probe\n"))
            .and_then(|()| std::fs::write(probe.join("probe_test.go"), PROBE_TEST));
        let mut go = self.clone();
        go.env.insert("GOWORK".into(), "off".into());
        let asked = written
            .ok()
            .and_then(|()| go.ask_vet_flags(vet_flag, &[], PROBE, &probe).ok());
        let _ = std::fs::remove_dir_all(&probe);
        asked
    }

    fn vet_flags_key(&self, vet_flag: Option<&str>, tags: &[String]) -> String {
        format!("{}\n{:?}\n{vet_flag:?}\n{tags:?}", self.program, self.env)
    }

    fn ask_vet_flags(
        &self,
        vet_flag: Option<&str>,
        tags: &[String],
        package: &str,
        dir: &Path,
    ) -> Result<Option<Vec<String>>, GoToolError> {
        let tags = tags.join(",");
        let mut args = vec!["test", "-n", "-run=^$"];
        args.extend(vet_flag);
        if !tags.is_empty() {
            args.extend(["-tags", tags.as_str()]);
        }
        args.push(package);
        let in_dir = GoTool {
            dir: dir.to_path_buf(),
            ..self.clone()
        };
        let plan = in_dir.output(&args)?;
        let plan = String::from_utf8_lossy(&plan.stderr);
        Ok(crate::go::vet::flags_from_plan(&plan, package))
    }

    /// `go env -json` for the variables gob reports.
    pub fn env(&self) -> Result<GoEnv, GoToolError> {
        let args = [
            "env",
            "-json",
            "GOVERSION",
            "GOCACHE",
            "GOROOT",
            "GOOS",
            "GOARCH",
            "GOFLAGS",
            "GOCACHEPROG",
            "GOTOOLDIR",
        ];
        let out = self.run(&args)?;
        serde_json::from_slice(&out).map_err(|e| GoToolError::Unreadable {
            command: format!("{} {}", self.program, args.join(" ")),
            detail: e.to_string(),
        })
    }

    /// Every setting `go env -json` prints, as it prints them.
    pub fn env_all(&self) -> Result<Vec<u8>, GoToolError> {
        self.run(&["env", "-json"])
    }

    /// `go list -e -json=… [-tags T] patterns…`, in one call.
    pub fn list(
        &self,
        patterns: &[&str],
        tags: &[String],
    ) -> Result<Vec<ListedPackage>, GoToolError> {
        let json = format!("-json={LIST_FIELDS}");
        let tags = tags.join(",");
        let mut args = vec!["list", "-e", json.as_str()];
        if !tags.is_empty() {
            args.extend(["-tags", tags.as_str()]);
        }
        args.extend(patterns);
        let out = self.run_listing(&args)?;
        parse_go_list(&out).map_err(|e| GoToolError::Unreadable {
            command: format!("{} list", self.program),
            detail: e.to_string(),
        })
    }
}

/// A package and its direct imports, from `go list -deps`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PackageImports {
    /// Import path.
    pub import_path: String,
    /// Direct imports (resolved import paths).
    #[serde(default)]
    pub imports: Vec<String>,
}

impl GoTool {
    /// The modules of the build list (`go list -m all`); empty outside module mode.
    pub fn modules(&self) -> Vec<String> {
        self.run(&["list", "-m", "-f", "{{.Path}}", "all"])
            .map(|out| {
                String::from_utf8_lossy(&out)
                    .lines()
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every package `patterns` need, with its imports (`go list -deps`).
    pub fn import_graph(&self, patterns: &[&str]) -> Result<Vec<PackageImports>, GoToolError> {
        let mut args = vec!["list", "-e", "-deps", "-json=ImportPath,Imports"];
        args.extend(patterns);
        let out = self.run(&args)?;
        serde_json::Deserializer::from_slice(&out)
            .into_iter()
            .collect::<Result<_, _>>()
            .map_err(|e| GoToolError::Unreadable {
                command: format!("{} list -deps", self.program),
                detail: e.to_string(),
            })
    }

    /// Every package the tests of `packages` need, test variants included, with every file
    /// each is built from (`go list -e -deps -test` with `tags`): what `--since` compares.
    pub fn test_closure(
        &self,
        packages: &[&str],
        tags: &[String],
    ) -> Result<Vec<crate::workspace::snapshot::ClosurePackage>, GoToolError> {
        let json = format!("-json={}", crate::workspace::snapshot::FIELDS);
        let tags = tags.join(",");
        let mut args = vec!["list", "-e", "-deps", "-test", json.as_str()];
        if !tags.is_empty() {
            args.extend(["-tags", tags.as_str()]);
        }
        args.extend(packages);
        let out = self.run_listing(&args)?;
        crate::workspace::snapshot::parse(&out).map_err(|e| GoToolError::Unreadable {
            command: format!("{} list -deps -test", self.program),
            detail: e.to_string(),
        })
    }

    /// The values of go environment variables (`go env NAME...`), in order.
    pub fn env_values(&self, names: &[&str]) -> Result<Vec<String>, GoToolError> {
        let mut args = vec!["env"];
        args.extend(names);
        let out = self.run(&args)?;
        let text = String::from_utf8_lossy(&out);
        let mut values: Vec<String> = text.lines().map(str::to_string).collect();
        values.resize(names.len(), String::new());
        Ok(values)
    }

    /// The path of a go tool binary (`go tool -n NAME`); since Go 1.25 this builds it once.
    pub fn tool_path(&self, name: &str) -> Result<String, GoToolError> {
        let out = self.run(&["tool", "-n", name])?;
        Ok(String::from_utf8_lossy(&out).trim().to_string())
    }
}

/// Finds the listed package that `pattern` (as written in the manifest) names.
pub fn find_listed<'a>(
    listed: &'a [ListedPackage],
    pattern: &str,
    workspace_dir: &Path,
) -> Option<&'a ListedPackage> {
    let relative = pattern.starts_with("./") || pattern.starts_with("../") || pattern == ".";
    let dir = relative.then(|| crate::base::paths::normalize(&workspace_dir.join(pattern)));
    listed.iter().find(|p| {
        p.import_path == pattern
            || (dir.is_some() && p.dir.as_deref() == dir.as_deref())
            || p.matches.iter().any(|m| m == pattern)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_source_says_what_go_test_passes_vet_for_every_go_here() {
        let mut gos = vec!["go".to_string()];
        let old = "/usr/lib/go-1.19/bin/go";
        if Path::new(old).exists() {
            gos.push(old.to_string());
        } else {
            eprintln!("no Go 1.19 at {old} (Debian golang-1.19-go): only the go on PATH");
        }
        for program in gos {
            let go = GoTool {
                program: program.clone(),
                dir: std::env::temp_dir(),
                env: BTreeMap::from([("GOFLAGS".to_string(), String::new())]),
            };
            let env = go.env().unwrap();
            // A go line both releases read (Go 1.19 takes no patch version there).
            let asked = go.probe_vet_flags(None, "1.19");
            assert_eq!(
                source_vet_flags(&env.goroot),
                asked.unwrap_or_else(|| panic!("{program} test -n of the probe failed")),
                "{program}"
            );
        }
    }

    const LISTED: &str = r#"{
	"Dir": "/ws/cmd/alpha",
	"ImportPath": "example.com/mesh/cmd/alpha",
	"Name": "main"
}
{
	"ImportPath": "./cmd/nope",
	"Error": {
		"ImportStack": [],
		"Pos": "",
		"Err": "stat /ws/cmd/nope: directory not found"
	}
}
{
	"Dir": "/ws/internal/greet",
	"ImportPath": "example.com/mesh/internal/greet",
	"Name": "greet",
	"TestGoFiles": ["greet_test.go"],
	"SomeFutureField": 1
}
"#;

    #[test]
    fn a_package_go_cannot_load_is_found_by_its_pattern() {
        let listed = parse_go_list(
            br#"{"ImportPath":"m/cmd/my app","Match":["./cmd/my app"],"Error":{"Err":"malformed import path \"m/cmd/my app\": invalid char ' '"}}"#,
        )
        .unwrap();
        let found = find_listed(&listed, "./cmd/my app", Path::new("/ws")).unwrap();
        assert!(
            found
                .error
                .as_ref()
                .unwrap()
                .err
                .contains("invalid char ' '")
        );
    }

    #[test]
    fn parses_concatenated_go_list_output() {
        let listed = parse_go_list(LISTED.as_bytes()).unwrap();
        assert_eq!(listed.len(), 3);
        assert_eq!(listed[0].name, "main");
        assert!(listed[1].error.as_ref().unwrap().err.contains("not found"));
        assert_eq!(listed[2].test_go_files, ["greet_test.go"]);
        assert!(listed[0].test_go_files.is_empty());
    }

    #[test]
    fn finds_packages_by_relative_dir_or_import_path() {
        let listed = parse_go_list(LISTED.as_bytes()).unwrap();
        let ws = Path::new("/ws");
        let by_dir = find_listed(&listed, "./cmd/alpha/", ws).unwrap();
        assert_eq!(by_dir.import_path, "example.com/mesh/cmd/alpha");
        let by_path = find_listed(&listed, "example.com/mesh/internal/greet", ws).unwrap();
        assert_eq!(by_path.name, "greet");
        assert!(
            find_listed(&listed, "./cmd/nope", ws)
                .unwrap()
                .error
                .is_some()
        );
        assert!(find_listed(&listed, "./cmd/other", ws).is_none());
    }
}
