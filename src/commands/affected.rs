//! `--since REF` and `gob affected`: the test packages a change can affect, per suite, from
//! the files git says changed and each suite's test dependency closure ([`crate::plan::affected`]).

use std::path::Path;

use serde::Serialize;

use crate::cli::AffectedArgs;
use crate::commands::context::{Context, Globals, load_manifest};
use crate::error::GobError;
use crate::plan::affected::{Reason, Selection, select};
use crate::workspace::suites::{ExpandedSuite, TestPackage};

/// The selection of every suite, with the changed files it came from.
pub struct Affected {
    /// Changed files (absolute).
    pub changed: Vec<std::path::PathBuf>,
    /// One selection per suite, in order.
    pub suites: Vec<Selection>,
}

/// Selects, in each suite's `packages`, those the changes since `since` can affect.
pub fn affected(
    ctx: &Context,
    workspace_dir: &Path,
    suites: &[ExpandedSuite],
    packages: &[Vec<TestPackage>],
    since: &str,
) -> Result<Affected, GobError> {
    // gob's own state is no change of the workspace (it is untracked where not ignored).
    let state = workspace_dir.join(crate::base::state::STATE_DIR);
    let mut changed = crate::workspace::git::changed_files(workspace_dir, since)?;
    changed.retain(|f| !f.starts_with(&state));
    let mut selections = Vec::new();
    for (suite, packages) in suites.iter().zip(packages) {
        let deps = match packages.is_empty() || changed.is_empty() {
            true => Vec::new(),
            false => {
                let paths: Vec<&str> = packages.iter().map(|p| p.import_path.as_str()).collect();
                ctx.go.test_deps(&paths, &suite.spec.tags)?
            }
        };
        selections.push(select(
            packages,
            &deps,
            &changed,
            workspace_dir,
            &suite.spec.inputs,
        ));
    }
    Ok(Affected {
        changed,
        suites: selections,
    })
}

/// Why a package is selected, in one line (paths relative to `dir`).
pub fn explain(reason: &Reason, dir: &Path) -> String {
    let rel = |p: &Path| {
        crate::base::paths::relative_to(p, dir)
            .display()
            .to_string()
    };
    match reason {
        Reason::ModuleFile(file) => format!("{} changed (every package)", rel(file)),
        Reason::Input(file) => format!("{} changed (the suite's inputs)", rel(file)),
        Reason::OwnDir(file) => format!("{} changed (its dir)", rel(file)),
        Reason::Import { file, chain } => {
            format!("{} changed ({})", rel(file), chain.join(" → "))
        }
    }
}

/// The selection as text, for `--explain` and `gob affected`.
pub fn report(affected: &Affected, suites: &[ExpandedSuite], dir: &Path, since: &str) -> String {
    let mut out = format!(
        "gob: --since {since}: {} changed\n",
        crate::report::plural(affected.changed.len(), "file")
    );
    for (suite, selection) in suites.iter().zip(&affected.suites) {
        let total = selection.selected.len() + selection.not_affected.len();
        out.push_str(&format!(
            "suite {}: {} of {} affected\n",
            suite.spec.name,
            selection.selected.len(),
            crate::report::plural(total, "package")
        ));
        for (package, reason) in &selection.selected {
            out.push_str(&format!("  {package}: {}\n", explain(reason, dir)));
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
}

/// Runs `gob affected`.
pub fn run(globals: &Globals, args: &AffectedArgs) -> Result<(), GobError> {
    let manifest = load_manifest(globals)?;
    let specs =
        crate::workspace::suites::select(&manifest, &args.selection.suites, args.selection.integ)?;
    let ctx = Context::load(globals, &manifest.workspace_dir)?;
    let expanded = crate::workspace::suites::expand(&manifest, &specs, &ctx.go)?;
    let packages: Vec<Vec<TestPackage>> = expanded.iter().map(|s| s.test_packages()).collect();
    let dir = &manifest.workspace_dir;
    let found = affected(&ctx, dir, &expanded, &packages, &args.since)?;
    if !args.json {
        print!("{}", report(&found, &expanded, dir, &args.since));
        return Ok(());
    }
    let suites: Vec<JsonSuite> = expanded
        .iter()
        .zip(&found.suites)
        .map(|(suite, selection)| JsonSuite {
            suite: &suite.spec.name,
            selected: selection
                .selected
                .iter()
                .map(|(package, reason)| JsonPackage {
                    package,
                    why: explain(reason, dir),
                })
                .collect(),
            not_affected: &selection.not_affected,
        })
        .collect();
    let changed: Vec<String> = found
        .changed
        .iter()
        .map(|f| {
            crate::base::paths::relative_to(f, dir)
                .display()
                .to_string()
        })
        .collect();
    let json = serde_json::json!({ "since": args.since, "changed": changed, "suites": suites });
    println!(
        "{}",
        serde_json::to_string_pretty(&json).unwrap_or_default()
    );
    Ok(())
}
