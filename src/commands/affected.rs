//! `--since REF` and `gob affected`: the test packages a change can affect, per suite, from
//! what go sees at the merge base and now ([`crate::workspace::since`] reads both sides,
//! [`crate::plan::affected`] decides).

use std::path::PathBuf;

use serde::Serialize;

use crate::cli::AffectedArgs;
use crate::commands::context::{Context, Globals, load_manifest};
use crate::error::GobError;
use crate::manifest::Manifest;
use crate::plan::affected::{Difference, How, Reason, Selection, Sides, select, unchanged};
use crate::workspace::suites::{ExpandedSuite, TestPackage};

/// The selection of every suite, with what it was compared with.
pub struct Affected {
    /// The commit compared with (the merge base of REF and HEAD).
    pub base: String,
    /// What git says differs from it (relative to the repository root).
    pub changed: Vec<PathBuf>,
    /// One selection per suite, in order.
    pub suites: Vec<Selection>,
}

/// Selects, in each suite's `packages`, those the changes since `since` can affect.
pub fn affected(
    ctx: &Context,
    manifest: &Manifest,
    suites: &[ExpandedSuite],
    packages: &[Vec<TestPackage>],
    since: &str,
    strict: bool,
) -> Result<Affected, GobError> {
    let compared = crate::workspace::since::compare(&ctx.go, manifest, suites, packages, since)?;
    let unlisted = compared
        .suites
        .iter()
        .flatten()
        .find_map(|s| s.base.as_ref().err());
    if let (true, Some(why)) = (strict, unlisted) {
        return Err(GobError::Usage(format!(
            "--since {since} --since-strict: go cannot list the packages at {}, the merge base: {why}",
            short(&compared.base)
        )));
    }
    let selections = match &compared.suites {
        None => packages.iter().map(|p| unchanged(p)).collect(),
        Some(sides) => sides
            .iter()
            .zip(packages)
            .map(|(side, packages)| {
                let sides = Sides {
                    now: &side.now,
                    base: side.base.as_ref().map_err(String::as_str),
                    settings: &side.settings,
                    inputs_now: &side.inputs_now,
                    inputs_base: &side.inputs_base,
                };
                select(packages, &sides)
            })
            .collect(),
    };
    Ok(Affected {
        base: compared.base,
        changed: compared.changed,
        suites: selections,
    })
}

/// The first 12 hex digits of a commit.
fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}

/// One difference in words (`leaf/leaf.go changed`, `module x v1 → v2`).
fn difference(d: &Difference) -> String {
    match (&d.versions, d.how) {
        (Some((old, new)), How::Changed) => format!("{} {old} → {new}", d.input),
        (Some((_, new)), How::Added) => format!("{} {new} added", d.input),
        (Some((old, _)), How::Deleted) => format!("{} {old} no longer used", d.input),
        (None, how) => format!(
            "{} {}",
            d.input,
            match how {
                How::Changed => "changed",
                How::Added => "added",
                How::Deleted => "deleted",
            }
        ),
    }
}

/// Why a package is selected, in one line.
pub fn explain(reason: &Reason) -> String {
    match reason {
        Reason::Settings(keys) => format!("the suite's settings differ ({})", keys.join(", ")),
        Reason::Input(d) => format!("{} (the suite's inputs)", difference(d)),
        Reason::BaseUnlisted(why) => format!("go cannot list the packages at the base: {why}"),
        Reason::Problem(why) => format!("go reports a problem now: {}", first_line(why)),
        Reason::NotAtBase(None) => "no tests at the base".to_string(),
        Reason::Asked(what) => what.clone(),
        Reason::NotAtBase(Some(why)) => format!("at the base, go reported: {}", first_line(why)),
        Reason::Differs { first, chain, .. } => {
            let name = first.input.rsplit('/').next().unwrap_or_default();
            let module_file = matches!(name, "go.mod" | "go.sum" | "go.work" | "go.work.sum");
            let via = match (module_file, chain.len()) {
                (true, _) => "a module file".to_string(),
                (false, 0 | 1) => "its package".to_string(),
                (false, _) => chain.join(" → "),
            };
            format!("{} ({via})", difference(first))
        }
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// The header line: what was compared with, and how much git says differs.
pub fn header(affected: &Affected, since: &str) -> String {
    format!(
        "gob: --since {since}: {} changed (compared with {}, the merge base)",
        crate::report::plural(affected.changed.len(), "file"),
        short(&affected.base)
    )
}

/// The selection as text, for `--explain` and `gob affected`.
pub fn report(affected: &Affected, suites: &[ExpandedSuite], since: &str) -> String {
    let mut out = format!("{}\n", header(affected, since));
    for (suite, selection) in suites.iter().zip(&affected.suites) {
        let total = selection.selected.len() + selection.not_affected.len();
        out.push_str(&format!(
            "suite {}: {} of {} affected\n",
            suite.spec.name,
            selection.selected.len(),
            crate::report::plural(total, "package")
        ));
        for (package, reason) in &selection.selected {
            out.push_str(&format!("  {package}: {}\n", explain(reason)));
        }
        if !selection.not_affected.is_empty() {
            out.push_str(&format!(
                "  not affected: {}\n",
                selection.not_affected.join(", ")
            ));
        }
    }
    out
}

#[derive(Serialize)]
struct JsonSuite<'a> {
    suite: &'a str,
    selected: Vec<JsonPackage<'a>>,
    not_affected: &'a [String],
}

#[derive(Serialize)]
struct JsonPackage<'a> {
    package: &'a str,
    why: String,
    /// Every input that differs in its test closure (when that is the reason).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    differences: &'a [Difference],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    chain: &'a [String],
}

/// The selection as JSON: every difference of every selected package.
pub fn json(affected: &Affected, suites: &[ExpandedSuite], since: &str) -> serde_json::Value {
    let suites: Vec<JsonSuite> = suites
        .iter()
        .zip(&affected.suites)
        .map(|(suite, selection)| JsonSuite {
            suite: &suite.spec.name,
            selected: selection
                .selected
                .iter()
                .map(|(package, reason)| {
                    let (differences, chain) = match reason {
                        Reason::Differs { all, chain, .. } => (all.as_slice(), chain.as_slice()),
                        _ => (&[][..], &[][..]),
                    };
                    JsonPackage {
                        package,
                        why: explain(reason),
                        differences,
                        chain,
                    }
                })
                .collect(),
            not_affected: &selection.not_affected,
        })
        .collect();
    let changed: Vec<String> = affected
        .changed
        .iter()
        .map(|f| crate::base::paths::escaped(f))
        .collect();
    serde_json::json!({
        "since": since,
        "base": affected.base,
        "changed": changed,
        "suites": suites,
    })
}

/// Runs `gob affected`.
pub fn run(globals: &Globals, args: &AffectedArgs) -> Result<(), GobError> {
    let manifest = load_manifest(globals)?;
    let specs =
        crate::workspace::suites::select(&manifest, &args.selection.suites, args.selection.integ)?;
    let ctx = Context::load(globals, &manifest.workspace_dir)?;
    let expanded = crate::workspace::suites::expand(&manifest, &specs, &ctx.go)?;
    let packages: Vec<Vec<TestPackage>> = expanded.iter().map(|s| s.test_packages()).collect();
    let found = affected(
        &ctx,
        &manifest,
        &expanded,
        &packages,
        &args.since,
        args.since_strict,
    )?;
    match args.json {
        false => print!("{}", report(&found, &expanded, &args.since)),
        true => println!(
            "{}",
            serde_json::to_string_pretty(&json(&found, &expanded, &args.since)).unwrap_or_default()
        ),
    }
    Ok(())
}
