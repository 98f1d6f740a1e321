//! `gob list`: the binaries (output name, package, import path), the suites with the
//! packages they run, as gob resolves them with `go list`, and the tasks.

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
    if !manifest.tasks.is_empty() {
        println!("tasks ({}):", manifest.tasks.len());
    }
    for task in &manifest.tasks {
        println!("  {}", describe_task(task));
    }
    Ok(())
}

/// One line about a task: what kind, its deps, what decides whether it runs.
fn describe_task(task: &crate::manifest::TaskSpec) -> String {
    let mut parts = Vec::new();
    if task.service {
        parts.push(match task.ready.as_ref().map(|r| &r.check) {
            Some(crate::manifest::ReadyCheck::Tcp(a)) => format!("service, ready when {a} answers"),
            Some(crate::manifest::ReadyCheck::Run(argv)) => {
                format!("service, ready when `{}` succeeds", shell_words::join(argv))
            }
            None => "service".to_string(),
        });
    }
    if !task.deps.is_empty() {
        let deps: Vec<&str> = task.deps.iter().map(|d| d.value.as_str()).collect();
        parts.push(format!("after {}", deps.join(", ")));
    }
    if crate::plan::tasks::is_checked(task) {
        parts.push(format!(
            "skipped while {} and {} are unchanged",
            task.sources.patterns.join(" "),
            task.outputs.patterns.join(" ")
        ));
    }
    match parts.is_empty() {
        true => task.name.clone(),
        false => format!("{} ({})", task.name, parts.join("; ")),
    }
}
