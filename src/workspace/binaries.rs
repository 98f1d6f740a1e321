//! The workspace stage: ties the manifest's `[[binary]]` entries to real packages from
//! `go list`, and works out each binary's settings and output name.
//!
//! Input: the manifest and the `go list` answer. Output: [`ResolvedBinary`]s, or every
//! located problem at once (missing package, not a main package, two binaries with one name).

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::go::names::{default_exec_name, exe_suffix};
use crate::manifest::{Manifest, Platform, Problem};
use crate::workspace::gotool::{ListedPackage, find_listed};
use crate::workspace::settings::BuildSettings;
use crate::workspace::stamps::Stamps;

/// A `[[binary]]` tied to its package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedBinary {
    /// The package as written in the manifest (`./cmd/alpha`).
    pub package: String,
    /// Its import path.
    pub import_path: String,
    /// The file go writes for it (default exec name plus `.exe` on windows).
    pub go_file_name: String,
    /// The file gob publishes in out_dir.
    pub output_name: String,
    /// Effective settings.
    pub settings: BuildSettings,
    /// The platform of a `platforms` matrix it is built for (published in
    /// `out_dir/<goos>_<goarch>/`); `None` without one.
    pub platform: Option<Platform>,
    /// Tasks run before it is built (its own `before`, after `[build] before`).
    pub before: Vec<String>,
}

impl ResolvedBinary {
    /// Its path below out_dir: `<goos>_<goarch>/<name>` in a platform matrix, else `<name>`.
    pub fn published_name(&self) -> PathBuf {
        match &self.platform {
            Some(p) => PathBuf::from(format!("{}_{}", p.goos, p.goarch)).join(&self.output_name),
            None => PathBuf::from(&self.output_name),
        }
    }

    /// The platform it is built for (`host` when neither a matrix nor its settings name one).
    pub fn target(&self, host: &Platform) -> Platform {
        Platform {
            goos: self.settings.target_os(&host.goos).to_string(),
            goarch: self
                .settings
                .goarch
                .clone()
                .or_else(|| self.settings.env.get("GOARCH").cloned())
                .unwrap_or_else(|| host.goarch.clone()),
        }
    }
}

/// What resolving binaries needs besides the manifest and go's listing.
pub struct Resolving<'a> {
    /// The platform go targets by default (`go env GOOS GOARCH`).
    pub host: &'a Platform,
    /// The values of `{version}`, `{commit}`, `{date}`.
    pub stamps: &'a Stamps,
    /// The environment `{env.NAME}` reads.
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

/// Resolves every binary of `manifest` against `listed`: one per platform of its
/// `platforms` matrix (or one), stamps expanded in its `ldflags` and `flags`.
pub fn resolve_binaries(
    manifest: &Manifest,
    listed: &[ListedPackage],
    how: &Resolving,
) -> Result<Vec<ResolvedBinary>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut resolved = Vec::new();
    let mut by_name: BTreeMap<PathBuf, usize> = BTreeMap::new();
    for (index, spec) in manifest.binaries.iter().enumerate() {
        let pattern = &spec.package.value;
        let span = spec.package.span.clone();
        let Some(package) = find_listed(listed, pattern, &manifest.workspace_dir) else {
            problems.push(Problem::new(
                span,
                format!("package `{pattern}` was not reported by go list"),
                "unknown package",
            ));
            continue;
        };
        if let Some(error) = &package.error {
            problems.push(Problem::new(
                span,
                format!(
                    "package `{pattern}` cannot be built: {}",
                    error.err.lines().next().unwrap_or_default()
                ),
                "no such package",
            ));
            continue;
        }
        if package.name != "main" {
            problems.push(
                Problem::new(
                    span,
                    format!(
                        "package `{pattern}` is `package {}`, not a main package",
                        package.name
                    ),
                    "not a main package",
                )
                .with_help("a [[binary]] must name a package declared `package main`"),
            );
            continue;
        }
        let mut merged = BuildSettings::merge(&manifest.build.settings, &spec.overrides);
        let expand = |text: &str| crate::workspace::stamps::expand(text, how.stamps, how.env);
        merged.ldflags = merged.ldflags.as_deref().map(expand);
        merged.flags = merged.flags.iter().map(|f| expand(f)).collect();
        let platforms = spec
            .platforms
            .clone()
            .unwrap_or_else(|| manifest.build.platforms.clone());
        let targets: Vec<Option<Platform>> = match platforms.is_empty() {
            true => vec![None],
            false => platforms.into_iter().map(Some).collect(),
        };
        for platform in targets {
            let settings = for_platform(&merged, platform.as_ref(), how.host);
            let suffix = exe_suffix(settings.target_os(&how.host.goos));
            let default = default_exec_name(&package.import_path);
            let output_name = match &spec.name {
                Some(name) if suffix.is_empty() || name.value.ends_with(suffix) => {
                    name.value.clone()
                }
                Some(name) => format!("{}{suffix}", name.value),
                None => format!("{default}{suffix}"),
            };
            let binary = ResolvedBinary {
                package: pattern.clone(),
                import_path: package.import_path.clone(),
                go_file_name: format!("{default}{suffix}"),
                output_name,
                settings,
                platform,
                before: manifest
                    .build
                    .before
                    .iter()
                    .chain(&spec.before)
                    .map(|b| b.value.clone())
                    .collect(),
            };
            if let Some(problem) = clash(manifest, &by_name, spec, &binary) {
                problems.push(problem);
                continue;
            }
            by_name.insert(binary.published_name(), index);
            resolved.push(binary);
        }
    }
    if problems.is_empty() {
        Ok(resolved)
    } else {
        Err(problems)
    }
}

