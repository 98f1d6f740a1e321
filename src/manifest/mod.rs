//! `gobuild.toml`: finding it, reading it, and validating it into a [`Manifest`].
//!
//! Input: the manifest's path and text. Output: a fully typed model whose fields still know
//! where they were written (for the workspace stage's errors), or every problem at once.
//! This stage does not run `go`; whether packages exist is checked by the workspace stage.

mod cache;
mod exec;
mod locate;
mod problem;
mod reader;
mod suite;
mod task;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use toml::de::DeTable;

pub use cache::{CacheSpec, check_remote_url};
pub use exec::{ExecSpec, check_exec_url};
pub use locate::{LocateError, ManifestExists, locate};
pub use problem::{Problem, ProblemReport, Span};
pub use reader::{Located, TableReader, closest};
pub use suite::SuiteSpec;
pub use task::{DEFAULT_READY_TIMEOUT, Globs, Ready, ReadyCheck, TaskRun, TaskSpec};

/// The manifest's file name, found by walking up from the current directory.
pub const FILE_NAME: &str = "gobuild.toml";

/// A validated `gobuild.toml`.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// Absolute path of the manifest file.
    pub path: PathBuf,
    /// Its text, for rendering problems found by later stages.
    pub text: Arc<String>,
    /// Absolute directory where go commands run (`[workspace] dir`).
    pub workspace_dir: PathBuf,
    /// `[build]` defaults.
    pub build: BuildDefaults,
    /// `[[binary]]` entries, in manifest order.
    pub binaries: Vec<BinarySpec>,
    /// `[test.NAME]` suites, in manifest order.
    pub suites: Vec<SuiteSpec>,
    /// `[cache]`: the remote build cache, if any.
    pub cache: CacheSpec,
    /// `[exec]`: the remote-execution cluster, if any.
    pub exec: ExecSpec,
    /// `[task.NAME]` tasks, in manifest order.
    pub tasks: Vec<TaskSpec>,
}

/// Settings that `[build]` gives every binary and a `[[binary]]` may override.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsSpec {
    /// Extra `go build` flags (replace the default when set on a binary).
    pub flags: Option<Vec<String>>,
    /// Build tags (replace the default when set on a binary).
    pub tags: Option<Vec<String>>,
    /// `-ldflags` value (replaces the default when set on a binary).
    pub ldflags: Option<String>,
    /// Environment for go (merged key by key over the default).
    pub env: BTreeMap<String, String>,
    /// Target OS (`GOOS`).
    pub goos: Option<String>,
    /// Target architecture (`GOARCH`).
    pub goarch: Option<String>,
}

/// The `[build]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildDefaults {
    /// Defaults for every binary.
    pub settings: SettingsSpec,
    /// Output directory, relative to the workspace dir.
    pub out_dir: Located<String>,
    /// Tasks run before every build.
    pub before: Vec<Located<String>>,
    /// Platforms (`goos/goarch`) every binary is built for; none: the one go targets.
    pub platforms: Vec<Platform>,
}

/// A target platform, `goos/goarch`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Platform {
    /// GOOS.
    pub goos: String,
    /// GOARCH.
    pub goarch: String,
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.goos, self.goarch)
    }
}

impl std::str::FromStr for Platform {
    type Err = String;

    fn from_str(text: &str) -> Result<Platform, String> {
        let plain = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
        match text.split_once('/') {
            Some((goos, goarch)) if plain(goos) && plain(goarch) => Ok(Platform {
                goos: goos.to_string(),
                goarch: goarch.to_string(),
            }),
            _ => Err(format!(
                "`{text}` is not a platform: write goos/goarch, e.g. linux/arm64 (`go tool dist list` lists them)"
            )),
        }
    }
}

/// One `[[binary]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinarySpec {
    /// The main package, as written (`./cmd/alpha` or an import path).
    pub package: Located<String>,
    /// Output name; default is the name `go build` gives the package.
    pub name: Option<Located<String>>,
    /// Overrides of `[build]`.
    pub overrides: SettingsSpec,
    /// Tasks run before it is built (besides `[build] before`).
    pub before: Vec<Located<String>>,
    /// Platforms it is built for (replaces `[build] platforms`).
    pub platforms: Option<Vec<Platform>>,
    /// Span of the `[[binary]]` entry.
    pub span: Span,
}

/// Why a manifest could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be read.
    #[error("cannot read manifest {path}: {source}")]
    Read {
        /// The manifest path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file was read but has problems.
    #[error("{path} has {} problem(s)", problems.len())]
    Invalid {
        /// The manifest path.
        path: PathBuf,
        /// Its text.
        text: Arc<String>,
        /// Every problem found.
        problems: Vec<Problem>,
    },
}

