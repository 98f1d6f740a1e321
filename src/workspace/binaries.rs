//! The workspace stage: ties the manifest's `[[binary]]` entries to real packages from
//! `go list`, and works out each binary's settings and output name.
//!
//! Input: the manifest and the `go list` answer. Output: [`ResolvedBinary`]s, or every
//! located problem at once (missing package, not a main package, two binaries with one name).

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::go::names::{default_exec_name, exe_suffix};
use crate::manifest::{Manifest, Problem};
use crate::workspace::gotool::{ListedPackage, find_listed};
use crate::workspace::settings::BuildSettings;

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
}

/// Resolves every binary of `manifest` against `listed`; `host_os` is go's GOOS.
pub fn resolve_binaries(
    manifest: &Manifest,
    listed: &[ListedPackage],
    host_os: &str,
) -> Result<Vec<ResolvedBinary>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut resolved = Vec::new();
    let mut by_name: BTreeMap<String, usize> = BTreeMap::new();
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
        let settings = BuildSettings::merge(&manifest.build.settings, &spec.overrides);
        let suffix = exe_suffix(settings.target_os(host_os));
        let default = default_exec_name(&package.import_path);
        let output_name = match &spec.name {
            Some(name) if suffix.is_empty() || name.value.ends_with(suffix) => name.value.clone(),
            Some(name) => format!("{}{suffix}", name.value),
            None => format!("{default}{suffix}"),
        };
        if let Some(&first) = by_name.get(&output_name) {
            let first_spec = &manifest.binaries[first];
            let here = spec
                .name
                .as_ref()
                .map_or(spec.package.span.clone(), |n| n.span.clone());
            let there = first_spec
                .name
                .as_ref()
                .map_or(first_spec.package.span.clone(), |n| n.span.clone());
            problems.push(
                Problem::new(
                    here,
                    format!(
                        "two binaries would both be written to {}/{output_name}",
                        manifest.build.out_dir.value
                    ),
                    format!("second binary named `{output_name}`"),
                )
                .with_related(there, "first binary with this name")
                .with_help("give one of them a different `name`"),
            );
            continue;
        }
        by_name.insert(output_name.clone(), index);
        resolved.push(ResolvedBinary {
            package: pattern.clone(),
            import_path: package.import_path.clone(),
            go_file_name: format!("{default}{suffix}"),
            output_name,
            settings,
        });
    }
    if problems.is_empty() {
        Ok(resolved)
    } else {
        Err(problems)
    }
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