/// `settings` for `platform`: its GOOS and GOARCH, and `CGO_ENABLED=0` for a cross build
/// (cgo needs a C toolchain for the target) unless the manifest sets it.
fn for_platform(
    settings: &BuildSettings,
    platform: Option<&Platform>,
    host: &Platform,
) -> BuildSettings {
    let mut settings = settings.clone();
    if let Some(platform) = platform {
        settings.goos = Some(platform.goos.clone());
        settings.goarch = Some(platform.goarch.clone());
        if platform != host {
            settings
                .env
                .entry("CGO_ENABLED".to_string())
                .or_insert_with(|| "0".to_string());
        }
    }
    settings
}

/// The problem of a binary published where an earlier one is.
fn clash(
    manifest: &Manifest,
    by_name: &BTreeMap<PathBuf, usize>,
    spec: &crate::manifest::BinarySpec,
    binary: &ResolvedBinary,
) -> Option<Problem> {
    let first = &manifest.binaries[*by_name.get(&binary.published_name())?];
    let span_of = |b: &crate::manifest::BinarySpec| {
        b.name
            .as_ref()
            .map_or(b.package.span.clone(), |n| n.span.clone())
    };
    let output_name = &binary.output_name;
    let problem = Problem::new(
        span_of(spec),
        format!(
            "two binaries would both be written to {}/{}",
            manifest.build.out_dir.value,
            binary.published_name().display()
        ),
        format!("second binary named `{output_name}`"),
    )
    .with_related(span_of(first), "first binary with this name")
    .with_help("give one of them a different `name`");
    Some(problem)
}

/// Names given on the command line that match no binary.
#[derive(Debug, thiserror::Error)]
#[error("no binary named `{name}` in the manifest{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
pub struct UnknownBinary {
    /// The name asked for.
    pub name: String,
    /// The closest known name.
    pub suggestion: Option<String>,
}

/// Keeps the binaries named in `selection` (all when empty), in manifest order.
pub fn select_binaries(
    binaries: Vec<ResolvedBinary>,
    selection: &[String],
) -> Result<Vec<ResolvedBinary>, UnknownBinary> {
    if selection.is_empty() {
        return Ok(binaries);
    }
    let known: Vec<&str> = binaries.iter().map(|b| b.output_name.as_str()).collect();
    if let Some(missing) = selection.iter().find(|s| !known.contains(&s.as_str())) {
        return Err(UnknownBinary {
            name: missing.clone(),
            suggestion: crate::manifest::closest(missing, &known).map(String::from),
        });
    }
    Ok(binaries
        .into_iter()
        .filter(|b| selection.contains(&b.output_name))
        .collect())
}

/// The absolute out_dir of the manifest.
pub fn out_dir(manifest: &Manifest) -> PathBuf {
    crate::base::paths::normalize(&manifest.workspace_dir.join(&manifest.build.out_dir.value))
}