impl Manifest {
    /// Reads and validates the manifest at `path`.
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let bytes = std::fs::read(path).map_err(|source| ManifestError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        match String::from_utf8(bytes) {
            Ok(text) => Manifest::parse(&path, Arc::new(text)),
            // A manifest problem like any other (exit 2), shown where the text stops being
            // UTF-8; TOML is UTF-8 by definition.
            Err(error) => {
                let at = error.utf8_error().valid_up_to();
                let text = String::from_utf8_lossy(error.as_bytes()).into_owned();
                let at = text[..].char_indices().map(|(i, _)| i).find(|&i| i >= at);
                let at = at.unwrap_or(text.len());
                let end = text[at..].chars().next().map_or(at, |c| at + c.len_utf8());
                let problem = Problem::new(
                    at..end,
                    "the manifest is not UTF-8 text (TOML must be)".to_string(),
                    "not UTF-8",
                )
                .with_help("save the file as UTF-8");
                Err(ManifestError::Invalid {
                    path,
                    text: Arc::new(text),
                    problems: vec![problem],
                })
            }
        }
    }

    /// Validates manifest `text` that was read from `path`.
    pub fn parse(path: &Path, text: Arc<String>) -> Result<Manifest, ManifestError> {
        let invalid = |problems: Vec<Problem>| ManifestError::Invalid {
            path: path.to_path_buf(),
            text: text.clone(),
            problems,
        };
        let (root, syntax) = DeTable::parse_recoverable(&text);
        if !syntax.is_empty() {
            let problems = syntax
                .iter()
                .map(|e| {
                    Problem::new(
                        e.span().unwrap_or(0..0),
                        format!("TOML syntax error: {}", e.message().trim_end()),
                        "here",
                    )
                })
                .collect();
            return Err(invalid(problems));
        }
        let base = path.parent().unwrap_or(Path::new("."));
        let mut problems = Vec::new();
        let root_span = 0..0;
        let mut top = TableReader::new(root.get_ref(), "gobuild.toml", root_span.clone());
        let workspace_dir = read_workspace(&mut top, base, &mut problems);
        let build = read_build(&mut top, &mut problems);
        let binaries = top
            .table_array("binary", &mut problems)
            .into_iter()
            .enumerate()
            .filter_map(|(i, (table, span))| read_binary(table, span, i + 1, &mut problems))
            .collect();
        let suites: Vec<SuiteSpec> = suite::read_suites(&mut top, &mut problems);
        let cache = cache::read_cache(&mut top, base, &mut problems);
        let exec = exec::read_exec(&mut top, base, &mut problems);
        let tasks = task::read_tasks(&mut top, &mut problems);
        top.finish(&mut problems);
        let mut refs = task::TaskRefs {
            before: build.before.iter().map(|b| ("[build] before", b)).collect(),
            services: Vec::new(),
        };
        let binaries: Vec<BinarySpec> = binaries;
        let binary_places: Vec<String> = (1..=binaries.len())
            .map(|i| format!("[[binary]] #{i} before"))
            .collect();
        for (binary, place) in binaries.iter().zip(&binary_places) {
            refs.before
                .extend(binary.before.iter().map(|b| (place.as_str(), b)));
        }
        let suite_places: Vec<(String, String)> = suites
            .iter()
            .map(|s| {
                (
                    format!("[test.{}] before", s.name),
                    format!("[test.{}] services", s.name),
                )
            })
            .collect();
        for (suite, (before, services)) in suites.iter().zip(&suite_places) {
            refs.before
                .extend(suite.before.iter().map(|b| (before.as_str(), b)));
            refs.services
                .extend(suite.services.iter().map(|b| (services.as_str(), b)));
        }
        task::check_refs(&tasks, &refs, &mut problems);
        if !problems.is_empty() {
            return Err(invalid(problems));
        }
        Ok(Manifest {
            path: path.to_path_buf(),
            text: text.clone(),
            workspace_dir: workspace_dir.unwrap_or_else(|| base.to_path_buf()),
            build,
            binaries,
            suites,
            cache,
            exec,
            tasks,
        })
    }

    /// Renders `problems` (found by any stage) against this manifest's text.
    pub fn invalid(&self, problems: Vec<Problem>) -> ManifestError {
        ManifestError::Invalid {
            path: self.path.clone(),
            text: self.text.clone(),
            problems,
        }
    }
}

fn read_workspace(
    top: &mut TableReader,
    base: &Path,
    problems: &mut Vec<Problem>,
) -> Option<PathBuf> {
    let (table, span) = top.table("workspace", problems)?;
    let mut reader = TableReader::new(table, "[workspace]", span);
    let dir = reader.string("dir", problems);
    reader.finish(problems);
    let dir = dir?;
    let resolved = base.join(&dir.value);
    if !resolved.is_dir() {
        problems.push(Problem::new(
            dir.span,
            format!(
                "[workspace] dir `{}` is not a directory ({})",
                dir.value,
                resolved.display()
            ),
            "no such directory",
        ));
        return None;
    }
    Some(crate::base::paths::normalize(&resolved))
}

