//! `gob list`: the binaries (output name, package, import path) and the suites with the
//! packages they run, as gob resolves them with `go list`.

use crate::commands::context::{Context, Globals, load_manifest};
use crate::error::GobError;
use crate::workspace::out_dir;

/// Runs `gob list`.
pub fn run(globals: &Globals) -> Result<(), GobError> {
    let manifest = load_manifest(globals)?;
    let ctx = Context::load(globals, &manifest.workspace_dir)?;
    let binaries = ctx.resolve_binaries(&manifest)?;
    let out = crate::base::paths::relative_to(&out_dir(&manifest), &manifest.workspace_dir);
    println!("binaries ({}, into {}/):", binaries.len(), out.display());
    let width = binaries
        .iter()
        .map(|b| b.output_name.len())
        .max()
        .unwrap_or(0);
    for b in &binaries {
        println!(
            "  {:width$}  {}  ({})",
            b.output_name, b.package, b.import_path
        );
    }
    let specs: Vec<_> = manifest.suites.iter().collect();
    let suites = crate::workspace::suites::expand(&manifest, &specs, &ctx.go)?;
    println!("suites ({}):", suites.len());
    for s in &suites {
        let kind = if s.spec.integ { "integration" } else { "unit" };
        let tags = if s.spec.tags.is_empty() {
            String::new()
        } else {
            format!(", tags {}", s.spec.tags.join(","))
        };
        let with_tests = s.test_packages();
        println!(
            "  {} ({kind}{tags}): {} with tests, {} without, {} excluded",
            s.spec.name,
            with_tests.len(),
            s.without_tests().len(),
            s.excluded.len()
        );
        for p in &with_tests {
            println!("    {}", p.import_path);
        }
    }
    Ok(())
}