fn read_settings(reader: &mut TableReader, problems: &mut Vec<Problem>) -> SettingsSpec {
    let strings = |list: Option<Vec<Located<String>>>| {
        list.map(|items| items.into_iter().map(|l| l.value).collect())
    };
    SettingsSpec {
        flags: strings(reader.string_list("flags", problems)),
        tags: strings(reader.string_list("tags", problems)),
        ldflags: reader.string("ldflags", problems).map(|l| l.value),
        env: reader.string_map("env", problems).unwrap_or_default(),
        goos: reader.string("goos", problems).map(|l| l.value),
        goarch: reader.string("goarch", problems).map(|l| l.value),
    }
}

fn read_build(top: &mut TableReader, problems: &mut Vec<Problem>) -> BuildDefaults {
    let default_out = || Located {
        value: "bin".to_string(),
        span: 0..0,
    };
    let Some((table, span)) = top.table("build", problems) else {
        return BuildDefaults {
            settings: SettingsSpec::default(),
            out_dir: default_out(),
            before: Vec::new(),
            platforms: Vec::new(),
        };
    };
    let mut reader = TableReader::new(table, "[build]", span);
    let settings = read_settings(&mut reader, problems);
    let before = reader.string_list("before", problems).unwrap_or_default();
    let platforms = read_platforms(&mut reader, "[build]", problems).unwrap_or_default();
    let out_dir = reader
        .string("out_dir", problems)
        .unwrap_or_else(default_out);
    if out_dir.value.trim().is_empty() {
        problems.push(Problem::new(
            out_dir.span.clone(),
            "[build] out_dir must not be empty",
            "empty",
        ));
    } else if escapes(&out_dir.value) {
        problems.push(
            Problem::new(
                out_dir.span.clone(),
                format!(
                    "[build] out_dir `{}` is outside the workspace",
                    out_dir.value
                ),
                "outside the workspace",
            )
            .with_help(format!(
                "the manifest may only name a dir inside the workspace; to publish elsewhere, say so on the command line: gob build --out-dir {}",
                out_dir.value
            )),
        );
    }
    reader.finish(problems);
    BuildDefaults {
        settings,
        out_dir,
        before,
        platforms,
    }
}

/// `platforms = ["linux/amd64", …]`, each `goos/goarch`, none twice.
fn read_platforms(
    reader: &mut TableReader,
    table: &str,
    problems: &mut Vec<Problem>,
) -> Option<Vec<Platform>> {
    let list = reader.string_list("platforms", problems)?;
    let mut platforms: Vec<Platform> = Vec::new();
    for item in list {
        match item.value.parse::<Platform>() {
            Ok(p) if platforms.contains(&p) => problems.push(Problem::new(
                item.span,
                format!("{table} platforms lists {p} twice"),
                "listed before",
            )),
            Ok(p) => platforms.push(p),
            Err(why) => problems.push(Problem::new(
                item.span,
                format!("{table} platforms: {why}"),
                "not goos/goarch",
            )),
        }
    }
    Some(platforms)
}

fn read_binary(
    table: &DeTable,
    span: Span,
    ordinal: usize,
    problems: &mut Vec<Problem>,
) -> Option<BinarySpec> {
    let mut reader = TableReader::new(table, format!("[[binary]] #{ordinal}"), span.clone());
    let package = reader.required_string("package", problems);
    let name = reader.string("name", problems);
    let overrides = read_settings(&mut reader, problems);
    let before = reader.string_list("before", problems).unwrap_or_default();
    let table_name = format!("[[binary]] #{ordinal}");
    let platforms = read_platforms(&mut reader, &table_name, problems);
    reader.finish(problems);
    let package = package?;
    if package.value.contains("...") {
        problems.push(
            Problem::new(
                package.span.clone(),
                format!(
                    "[[binary]] #{ordinal} package `{}` is a pattern; a binary names one main package",
                    package.value
                ),
                "one package, not a pattern",
            )
            .with_help("write one [[binary]] per main package"),
        );
    }
    if let Some(name) = name.as_ref().filter(|n| !is_plain_name(&n.value)) {
        problems.push(Problem::new(
            name.span.clone(),
            format!(
                "[[binary]] #{ordinal} name `{}` must be a plain file name (at most 251 bytes)",
                name.value
            ),
            "not a file name",
        ));
    }
    Some(BinarySpec {
        package,
        name,
        overrides,
        before,
        platforms,
        span,
    })
}

/// The longest name a file can have on Linux filesystems (NAME_MAX), less room for `.exe`.
const MAX_NAME_BYTES: usize = 255 - ".exe".len();

/// True for a name that is one path component: not empty, not `.` or `..`, no separator,
/// short enough to be a file name.
pub(crate) fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name.len() <= MAX_NAME_BYTES
        && !name.contains(['/', '\\', '\0'])
}

/// True when `dir`, taken relative to the workspace, lies outside it.
fn escapes(dir: &str) -> bool {
    let path = std::path::Path::new(dir);
    if path.is_absolute() || dir.starts_with('\\') || dir.get(1..2) == Some(":") {
        return true;
    }
    let mut depth = 0_i32;
    for component in path.components() {
        match component {
            std::path::Component::ParentDir => depth -= 1,
            std::path::Component::Normal(_) => depth += 1,
            _ => {}
        }
        if depth < 0 {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests;
